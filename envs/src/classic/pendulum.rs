//! # Pendulum (`pendulum-v0`)
//!
//! ## Description
//! Swing a pendulum up from a random angle and hold it upright with a torque
//! too weak to lift it directly. Dynamics and cost are Gymnasium's
//! `Pendulum-v1` (g = 10, m = 1, l = 1, dt = 0.05 s, semi-implicit Euler).
//!
//! ## Action Space
//! `box[1]`: torque in [−2, 2] N·m; values outside are clipped.
//!
//! ## Observation Space
//! `box[3]`: cos θ, sin θ, θ̇ (θ = 0 is upright), with θ̇ in [−8, 8].
//!
//! ## Rewards
//! −(θ̂² + 0.1 θ̇² + 0.001 u²), where θ̂ is θ wrapped to [−π, π): at most 0
//! (upright and still), at least about −16.27.
//!
//! ## Starting State
//! θ uniform in [−π, π], θ̇ uniform in [−1, 1].
//!
//! ## Episode End
//! Never terminates; truncated after 200 steps.
//!
//! ## Arguments
//! None.
//!
//! ## Version History
//! - v0: first version (Gymnasium Pendulum-v1 dynamics and 200-step limit).

use crate::render::{Canvas, View, palette};
use crate::{Env, Rng, Step};
use libm::{cos, sin};
use std::f64::consts::PI;
use trustbench_plugin::Space;

const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f64 = 2.0;
const DT: f64 = 0.05;
const G: f64 = 10.0;
const M: f64 = 1.0;
const L: f64 = 1.0;

/// The pendulum swing-up task (see the module docs).
#[derive(Debug, Clone)]
pub struct Pendulum {
    theta: f64,
    theta_dot: f64,
    rng: Rng,
    observation_space: Space,
    action_space: Space,
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new()
    }
}

/// θ wrapped to [−π, π).
fn wrap_angle(theta: f64) -> f64 {
    (theta + PI).rem_euclid(2.0 * PI) - PI
}

impl Pendulum {
    /// A pendulum hanging still (call `reset` before stepping).
    pub fn new() -> Self {
        Pendulum {
            theta: PI,
            theta_dot: 0.0,
            rng: Rng::new(0),
            observation_space: Space::Box {
                shape: vec![3],
                low: vec![-1.0, -1.0, -MAX_SPEED],
                high: vec![1.0, 1.0, MAX_SPEED],
            },
            action_space: Space::uniform_box(1, -MAX_TORQUE, MAX_TORQUE),
        }
    }

    /// Set angle and angular velocity (for hand-built test situations).
    pub fn set_state(&mut self, theta: f64, theta_dot: f64) {
        self.theta = theta;
        self.theta_dot = theta_dot;
    }

    fn observe(&self, obs: &mut [f64]) {
        obs.copy_from_slice(&[cos(self.theta), sin(self.theta), self.theta_dot]);
    }
}

impl Env for Pendulum {
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
        self.theta = self.rng.uniform_in(-PI, PI);
        self.theta_dot = self.rng.uniform_in(-1.0, 1.0);
        self.observe(obs);
    }

    fn step(&mut self, action: &[f64], obs: &mut [f64]) -> Step {
        let u = action[0].clamp(-MAX_TORQUE, MAX_TORQUE);
        let th = wrap_angle(self.theta);
        let cost = th * th + 0.1 * self.theta_dot * self.theta_dot + 0.001 * u * u;
        let theta_dot = (self.theta_dot
            + (3.0 * G / (2.0 * L) * sin(self.theta) + 3.0 / (M * L * L) * u) * DT)
            .clamp(-MAX_SPEED, MAX_SPEED);
        self.theta += theta_dot * DT;
        self.theta_dot = theta_dot;
        self.observe(obs);
        Step {
            reward: -cost,
            terminated: false,
            truncated: false,
        }
    }

    fn boxed_clone(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }

    /// Facing the pendulum: θ = 0 points up, positive θ turns it
    /// counter-clockwise (Gymnasium's picture).
    fn render(&self, width: usize, height: usize) -> Option<Vec<u8>> {
        let mut canvas = Canvas::new(width, height, palette::SKY);
        let view = View {
            center: [0.0, 0.0],
            scale: width.min(height) as f64 / 2.6,
        };
        let tip = [-L * sin(self.theta), L * cos(self.theta)];
        view.capsule(&mut canvas, [0.0, 0.0], tip, 0.1, palette::BODY);
        view.disc(&mut canvas, [0.0, 0.0], 0.05, palette::JOINT);
        Some(canvas.into_rgb())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve;

    #[test]
    fn reward_and_dynamics_match_the_formula_and_torque_is_clipped() {
        let mut env = Pendulum::new();
        let mut obs = [0.0; 3];
        env.set_state(0.5, 1.0);
        let s = env.step(&[10.0], &mut obs); // clipped to 2
        assert_eq!(s.reward, -(0.25 + 0.1 + 0.001 * 4.0));
        let theta_dot = 1.0 + (15.0 * 0.5f64.sin() + 3.0 * 2.0) * 0.05;
        assert_eq!(
            obs,
            [
                (0.5 + theta_dot * 0.05).cos(),
                (0.5 + theta_dot * 0.05).sin(),
                theta_dot
            ]
        );
        // Upright and still with no torque: zero cost.
        env.set_state(0.0, 0.0);
        assert_eq!(env.step(&[0.0], &mut obs).reward, 0.0);
        assert_eq!(wrap_angle(3.0 * PI), -PI);
    }

    #[test]
    fn truncates_at_200_steps_and_never_terminates() {
        let mut env = resolve("pendulum").unwrap().make();
        let mut obs = [0.0; 3];
        env.reset(Some(1), &mut obs);
        for t in 1..=200 {
            let s = env.step(&[2.0], &mut obs);
            assert!(!s.terminated);
            assert_eq!(s.truncated, t == 200);
            assert!(obs[2].abs() <= MAX_SPEED);
        }
    }
}
