//! The statistics behind `harness report`, written out here rather than
//! taken from a crate so that every formula is visible, tested against known
//! answers, and deterministic (bootstrap draws come from our own seeded
//! xoshiro256++).
//!
//! - [`welch`]: Welch's unequal-variance t-test (Duan et al. 2016 use it to
//!   mark results not significantly different from the best).
//! - [`bootstrap`]: percentile bootstrap intervals, plain and stratified.
//! - [`rliable`]: the aggregate measures of Agarwal et al. 2021 (IQM,
//!   performance profiles, probability of improvement).
//! - [`kendall`]: Kendall's rank correlation τ-b, with a bootstrap interval
//!   over seeds when the ranked items are means.
//! - [`special`]: the Student-t distribution through the regularised
//!   incomplete beta function.

pub mod bootstrap;
pub mod kendall;
pub mod rliable;
pub mod special;
pub mod welch;

/// Arithmetic mean (NaN for an empty slice).
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Unbiased sample variance `s² = Σ(x − x̄)² / (n − 1)` (NaN for n < 2).
pub fn sample_variance(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return f64::NAN;
    }
    let m = mean(xs);
    xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64
}

/// Population standard deviation `σ = √(Σ(x − x̄)² / n)` (0 for one value,
/// NaN for none): the spread of the episodes actually played, as the
/// `±` of an evaluation and of `harness env-stats`. Intervals that estimate
/// a wider population use [`sample_variance`] instead.
pub fn population_std(xs: &[f64]) -> f64 {
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len() as f64).sqrt()
}

/// The `q`-quantile of ascending `sorted` by linear interpolation between
/// order statistics at position `h = (n − 1)·q` (Hyndman & Fan type 7,
/// NumPy's default, as rliable uses).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let (lo, frac) = (h.floor() as usize, h - h.floor());
    match sorted.get(lo + 1) {
        Some(next) if frac > 0.0 => sorted[lo] + frac * (next - sorted[lo]),
        _ => sorted[lo],
    }
}

/// The Student-t confidence interval of the mean,
/// `x̄ ± t_{(1+level)/2, n−1} · s/√n`; `None` for fewer than two values.
///
/// Why t and not the bootstrap for final-performance tables: with the 3–10
/// seeds RL papers can afford, the percentile bootstrap of the mean
/// under-covers (its interval is too narrow by a factor of about
/// `√((n−1)/n)·z/t`), while the t-interval is exact for normal data, and it
/// is the model under which Welch's test marks the table.
pub fn t_interval(xs: &[f64], level: f64) -> Option<(f64, f64)> {
    if xs.len() < 2 {
        return None;
    }
    let n = xs.len() as f64;
    let half = special::student_t_quantile((1.0 + level) / 2.0, n - 1.0)
        * (sample_variance(xs) / n).sqrt();
    let m = mean(xs);
    Some((m - half, m + half))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&xs, 0.0), 1.0);
        assert_eq!(quantile(&xs, 1.0), 4.0);
        assert!((quantile(&xs, 0.5) - 2.5).abs() < 1e-12);
        // numpy.quantile([1, 2, 3, 4], 0.1) == 1.3
        assert!((quantile(&xs, 0.1) - 1.3).abs() < 1e-12);
        assert_eq!(quantile(&[7.0], 0.3), 7.0);
    }

    #[test]
    fn t_interval_matches_a_textbook_case() {
        // x = 1..5: mean 3, s = √2.5, t_{0.975,4} = 2.776445;
        // half width = 2.776445·√(2.5/5) = 1.963243.
        let (lo, hi) = t_interval(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95).unwrap();
        assert!((lo - (3.0 - 1.963243)).abs() < 1e-5, "{lo}");
        assert!((hi - (3.0 + 1.963243)).abs() < 1e-5, "{hi}");
        assert!(t_interval(&[1.0], 0.95).is_none());
        assert_eq!(sample_variance(&[2.0, 4.0]), 2.0);
    }
}
