//! One episode played from a seeded start state: the loop that evaluation,
//! `harness render` and `harness env-stats` share, so an episode means the
//! same thing in all three (and `render --run` replays an evaluation).

use anyhow::Result;
use std::ops::ControlFlow;
use trustbench_envs::{Env, Step};
use trustbench_plugin::parallel;

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
    check(&*env)?;
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
        check(&*env)?;
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

/// An env's failure (a provider's error or non-finite value) as an error.
fn check(env: &dyn Env) -> Result<()> {
    match env.failure() {
        Some(why) => anyhow::bail!("{why}"),
        None => Ok(()),
    }
}

/// One env of [`play_in_lockstep`]: its episode so far and its next
/// action.
struct Lane {
    env: Box<dyn Env>,
    obs: Vec<f64>,
    action: Vec<f64>,
    ret: f64,
    length: u64,
    last: Option<Step>,
}

/// [`play_episode`] for several start states at once, without watching:
/// `envs[i]` is reset with `seeds[i]`; then, until every episode has
/// ended, one `act(observations, actions)` call takes the live episodes'
/// observations as a batch (in episode order), and their env steps run on
/// up to `threads` threads. Episode `i` comes out exactly as
/// `play_episode(envs[i], seeds[i], …)` when every action is independent
/// of the rest of its batch — the ABI's contract for `act`, which
/// `harness check plugin` checks — so evaluations keep replaying in
/// `harness render --run` while a run's threads share their work.
pub fn play_in_lockstep(
    envs: Vec<Box<dyn Env>>,
    seeds: &[u64],
    threads: usize,
    mut act: impl FnMut(&[f64], &mut [f64]) -> Result<()>,
) -> Result<Vec<Episode>> {
    assert_eq!(envs.len(), seeds.len(), "one seed per env");
    let mut lanes: Vec<Lane> = envs
        .into_iter()
        .zip(seeds)
        .map(|(mut env, &seed)| {
            let mut obs = vec![0.0; env.observation_space().dim()];
            env.reset(Some(seed), &mut obs);
            let action = vec![0.0; env.action_space().dim()];
            Lane {
                env,
                obs,
                action,
                ret: 0.0,
                length: 0,
                last: None,
            }
        })
        .collect();
    lanes.iter().try_for_each(|l| check(l.env.as_ref()))?;
    let mut workers = vec![(); threads.max(1)];
    let (mut batch, mut actions) = (Vec::new(), Vec::new());
    loop {
        let mut live: Vec<&mut Lane> = lanes.iter_mut().filter(|l| !l.done()).collect();
        if live.is_empty() {
            break;
        }
        batch.clear();
        live.iter().for_each(|l| batch.extend_from_slice(&l.obs));
        let dim = live[0].action.len();
        actions.resize(live.len() * dim, 0.0);
        act(&batch, &mut actions)?;
        for (l, a) in live.iter_mut().zip(actions.chunks_exact(dim)) {
            l.action.copy_from_slice(a);
        }
        parallel::split(&mut live, &mut workers, |_, _, l| {
            let step = l.env.step(&l.action, &mut l.obs);
            l.ret += step.reward;
            l.length += 1;
            l.last = Some(step);
        });
        lanes.iter().try_for_each(|l| check(l.env.as_ref()))?;
    }
    Ok(lanes
        .into_iter()
        .map(|l| Episode {
            ret: l.ret,
            length: l.length,
            last: l.last.expect("an episode takes at least one step"),
        })
        .collect())
}

impl Lane {
    fn done(&self) -> bool {
        self.last.is_some_and(|s| s.done())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch-independent policy that ends cartpole's episodes at
    /// different steps (it pushes towards the cart's drift, not the pole's
    /// lean), and damps a pendulum.
    fn policy(obs: &[f64], dim: usize, actions: &mut [f64]) -> Result<()> {
        for (o, a) in obs.chunks_exact(dim).zip(actions.iter_mut()) {
            *a = if dim == 4 {
                f64::from(u8::from(o[1] > 0.0))
            } else {
                (-0.5 * o[2]).clamp(-2.0, 2.0)
            };
        }
        Ok(())
    }

    #[test]
    fn lockstep_episodes_are_the_episodes_played_alone_for_any_thread_count() {
        for name in ["cartpole", "pendulum"] {
            let config = trustbench_envs::resolve(name).unwrap();
            let dim = config.make().observation_space().dim();
            let seeds: Vec<u64> = (0..7).map(|i| 1000 + i).collect();
            let alone: Vec<Episode> = seeds
                .iter()
                .map(|&seed| {
                    play_episode(
                        config.make().as_mut(),
                        seed,
                        |_, obs, a| policy(obs, dim, a),
                        |_, _| Ok(ControlFlow::Continue(())),
                    )
                    .unwrap()
                })
                .collect();
            // Cartpole's episodes end apart (lanes leave the batch one by
            // one); pendulum's all run to the 200-step limit.
            let apart = alone.iter().any(|e| e.length != alone[0].length);
            assert_eq!(apart, name == "cartpole", "{name}");
            for threads in [1, 2, 3] {
                let envs = seeds.iter().map(|_| config.make()).collect();
                let together =
                    play_in_lockstep(envs, &seeds, threads, |obs, a| policy(obs, dim, a)).unwrap();
                assert_eq!(together, alone, "{name}, {threads} threads");
            }
        }
    }
}
