//! Action distributions and their closed-form quantities, one state at a
//! time, in the distribution's own parameters.
//!
//! Per-state parameters (`dist`, length [`ActionDistribution::dist_len`]):
//! - diagonal Gaussian: `[μ₁…μ_d, log σ₁…log σ_d]`. The mean comes from the
//!   network, the log-std from a state-independent parameter vector (the
//!   "head" parameters), repeated in every state's row so that every formula
//!   below — and the Fisher `M` — reads one row.
//! - categorical: the logits `[ℓ₁…ℓ_K]`, `p = softmax(ℓ)`.
//!
//! Actions are `f64` rows of [`ActionDistribution::action_len`]: the Gaussian
//! sample itself, or the categorical index stored as an `f64` (exact).
//!
//! `exp` and `log` are the pure-Rust `libm` port (as is the network's
//! `tanh`): the same bits on every platform, and no slowdown after faer's
//! AVX kernels (see [`crate::Activation`]).

use libm::{exp, log};
use trustbench_plugin::rng::Rng;

/// `½ ln(2π)`.
const HALF_LN_TAU: f64 = 0.918_938_533_204_672_8;

/// An action distribution family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionDistribution {
    /// Diagonal Gaussian over `dim` continuous actions, state-independent
    /// log-std.
    DiagGaussian {
        /// Action dimension.
        dim: usize,
    },
    /// Categorical over `actions` discrete actions, parameterised by logits.
    Categorical {
        /// Number of actions.
        actions: usize,
    },
}

impl ActionDistribution {
    /// Network outputs the distribution reads per state (means or logits).
    pub fn net_outputs(&self) -> usize {
        match *self {
            ActionDistribution::DiagGaussian { dim } => dim,
            ActionDistribution::Categorical { actions } => actions,
        }
    }

    /// Parameters of the head itself, stored after the network's in the flat
    /// vector: the log-stds for a Gaussian, none for a categorical.
    pub fn head_len(&self) -> usize {
        match *self {
            ActionDistribution::DiagGaussian { dim } => dim,
            ActionDistribution::Categorical { .. } => 0,
        }
    }

    /// Distribution parameters per state (`2·dim` or `actions`).
    pub fn dist_len(&self) -> usize {
        self.net_outputs() + self.head_len()
    }

    /// Values per action (`dim`, or 1 for the categorical index).
    pub fn action_len(&self) -> usize {
        match *self {
            ActionDistribution::DiagGaussian { dim } => dim,
            ActionDistribution::Categorical { .. } => 1,
        }
    }

    /// One state's distribution parameters from its network outputs and the
    /// head parameters: `[outputs, head]`.
    pub fn dist_params(&self, net_out: &[f64], head: &[f64], dist: &mut [f64]) {
        let (out, rest) = dist.split_at_mut(net_out.len());
        out.copy_from_slice(net_out);
        rest.copy_from_slice(head);
    }

    /// Reverse mode through [`ActionDistribution::dist_params`]: splits a
    /// state's cotangent `d_dist` into the network-output part and adds the
    /// head part to `d_head` — the log-std is shared by every state, so its
    /// gradient is the sum over states.
    pub fn split_cotangent(&self, d_dist: &[f64], d_net_out: &mut [f64], d_head: &mut [f64]) {
        let (out, head) = d_dist.split_at(d_net_out.len());
        d_net_out.copy_from_slice(out);
        for (g, d) in d_head.iter_mut().zip(head) {
            *g += d;
        }
    }

    /// `log π(a)`. Gaussian: `Σₖ −½ zₖ² − log σₖ − ½ ln 2π` with
    /// `z = (a − μ)/σ`; categorical: `ℓₐ − log Σⱼ exp ℓⱼ`.
    pub fn log_prob(&self, dist: &[f64], action: &[f64]) -> f64 {
        match *self {
            ActionDistribution::DiagGaussian { dim } => {
                let (mean, log_std) = dist.split_at(dim);
                (0..dim)
                    .map(|k| {
                        let z = (action[k] - mean[k]) * exp(-log_std[k]);
                        -0.5 * z * z - log_std[k] - HALF_LN_TAU
                    })
                    .sum()
            }
            ActionDistribution::Categorical { actions } => {
                dist[index(action, actions)] - log_normalizer(dist)
            }
        }
    }

    /// `∂ log π(a) / ∂dist` into `grad` (overwritten). Gaussian:
    /// `∂/∂μₖ = zₖ/σₖ`, `∂/∂log σₖ = zₖ² − 1`; categorical: `eₐ − p`.
    pub fn log_prob_grad(&self, dist: &[f64], action: &[f64], grad: &mut [f64]) {
        match *self {
            ActionDistribution::DiagGaussian { dim } => {
                let (mean, log_std) = dist.split_at(dim);
                for k in 0..dim {
                    let inv_std = exp(-log_std[k]);
                    let z = (action[k] - mean[k]) * inv_std;
                    grad[k] = z * inv_std;
                    grad[dim + k] = z * z - 1.0;
                }
            }
            ActionDistribution::Categorical { actions } => {
                let lse = log_normalizer(dist);
                for (g, l) in grad.iter_mut().zip(dist) {
                    *g = -exp(l - lse);
                }
                grad[index(action, actions)] += 1.0;
            }
        }
    }

    /// Entropy. Gaussian: `Σₖ log σₖ + ½ ln(2πe)`; categorical:
    /// `log Σ exp ℓ − Σⱼ pⱼ ℓⱼ`.
    pub fn entropy(&self, dist: &[f64]) -> f64 {
        match *self {
            ActionDistribution::DiagGaussian { dim } => {
                dist[dim..].iter().map(|ls| ls + HALF_LN_TAU + 0.5).sum()
            }
            ActionDistribution::Categorical { .. } => {
                categorical_entropy(dist, log_normalizer(dist))
            }
        }
    }

    /// Adds `scale · ∂H/∂dist` to `grad`: the entropy bonus's share of a
    /// state's cotangent. Gaussian: `∂H/∂μₖ = 0`, `∂H/∂log σₖ = 1`;
    /// categorical: `∂H/∂ℓₖ = −pₖ (log pₖ + H)` (from `H = −Σⱼ pⱼ log pⱼ`
    /// and `∂pⱼ/∂ℓₖ = pⱼ (δⱼₖ − pₖ)`).
    pub fn add_entropy_grad(&self, dist: &[f64], scale: f64, grad: &mut [f64]) {
        match *self {
            ActionDistribution::DiagGaussian { dim } => {
                grad[dim..].iter_mut().for_each(|g| *g += scale);
            }
            ActionDistribution::Categorical { .. } => {
                let lse = log_normalizer(dist);
                let entropy = categorical_entropy(dist, lse);
                for (g, l) in grad.iter_mut().zip(dist) {
                    let log_p = l - lse;
                    *g -= scale * exp(log_p) * (log_p + entropy);
                }
            }
        }
    }

    /// `KL(old ‖ new)` in closed form. Gaussian:
    /// `Σₖ log σₙ − log σₒ + (σₒ² + (μₒ − μₙ)²) / (2σₙ²) − ½`;
    /// categorical: `Σⱼ pₒⱼ (log pₒⱼ − log pₙⱼ)`.
    pub fn kl(&self, old: &[f64], new: &[f64]) -> f64 {
        match *self {
            ActionDistribution::DiagGaussian { dim } => (0..dim)
                .map(|k| {
                    let (lso, lsn) = (old[dim + k], new[dim + k]);
                    let dm = old[k] - new[k];
                    let ratio = exp(2.0 * (lso - lsn)); // σₒ²/σₙ²
                    lsn - lso + 0.5 * (ratio + dm * dm * exp(-2.0 * lsn)) - 0.5
                })
                .sum(),
            ActionDistribution::Categorical { .. } => {
                let (lse_o, lse_n) = (log_normalizer(old), log_normalizer(new));
                old.iter()
                    .zip(new)
                    .map(|(lo, ln)| {
                        let log_po = lo - lse_o;
                        exp(log_po) * (log_po - (ln - lse_n))
                    })
                    .sum()
            }
        }
    }

    /// `∂ KL(old ‖ new) / ∂new` into `grad` (overwritten). Gaussian:
    /// `∂/∂μₙ = (μₙ − μₒ)/σₙ²`, `∂/∂log σₙ = 1 − (σₒ² + (μₒ − μₙ)²)/σₙ²`;
    /// categorical: `pₙ − pₒ`. Zero at `new = old`.
    pub fn kl_grad(&self, old: &[f64], new: &[f64], grad: &mut [f64]) {
        match *self {
            ActionDistribution::DiagGaussian { dim } => {
                for k in 0..dim {
                    let (lso, lsn) = (old[dim + k], new[dim + k]);
                    let inv_var = exp(-2.0 * lsn);
                    let dm = new[k] - old[k];
                    grad[k] = dm * inv_var;
                    // σₒ²/σₙ² as one exp, so the gradient is exactly 0 at new = old.
                    grad[dim + k] = 1.0 - exp(2.0 * (lso - lsn)) - dm * dm * inv_var;
                }
            }
            ActionDistribution::Categorical { .. } => {
                let (lse_o, lse_n) = (log_normalizer(old), log_normalizer(new));
                for ((g, lo), ln) in grad.iter_mut().zip(old).zip(new) {
                    *g = exp(ln - lse_n) - exp(lo - lse_o);
                }
            }
        }
    }

    /// `u ← M u`, with `M` the Fisher information of the distribution in its
    /// own parameters — the Hessian of `KL(dist ‖ ·)` at `dist`. Gaussian in
    /// `(μ, log σ)`: `diag(1/σ², 2)`; categorical in the logits:
    /// `diag(p) − p pᵀ`.
    pub fn fisher_in_place(&self, dist: &[f64], u: &mut [f64]) {
        match *self {
            ActionDistribution::DiagGaussian { dim } => {
                for k in 0..dim {
                    u[k] *= exp(-2.0 * dist[dim + k]);
                    u[dim + k] *= 2.0;
                }
            }
            ActionDistribution::Categorical { .. } => {
                let lse = log_normalizer(dist);
                let pu: f64 = dist
                    .iter()
                    .zip(u.iter())
                    .map(|(l, u)| exp(l - lse) * u)
                    .sum();
                for (u, l) in u.iter_mut().zip(dist) {
                    *u = exp(l - lse) * (*u - pu);
                }
            }
        }
    }

    /// Draws an action into `action`. Gaussian: `μ + σ ε`, `ε ~ N(0, I)`;
    /// categorical: inverse CDF of one uniform.
    pub fn sample(&self, dist: &[f64], rng: &mut Rng, action: &mut [f64]) {
        match *self {
            ActionDistribution::DiagGaussian { dim } => {
                for k in 0..dim {
                    action[k] = dist[k] + exp(dist[dim + k]) * rng.normal();
                }
            }
            ActionDistribution::Categorical { actions } => {
                let lse = log_normalizer(dist);
                let u = rng.uniform();
                let mut cumulative = 0.0;
                // Rounding can leave the total a hair below 1; then the last
                // action takes the remainder.
                let mut chosen = actions - 1;
                for (j, l) in dist.iter().enumerate() {
                    cumulative += exp(l - lse);
                    if u < cumulative {
                        chosen = j;
                        break;
                    }
                }
                action[0] = chosen as f64;
            }
        }
    }

    /// The deterministic action: the mean, or the first most likely index.
    pub fn mode(&self, dist: &[f64], action: &mut [f64]) {
        match *self {
            ActionDistribution::DiagGaussian { dim } => action.copy_from_slice(&dist[..dim]),
            ActionDistribution::Categorical { .. } => {
                let best = dist
                    .iter()
                    .enumerate()
                    .fold(0, |best, (j, l)| if *l > dist[best] { j } else { best });
                action[0] = best as f64;
            }
        }
    }
}

/// `log Σⱼ exp ℓⱼ`, shifted by the maximum so it never overflows.
/// `log Σ exp ℓ − Σⱼ pⱼ ℓⱼ` given `lse = log Σ exp ℓ`, so a caller that
/// needs `lse` too computes it once.
fn categorical_entropy(logits: &[f64], lse: f64) -> f64 {
    lse - logits.iter().map(|l| exp(l - lse) * l).sum::<f64>()
}

fn log_normalizer(logits: &[f64]) -> f64 {
    let max = logits.iter().fold(f64::NEG_INFINITY, |m, l| m.max(*l));
    max + log(logits.iter().map(|l| exp(l - max)).sum::<f64>())
}

/// A categorical action stored as `f64`, checked to be an index below `n`.
fn index(action: &[f64], n: usize) -> usize {
    let a = action[0];
    assert!(
        a >= 0.0 && a.fract() == 0.0 && (a as usize) < n,
        "categorical action {a} is not an index below {n}"
    );
    a as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{fd_gradient, normal_vec, relative_error};

    fn families() -> [ActionDistribution; 2] {
        [
            ActionDistribution::DiagGaussian { dim: 3 },
            ActionDistribution::Categorical { actions: 4 },
        ]
    }

    fn random_dist(family: ActionDistribution, rng: &mut Rng) -> Vec<f64> {
        normal_vec(rng, family.dist_len(), 0.7)
    }

    #[test]
    fn log_prob_kl_and_entropy_gradients_match_finite_differences() {
        for family in families() {
            let mut rng = Rng::new(1);
            let (old, new) = (random_dist(family, &mut rng), random_dist(family, &mut rng));
            let mut action = vec![0.0; family.action_len()];
            family.sample(&new, &mut rng, &mut action);
            let mut grad = vec![0.0; family.dist_len()];
            family.log_prob_grad(&new, &action, &mut grad);
            let fd = fd_gradient(|d| family.log_prob(d, &action), &new, 1e-6);
            assert!(
                relative_error(&grad, &fd) < 1e-8,
                "{family:?}: log-prob gradient"
            );
            family.kl_grad(&old, &new, &mut grad);
            let fd = fd_gradient(|d| family.kl(&old, d), &new, 1e-6);
            assert!(relative_error(&grad, &fd) < 1e-8, "{family:?}: KL gradient");
            // Added to what is there: from −1 everywhere, scaled by 3.
            grad.fill(-1.0);
            family.add_entropy_grad(&new, 3.0, &mut grad);
            let fd: Vec<f64> = fd_gradient(|d| family.entropy(d), &new, 1e-6)
                .iter()
                .map(|g| 3.0 * g - 1.0)
                .collect();
            assert!(
                relative_error(&grad, &fd) < 1e-8,
                "{family:?}: entropy gradient"
            );
        }
    }

    #[test]
    fn kl_is_zero_at_equal_parameters_and_positive_elsewhere() {
        for family in families() {
            let mut rng = Rng::new(2);
            let (a, b) = (random_dist(family, &mut rng), random_dist(family, &mut rng));
            assert!(family.kl(&a, &a).abs() < 1e-15, "{family:?}: KL(p‖p)");
            let mut grad = vec![1.0; family.dist_len()];
            family.kl_grad(&a, &a, &mut grad);
            assert!(
                grad.iter().all(|g| g.abs() < 1e-15),
                "{family:?}: ∇KL at p = old: {grad:?}"
            );
            assert!(family.kl(&a, &b) > 0.0 && family.kl(&b, &a) > 0.0);
        }
    }

    #[test]
    fn fisher_is_the_hessian_of_kl_at_equal_parameters() {
        for family in families() {
            let old = random_dist(family, &mut Rng::new(3));
            let d = family.dist_len();
            for j in 0..d {
                let mut column = vec![0.0; d];
                column[j] = 1.0;
                family.fisher_in_place(&old, &mut column);
                let h = 1e-5;
                let (mut up, mut down) = (old.clone(), old.clone());
                up[j] += h;
                down[j] -= h;
                let (mut g_up, mut g_down) = (vec![0.0; d], vec![0.0; d]);
                family.kl_grad(&old, &up, &mut g_up);
                family.kl_grad(&old, &down, &mut g_down);
                let fd: Vec<f64> = g_up
                    .iter()
                    .zip(&g_down)
                    .map(|(u, d)| (u - d) / (2.0 * h))
                    .collect();
                let err = relative_error(&column, &fd);
                assert!(err < 1e-8, "{family:?}: Fisher column {j} off by {err:e}");
            }
        }
    }

    #[test]
    fn entropy_matches_monte_carlo_and_samples_follow_the_distribution() {
        for family in families() {
            let mut rng = Rng::new(4);
            let dist = random_dist(family, &mut rng);
            let n = 40_000;
            let mut action = vec![0.0; family.action_len()];
            let mut neg_log_prob = 0.0;
            let mut counts = [0usize; 4];
            let mut first_moment = 0.0;
            for _ in 0..n {
                family.sample(&dist, &mut rng, &mut action);
                neg_log_prob -= family.log_prob(&dist, &action);
                if let ActionDistribution::Categorical { .. } = family {
                    counts[action[0] as usize] += 1;
                }
                first_moment += action[0];
            }
            let entropy = family.entropy(&dist);
            assert!(
                (neg_log_prob / n as f64 - entropy).abs() < 0.02,
                "{family:?}: entropy {entropy}"
            );
            match family {
                ActionDistribution::DiagGaussian { .. } => {
                    let std = dist[3].exp();
                    assert!(
                        (first_moment / n as f64 - dist[0]).abs() < 4.0 * std / (n as f64).sqrt()
                    );
                }
                ActionDistribution::Categorical { .. } => {
                    let lse = log_normalizer(&dist);
                    for (j, c) in counts.iter().enumerate() {
                        let p = (dist[j] - lse).exp();
                        assert!(
                            (*c as f64 / n as f64 - p).abs() < 0.01,
                            "action {j}: {c} vs p = {p}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn mode_is_the_mean_or_the_argmax() {
        let gaussian = ActionDistribution::DiagGaussian { dim: 2 };
        let mut action = [0.0; 2];
        gaussian.mode(&[0.5, -1.0, 0.0, 3.0], &mut action);
        assert_eq!(action, [0.5, -1.0]);
        let categorical = ActionDistribution::Categorical { actions: 4 };
        let mut index = [0.0];
        categorical.mode(&[0.1, 2.0, -1.0, 2.0], &mut index);
        assert_eq!(index, [1.0], "first of the tied maxima");
    }

    #[test]
    fn gaussian_log_prob_matches_the_density() {
        let family = ActionDistribution::DiagGaussian { dim: 1 };
        let (mean, std, a) = (0.3f64, 2.0f64, -0.4f64);
        let density =
            (-0.5 * ((a - mean) / std).powi(2)).exp() / (std * std::f64::consts::TAU.sqrt());
        assert!((family.log_prob(&[mean, std.ln()], &[a]) - density.ln()).abs() < 1e-14);
    }

    #[test]
    #[should_panic(expected = "not an index below 3")]
    fn categorical_rejects_out_of_range_actions() {
        ActionDistribution::Categorical { actions: 3 }.log_prob(&[0.0, 0.0, 0.0], &[3.0]);
    }
}
