//! # CartPole (`cartpole-v0`)
//!
//! ## Description
//! A pole is hinged to a cart on a frictionless track; push the cart left or
//! right to keep the pole upright (Barto, Sutton & Anderson, 1983). Dynamics,
//! constants and thresholds are those of Gymnasium's `CartPole-v1`, integrated
//! with explicit Euler at τ = 0.02 s.
//!
//! ## Action Space
//! `discrete(2)`: 0 pushes the cart left, 1 right, with a force of 10 N.
//!
//! ## Observation Space
//! `box[4]`: cart position x (m), cart velocity ẋ, pole angle θ (rad, 0 =
//! upright), pole angular velocity θ̇.
//!
//! ## Rewards
//! +1 for every step taken, the terminating step included.
//!
//! ## Starting State
//! Each of the four state variables uniform in [−0.05, 0.05].
//!
//! ## Episode End
//! Terminated when |θ| > 12° or |x| > 2.4; truncated after 500 steps.
//!
//! ## Arguments
//! None.
//!
//! ## Version History
//! - v0: first version (Gymnasium CartPole-v1 dynamics and 500-step limit).

use crate::render::{Canvas, View, palette};
use crate::{Env, Rng, Step};
use trustbench_plugin::Space;

const GRAVITY: f64 = 9.8;
const MASS_CART: f64 = 1.0;
const MASS_POLE: f64 = 0.1;
const TOTAL_MASS: f64 = MASS_CART + MASS_POLE;
const HALF_LENGTH: f64 = 0.5;
const POLE_MASS_LENGTH: f64 = MASS_POLE * HALF_LENGTH;
const FORCE: f64 = 10.0;
const TAU: f64 = 0.02;
const THETA_LIMIT: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;
const X_LIMIT: f64 = 2.4;

/// The cart-pole system (see the module docs).
#[derive(Debug, Clone)]
pub struct CartPole {
    state: [f64; 4],
    rng: Rng,
    observation_space: Space,
    action_space: Space,
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new()
    }
}

impl CartPole {
    /// A cart-pole at rest (call `reset` before stepping).
    pub fn new() -> Self {
        let high = vec![
            X_LIMIT * 2.0,
            f64::INFINITY,
            THETA_LIMIT * 2.0,
            f64::INFINITY,
        ];
        CartPole {
            state: [0.0; 4],
            rng: Rng::new(0),
            observation_space: Space::Box {
                shape: vec![4],
                low: high.iter().map(|h| -h).collect(),
                high,
            },
            action_space: Space::Discrete { n: 2 },
        }
    }

    /// The state `[x, ẋ, θ, θ̇]` (for tests and rendering).
    pub fn state(&self) -> [f64; 4] {
        self.state
    }

    /// Set the state (for hand-built test situations).
    pub fn set_state(&mut self, state: [f64; 4]) {
        self.state = state;
    }
}

impl Env for CartPole {
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
        for s in &mut self.state {
            *s = self.rng.uniform_in(-0.05, 0.05);
        }
        obs.copy_from_slice(&self.state);
    }

    fn step(&mut self, action: &[f64], obs: &mut [f64]) -> Step {
        let [x, x_dot, theta, theta_dot] = self.state;
        let force = if action[0] >= 0.5 { FORCE } else { -FORCE };
        let (sin, cos) = (libm::sin(theta), libm::cos(theta));
        // Florian (2007), "Correct equations for the dynamics of the cart-pole
        // system", with the friction terms dropped, as in Gymnasium.
        let temp = (force + POLE_MASS_LENGTH * theta_dot * theta_dot * sin) / TOTAL_MASS;
        let theta_acc = (GRAVITY * sin - cos * temp)
            / (HALF_LENGTH * (4.0 / 3.0 - MASS_POLE * cos * cos / TOTAL_MASS));
        let x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos / TOTAL_MASS;
        self.state = [
            x + TAU * x_dot,
            x_dot + TAU * x_acc,
            theta + TAU * theta_dot,
            theta_dot + TAU * theta_acc,
        ];
        obs.copy_from_slice(&self.state);
        let [x, _, theta, _] = self.state;
        Step {
            reward: 1.0,
            terminated: !(-X_LIMIT..=X_LIMIT).contains(&x)
                || !(-THETA_LIMIT..=THETA_LIMIT).contains(&theta),
            truncated: false,
        }
    }

    fn boxed_clone(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }

    /// The whole track (±2.4 m) from the side: cart, pole, rail.
    fn render(&self, width: usize, height: usize) -> Option<Vec<u8>> {
        let [x, _, theta, _] = self.state;
        let mut canvas = Canvas::new(width, height, palette::SKY);
        let view = View {
            center: [0.0, 0.4],
            scale: width as f64 / (2.0 * X_LIMIT + 1.0),
        };
        view.rect(
            &mut canvas,
            -X_LIMIT - 0.25,
            X_LIMIT + 0.25,
            -0.01,
            0.01,
            palette::JOINT,
        );
        view.rect(&mut canvas, x - 0.25, x + 0.25, -0.15, 0.15, palette::JOINT);
        let tip = [
            x + 2.0 * HALF_LENGTH * libm::sin(theta),
            2.0 * HALF_LENGTH * libm::cos(theta),
        ];
        view.capsule(&mut canvas, [x, 0.0], tip, 0.05, palette::BODY);
        view.disc(&mut canvas, [x, 0.0], 0.03, palette::GRID);
        Some(canvas.into_rgb())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve;

    #[test]
    fn one_step_matches_hand_computed_dynamics() {
        let mut env = CartPole::new();
        env.set_state([0.0, 0.0, 0.0, 0.0]);
        let mut obs = [0.0; 4];
        let s = env.step(&[1.0], &mut obs);
        // θ = 0: temp = F/M = 10/1.1; θ̈ = -temp / (l (4/3 - m/M)); ẍ = temp - m l θ̈ / M.
        let temp = 10.0 / 1.1;
        let theta_acc = -temp / (0.5 * (4.0 / 3.0 - 0.1 / 1.1));
        let x_acc = temp - 0.05 * theta_acc / 1.1;
        assert_eq!(obs, [0.0, 0.02 * x_acc, 0.0, 0.02 * theta_acc]);
        assert_eq!(
            s,
            Step {
                reward: 1.0,
                terminated: false,
                truncated: false
            }
        );
    }

    #[test]
    fn terminates_past_the_angle_and_position_limits() {
        let mut env = CartPole::new();
        let mut obs = [0.0; 4];
        env.set_state([0.0, 0.0, 0.2, 1.0]);
        assert!(env.step(&[0.0], &mut obs).terminated);
        env.set_state([2.39, 1.0, 0.0, 0.0]);
        assert!(env.step(&[1.0], &mut obs).terminated);
        env.set_state([0.0, 0.0, 0.0, 0.0]);
        assert!(!env.step(&[1.0], &mut obs).terminated);
    }

    #[test]
    fn truncates_at_500_steps() {
        let mut env = resolve("cartpole-v0").unwrap().make();
        let mut obs = [0.0; 4];
        env.reset(Some(3), &mut obs);
        // A hand-made balancing controller keeps the pole up long enough to hit the limit.
        for t in 1..=500 {
            let a = if obs[2] + 0.5 * obs[3] + 0.01 * obs[1] > 0.0 {
                1.0
            } else {
                0.0
            };
            let s = env.step(&[a], &mut obs);
            assert!(!s.terminated, "fell at step {t}");
            assert_eq!(s.truncated, t == 500, "step {t}");
        }
    }
}
