//! Conjugate gradient for `A x = b` with `A` symmetric positive definite and
//! available only as a product `v ↦ A v` (TRPO: `A = F + λI`, `b = g`).
//!
//! Starts from `x₀ = 0` as the paper does (so `x₁` is along `g`), runs at most
//! `max_iterations` (the paper: 10), and stops early once the residual norm
//! `‖r_k‖ ≤ tolerance · ‖b‖`. The residual is the recursively updated one,
//! `r_k = r_{k−1} − α A p`, which equals `b − A x_k` in exact arithmetic.
//! All vectors live in a caller-owned [`CgScratch`]: no allocation per
//! iteration.

use crate::vector::{axpy, dot, norm};

/// Why CG stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CgStatus {
    /// The residual tolerance was met.
    Converged,
    /// `max_iterations` were spent.
    MaxIterations,
    /// `pᵀ A p ≤ 0` or non-finite: `A` is not positive definite along the
    /// search direction (or the product produced NaN). `x` holds the last
    /// good iterate.
    NonPositiveCurvature,
}

/// One iterate, handed to the caller's callback (e.g. the exact check
/// compares every `x_k` to the dense solution).
#[derive(Clone, Copy, Debug)]
pub struct CgIterate<'a> {
    /// `k`, from 1.
    pub iteration: usize,
    /// `x_k`.
    pub x: &'a [f64],
    /// `‖r_k‖`.
    pub residual_norm: f64,
}

/// Summary of a CG run; the residual history is in
/// [`CgScratch::residual_norms`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CgReport {
    /// Iterations done (products with `A`, minus a rejected one).
    pub iterations: usize,
    /// Why it stopped.
    pub status: CgStatus,
    /// `‖r‖` at the returned `x`.
    pub residual_norm: f64,
}

/// Caller-owned vectors for [`conjugate_gradient`].
#[derive(Clone, Debug, Default)]
pub struct CgScratch {
    r: Vec<f64>,
    p: Vec<f64>,
    ap: Vec<f64>,
    residual_norms: Vec<f64>,
}

impl CgScratch {
    /// Scratch for dimension `dim` and up to `max_iterations` iterations.
    pub fn new(dim: usize, max_iterations: usize) -> CgScratch {
        CgScratch {
            r: vec![0.0; dim],
            p: vec![0.0; dim],
            ap: vec![0.0; dim],
            residual_norms: Vec::with_capacity(max_iterations + 1),
        }
    }

    /// `‖r₀‖ = ‖b‖, ‖r₁‖, …` of the last run.
    pub fn residual_norms(&self) -> &[f64] {
        &self.residual_norms
    }
}

/// Solves `A x = b` approximately into `x` (overwritten; starts from 0),
/// calling `on_iterate` after every iteration.
pub fn conjugate_gradient(
    mut apply: impl FnMut(&[f64], &mut [f64]),
    b: &[f64],
    x: &mut [f64],
    max_iterations: usize,
    tolerance: f64,
    scratch: &mut CgScratch,
    mut on_iterate: impl FnMut(CgIterate<'_>),
) -> CgReport {
    let n = b.len();
    assert_eq!(x.len(), n, "CG: x and b lengths differ");
    let CgScratch {
        r,
        p,
        ap,
        residual_norms,
    } = scratch;
    for v in [&mut *r, &mut *p, &mut *ap] {
        v.resize(n, 0.0);
    }
    residual_norms.clear();
    residual_norms.reserve(max_iterations + 1);
    x.fill(0.0);
    r.copy_from_slice(b);
    p.copy_from_slice(b);
    let mut rr = dot(r, r);
    let threshold = tolerance * norm(b);
    residual_norms.push(rr.sqrt());
    let mut report = CgReport {
        iterations: 0,
        status: CgStatus::MaxIterations,
        residual_norm: rr.sqrt(),
    };
    if rr.sqrt() <= threshold {
        report.status = CgStatus::Converged;
        return report;
    }
    for k in 1..=max_iterations {
        apply(p, ap);
        let pap = dot(p, ap);
        if !(pap > 0.0 && pap.is_finite()) {
            report.status = CgStatus::NonPositiveCurvature;
            return report;
        }
        let alpha = rr / pap;
        axpy(alpha, p, x);
        axpy(-alpha, ap, r);
        let rr_next = dot(r, r);
        let residual_norm = rr_next.sqrt();
        residual_norms.push(residual_norm);
        report = CgReport {
            iterations: k,
            status: CgStatus::MaxIterations,
            residual_norm,
        };
        on_iterate(CgIterate {
            iteration: k,
            x,
            residual_norm,
        });
        if residual_norm <= threshold {
            report.status = CgStatus::Converged;
            return report;
        }
        let beta = rr_next / rr;
        for (p, r) in p.iter_mut().zip(r.iter()) {
            *p = r + beta * *p;
        }
        rr = rr_next;
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `A v` for a dense row-major `A`.
    fn product(a: &[f64], n: usize) -> impl FnMut(&[f64], &mut [f64]) + '_ {
        move |v, out| {
            for (i, o) in out.iter_mut().enumerate() {
                *o = dot(&a[i * n..(i + 1) * n], v);
            }
        }
    }

    #[test]
    fn solves_a_small_spd_system_in_n_iterations() {
        // A = Bᵀ B + I for a fixed B: SPD, modestly conditioned.
        let n = 6;
        let b: Vec<f64> = (0..n * n)
            .map(|k| ((k * 7 + 3) % 11) as f64 / 5.0 - 1.0)
            .collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] =
                    (0..n).map(|k| b[k * n + i] * b[k * n + j]).sum::<f64>() + f64::from(i == j);
            }
        }
        let x_true: Vec<f64> = (0..n).map(|i| i as f64 - 2.5).collect();
        let mut rhs = vec![0.0; n];
        product(&a, n)(&x_true, &mut rhs);
        let mut x = vec![1.0; n];
        let mut scratch = CgScratch::new(n, 50);
        let mut seen = Vec::new();
        let report = conjugate_gradient(
            product(&a, n),
            &rhs,
            &mut x,
            50,
            1e-12,
            &mut scratch,
            |it| seen.push(it.iteration),
        );
        assert_eq!(report.status, CgStatus::Converged);
        assert!(report.iterations <= n, "{report:?}");
        assert_eq!(seen, (1..=report.iterations).collect::<Vec<_>>());
        assert_eq!(scratch.residual_norms().len(), report.iterations + 1);
        assert!(
            crate::vector::distance(&x, &x_true) < 1e-9 * norm(&x_true),
            "{x:?}"
        );
    }

    #[test]
    fn stops_on_non_positive_curvature_and_at_the_iteration_cap() {
        let indefinite = [1.0, 0.0, 0.0, -1.0];
        let mut x = vec![0.0; 2];
        let mut scratch = CgScratch::new(2, 10);
        let report = conjugate_gradient(
            product(&indefinite, 2),
            &[0.0, 1.0],
            &mut x,
            10,
            1e-12,
            &mut scratch,
            |_| {},
        );
        assert_eq!(report.status, CgStatus::NonPositiveCurvature);
        assert_eq!(
            (report.iterations, x.as_slice()),
            (0, [0.0, 0.0].as_slice())
        );
        let diag = [1.0, 0.0, 0.0, 100.0];
        let report = conjugate_gradient(
            product(&diag, 2),
            &[1.0, 1.0],
            &mut x,
            1,
            1e-12,
            &mut scratch,
            |_| {},
        );
        assert_eq!(
            (report.status, report.iterations),
            (CgStatus::MaxIterations, 1)
        );
        let report = conjugate_gradient(
            product(&diag, 2),
            &[0.0, 0.0],
            &mut x,
            5,
            1e-12,
            &mut scratch,
            |_| {},
        );
        assert_eq!((report.status, report.iterations), (CgStatus::Converged, 0));
    }
}
