//! # Ant (`ant-v0`)
//!
//! ## Description
//! A four-legged robot in 3-D — a spherical torso and four legs of two
//! segments, eight motorised hinges — must walk forward (+x) as fast as it
//! can without flipping or jumping off (Schulman et al. 2016; beyond the
//! TRPO paper). Dimensions, masses, ranges, gear, armature and damping are
//! those of MuJoCo's `ant.xml` (Gymnasium Ant-v5): a torso sphere of radius
//! 0.25 m, with, along each diagonal, a fixed 0.28 m strut, a hip segment of
//! 0.28 m (hinge about the vertical, ±30°) and a shin of 0.57 m (hinge about
//! the horizontal perpendicular to the leg, 30°–70° downwards); capsules of
//! radius 0.08 m; density 5 kg/m³ (0.91 kg in all). Hinges have MuJoCo's
//! armature of 1 kg·m² and damping of 1 N·m·s/rad, which dominate the
//! limbs' own inertia. Simulated on rapier3d at 20 Hz (0.05 s per env step,
//! as Gymnasium's Ant), one physics step of 2 solver substeps per env step.
//!
//! ## Action Space
//! `box[8]` in [−1, 1] (clipped): hinge torques of 150 N·m per unit, in the
//! observation's hinge order (not Gymnasium's actuator order).
//!
//! ## Observation Space
//! `box[27]`: torso height z (m, its centre), torso orientation as a unit
//! quaternion (w, x, y, z), the eight hinge angles (hip then ankle of legs
//! 1–4: front-left (+x+y), front-right (−x+y), back (−x−y), right-back
//! (+x−y)), then the torso's velocity (m/s), angular velocity (rad/s, world
//! frame) and the eight hinge rates. With `paper_observation` the torso's x
//! and y come first (29).
//!
//! ## Rewards
//! Δx/Δt of the torso + 1 if the step ends healthy − 0.5‖a‖² (Gymnasium's
//! coefficients, without its contact cost; see
//! [`LocomotionConfig`](crate::locomotion::LocomotionConfig)).
//!
//! ## Starting State
//! Torso 0.75 m up, hips straight, ankles at 30° down (the nearest end of
//! their range: MuJoCo's rest pose has them at 0, outside it), plus uniform
//! noise in [−0.1, 0.1] on every generalized position (the torso's rotation
//! as a rotation vector) and velocity.
//!
//! ## Episode End
//! Terminated when unhealthy: torso height outside [0.2, 1.0] m (Gymnasium's
//! range) or a non-finite state. Truncated after 1000 steps.
//!
//! ## Arguments
//! None through the registry; `Ant::new(config)` takes a
//! [`LocomotionConfig`](crate::locomotion::LocomotionConfig).
//!
//! ## Version History
//! - v0: first version.

use super::LocomotionConfig;
use super::physics::dim3::{Physics, ROBOT};
use crate::render::palette::{BODY, GRID, GROUND, JOINT};
use crate::render::{Canvas, Rgb, View};
use crate::{Env, Odometer, Rng, Step};
use rapier3d::prelude::*;
use std::sync::Arc;
use trustbench_plugin::Space;

const DENSITY: f32 = 5.0;
const RADIUS: f32 = 0.08;
const TORSO_RADIUS: f32 = 0.25;
const TORSO_HEIGHT: f32 = 0.75;
const GEAR: f32 = 150.0;
/// Directions of the four legs in the horizontal plane (MuJoCo's order).
const LEGS: [[f32; 2]; 4] = [[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]];
const HIP_RANGE: [f32; 2] = [-30.0, 30.0];
/// Ankle range, degrees, about the axis ẑ × leg direction: positive bends
/// the shin down.
const ANKLE_RANGE: [f32; 2] = [30.0, 70.0];
const HEALTHY_HEIGHT: (f64, f64) = (0.2, 1.0);
/// Root DoFs (3 translations, 3 rotations) then 8 hinges.
const DOFS: usize = 14;

/// Mass of a capsule of length `l` and radius [`RADIUS`].
fn capsule_mass(l: f32) -> f32 {
    DENSITY * std::f32::consts::PI * RADIUS * RADIUS * (l + 4.0 / 3.0 * RADIUS)
}

/// The built robot: its world, the torso and, per leg, the hip and shin.
#[derive(Clone)]
struct AntBody {
    physics: Physics,
    torso: RigidBodyHandle,
    /// Parent, child and axis (in the parent's frame) of each hinge.
    hinges: [(RigidBodyHandle, RigidBodyHandle, Vector); 8],
}

impl AntBody {
    fn build() -> AntBody {
        let mut physics = Physics::new(Vector::new(0.0, 0.0, -9.81), 0.05, 2);
        physics.add_ground(Vector::Z, 1.0);
        let Physics {
            bodies, colliders, ..
        } = &mut physics;
        let center = Vector::new(0.0, 0.0, TORSO_HEIGHT);
        let torso = bodies.insert(
            RigidBodyBuilder::dynamic()
                .translation(center)
                .can_sleep(false),
        );
        let ball = ColliderBuilder::ball(TORSO_RADIUS)
            .density(DENSITY)
            .collision_groups(ROBOT);
        colliders.insert_with_parent(ball, torso, bodies);
        let mut hinges = Vec::new();
        for [dx, dy] in LEGS {
            let d = Vector::new(dx, dy, 0.0) * 0.2;
            // The strut is welded to the torso (MuJoCo's jointless `aux` body).
            colliders.insert_with_parent(Self::capsule(Vector::ZERO, d), torso, bodies);
            let hip = Self::segment(bodies, colliders, center + d, d);
            let shin = Self::segment(bodies, colliders, center + 2.0 * d, 2.0 * d);
            let side = Vector::new(-dy, dx, 0.0).normalize();
            hinges.push((torso, hip, d, Vector::Z, HIP_RANGE));
            hinges.push((hip, shin, 2.0 * d, side, ANKLE_RANGE));
        }
        for &(parent, child, at, axis, range) in &hinges {
            let joint = RevoluteJointBuilder::new(axis)
                .local_anchor1(center + at - physics.bodies[parent].translation())
                .local_anchor2(center + at - physics.bodies[child].translation())
                .limits([range[0].to_radians(), range[1].to_radians()])
                .contacts_enabled(false);
            physics
                .multibody_joints
                .insert(parent, child, joint, true)
                .expect("the legs form a tree");
        }
        physics.set_hinge_dynamics(torso, &[1.0; 8], &[1.0; 8]);
        // MuJoCo's rest pose has the ankles at 0, outside their range: start
        // them at its nearest end instead.
        let mut dq = [0.0; DOFS];
        for leg in 0..4 {
            dq[6 + 2 * leg + 1] = ANKLE_RANGE[0].to_radians();
        }
        physics.perturb(torso, &dq, &[0.0; DOFS]);
        AntBody {
            physics,
            torso,
            hinges: std::array::from_fn(|k| (hinges[k].0, hinges[k].1, hinges[k].3)),
        }
    }

    fn capsule(a: Vector, b: Vector) -> ColliderBuilder {
        ColliderBuilder::capsule_from_endpoints(a, b, RADIUS)
            .mass(capsule_mass(a.distance(b)))
            .friction(1.0)
            .collision_groups(ROBOT)
    }

    /// A body for the segment from `start` along `span`, its frame at its centre.
    fn segment(
        bodies: &mut RigidBodySet,
        colliders: &mut ColliderSet,
        start: Vector,
        span: Vector,
    ) -> RigidBodyHandle {
        let body = bodies.insert(
            RigidBodyBuilder::dynamic()
                .translation(start + span / 2.0)
                .can_sleep(false),
        );
        colliders.insert_with_parent(Self::capsule(-span / 2.0, span / 2.0), body, bodies);
        body
    }

    /// `[x, y, z, qw, qx, qy, qz, hinge angles…]` and
    /// `[vx, vy, vz, ωx, ωy, ωz, hinge rates…]`.
    fn state(&self, qpos: &mut [f64; 15], qvel: &mut [f64; DOFS]) {
        let rb = &self.physics.bodies[self.torso];
        let (t, r) = (rb.translation(), rb.rotation());
        let root = [t.x, t.y, t.z, r.w, r.x, r.y, r.z];
        for (q, v) in qpos.iter_mut().zip(root) {
            *q = v as f64;
        }
        let mb = self.physics.multibody(self.torso);
        for (k, q) in qpos[7..].iter_mut().enumerate() {
            *q = mb.link(k + 1).expect("a hinge link").joint().coords()[3] as f64;
        }
        for (v, &g) in qvel.iter_mut().zip(mb.generalized_velocity().iter()) {
            *v = g as f64;
        }
    }

    /// Hinge torques τ = gear·a: +τ about the hinge axis on the child, −τ
    /// on the parent (the generalized force τ on that hinge alone).
    fn actuate(&mut self, action: &[f64]) {
        let rb = &mut self.physics.bodies;
        for &(_, child, _) in &self.hinges {
            rb[child].reset_forces(false);
            rb[child].reset_torques(false);
        }
        rb[self.torso].reset_forces(false);
        rb[self.torso].reset_torques(false);
        for (&(parent, child, axis), &a) in self.hinges.iter().zip(action) {
            let tau = (*rb[parent].rotation() * axis) * (GEAR * a.clamp(-1.0, 1.0) as f32);
            rb[child].add_torque(tau, false);
            rb[parent].add_torque(-tau, false);
        }
    }

    /// Draw from above: every capsule projected on the ground, lower ones
    /// first and darker, so that lifted legs stand out.
    fn draw(&self, canvas: &mut Canvas, view: &View) {
        let mut parts: Vec<(f32, [f64; 2], [f64; 2], f32)> = Vec::new();
        for (_, c) in self.physics.colliders.iter() {
            let Some(parent) = c.parent() else { continue };
            if parent == self.torso && c.shape().as_ball().is_some() {
                continue;
            }
            let (a, b, r) = match c.shape().as_capsule() {
                Some(cap) => (
                    c.position() * cap.segment.a,
                    c.position() * cap.segment.b,
                    cap.radius,
                ),
                None => continue,
            };
            parts.push((
                (a.z + b.z) / 2.0,
                [a.x as f64, a.y as f64],
                [b.x as f64, b.y as f64],
                r,
            ));
        }
        parts.sort_by(|p, q| p.0.total_cmp(&q.0));
        let torso = self.physics.bodies[self.torso].translation();
        let shade = |z: f32| -> Rgb {
            BODY.map(|c| (c as f32 * (0.7 + 0.4 * z.clamp(0.0, 0.75))).min(255.0) as u8)
        };
        for (z, a, b, r) in parts.iter().filter(|p| p.0 < torso.z) {
            view.capsule(canvas, *a, *b, *r as f64, shade(*z));
        }
        view.disc(
            canvas,
            [torso.x as f64, torso.y as f64],
            TORSO_RADIUS as f64,
            shade(torso.z),
        );
        view.disc(canvas, [torso.x as f64, torso.y as f64], 0.05, JOINT);
        for (z, a, b, r) in parts.iter().filter(|p| p.0 >= torso.z) {
            view.capsule(canvas, *a, *b, *r as f64, shade(*z));
        }
    }
}

/// The ant (see the module docs).
#[derive(Clone)]
pub struct Ant {
    config: LocomotionConfig,
    /// The rest pose, built once and shared by every copy and snapshot.
    rest: Arc<AntBody>,
    body: AntBody,
    rng: Rng,
    qpos: [f64; 15],
    qvel: [f64; DOFS],
    observation_space: Space,
    action_space: Space,
}

impl Ant {
    /// Seconds of simulated time per env step (one physics step).
    fn step_seconds(&self) -> f64 {
        self.body.physics.params.dt as f64
    }

    /// An ant at rest (call `reset` before stepping).
    pub fn new(config: LocomotionConfig) -> Ant {
        let body = AntBody::build();
        let obs_dim = if config.paper_observation { 29 } else { 27 };
        let mut env = Ant {
            config,
            rest: Arc::new(body.clone()),
            body,
            rng: Rng::new(0),
            qpos: [0.0; 15],
            qvel: [0.0; DOFS],
            observation_space: Space::uniform_box(obs_dim, f64::NEG_INFINITY, f64::INFINITY),
            action_space: Space::uniform_box(8, -1.0, 1.0),
        };
        env.body.state(&mut env.qpos, &mut env.qvel);
        env
    }

    fn observe(&self, obs: &mut [f64]) {
        let skip = if self.config.paper_observation { 0 } else { 2 };
        obs[..15 - skip].copy_from_slice(&self.qpos[skip..]);
        obs[15 - skip..].copy_from_slice(&self.qvel);
    }

    fn healthy(&self) -> bool {
        let z = self.qpos[2];
        HEALTHY_HEIGHT.0 <= z
            && z <= HEALTHY_HEIGHT.1
            && self.qpos.iter().chain(&self.qvel).all(|v| v.is_finite())
    }
}

impl Env for Ant {
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
        self.body = (*self.rest).clone();
        let s = self.config.reset_noise;
        let mut noise = || self.rng.uniform_in(-s, s) as f32;
        let dq: [f32; DOFS] = std::array::from_fn(|_| noise());
        let dv: [f32; DOFS] = std::array::from_fn(|_| noise());
        self.body.physics.perturb(self.body.torso, &dq, &dv);
        self.body.state(&mut self.qpos, &mut self.qvel);
        self.observe(obs);
    }

    fn step(&mut self, action: &[f64], obs: &mut [f64]) -> Step {
        let x_before = self.qpos[0];
        self.body.actuate(action);
        self.body.physics.step();
        self.body.state(&mut self.qpos, &mut self.qvel);
        self.observe(obs);
        let c = &self.config;
        let dt = self.step_seconds();
        let healthy = self.healthy();
        let mut reward = c.forward_weight * (self.qpos[0] - x_before) / dt - c.control_cost(action);
        if healthy {
            reward += c.alive_bonus;
        }
        Step {
            reward,
            terminated: !healthy,
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
        // From above, following the torso, 4 m across.
        let mut canvas = Canvas::new(width, height, GROUND);
        let view = View {
            center: [self.qpos[0], self.qpos[1]],
            scale: width as f64 / 4.0,
        };
        view.grid(&mut canvas, 0.5, true, GRID);
        self.body.draw(&mut canvas, &view);
        Some(canvas.into_rgb())
    }
}
