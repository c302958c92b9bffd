//! TRPO's surrogate objective and trust-region constraint over one batch.
//!
//! `L(θ) = (1/N) Σᵢ πθ(aᵢ|sᵢ) / π_old(aᵢ|sᵢ) · Aᵢ` (importance-sampled
//! advantage) and `KL̄(θ) = (1/N) Σᵢ KL(π_old(·|sᵢ) ‖ πθ(·|sᵢ))`, both
//! computed exactly (closed-form KL) for the line search; `∇L` at `θ_old` is
//! the policy gradient `g` that CG turns into the natural direction.

use crate::policy::{Policy, PolicyWorkspace};

/// The surrogate and the statistics the line search and reports need, at
/// one parameter vector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SurrogateValue {
    /// `L(θ)`.
    pub surrogate: f64,
    /// Exact mean `KL(π_old ‖ πθ)` over the batch's states.
    pub mean_kl: f64,
    /// Mean entropy of `πθ` over the batch's states.
    pub mean_entropy: f64,
}

/// One batch of states, actions and advantages, with the old policy's
/// distribution parameters and log-probs frozen at construction. It owns the
/// batch so that an update can keep it from the gradient to the line search
/// without a second forward pass at `θ_old`.
#[derive(Clone, Debug)]
pub struct Surrogate {
    obs: Vec<f64>,
    actions: Vec<f64>,
    advantages: Vec<f64>,
    old_dist: Vec<f64>,
    old_log_prob: Vec<f64>,
    d_dist: Vec<f64>,
}

impl Surrogate {
    /// Freezes `π_old = π(params_old)` on the batch (one forward pass).
    /// `advantages.len()` is the number of states.
    pub fn new(
        policy: &Policy,
        params_old: &[f64],
        obs: Vec<f64>,
        actions: Vec<f64>,
        advantages: Vec<f64>,
        ws: &mut PolicyWorkspace,
    ) -> Surrogate {
        let n = advantages.len();
        let old_dist = policy.forward(params_old, &obs, n, ws).to_vec();
        let mut old_log_prob = vec![0.0; n];
        policy.log_prob(ws, &actions, &mut old_log_prob);
        Surrogate {
            obs,
            actions,
            advantages,
            old_dist,
            old_log_prob,
            d_dist: Vec::new(),
        }
    }

    /// [`Surrogate::new`] and `grad = ∇L(θ_old)` (overwritten) from the same
    /// forward pass: at `θ_old` the distribution is the frozen one, and the
    /// activations the VJP needs are still in `ws`. Returns the value at
    /// `θ_old` (`L` = mean advantage, `KL̄` = 0).
    #[allow(clippy::too_many_arguments)]
    pub fn with_gradient(
        policy: &Policy,
        params_old: &[f64],
        obs: Vec<f64>,
        actions: Vec<f64>,
        advantages: Vec<f64>,
        ws: &mut PolicyWorkspace,
        grad: &mut [f64],
    ) -> (Surrogate, SurrogateValue) {
        let mut surrogate = Surrogate::new(policy, params_old, obs, actions, advantages, ws);
        let old_dist = surrogate.old_dist.clone();
        let value = surrogate.log_prob_cotangents(policy, &old_dist);
        policy.vjp(params_old, &surrogate.obs, ws, &surrogate.d_dist, grad);
        (surrogate, value)
    }

    /// Number of states.
    pub fn len(&self) -> usize {
        self.advantages.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.advantages.is_empty()
    }

    /// The frozen per-state distribution parameters of `π_old`.
    pub fn old_dist(&self) -> &[f64] {
        &self.old_dist
    }

    /// The frozen `log π_old(aᵢ|sᵢ)`.
    pub fn old_log_prob(&self) -> &[f64] {
        &self.old_log_prob
    }

    /// `L`, `KL̄` and mean entropy at `params` (one forward pass).
    pub fn evaluate(
        &self,
        policy: &Policy,
        params: &[f64],
        ws: &mut PolicyWorkspace,
    ) -> SurrogateValue {
        let dist = policy.forward(params, &self.obs, self.len(), ws);
        self.value(policy, dist, |_, _, _| {})
    }

    /// `grad = ∇L(params)` (overwritten) and the value there (one forward
    /// pass and one VJP).
    pub fn gradient(
        &mut self,
        policy: &Policy,
        params: &[f64],
        ws: &mut PolicyWorkspace,
        grad: &mut [f64],
    ) -> SurrogateValue {
        let dist = policy.forward(params, &self.obs, self.len(), ws);
        let value = self.log_prob_cotangents(policy, dist);
        policy.vjp(params, &self.obs, ws, &self.d_dist, grad);
        value
    }

    /// The value at `dist = π(θ)` on the batch, and `∂L/∂dᵢ = rᵢ Aᵢ / N ·
    /// ∇_d log π(aᵢ)` into `d_dist` (`rᵢ` the probability ratio), which one
    /// VJP pulls back to `∇L(θ)`.
    fn log_prob_cotangents(&mut self, policy: &Policy, dist: &[f64]) -> SurrogateValue {
        let (n, d) = (self.len(), policy.distribution().dist_len());
        let mut d_dist = std::mem::take(&mut self.d_dist);
        d_dist.resize(d * n, 0.0);
        let value = self.value(policy, dist, |i, dist_i, weight| {
            let g = &mut d_dist[i * d..(i + 1) * d];
            policy
                .distribution()
                .log_prob_grad(dist_i, self.action(policy, i), g);
            g.iter_mut().for_each(|g| *g *= weight);
        });
        self.d_dist = d_dist;
        value
    }

    fn action(&self, policy: &Policy, i: usize) -> &[f64] {
        let a = policy.distribution().action_len();
        &self.actions[i * a..(i + 1) * a]
    }

    /// Sums the statistics over states; `each(i, dᵢ, rᵢ Aᵢ / N)` lets the
    /// gradient reuse the per-state ratio.
    fn value(
        &self,
        policy: &Policy,
        dist: &[f64],
        mut each: impl FnMut(usize, &[f64], f64),
    ) -> SurrogateValue {
        let family = policy.distribution();
        let (n, d) = (self.len(), family.dist_len());
        let (mut surrogate, mut kl, mut entropy) = (0.0, 0.0, 0.0);
        for (i, (dist_i, old_i)) in dist
            .chunks_exact(d)
            .zip(self.old_dist.chunks_exact(d))
            .enumerate()
        {
            let ratio =
                libm::exp(family.log_prob(dist_i, self.action(policy, i)) - self.old_log_prob[i]);
            let weighted = ratio * self.advantages[i] / n as f64;
            surrogate += weighted;
            kl += family.kl(old_i, dist_i);
            entropy += family.entropy(dist_i);
            each(i, dist_i, weighted);
        }
        let n = n as f64;
        SurrogateValue {
            surrogate,
            mean_kl: kl / n,
            mean_entropy: entropy / n,
        }
    }
}

#[cfg(test)]
mod tests {
    use trustbench_plugin::rng::Rng;

    use super::*;
    use crate::testutil::{
        batch, fd_gradient, normal_vec, perturbed, relative_error, small_policies,
    };

    #[test]
    fn gradient_matches_finite_differences_away_from_old() {
        for (name, policy) in small_policies() {
            let b = batch(&policy, 6, 41);
            let adv = normal_vec(&mut Rng::new(2), b.n, 1.0);
            let mut ws = PolicyWorkspace::new();
            let mut surrogate = b.surrogate(&policy, adv, &mut ws);
            let theta = perturbed(&b.params, 0.05, 7);
            let mut grad = vec![0.0; policy.param_len()];
            let value = surrogate.gradient(&policy, &theta, &mut ws, &mut grad);
            assert_eq!(
                value,
                surrogate.evaluate(&policy, &theta, &mut ws),
                "{name}"
            );
            assert!(value.mean_kl > 0.0, "{name}: θ differs from θ_old");
            let fd = fd_gradient(
                |p| {
                    surrogate
                        .evaluate(&policy, p, &mut PolicyWorkspace::new())
                        .surrogate
                },
                &theta,
                1e-6,
            );
            let err = relative_error(&grad, &fd);
            assert!(
                err < 1e-6,
                "{name}: ∇L vs finite differences, relative error {err:e}"
            );
        }
    }

    #[test]
    fn surrogate_at_old_params_is_the_mean_advantage() {
        let (_, policy) = &small_policies()[0];
        let b = batch(policy, 8, 42);
        let adv = normal_vec(&mut Rng::new(3), b.n, 1.0);
        let mut ws = PolicyWorkspace::new();
        let mean = adv.iter().sum::<f64>() / b.n as f64;
        let surrogate = b.surrogate(policy, adv, &mut ws);
        let value = surrogate.evaluate(policy, &b.params, &mut ws);
        assert!((value.surrogate - mean).abs() < 1e-15);
        assert_eq!(value.mean_kl, 0.0);
    }

    #[test]
    fn gradient_with_the_freezing_pass_equals_a_separate_gradient() {
        for (name, policy) in small_policies() {
            let b = batch(&policy, 7, 43);
            let adv = normal_vec(&mut Rng::new(4), b.n, 1.0);
            let mut ws = PolicyWorkspace::new();
            let mut separate = b.surrogate(&policy, adv.clone(), &mut ws);
            let mut expected = vec![0.0; policy.param_len()];
            let expected_value = separate.gradient(&policy, &b.params, &mut ws, &mut expected);
            let mut grad = vec![1.0; policy.param_len()];
            let (joint, value) = Surrogate::with_gradient(
                &policy,
                &b.params,
                b.obs.clone(),
                b.actions.clone(),
                adv,
                &mut PolicyWorkspace::new(),
                &mut grad,
            );
            assert_eq!(grad, expected, "{name}");
            assert_eq!(value, expected_value, "{name}");
            assert_eq!(joint.old_dist(), separate.old_dist(), "{name}");
            assert_eq!(joint.old_log_prob(), separate.old_log_prob(), "{name}");
        }
    }
}
