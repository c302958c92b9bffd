//! The layers a [`crate::Network`] is made of: dense and 2-D convolution,
//! both an affine map over "patches" (see `affine.rs`), so their derivative
//! rules are shared.
//!
//! Parameter layout of a layer: its weights (`outputs × patch_len`,
//! row-major), then its biases.

use crate::affine::Affine;
use crate::conv::{Conv2d, ConvScratch};
use crate::real::Real;

/// A fully connected layer `y = W x + b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dense {
    /// Input size.
    pub inputs: usize,
    /// Output size.
    pub outputs: usize,
}

/// One layer of a network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Fully connected.
    Dense(Dense),
    /// 2-D convolution (HWC images).
    Conv2d(Conv2d),
}

/// Scratch shared by the layers of a network: conv layers' im2col patches
/// (dense layers use their input directly) and the transposed weights the
/// forward products read.
#[derive(Clone, Debug, Default)]
pub(crate) struct LayerScratch<T> {
    conv: ConvScratch<T>,
    transposed: Vec<T>,
}

impl Layer {
    /// Input values per sample.
    pub fn inputs(&self) -> usize {
        match self {
            Layer::Dense(d) => d.inputs,
            Layer::Conv2d(c) => c.inputs(),
        }
    }

    /// Output values per sample.
    pub fn outputs(&self) -> usize {
        match self {
            Layer::Dense(d) => d.outputs,
            Layer::Conv2d(c) => c.outputs(),
        }
    }

    /// Number of weights (excluding biases).
    pub fn weight_len(&self) -> usize {
        let a = self.affine();
        a.rows * a.k
    }

    /// Number of parameters: weights then biases.
    pub fn param_len(&self) -> usize {
        let a = self.affine();
        a.rows * (a.k + 1)
    }

    /// Glorot fan-in and fan-out: the inputs and outputs each weight is
    /// shared between (a conv weight sees `kernel² · in_channels` inputs and
    /// feeds `kernel² · out_channels` outputs).
    pub fn fans(&self) -> (usize, usize) {
        match self {
            Layer::Dense(d) => (d.inputs, d.outputs),
            Layer::Conv2d(c) => (c.patch_len(), c.kernel * c.kernel * c.out_channels),
        }
    }

    fn affine(&self) -> Affine {
        match self {
            Layer::Dense(d) => Affine {
                rows: d.outputs,
                k: d.inputs,
            },
            Layer::Conv2d(c) => c.affine(),
        }
    }

    /// Splits this layer's parameter slice into (weights, biases).
    fn split<'p, T>(&self, params: &'p [T]) -> (&'p [T], &'p [T]) {
        params.split_at(self.weight_len())
    }

    /// `y = layer(x)` for `n` samples (no activation).
    pub(crate) fn forward<T: Real>(
        &self,
        params: &[T],
        x: &[T],
        n: usize,
        y: &mut [T],
        scratch: &mut LayerScratch<T>,
    ) {
        let (w, b) = self.split(params);
        let transposed = &mut scratch.transposed;
        match self {
            Layer::Dense(_) => self.affine().forward(w, b, x, n, y, transposed),
            Layer::Conv2d(c) => c.forward(w, b, x, n, y, &mut scratch.conv, transposed),
        }
    }

    /// Reverse mode: accumulates `∂L/∂params` into `grad` and overwrites
    /// `dx = ∂L/∂x` when asked, given `dy = ∂L/∂y`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn vjp<T: Real>(
        &self,
        params: &[T],
        x: &[T],
        n: usize,
        dy: &[T],
        grad: &mut [T],
        dx: Option<&mut [T]>,
        scratch: &mut LayerScratch<T>,
    ) {
        let (w, _) = self.split(params);
        let (dw, db) = grad.split_at_mut(self.weight_len());
        match self {
            Layer::Dense(_) => self.affine().vjp(w, x, n, dy, dw, db, dx),
            Layer::Conv2d(c) => c.vjp(w, x, n, dy, dw, db, dx, &mut scratch.conv),
        }
    }

    /// Forward mode: `dy` along the parameter direction `direction` (this
    /// layer's slice of it) and the input tangent `dx` (`None`: the input
    /// does not depend on the parameters).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn jvp<T: Real>(
        &self,
        params: &[T],
        direction: &[T],
        x: &[T],
        dx: Option<&[T]>,
        n: usize,
        dy: &mut [T],
        scratch: &mut LayerScratch<T>,
    ) {
        let (w, _) = self.split(params);
        let (dw, db) = self.split(direction);
        let transposed = &mut scratch.transposed;
        match self {
            Layer::Dense(_) => self.affine().jvp(w, dw, db, x, dx, n, dy, transposed),
            Layer::Conv2d(c) => c.jvp(w, dw, db, x, dx, n, dy, &mut scratch.conv, transposed),
        }
    }
}
