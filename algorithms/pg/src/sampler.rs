//! Sampling a batch through the host, and what is computed from a batch
//! before any policy update: values, GAE advantages, returns.

use crate::Agent;
use trustbench_plugin::{Host, Result, StepBuffers, StepOutcome};
use trustbench_policy::{ValueBaseline, gae};

/// `T` steps of `N` env copies, time-major: row `t·N + e` is copy `e` at
/// time `t` — the layout [`gae`] expects.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// N.
    pub n_envs: usize,
    /// Normalised observations `sₜ`.
    pub obs: Vec<f64>,
    /// Actions taken.
    pub actions: Vec<f64>,
    /// Rewards.
    pub rewards: Vec<f64>,
    /// True ends: no bootstrap.
    pub terminated: Vec<bool>,
    /// Time-limit cuts: bootstrap from `V(s')`.
    pub truncated: Vec<bool>,
    /// Normalised `s'` for rows that were truncated or are the last of their
    /// stream (the batch cut); zeros elsewhere.
    pub bootstrap_obs: Vec<f64>,
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
        let mut batch = Batch {
            n_envs: n,
            ..Batch::default()
        };
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
            batch.obs.extend_from_slice(&self.normalized);
            batch.actions.extend_from_slice(&self.actions);
            batch.rewards.extend_from_slice(&self.rewards);
            batch
                .terminated
                .extend(self.terminated.iter().map(|&t| t != 0));
            batch
                .truncated
                .extend(self.truncated.iter().map(|&t| t != 0));
            let start = batch.bootstrap_obs.len();
            batch.bootstrap_obs.resize(start + n * d, 0.0);
            for e in 0..n {
                if self.truncated[e] != 0 {
                    let row = &mut batch.bootstrap_obs[start + e * d..start + (e + 1) * d];
                    row.copy_from_slice(&self.finals[e * d..(e + 1) * d]);
                    agent.normalize(row);
                }
            }
            std::mem::swap(&mut self.current, &mut self.next);
        }
        // The batch cut: the last row of every stream that did not end bootstraps from the current state.
        if !batch.is_empty() {
            let start = batch.bootstrap_obs.len() - n * d;
            let last = batch.len() - n;
            for e in 0..n {
                if !batch.terminated[last + e] && !batch.truncated[last + e] {
                    let row = &mut batch.bootstrap_obs[start + e * d..start + (e + 1) * d];
                    row.copy_from_slice(&self.current[e * d..(e + 1) * d]);
                    agent.normalize(row);
                }
            }
        }
        Ok(batch)
    }
}

/// `V(sₜ)` of every row, GAE(γ, λ) advantages and the returns `Aₜ + V(sₜ)`
/// (the value targets), honouring terminated vs truncated.
pub fn advantages(
    batch: &Batch,
    baseline: &mut ValueBaseline,
    gamma: f64,
    lambda: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = batch.len();
    let mut values = vec![0.0; n];
    baseline.predict(&batch.obs, n, &mut values);
    // V(s') only where GAE reads it (truncations and the batch cut): a few
    // rows, not a second pass over the whole batch.
    let d = batch.obs.len() / n.max(1);
    let cut = n.saturating_sub(batch.n_envs);
    let read: Vec<usize> = (0..n)
        .filter(|&i| !batch.terminated[i] && (batch.truncated[i] || i >= cut))
        .collect();
    let rows: Vec<f64> = read
        .iter()
        .flat_map(|&i| &batch.bootstrap_obs[i * d..(i + 1) * d])
        .copied()
        .collect();
    let mut read_values = vec![0.0; read.len()];
    if !read.is_empty() {
        baseline.predict(&rows, read.len(), &mut read_values);
    }
    let mut bootstrap = vec![0.0; n];
    for (&i, &v) in read.iter().zip(&read_values) {
        bootstrap[i] = v;
    }
    let (mut adv, mut ret) = (vec![0.0; n], vec![0.0; n]);
    gae(
        &batch.rewards,
        &values,
        &bootstrap,
        &batch.terminated,
        &batch.truncated,
        batch.n_envs,
        gamma,
        lambda,
        &mut adv,
        &mut ret,
    );
    (values, adv, ret)
}

/// `1 − Var(R − V) / Var(R)`: 1 when the baseline predicts returns exactly,
/// 0 when it is no better than a constant, negative when worse.
pub fn explained_variance(values: &[f64], returns: &[f64]) -> f64 {
    let n = returns.len().max(1) as f64;
    let var = |xs: &mut dyn Iterator<Item = f64>| {
        let v: Vec<f64> = xs.collect();
        let m = v.iter().sum::<f64>() / n;
        v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n
    };
    let var_r = var(&mut returns.iter().copied());
    if var_r == 0.0 {
        return 0.0;
    }
    1.0 - var(&mut returns.iter().zip(values).map(|(r, v)| r - v)) / var_r
}

#[cfg(test)]
mod tests {
    use super::*;
    use trustbench_plugin::rng::Rng;
    use trustbench_policy::BaselineConfig;

    /// Predicting V(s') only for the rows GAE reads gives the advantages
    /// of predicting every row (up to the rounding of a different batch).
    #[test]
    fn advantages_read_bootstrap_values_only_where_needed() {
        let (n_envs, steps, d) = (2, 4, 3);
        let n = n_envs * steps;
        let mut rng = Rng::new(9);
        let mut terminated = vec![false; n];
        let mut truncated = vec![false; n];
        truncated[2] = true; // copy 0 at t = 1
        terminated[n - 1] = true; // copy 1 at the cut: no bootstrap
        let mut bootstrap_obs = vec![0.0; n * d];
        for i in (0..n).filter(|&i| !terminated[i] && (truncated[i] || i >= n - n_envs)) {
            for v in &mut bootstrap_obs[i * d..(i + 1) * d] {
                *v = rng.normal();
            }
        }
        let batch = Batch {
            n_envs,
            obs: (0..n * d).map(|_| rng.normal()).collect(),
            actions: vec![0.0; n],
            rewards: (0..n).map(|_| rng.normal()).collect(),
            terminated,
            truncated,
            bootstrap_obs,
        };
        let mut baseline =
            ValueBaseline::new(d, BaselineConfig::default(), &mut Rng::new(1)).unwrap();
        let (values, adv, ret) = advantages(&batch, &mut baseline, 0.99, 0.95);

        let mut every = vec![0.0; n];
        baseline.predict(&batch.bootstrap_obs, n, &mut every);
        let (mut want_adv, mut want_ret) = (vec![0.0; n], vec![0.0; n]);
        gae(
            &batch.rewards,
            &values,
            &every,
            &batch.terminated,
            &batch.truncated,
            n_envs,
            0.99,
            0.95,
            &mut want_adv,
            &mut want_ret,
        );
        for (got, want) in adv.iter().chain(&ret).zip(want_adv.iter().chain(&want_ret)) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }
}
