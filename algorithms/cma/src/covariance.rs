//! The covariance matrix `C = B D² Bᵀ` of the search distribution, full or
//! diagonal, and what the update needs from it: sampling `y = B D z`,
//! whitening `C^{-1/2} y`, and the rank-one + rank-μ update.
//!
//! Full: C is dense and its eigendecomposition (faer's self-adjoint EVD, B
//! the eigenvectors, D the square roots of the eigenvalues) is recomputed
//! every `interval` updates, as the tutorial suggests; sampling and
//! whitening use the last decomposition, which is consistent because both
//! go through the same B and D. Memory `O(n²)`, time `O(n²)` per candidate.
//!
//! Separable (sep-CMA, Ros & Hansen 2008): C is diagonal, so `B = I` and
//! `D = √diag C` is exact after every update. Memory and time `O(n)`; it
//! learns per-weight scales but no correlations between weights.

use faer::diag::DiagMut;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch};
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use trustbench_policy::SquareMatrix;

/// Smallest eigenvalue kept, relative to the largest: D's axis ratio stays
/// ≤ 10⁷ (condition of C ≤ 10¹⁴), the tutorial's numerical limit, so
/// rounding cannot make `D⁻¹` blow up.
const MIN_RELATIVE_EIGENVALUE: f64 = 1e-14;

/// C and its factors.
#[derive(Debug, Clone)]
pub enum Covariance {
    /// Dense C, with B and D from its last eigendecomposition.
    Full {
        /// C (only its lower triangle is read by the decomposition).
        c: SquareMatrix,
        /// Eigenvectors of C, as columns.
        b: SquareMatrix,
        /// Square roots of C's eigenvalues.
        d: Vec<f64>,
        /// Updates between decompositions.
        interval: usize,
        /// Updates since the last decomposition.
        since: usize,
    },
    /// Diagonal C; B = I.
    Separable {
        /// diag C.
        c: Vec<f64>,
        /// √diag C.
        d: Vec<f64>,
    },
}

impl Covariance {
    /// `C = I`, full (decomposed every `interval` updates) or separable.
    pub fn identity(n: usize, full: bool, interval: usize) -> Covariance {
        if full {
            let mut c = SquareMatrix::zeros(n);
            (0..n).for_each(|j| c.column_mut(j)[j] = 1.0);
            Covariance::Full {
                b: c.clone(),
                c,
                d: vec![1.0; n],
                interval: interval.max(1),
                since: 0,
            }
        } else {
            Covariance::Separable {
                c: vec![1.0; n],
                d: vec![1.0; n],
            }
        }
    }

    /// Whether C is dense.
    pub fn is_full(&self) -> bool {
        matches!(self, Covariance::Full { .. })
    }

    /// `y = B D z` for `count` columns (`n × count`, column-major): if
    /// `z ~ N(0, I)` then `y ~ N(0, C)`.
    pub fn transform(&self, z: &[f64], count: usize, y: &mut [f64]) {
        match self {
            Covariance::Full { b, d, .. } => {
                let n = d.len();
                let scaled: Vec<f64> = z
                    .chunks_exact(n)
                    .flat_map(|col| col.iter().zip(d).map(|(z, d)| z * d))
                    .collect();
                let scaled = MatRef::from_column_major_slice(&scaled, n, count);
                let out = MatMut::from_column_major_slice_mut(y, n, count);
                matmul(out, Accum::Replace, b.as_ref(), scaled, 1.0, Par::Seq);
            }
            Covariance::Separable { d, .. } => {
                for (y, z) in y.chunks_exact_mut(d.len()).zip(z.chunks_exact(d.len())) {
                    y.iter_mut()
                        .zip(z)
                        .zip(d)
                        .for_each(|((y, z), d)| *y = z * d);
                }
            }
        }
    }

    /// `C^{-1/2} y` for `y = B D z`, computed from z as `B z` (since
    /// `C^{-1/2} = B D⁻¹ Bᵀ` and `Bᵀ B = I`), which needs no division.
    pub fn whiten(&self, z: &[f64], out: &mut [f64]) {
        match self {
            Covariance::Full { b, .. } => {
                let z = MatRef::from_column_major_slice(z, z.len(), 1);
                let out = MatMut::from_column_major_slice_mut(out, z.nrows(), 1);
                matmul(out, Accum::Replace, b.as_ref(), z, 1.0, Par::Seq);
            }
            Covariance::Separable { .. } => out.copy_from_slice(z),
        }
    }

    /// `C ← keep · C + M Mᵀ` for the `n × r` column-major `M` (the scaled
    /// rank-one and rank-μ vectors), then refresh B and D when due.
    pub fn update(&mut self, keep: f64, m: &[f64]) {
        match self {
            Covariance::Full {
                c, interval, since, ..
            } => {
                let n = c.dim();
                (0..n).for_each(|j| c.column_mut(j).iter_mut().for_each(|v| *v *= keep));
                let m = MatRef::from_column_major_slice(m, n, m.len() / n.max(1));
                matmul(c.as_mut(), Accum::Add, m, m.transpose(), 1.0, Par::Seq);
                *since += 1;
                if *since >= *interval {
                    *since = 0;
                    self.decompose();
                }
            }
            Covariance::Separable { c, d } => {
                let n = c.len();
                c.iter_mut().for_each(|v| *v *= keep);
                for col in m.chunks_exact(n) {
                    c.iter_mut().zip(col).for_each(|(c, v)| *c += v * v);
                }
                d.iter_mut().zip(c.iter()).for_each(|(d, c)| *d = c.sqrt());
            }
        }
    }

    /// Full C: B and D from faer's self-adjoint eigendecomposition, with
    /// eigenvalues floored at [`MIN_RELATIVE_EIGENVALUE`] × the largest. If
    /// the decomposition fails to converge (or C has lost positivity
    /// entirely), the previous B and D stay in use.
    fn decompose(&mut self) {
        let Covariance::Full { c, b, d, .. } = self else {
            return;
        };
        let n = c.dim();
        let mut eigenvalues = vec![0.0; n];
        let mut vectors = SquareMatrix::zeros(n);
        let mut mem = MemBuffer::new(self_adjoint_evd_scratch::<f64>(
            n,
            ComputeEigenvectors::Yes,
            Par::Seq,
            Default::default(),
        ));
        let done = self_adjoint_evd(
            c.as_ref(),
            DiagMut::from_slice_mut(&mut eigenvalues),
            Some(vectors.as_mut()),
            Par::Seq,
            MemStack::new(&mut mem),
            Default::default(),
        );
        let largest = eigenvalues.iter().copied().fold(0.0, f64::max);
        if done.is_err() || !(largest > 0.0 && largest.is_finite()) {
            return;
        }
        let floor = largest * MIN_RELATIVE_EIGENVALUE;
        d.iter_mut()
            .zip(&eigenvalues)
            .for_each(|(d, e)| *d = e.max(floor).sqrt());
        *b = vectors;
    }

    /// Mean over coordinates of `√Cⱼⱼ`, the per-weight spread before σ.
    pub fn sqrt_diag_mean(&self) -> f64 {
        let (sum, n) = match self {
            Covariance::Full { c, .. } => (
                (0..c.dim()).map(|j| c.get(j, j).sqrt()).sum::<f64>(),
                c.dim(),
            ),
            Covariance::Separable { d, .. } => (d.iter().sum(), d.len()),
        };
        sum / n.max(1) as f64
    }

    /// `max D / min D`, the ratio of the distribution's longest and
    /// shortest axes (1 for a sphere).
    pub fn axis_ratio(&self) -> f64 {
        let d = match self {
            Covariance::Full { d, .. } | Covariance::Separable { d, .. } => d,
        };
        d.iter().copied().fold(0.0, f64::max) / d.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposition_reproduces_c_and_whitening_inverts_the_transform() {
        // C = I·0.5 + v vᵀ for v = (1, 2, 3): correlated, decomposed at once.
        let mut cov = Covariance::identity(3, true, 1);
        cov.update(0.5, &[1.0, 2.0, 3.0]);
        let Covariance::Full { c, b, d, .. } = &cov else {
            unreachable!()
        };
        for i in 0..3 {
            for j in 0..3 {
                let bd2bt: f64 = (0..3)
                    .map(|k| b.get(i, k) * d[k] * d[k] * b.get(j, k))
                    .sum();
                assert!(
                    (bd2bt - c.get(i, j)).abs() < 1e-12,
                    "({i},{j}): {bd2bt} vs {}",
                    c.get(i, j)
                );
            }
        }
        assert!((cov.axis_ratio() - (14.5f64 / 0.5).sqrt()).abs() < 1e-9);
        // y = B D z: recover z as D⁻¹ Bᵀ y; C^{-1/2} y = B z keeps ‖z‖.
        let z = [0.3, -1.2, 0.7];
        let (mut y, mut white) = ([0.0; 3], [0.0; 3]);
        cov.transform(&z, 1, &mut y);
        for k in 0..3 {
            let back = (0..3).map(|i| b.get(i, k) * y[i]).sum::<f64>() / d[k];
            assert!((back - z[k]).abs() < 1e-12);
        }
        cov.whiten(&z, &mut white);
        let norm2 = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
        assert!((norm2(&white) - norm2(&z)).abs() < 1e-12);
    }

    #[test]
    fn separable_update_is_the_diagonal_of_the_full_one() {
        let m = [1.0, -2.0, 0.5, 0.25, 1.5, -1.0];
        let (mut full, mut sep) = (
            Covariance::identity(3, true, 1),
            Covariance::identity(3, false, 1),
        );
        full.update(0.8, &m);
        sep.update(0.8, &m);
        let (Covariance::Full { c, .. }, Covariance::Separable { c: diag, d }) = (&full, &sep)
        else {
            unreachable!()
        };
        for j in 0..3 {
            assert!((c.get(j, j) - diag[j]).abs() < 1e-15);
            assert!((d[j] - diag[j].sqrt()).abs() < 1e-15);
        }
        assert!((full.sqrt_diag_mean() - sep.sqrt_diag_mean()).abs() < 1e-15);
    }
}
