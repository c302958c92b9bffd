//! The report's figures, drawn with plotters into SVG strings that are
//! inlined in the page (no files, no fonts, no network: the text is SVG
//! `<text>`, rendered by the browser; plotters escapes it).
//!
//! Colours are the Okabe–Ito palette, distinguishable with the common
//! colour-vision deficiencies; a label keeps its colour in every figure.

use super::aggregate::Estimate;
use anyhow::Result;
use plotters::prelude::*;

/// One colour per label, in label order (repeats after eight labels).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(140, 140, 140), // grey
];
const FONT: &str = "sans-serif";
const WIDTH: u32 = 800;
const HEIGHT: u32 = 440;
const GRID: RGBColor = RGBColor(232, 232, 232);

/// The colour of the label at `index` in the report's label order.
pub fn color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// A line with a band: `(x, y, band low, band high)` points.
pub struct Banded<'a> {
    /// Legend text.
    pub label: &'a str,
    /// The same colour as this label in every other figure of the report.
    pub color: RGBColor,
    /// Points in x order.
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// Axis texts and placement of a banded-line figure.
pub struct Axes<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// Text under the x axis.
    pub x_desc: &'a str,
    /// Text beside the y axis.
    pub y_desc: &'a str,
    /// Fixed y range; else fitted to the bands.
    pub y_range: Option<(f64, f64)>,
    /// Where the legend goes (where the lines are not).
    pub legend: SeriesLabelPosition,
}

/// Lines with shaded bands (learning curves, performance profiles).
pub fn banded_lines(axes: Axes, series: &[Banded]) -> Result<String> {
    let pts = || series.iter().flat_map(|s| &s.points);
    let (x0, x1) = padded(pts().map(|p| p.0), 0.0);
    let (y0, y1) = axes
        .y_range
        .unwrap_or_else(|| padded(pts().flat_map(|p| [p.2, p.3]), 0.05));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(14)
            .caption(axes.title, (FONT, 20))
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(axes.x_desc)
            .y_desc(axes.y_desc)
            .x_label_formatter(&|x| tick(*x))
            .y_label_formatter(&|y| tick(*y))
            .x_labels(8)
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()?;
        for s in series {
            let band: Vec<(f64, f64)> = s
                .points
                .iter()
                .map(|p| (p.0, p.3))
                .chain(s.points.iter().rev().map(|p| (p.0, p.2)))
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(
                band,
                s.color.mix(0.18).filled(),
            )))?;
            let color = s.color;
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().map(|p| (p.0, p.1)),
                    color.stroke_width(2),
                ))?
                .label(s.label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            if let [p] = s.points.as_slice() {
                chart.draw_series(std::iter::once(Circle::new((p.0, p.1), 4, color.filled())))?;
            }
        }
        legend(&mut chart, axes.legend)?;
        root.present()?;
    }
    Ok(inline(svg))
}

/// Horizontal interval plot: one row per label, the point estimate as a
/// tick inside its interval, with the random (0) and reference (1) levels
/// marked (rliable's aggregate-metric figure).
pub fn intervals(title: &str, x_desc: &str, rows: &[(&str, RGBColor, Estimate)]) -> Result<String> {
    let n = rows.len() as f64;
    let (x0, x1) = padded(
        rows.iter().flat_map(|r| [r.2.lo, r.2.hi]).chain([0.0, 1.0]),
        0.05,
    );
    let height = 110 + 56 * rows.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(14)
            .caption(title, (FONT, 20))
            .x_label_area_size(44)
            .y_label_area_size(8)
            .build_cartesian_2d(x0..x1, -0.6..n - 0.2)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc(x_desc)
            .x_label_formatter(&|x| tick(*x))
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()?;
        for level in [0.0, 1.0] {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(level, -0.6), (level, n - 0.2)],
                RGBColor(160, 160, 160).stroke_width(1),
            )))?;
        }
        for (i, (label, color, e)) in rows.iter().enumerate() {
            let y = n - 1.0 - i as f64;
            chart.draw_series([
                Rectangle::new(
                    [(e.lo, y - 0.18), (e.hi, y + 0.18)],
                    color.mix(0.35).filled(),
                )
                .into_dyn(),
                PathElement::new(
                    vec![(e.value, y - 0.26), (e.value, y + 0.26)],
                    color.stroke_width(3),
                )
                .into_dyn(),
                Text::new(
                    label.to_string(),
                    (x0, y + 0.48),
                    (FONT, 15).into_font().color(&BLACK),
                )
                .into_dyn(),
            ])?;
        }
        root.present()?;
    }
    Ok(inline(svg))
}

/// One labelled group of lines: `(label, colour, one polyline per run)`.
pub type LineGroup<'a> = (&'a str, RGBColor, Vec<Vec<(f64, f64)>>);

/// A log-scale error-against-iteration figure: one thin line per run,
/// coloured (and listed once in the legend) by label. Values ≤ 0 have no
/// logarithm and are left out.
pub fn log_lines(title: &str, y_desc: &str, series: &[LineGroup<'_>]) -> Result<String> {
    let positive = || {
        series
            .iter()
            .flat_map(|s| s.2.iter().flatten())
            .filter(|p| p.1 > 0.0 && p.1.is_finite())
    };
    let (x0, x1) = padded(positive().map(|p| p.0), 0.0);
    let y0 = positive().map(|p| p.1).fold(f64::INFINITY, f64::min) / 2.0;
    let y1 = positive().map(|p| p.1).fold(0.0, f64::max) * 2.0;
    let (y0, y1) = if y0.is_finite() && y1 > y0 {
        (y0, y1)
    } else {
        (1e-3, 1.0)
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(14)
            .caption(title, (FONT, 20))
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("CG iteration")
            .y_desc(y_desc)
            .x_label_formatter(&|x| tick(*x))
            .y_label_formatter(&|y| format!("{y:.0e}"))
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()?;
        for (label, color, runs) in series {
            let color = *color;
            for (k, run) in runs.iter().enumerate() {
                let kept = run.iter().copied().filter(|p| p.1 > 0.0 && p.1.is_finite());
                let drawn =
                    chart.draw_series(LineSeries::new(kept.clone(), color.stroke_width(1)))?;
                if k == 0 {
                    drawn.label(*label).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                    });
                }
                chart.draw_series(kept.map(|p| Circle::new(p, 2, color.filled())))?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present()?;
    }
    Ok(inline(svg))
}

fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FONT, 15))
        .draw()
        .map_err(|e| anyhow::anyhow!("drawing a legend: {e}"))
}

/// `(min, max)` of `values`, widened by `pad` of the span each side; a
/// flat range is widened so the axis still has a scale.
fn padded(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let w = (hi.abs() * 0.05).max(0.5);
        return (lo - w, hi + w);
    }
    let w = (hi - lo) * pad;
    (lo - w, hi + w)
}

/// A short tick label: `50k`, `1.5M`, `-150`, `0.25`.
fn tick(x: f64) -> String {
    let a = x.abs();
    let (v, suffix) = if a >= 1e6 {
        (x / 1e6, "M")
    } else if a >= 1e4 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    let digits = if v.abs() >= 100.0 { 0 } else { 2 };
    let text = format!("{v:.digits$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    let text = if text == "-0" { "0" } else { text };
    format!("{text}{suffix}")
}

/// Ready for inlining in HTML: no XML namespace (HTML5 inline SVG needs
/// none, and the page then holds no URL at all), and it scales down with the
/// page.
fn inline(svg: String) -> String {
    svg.replacen(r#" xmlns="http://www.w3.org/2000/svg""#, "", 1)
        .replacen("<svg ", r#"<svg class="figure" "#, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(50_000.0), "50k");
        assert_eq!(tick(1_500_000.0), "1.5M");
        assert_eq!(tick(-150.0), "-150");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(2000.0), "2000");
        assert_eq!(tick(-0.001), "0");
    }

    #[test]
    fn figures_escape_names_and_hold_no_url() {
        let s = Banded {
            label: "<b>&x",
            color: color(0),
            points: vec![(1.0, 2.0, 1.0, 3.0), (2.0, 2.5, 2.0, 3.0)],
        };
        let axes = Axes {
            title: "t<i>",
            x_desc: "x",
            y_desc: "y",
            y_range: None,
            legend: SeriesLabelPosition::UpperLeft,
        };
        let svg = banded_lines(axes, &[s]).unwrap();
        assert!(svg.contains("&lt;b&gt;&amp;x") && svg.contains("t&lt;i&gt;"));
        assert!(!svg.contains("<b>") && !svg.contains("http"));
        assert!(svg.starts_with("<svg class=\"figure\""));
    }
}
