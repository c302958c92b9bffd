//! The pixel view: the usual Atari preprocessing (Mnih et al. 2015;
//! Machado et al. 2018), each step selectable.
//!
//! Per agent step: the game draws its last two frames of the frame skip
//! (only those: the earlier ones are never seen), in grayscale directly
//! when the colour would be thrown away; the two are combined by a
//! per-pixel max (which removes the 2600's sprite flicker), downsampled to
//! 84 × 84 by area averaging, and pushed onto a stack of the last `stack`
//! processed frames. The observation is height × width × (stack · colour)
//! with the channel fastest, oldest frame first, values in [0, 1]
//! (byte / 255). Stack slots before the episode's first frame are zero.

use super::game::Game;
#[cfg(doc)]
use super::screen::Divisor;
use super::screen::{HEIGHT, Screen, WIDTH};

/// The side of the downsampled frame (the DQN paper's 84 × 84).
pub const DOWNSAMPLED: usize = 84;

/// Which preprocessing steps the pixel view applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preprocess {
    /// One luminance channel instead of RGB.
    pub grayscale: bool,
    /// Downsample 160 × 210 to 84 × 84.
    pub downsample: bool,
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
            downsample: true,
            max_pool: true,
            stack: 4,
        }
    }
}

impl Preprocess {
    /// Observation shape, `[height, width, stack · colour channels]`.
    pub fn shape(&self) -> [usize; 3] {
        let (h, w) = if self.downsample {
            (DOWNSAMPLED, DOWNSAMPLED)
        } else {
            (HEIGHT, WIDTH)
        };
        [h, w, self.stack * if self.grayscale { 1 } else { 3 }]
    }
}

/// For each output index along one axis, the source range it averages:
/// output `i` of `n` covers source `[⌊i·N/n⌋, ⌊(i+1)·N/n⌋)` of `N`. For
/// 160 → 84 columns that is one or two source columns, never more.
const _: () = assert!(WIDTH < 2 * DOWNSAMPLED);

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

/// The pipeline's state: the last two drawn screens and the frame stack.
/// It is part of the env's state (the stack is what the agent sees), so
/// it is cloned with the env.
///
/// The stack is kept as bytes in the observation's own order (pixel-major,
/// `depth = stack · colour` bytes per pixel, oldest first). Pushing a frame
/// is then one move of the whole buffer left by `colour` bytes — every byte
/// steps one slot older, the oldest ones fall into the previous pixel's
/// newest slot, which the new frame overwrites — and writing the
/// observation is one contiguous byte-to-float loop.
#[derive(Debug, Clone)]
pub struct Pipeline {
    settings: Preprocess,
    screens: [Screen; 2],
    /// Index of the most recently drawn screen.
    latest: usize,
    rows: Vec<(usize, usize)>,
    cols: Vec<(usize, usize)>,
    stacked: Vec<u8>,
    /// Scratch: one output row's column sums (at most 255 × block height).
    sums: Vec<u32>,
    /// `⌈2¹⁶ / n⌉` for each block size n (index n): the mean of a block is
    /// `(sum + n/2)·r >> 16`, exact because `(sum + n/2)·n < 2¹⁶` (the
    /// argument of [`super::screen::Divisor`] with 2¹⁶ for 2³²).
    recips: Vec<u32>,
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new(settings: Preprocess) -> Pipeline {
        let [h, w, depth] = settings.shape();
        let rgb = !settings.grayscale;
        let colour = depth / settings.stack;
        let (rows, cols) = (spans(HEIGHT, h), spans(WIDTH, w));
        let largest = |s: &[(usize, usize)]| s.iter().map(|(a, b)| b - a).max().unwrap_or(1);
        Pipeline {
            settings,
            screens: [Screen::new(rgb), Screen::new(rgb)],
            latest: 0,
            recips: (0..=largest(&rows) * largest(&cols))
                .map(|n| (1u32 << 16).div_ceil(n.max(1) as u32))
                .collect(),
            rows,
            cols,
            stacked: vec![0; h * w * depth],
            sums: vec![0; WIDTH * colour],
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
        let depth = self.settings.stack * colour;
        self.stacked.copy_within(colour.., 0);
        let a = self.screens[self.latest].pixels();
        let b = self.screens[self.latest ^ 1].pixels();
        let b = if self.settings.max_pool { b } else { a };
        // The newest slot of every pixel.
        let newest = self.stacked[depth - colour..].chunks_mut(depth);
        if !self.settings.downsample {
            for ((slot, pa), pb) in newest
                .zip(a.chunks_exact(colour))
                .zip(b.chunks_exact(colour))
            {
                for ((o, &x), &y) in slot.iter_mut().zip(pa).zip(pb) {
                    *o = x.max(y);
                }
            }
            return;
        }
        let blocks = Blocks {
            rows: &self.rows,
            cols: &self.cols,
            recips: &self.recips,
        };
        // The colour count as a constant: the per-pixel loop unrolls.
        match colour {
            1 => blocks.mean_of_max::<1>(a, b, &mut self.sums, newest),
            _ => blocks.mean_of_max::<3>(a, b, &mut self.sums, newest),
        }
    }

    /// Write the observation (values in [0, 1]): the stack as it is stored.
    pub fn write(&self, obs: &mut [f64]) {
        const SCALE: f64 = 1.0 / 255.0;
        for (o, &v) in obs.iter_mut().zip(&self.stacked) {
            *o = v as f64 * SCALE;
        }
    }
}

/// The downsampling blocks: source row and column spans of each output
/// pixel, and the reciprocals of the block sizes.
struct Blocks<'a> {
    rows: &'a [(usize, usize)],
    cols: &'a [(usize, usize)],
    recips: &'a [u32],
}

impl Blocks<'_> {
    /// Write each block's rounded mean of `max(a, b)` (frames of `C`
    /// channels) into the first `C` bytes of successive `slots`.
    fn mean_of_max<'s, const C: usize>(
        &self,
        a: &[u8],
        b: &[u8],
        sums: &mut [u32],
        mut slots: impl Iterator<Item = &'s mut [u8]>,
    ) {
        let line = WIDTH * C;
        let sums = &mut sums[..line];
        for &(y0, y1) in self.rows {
            sums.fill(0);
            for y in y0..y1 {
                // Equal-length slices: no bounds checks, and the loop vectorises.
                let (ra, rb) = (&a[y * line..][..line], &b[y * line..][..line]);
                for ((s, &x), &z) in sums.iter_mut().zip(ra).zip(rb) {
                    *s += x.max(z) as u32;
                }
            }
            // A column block is one or two source columns (see `spans`):
            // its sum is sums[x0] + [two wide]·sums[x0 + 1], without a branch.
            let h = y1 - y0;
            for (&(x0, x1), slot) in self.cols.iter().zip(slots.by_ref()) {
                let wide = x1 - x0 - 1;
                let (recip, half) = (self.recips[h << wide], (h << wide) as u32 / 2);
                let first: &[u32; C] = sums[x0 * C..][..C].try_into().expect("C values");
                let second: &[u32; C] = sums[(x1 - 1) * C..][..C].try_into().expect("C values");
                for c in 0..C {
                    slot[c] = (((first[c] + second[c] * wide as u32 + half) * recip) >> 16) as u8;
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
        for (n, m) in [(210, 84), (160, 84), (160, 160)] {
            let s = spans(n, m);
            assert_eq!((s[0].0, s[m - 1].1), (0, n));
            assert!(s.windows(2).all(|w| w[0].1 == w[1].0 && w[0].0 < w[0].1));
        }
    }
}
