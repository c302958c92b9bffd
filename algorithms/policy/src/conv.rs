//! 2-D convolution with valid padding, for pixel policies.
//!
//! Layout (why): images are stored height × width × channels with the
//! channel fastest (HWC). Then a kernel row of `kernel × in_channels` values
//! is contiguous in the input, so im2col is `kernel` slice copies per output
//! pixel, and the layer's output, `out_channels × pixels` column-major, is
//! again HWC — the next conv layer or a dense layer reads it unchanged
//! (flattening is free).
//!
//! Weights are `out_channels × (kernel · kernel · in_channels)` row-major,
//! the patch index ordered `(ky, kx, c)`; then the bias (`out_channels`).
//! A batch is turned into patches a chunk of samples at a time, so the
//! work is one matrix product per chunk and the scratch stays small.

use crate::affine::Affine;
use crate::kernel::copy_short;
use crate::real::Real;
use crate::shape::ShapeError;
use crate::vector::grow;

/// Upper bound on the im2col scratch, in values (2¹⁶: 256 KiB of `f32`, two
/// Atari states' first-layer patches): the patches are written, then read
/// by the product while still in L2.
const PATCH_CHUNK: usize = 1 << 16;

/// The im2col patches of one chunk of samples and their cotangents or
/// tangents; sized for one chunk, so they do not grow with the batch.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConvScratch<T> {
    patches: Vec<T>,
    d_patches: Vec<T>,
}

/// A convolution `in_channels → out_channels` with a square `kernel`,
/// `stride` and valid padding over an `in_height × in_width` image:
/// output size `⌊(in − kernel) / stride⌋ + 1` per axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2d {
    /// Input channels.
    pub in_channels: usize,
    /// Input height.
    pub in_height: usize,
    /// Input width.
    pub in_width: usize,
    /// Output channels (filters).
    pub out_channels: usize,
    /// Kernel side.
    pub kernel: usize,
    /// Stride on both axes.
    pub stride: usize,
}

impl Conv2d {
    /// Checks the shape: all sizes positive and the kernel fits the image.
    pub fn new(
        in_channels: usize,
        in_height: usize,
        in_width: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
    ) -> Result<Conv2d, ShapeError> {
        let conv = Conv2d {
            in_channels,
            in_height,
            in_width,
            out_channels,
            kernel,
            stride,
        };
        if [
            in_channels,
            in_height,
            in_width,
            out_channels,
            kernel,
            stride,
        ]
        .contains(&0)
        {
            return Err(ShapeError(format!(
                "conv layer {conv:?}: every size must be positive"
            )));
        }
        if kernel > in_height || kernel > in_width {
            return Err(ShapeError(format!(
                "conv layer {conv:?}: kernel {kernel} larger than the {in_height}×{in_width} input"
            )));
        }
        Ok(conv)
    }

    /// Output height `⌊(in_height − kernel) / stride⌋ + 1`.
    pub fn out_height(&self) -> usize {
        (self.in_height - self.kernel) / self.stride + 1
    }

    /// Output width `⌊(in_width − kernel) / stride⌋ + 1`.
    pub fn out_width(&self) -> usize {
        (self.in_width - self.kernel) / self.stride + 1
    }

    /// Input values per sample.
    pub fn inputs(&self) -> usize {
        self.in_height * self.in_width * self.in_channels
    }

    /// Output values per sample.
    pub fn outputs(&self) -> usize {
        self.pixels() * self.out_channels
    }

    /// Values in one patch: `kernel² · in_channels`.
    pub fn patch_len(&self) -> usize {
        self.kernel * self.kernel * self.in_channels
    }

    fn pixels(&self) -> usize {
        self.out_height() * self.out_width()
    }

    /// im2col values per sample: one patch per output pixel.
    fn patch_values(&self) -> usize {
        self.patch_len() * self.pixels()
    }

    pub(crate) fn affine(&self) -> Affine {
        Affine {
            rows: self.out_channels,
            k: self.patch_len(),
        }
    }

    /// Samples per im2col chunk.
    pub(crate) fn chunk(&self) -> usize {
        (PATCH_CHUNK / self.patch_values()).max(1)
    }

    /// Visits every (patch row, input run) pair of `samples` consecutive
    /// samples: `f(patch_offset, input_offset, len)` for each kernel row of
    /// each output pixel. im2col and col2im are the two directions of this map.
    fn for_each_run(&self, samples: usize, mut f: impl FnMut(usize, usize, usize)) {
        let run = self.kernel * self.in_channels;
        let (k, inputs) = (self.patch_len(), self.inputs());
        let mut patch = 0;
        for s in 0..samples {
            for oy in 0..self.out_height() {
                for ox in 0..self.out_width() {
                    for ky in 0..self.kernel {
                        let y = oy * self.stride + ky;
                        let x = ox * self.stride;
                        let src = s * inputs + (y * self.in_width + x) * self.in_channels;
                        f(patch + ky * run, src, run);
                    }
                    patch += k;
                }
            }
        }
    }

    fn im2col<T: Real>(&self, x: &[T], samples: usize, cols: &mut [T]) {
        self.for_each_run(samples, |dst, src, len| {
            copy_short(&x[src..src + len], &mut cols[dst..dst + len]);
        });
    }

    fn col2im<T: Real>(&self, cols: &[T], samples: usize, dx: &mut [T]) {
        dx.fill(T::ZERO);
        self.for_each_run(samples, |src, dst, len| {
            for (d, c) in dx[dst..dst + len].iter_mut().zip(&cols[src..src + len]) {
                *d = *d + *c;
            }
        });
    }

    /// Splits `0..n` into im2col chunks `(first, end)`, making sure the
    /// scratch holds one chunk (it grows once, then is reused).
    fn chunks<T: Real>(
        &self,
        n: usize,
        scratch: &mut ConvScratch<T>,
    ) -> impl Iterator<Item = (usize, usize)> + use<T> {
        let chunk = self.chunk();
        let len = self.patch_values() * chunk.min(n);
        grow(&mut scratch.patches, len);
        grow(&mut scratch.d_patches, len);
        (0..n).step_by(chunk).map(move |s| (s, (s + chunk).min(n)))
    }

    /// See [`crate::Layer`]: `y = conv(x)` a chunk of samples at a time.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn forward<T: Real>(
        &self,
        w: &[T],
        b: &[T],
        x: &[T],
        n: usize,
        y: &mut [T],
        scratch: &mut ConvScratch<T>,
        transposed: &mut Vec<T>,
    ) {
        let (inputs, outputs, cells) = (self.inputs(), self.outputs(), self.patch_values());
        for (s0, s1) in self.chunks(n, scratch) {
            let patches = &mut scratch.patches[..cells * (s1 - s0)];
            self.im2col(&x[s0 * inputs..s1 * inputs], s1 - s0, patches);
            let cols = self.pixels() * (s1 - s0);
            self.affine().forward(
                w,
                b,
                patches,
                cols,
                &mut y[s0 * outputs..s1 * outputs],
                transposed,
            );
        }
    }

    /// Reverse mode: im2col again (cheaper than caching patches for the
    /// whole batch), `dW += dY Pᵀ`, and `dx = col2im(Wᵀ dY)` when asked.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn vjp<T: Real>(
        &self,
        w: &[T],
        x: &[T],
        n: usize,
        dy: &[T],
        dw: &mut [T],
        db: &mut [T],
        mut dx: Option<&mut [T]>,
        scratch: &mut ConvScratch<T>,
    ) {
        let (inputs, outputs, cells) = (self.inputs(), self.outputs(), self.patch_values());
        for (s0, s1) in self.chunks(n, scratch) {
            let patches = &mut scratch.patches[..cells * (s1 - s0)];
            let d_patches = &mut scratch.d_patches[..cells * (s1 - s0)];
            self.im2col(&x[s0 * inputs..s1 * inputs], s1 - s0, patches);
            let cols = self.pixels() * (s1 - s0);
            let dy = &dy[s0 * outputs..s1 * outputs];
            let want_dx = dx.is_some();
            self.affine().vjp(
                w,
                patches,
                cols,
                dy,
                dw,
                db,
                want_dx.then_some(&mut *d_patches),
            );
            if let Some(dx) = dx.as_deref_mut() {
                self.col2im(d_patches, s1 - s0, &mut dx[s0 * inputs..s1 * inputs]);
            }
        }
    }

    /// Forward mode: `dY = dW P + W im2col(dx) + db`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn jvp<T: Real>(
        &self,
        w: &[T],
        dw: &[T],
        db: &[T],
        x: &[T],
        dx: Option<&[T]>,
        n: usize,
        dy: &mut [T],
        scratch: &mut ConvScratch<T>,
        transposed: &mut Vec<T>,
    ) {
        let (inputs, outputs, cells) = (self.inputs(), self.outputs(), self.patch_values());
        for (s0, s1) in self.chunks(n, scratch) {
            let patches = &mut scratch.patches[..cells * (s1 - s0)];
            let d_patches = &mut scratch.d_patches[..cells * (s1 - s0)];
            self.im2col(&x[s0 * inputs..s1 * inputs], s1 - s0, patches);
            if let Some(dx) = dx {
                self.im2col(&dx[s0 * inputs..s1 * inputs], s1 - s0, d_patches);
            }
            let cols = self.pixels() * (s1 - s0);
            let dy = &mut dy[s0 * outputs..s1 * outputs];
            self.affine().jvp(
                w,
                dw,
                db,
                patches,
                dx.map(|_| &*d_patches),
                cols,
                dy,
                transposed,
            );
        }
    }
}
