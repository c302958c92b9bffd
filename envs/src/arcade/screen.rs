//! The two ways a game shows itself: a [`Screen`] of 160 × 210 pixels (RGB,
//! or grayscale drawn directly when only grayscale is needed), and a
//! [`Grid`], the compact view's small boolean map with one channel per
//! object kind (as MinAtar's 10 × 10 × n state), both addressed in [`Rect`]s
//! of screen pixels. Nothing here knows about games: they draw on these.
//!
//! Games draw only filled rectangles and 8-pixel-wide bitmaps, as the
//! Atari 2600 did, so a frame costs a memset and a few hundred short row
//! fills.

use crate::render::Rgb;

/// Screen width, pixels (the Atari 2600's, as ALE reports it).
pub const WIDTH: usize = 160;
/// Screen height, pixels.
pub const HEIGHT: usize = 210;

/// Luminance of an RGB colour (ITU-R BT.601 weights, as OpenCV's
/// `cvtColor(RGB2GRAY)`): `Y = 0.299 R + 0.587 G + 0.114 B`, rounded.
pub fn luma([r, g, b]: Rgb) -> u8 {
    ((299 * r as u32 + 587 * g as u32 + 114 * b as u32 + 500) / 1000) as u8
}

/// An axis-aligned rectangle in screen pixels: `[x, x + w) × [y, y + h)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width.
    pub w: i32,
    /// Height.
    pub h: i32,
}

impl Rect {
    /// `[x, x + w) × [y, y + h)`.
    pub const fn new(x: i32, y: i32, w: i32, h: i32) -> Rect {
        Rect { x, y, w, h }
    }

    /// Whether the two rectangles share a pixel.
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }

    /// Horizontal centre.
    pub fn cx(&self) -> i32 {
        self.x + self.w / 2
    }

    /// Vertical centre.
    pub fn cy(&self) -> i32 {
        self.y + self.h / 2
    }
}

/// A 160 × 210 frame being drawn, one byte per pixel (grayscale) or three (RGB).
#[derive(Debug, Clone, PartialEq)]
pub struct Screen {
    channels: usize,
    pixels: Vec<u8>,
}

impl Screen {
    /// A black screen; `rgb` chooses three bytes per pixel over one.
    pub fn new(rgb: bool) -> Screen {
        let channels = if rgb { 3 } else { 1 };
        Screen {
            channels,
            pixels: vec![0; WIDTH * HEIGHT * channels],
        }
    }

    /// Bytes per pixel: 1 (grayscale) or 3 (RGB).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The pixels, row-major from the top-left.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// Overwrite the whole screen with `other`, a screen of the same format
    /// (a game's static backdrop).
    pub fn copy_from(&mut self, other: &Screen) {
        assert_eq!(self.channels, other.channels, "screen formats differ");
        self.pixels.copy_from_slice(&other.pixels);
    }

    /// Fill the whole screen.
    pub fn clear(&mut self, color: Rgb) {
        if self.channels == 1 {
            self.pixels.fill(luma(color));
        } else {
            for p in self.pixels.chunks_exact_mut(3) {
                p.copy_from_slice(&color);
            }
        }
    }

    /// Fill `r`, clipped to the screen.
    pub fn rect(&mut self, r: Rect, color: Rgb) {
        let (x0, x1) = (
            r.x.max(0) as usize,
            (r.x + r.w).clamp(0, WIDTH as i32) as usize,
        );
        let (y0, y1) = (
            r.y.max(0) as usize,
            (r.y + r.h).clamp(0, HEIGHT as i32) as usize,
        );
        if x0 >= x1 {
            return;
        }
        let c = self.channels;
        let gray = luma(color);
        for y in y0..y1 {
            let row = &mut self.pixels[(y * WIDTH + x0) * c..(y * WIDTH + x1) * c];
            if c == 1 {
                fill_row(row, gray);
            } else {
                for p in row.chunks_exact_mut(3) {
                    p.copy_from_slice(&color);
                }
            }
        }
    }

    /// A bitmap: bit 7 of `rows[i]` is the leftmost of `width` pixels of
    /// row `i`; each bit is drawn `sx × sy` pixels (the 2600 stretched its
    /// sprites the same way), clipped to the screen.
    ///
    /// Sprites are most of what some games draw (Space Invaders' formation),
    /// so each screen row is one pass over the sprite's on-screen columns
    /// with a per-pixel select, not a rectangle per run of bits.
    pub fn sprite(&mut self, x: i32, y: i32, rows: &[u8], sx: i32, sy: i32, color: Rgb) {
        let wide = 8 * sx;
        // The sprite's columns that land on the screen.
        let (m0, m1) = ((-x).clamp(0, wide), (WIDTH as i32 - x).clamp(0, wide));
        if m0 >= m1 {
            return;
        }
        let c = self.channels;
        let gray = luma(color);
        for (i, &bits) in rows.iter().enumerate() {
            // Bit m of `mask` is on-screen column m of the sprite (from the left).
            let mask = (0..8)
                .filter(|j| bits & (0x80 >> j) != 0)
                .fold(0u32, |mask, j| mask | ((1 << sx) - 1) << (j * sx));
            if mask == 0 {
                continue;
            }
            for py in (y + i as i32 * sy..y + (i as i32 + 1) * sy)
                .filter(|py| (0..HEIGHT as i32).contains(py))
            {
                let start = (py as usize * WIDTH + (x + m0) as usize) * c;
                let row = &mut self.pixels[start..start + (m1 - m0) as usize * c];
                if c == 1 && (m0, m1) == (0, wide) && sx <= 2 {
                    // Whole rows of 8 pixels at a time, as 64-bit blends.
                    let masks = if sx == 1 {
                        [BYTE_MASKS[bits as usize], 0]
                    } else {
                        [
                            PAIR_MASKS[(bits >> 4) as usize],
                            PAIR_MASKS[(bits & 15) as usize],
                        ]
                    };
                    for (eight, mask) in row.chunks_exact_mut(8).zip(masks) {
                        let old = u64::from_le_bytes(eight.try_into().expect("8 bytes"));
                        let new = (old & !mask) | (u64::from_le_bytes([gray; 8]) & mask);
                        eight.copy_from_slice(&new.to_le_bytes());
                    }
                } else if c == 1 {
                    for (m, p) in (m0..m1).zip(row.iter_mut()) {
                        *p = if mask >> m & 1 != 0 { gray } else { *p };
                    }
                } else {
                    for (m, p) in (m0..m1).zip(row.chunks_exact_mut(3)) {
                        if mask >> m & 1 != 0 {
                            p.copy_from_slice(&color);
                        }
                    }
                }
            }
        }
    }

    /// `value` in decimal, right-aligned so its last digit ends at `right`,
    /// with 3 × 5 digits doubled to 6 × 10.
    pub fn number(&mut self, right: i32, y: i32, value: i32, color: Rgb) {
        let mut v = value.unsigned_abs();
        let mut x = right - 6;
        loop {
            self.sprite(x, y, &DIGITS[(v % 10) as usize], 2, 2, color);
            v /= 10;
            x -= 8;
            if v == 0 {
                break;
            }
        }
        if value < 0 {
            self.rect(Rect::new(x + 1, y + 4, 5, 2), color);
        }
    }

    /// The frame as RGB scaled to `width × height` by nearest neighbour
    /// (for `Env::render`; a grayscale screen is spread to three bytes).
    pub fn to_rgb(&self, width: usize, height: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(width * height * 3);
        for y in 0..height {
            let sy = y * HEIGHT / height;
            for x in 0..width {
                let i = (sy * WIDTH + x * WIDTH / width) * self.channels;
                match self.channels {
                    1 => out.extend_from_slice(&[self.pixels[i]; 3]),
                    _ => out.extend_from_slice(&self.pixels[i..i + 3]),
                }
            }
        }
        out
    }
}

/// `row.fill(value)` for the short rows games draw most (Q*bert's pyramid
/// is ~1,000 rows of 11–22 pixels a frame): two overlapping fixed-size
/// stores instead of a call to `memset`, whose overhead dominates at these
/// lengths.
fn fill_row(row: &mut [u8], value: u8) {
    let n = row.len();
    match n {
        0 => {}
        1..=3 => {
            row[0] = value;
            row[n / 2] = value;
            row[n - 1] = value;
        }
        4..=7 => {
            row[..4].copy_from_slice(&[value; 4]);
            row[n - 4..].copy_from_slice(&[value; 4]);
        }
        8..=15 => {
            row[..8].copy_from_slice(&[value; 8]);
            row[n - 8..].copy_from_slice(&[value; 8]);
        }
        16..=32 => {
            row[..16].copy_from_slice(&[value; 16]);
            row[n - 16..].copy_from_slice(&[value; 16]);
        }
        _ => row.fill(value),
    }
}

/// For each value of the `log₂ ENTRIES` sprite bits of one 64-bit word of
/// pixels, drawn `scale` pixels wide each, the pixels they cover as a
/// little-endian byte mask: byte j (pixel j from the left) is 0xFF when its
/// bit is set; the highest bit is the leftmost.
const fn byte_masks<const ENTRIES: usize>(scale: u32) -> [u64; ENTRIES] {
    let n = ENTRIES.trailing_zeros();
    let block = u64::MAX >> (64 - 8 * scale);
    let mut masks = [0; ENTRIES];
    let mut bits = 0;
    while bits < ENTRIES {
        let mut j = 0;
        while j < n {
            if bits & (1 << (n - 1 - j)) != 0 {
                masks[bits] |= block << (8 * scale * j);
            }
            j += 1;
        }
        bits += 1;
    }
    masks
}

/// [`byte_masks`] for a byte of sprite bits, one pixel each.
static BYTE_MASKS: [u64; 256] = byte_masks(1);
/// [`byte_masks`] for 4 sprite bits, two pixels each.
static PAIR_MASKS: [u64; 16] = byte_masks(2);

/// The runs of set bits among the low `width` bits of `bits`, lowest
/// first, as `(first bit, length)`: each run is drawn as one rectangle.
/// Each run costs two `trailing_zeros`, not a scan over its bits.
pub fn bit_runs(bits: u32, width: i32) -> impl Iterator<Item = (i32, i32)> {
    let mut rest = u64::from(bits) & ((1u64 << width.clamp(0, 32)) - 1);
    std::iter::from_fn(move || {
        if rest == 0 {
            return None;
        }
        let start = rest.trailing_zeros();
        let len = (!(rest >> start)).trailing_zeros();
        // Clear the run (len ≤ 32, so the shift stays below 64).
        rest &= !(((1u64 << len) - 1) << start);
        Some((start as i32, len as i32))
    })
}

/// 3 × 5 digits, left-aligned in the top three bits.
const DIGITS: [[u8; 5]; 10] = [
    [0xE0, 0xA0, 0xA0, 0xA0, 0xE0],
    [0x40, 0xC0, 0x40, 0x40, 0xE0],
    [0xE0, 0x20, 0xE0, 0x80, 0xE0],
    [0xE0, 0x20, 0x60, 0x20, 0xE0],
    [0xA0, 0xA0, 0xE0, 0x20, 0x20],
    [0xE0, 0x80, 0xE0, 0x20, 0xE0],
    [0xE0, 0x80, 0xE0, 0xA0, 0xE0],
    [0xE0, 0x20, 0x20, 0x40, 0x40],
    [0xE0, 0xA0, 0xE0, 0xA0, 0xE0],
    [0xE0, 0xA0, 0xE0, 0x20, 0xE0],
];

/// Division by a fixed divisor as a multiply and a shift, exact for the
/// small numbers of these views: with r = ⌈2³² / d⌉, ⌊m·r / 2³²⌋ = ⌊m / d⌋
/// whenever m·d < 2³², because the error m·(r − 2³²/d) / 2³² < m / 2³² is
/// below 1/d, the least distance from m/d to the next integer. (A hardware
/// division costs ~10× more, and these run for every object of every step.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Divisor(u64);

impl Divisor {
    /// Dividing by `d` (1 ≤ d < 2¹⁶).
    pub fn new(d: u32) -> Divisor {
        assert!((1..1 << 16).contains(&d), "divisor {d} out of range");
        Divisor((1u64 << 32).div_ceil(d as u64))
    }

    /// ⌊m / d⌋ (exact for m < 2¹⁶).
    pub fn div(self, m: u32) -> u32 {
        ((m as u64 * self.0) >> 32) as u32
    }
}

/// The compact view being written: a `side × side` grid over the game's
/// field, one channel per object kind, stored height × width × channels
/// (channel fastest, the layout of the conv layers) as 0.0 / 1.0.
///
/// A point at field coordinates (x, y) lands in cell
/// `(⌊(x − fx)·side / fw⌋, ⌊(y − fy)·side / fh⌋)`; points outside the field
/// are dropped, so games need not clip.
pub struct Grid<'a> {
    cells: &'a mut [f64],
    side: i32,
    channels: usize,
    field: Rect,
    per_column: Divisor,
    per_row: Divisor,
}

impl<'a> Grid<'a> {
    /// A cleared grid writing into `cells` (`side² × channels` values).
    pub fn new(cells: &'a mut [f64], side: usize, channels: usize, field: Rect) -> Grid<'a> {
        cells.fill(0.0);
        debug_assert!(field.w.max(field.h) as usize * side < 1 << 16);
        Grid {
            cells,
            side: side as i32,
            channels,
            field,
            per_column: Divisor::new(field.w as u32),
            per_row: Divisor::new(field.h as u32),
        }
    }

    /// Column of `x`, for `x` in the field.
    fn column(&self, x: i32) -> i32 {
        self.per_column.div(((x - self.field.x) * self.side) as u32) as i32
    }

    /// Row of `y`, for `y` in the field.
    fn row(&self, y: i32) -> i32 {
        self.per_row.div(((y - self.field.y) * self.side) as u32) as i32
    }

    fn inside(&self, x: i32, y: i32) -> bool {
        let f = &self.field;
        (f.x..f.x + f.w).contains(&x) && (f.y..f.y + f.h).contains(&y)
    }

    fn set(&mut self, channel: usize, col: i32, row: i32) {
        if (0..self.side).contains(&col) && (0..self.side).contains(&row) {
            self.cells[(row * self.side + col) as usize * self.channels + channel] = 1.0;
        }
    }

    /// Mark the cell holding point (x, y).
    pub fn point(&mut self, channel: usize, x: i32, y: i32) {
        if self.inside(x, y) {
            self.set(channel, self.column(x), self.row(y));
        }
    }

    /// Mark the cells of the points `(x, y)` for every `x` of `xs`: one row
    /// of a formation (Space Invaders' invaders), whose cell row is found
    /// once.
    pub fn points_in_row(&mut self, channel: usize, xs: impl Iterator<Item = i32>, y: i32) {
        let f = self.field;
        if !(f.y..f.y + f.h).contains(&y) {
            return;
        }
        let row = self.row(y);
        for x in xs.filter(|x| (f.x..f.x + f.w).contains(x)) {
            self.set(channel, self.column(x), row);
        }
    }

    /// Mark every cell that `r` overlaps.
    pub fn rect(&mut self, channel: usize, r: Rect) {
        let f = self.field;
        let (x0, y0) = (r.x.max(f.x), r.y.max(f.y));
        let (x1, y1) = (
            (r.x + r.w).min(f.x + f.w) - 1,
            (r.y + r.h).min(f.y + f.h) - 1,
        );
        if x1 < x0 || y1 < y0 {
            return;
        }
        for row in self.row(y0)..=self.row(y1) {
            for col in self.column(x0)..=self.column(x1) {
                self.set(channel, col, row);
            }
        }
    }

    /// A gauge: the first `round(fraction · side)` cells of the bottom row
    /// (oxygen, speed, divers carried).
    pub fn gauge(&mut self, channel: usize, fraction: f64) {
        let n = (fraction.clamp(0.0, 1.0) * self.side as f64).round() as i32;
        for col in 0..n {
            self.set(channel, col, self.side - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grayscale_and_rgb_screens_agree() {
        let (mut g, mut c) = (Screen::new(false), Screen::new(true));
        for s in [&mut g, &mut c] {
            s.clear([10, 20, 30]);
            s.rect(Rect::new(-5, 200, 10, 20), [200, 100, 0]);
            s.sprite(100, 50, &[0b1010_0000], 2, 3, [0, 255, 0]);
            s.number(40, 10, 305, [255, 255, 255]);
        }
        for (i, p) in c.pixels().chunks_exact(3).enumerate() {
            assert_eq!(g.pixels()[i], luma([p[0], p[1], p[2]]), "pixel {i}");
        }
        let at = |x: usize, y: usize| c.pixels()[3 * (y * WIDTH + x)..][..3].to_vec();
        assert_eq!(at(0, 209), vec![200, 100, 0]);
        assert_eq!(
            (at(100, 52), at(102, 52), at(104, 52)),
            (vec![0, 255, 0], vec![10, 20, 30], vec![0, 255, 0])
        );
        assert_eq!(c.to_rgb(80, 105)[..3], [10, 20, 30]);
    }

    /// Sprites against their definition: a rectangle of `sx × sy` pixels
    /// per set bit, clipped, in both colour modes and across every edge.
    #[test]
    fn sprites_draw_a_clipped_block_per_set_bit() {
        let rows = [0b1000_0001, 0, 0b0111_1110, 0b1010_0101];
        for rgb in [false, true] {
            for (x, y) in [(10, 10), (-5, -3), (155, 207), (-20, 50), (158, -1)] {
                for (sx, sy) in [(1, 1), (2, 1), (2, 2), (2, 3)] {
                    let colour = [200, 100, 50];
                    let mut fast = Screen::new(rgb);
                    fast.clear([1, 2, 3]);
                    let mut reference = fast.clone();
                    fast.sprite(x, y, &rows, sx, sy, colour);
                    for (i, bits) in rows.iter().enumerate() {
                        for j in (0..8).filter(|j| bits & (0x80 >> j) != 0) {
                            let block = Rect::new(x + j * sx, y + i as i32 * sy, sx, sy);
                            reference.rect(block, colour);
                        }
                    }
                    assert_eq!(fast, reference, "rgb {rgb}, at ({x}, {y}), scale {sx}×{sy}");
                }
            }
        }
    }

    #[test]
    fn short_rows_are_filled_exactly() {
        for n in 0..70 {
            let mut buffer = vec![1u8; n + 4];
            fill_row(&mut buffer[2..2 + n], 9);
            let expected: Vec<u8> = [1, 1]
                .into_iter()
                .chain(std::iter::repeat_n(9, n))
                .chain([1, 1])
                .collect();
            assert_eq!(buffer, expected, "length {n}");
        }
    }

    #[test]
    fn bit_runs_cover_exactly_the_set_bits_below_the_width() {
        for (bits, width) in (0..256).map(|b| (b, 8)).chain([
            (u32::MAX, 32),
            (0x8000_0001, 32),
            (0xF0F0_F0F0, 20),
            (u32::MAX, 12),
        ]) {
            let mut seen = 0u64;
            let mut last_end = -1;
            for (start, len) in bit_runs(bits, width) {
                assert!(
                    len > 0 && start > last_end,
                    "{bits:#x}: runs must be separate"
                );
                for i in start..start + len {
                    seen |= 1 << i;
                }
                last_end = start + len;
            }
            let mask = (1u64 << width) - 1;
            assert_eq!(seen, u64::from(bits) & mask, "{bits:#x}, width {width}");
        }
    }

    #[test]
    fn divisors_divide_exactly() {
        for d in [1, 2, 3, 6, 7, 100, 144, 1000, 65535] {
            let q = Divisor::new(d);
            for m in (0..1 << 16).step_by(7).chain([65535]) {
                assert_eq!(q.div(m), m / d, "{m} / {d}");
            }
        }
    }

    #[test]
    fn grid_cells_follow_the_field() {
        let mut cells = vec![0.5; 10 * 10 * 2];
        let mut g = Grid::new(&mut cells, 10, 2, Rect::new(10, 20, 100, 50));
        g.point(1, 10, 20);
        g.point(0, 109, 69);
        g.point(0, 5, 30);
        g.rect(1, Rect::new(30, 20, 20, 1));
        g.gauge(0, 0.3);
        let on: Vec<usize> = (0..200).filter(|&i| cells[i] == 1.0).collect();
        // (0,0) ch1; (9,9) ch0; cells (2..=3, 0) ch1 (x 30..49 → columns 2, 3); bottom row 0..3 ch0.
        assert_eq!(on, vec![1, 5, 7, 180, 182, 184, 198]);
        assert!(cells.iter().all(|&v| v == 0.0 || v == 1.0));
    }
}
