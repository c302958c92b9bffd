//! `harness env-stats`: what a uniform-random policy and an env's own
//! scripted policy (`Env::scripted_action`, a hand-written baseline that
//! reads the full state) score per episode — the floor and a sanity bar
//! for learning curves, and the proof that a game is playable.
//!
//! Episode `i` of either policy starts from [`eval_episode_seed`], the
//! start state of a run's evaluation episode `i`, so both policies face the
//! same starts (common random numbers) and the figures line up with runs.

use crate::episode::play_episode;
use crate::stats::{mean, population_std};
use crate::streams::{self, eval_episode_seed};
use anyhow::{Result, bail};
use std::ops::ControlFlow;
use trustbench_envs::{Env, EnvConfig, Rng, Space, derive_seed};

/// The policies compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Uniform over the action space (box bounds, or [−1, 1] where unbounded).
    Random,
    /// The env's scripted policy.
    Scripted,
}

impl Policy {
    /// Its name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Random => "random",
            Policy::Scripted => "scripted",
        }
    }
}

/// Returns and lengths of one policy's episodes.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyStats {
    /// Which policy.
    pub policy: Policy,
    /// Return of each episode.
    pub returns: Vec<f64>,
    /// Length of each episode, agent steps.
    pub lengths: Vec<u64>,
    /// Episodes cut off by the time limit.
    pub truncated: usize,
}

impl PolicyStats {
    /// Mean and population standard deviation of the returns (the same
    /// definitions as a run's evaluation).
    pub fn mean_std(&self) -> (f64, f64) {
        (mean(&self.returns), population_std(&self.returns))
    }

    /// Smallest and largest return.
    pub fn min_max(&self) -> (f64, f64) {
        self.returns
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
                (lo.min(r), hi.max(r))
            })
    }

    /// Mean episode length.
    pub fn mean_length(&self) -> f64 {
        self.lengths.iter().sum::<u64>() as f64 / self.lengths.len().max(1) as f64
    }
}

/// Play `episodes` episodes of `policy` on `env`; `None` if the env has no
/// scripted policy. `progress` is called after each episode.
pub fn play(
    env: &EnvConfig,
    policy: Policy,
    episodes: u32,
    seed: u64,
    mut progress: impl FnMut(u32, f64, u64),
) -> Result<Option<PolicyStats>> {
    if episodes == 0 {
        bail!("--episodes must be at least 1");
    }
    let mut e = env.make();
    let mut probe = vec![0.0; e.action_space().dim()];
    if policy == Policy::Scripted && !e.scripted_action(&mut probe) {
        return Ok(None);
    }
    let mut rng = Rng::new(derive_seed(seed, streams::RANDOM_POLICY, 0));
    let mut stats = PolicyStats {
        policy,
        returns: Vec::new(),
        lengths: Vec::new(),
        truncated: 0,
    };
    for i in 0..episodes {
        let episode = play_episode(
            e.as_mut(),
            eval_episode_seed(seed, i),
            |env, _, action| {
                match policy {
                    Policy::Random => random_action(env, &mut rng, action),
                    Policy::Scripted => {
                        env.scripted_action(action);
                    }
                }
                Ok(())
            },
            |_, _| Ok(ControlFlow::Continue(())),
        )?;
        stats.truncated += usize::from(episode.last.truncated);
        stats.returns.push(episode.ret);
        stats.lengths.push(episode.length);
        progress(i + 1, episode.ret, episode.length);
    }
    Ok(Some(stats))
}

/// A uniform draw from the env's action space.
fn random_action(env: &dyn Env, rng: &mut Rng, action: &mut [f64]) {
    match env.action_space() {
        Space::Discrete { n } => action[0] = rng.below(*n as u64) as f64,
        Space::Box { low, high, .. } => {
            for ((a, &lo), &hi) in action.iter_mut().zip(low).zip(high) {
                let (lo, hi) = if lo.is_finite() && hi.is_finite() {
                    (lo, hi)
                } else {
                    (-1.0, 1.0)
                };
                *a = rng.uniform_in(lo, hi);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trustbench_envs::resolve;

    #[test]
    fn scripted_breakout_beats_random_and_cartpole_has_no_script() {
        let env = resolve("breakout").unwrap();
        let random = play(&env, Policy::Random, 3, 0, |_, _, _| {})
            .unwrap()
            .unwrap();
        let scripted = play(&env, Policy::Scripted, 3, 0, |_, _, _| {})
            .unwrap()
            .unwrap();
        assert!(
            scripted.mean_std().0 > random.mean_std().0 + 10.0,
            "{scripted:?} vs {random:?}"
        );
        assert_eq!(random.returns.len(), 3);
        let again = play(&env, Policy::Random, 3, 0, |_, _, _| {})
            .unwrap()
            .unwrap();
        assert_eq!(random, again, "seeded");
        let cartpole = resolve("cartpole").unwrap();
        assert!(
            play(&cartpole, Policy::Scripted, 1, 0, |_, _, _| {})
                .unwrap()
                .is_none()
        );
        let r = play(&cartpole, Policy::Random, 4, 0, |_, _, _| {})
            .unwrap()
            .unwrap();
        let (lo, hi) = r.min_max();
        assert!(lo <= r.mean_std().0 && r.mean_std().0 <= hi && r.mean_length() >= 8.0);
    }
}
