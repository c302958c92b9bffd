//! The one map every layer reduces to: `Y = W P + b 1ᵀ` over a matrix of
//! patches, with its reverse (VJP) and forward (JVP) derivatives, all as
//! [`crate::kernel::gemm`] products (fixed summation order).
//!
//! A dense layer's patches are its inputs (one column per sample); a conv
//! layer's patches are the im2col columns (one per output pixel). Sharing the
//! map means the derivative rules are written, and tested, once.
//!
//! Layouts: `W` is `rows × k` row-major (the flat parameter layout), `P` is
//! `k × cols` column-major and `Y` is `rows × cols` column-major, so a column
//! of `P` or `Y` is contiguous (one sample, or one pixel). The kernel wants
//! the left factor column-major, so the forward products read `Wᵀ`, copied
//! into `transposed` (parameters are small next to a batch's patches).

use crate::kernel::{Strided, gemm};
use crate::real::Real;
use crate::vector::grow;

/// Shape of one affine map: `rows` outputs, `k` inputs per column.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Affine {
    pub rows: usize,
    pub k: usize,
}

impl Affine {
    /// `P` (or `dP`) as the right factor of a product over `k`.
    fn columns<T>(self, patches: &[T]) -> Strided<'_, T> {
        Strided {
            data: patches,
            t_stride: 1,
            j_stride: self.k,
        }
    }

    /// `W` (`rows × k` row-major) as a column-major `rows × k` matrix.
    fn transpose<'t, T: Real>(self, w: &[T], transposed: &'t mut Vec<T>) -> &'t [T] {
        grow(transposed, self.rows * self.k);
        for (r, row) in w.chunks_exact(self.k).enumerate() {
            for (t, value) in row.iter().enumerate() {
                transposed[t * self.rows + r] = *value;
            }
        }
        &transposed[..self.rows * self.k]
    }

    /// `Y = W P + b` for `cols` columns.
    pub fn forward<T: Real>(
        self,
        w: &[T],
        b: &[T],
        patches: &[T],
        cols: usize,
        y: &mut [T],
        transposed: &mut Vec<T>,
    ) {
        let wt = self.transpose(w, transposed);
        let p = self.columns(patches);
        gemm(self.rows, cols, self.k, wt, p, y, false);
        add_bias(b, &mut y[..self.rows * cols]);
    }

    /// Reverse mode, accumulating: `dW += dY Pᵀ`, `db += dY 1`, and, when
    /// asked, `dP = Wᵀ dY` (overwritten). Each `dW` entry is one chain over
    /// the columns in order, so accumulating chunk after chunk is the same
    /// sum as one call over the whole batch.
    #[allow(clippy::too_many_arguments)]
    pub fn vjp<T: Real>(
        self,
        w: &[T],
        patches: &[T],
        cols: usize,
        dy: &[T],
        dw: &mut [T],
        db: &mut [T],
        d_patches: Option<&mut [T]>,
    ) {
        // dWᵀ (k × rows, column-major = dW row-major) += P dYᵀ.
        let dy_t = Strided {
            data: dy,
            t_stride: self.rows,
            j_stride: 1,
        };
        gemm(self.k, self.rows, cols, patches, dy_t, dw, true);
        for column in dy[..self.rows * cols].chunks_exact(self.rows) {
            for (db, g) in db.iter_mut().zip(column) {
                *db = *db + *g;
            }
        }
        if let Some(dp) = d_patches {
            // W row-major is Wᵀ column-major: k × rows.
            let dy = Strided {
                data: dy,
                t_stride: 1,
                j_stride: self.rows,
            };
            gemm(self.k, cols, self.rows, w, dy, dp, false);
        }
    }

    /// Forward mode: `dY = dW P + W dP + db` along a parameter direction
    /// `(dW, db)`; `dP` is `None` when the patches do not depend on the
    /// parameters (the network's input).
    #[allow(clippy::too_many_arguments)]
    pub fn jvp<T: Real>(
        self,
        w: &[T],
        dw: &[T],
        db: &[T],
        patches: &[T],
        d_patches: Option<&[T]>,
        cols: usize,
        dy: &mut [T],
        transposed: &mut Vec<T>,
    ) {
        let dwt = self.transpose(dw, transposed);
        gemm(
            self.rows,
            cols,
            self.k,
            dwt,
            self.columns(patches),
            dy,
            false,
        );
        if let Some(dp) = d_patches {
            let wt = self.transpose(w, transposed);
            gemm(self.rows, cols, self.k, wt, self.columns(dp), dy, true);
        }
        add_bias(db, &mut dy[..self.rows * cols]);
    }
}

/// Adds `b` to every column of a column-major matrix with `b.len()` rows.
fn add_bias<T: Real>(b: &[T], y: &mut [T]) {
    for column in y.chunks_exact_mut(b.len()) {
        for (y, b) in column.iter_mut().zip(b) {
            *y = *y + *b;
        }
    }
}
