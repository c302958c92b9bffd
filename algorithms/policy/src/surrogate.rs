//! TRPO's surrogate objective and trust-region constraint over one batch.
//!
//! `L(θ) = (1/N) Σᵢ πθ(aᵢ|sᵢ) / π_old(aᵢ|sᵢ) · Aᵢ` (importance-sampled
//! advantage) and `KL̄(θ) = (1/N) Σᵢ KL(π_old(·|sᵢ) ‖ πθ(·|sᵢ))`, both
//! computed exactly (closed-form KL) for the line search. The objective
//! maximised is `L(θ) + c · H̄(θ)`, `H̄` the mean entropy of `πθ` over the
//! batch's states and `c` the entropy bonus (0: the paper's `L` alone); its
//! gradient at `θ_old` is the `g` that CG turns into the natural direction.

use crate::blocks::{grid, sum_blocks};
use crate::network::GRAD_BLOCK;
use crate::observations::ObservationBuffer;
use crate::policy::{Policy, PolicyWorkspace};

/// States per network pass: the policy's workspace holds one chunk's
/// activations, so memory does not grow with the batch (1,024 states of the
/// Atari network are 34 MB of `f32` activations). A multiple of
/// [`GRAD_BLOCK`], so the chunked gradient is the same bits as one pass.
pub const CHUNK: usize = 16 * GRAD_BLOCK;

/// The surrogate and the statistics the line search and reports need, at
/// one parameter vector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SurrogateValue {
    /// `L(θ)`.
    pub surrogate: f64,
    /// `L(θ) + c · H̄(θ)`: what the update maximises (`= L` when `c = 0`).
    pub objective: f64,
    /// Exact mean `KL(π_old ‖ πθ)` over the batch's states.
    pub mean_kl: f64,
    /// Mean entropy of `πθ` over the batch's states.
    pub mean_entropy: f64,
}

/// One batch of states, actions and advantages, with the old policy's
/// distribution parameters and log-probs frozen at construction. It owns the
/// batch so that an update can keep it from the gradient to the line search
/// without a second forward pass at `θ_old`. Every pass runs [`CHUNK`]
/// states at a time, and its sums run over states in order in `f64`, so the
/// values do not depend on the chunking.
#[derive(Clone, Debug)]
pub struct Surrogate {
    obs: ObservationBuffer,
    actions: Vec<f64>,
    advantages: Vec<f64>,
    old_dist: Vec<f64>,
    old_log_prob: Vec<f64>,
    /// `c` of the objective `L + c · H̄`.
    entropy_bonus: f64,
    d_dist: Vec<f64>,
}

/// Running sums over states, in state order.
#[derive(Default)]
struct Sums {
    surrogate: f64,
    kl: f64,
    entropy: f64,
}

impl Sums {
    /// Adds one state's terms.
    fn add(&mut self, t: &Terms) {
        self.surrogate += t.weighted;
        self.kl += t.kl;
        self.entropy += t.entropy;
    }

    /// The value of a batch of `n` states (`L` is already divided by `n`)
    /// with entropy bonus `c`.
    fn mean(&self, n: usize, c: f64) -> SurrogateValue {
        let mean_entropy = self.entropy / n as f64;
        SurrogateValue {
            surrogate: self.surrogate,
            objective: self.surrogate + c * mean_entropy,
            mean_kl: self.kl / n as f64,
            mean_entropy,
        }
    }
}

/// One state's terms: `rᵢ Aᵢ / N`, `KL(π_old ‖ πθ)` and the entropy of `πθ`.
#[derive(Clone, Copy, Default)]
struct Terms {
    weighted: f64,
    kl: f64,
    entropy: f64,
}

/// `π_old`'s rows for some states: read, or written by a freezing pass.
enum Old<'a> {
    Read(&'a [f64], &'a [f64]),
    Freeze(&'a mut [f64], &'a mut [f64]),
}

impl<'a> Old<'a> {
    /// Cut into the rows of consecutive blocks of `sizes` states (`d`
    /// distribution parameters each).
    fn split(self, sizes: impl Iterator<Item = usize>, d: usize) -> Vec<Old<'a>> {
        let mut rest = self;
        let mut out = Vec::new();
        for m in sizes {
            let (head, tail) = match rest {
                Old::Read(dist, lp) => {
                    let ((d0, d1), (l0, l1)) = (dist.split_at(m * d), lp.split_at(m));
                    (Old::Read(d0, l0), Old::Read(d1, l1))
                }
                Old::Freeze(dist, lp) => {
                    let ((d0, d1), (l0, l1)) = (dist.split_at_mut(m * d), lp.split_at_mut(m));
                    (Old::Freeze(d0, l0), Old::Freeze(d1, l1))
                }
            };
            out.push(head);
            rest = tail;
        }
        out
    }
}

/// One block's share of a parallel pass.
struct Block<'a> {
    first: usize,
    states: usize,
    old: Old<'a>,
    terms: &'a mut [Terms],
    /// `∂L/∂dᵢ` rows (empty when no gradient is asked for).
    d_dist: &'a mut [f64],
}

impl Surrogate {
    /// Freezes `π_old = π(params_old)` on the batch (one forward pass).
    /// `advantages.len()` is the number of states; `entropy_bonus` is the
    /// objective's `c`.
    pub fn new(
        policy: &Policy,
        params_old: &[f64],
        obs: impl Into<ObservationBuffer>,
        actions: Vec<f64>,
        advantages: Vec<f64>,
        entropy_bonus: f64,
        ws: &mut PolicyWorkspace,
    ) -> Surrogate {
        let batch = (obs.into(), actions, advantages, entropy_bonus);
        Surrogate::frozen(policy, params_old, batch, ws, None).0
    }

    /// [`Surrogate::new`] and `grad` = the objective's gradient at `θ_old`
    /// (overwritten) from the same forward pass: at `θ_old` the
    /// distribution is the frozen one, and the activations the VJP needs
    /// are still in `ws`. Returns the value at `θ_old` (`L` = mean
    /// advantage, `KL̄` = 0).
    #[allow(clippy::too_many_arguments)]
    pub fn with_gradient(
        policy: &Policy,
        params_old: &[f64],
        obs: impl Into<ObservationBuffer>,
        actions: Vec<f64>,
        advantages: Vec<f64>,
        entropy_bonus: f64,
        ws: &mut PolicyWorkspace,
        grad: &mut [f64],
    ) -> (Surrogate, SurrogateValue) {
        let batch = (obs.into(), actions, advantages, entropy_bonus);
        Surrogate::frozen(policy, params_old, batch, ws, Some(grad))
    }

    /// The batch (observations, actions, advantages, `c`) with `π_old`
    /// frozen at `params_old`, and the objective's gradient there if asked.
    fn frozen(
        policy: &Policy,
        params_old: &[f64],
        (obs, actions, advantages, entropy_bonus): (ObservationBuffer, Vec<f64>, Vec<f64>, f64),
        ws: &mut PolicyWorkspace,
        grad: Option<&mut [f64]>,
    ) -> (Surrogate, SurrogateValue) {
        let n = advantages.len();
        assert_eq!(obs.len(), policy.obs_len() * n, "observation length");
        let family = policy.distribution();
        assert_eq!(actions.len(), family.action_len() * n, "actions length");
        let mut surrogate = Surrogate {
            obs,
            actions,
            advantages,
            old_dist: vec![0.0; family.dist_len() * n],
            old_log_prob: vec![0.0; n],
            entropy_bonus,
            d_dist: Vec::new(),
        };
        let value = surrogate.pass(policy, params_old, ws, grad, true);
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

    /// `L`, the objective, `KL̄` and mean entropy at `params` (one forward
    /// pass).
    pub fn evaluate(
        &self,
        policy: &Policy,
        params: &[f64],
        ws: &mut PolicyWorkspace,
    ) -> SurrogateValue {
        if ws.threads() > 1 {
            let old = Old::Read(&self.old_dist, &self.old_log_prob);
            return self.pass_blocks(policy, params, ws, None, old);
        }
        let (n, o) = (self.len(), policy.obs_len());
        let mut sums = Sums::default();
        for s0 in (0..n).step_by(CHUNK) {
            let s1 = (s0 + CHUNK).min(n);
            let dist = policy.forward(params, self.obs.view().slice(s0 * o, s1 * o), s1 - s0, ws);
            self.add_terms(policy, dist, s0, &mut sums, |_, _, _| {});
        }
        sums.mean(n, self.entropy_bonus)
    }

    /// `grad` = the objective's gradient at `params` (overwritten) and the
    /// value there (one forward pass and one VJP).
    pub fn gradient(
        &mut self,
        policy: &Policy,
        params: &[f64],
        ws: &mut PolicyWorkspace,
        grad: &mut [f64],
    ) -> SurrogateValue {
        self.pass(policy, params, ws, Some(grad), false)
    }

    /// The value, and the objective's gradient when `grad` is given, in one
    /// pass over the batch, [`CHUNK`] states at a time: forward, the
    /// per-state terms and their cotangents ([`Surrogate::state_cotangent`]),
    /// pulled back by one VJP per chunk. With `freeze`, `π_old` is first frozen at
    /// `params` (chunk by chunk, just before its terms are computed).
    fn pass(
        &mut self,
        policy: &Policy,
        params: &[f64],
        ws: &mut PolicyWorkspace,
        mut grad: Option<&mut [f64]>,
        freeze: bool,
    ) -> SurrogateValue {
        if ws.threads() > 1 {
            return if freeze {
                let (mut dist, mut lp) = (
                    std::mem::take(&mut self.old_dist),
                    std::mem::take(&mut self.old_log_prob),
                );
                let value =
                    self.pass_blocks(policy, params, ws, grad, Old::Freeze(&mut dist, &mut lp));
                (self.old_dist, self.old_log_prob) = (dist, lp);
                value
            } else {
                let old = Old::Read(&self.old_dist, &self.old_log_prob);
                self.pass_blocks(policy, params, ws, grad, old)
            };
        }
        let family = policy.distribution();
        let (n, o, d, a) = (
            self.len(),
            policy.obs_len(),
            family.dist_len(),
            family.action_len(),
        );
        let mut d_dist = std::mem::take(&mut self.d_dist);
        d_dist.resize(d * CHUNK.min(n), 0.0);
        if let Some(grad) = grad.as_deref_mut() {
            assert_eq!(grad.len(), policy.param_len(), "gradient length");
            grad.fill(0.0);
        }
        let mut sums = Sums::default();
        for s0 in (0..n).step_by(CHUNK) {
            let s1 = (s0 + CHUNK).min(n);
            let obs = self.obs.view().slice(s0 * o, s1 * o);
            let dist = policy.forward(params, obs, s1 - s0, ws);
            if freeze {
                self.old_dist[s0 * d..s1 * d].copy_from_slice(dist);
                let actions = &self.actions[s0 * a..s1 * a];
                policy.log_prob(ws, actions, &mut self.old_log_prob[s0..s1]);
            }
            let dist = policy.dist(ws);
            let Some(grad) = grad.as_deref_mut() else {
                self.add_terms(policy, dist, s0, &mut sums, |_, _, _| {});
                continue;
            };
            self.add_terms(policy, dist, s0, &mut sums, |i, dist_i, weight| {
                let g = &mut d_dist[(i - s0) * d..(i - s0 + 1) * d];
                self.state_cotangent(policy, i, dist_i, weight, g);
            });
            policy.vjp_add(params, obs, ws, &d_dist[..d * (s1 - s0)], grad);
        }
        self.d_dist = d_dist;
        sums.mean(n, self.entropy_bonus)
    }

    /// Adds the terms of the states `first..` whose distributions are `dist`
    /// to `sums`; `each(i, dᵢ, rᵢ Aᵢ / N)` lets the gradient reuse the
    /// per-state ratio.
    fn add_terms(
        &self,
        policy: &Policy,
        dist: &[f64],
        first: usize,
        sums: &mut Sums,
        mut each: impl FnMut(usize, &[f64], f64),
    ) {
        let d = policy.distribution().dist_len();
        for (k, dist_i) in dist.chunks_exact(d).enumerate() {
            let i = first + k;
            let old_i = &self.old_dist[i * d..(i + 1) * d];
            let t = self.terms(policy, i, dist_i, old_i, self.old_log_prob[i]);
            sums.add(&t);
            each(i, dist_i, t.weighted);
        }
    }

    /// The terms of state `i` with distribution `dist_i`, against `π_old`'s
    /// `old_i` and `log π_old(aᵢ|sᵢ)`.
    fn terms(
        &self,
        policy: &Policy,
        i: usize,
        dist_i: &[f64],
        old_i: &[f64],
        old_lp: f64,
    ) -> Terms {
        let family = policy.distribution();
        let a = family.action_len();
        let action = &self.actions[i * a..(i + 1) * a];
        let ratio = libm::exp(family.log_prob(dist_i, action) - old_lp);
        Terms {
            weighted: ratio * self.advantages[i] / self.len() as f64,
            kl: family.kl(old_i, dist_i),
            entropy: family.entropy(dist_i),
        }
    }

    /// State `i`'s share of the objective's cotangent, into `g`
    /// (overwritten): `∂/∂dᵢ = rᵢ Aᵢ / N · ∇_d log π(aᵢ) + c / N · ∇_d H(dᵢ)`,
    /// `weight = rᵢ Aᵢ / N` (`rᵢ` the probability ratio, already computed
    /// for the state's terms).
    fn state_cotangent(
        &self,
        policy: &Policy,
        i: usize,
        dist_i: &[f64],
        weight: f64,
        g: &mut [f64],
    ) {
        let family = policy.distribution();
        let a = family.action_len();
        family.log_prob_grad(dist_i, &self.actions[i * a..(i + 1) * a], g);
        g.iter_mut().for_each(|g| *g *= weight);
        if self.entropy_bonus != 0.0 {
            family.add_entropy_grad(dist_i, self.entropy_bonus / self.len() as f64, g);
        }
    }

    /// [`Surrogate::pass`] (or [`Surrogate::evaluate`], without `grad`) on
    /// the workspace's threads, a block of [`GRAD_BLOCK`] states per job:
    /// each block's forward pass, per-state terms, `∂L/∂dᵢ` and network
    /// gradient are its own; the gradients are added in block order, and
    /// the per-state sums and the head's gradient (which the serial VJP
    /// adds state by state) run in state order afterwards. Same bits as the
    /// serial pass (see [`crate::blocks`]).
    fn pass_blocks(
        &self,
        policy: &Policy,
        params: &[f64],
        ws: &mut PolicyWorkspace,
        mut grad: Option<&mut [f64]>,
        old: Old<'_>,
    ) -> SurrogateValue {
        let family = policy.distribution();
        let (n, o, d, a) = (
            self.len(),
            policy.obs_len(),
            family.dist_len(),
            family.action_len(),
        );
        let net_len = policy.network().param_len();
        let mut terms = vec![Terms::default(); n];
        let mut d_dist = vec![0.0; if grad.is_some() { d * n } else { 0 }];
        if let Some(grad) = grad.as_deref_mut() {
            assert_eq!(grad.len(), policy.param_len(), "gradient length");
            grad.fill(0.0);
        }
        let grads = grad.is_some();
        let mut d_rows = d_dist.chunks_mut(d * GRAD_BLOCK);
        let mut term_rows = terms.chunks_mut(GRAD_BLOCK);
        let mut blocks: Vec<Block<'_>> = grid(n)
            .zip(old.split(grid(n).map(|(_, m)| m), d))
            .map(|((first, states), old)| Block {
                first,
                states,
                old,
                terms: term_rows.next().expect("a row per block"),
                d_dist: if grads {
                    d_rows.next().expect("a row per block")
                } else {
                    &mut []
                },
            })
            .collect();
        let job = |lane: &mut PolicyWorkspace, b: &mut Block<'_>, slot: &mut [f64]| {
            let obs = self.obs.view().slice(b.first * o, (b.first + b.states) * o);
            policy.forward(params, obs, b.states, lane);
            if let Old::Freeze(dist, lp) = &mut b.old {
                dist.copy_from_slice(policy.dist(lane));
                let actions = &self.actions[b.first * a..(b.first + b.states) * a];
                policy.log_prob(lane, actions, lp);
            }
            let (old_dist, old_lp): (&[f64], &[f64]) = match &b.old {
                Old::Read(dist, lp) => (dist, lp),
                Old::Freeze(dist, lp) => (dist, lp),
            };
            for (k, dist_i) in policy.dist(lane).chunks_exact(d).enumerate() {
                let i = b.first + k;
                let t = self.terms(policy, i, dist_i, &old_dist[k * d..(k + 1) * d], old_lp[k]);
                b.terms[k] = t;
                if grads {
                    let g = &mut b.d_dist[k * d..(k + 1) * d];
                    self.state_cotangent(policy, i, dist_i, t.weighted, g);
                }
            }
            if grads {
                policy.vjp(params, obs, lane, b.d_dist, slot);
            }
        };
        let (lanes, slots) = ws.lanes();
        let net = grad.as_deref_mut().map(|g| &mut g[..net_len]);
        sum_blocks(&mut blocks, lanes, slots, policy.param_len(), net, job);
        drop(blocks);
        let mut sums = Sums::default();
        terms.iter().for_each(|t| sums.add(t));
        if let Some(grad) = grad {
            let mut row = vec![0.0; family.net_outputs()];
            for dd in d_dist.chunks_exact(d) {
                family.split_cotangent(dd, &mut row, &mut grad[net_len..]);
            }
        }
        sums.mean(n, self.entropy_bonus)
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
        // c = 0: ∇L alone; c = 0.3: the entropy bonus's cotangent too, which
        // for a categorical head runs through the network.
        for c in [0.0, 0.3] {
            for (name, policy) in small_policies() {
                let b = batch(&policy, 6, 41);
                let adv = normal_vec(&mut Rng::new(2), b.n, 1.0);
                let mut ws = PolicyWorkspace::new();
                let mut surrogate = b.surrogate(&policy, adv, c, &mut ws);
                let theta = perturbed(&b.params, 0.05, 7);
                let mut grad = vec![0.0; policy.param_len()];
                let value = surrogate.gradient(&policy, &theta, &mut ws, &mut grad);
                assert_eq!(
                    value,
                    surrogate.evaluate(&policy, &theta, &mut ws),
                    "{name}"
                );
                assert!(value.mean_kl > 0.0, "{name}: θ differs from θ_old");
                assert_eq!(value.objective, value.surrogate + c * value.mean_entropy);
                let fd = fd_gradient(
                    |p| {
                        surrogate
                            .evaluate(&policy, p, &mut PolicyWorkspace::new())
                            .objective
                    },
                    &theta,
                    1e-6,
                );
                let err = relative_error(&grad, &fd);
                assert!(
                    err < 1e-6,
                    "{name}, c = {c}: gradient vs finite differences, relative error {err:e}"
                );
            }
        }
    }

    #[test]
    fn surrogate_at_old_params_is_the_mean_advantage() {
        let (_, policy) = &small_policies()[0];
        let b = batch(policy, 8, 42);
        let adv = normal_vec(&mut Rng::new(3), b.n, 1.0);
        let mut ws = PolicyWorkspace::new();
        let mean = adv.iter().sum::<f64>() / b.n as f64;
        let surrogate = b.surrogate(policy, adv, 0.0, &mut ws);
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
            let mut separate = b.surrogate(&policy, adv.clone(), 0.2, &mut ws);
            let mut expected = vec![0.0; policy.param_len()];
            let expected_value = separate.gradient(&policy, &b.params, &mut ws, &mut expected);
            let mut grad = vec![1.0; policy.param_len()];
            let (joint, value) = Surrogate::with_gradient(
                &policy,
                &b.params,
                b.obs.clone(),
                b.actions.clone(),
                adv,
                0.2,
                &mut PolicyWorkspace::new(),
                &mut grad,
            );
            assert_eq!(grad, expected, "{name}");
            assert_eq!(value, expected_value, "{name}");
            assert_eq!(joint.old_dist(), separate.old_dist(), "{name}");
            assert_eq!(joint.old_log_prob(), separate.old_log_prob(), "{name}");
        }
    }

    #[test]
    fn chunked_passes_equal_one_pass_over_the_whole_batch() {
        // More states than one chunk: the chunked gradient is the same bits
        // as one forward and one VJP over the whole batch.
        let (_, conv) = &small_policies()[4];
        for precision in [crate::Precision::F32, crate::Precision::F64] {
            let policy = conv.clone().with_precision(precision);
            let b = batch(&policy, CHUNK + 150, 44);
            let adv = normal_vec(&mut Rng::new(5), b.n, 1.0);
            let mut ws = PolicyWorkspace::new();
            let mut grad = vec![0.0; policy.param_len()];
            let (mut surrogate, _) = Surrogate::with_gradient(
                &policy,
                &b.params,
                b.obs.clone(),
                b.actions.clone(),
                adv.clone(),
                0.0,
                &mut ws,
                &mut grad,
            );
            let theta = perturbed(&b.params, 0.05, 8);
            let value = surrogate.gradient(&policy, &theta, &mut ws, &mut grad);
            let mut whole = PolicyWorkspace::new();
            let dist = policy.forward(&theta, &b.obs, b.n, &mut whole).to_vec();
            let family = policy.distribution();
            let (d, a) = (family.dist_len(), family.action_len());
            let mut d_dist = vec![0.0; d * b.n];
            let mut kl = 0.0;
            for i in 0..b.n {
                let dist_i = &dist[i * d..(i + 1) * d];
                let action = &b.actions[i * a..(i + 1) * a];
                let log_ratio = family.log_prob(dist_i, action) - surrogate.old_log_prob()[i];
                let weight = libm::exp(log_ratio) * adv[i] / b.n as f64;
                let g = &mut d_dist[i * d..(i + 1) * d];
                family.log_prob_grad(dist_i, action, g);
                g.iter_mut().for_each(|g| *g *= weight);
                kl += family.kl(&surrogate.old_dist()[i * d..(i + 1) * d], dist_i);
            }
            let mut expected = vec![0.0; policy.param_len()];
            policy.vjp(&theta, &b.obs, &mut whole, &d_dist, &mut expected);
            assert_eq!(grad, expected, "{precision:?}");
            assert_eq!(value.mean_kl, kl / b.n as f64, "{precision:?}");
            assert_eq!(value, surrogate.evaluate(&policy, &theta, &mut ws));
        }
    }
}
