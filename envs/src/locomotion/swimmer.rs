//! # Swimmer (`swimmer-v0`, `swimmer-paper-v0`)
//!
//! ## Description
//! Three links joined by two motorised hinges swim in a viscous fluid, in the
//! horizontal plane (no gravity, no ground), and must move forward (+x) as
//! fast as they can (Coulom 2002; the TRPO paper's Swimmer). Dimensions,
//! masses, ranges, gear and armature are those of MuJoCo's `swimmer.xml`
//! (Gymnasium Swimmer-v5): links 1 m long, radius 0.1 m, 35.6 kg each, front
//! to back; hinges of ±100°.
//!
//! Swimming needs drag that depends on direction: a link is pushed back
//! far harder moving sideways than lengthwise, so undulating pushes it
//! forward. Each physics step, every link with unit axis t̂, in-plane
//! normal n̂, centre velocity v and angular velocity ω gets the force and
//! torque
//!
//! F = −½ρ (A_t |v·t̂| (v·t̂) t̂ + A_n |v·n̂| (v·n̂) n̂),  τ = −ρ r ℓ⁴ |ω| ω / 32,
//!
//! quadratic (high-Reynolds) drag like MuJoCo's inertia-box fluid model,
//! with the fluid density ρ = 4000 kg/m³ of `swimmer.xml`, the capsule's
//! end-on area A_t = π r² and broadside area A_n = 2 r ℓ + π r² (ℓ its
//! length, r its radius), and the torque of broadside drag integrated along a
//! link spinning about its centre (∫ s · ½ρ 2r |ωs| ωs ds over [−ℓ/2, ℓ/2]).
//! Broadside drag is 7.4 times end-on drag. The drag is explicit (computed
//! from the velocities at the start of each 0.01 s physics step) and there
//! are four physics steps per env step: 25 Hz control, as Gymnasium's.
//!
//! ## Action Space
//! `box[2]` in [−1, 1] (clipped): hinge torques of 150 N·m per unit.
//!
//! ## Observation Space
//! `box[8]` (`swimmer-v0`): the front link's angle (rad, counter-clockwise
//! from +x), the two hinge angles, then the front link's velocity ẋ, ẏ
//! (m/s), its angular velocity and the two hinge rates. `swimmer-paper-v0`
//! puts the front link's x and y first: `box[10]`, the paper's size.
//!
//! ## Rewards
//! Δx/Δt of the front link's centre − 10⁻⁴‖a‖² (Gymnasium's coefficient;
//! see [`LocomotionConfig`](crate::locomotion::LocomotionConfig)).
//!
//! ## Starting State
//! Straight along +x, plus uniform noise in [−0.1, 0.1] on every
//! generalized position and velocity.
//!
//! ## Episode End
//! Never terminates; truncated after 1000 steps (40 s).
//!
//! ## Arguments
//! None through the registry; `Swimmer::new(config)` takes a
//! [`LocomotionConfig`](crate::locomotion::LocomotionConfig).
//!
//! ## Version History
//! - v0: first version.

use super::LocomotionConfig;
use super::planar::{Hinge, Limb, PlanarModel, PlanarRobot};
use crate::render::palette::{BODY, GRID, WATER};
use crate::render::{Canvas, View};
use crate::{Env, Odometer, Rng, Step};
use rapier2d::prelude::Vector;
use std::sync::Arc;
use trustbench_plugin::Space;

/// Density of the fluid, kg/m³ (`swimmer.xml`'s medium).
const FLUID_DENSITY: f32 = 4000.0;
/// Physics steps per env step.
const FRAME_SKIP: usize = 4;

const fn link(from: f32) -> Limb {
    Limb {
        from: [from, 0.0],
        to: [from - 1.0, 0.0],
        radius: 0.1,
        friction: 0.0,
        color: BODY,
    }
}

const fn hinge(parent: usize, at: f32) -> Hinge {
    Hinge {
        parent,
        child: parent + 1,
        at: [at, 0.0],
        range_deg: [-100.0, 100.0],
        gear: 150.0,
        armature: 0.1,
        damping: 0.0,
    }
}

static SWIMMER: PlanarModel = PlanarModel {
    limbs: &[link(1.5), link(0.5), link(-0.5)],
    hinges: &[hinge(0, 0.5), hinge(1, -0.5)],
    density: 1000.0,
    gravity: 0.0,
    ground_friction: None,
    dt: 0.01,
    substeps: 1,
};

/// The swimmer (see the module docs).
#[derive(Clone)]
pub struct Swimmer {
    config: LocomotionConfig,
    /// The rest pose, built once and shared by every copy and snapshot.
    rest: Arc<PlanarRobot>,
    robot: PlanarRobot,
    rng: Rng,
    /// `[x, y, θ, q₁, q₂]` of the front link and hinges after the last
    /// reset or step, and their velocities.
    qpos: [f64; 5],
    qvel: [f64; 5],
    observation_space: Space,
    action_space: Space,
}

impl Swimmer {
    /// Seconds of simulated time per env step (`FRAME_SKIP` physics steps).
    fn step_seconds(&self) -> f64 {
        FRAME_SKIP as f64 * self.robot.dt()
    }

    /// A swimmer at rest (call `reset` before stepping).
    pub fn new(config: LocomotionConfig) -> Swimmer {
        let robot = PlanarRobot::build(&SWIMMER);
        let obs_dim = if config.paper_observation { 10 } else { 8 };
        let mut env = Swimmer {
            config,
            rest: Arc::new(robot.clone()),
            robot,
            rng: Rng::new(0),
            qpos: [0.0; 5],
            qvel: [0.0; 5],
            observation_space: Space::uniform_box(obs_dim, f64::NEG_INFINITY, f64::INFINITY),
            action_space: Space::uniform_box(2, -1.0, 1.0),
        };
        env.robot.state(&mut env.qpos, &mut env.qvel);
        env
    }

    fn observe(&self, obs: &mut [f64]) {
        let skip = if self.config.paper_observation { 0 } else { 2 };
        obs[..5 - skip].copy_from_slice(&self.qpos[skip..]);
        obs[5 - skip..].copy_from_slice(&self.qvel);
    }

    /// Add the drag of the module docs to every link.
    fn apply_drag(&mut self) {
        for (i, limb) in SWIMMER.limbs.iter().enumerate() {
            let rb = self.robot.limb_mut(i);
            let (r, l) = (limb.radius, limb.length());
            let axis = rb.rotation().transform_vector(Vector::X);
            let normal = Vector::new(-axis.y, axis.x);
            let v = rb.linvel();
            let (vt, vn) = (v.dot(axis), v.dot(normal));
            let (area_t, area_n) = (
                std::f32::consts::PI * r * r,
                2.0 * r * l + std::f32::consts::PI * r * r,
            );
            let force = -0.5
                * FLUID_DENSITY
                * (area_t * vt.abs() * vt * axis + area_n * vn.abs() * vn * normal);
            let w = rb.angvel();
            let torque = -FLUID_DENSITY * r * l.powi(4) * w.abs() * w / 32.0;
            rb.add_force(force, false);
            rb.add_torque(torque, false);
        }
    }
}

impl Env for Swimmer {
    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f64]) {
        if let Some(seed) = seed {
            self.rng = Rng::new(seed);
        }
        self.robot = (*self.rest).clone();
        self.robot.perturb(&mut self.rng, self.config.reset_noise);
        self.robot.state(&mut self.qpos, &mut self.qvel);
        self.observe(obs);
    }

    fn step(&mut self, action: &[f64], obs: &mut [f64]) -> Step {
        let x_before = self.qpos[0];
        for _ in 0..FRAME_SKIP {
            self.robot.actuate(action);
            self.apply_drag();
            self.robot.step();
        }
        self.robot.state(&mut self.qpos, &mut self.qvel);
        self.observe(obs);
        let dt = self.step_seconds();
        let c = &self.config;
        Step {
            reward: c.forward_weight * (self.qpos[0] - x_before) / dt - c.control_cost(action),
            terminated: false,
            truncated: false,
        }
    }

    fn boxed_clone(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }

    fn odometer(&self) -> Option<Odometer> {
        Some(Odometer {
            position: self.qpos[0],
            step_seconds: self.step_seconds(),
        })
    }

    fn render(&self, width: usize, height: usize) -> Option<Vec<u8>> {
        // From above, following the middle link, 6 m across.
        let mut canvas = Canvas::new(width, height, WATER);
        let mid = self.robot.limb(1).translation();
        let view = View {
            center: [mid.x as f64, mid.y as f64],
            scale: width as f64 / 6.0,
        };
        view.grid(&mut canvas, 1.0, true, GRID);
        self.robot.draw(&mut canvas, &view);
        Some(canvas.into_rgb())
    }
}
