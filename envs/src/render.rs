//! A tiny software rasteriser that turns an env's state into an RGB frame.
//!
//! Envs draw themselves with a handful of filled primitives — discs,
//! capsules (a thick segment with round ends: every limb of the locomotion
//! robots is one) and axis-aligned rectangles — in *world* coordinates
//! through a [`View`], which maps metres to pixels with y pointing up. Edges
//! are anti-aliased by coverage: a pixel at signed distance d (in pixels)
//! outside a shape's boundary gets opacity clamp(0.5 − d, 0, 1), which costs
//! one distance per pixel and keeps thin limbs from flickering in GIFs.
//!
//! No file I/O here: the frame is a `Vec<u8>` of `width × height × 3` bytes,
//! row-major from the top-left, and writing it anywhere is the harness's job.

/// An RGB colour.
pub type Rgb = [u8; 3];

/// A frame being drawn: `width × height` RGB pixels, row-major from the top.
#[derive(Debug, Clone)]
pub struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    /// A canvas filled with `background`.
    pub fn new(width: usize, height: usize, background: Rgb) -> Canvas {
        Canvas {
            width,
            height,
            pixels: background.repeat(width * height),
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The finished frame (`width × height × 3` bytes).
    pub fn into_rgb(self) -> Vec<u8> {
        self.pixels
    }

    /// Blend `color` into pixel (x, y) with opacity `alpha` ∈ [0, 1].
    fn blend(&mut self, x: usize, y: usize, color: Rgb, alpha: f64) {
        let i = 3 * (y * self.width + x);
        for (p, c) in self.pixels[i..i + 3].iter_mut().zip(color) {
            *p = (*p as f64 + (c as f64 - *p as f64) * alpha).round() as u8;
        }
    }

    /// Fill every pixel whose centre lies within the pixel-space box
    /// `[x0, x1] × [y0, y1]` (grown by one for the soft edge) using
    /// `signed_distance` (pixels, negative inside) for coverage.
    fn fill(
        &mut self,
        (x0, x1, y0, y1): (f64, f64, f64, f64),
        color: Rgb,
        signed_distance: impl Fn(f64, f64) -> f64,
    ) {
        let clampx = |v: f64| v.clamp(0.0, self.width as f64) as usize;
        let clampy = |v: f64| v.clamp(0.0, self.height as f64) as usize;
        let (xa, xb) = (clampx(x0 - 1.0), clampx(x1 + 2.0));
        let (ya, yb) = (clampy(y0 - 1.0), clampy(y1 + 2.0));
        for y in ya..yb {
            for x in xa..xb {
                let alpha = (0.5 - signed_distance(x as f64 + 0.5, y as f64 + 0.5)).clamp(0.0, 1.0);
                if alpha > 0.0 {
                    self.blend(x, y, color, alpha);
                }
            }
        }
    }

    /// A capsule in pixel space: all points within `radius` of segment `a`–`b`.
    pub fn capsule_px(&mut self, a: [f64; 2], b: [f64; 2], radius: f64, color: Rgb) {
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len2 = dx * dx + dy * dy;
        let bbox = (
            a[0].min(b[0]) - radius,
            a[0].max(b[0]) + radius,
            a[1].min(b[1]) - radius,
            a[1].max(b[1]) + radius,
        );
        self.fill(bbox, color, |x, y| {
            let t = if len2 > 0.0 {
                (((x - a[0]) * dx + (y - a[1]) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (ex, ey) = (x - a[0] - t * dx, y - a[1] - t * dy);
            (ex * ex + ey * ey).sqrt() - radius
        });
    }

    /// An axis-aligned rectangle in pixel space, `[x0, x1] × [y0, y1]`.
    pub fn rect_px(&mut self, x0: f64, x1: f64, y0: f64, y1: f64, color: Rgb) {
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let (hx, hy) = ((x1 - x0).abs() / 2.0, (y1 - y0).abs() / 2.0);
        self.fill(
            (x0.min(x1), x0.max(x1), y0.min(y1), y0.max(y1)),
            color,
            |x, y| ((x - cx).abs() - hx).max((y - cy).abs() - hy),
        );
    }
}

/// Maps world coordinates (metres, y up) to a canvas (pixels, y down):
/// `px = w/2 + s·(x − cx)`, `py = h/2 − s·(y − cy)`, with `s` pixels per
/// metre and (cx, cy) the world point shown at the centre.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// World point at the centre of the frame.
    pub center: [f64; 2],
    /// Pixels per metre.
    pub scale: f64,
}

impl View {
    /// Pixel position of world point `p` on `canvas`.
    pub fn to_px(&self, canvas: &Canvas, p: [f64; 2]) -> [f64; 2] {
        [
            canvas.width as f64 / 2.0 + self.scale * (p[0] - self.center[0]),
            canvas.height as f64 / 2.0 - self.scale * (p[1] - self.center[1]),
        ]
    }

    /// The world x range visible on `canvas`.
    pub fn x_range(&self, canvas: &Canvas) -> (f64, f64) {
        let half = canvas.width as f64 / 2.0 / self.scale;
        (self.center[0] - half, self.center[0] + half)
    }

    /// The world y range visible on `canvas`.
    pub fn y_range(&self, canvas: &Canvas) -> (f64, f64) {
        let half = canvas.height as f64 / 2.0 / self.scale;
        (self.center[1] - half, self.center[1] + half)
    }

    /// A capsule in world coordinates.
    pub fn capsule(&self, canvas: &mut Canvas, a: [f64; 2], b: [f64; 2], radius: f64, color: Rgb) {
        let (pa, pb) = (self.to_px(canvas, a), self.to_px(canvas, b));
        canvas.capsule_px(pa, pb, radius * self.scale, color);
    }

    /// A disc in world coordinates.
    pub fn disc(&self, canvas: &mut Canvas, c: [f64; 2], radius: f64, color: Rgb) {
        self.capsule(canvas, c, c, radius, color);
    }

    /// An axis-aligned rectangle in world coordinates, `[x0, x1] × [y0, y1]`.
    pub fn rect(&self, canvas: &mut Canvas, x0: f64, x1: f64, y0: f64, y1: f64, color: Rgb) {
        let (p0, p1) = (self.to_px(canvas, [x0, y0]), self.to_px(canvas, [x1, y1]));
        canvas.rect_px(p0[0], p1[0], p0[1], p1[1], color);
    }

    /// Lines every `spacing` metres across the visible area — vertical ones
    /// at x = k·spacing, and horizontal ones too if `horizontal` — so that
    /// motion stays visible while the view follows a body.
    pub fn grid(&self, canvas: &mut Canvas, spacing: f64, horizontal: bool, color: Rgb) {
        let width = 1.0 / self.scale;
        let (x0, x1) = self.x_range(canvas);
        let (y0, y1) = self.y_range(canvas);
        let mut x = (x0 / spacing).floor() * spacing;
        while x <= x1 {
            self.rect(canvas, x - width / 2.0, x + width / 2.0, y0, y1, color);
            x += spacing;
        }
        let mut y = (y0 / spacing).floor() * spacing;
        while horizontal && y <= y1 {
            self.rect(canvas, x0, x1, y - width / 2.0, y + width / 2.0, color);
            y += spacing;
        }
    }
}

/// Colours shared by the envs' pictures.
pub mod palette {
    use super::Rgb;
    /// Sky behind side views.
    pub const SKY: Rgb = [235, 242, 250];
    /// The ground.
    pub const GROUND: Rgb = [196, 214, 188];
    /// Grid lines and ground marks.
    pub const GRID: Rgb = [150, 170, 150];
    /// Water around the swimmer.
    pub const WATER: Rgb = [214, 232, 245];
    /// Bodies (Gymnasium's MuJoCo brown).
    pub const BODY: Rgb = [204, 153, 102];
    /// Second set of limbs, to tell left from right (MuJoCo's walker purple).
    pub const BODY_ALT: Rgb = [178, 77, 153];
    /// Joints and pivots.
    pub const JOINT: Rgb = [90, 70, 60];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_land_where_the_view_puts_them() {
        let mut c = Canvas::new(40, 20, [0, 0, 0]);
        let view = View {
            center: [0.0, 0.0],
            scale: 10.0,
        };
        view.disc(&mut c, [1.0, 0.5], 0.3, [255, 0, 0]);
        view.rect(&mut c, -2.0, -1.0, -1.0, 0.0, [0, 255, 0]);
        let px = |c: &Canvas, x: usize, y: usize| {
            let i = 3 * (y * c.width() + x);
            [c.pixels[i], c.pixels[i + 1], c.pixels[i + 2]]
        };
        // World (1, 0.5) is pixel (30, 5); the rectangle spans pixels 0..10 × 10..20.
        assert_eq!(px(&c, 30, 5), [255, 0, 0]);
        assert_eq!(px(&c, 5, 15), [0, 255, 0]);
        assert_eq!(px(&c, 20, 5), [0, 0, 0]);
        assert_eq!(c.clone().into_rgb().len(), 40 * 20 * 3);
    }
}
