//! Sampling a batch through the host: whole steps of every env copy,
//! episodes continuing across batches.

use crate::Agent;
use trustbench_plugin::{Error, Host, Result, StepBuffers, StepOutcome};
use trustbench_policy::ObservationBuffer;

/// `T` steps of `N` env copies, time-major: row `t·N + e` is copy `e` at
/// time `t` — the layout [`trustbench_policy::gae`] expects.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// N, the env copies: row `t·N + e` is copy `e` at time `t`.
    pub n_envs: usize,
    /// Normalised observations `sₜ`; bytes for a pixel policy (see
    /// [`Agent::byte_observations`]), a quarter of `f32` and an eighth of
    /// `f64`.
    pub obs: ObservationBuffer,
    /// Actions taken, sampled (never the mode), as the host received them.
    pub actions: Vec<f64>,
    /// Rewards as the env gave them (unscaled, undiscounted).
    pub rewards: Vec<f64>,
    /// True ends: no bootstrap.
    pub terminated: Vec<bool>,
    /// Time-limit cuts: bootstrap from `V(s')`.
    pub truncated: Vec<bool>,
    /// Rows whose `s'` is kept: truncated, or the last of their stream (the
    /// batch cut), in row order. Only these rows' `V(s')` is read by GAE
    /// (unless also terminated), so the rest is not stored.
    pub bootstrap_rows: Vec<usize>,
    /// Normalised `s'` of each row of `bootstrap_rows`, in that order.
    pub bootstrap_obs: ObservationBuffer,
}

impl Batch {
    /// Number of states (T·N).
    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    /// Whether no step was collected.
    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }
}

/// Keeps the current observation of every copy between batches, so
/// episodes continue across iterations as the host's autoreset intends.
#[derive(Debug, Default)]
pub struct Sampler {
    current: Vec<f64>,
    started: bool,
    next: Vec<f64>,
    finals: Vec<f64>,
    rewards: Vec<f64>,
    terminated: Vec<u8>,
    truncated: Vec<u8>,
    actions: Vec<f64>,
    normalized: Vec<f64>,
}

impl Sampler {
    /// Collect up to `steps_per_env` steps of every copy with the agent's
    /// sampled actions, updating its observation statistics on the way.
    /// Shorter (possibly empty) when the budget runs out.
    pub fn collect(
        &mut self,
        host: &mut Host,
        agent: &mut Agent,
        steps_per_env: usize,
    ) -> Result<Batch> {
        let (n, d) = (host.num_envs(), agent.obs_len());
        let a = agent.policy.distribution().action_len();
        if !self.started {
            self.current.resize(n * d, 0.0);
            host.reset(None, &mut self.current)?;
            self.started = true;
        }
        for v in [&mut self.next, &mut self.finals, &mut self.normalized] {
            v.resize(n * d, 0.0);
        }
        self.rewards.resize(n, 0.0);
        self.terminated.resize(n, 0);
        self.truncated.resize(n, 0);
        self.actions.resize(n * a, 0.0);
        let fresh = || ObservationBuffer::new(agent.byte_observations());
        let mut batch = Batch {
            n_envs: n,
            obs: fresh(),
            bootstrap_obs: fresh(),
            ..Batch::default()
        };
        let invalid = |e: String| Error::new(format!("env observation: {e}"));
        for _ in 0..steps_per_env {
            if let Some(norm) = &mut agent.normalizer {
                norm.update(&self.current, n);
            }
            self.normalized.copy_from_slice(&self.current);
            agent.normalize(&mut self.normalized);
            agent.act_normalized(&self.normalized, false, &mut self.actions);
            let outcome = host.step(
                0,
                &self.actions,
                StepBuffers {
                    observations: &mut self.next,
                    final_observations: Some(&mut self.finals),
                    rewards: &mut self.rewards,
                    terminated: &mut self.terminated,
                    truncated: &mut self.truncated,
                },
            )?;
            if outcome == StepOutcome::BudgetExhausted {
                break;
            }
            batch.obs.push_reals(&self.normalized).map_err(invalid)?;
            batch.actions.extend_from_slice(&self.actions);
            batch.rewards.extend_from_slice(&self.rewards);
            batch
                .terminated
                .extend(self.terminated.iter().map(|&t| t != 0));
            batch
                .truncated
                .extend(self.truncated.iter().map(|&t| t != 0));
            let start = batch.len() - n;
            for e in 0..n {
                if self.truncated[e] != 0 {
                    let row = &mut self.finals[e * d..(e + 1) * d];
                    agent.normalize(row);
                    batch.bootstrap_rows.push(start + e);
                    batch.bootstrap_obs.push_reals(row).map_err(invalid)?;
                }
            }
            std::mem::swap(&mut self.current, &mut self.next);
        }
        // The batch cut: the last row of every stream that did not end bootstraps from the current state.
        if !batch.is_empty() {
            let last = batch.len() - n;
            for e in 0..n {
                if !batch.terminated[last + e] && !batch.truncated[last + e] {
                    let row = &mut self.next[e * d..(e + 1) * d];
                    row.copy_from_slice(&self.current[e * d..(e + 1) * d]);
                    agent.normalize(row);
                    batch.bootstrap_rows.push(last + e);
                    batch.bootstrap_obs.push_reals(row).map_err(invalid)?;
                }
            }
        }
        Ok(batch)
    }
}
