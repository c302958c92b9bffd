//! Learning curves: runs evaluated at different env steps (iterations end
//! where they end) or wall-clock times are put on a common grid by linear
//! interpolation between their evaluations — never extrapolated — then
//! averaged over seeds with a bootstrap band.
//!
//! Training curves do the same with the training episodes' returns, each
//! run's smoothed first ([`smoothed`]): at every episode's end, the mean
//! return of the episodes that ended in the last [`TRAIN_WINDOW`] of the
//! run's budget. They need no evaluation, so they show learning where
//! evaluations are few (a sweep with `--eval-every 0` evaluates once); they
//! are the stochastic policy's returns, not the deterministic one's.

use super::data::Run;
use crate::results::stable_hash;
use crate::stats::bootstrap::Bootstrap;
use crate::stats::mean;

/// Grid points across an env's step range.
pub const GRID_POINTS: usize = 100;
/// Bootstrap replicates per grid point: a band edge's Monte-Carlo error is
/// then ≈1 % of the band's width, invisible in a plot.
pub const CURVE_REPS: usize = 1000;
/// Width of the smoothing window of training curves, as a share of each
/// run's step budget (200k steps of a 2M-step run).
pub const TRAIN_WINDOW: f64 = 0.1;

/// What a curve is drawn against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Training env steps: sample efficiency.
    Steps,
    /// Wall-clock seconds since the run started: what the samples cost on
    /// this machine, speed included.
    WallSeconds,
    /// Training env steps, the training episodes' smoothed returns
    /// instead of evaluations.
    TrainSteps,
}

impl Axis {
    /// `(x, evaluation return)` of every evaluation of `run`.
    pub fn points(self, run: &Run) -> Vec<(f64, f64)> {
        match self {
            Axis::Steps => run.eval.clone(),
            Axis::WallSeconds => run
                .eval_at
                .iter()
                .zip(&run.eval)
                .map(|(&(_, wall), &(_, y))| (wall, y))
                .collect(),
            Axis::TrainSteps => {
                smoothed(&run.train, TRAIN_WINDOW * run.row.step_budget.max(1) as f64)
            }
        }
    }
}

/// At each episode end `x` of `episodes` (sorted by x), the mean return of
/// the episodes that ended in `(x − window, x]`.
pub fn smoothed(episodes: &[(f64, f64)], window: f64) -> Vec<(f64, f64)> {
    let (mut start, mut sum) = (0, 0.0);
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(episodes.len());
    for (end, &(x, y)) in episodes.iter().enumerate() {
        sum += y;
        while episodes[start].0 <= x - window {
            sum -= episodes[start].1;
            start += 1;
        }
        let point = (x, sum / (end + 1 - start) as f64);
        // Episodes ending at the same step: one point, the mean of all.
        match out.last_mut() {
            Some(last) if last.0 == x => *last = point,
            _ => out.push(point),
        }
    }
    out
}

/// The mean training return of the episodes of `run` that ended in the last
/// [`TRAIN_WINDOW`] of its budget (`None` when none did).
pub fn final_train_return(run: &Run) -> Option<f64> {
    let from = run.row.env_steps as f64 - TRAIN_WINDOW * run.row.step_budget as f64;
    let last: Vec<f64> = run
        .train
        .iter()
        .filter(|&&(x, _)| x > from)
        .map(|&(_, y)| y)
        .collect();
    (!last.is_empty()).then(|| mean(&last))
}

/// One point of a mean curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Env steps or wall seconds (the curve's [`Axis`]).
    pub x: f64,
    /// Mean over seeds.
    pub mean: f64,
    /// Lower end of the 95 % band.
    pub lo: f64,
    /// Upper end of the 95 % band.
    pub hi: f64,
}

/// The mean learning curve of one label on one env.
#[derive(Debug, Clone)]
pub struct Curve {
    /// The algorithm or variant (see `data::Run::label`).
    pub label: String,
    /// Runs (seeds) averaged.
    pub seeds: usize,
    /// Points in step order.
    pub points: Vec<Point>,
}

/// The curve of `runs` (one label on one env, evaluated, non-empty) against
/// `axis` on the grid `k · max_x / GRID_POINTS`, restricted to the range
/// every run covers, plus that range's two ends. Every grid point resamples
/// the same seeds (same bootstrap stream), so the band is that of whole
/// curves.
pub fn curve(label: &str, env: &str, runs: &[&Run], axis: Axis, max_x: f64) -> Curve {
    let series: Vec<Vec<(f64, f64)>> = runs.iter().map(|r| axis.points(r)).collect();
    let first = series.iter().map(|s| s[0].0).fold(f64::MIN, f64::max);
    let last = series
        .iter()
        .map(|s| s[s.len() - 1].0)
        .fold(f64::MAX, f64::min);
    let mut xs: Vec<f64> = (1..=GRID_POINTS)
        .map(|k| max_x * k as f64 / GRID_POINTS as f64)
        .filter(|&x| x > first && x < last)
        .collect();
    xs.insert(0, first);
    if last > first {
        xs.push(last);
    }
    let stream = match axis {
        Axis::Steps => format!("curve\0{env}\0{label}"),
        Axis::WallSeconds => format!("curve\0{env}\0{label}\0wall"),
        Axis::TrainSteps => format!("curve\0{env}\0{label}\0train"),
    };
    let bootstrap = Bootstrap {
        reps: CURVE_REPS,
        level: 0.95,
        seed: stable_hash(stream.as_bytes()),
    };
    let points = xs
        .into_iter()
        .map(|x| {
            let ys: Vec<f64> = series.iter().map(|s| interpolate(s, x)).collect();
            let (lo, hi) = bootstrap.mean_interval(&ys);
            Point {
                x,
                mean: mean(&ys),
                lo,
                hi,
            }
        })
        .collect();
    Curve {
        label: label.to_string(),
        seeds: runs.len(),
        points,
    }
}

/// `y(x)` by linear interpolation in `points` (sorted by x); outside them,
/// the nearest end's `y`.
pub fn interpolate(points: &[(f64, f64)], x: f64) -> f64 {
    let i = points.partition_point(|&(px, _)| px < x);
    match (i.checked_sub(1).map(|j| points[j]), points.get(i)) {
        (_, Some(&(px, py))) if px == x => py,
        (Some((x0, y0)), Some(&(x1, y1))) => y0 + (y1 - y0) * (x - x0) / (x1 - x0),
        (Some((_, y)), None) | (None, Some(&(_, y))) => y,
        (None, None) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_between_evaluations() {
        let pts = [(10.0, 1.0), (20.0, 3.0), (40.0, 3.0)];
        assert_eq!(interpolate(&pts, 10.0), 1.0);
        assert_eq!(interpolate(&pts, 15.0), 2.0);
        assert_eq!(interpolate(&pts, 20.0), 3.0);
        assert_eq!(interpolate(&pts, 40.0), 3.0);
    }

    #[test]
    fn training_returns_are_averaged_over_a_trailing_window() {
        let episodes = [
            (10.0, 1.0),
            (20.0, 3.0),
            (20.0, 5.0),
            (35.0, 7.0),
            (60.0, 9.0),
        ];
        // Window 20: (−10, 10] → 1; (0, 20] → 1, 3, 5; (15, 35] → 3, 5, 7;
        // (40, 60] → 9.
        assert_eq!(
            smoothed(&episodes, 20.0),
            vec![(10.0, 1.0), (20.0, 3.0), (35.0, 5.0), (60.0, 9.0)]
        );
        assert!(smoothed(&[], 20.0).is_empty());
    }
}
