//! The one kernel every layer reduces to: `Y = W P + b 1ᵀ` over a matrix of
//! patches, with its reverse (VJP) and forward (JVP) derivatives.
//!
//! A dense layer's patches are its inputs (one column per sample); a conv
//! layer's patches are the im2col columns (one per output pixel). Sharing the
//! kernel means the derivative rules are written, and tested, once.
//!
//! Layouts: `W` is `rows × k` row-major (the flat parameter layout), `P` is
//! `k × cols` column-major and `Y` is `rows × cols` column-major, so a column
//! of `P` or `Y` is contiguous (one sample, or one pixel).

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// Shape of one affine map: `rows` outputs, `k` inputs per column.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Affine {
    pub rows: usize,
    pub k: usize,
}

impl Affine {
    /// `Y = W P + b` for `cols` columns.
    pub fn forward(self, w: &[f64], b: &[f64], patches: &[f64], cols: usize, y: &mut [f64]) {
        let w = MatRef::from_row_major_slice(w, self.rows, self.k);
        let p = MatRef::from_column_major_slice(patches, self.k, cols);
        let out = MatMut::from_column_major_slice_mut(y, self.rows, cols);
        matmul(out, Accum::Replace, w, p, 1.0, Par::Seq);
        add_bias(b, y);
    }

    /// Reverse mode, accumulating: `dW += dY Pᵀ`, `db += dY 1`, and, when
    /// asked, `dP = Wᵀ dY` (overwritten).
    #[allow(clippy::too_many_arguments)]
    pub fn vjp(
        self,
        w: &[f64],
        patches: &[f64],
        cols: usize,
        dy: &[f64],
        dw: &mut [f64],
        db: &mut [f64],
        d_patches: Option<&mut [f64]>,
    ) {
        let p = MatRef::from_column_major_slice(patches, self.k, cols);
        let dy_mat = MatRef::from_column_major_slice(dy, self.rows, cols);
        let dw_mat = MatMut::from_row_major_slice_mut(dw, self.rows, self.k);
        matmul(dw_mat, Accum::Add, dy_mat, p.transpose(), 1.0, Par::Seq);
        for column in dy.chunks_exact(self.rows) {
            for (db, g) in db.iter_mut().zip(column) {
                *db += g;
            }
        }
        if let Some(dp) = d_patches {
            let w = MatRef::from_row_major_slice(w, self.rows, self.k);
            let dp = MatMut::from_column_major_slice_mut(dp, self.k, cols);
            matmul(dp, Accum::Replace, w.transpose(), dy_mat, 1.0, Par::Seq);
        }
    }

    /// Forward mode: `dY = dW P + W dP + db` along a parameter direction
    /// `(dW, db)`; `dP` is `None` when the patches do not depend on the
    /// parameters (the network's input).
    #[allow(clippy::too_many_arguments)]
    pub fn jvp(
        self,
        w: &[f64],
        dw: &[f64],
        db: &[f64],
        patches: &[f64],
        d_patches: Option<&[f64]>,
        cols: usize,
        dy: &mut [f64],
    ) {
        let p = MatRef::from_column_major_slice(patches, self.k, cols);
        let dw = MatRef::from_row_major_slice(dw, self.rows, self.k);
        let mut out = MatMut::from_column_major_slice_mut(dy, self.rows, cols);
        matmul(out.as_mut(), Accum::Replace, dw, p, 1.0, Par::Seq);
        if let Some(dp) = d_patches {
            let w = MatRef::from_row_major_slice(w, self.rows, self.k);
            let dp = MatRef::from_column_major_slice(dp, self.k, cols);
            matmul(out, Accum::Add, w, dp, 1.0, Par::Seq);
        }
        add_bias(db, dy);
    }
}

/// Adds `b` to every column of a column-major matrix with `b.len()` rows.
fn add_bias(b: &[f64], y: &mut [f64]) {
    for column in y.chunks_exact_mut(b.len()) {
        for (y, b) in column.iter_mut().zip(b) {
            *y += b;
        }
    }
}
