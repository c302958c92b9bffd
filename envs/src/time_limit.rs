//! Truncation after a fixed number of steps, written once for every env.

use crate::{Env, Step};
use trustbench_plugin::Space;

/// Wraps an env and truncates its episodes after `max_steps` steps (unless
/// they terminated first, which takes precedence, as in Gymnasium).
#[derive(Debug, Clone)]
pub struct TimeLimit<E> {
    inner: E,
    max_steps: u64,
    elapsed: u64,
}

impl<E: Env + Clone> TimeLimit<E> {
    /// Wrap `inner`, truncating after `max_steps` steps.
    pub fn new(inner: E, max_steps: u64) -> Self {
        TimeLimit {
            inner,
            max_steps,
            elapsed: 0,
        }
    }
}

impl<E: Env + Clone> Env for TimeLimit<E> {
    fn observation_space(&self) -> &Space {
        self.inner.observation_space()
    }

    fn action_space(&self) -> &Space {
        self.inner.action_space()
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f64]) {
        self.elapsed = 0;
        self.inner.reset(seed, obs);
    }

    fn step(&mut self, action: &[f64], obs: &mut [f64]) -> Step {
        let mut step = self.inner.step(action, obs);
        self.elapsed += 1;
        if self.elapsed >= self.max_steps && !step.terminated {
            step.truncated = true;
        }
        step
    }

    fn boxed_clone(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }

    fn render(&self, width: usize, height: usize) -> Option<Vec<u8>> {
        self.inner.render(width, height)
    }

    fn scripted_action(&self, action: &mut [f64]) -> bool {
        self.inner.scripted_action(action)
    }

    fn observation_bytes(&self) -> Option<&[u8]> {
        self.inner.observation_bytes()
    }

    fn odometer(&self) -> Option<crate::Odometer> {
        self.inner.odometer()
    }
}
