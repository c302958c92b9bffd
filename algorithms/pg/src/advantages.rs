//! What is estimated from a batch before any policy update: `V(sₜ)`, GAE
//! advantages and the value targets.

use crate::Batch;
use trustbench_policy::{ValueBaseline, gae};

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
    baseline.predict(batch.obs.view(), n, &mut values);
    // V(s') only of the rows the sampler kept s' for (truncations and the
    // batch cut): a few rows, not a second pass over the whole batch.
    let rows = &batch.bootstrap_rows;
    let mut read_values = vec![0.0; rows.len()];
    if !rows.is_empty() {
        baseline.predict(batch.bootstrap_obs.view(), rows.len(), &mut read_values);
    }
    let mut bootstrap = vec![0.0; n];
    for (&i, &v) in rows.iter().zip(&read_values) {
        if !batch.terminated[i] {
            bootstrap[i] = v;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Batch;
    use trustbench_plugin::rng::Rng;
    use trustbench_policy::{BaselineConfig, ObservationBuffer};

    /// Predicting V(s') only for the rows the sampler kept gives the
    /// advantages of predicting every row (a terminated row at the cut
    /// bootstraps nothing).
    #[test]
    fn advantages_read_bootstrap_values_only_where_needed() {
        let (n_envs, steps, d) = (2, 4, 3);
        let n = n_envs * steps;
        let mut rng = Rng::new(9);
        let mut terminated = vec![false; n];
        let mut truncated = vec![false; n];
        truncated[2] = true; // copy 0 at t = 1
        terminated[n - 1] = true; // copy 1 at the cut: no bootstrap
        let mut every_obs = vec![0.0; n * d];
        let mut bootstrap_rows = Vec::new();
        let mut bootstrap_obs = Vec::new();
        for i in (0..n).filter(|&i| truncated[i] || i >= n - n_envs) {
            for v in &mut every_obs[i * d..(i + 1) * d] {
                *v = rng.normal();
            }
            bootstrap_rows.push(i);
            bootstrap_obs.extend_from_slice(&every_obs[i * d..(i + 1) * d]);
        }
        let batch = Batch {
            n_envs,
            obs: ObservationBuffer::Reals((0..n * d).map(|_| rng.normal()).collect()),
            actions: vec![0.0; n],
            rewards: (0..n).map(|_| rng.normal()).collect(),
            terminated,
            truncated,
            bootstrap_rows,
            bootstrap_obs: ObservationBuffer::Reals(bootstrap_obs),
        };
        let mut baseline =
            ValueBaseline::new(d, BaselineConfig::default(), &mut Rng::new(1)).unwrap();
        let (values, adv, ret) = advantages(&batch, &mut baseline, 0.99, 0.95);

        let mut every = vec![0.0; n];
        baseline.predict(&every_obs, n, &mut every);
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
