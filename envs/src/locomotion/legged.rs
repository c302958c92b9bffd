//! The env shared by the planar legged robots (hopper and walker): one
//! physics step per env step, health checks, reward and rendering. What
//! differs between them is data: a [`LeggedSpec`].

use super::LocomotionConfig;
use super::planar::{PlanarModel, PlanarRobot};
use crate::render::{Canvas, View, palette};
use crate::{Env, Odometer, Rng, Step};
use std::sync::Arc;
use trustbench_plugin::Space;

/// Gymnasium clips the observed velocities of the hopper and walker to this.
const VELOCITY_CLIP: f64 = 10.0;
/// Foot forces above this many body weights count as this many.
const MAX_IMPACT: f64 = 10.0;

/// What makes a planar legged task.
#[derive(Debug)]
pub(crate) struct LeggedSpec {
    /// The robot; limb 0 is the torso.
    pub model: PlanarModel,
    /// Healthy torso heights (the torso centre's y), m, exclusive.
    pub healthy_height: (f64, f64),
    /// Healthy torso pitch, rad, exclusive.
    pub healthy_pitch: (f64, f64),
    /// Healthy bound on |every angle and velocity| (∞: no bound).
    pub healthy_state: f64,
    /// Limbs whose ground contact forces are penalised (`impact_cost`).
    pub feet: &'static [usize],
}

/// A planar legged robot on flat ground: the hopper or the walker (see
/// their docs in `hopper.rs` and `walker.rs`).
#[derive(Clone)]
pub struct Legged {
    spec: &'static LeggedSpec,
    config: LocomotionConfig,
    /// The rest pose, built once and shared by every copy and snapshot.
    rest: Arc<PlanarRobot>,
    robot: PlanarRobot,
    rng: Rng,
    /// MuJoCo-convention generalized state after the last reset or step:
    /// `[x, z, pitch, hinge angles…]` and their velocities (pitch > 0 leans
    /// forward, the opposite of rapier's counter-clockwise angle).
    qpos: Vec<f64>,
    qvel: Vec<f64>,
    observation_space: Space,
    action_space: Space,
}

impl Legged {
    /// Seconds of simulated time per env step (one physics step at 125 Hz).
    fn step_seconds(&self) -> f64 {
        self.robot.dt()
    }

    pub(crate) fn new(spec: &'static LeggedSpec, config: LocomotionConfig) -> Legged {
        let robot = PlanarRobot::build(&spec.model);
        let n = robot.dofs();
        let obs_dim = 2 * n - usize::from(!config.paper_observation);
        let mut env = Legged {
            spec,
            config,
            rest: Arc::new(robot.clone()),
            robot,
            rng: Rng::new(0),
            qpos: vec![0.0; n],
            qvel: vec![0.0; n],
            observation_space: Space::uniform_box(obs_dim, f64::NEG_INFINITY, f64::INFINITY),
            action_space: Space::uniform_box(spec.model.hinges.len(), -1.0, 1.0),
        };
        env.read_state();
        env
    }

    fn read_state(&mut self) {
        self.robot.state(&mut self.qpos, &mut self.qvel);
        self.qpos[2] = -self.qpos[2];
        self.qvel[2] = -self.qvel[2];
    }

    fn observe(&self, obs: &mut [f64]) {
        let skip = usize::from(!self.config.paper_observation);
        let n = self.qpos.len() - skip;
        obs[..n].copy_from_slice(&self.qpos[skip..]);
        for (o, v) in obs[n..].iter_mut().zip(&self.qvel) {
            *o = v.clamp(-VELOCITY_CLIP, VELOCITY_CLIP);
        }
    }

    /// Gymnasium's health check: torso height and pitch in range, and every
    /// angle and velocity bounded.
    fn healthy(&self) -> bool {
        let s = self.spec;
        let inside = |v: f64, (lo, hi): (f64, f64)| lo < v && v < hi;
        inside(self.qpos[1], s.healthy_height)
            && inside(self.qpos[2], s.healthy_pitch)
            && self.qpos[2..]
                .iter()
                .chain(&self.qvel)
                .all(|v| v.abs() < s.healthy_state)
    }

    /// Σ over the feet of min(F / (M g), 10)².
    fn impacts(&self) -> f64 {
        let weight = self.robot.mass() * self.spec.model.gravity as f64;
        self.spec
            .feet
            .iter()
            .map(|&f| {
                (self.robot.ground_force(f) / weight)
                    .min(MAX_IMPACT)
                    .powi(2)
            })
            .sum()
    }
}

impl Env for Legged {
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
        self.read_state();
        self.observe(obs);
    }

    fn step(&mut self, action: &[f64], obs: &mut [f64]) -> Step {
        let x_before = self.qpos[0];
        self.robot.actuate(action);
        self.robot.step();
        self.read_state();
        self.observe(obs);
        let c = &self.config;
        let velocity = (self.qpos[0] - x_before) / self.step_seconds();
        let healthy = self.healthy();
        let mut reward = c.forward_weight * velocity - c.control_cost(action);
        if healthy {
            reward += c.alive_bonus;
        }
        if c.impact_cost != 0.0 {
            reward -= c.impact_cost * self.impacts();
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
        let mut canvas = Canvas::new(width, height, palette::SKY);
        // Side view following the torso, 2.6 m tall, the ground a fifth up.
        let scale = height as f64 / 2.6;
        let view = View {
            center: [self.qpos[0], 1.3 - 0.3],
            scale,
        };
        view.grid(&mut canvas, 1.0, false, palette::GRID);
        let (x0, x1) = view.x_range(&canvas);
        view.rect(&mut canvas, x0 - 1.0, x1 + 1.0, -2.0, 0.0, palette::GROUND);
        self.robot.draw(&mut canvas, &view);
        Some(canvas.into_rgb())
    }
}
