//! Scoring parameter vectors by whole episodes through the host: the fitness
//! function of derivative-free policy search (CEM, CMA-ES).
//!
//! A candidate's score is the mean undiscounted return of its
//! *deterministic* policy (the mode) over `E` episodes,
//! `f(θ) = (1/E) Σₑ Σₜ rₜ`. Deterministic because these methods explore in
//! parameter space: the search distribution already supplies the noise, and
//! action noise would only add variance to `f`.
//!
//! The host steps all N copies together, so the `K·E` episodes of `K`
//! candidates are *jobs* handed to copies as they free up: a copy runs one
//! episode of one candidate, and when it ends (the host has already reset
//! the copy, so the observation is a fresh start) takes the next job. A copy
//! with no job left must still step, so it keeps playing its last candidate
//! and those returns are ignored. A batch therefore costs the episodes' total
//! length plus that idle tail, which is smallest when `K·E` is a multiple of N.
//!
//! With observation normalisation, the statistics are frozen while a batch
//! is scored (every candidate sees the same transform, so their scores are
//! comparable) and merged with the batch's observations afterwards.

use crate::Agent;
use trustbench_plugin::{Host, Result, StepBuffers, StepOutcome};
use trustbench_policy::PolicyWorkspace;

/// Reusable buffers for scoring batches of candidates.
#[derive(Debug, Default)]
pub struct EpisodeScorer {
    obs: Vec<f64>,
    next: Vec<f64>,
    normalized: Vec<f64>,
    rewards: Vec<f64>,
    terminated: Vec<u8>,
    truncated: Vec<u8>,
    actions: Vec<f64>,
    thetas: Vec<f64>,
    visited: Vec<f64>,
    ws: PolicyWorkspace,
}

impl EpisodeScorer {
    /// Mean return of each candidate over `episodes` episodes (see the
    /// module docs). `candidates` holds `K` network-parameter vectors back
    /// to back (each `agent.policy.network().param_len()` long); the policy
    /// head is taken from `agent.params` (it does not change the mode).
    /// `None` when the budget ran out before every episode finished.
    pub fn score(
        &mut self,
        host: &mut Host,
        agent: &mut Agent,
        candidates: &[f64],
        episodes: usize,
    ) -> Result<Option<Vec<f64>>> {
        let policy = &agent.policy;
        let (dim, p) = (policy.network().param_len(), policy.param_len());
        let k = candidates.len() / dim.max(1);
        self.thetas.clear();
        for c in candidates.chunks_exact(dim) {
            self.thetas.extend_from_slice(c);
            self.thetas.extend_from_slice(policy.head(&agent.params));
        }
        let (n, d) = (host.num_envs(), agent.obs_len());
        let a = policy.distribution().action_len();
        for v in [&mut self.obs, &mut self.next, &mut self.normalized] {
            v.resize(n * d, 0.0);
        }
        self.rewards.resize(n, 0.0);
        self.terminated.resize(n, 0);
        self.truncated.resize(n, 0);
        self.actions.resize(n * a, 0.0);
        self.visited.clear();
        host.reset(None, &mut self.obs)?;

        // Job j is an episode of candidate j mod K: the first wave covers
        // as many different candidates as there are copies.
        let mut jobs = (0..k * episodes).map(|j| j % k);
        let mut running: Vec<Option<usize>> = (0..n).map(|_| jobs.next()).collect();
        let mut playing: Vec<usize> = running.iter().map(|r| r.unwrap_or(0)).collect();
        let mut partial = vec![0.0; n];
        let mut sums = vec![0.0; k];
        while running.iter().any(Option::is_some) {
            self.normalized.copy_from_slice(&self.obs);
            agent.normalize(&mut self.normalized);
            for e in 0..n {
                let theta = &self.thetas[playing[e] * p..(playing[e] + 1) * p];
                policy.forward(theta, &self.normalized[e * d..(e + 1) * d], 1, &mut self.ws);
                policy.mode(&self.ws, &mut self.actions[e * a..(e + 1) * a]);
                if running[e].is_some() && agent.normalizer.is_some() {
                    self.visited
                        .extend_from_slice(&self.obs[e * d..(e + 1) * d]);
                }
            }
            let outcome = host.step(
                0,
                &self.actions,
                StepBuffers {
                    observations: &mut self.next,
                    final_observations: None,
                    rewards: &mut self.rewards,
                    terminated: &mut self.terminated,
                    truncated: &mut self.truncated,
                },
            )?;
            if outcome == StepOutcome::BudgetExhausted {
                return Ok(None);
            }
            for e in 0..n {
                let Some(c) = running[e] else { continue };
                partial[e] += self.rewards[e];
                if self.terminated[e] != 0 || self.truncated[e] != 0 {
                    sums[c] += partial[e];
                    partial[e] = 0.0;
                    running[e] = jobs.next();
                    playing[e] = running[e].unwrap_or(c);
                }
            }
            std::mem::swap(&mut self.obs, &mut self.next);
        }
        agent.update_statistics(&self.visited, self.visited.len() / d);
        agent.begin_batch();
        Ok(Some(sums.iter().map(|s| s / episodes as f64).collect()))
    }
}
