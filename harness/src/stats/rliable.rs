//! Aggregate measures over tasks, as defined by Agarwal et al. 2021, "Deep
//! RL at the Edge of the Statistical Precipice" (the `rliable` library).
//! Scores are normalised per task; `sample[k]` holds the runs (seeds) of
//! task `k`. Their intervals come from the stratified bootstrap
//! ([`super::bootstrap`]).

use super::bootstrap::Sample;

/// Interquartile mean: the mean of the middle 50 % of the pooled runs,
/// after dropping `⌊n/4⌋` values from each end (`scipy.stats.trim_mean(x,
/// 0.25)`, which rliable calls). Robust to outlier runs like the median,
/// yet uses half the data, so its intervals are much tighter. Below four
/// values nothing is dropped (the plain mean).
pub fn iqm(xs: &[f64]) -> f64 {
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let cut = sorted.len() / 4;
    super::mean(&sorted[cut..sorted.len() - cut])
}

/// Performance profile (score distribution): for each threshold `τ`, the
/// fraction of runs whose score exceeds `τ`,
/// `F(τ) = (1/K) Σ_k (1/n_k) Σ_i [x_ki > τ]`, averaged per task first so
/// every task weighs the same.
pub fn performance_profile(sample: &Sample, taus: &[f64]) -> Vec<f64> {
    taus.iter()
        .map(|&tau| {
            let per_task = sample
                .iter()
                .map(|runs| runs.iter().filter(|&&x| x > tau).count() as f64 / runs.len() as f64);
            per_task.sum::<f64>() / sample.len() as f64
        })
        .collect()
}

/// Probability of improvement `P(X > Y)`: on each task, the chance that a
/// random run of X beats a random run of Y, ties counted half (the
/// Mann–Whitney U statistic over `n·m`),
/// `P_k = (1/(n m)) Σ_i Σ_j ([x_i > y_j] + ½[x_i = y_j])`, then averaged
/// over tasks. `P(X > Y) + P(Y > X) = 1`; 0.5 means neither is better.
/// `x` and `y` must cover the same tasks in the same order.
pub fn probability_of_improvement(x: &Sample, y: &Sample) -> f64 {
    let per_task = x.iter().zip(y).map(|(xs, ys)| {
        let wins: f64 = xs
            .iter()
            .flat_map(|a| ys.iter().map(move |b| score_pair(*a, *b)))
            .sum();
        wins / (xs.len() * ys.len()) as f64
    });
    per_task.sum::<f64>() / x.len() as f64
}

fn score_pair(a: f64, b: f64) -> f64 {
    match a.partial_cmp(&b) {
        Some(std::cmp::Ordering::Greater) => 1.0,
        Some(std::cmp::Ordering::Equal) => 0.5,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answers, as `scipy.stats.trim_mean(x, 0.25)` gives them.
    #[test]
    fn iqm_of_known_vectors() {
        let one_to_eight: Vec<f64> = (1..=8).map(f64::from).collect();
        assert_eq!(iqm(&one_to_eight), 4.5); // mean of 3, 4, 5, 6
        let zero_to_nine: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(iqm(&zero_to_nine), 4.5); // ⌊10/4⌋ = 2 cut each end
        assert_eq!(iqm(&[100.0, 1.0, 4.0, 3.0, 2.0]), 3.0); // the outlier goes
        assert_eq!(iqm(&[1.0, 2.0, 6.0]), 3.0); // fewer than 4: the mean
    }

    #[test]
    fn profile_weighs_tasks_equally() {
        let sample = vec![vec![0.0, 1.0], vec![1.0, 1.0, 1.0, 0.0]];
        let f = performance_profile(&sample, &[-1.0, 0.5, 1.0]);
        assert_eq!(f, vec![1.0, (0.5 + 0.75) / 2.0, 0.0]);
    }

    #[test]
    fn probability_of_improvement_counts_ties_half() {
        let x = vec![vec![1.0, 2.0, 3.0]];
        let y = vec![vec![2.0, 2.0, 2.0]];
        // Pairs: 1<2 ×3 → 0, 2=2 ×3 → 1.5, 3>2 ×3 → 3; (0 + 1.5 + 3)/9.
        assert_eq!(probability_of_improvement(&x, &y), 0.5);
        assert_eq!(probability_of_improvement(&y, &y), 0.5);
        let better = vec![vec![5.0, 6.0]];
        assert_eq!(probability_of_improvement(&better, &y), 1.0);
        assert_eq!(probability_of_improvement(&y, &better), 0.0);
        // Two tasks, averaged: task 1 gives 1, task 2 gives 0.5/4.
        let x = vec![vec![5.0], vec![1.0, 2.0]];
        let y = vec![vec![4.0], vec![2.0, 3.0]];
        assert_eq!(probability_of_improvement(&x, &y), (1.0 + 0.125) / 2.0);
        assert_eq!(
            probability_of_improvement(&x, &y) + probability_of_improvement(&y, &x),
            1.0
        );
    }
}
