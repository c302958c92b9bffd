//! Kendall's rank correlation τ, and its bootstrap interval when each
//! ranked item is a mean over seeds.
//!
//! τ-b (Kendall 1945, the variant that corrects for ties, as SciPy's
//! `kendalltau` computes by default): over all pairs `i < j`, count the
//! concordant pairs `C` (both orders agree), the discordant ones `D`, and
//! the pairs tied in `x` only (`t_x`) or in `y` only (`t_y`):
//!
//! `τ_b = (C − D) / √((C + D + t_x)(C + D + t_y))`
//!
//! (pairs tied in both count in neither factor). τ = 1 for the same
//! order, −1 for the reverse.
//!
//! The interval ([`tau_interval`]): the items are algorithms, each ranked
//! by its mean over seeds on two tasks. A replicate resamples every
//! algorithm's seeds on each task with replacement (sizes kept,
//! independently per task: [`Bootstrap::intervals`] with one stratum per
//! algorithm) and recomputes τ of the replicate means; the interval is the
//! replicates' percentiles. More seeds pin the means down, so the interval
//! narrows.

use super::bootstrap::{Bootstrap, Sample};
use super::mean;
use std::cmp::Ordering;

/// Kendall's τ-b of paired values (NaN when fewer than two pairs, or when
/// either side is all ties).
pub fn tau_b(xs: &[f64], ys: &[f64]) -> f64 {
    assert_eq!(xs.len(), ys.len(), "τ needs paired values");
    let (mut concordant, mut discordant, mut tied_x, mut tied_y) = (0u64, 0u64, 0u64, 0u64);
    for i in 0..xs.len() {
        for j in i + 1..xs.len() {
            let order = |v: &[f64]| v[i].partial_cmp(&v[j]).unwrap_or(Ordering::Equal);
            match (order(xs), order(ys)) {
                (Ordering::Equal, Ordering::Equal) => {}
                (Ordering::Equal, _) => tied_x += 1,
                (_, Ordering::Equal) => tied_y += 1,
                (x, y) if x == y => concordant += 1,
                _ => discordant += 1,
            }
        }
    }
    let ranked = (concordant + discordant) as f64;
    let denominator = ((ranked + tied_x as f64) * (ranked + tied_y as f64)).sqrt();
    if denominator == 0.0 {
        return f64::NAN;
    }
    (concordant as f64 - discordant as f64) / denominator
}

/// τ-b of the algorithms' mean scores on two tasks, and its percentile
/// bootstrap interval over seeds: `a[k]` and `b[k]` are algorithm `k`'s
/// per-seed scores on the two tasks (each non-empty).
pub fn tau_interval(a: &[Vec<f64>], b: &[Vec<f64>], bootstrap: &Bootstrap) -> (f64, (f64, f64)) {
    let means = |sample: &[Vec<f64>]| -> Vec<f64> { sample.iter().map(|s| mean(s)).collect() };
    let tau = tau_b(&means(a), &means(b));
    let samples: [Sample; 2] = [a.to_vec(), b.to_vec()];
    let interval = bootstrap.intervals(&samples, |s| vec![tau_b(&means(&s[0]), &means(&s[1]))])[0];
    (tau, interval)
}

#[cfg(test)]
mod tests {
    use super::*;
    use trustbench_plugin::rng::Rng;

    #[test]
    fn known_answers() {
        // C = 7, D = 3 of 10 pairs: scipy.stats.kendalltau gives 0.4.
        let tau = tau_b(&[1.0, 2.0, 3.0, 4.0, 5.0], &[3.0, 1.0, 2.0, 5.0, 4.0]);
        assert!((tau - 0.4).abs() < 1e-12, "{tau}");
        // One tie in x: C = 2, τ_b = 2 / √(2·3) (scipy: 0.8165).
        let tau = tau_b(&[1.0, 1.0, 2.0], &[1.0, 2.0, 3.0]);
        assert!((tau - 2.0 / 6f64.sqrt()).abs() < 1e-12, "{tau}");
        let up = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(tau_b(&up, &[10.0, 20.0, 30.0, 40.0]), 1.0);
        assert_eq!(tau_b(&up, &[4.0, 3.0, 2.0, 1.0]), -1.0);
        assert!(tau_b(&[1.0], &[2.0]).is_nan());
        assert!(tau_b(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
    }

    fn seeds(rng: &mut Rng, means: &[f64], n: usize) -> Vec<Vec<f64>> {
        means
            .iter()
            .map(|m| (0..n).map(|_| m + 1.5 * rng.normal()).collect())
            .collect()
    }

    #[test]
    fn the_interval_is_seeded_and_narrows_with_more_seeds() {
        let bootstrap = Bootstrap {
            reps: 1000,
            level: 0.95,
            seed: 5,
        };
        let means = [0.0, 1.0, 2.0, 3.0];
        let width = |n: usize| {
            let mut rng = Rng::new(9);
            let (a, b) = (seeds(&mut rng, &means, n), seeds(&mut rng, &means, n));
            let (_, (lo, hi)) = tau_interval(&a, &b, &bootstrap);
            assert_eq!(tau_interval(&a, &b, &bootstrap).1, (lo, hi), "seeded");
            hi - lo
        };
        let (few, many) = (width(3), width(60));
        assert!(
            few > 0.5,
            "3 seeds of noise 1.5 cannot fix the order: {few}"
        );
        assert!(many < few / 2.0, "{many} vs {few}");
        // The same order on both tasks, well separated: τ = 1, no doubt.
        let a = vec![vec![1.0, 1.1], vec![5.0, 5.2], vec![9.0, 9.1]];
        let b = vec![vec![10.0, 11.0], vec![20.0, 21.0], vec![30.0, 31.0]];
        assert_eq!(tau_interval(&a, &b, &bootstrap), (1.0, (1.0, 1.0)));
        let reversed: Vec<Vec<f64>> = b.iter().rev().cloned().collect();
        assert_eq!(
            tau_interval(&a, &reversed, &bootstrap),
            (-1.0, (-1.0, -1.0))
        );
    }
}
