//! The exact check: is CG's natural direction what it should be?
//!
//! For a parameter dimension small enough to hold `F` densely, build `F` two
//! independent ways —
//!
//! 1. column by column from the Fisher-vector product, `F eⱼ`
//!    ([`dense_operator`]);
//! 2. from per-sample Jacobians, `F = (1/N) Σᵢ Jᵢᵀ Mᵢ Jᵢ`, with `Jᵢ` from
//!    single-state reverse-mode products ([`dense_fisher_from_jacobians`]) —
//!
//! then solve `(F + λI) x* = g` by Cholesky ([`solve_damped`]) and compare
//! every CG iterate `x_k` with `x*` ([`cg_against_exact`]): relative error,
//! cosine, residual. The first uses forward then reverse mode on the whole
//! batch, the second only reverse mode one state at a time: a wrong JVP
//! (`J'`) gives `JᵀMJ'` against `JᵀMJ`, a wrong VJP gives `J'ᵀMJ` against
//! `J'ᵀMJ'`, and batching or averaging mistakes differ too.
//! [`exact_check`] runs all of it for a [`Policy`].

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::{factor, solve};
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use crate::cg::{CgScratch, conjugate_gradient};
use crate::fisher::FisherVectorProduct;
use crate::policy::{Policy, PolicyWorkspace};
use crate::vector::{cosine, distance, norm};

/// Upper bound on the per-chunk Jacobian buffer, in `f64`s (32 MiB).
const JACOBIAN_CHUNK: usize = 1 << 22;

/// Why the exact solve is impossible.
#[derive(Clone, Debug, PartialEq)]
pub enum ExactError {
    /// Cholesky of `F + λI` found a non-positive pivot: the matrix is not
    /// symmetric positive definite (increase the damping, or `F` is wrong).
    NotPositiveDefinite {
        /// The damping used.
        damping: f64,
    },
}

impl std::fmt::Display for ExactError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExactError::NotPositiveDefinite { damping } => write!(
                f,
                "F + {damping}·I is not positive definite: Cholesky failed"
            ),
        }
    }
}

impl std::error::Error for ExactError {}

/// One CG iteration compared with the exact solution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExactRow {
    /// `k`, from 1.
    pub iteration: usize,
    /// `‖x_k − x*‖ / ‖x*‖`.
    pub relative_error: f64,
    /// `cos∠(x_k, x*)`.
    pub cosine: f64,
    /// CG's residual norm `‖r_k‖`.
    pub residual_norm: f64,
}

/// Result of [`exact_check`].
#[derive(Clone, Debug, PartialEq)]
pub struct ExactReport {
    /// One row per CG iteration.
    pub rows: Vec<ExactRow>,
    /// `max |F₁ − F₂|` between the two dense constructions.
    pub construction_gap: f64,
    /// `max |F₁ − F₁ᵀ|` of the product-built `F`.
    pub asymmetry: f64,
    /// `max |F|`, the scale the two figures above compare with.
    pub scale: f64,
    /// `x* = (F + λI)⁻¹ g`.
    pub solution: Vec<f64>,
}

/// A dense `dim × dim` column-major matrix in a plain `Vec`, viewed by faer
/// without copies. Why not `faer::Mat`: its element-wise generic code
/// (zeroing, copying) is compiled in the calling crate, which makes
/// `dim ≈ 5000` matrices take seconds in unoptimised test builds.
#[derive(Clone, Debug, PartialEq)]
pub struct SquareMatrix {
    dim: usize,
    data: Vec<f64>,
}

impl SquareMatrix {
    /// The zero matrix.
    pub fn zeros(dim: usize) -> SquareMatrix {
        SquareMatrix {
            dim,
            data: vec![0.0; dim * dim],
        }
    }

    /// Rows (= columns).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Entry `(i, j)`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[j * self.dim + i]
    }

    /// Column `j`.
    pub fn column(&self, j: usize) -> &[f64] {
        &self.data[j * self.dim..(j + 1) * self.dim]
    }

    /// Column `j`, writable.
    pub fn column_mut(&mut self, j: usize) -> &mut [f64] {
        &mut self.data[j * self.dim..(j + 1) * self.dim]
    }

    /// A faer view.
    pub fn as_ref(&self) -> MatRef<'_, f64> {
        MatRef::from_column_major_slice(&self.data, self.dim, self.dim)
    }

    /// A writable faer view.
    pub fn as_mut(&mut self) -> MatMut<'_, f64> {
        MatMut::from_column_major_slice_mut(&mut self.data, self.dim, self.dim)
    }

    /// `max |a − b|` over all entries.
    pub fn max_abs_difference(&self, other: &SquareMatrix) -> f64 {
        assert_eq!(self.dim, other.dim, "matrix sizes differ");
        self.data
            .iter()
            .zip(&other.data)
            .fold(0.0, |w: f64, (a, b)| w.max((a - b).abs()))
    }

    /// `max |aᵢⱼ|`.
    pub fn max_abs(&self) -> f64 {
        self.data.iter().fold(0.0, |w: f64, a| w.max(a.abs()))
    }

    /// `max |aᵢⱼ − aⱼᵢ|`.
    pub fn asymmetry(&self) -> f64 {
        let mut worst: f64 = 0.0;
        for j in 0..self.dim {
            for i in j + 1..self.dim {
                worst = worst.max((self.get(i, j) - self.get(j, i)).abs());
            }
        }
        worst
    }
}

/// The `dim × dim` matrix of a linear operator, column `j` being
/// `apply(eⱼ)`.
pub fn dense_operator(dim: usize, mut apply: impl FnMut(&[f64], &mut [f64])) -> SquareMatrix {
    let mut matrix = SquareMatrix::zeros(dim);
    let mut unit = vec![0.0; dim];
    for j in 0..dim {
        unit[j] = 1.0;
        apply(&unit, matrix.column_mut(j));
        unit[j] = 0.0;
    }
    matrix
}

/// `F = (1/N) Σᵢ Jᵢᵀ Mᵢ Jᵢ` over the `n` states of `obs` at `params`, from
/// per-state Jacobians built by single-state VJPs: row `k` of `Jᵢ` is
/// `Jᵢᵀ eₖ` and row `k` of `Mᵢ Jᵢ` is `Jᵢᵀ (Mᵢ eₖ)` (`Mᵢ` is symmetric). That
/// is `2 · dist_len` VJPs per state, independent of the parameter count;
/// states are stacked a chunk at a time so the outer products are one matrix
/// product per chunk and memory stays bounded.
pub fn dense_fisher_from_jacobians(
    policy: &Policy,
    params: &[f64],
    obs: &[f64],
    n: usize,
) -> SquareMatrix {
    let (p, d, o) = (
        policy.param_len(),
        policy.distribution().dist_len(),
        policy.obs_len(),
    );
    assert_eq!(obs.len(), o * n, "observation length");
    let family = policy.distribution();
    let chunk = (JACOBIAN_CHUNK / (d * p)).clamp(1, n.max(1));
    let mut fisher = SquareMatrix::zeros(p);
    let mut ws = PolicyWorkspace::new();
    let mut jac_t = vec![0.0; p * d * chunk];
    let mut m_jac_t = vec![0.0; p * d * chunk];
    let mut cotangent = vec![0.0; d];
    for s0 in (0..n).step_by(chunk) {
        let s1 = (s0 + chunk).min(n);
        for s in s0..s1 {
            let state = &obs[s * o..(s + 1) * o];
            let dist = policy.forward(params, state, 1, &mut ws).to_vec();
            for k in 0..d {
                let column = ((s - s0) * d + k) * p;
                cotangent.fill(0.0);
                cotangent[k] = 1.0;
                policy.vjp(
                    params,
                    state,
                    &mut ws,
                    &cotangent,
                    &mut jac_t[column..column + p],
                );
                family.fisher_in_place(&dist, &mut cotangent);
                policy.vjp(
                    params,
                    state,
                    &mut ws,
                    &cotangent,
                    &mut m_jac_t[column..column + p],
                );
            }
        }
        let rows = (s1 - s0) * d;
        let jt = MatRef::from_column_major_slice(&jac_t[..p * rows], p, rows);
        let mjt = MatRef::from_column_major_slice(&m_jac_t[..p * rows], p, rows);
        matmul(
            fisher.as_mut(),
            Accum::Add,
            jt,
            mjt.transpose(),
            1.0 / n as f64,
            Par::Seq,
        );
    }
    fisher
}

/// `x* = (F + λI)⁻¹ g` by faer's Cholesky (`LLᵀ`, in place on a copy). Only
/// the lower triangle of `F` is read, so rounding asymmetry cannot matter.
pub fn solve_damped(
    fisher: &SquareMatrix,
    damping: f64,
    g: &[f64],
) -> Result<Vec<f64>, ExactError> {
    let p = fisher.dim();
    assert_eq!(g.len(), p, "g must have {p} entries");
    let mut a = fisher.clone();
    for i in 0..p {
        a.data[i * p + i] += damping;
    }
    let mut mem = MemBuffer::new(factor::cholesky_in_place_scratch::<f64>(
        p,
        Par::Seq,
        Default::default(),
    ));
    let stack = MemStack::new(&mut mem);
    factor::cholesky_in_place(
        a.as_mut(),
        Default::default(),
        Par::Seq,
        stack,
        Default::default(),
    )
    .map_err(|_| ExactError::NotPositiveDefinite { damping })?;
    let mut x = g.to_vec();
    let rhs = MatMut::from_column_major_slice_mut(&mut x, p, 1);
    solve::solve_in_place(a.as_ref(), rhs, Par::Seq, stack);
    Ok(x)
}

/// Runs CG on `apply` (the damped product whose exact inverse gave
/// `x_star`) for `iterations` and compares every iterate with `x_star`.
pub fn cg_against_exact(
    apply: impl FnMut(&[f64], &mut [f64]),
    g: &[f64],
    x_star: &[f64],
    iterations: usize,
) -> Vec<ExactRow> {
    let mut rows = Vec::with_capacity(iterations);
    let mut x = vec![0.0; g.len()];
    let mut scratch = CgScratch::new(g.len(), iterations);
    let star_norm = norm(x_star);
    conjugate_gradient(apply, g, &mut x, iterations, 0.0, &mut scratch, |it| {
        rows.push(ExactRow {
            iteration: it.iteration,
            relative_error: distance(it.x, x_star) / star_norm,
            cosine: cosine(it.x, x_star),
            residual_norm: it.residual_norm,
        });
    });
    rows
}

/// The full exact check for `policy` at `params` on the `n` states of `obs`
/// (pass the same subset the Fisher-vector product uses): both dense
/// constructions of `F`, their gap and asymmetry, the Cholesky solution of
/// `(F + λI) x* = g`, and `cg_iterations` of CG on the damped product
/// compared with it. Costs `2·dim` products and an `O(dim³)` factorisation.
pub fn exact_check(
    policy: &Policy,
    params: &[f64],
    obs: &[f64],
    n: usize,
    g: &[f64],
    damping: f64,
    cg_iterations: usize,
) -> Result<ExactReport, ExactError> {
    let p = policy.param_len();
    assert_eq!(g.len(), p, "gradient length");
    let mut fvp = FisherVectorProduct::new(policy, 0.0);
    fvp.prepare(params, obs, n, None);
    let from_products = dense_operator(p, |v, out| fvp.apply(v, out));
    let from_jacobians = dense_fisher_from_jacobians(policy, params, obs, n);
    let construction_gap = from_products.max_abs_difference(&from_jacobians);
    let asymmetry = from_products.asymmetry();
    let scale = from_products.max_abs();
    let solution = solve_damped(&from_jacobians, damping, g)?;
    let mut damped = FisherVectorProduct::new(policy, damping);
    damped.prepare(params, obs, n, None);
    let rows = cg_against_exact(|v, out| damped.apply(v, out), g, &solution, cg_iterations);
    Ok(ExactReport {
        rows,
        construction_gap,
        asymmetry,
        scale,
        solution,
    })
}

#[cfg(test)]
mod tests {
    use trustbench_plugin::rng::Rng;

    use super::*;
    use crate::fisher::subsample;
    use crate::network::Activation;
    use crate::surrogate::Surrogate;
    use crate::testutil::{batch, normal_vec};

    /// The policy gradient `g` of a random-advantage batch at `θ_old`.
    fn policy_gradient(
        policy: &Policy,
        params: &[f64],
        obs: &[f64],
        actions: &[f64],
        seed: u64,
    ) -> Vec<f64> {
        let n = obs.len() / policy.obs_len();
        let adv = normal_vec(&mut Rng::new(seed), n, 1.0);
        let mut ws = PolicyWorkspace::new();
        let mut g = vec![0.0; policy.param_len()];
        Surrogate::with_gradient(
            policy,
            params,
            obs.to_vec(),
            actions.to_vec(),
            adv,
            0.0,
            &mut ws,
            &mut g,
        );
        g
    }

    /// First CG iteration within `1e-8` relative error of `x*`, if any.
    fn iterations_to_exact(
        policy: &Policy,
        b: &crate::testutil::Batch,
        budget: usize,
    ) -> Option<usize> {
        let g = policy_gradient(policy, &b.params, &b.obs, &b.actions, 1);
        let report = exact_check(policy, &b.params, &b.obs, b.n, &g, 1e-3, budget).unwrap();
        assert!(
            report.construction_gap <= 1e-10 * report.scale.max(1.0),
            "{report:?}"
        );
        assert!(report.asymmetry <= 1e-12 * report.scale.max(1.0));
        let row = report.rows.iter().find(|r| r.relative_error <= 1e-8)?;
        assert!(row.cosine > 1.0 - 1e-12);
        Some(row.iteration)
    }

    #[test]
    fn cg_reaches_the_exact_solution_within_dim_iterations() {
        let policies = [
            Policy::gaussian_mlp(3, &[4], 2, Activation::Tanh).unwrap(),
            Policy::categorical_mlp(3, &[4], 3, Activation::Tanh).unwrap(),
        ];
        for policy in policies {
            let dim = policy.param_len();
            // At initialisation (θ_old of TRPO's first iteration), damping 1e-3.
            let mut rng = Rng::new(51);
            let params = policy.init(&mut rng);
            let obs = normal_vec(&mut rng, policy.obs_len() * 50, 1.0);
            let mut ws = PolicyWorkspace::new();
            policy.forward(&params, &obs, 50, &mut ws);
            let mut actions = vec![0.0; policy.distribution().action_len() * 50];
            policy.sample(&ws, &mut rng, &mut actions);
            let at_init = crate::testutil::Batch {
                params,
                obs,
                actions,
                n: 50,
            };
            let k = iterations_to_exact(&policy, &at_init, dim);
            assert!(
                k.is_some(),
                "{:?}: not within 1e-8 of x* in {dim} iterations",
                policy.distribution()
            );
            // Away from init F is ill-conditioned (κ ≈ 5e3 here): finite
            // precision costs CG its n-step guarantee, not its convergence.
            let k = iterations_to_exact(&policy, &batch(&policy, 12, 51), 3 * dim);
            assert!(
                k.is_some(),
                "{:?}: not within 1e-8 of x* in {} iterations",
                policy.distribution(),
                3 * dim
            );
        }
    }

    #[test]
    fn hopper_sized_network_cosine_after_the_papers_ten_iterations() {
        // The paper's hopper policy: 50-unit tanh layers, 3 Gaussian actions
        // (11 observations: 3306 parameters). g on 500 states, F on a seeded
        // 10% subset, damping 1e-3 (the paper code's default).
        let policy = Policy::gaussian_mlp(11, &[50, 50], 3, Activation::Tanh).unwrap();
        let b = batch(&policy, 500, 52);
        let g = policy_gradient(&policy, &b.params, &b.obs, &b.actions, 2);
        let subset = subsample(b.n, 0.1, &mut Rng::new(3));
        let obs: Vec<f64> = subset
            .iter()
            .flat_map(|&i| b.obs[i * 11..(i + 1) * 11].to_vec())
            .collect();
        let report = exact_check(&policy, &b.params, &obs, subset.len(), &g, 1e-3, 10).unwrap();
        for row in &report.rows {
            println!(
                "hopper-sized CG iteration {:2}: relative error {:.4e}  cosine {:.6}  residual {:.4e}",
                row.iteration, row.relative_error, row.cosine, row.residual_norm
            );
        }
        let last = report.rows.last().unwrap();
        println!(
            "hopper-sized ({} params, {} states, gap between dense constructions {:.1e}): \
             after {} CG iterations cosine(x_k, x*) = {:.6}",
            policy.param_len(),
            subset.len(),
            report.construction_gap,
            last.iteration,
            last.cosine
        );
        assert_eq!(report.rows.len(), 10);
        assert!(
            report.construction_gap <= 1e-10 * report.scale.max(1.0),
            "{}",
            report.construction_gap
        );
        assert!(last.cosine > 0.9, "cosine {}", last.cosine);
        assert!(
            report
                .rows
                .windows(2)
                .all(|w| w[1].relative_error <= w[0].relative_error * (1.0 + 1e-9))
        );
    }

    #[test]
    fn non_positive_definite_matrix_is_an_error() {
        let mut f = SquareMatrix::zeros(2);
        f.column_mut(0)[0] = -1.0;
        f.column_mut(1)[1] = -1.0;
        assert_eq!(
            solve_damped(&f, 0.5, &[1.0, 1.0]),
            Err(ExactError::NotPositiveDefinite { damping: 0.5 })
        );
        let x = solve_damped(&f, 2.0, &[1.0, 3.0]).unwrap();
        assert!((x[0] - 1.0).abs() < 1e-15 && (x[1] - 3.0).abs() < 1e-15);
    }
}
