//! The world a plugin samples: the training envs and, beside them, the three
//! things the harness keeps about them — the step [`Budget`], the plugin's
//! live [`Snapshots`], and the [`Log`] of episodes (and metrics) — each a
//! small part with its own rules, so [`World::step`] reads as the stages of a
//! batched step: check, spend the budget, step the copies, record.

use super::buffers::{ObsOut, StepOut};
use crate::episode::Episode;
use crate::results::{EpisodeRow, MetricRow, Phase, RunLog};
use std::collections::BTreeMap;
use std::time::Instant;
use trustbench_envs::{Env, Space, Step, VecEnv};
use trustbench_plugin::{abi, parallel};

/// Most snapshots a plugin may hold at once (a leak guard, not a tuning knob).
const MAX_LIVE_SNAPSHOTS: usize = 100_000;

/// The training envs, the budget and the record of what happened.
pub struct World {
    envs: VecEnv,
    action_space: Space,
    obs_dim: usize,
    budget: Budget,
    snapshots: Snapshots,
    log: Log,
    /// Threads a batched step runs its copies on.
    threads: usize,
    /// Where the envs write the values of observations handed on as bytes
    /// (`obs_dim` per copy); empty until the first byte reset or step.
    pub(super) scratch: Vec<f64>,
}

/// The env-step budget: what is spent, and the steps it refused.
struct Budget {
    total: u64,
    used: u64,
    /// A step was refused because it did not fit in what is left of the
    /// budget (a step of 8 copies with 4 steps left, say).
    refused: bool,
    /// Step calls refused for the budget: a plugin should stop after the
    /// first (`harness check plugin` counts them).
    refused_calls: u64,
}

impl Budget {
    /// Whether `count` more steps fit in what is left; a step that does
    /// not is refused, and the refusal counted. (Steps are spent one by one
    /// as the copies' results are recorded.)
    fn fits(&mut self, count: u64) -> bool {
        if self.used + count > self.total {
            self.refused = true;
            self.refused_calls += 1;
            return false;
        }
        true
    }

    fn spent(&self) -> bool {
        self.used >= self.total || self.refused
    }

    fn remaining(&self) -> u64 {
        self.total - self.used.min(self.total)
    }
}

/// Return and length of the episode in progress on one copy.
#[derive(Debug, Clone, Copy, Default)]
struct EpisodeProgress {
    ret: f64,
    len: u64,
}

/// The plugin's live snapshots: a copy's env state and its episode so far,
/// by the id the plugin was given.
#[derive(Default)]
struct Snapshots {
    live: BTreeMap<u64, (Box<dyn Env>, EpisodeProgress)>,
    /// Ids of the ones taken so far (ids start at 1).
    taken: u64,
}

impl Snapshots {
    /// Room for one more, or the error that says there is none.
    fn room(&self) -> Result<(), String> {
        if self.live.len() >= MAX_LIVE_SNAPSHOTS {
            return Err(format!(
                "more than {MAX_LIVE_SNAPSHOTS} live snapshots; release them when done"
            ));
        }
        Ok(())
    }

    /// Keep a snapshot; its id.
    fn insert(&mut self, state: Box<dyn Env>, progress: EpisodeProgress) -> u64 {
        self.taken += 1;
        self.live.insert(self.taken, (state, progress));
        self.taken
    }

    fn get(&self, id: u64) -> Result<&(Box<dyn Env>, EpisodeProgress), String> {
        self.live
            .get(&id)
            .ok_or_else(|| format!("restore of unknown snapshot {id}"))
    }

    fn release(&mut self, id: u64) -> Result<(), String> {
        self.live
            .remove(&id)
            .map(drop)
            .ok_or_else(|| format!("release of unknown snapshot {id}"))
    }
}

/// The episode log: each copy's episode in progress, and what the run
/// records — finished episodes (training and evaluation) and metrics, with
/// the iteration and time they came at.
struct Log {
    start: Instant,
    iteration: u64,
    in_progress: Vec<EpisodeProgress>,
    run: RunLog,
}

impl Log {
    fn wall_seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Count `step` of copy `i` into its episode; an episode it ends is
    /// recorded at `env_steps`.
    fn step(&mut self, i: usize, step: &Step, env_steps: u64) {
        let p = &mut self.in_progress[i];
        p.ret += step.reward;
        p.len += 1;
        if step.done() {
            let p = std::mem::take(p);
            let wall_seconds = self.wall_seconds();
            self.run.episodes.push(EpisodeRow {
                phase: Phase::Train,
                env_steps,
                wall_seconds,
                episode_return: p.ret,
                length: p.len,
                terminated: step.terminated,
                truncated: step.truncated,
            });
        }
    }
}

/// One copy's share of a batched step: its env, action and output rows.
struct CopyStep<'a> {
    env: &'a mut Box<dyn Env>,
    action: &'a [f64],
    observation: ObsOut<'a>,
    final_observation: Option<ObsOut<'a>>,
    scratch: &'a mut [f64],
    step: Option<Step>,
}

impl CopyStep<'_> {
    /// [`VecEnv::step_copy`] into the plugin's rows, of either kind.
    fn run(&mut self) {
        let env = self.env.as_mut();
        let values = self.observation.values(self.scratch);
        let last = &mut self.final_observation;
        self.step = Some(VecEnv::step_copy_with(env, self.action, values, |e, l| {
            if let Some(row) = last {
                row.take(l, e);
            }
        }));
        self.observation.take_bytes(self.env.as_ref());
    }
}

impl World {
    /// A world over `envs` with a budget of `budget` env steps; a batched
    /// step runs its copies on up to `threads` threads.
    pub fn new(envs: VecEnv, budget: u64, start: Instant, threads: usize) -> World {
        World {
            action_space: envs.action_space().clone(),
            obs_dim: envs.observation_space().dim(),
            log: Log {
                start,
                iteration: 0,
                in_progress: vec![EpisodeProgress::default(); envs.len()],
                run: RunLog::default(),
            },
            envs,
            budget: Budget {
                total: budget,
                used: 0,
                refused: false,
                refused_calls: 0,
            },
            snapshots: Snapshots::default(),
            threads: threads.max(1),
            scratch: Vec::new(),
        }
    }

    /// The envs (for the host's spaces).
    pub(super) fn envs(&self) -> &VecEnv {
        &self.envs
    }

    /// Values per observation of one copy.
    pub(super) fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Whether the envs' observations are bytes (see
    /// [`trustbench_envs::Env::observation_bytes`]), so they can be handed on
    /// as such.
    pub fn byte_observations(&self) -> bool {
        !self.envs.is_empty() && self.envs.observation_bytes(0).is_some()
    }

    /// Threads a batched step (and the plugin, through the
    /// `trustbench.threads/1` extension) may use.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Env steps spent so far.
    pub fn steps_used(&self) -> u64 {
        self.budget.used
    }

    /// Env steps left in the budget.
    pub(super) fn steps_remaining(&self) -> u64 {
        self.budget.remaining()
    }

    /// Whether the budget is spent: used up, or too little left for a step
    /// the plugin asked for (a budget that is not a multiple of the number
    /// of copies ends the run there, not in an error).
    pub fn budget_spent(&self) -> bool {
        self.budget.spent()
    }

    /// Step calls refused so far because the budget could not cover them.
    pub fn refused_step_calls(&self) -> u64 {
        self.budget.refused_calls
    }

    /// Seconds since the run started.
    pub fn wall_seconds(&self) -> f64 {
        self.log.wall_seconds()
    }

    /// Everything recorded so far: metrics and finished episodes.
    pub fn log(&self) -> &RunLog {
        &self.log.run
    }

    /// Start iteration `i` (metrics logged from now on carry it).
    pub fn begin_iteration(&mut self, i: u64) {
        self.log.iteration = i;
    }

    /// Record a metric at the current iteration and step count.
    pub fn log_metric(&mut self, name: &str, value: f64) {
        let wall_seconds = self.wall_seconds();
        self.log.run.metrics.push(MetricRow {
            iteration: self.log.iteration,
            env_steps: self.budget.used,
            wall_seconds,
            name: name.to_owned(),
            value,
        });
    }

    /// Record the episodes of an evaluation, run now: at the current step
    /// count, in the order given (episode `i` from start state `i`).
    pub fn record_evaluation(&mut self, episodes: &[Episode]) {
        let (env_steps, wall_seconds) = (self.steps_used(), self.wall_seconds());
        for episode in episodes {
            self.log.run.episodes.push(EpisodeRow {
                phase: Phase::Eval,
                env_steps,
                wall_seconds,
                episode_return: episode.ret,
                length: episode.length,
                terminated: episode.last.terminated,
                truncated: episode.last.truncated,
            });
        }
    }

    /// Reset copy `env` (or every copy, for `TB_ALL_ENVS`) into `obs`.
    pub(super) fn reset(&mut self, env: u32, obs: ObsOut<'_>) -> Result<(), String> {
        let n = self.envs.len();
        let range = if env == abi::TB_ALL_ENVS {
            0..n
        } else {
            env as usize..env as usize + 1
        };
        if range.end > n {
            return Err(format!("reset of env {env}, but there are {n} envs"));
        }
        if obs.len() != range.len() * self.obs_dim {
            return Err(format!(
                "reset with an observation buffer of {} values; expected {}",
                obs.len(),
                range.len() * self.obs_dim
            ));
        }
        if let ObsOut::Bytes(_) = obs {
            self.scratch
                .resize(self.scratch.len().max(self.obs_dim), 0.0);
        }
        for (mut row, i) in obs.rows(self.obs_dim).into_iter().zip(range) {
            self.envs.reset(i, row.values(&mut self.scratch));
            let env = self.envs.copies_mut(i..i + 1)[0].as_ref();
            env_failed(env)?;
            row.take_bytes(env);
            self.log.in_progress[i] = EpisodeProgress::default();
        }
        Ok(())
    }

    /// Step copies `first..first+count`. `Ok(false)`: budget exhausted (or
    /// a stop requested).
    pub(super) fn step(
        &mut self,
        first: u32,
        count: u32,
        actions: &[f64],
        out: &mut StepOut<'_>,
    ) -> Result<bool, String> {
        let (first, count) = (first as usize, count as usize);
        self.check_step(first, count, actions)?;
        if crate::signals::requested().is_some() {
            // A stop was requested: end the plugin's iteration as if the
            // budget were spent, so the run stops at the next iteration
            // boundary (recorded `interrupted`) even when one iteration
            // would sample for a long time. Not counted as refused: the
            // budget is not what ended it.
            return Ok(false);
        }
        if !self.budget.fits(count as u64) {
            return Ok(false);
        }
        let act_dim = self.action_space.dim();
        for (k, action) in actions.chunks_exact(act_dim).enumerate() {
            if let Some(why) = self.action_space.invalid_action(action) {
                return Err(format!("invalid action for env {}: {why}", first + k));
            }
        }
        let steps = self.step_copies(first, count, actions, out);
        for env in self.envs.copies_mut(first..first + count).iter() {
            env_failed(env.as_ref())?;
        }
        // Counting and episode bookkeeping run in copy order, so nothing
        // recorded depends on the number of threads.
        for (k, step) in steps.into_iter().enumerate() {
            self.budget.used += 1;
            out.rewards[k] = step.reward;
            out.terminated[k] = step.terminated as u8;
            out.truncated[k] = step.truncated as u8;
            self.log.step(first + k, &step, self.budget.used);
        }
        Ok(true)
    }

    /// The copies a step names exist, and the actions fill them.
    fn check_step(&self, first: usize, count: usize, actions: &[f64]) -> Result<(), String> {
        let n = self.envs.len();
        if count == 0 || first + count > n {
            return Err(format!(
                "step of envs {first}..{}, but there are {n} envs",
                first + count
            ));
        }
        let act_dim = self.action_space.dim();
        if actions.len() != count * act_dim {
            return Err(format!(
                "step with {} action values for {count} envs; expected {} ({count} × {act_dim})",
                actions.len(),
                count * act_dim
            ));
        }
        Ok(())
    }

    /// Step the copies on the world's threads, each writing only its own
    /// rows of `out`; their steps, in copy order.
    fn step_copies(
        &mut self,
        first: usize,
        count: usize,
        actions: &[f64],
        out: &mut StepOut<'_>,
    ) -> Vec<Step> {
        let (d, act_dim) = (self.obs_dim, self.action_space.dim());
        let mut finals = out.final_observations.take().map(|f| f.rows(d).into_iter());
        let observations = std::mem::replace(&mut out.observations, ObsOut::Reals(&mut []));
        // Rows of values are written in place; byte rows need the values somewhere.
        let scratch: Box<dyn Iterator<Item = &mut [f64]>> = match observations {
            ObsOut::Reals(_) => Box::new(std::iter::repeat_with(|| &mut [][..])),
            ObsOut::Bytes(_) => {
                self.scratch.resize(count * d, 0.0);
                Box::new(self.scratch.chunks_exact_mut(d))
            }
        };
        let mut copies: Vec<CopyStep<'_>> = self
            .envs
            .copies_mut(first..first + count)
            .iter_mut()
            .zip(actions.chunks_exact(act_dim))
            .zip(observations.rows(d))
            .zip(scratch)
            .map(|(((env, action), observation), scratch)| CopyStep {
                env,
                action,
                observation,
                final_observation: finals.as_mut().and_then(|f| f.next()),
                scratch,
                step: None,
            })
            .collect();
        // One (empty) worker per thread: a `Vec` of `()` never allocates.
        let mut workers = vec![(); self.threads];
        parallel::split(&mut copies, &mut workers, |_, _, c| c.run());
        copies.iter().filter_map(|c| c.step).collect()
    }

    /// Snapshot copy `env`: the id the plugin restores it by.
    pub(super) fn snapshot(&mut self, env: u32) -> Result<u64, String> {
        let i = env as usize;
        if i >= self.envs.len() {
            return Err(format!(
                "snapshot of env {env}, but there are {} envs",
                self.envs.len()
            ));
        }
        self.snapshots.room()?;
        if let Some(why) = self.envs.copies_mut(i..i + 1)[0].snapshot_refusal() {
            return Err(why);
        }
        Ok(self
            .snapshots
            .insert(self.envs.snapshot(i), self.log.in_progress[i]))
    }

    /// Put copy `env` back in snapshot `id`'s state, its episode included.
    pub(super) fn restore(&mut self, env: u32, id: u64) -> Result<(), String> {
        let i = env as usize;
        if i >= self.envs.len() {
            return Err(format!(
                "restore of env {env}, but there are {} envs",
                self.envs.len()
            ));
        }
        let (state, progress) = self.snapshots.get(id)?;
        self.envs.restore(i, state.as_ref());
        self.log.in_progress[i] = *progress;
        Ok(())
    }

    /// Forget snapshot `id`.
    pub(super) fn release(&mut self, id: u64) -> Result<(), String> {
        self.snapshots.release(id)
    }
}

/// An env's failure (an env of a provider library that returned an error
/// or a non-finite value) as a fault; the text names the provider.
fn env_failed(env: &dyn Env) -> Result<(), String> {
    match env.failure() {
        Some(why) => Err(format!("{}{why}", super::ENV_FAILURE)),
        None => Ok(()),
    }
}
