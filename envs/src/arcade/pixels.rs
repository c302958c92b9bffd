//! The pixel view: the usual Atari preprocessing (Mnih et al. 2015;
//! Machado et al. 2018), each step selectable.
//!
//! Per agent step: the game draws its last two frames of the frame skip
//! (only those: the earlier ones are never seen), in grayscale directly
//! when the colour would be thrown away; the two are combined by a
//! per-pixel max (which removes the 2600's sprite flicker), downsampled
//! (84 × 84 as DQN, or the TRPO paper's 50 × 38, or any size) by area
//! averaging, and pushed onto a stack of the last `stack`
//! processed frames. The observation is height × width × (stack · colour)
//! with the channel fastest, oldest frame first, values in [0, 1]
//! (byte / 255). Stack slots before the episode's first frame are zero.

use super::game::Game;
use super::screen::{HEIGHT, Screen, WIDTH};
use std::sync::Arc;

/// The downsampled frame of the DQN preprocessing (Mnih et al. 2015),
/// height × width.
pub const DQN_SIZE: [usize; 2] = [84, 84];

/// The downsampled frame of the TRPO paper's Atari experiments (Schulman
/// et al. 2015: 4 × 50 × 38 inputs to its conv net of ≈ 33,500 parameters;
/// ours has 33,458 on that shape), height × width: 210 × 160 shrunk by
/// ≈ 4.2 on both axes.
pub const TRPO_SIZE: [usize; 2] = [50, 38];

/// Which preprocessing steps the pixel view applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preprocess {
    /// One luminance channel instead of RGB.
    pub grayscale: bool,
    /// Downsample 160 × 210 to this height × width (`None`: keep 210 × 160).
    pub downsample: Option<[usize; 2]>,
    /// Max over the last two frames of each frame skip.
    pub max_pool: bool,
    /// Frames stacked into one observation (1 = no stacking).
    pub stack: usize,
}

impl Default for Preprocess {
    /// The DQN preprocessing: grayscale, 84 × 84, max-pooled, 4 frames.
    fn default() -> Preprocess {
        Preprocess {
            grayscale: true,
            downsample: Some(DQN_SIZE),
            max_pool: true,
            stack: 4,
        }
    }
}

impl Preprocess {
    /// Observation shape, `[height, width, stack · colour channels]`.
    pub fn shape(&self) -> [usize; 3] {
        let [h, w] = self.downsample.unwrap_or([HEIGHT, WIDTH]);
        [h, w, self.stack * if self.grayscale { 1 } else { 3 }]
    }
}

/// For each output index along one axis, the source range it averages:
/// output `i` of `n` covers source `[⌊i·N/n⌋, ⌊(i+1)·N/n⌋)` of `N` (at
/// least one source index; `n ≤ N`).
fn spans(source: usize, out: usize) -> Vec<(usize, usize)> {
    (0..out)
        .map(|i| {
            (
                i * source / out,
                ((i + 1) * source / out).max(i * source / out + 1),
            )
        })
        .collect()
}

/// A row of column sums: 160 columns of up to 3 channels. A block is at
/// most 210 rows high, and 210 · 255 fits 16 bits.
type Columns = [u16; WIDTH * 3];

/// The pipeline's state: the last two drawn screens and the frame stack.
/// It is part of the env's state (the stack is what the agent sees), so
/// it is cloned with the env.
///
/// The stack is kept as bytes in the observation's own order (pixel-major,
/// `depth = stack · colour` bytes per pixel, oldest first), so writing the
/// observation is one contiguous byte-to-float loop. Pushing a frame moves
/// every pixel's bytes one slot older and puts the new frame's bytes in
/// the newest slot.
#[derive(Debug, Clone)]
pub struct Pipeline {
    settings: Preprocess,
    screens: [Screen; 2],
    /// Index of the most recently drawn screen.
    latest: usize,
    /// Immutable tables, shared by clones.
    blocks: Arc<Blocks>,
    stacked: Vec<u8>,
    /// Scratch: the newest processed frame.
    frame: Vec<u8>,
    /// Scratch for the downsampling.
    columns: Box<Columns>,
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new(settings: Preprocess) -> Pipeline {
        let [h, w, depth] = settings.shape();
        let rgb = !settings.grayscale;
        let colour = depth / settings.stack;
        Pipeline {
            settings,
            screens: [Screen::new(rgb), Screen::new(rgb)],
            latest: 0,
            blocks: Arc::new(Blocks::new(h, w)),
            stacked: vec![0; h * w * depth],
            frame: vec![0; h * w * colour],
            columns: Box::new([0; WIDTH * 3]),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Preprocess {
        &self.settings
    }

    /// Draw the game's current frame into the next screen.
    pub fn capture<G: Game>(&mut self, game: &G) {
        self.latest ^= 1;
        game.draw(&mut self.screens[self.latest]);
    }

    /// Start an episode: zero the stack, draw the first frame into both
    /// screens (so the first max is the frame itself) and push it.
    pub fn start<G: Game>(&mut self, game: &G) {
        self.stacked.fill(0);
        self.capture(game);
        self.screens[self.latest ^ 1] = self.screens[self.latest].clone();
        self.push();
    }

    /// Process the captured screens into the newest stack slot (the oldest
    /// frame drops out). Max-pooling is fused into the downsampling: each
    /// output pixel is the rounded mean over its source block of
    /// `max(a, b)`.
    pub fn push(&mut self) {
        let colour = self.screens[0].channels();
        let a = self.screens[self.latest].pixels();
        let b = self.screens[self.latest ^ 1].pixels();
        let b = if self.settings.max_pool { b } else { a };
        if self.settings.downsample.is_none() {
            for ((o, &x), &y) in self.frame.iter_mut().zip(a).zip(b) {
                *o = x.max(y);
            }
        } else {
            // The colour count as a constant: the per-pixel loop unrolls.
            match colour {
                1 => self
                    .blocks
                    .mean_of_max::<1>(a, b, &mut self.columns, &mut self.frame),
                _ => self
                    .blocks
                    .mean_of_max::<3>(a, b, &mut self.columns, &mut self.frame),
            }
        }
        let depth = self.settings.stack * colour;
        if depth == 4 {
            // The default (4 grayscale frames): a pixel's stack is one
            // little-endian u32, oldest frame in the low byte; pushing is a
            // shift and an insert, a loop that vectorises.
            for (slot, &new) in self.stacked.chunks_exact_mut(4).zip(&self.frame) {
                let old = u32::from_le_bytes(slot.try_into().expect("4 bytes"));
                slot.copy_from_slice(&(old >> 8 | u32::from(new) << 24).to_le_bytes());
            }
        } else {
            // Every byte one slot older (the oldest fall into the previous
            // pixel's newest slot), then the newest slots overwritten.
            self.stacked.copy_within(colour.., 0);
            let newest = self.stacked[depth - colour..].chunks_mut(depth);
            for (slot, new) in newest.zip(self.frame.chunks_exact(colour)) {
                slot[..colour].copy_from_slice(new);
            }
        }
    }

    /// The observation as it is stored: value `j` is `bytes()[j] / 255`
    /// (exactly what [`Pipeline::write`] writes).
    pub fn bytes(&self) -> &[u8] {
        &self.stacked
    }

    /// Write the observation (values in [0, 1]): the stack as it is stored.
    /// The 28,224 conversions of the default view are most of an agent
    /// step's cost in SSE2 code, so they run in AVX2 code when the CPU has
    /// it (the same bits: a conversion and one multiplication per value).
    pub fn write(&self, obs: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { bytes_to_unit_avx2(&self.stacked, obs) };
            return;
        }
        bytes_to_unit(&self.stacked, obs);
    }
}

/// `out[i] = bytes[i] / 255` (as a multiplication by the rounded 1/255,
/// the ABI's byte-observation scale, so bytes handed on stand for these
/// very values).
#[inline(always)]
fn bytes_to_unit(bytes: &[u8], out: &mut [f64]) {
    use trustbench_plugin::abi::TB_BYTE_OBSERVATION_SCALE as SCALE;
    for (o, &v) in out.iter_mut().zip(bytes) {
        *o = f64::from(v) * SCALE;
    }
}

/// [`bytes_to_unit`] compiled for AVX2 (eight conversions per instruction pair).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn bytes_to_unit_avx2(bytes: &[u8], out: &mut [f64]) {
    bytes_to_unit(bytes, out);
}

/// The downsampling blocks: the source rows of each output row and the
/// source columns of each output column.
#[derive(Debug, Clone)]
struct Blocks {
    rows: Vec<(usize, usize)>,
    cols: Vec<(usize, usize)>,
}

impl Blocks {
    fn new(h: usize, w: usize) -> Blocks {
        Blocks {
            rows: spans(HEIGHT, h),
            cols: spans(WIDTH, w),
        }
    }

    /// Write each block's mean of `max(a, b)`, rounded half up (frames of
    /// `C` channels), into `out`, an output frame of `C` channels.
    ///
    /// Per output row, a vectorised pass sums `max(a, b)` down the row's
    /// source rows into column sums; each output value then adds its
    /// block's columns and divides. The divisions (one per output value:
    /// 1,900 for 50 × 38, 7,056 for 84 × 84) cost less than the column
    /// pass, and are exact for any block size.
    fn mean_of_max<const C: usize>(
        &self,
        a: &[u8],
        b: &[u8],
        columns: &mut Columns,
        out: &mut [u8],
    ) {
        const { assert!(C <= 3) };
        let line = WIDTH * C;
        let columns = &mut columns[..line];
        let out_rows = out.chunks_exact_mut(self.cols.len() * C);
        for (&(y0, y1), out) in self.rows.iter().zip(out_rows) {
            columns.fill(0);
            for y in y0..y1 {
                // Equal-length slices: no bounds checks, and the loop vectorises.
                let (ra, rb) = (&a[y * line..][..line], &b[y * line..][..line]);
                for ((s, &x), &z) in columns.iter_mut().zip(ra).zip(rb) {
                    *s += u16::from(x.max(z));
                }
            }
            for (&(x0, x1), out) in self.cols.iter().zip(out.chunks_exact_mut(C)) {
                let n = ((y1 - y0) * (x1 - x0)) as u32;
                for (c, o) in out.iter_mut().enumerate() {
                    let sum: u32 = columns[x0 * C + c..x1 * C]
                        .iter()
                        .step_by(C)
                        .map(|&s| u32::from(s))
                        .sum();
                    *o = ((sum + n / 2) / n) as u8;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_tile_the_source_exactly() {
        for (n, m) in [
            (210, 84),
            (160, 84),
            (160, 160),
            (210, 50),
            (160, 38),
            (7, 1),
        ] {
            let s = spans(n, m);
            assert_eq!((s[0].0, s[m - 1].1), (0, n));
            assert!(s.windows(2).all(|w| w[0].1 == w[1].0 && w[0].0 < w[0].1));
        }
    }

    /// The fast downsampling against its definition: each output is the
    /// mean of `max(a, b)` over its block, rounded half up.
    #[test]
    fn downsampling_is_the_rounded_block_mean_of_the_max() {
        fn check<const C: usize>(h: usize, w: usize) {
            let mut rng = crate::Rng::new(C as u64);
            let mut frame = || -> Vec<u8> {
                (0..WIDTH * HEIGHT * C)
                    .map(|_| rng.below(256) as u8)
                    .collect()
            };
            let (a, b) = (frame(), frame());
            let mut out = vec![0u8; h * w * C];
            Blocks::new(h, w).mean_of_max::<C>(&a, &b, &mut Box::new([0; WIDTH * 3]), &mut out);
            let (rows, cols) = (spans(HEIGHT, h), spans(WIDTH, w));
            for (i, &(y0, y1)) in rows.iter().enumerate() {
                for (j, &(x0, x1)) in cols.iter().enumerate() {
                    for c in 0..C {
                        let mut sum = 0;
                        for y in y0..y1 {
                            for x in x0..x1 {
                                let k = (y * WIDTH + x) * C + c;
                                sum += u32::from(a[k].max(b[k]));
                            }
                        }
                        let n = ((y1 - y0) * (x1 - x0)) as u32;
                        let expected = (sum + n / 2) / n;
                        let got = out[(i * w + j) * C + c];
                        assert_eq!(
                            u32::from(got),
                            expected,
                            "{h}×{w}: row {i}, column {j}, channel {c}"
                        );
                    }
                }
            }
        }
        for [h, w] in [DQN_SIZE, TRPO_SIZE, [1, 1], [210, 160]] {
            check::<1>(h, w);
            check::<3>(h, w);
        }
    }

    /// Every pixel's stack holds the last `stack` frames, oldest first,
    /// zeros before the first (both push paths: 4 grayscale frames, and
    /// any other depth).
    #[test]
    fn pushing_keeps_the_last_frames_oldest_first() {
        for (grayscale, stack) in [(true, 4), (true, 3), (false, 4), (false, 2)] {
            let mut pipeline = Pipeline::new(Preprocess {
                grayscale,
                stack,
                ..Preprocess::default()
            });
            let colour = if grayscale { 1 } else { 3 };
            for k in 1..=6u8 {
                for screen in &mut pipeline.screens {
                    screen.clear([10 * k; 3]);
                }
                pipeline.push();
                let expected: Vec<u8> = (0..stack)
                    .map(|slot| (k as usize + slot + 1).saturating_sub(stack) as u8 * 10)
                    .flat_map(|v| std::iter::repeat_n(v, colour))
                    .collect();
                for pixel in pipeline.stacked.chunks_exact(stack * colour) {
                    assert_eq!(
                        pixel,
                        &expected[..],
                        "gray {grayscale}, stack {stack}, push {k}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_avx2_conversion_gives_the_same_values() {
        let bytes: Vec<u8> = (0..=255).cycle().take(1000).collect();
        let (mut fast, mut plain) = (vec![0.0; 1000], vec![0.0; 1000]);
        bytes_to_unit(&bytes, &mut plain);
        assert!(
            plain
                .iter()
                .zip(&bytes)
                .all(|(p, &b)| (p - f64::from(b) / 255.0).abs() < 1e-15)
        );
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2.
            unsafe { bytes_to_unit_avx2(&bytes, &mut fast) };
            assert_eq!(fast, plain);
        }
    }
}
