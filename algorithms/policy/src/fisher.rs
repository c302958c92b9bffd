//! The analytic Fisher-vector product of TRPO (paper, Appendix C):
//!
//! `F v = (1/N) Σᵢ Jᵢᵀ Mᵢ Jᵢ v (+ λ v)`
//!
//! with `Jᵢ = ∂dᵢ/∂θ` the Jacobian of state `i`'s distribution parameters and
//! `Mᵢ` the Fisher of the distribution in those parameters
//! ([`crate::ActionDistribution::fisher_in_place`]). This is exactly the
//! Hessian of the mean `KL(π_old ‖ πθ)` at `θ = θ_old` (the KL's first
//! derivative vanishes there, so the network's curvature drops out), and it
//! is PSD by construction — unlike the Hessian of the surrogate.
//!
//! Cost: one JVP (`Jv`), a per-state `M`, one VJP (`Jᵀ·`). The forward pass
//! at `θ_old` is done once by [`FisherVectorProduct::prepare`] and its
//! activations are reused by every product — CG calls it ten times per
//! iteration with the same `θ_old`.

use trustbench_plugin::rng::Rng;

use crate::blocks::{grid, sum_blocks};
use crate::observations::{ObservationBuffer, Observations};
use crate::policy::{Policy, PolicyWorkspace};
use crate::surrogate::CHUNK;
use crate::vector::{axpy, grow};
use trustbench_plugin::parallel::split;

/// A seeded subset of `⌈fraction · n⌉` distinct indices of `0..n` (at least
/// one), sorted: the paper computes Fisher-vector products on 10% of the
/// batch. Partial Fisher–Yates, so the subset is uniform and depends only on
/// the RNG state.
pub fn subsample(n: usize, fraction: f64, rng: &mut Rng) -> Vec<usize> {
    assert!(
        fraction > 0.0 && fraction <= 1.0,
        "subsample fraction {fraction} not in (0, 1]"
    );
    assert!(n > 0, "cannot subsample an empty batch");
    let k = ((fraction * n as f64).ceil() as usize).clamp(1, n);
    let mut indices: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = i + rng.below((n - i) as u64) as usize;
        indices.swap(i, j);
    }
    indices.truncate(k);
    indices.sort_unstable();
    indices
}

/// `v ↦ F v + λ v` at a fixed `θ_old` on a fixed set of states.
///
/// Memory: the states are kept as they came (bytes stay bytes), and the
/// network runs [`CHUNK`] states at a time. A set of at most one chunk keeps
/// its forward pass from [`FisherVectorProduct::prepare`] for every product;
/// a larger one recomputes each chunk's forward pass per product (one more
/// forward per JVP + VJP), so memory does not grow with the batch — on
/// threads too, where each thread recomputes its block's forward pass in
/// its own workspace (keeping every block's pass held the paper's 10,000
/// Fisher states' conv activations: 3.7 GB peak at a 100k batch). The
/// products' sums run over [`crate::GRAD_BLOCK`]-state blocks in order
/// either way, so the result is the same bits for any chunking.
#[derive(Clone, Debug)]
pub struct FisherVectorProduct {
    policy: Policy,
    damping: f64,
    params: Vec<f64>,
    obs: ObservationBuffer,
    n: usize,
    ws: PolicyWorkspace,
    tangent: Vec<f64>,
    /// With more than one thread and at most [`CHUNK`] states: each
    /// block's own forward pass (empty for larger sets).
    blocks: Vec<PolicyWorkspace>,
    /// One workspace per thread: where a block's forward pass is
    /// recomputed when `blocks` is empty.
    workers: Vec<PolicyWorkspace>,
    /// The block slots of `crate::blocks`.
    slots: Vec<f64>,
}

impl FisherVectorProduct {
    /// A product for `policy` with damping `λ ≥ 0`; call
    /// [`FisherVectorProduct::prepare`] before [`FisherVectorProduct::apply`].
    pub fn new(policy: &Policy, damping: f64) -> FisherVectorProduct {
        assert!(
            damping >= 0.0 && damping.is_finite(),
            "damping {damping} must be finite and ≥ 0"
        );
        FisherVectorProduct {
            policy: policy.clone(),
            damping,
            params: Vec::new(),
            obs: ObservationBuffer::default(),
            n: 0,
            ws: PolicyWorkspace::new(),
            tangent: Vec::new(),
            blocks: Vec::new(),
            workers: vec![PolicyWorkspace::new()],
            slots: Vec::new(),
        }
    }

    /// The same product computed on up to `threads` threads, a block of
    /// states per job (see [`crate::blocks`]): the same bits for any count.
    pub fn with_threads(self, threads: usize) -> FisherVectorProduct {
        FisherVectorProduct {
            workers: (0..threads.max(1))
                .map(|_| PolicyWorkspace::new())
                .collect(),
            ..self
        }
    }

    /// Fixes `θ_old = params` and the states: all `n` rows of `obs`, or only
    /// those listed in `subset` (see [`subsample`]), copied in their own
    /// kind (bytes or reals).
    pub fn prepare<'o>(
        &mut self,
        params: &[f64],
        obs: impl Into<Observations<'o>>,
        n: usize,
        subset: Option<&[usize]>,
    ) {
        self.prepare_obs(params, obs.into(), n, subset);
    }

    /// [`FisherVectorProduct::prepare`], compiled here (see [`Observations`] on why).
    fn prepare_obs(
        &mut self,
        params: &[f64],
        obs: Observations<'_>,
        n: usize,
        subset: Option<&[usize]>,
    ) {
        let d = self.policy.obs_len();
        assert_eq!(obs.len(), d * n, "observation length");
        self.params.clear();
        self.params.extend_from_slice(params);
        self.obs = ObservationBuffer::new(matches!(obs, Observations::Bytes(_)));
        match subset {
            Some(rows) => {
                for &i in rows {
                    self.obs.extend(obs.slice(i * d, (i + 1) * d));
                }
            }
            None => self.obs.extend(obs),
        }
        self.n = self.obs.len() / d;
        assert!(self.n > 0, "Fisher-vector product over no states");
        self.blocks.clear();
        if self.workers.len() > 1 && self.n <= CHUNK {
            // Each block keeps its own forward pass for `apply_blocks`.
            let grid: Vec<_> = grid(self.n).collect();
            let Self {
                policy,
                params,
                obs,
                blocks,
                workers,
                ..
            } = self;
            blocks.resize_with(grid.len(), PolicyWorkspace::new);
            split(blocks, &mut workers[..], |_, b, ws| {
                let (first, m) = grid[b];
                policy.forward(params, obs.view().slice(first * d, (first + m) * d), m, ws);
            });
        } else if self.workers.len() == 1 && self.n <= CHUNK {
            self.policy
                .forward(&self.params, self.obs.view(), self.n, &mut self.ws);
        }
        grow(
            &mut self.tangent,
            // The threaded path keeps every state's tangent (its blocks'
            // passes are all kept); the serial one a chunk's.
            self.policy.distribution().dist_len()
                * if self.workers.len() > 1 {
                    self.n
                } else {
                    self.n.min(CHUNK)
                },
        );
    }

    /// Number of states the product averages over.
    pub fn states(&self) -> usize {
        self.n
    }

    /// The damping `λ`.
    pub fn damping(&self) -> f64 {
        self.damping
    }

    /// Dimension of the parameter space.
    pub fn dim(&self) -> usize {
        self.policy.param_len()
    }

    /// `out = F v + λ v`.
    pub fn apply(&mut self, v: &[f64], out: &mut [f64]) {
        let n = self.n;
        assert!(n > 0, "FisherVectorProduct::apply before prepare");
        let family = self.policy.distribution();
        if self.workers.len() > 1 {
            return self.apply_blocks(v, out);
        }
        let (d, o) = (family.dist_len(), self.policy.obs_len());
        let scale = 1.0 / n as f64;
        out.fill(0.0);
        for s0 in (0..n).step_by(CHUNK) {
            let s1 = (s0 + CHUNK).min(n);
            let obs = self.obs.view().slice(s0 * o, s1 * o);
            if n > CHUNK {
                self.policy
                    .forward(&self.params, obs, s1 - s0, &mut self.ws);
            }
            let tangent = &mut self.tangent[..d * (s1 - s0)];
            self.policy.jvp(&self.params, obs, &mut self.ws, v, tangent);
            let dist = self.policy.dist(&self.ws);
            for (u, dist) in tangent.chunks_exact_mut(d).zip(dist.chunks_exact(d)) {
                family.fisher_in_place(dist, u);
                u.iter_mut().for_each(|u| *u *= scale);
            }
            self.policy
                .vjp_add(&self.params, obs, &mut self.ws, tangent, out);
        }
        if self.damping != 0.0 {
            axpy(self.damping, v, out);
        }
    }

    /// [`FisherVectorProduct::apply`] block by block on the threads: each
    /// block's `Jᵀ M J v` into its own slot, added in block order, then the
    /// head's part state by state, as the serial VJP adds them.
    fn apply_blocks(&mut self, v: &[f64], out: &mut [f64]) {
        let Self {
            policy,
            damping,
            params,
            obs,
            n,
            tangent,
            blocks,
            workers,
            slots,
            ..
        } = self;
        let family = policy.distribution();
        let (n, d, o) = (*n, family.dist_len(), policy.obs_len());
        let net_len = policy.network().param_len();
        let scale = 1.0 / n as f64;
        let tangent = &mut tangent[..d * n];
        let mut rows = tangent.chunks_mut(d * crate::GRAD_BLOCK);
        let mut kept = blocks.iter_mut();
        let mut jobs: Vec<_> = grid(n)
            .map(|(first, m)| (first, m, kept.next(), rows.next().expect("a row per block")))
            .collect();
        out.fill(0.0);
        sum_blocks(
            &mut jobs,
            workers,
            slots,
            policy.param_len(),
            Some(&mut out[..net_len]),
            |lane, (first, m, kept, tangent), slot| {
                let obs = obs.view().slice(*first * o, (*first + *m) * o);
                let ws = match kept {
                    Some(ws) => &mut **ws,
                    None => {
                        policy.forward(params, obs, *m, lane);
                        lane
                    }
                };
                policy.jvp(params, obs, ws, v, tangent);
                for (u, dist) in tangent
                    .chunks_exact_mut(d)
                    .zip(policy.dist(ws).chunks_exact(d))
                {
                    family.fisher_in_place(dist, u);
                    u.iter_mut().for_each(|u| *u *= scale);
                }
                policy.vjp(params, obs, ws, tangent, slot);
            },
        );
        drop(jobs);
        let mut row = vec![0.0; family.net_outputs()];
        for u in tangent.chunks_exact(d) {
            family.split_cotangent(u, &mut row, &mut out[net_len..]);
        }
        if *damping != 0.0 {
            axpy(*damping, v, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use faer::Side;

    use super::*;
    use crate::exact::{SquareMatrix, dense_fisher_from_jacobians, dense_operator};
    use crate::testutil::{batch, normal_vec, relative_error, small_policies};

    /// `∇θ (1/N) Σᵢ KL(oldᵢ ‖ πθ(·|sᵢ))`, by one VJP.
    fn mean_kl_gradient(policy: &Policy, params: &[f64], obs: &[f64], old: &[f64]) -> Vec<f64> {
        let d = policy.distribution().dist_len();
        let n = old.len() / d;
        let mut ws = PolicyWorkspace::new();
        let dist = policy.forward(params, obs, n, &mut ws).to_vec();
        let mut d_dist = vec![0.0; d * n];
        for ((g, o), p) in d_dist
            .chunks_exact_mut(d)
            .zip(old.chunks_exact(d))
            .zip(dist.chunks_exact(d))
        {
            policy.distribution().kl_grad(o, p, g);
            g.iter_mut().for_each(|g| *g /= n as f64);
        }
        let mut grad = vec![0.0; policy.param_len()];
        policy.vjp(params, obs, &mut ws, &d_dist, &mut grad);
        grad
    }

    fn fisher_by_products(policy: &Policy, params: &[f64], obs: &[f64], n: usize) -> SquareMatrix {
        let mut fvp = FisherVectorProduct::new(policy, 0.0);
        fvp.prepare(params, obs, n, None);
        dense_operator(policy.param_len(), |v, out| fvp.apply(v, out))
    }

    #[test]
    fn dense_constructions_agree_and_fisher_is_symmetric_psd() {
        for (name, policy) in small_policies() {
            let b = batch(&policy, 6, 31);
            let f1 = fisher_by_products(&policy, &b.params, &b.obs, b.n);
            let f2 = dense_fisher_from_jacobians(&policy, &b.params, &b.obs, b.n);
            let scale = f1.max_abs().max(1.0);
            let gap = f1.max_abs_difference(&f2);
            assert!(
                gap <= 1e-10 * scale,
                "{name}: constructions differ by {gap:e}"
            );
            let asymmetry = f1.asymmetry();
            assert!(
                asymmetry <= 1e-12 * scale,
                "{name}: F not symmetric ({asymmetry:e})"
            );
            let eigenvalues = f2.as_ref().self_adjoint_eigenvalues(Side::Lower).unwrap();
            assert!(
                eigenvalues[0] >= -1e-10,
                "{name}: min eigenvalue {}",
                eigenvalues[0]
            );
            assert!(
                eigenvalues[eigenvalues.len() - 1] > 1e-3,
                "{name}: F should not vanish"
            );
        }
    }

    #[test]
    fn product_matches_dense_fisher_times_v_with_damping() {
        for (name, policy) in small_policies() {
            let b = batch(&policy, 5, 32);
            let f = dense_fisher_from_jacobians(&policy, &b.params, &b.obs, b.n);
            let v = normal_vec(&mut Rng::new(9), policy.param_len(), 1.0);
            let damping = 0.1;
            let mut fvp = FisherVectorProduct::new(&policy, damping);
            fvp.prepare(&b.params, &b.obs, b.n, None);
            let mut out = vec![0.0; v.len()];
            fvp.apply(&v, &mut out);
            let expected: Vec<f64> = (0..v.len())
                .map(|i| (0..v.len()).map(|j| f.get(i, j) * v[j]).sum::<f64>() + damping * v[i])
                .collect();
            let err = relative_error(&out, &expected);
            assert!(err < 1e-12, "{name}: F v off by {err:e}");
            // A second product reuses the cached forward pass: same bits.
            let mut again = vec![0.0; v.len()];
            fvp.apply(&v, &mut again);
            assert_eq!(out, again, "{name}: repeated product");
        }
    }

    #[test]
    fn mean_kl_at_old_params_is_zero_with_zero_gradient() {
        for (name, policy) in small_policies() {
            let b = batch(&policy, 5, 33);
            let adv = vec![1.0; b.n];
            let mut ws = PolicyWorkspace::new();
            let surrogate = b.surrogate(&policy, adv, 0.0, &mut ws);
            assert_eq!(
                surrogate.evaluate(&policy, &b.params, &mut ws).mean_kl,
                0.0,
                "{name}"
            );
            let grad = mean_kl_gradient(&policy, &b.params, &b.obs, surrogate.old_dist());
            assert!(grad.iter().all(|g| *g == 0.0), "{name}: ∇KL̄ at θ_old");
        }
    }

    #[test]
    fn finite_difference_hessian_of_mean_kl_matches_fisher() {
        for (name, policy) in small_policies() {
            let b = batch(&policy, 4, 34);
            let mut ws = PolicyWorkspace::new();
            let old = policy.forward(&b.params, &b.obs, b.n, &mut ws).to_vec();
            let p = policy.param_len();
            let h = 1e-5;
            let mut hessian = Vec::with_capacity(p * p);
            let mut theta = b.params.clone();
            for j in 0..p {
                theta[j] = b.params[j] + h;
                let up = mean_kl_gradient(&policy, &theta, &b.obs, &old);
                theta[j] = b.params[j] - h;
                let down = mean_kl_gradient(&policy, &theta, &b.obs, &old);
                theta[j] = b.params[j];
                hessian.extend(up.iter().zip(&down).map(|(u, d)| (u - d) / (2.0 * h)));
            }
            let f = fisher_by_products(&policy, &b.params, &b.obs, b.n);
            let dense: Vec<f64> = (0..p).flat_map(|j| f.column(j).to_vec()).collect();
            let err = relative_error(&hessian, &dense);
            assert!(
                err < 1e-6,
                "{name}: Hessian of KL̄ vs F, relative error {err:e}"
            );
        }
    }

    #[test]
    fn subset_product_equals_product_on_the_gathered_states() {
        let policy = Policy::gaussian_mlp(3, &[4], 2, crate::Activation::Tanh).unwrap();
        let b = batch(&policy, 20, 35);
        let subset = subsample(b.n, 0.1, &mut Rng::new(4));
        assert_eq!(subset.len(), 2);
        assert!(subset.windows(2).all(|w| w[0] < w[1]) && subset.iter().all(|&i| i < b.n));
        assert_eq!(subset, subsample(b.n, 0.1, &mut Rng::new(4)), "seeded");
        let gathered: Vec<f64> = subset
            .iter()
            .flat_map(|&i| b.obs[i * 3..(i + 1) * 3].to_vec())
            .collect();
        let v = normal_vec(&mut Rng::new(1), policy.param_len(), 1.0);
        let (mut a, mut c) = (vec![0.0; v.len()], vec![0.0; v.len()]);
        let mut fvp = FisherVectorProduct::new(&policy, 0.01);
        fvp.prepare(&b.params, &b.obs, b.n, Some(&subset));
        assert_eq!(fvp.states(), 2);
        fvp.apply(&v, &mut a);
        fvp.prepare(&b.params, &gathered, 2, None);
        fvp.apply(&v, &mut c);
        assert_eq!(a, c);
        assert_eq!(subsample(5, 1.0, &mut Rng::new(0)), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn f32_product_agrees_with_f64_to_single_precision() {
        for (name, wide) in small_policies() {
            let narrow = wide.clone().with_precision(crate::Precision::F32);
            let b = batch(&wide, 12, 36);
            let v = normal_vec(&mut Rng::new(2), wide.param_len(), 1.0);
            let product = |policy: &Policy| {
                let mut fvp = FisherVectorProduct::new(policy, 0.01);
                fvp.prepare(&b.params, &b.obs, b.n, None);
                let mut out = vec![0.0; v.len()];
                fvp.apply(&v, &mut out);
                out
            };
            let err = relative_error(&product(&narrow), &product(&wide));
            assert!(err < 1e-5, "{name}: F v in f32 off by {err:e}");
        }
    }

    #[test]
    fn chunked_products_equal_one_pass_over_the_whole_set() {
        // More states than one chunk (forward recomputed per chunk): the same
        // bits as one forward, JVP and VJP over the whole set.
        let (_, conv) = &small_policies()[4];
        for precision in [crate::Precision::F32, crate::Precision::F64] {
            let policy = conv.clone().with_precision(precision);
            let b = batch(&policy, CHUNK + 150, 45);
            let v = normal_vec(&mut Rng::new(6), policy.param_len(), 1.0);
            let mut fvp = FisherVectorProduct::new(&policy, 0.01);
            fvp.prepare(&b.params, &b.obs, b.n, None);
            let mut out = vec![0.0; v.len()];
            fvp.apply(&v, &mut out);
            let mut whole = PolicyWorkspace::new();
            let dist = policy.forward(&b.params, &b.obs, b.n, &mut whole).to_vec();
            let d = policy.distribution().dist_len();
            let mut tangent = vec![0.0; d * b.n];
            policy.jvp(&b.params, &b.obs, &mut whole, &v, &mut tangent);
            for (u, dist) in tangent.chunks_exact_mut(d).zip(dist.chunks_exact(d)) {
                policy.distribution().fisher_in_place(dist, u);
                u.iter_mut().for_each(|u| *u *= 1.0 / b.n as f64);
            }
            let mut expected = vec![0.0; v.len()];
            policy.vjp(&b.params, &b.obs, &mut whole, &tangent, &mut expected);
            axpy(0.01, &v, &mut expected);
            assert_eq!(out, expected, "{precision:?}");
        }
    }

    #[test]
    fn byte_states_give_the_product_of_their_values() {
        for precision in [crate::Precision::F32, crate::Precision::F64] {
            let policy = Policy::categorical_mlp(6, &[5], 3, crate::Activation::Tanh)
                .unwrap()
                .with_precision(precision);
            let mut rng = Rng::new(9);
            let n = 40;
            let bytes: Vec<u8> = (0..6 * n).map(|_| rng.below(256) as u8).collect();
            let reals: Vec<f64> = bytes
                .iter()
                .map(|&b| f64::from(b) * crate::BYTE_SCALE)
                .collect();
            let params = policy.init(&mut rng);
            let v = normal_vec(&mut rng, policy.param_len(), 1.0);
            let subset = subsample(n, 0.5, &mut Rng::new(3));
            let product = |obs: Observations<'_>| {
                let mut fvp = FisherVectorProduct::new(&policy, 0.01);
                fvp.prepare(&params, obs, n, Some(&subset));
                let mut out = vec![0.0; v.len()];
                fvp.apply(&v, &mut out);
                out
            };
            assert_eq!(
                product(Observations::Bytes(&bytes)),
                product(Observations::Reals(&reals)),
                "{precision:?}"
            );
        }
    }
}
