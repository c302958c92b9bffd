//! One episode played from a seeded start state: the loop that evaluation,
//! `harness render` and `harness env-stats` share, so an episode means the
//! same thing in all three (and `render --run` replays an evaluation).

use anyhow::Result;
use std::ops::ControlFlow;
use trustbench_envs::{Env, Step};

/// How an episode went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Episode {
    /// Undiscounted return.
    pub ret: f64,
    /// Steps taken.
    pub length: u64,
    /// The last step (its `terminated`/`truncated` say how it ended; both
    /// false if `watch` stopped the episode early).
    pub last: Step,
}

/// Reset `env` with `seed`, then step it with `act`'s actions until the
/// episode ends or `watch` breaks. `watch` sees the env after the reset
/// (with `None`) and after every step (with the step).
///
/// `act(env, obs, action)` writes the action for observation `obs`; it sees
/// the env for policies that read its state (scripted players).
pub fn play_episode(
    env: &mut dyn Env,
    seed: u64,
    mut act: impl FnMut(&dyn Env, &[f64], &mut [f64]) -> Result<()>,
    mut watch: impl FnMut(&dyn Env, Option<&Step>) -> Result<ControlFlow<()>>,
) -> Result<Episode> {
    let mut obs = vec![0.0; env.observation_space().dim()];
    let mut action = vec![0.0; env.action_space().dim()];
    env.reset(Some(seed), &mut obs);
    let (mut ret, mut length) = (0.0, 0u64);
    let mut stop = watch(&*env, None)?.is_break();
    loop {
        if stop {
            // Stopped before the first step: an empty episode.
            return Ok(Episode {
                ret,
                length,
                last: Step {
                    reward: 0.0,
                    terminated: false,
                    truncated: false,
                },
            });
        }
        act(&*env, &obs, &mut action)?;
        let step = env.step(&action, &mut obs);
        ret += step.reward;
        length += 1;
        stop = watch(&*env, Some(&step))?.is_break();
        if step.done() || stop {
            return Ok(Episode {
                ret,
                length,
                last: step,
            });
        }
    }
}
