//! The element types network math runs in: [`f32`] or [`f64`].
//!
//! Why both: a pixel policy's forward and derivative passes are matrix
//! products over millions of values per batch, where `f32` halves memory
//! traffic and doubles the SIMD width, and its ~7 significant digits are
//! far more than a stochastic gradient needs. Sums whose *value* decides
//! something — KL, surrogate, CG scalars, the line search — stay `f64`
//! (see the crate docs). Tests that compare with finite differences run the
//! network in `f64`: a central difference with `h = 1e-6` needs it.

use std::fmt::Debug;
use std::ops::{Add, Mul, Sub};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// `f32` or `f64`: the arithmetic the network kernels need, nothing more
/// (sealed: the kernels' determinism argument is made for these two types).
pub trait Real:
    sealed::Sealed
    + Copy
    + Default
    + PartialOrd
    + Debug
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// Round-to-nearest conversion from `f64` (exact for `f64`).
    fn from_f64(x: f64) -> Self;
    /// Exact widening to `f64`.
    fn to_f64(self) -> f64;
    /// `v ← tanh v` for every element, the same bits on every machine.
    fn tanh_in_place(values: &mut [Self]);
}

impl Real for f64 {
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;

    fn from_f64(x: f64) -> f64 {
        x
    }

    fn to_f64(self) -> f64 {
        self
    }

    fn tanh_in_place(values: &mut [f64]) {
        crate::tanh::tanh_in_place(values);
    }
}

/// Values widened per block by [`f32::tanh_in_place`]: a stack buffer that
/// keeps the `f64` kernel's vector loop fed.
const TANH_BLOCK: usize = 256;

impl Real for f32 {
    const ZERO: f32 = 0.0;
    const ONE: f32 = 1.0;

    fn from_f64(x: f64) -> f32 {
        x as f32
    }

    fn to_f64(self) -> f64 {
        f64::from(self)
    }

    /// `tanh` in `f64`, rounded once to `f32`: the `f64` kernel is already
    /// bit-reproducible, and widening, then rounding to nearest are exact IEEE
    /// operations, so this is too (and within one `f32` ulp of the truth).
    fn tanh_in_place(values: &mut [f32]) {
        let mut wide = [0.0f64; TANH_BLOCK];
        for block in values.chunks_mut(TANH_BLOCK) {
            let wide = &mut wide[..block.len()];
            for (w, v) in wide.iter_mut().zip(block.iter()) {
                *w = f64::from(*v);
            }
            crate::tanh::tanh_in_place(wide);
            for (v, w) in block.iter_mut().zip(wide.iter()) {
                *v = *w as f32;
            }
        }
    }
}

/// `dst[i] = T::from_f64(src[i])`.
pub(crate) fn narrow<T: Real>(src: &[f64], dst: &mut [T]) {
    assert_eq!(src.len(), dst.len(), "narrow: length mismatch");
    for (d, s) in dst.iter_mut().zip(src) {
        *d = T::from_f64(*s);
    }
}

/// `dst[i] += src[i]` in `f64`.
pub(crate) fn add_widened<T: Real>(src: &[T], dst: &mut [f64]) {
    assert_eq!(src.len(), dst.len(), "add_widened: length mismatch");
    for (d, s) in dst.iter_mut().zip(src) {
        *d += s.to_f64();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_tanh_is_the_f64_tanh_rounded() {
        let mut rng = trustbench_plugin::rng::Rng::new(4);
        let x: Vec<f32> = (0..1000).map(|_| (3.0 * rng.normal()) as f32).collect();
        let mut y = x.clone();
        f32::tanh_in_place(&mut y);
        for (x, y) in x.iter().zip(&y) {
            let mut wide = [f64::from(*x)];
            crate::tanh::tanh_in_place(&mut wide);
            assert_eq!(y.to_bits(), (wide[0] as f32).to_bits(), "tanh({x})");
            assert!((f64::from(*y) - libm::tanh(f64::from(*x))).abs() <= 1e-7);
        }
    }
}
