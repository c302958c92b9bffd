//! The final-performance table of one env, marked as Duan et al. 2016 mark
//! theirs: the best mean, and every algorithm not significantly different
//! from it by Welch's t-test at p < 0.05, in bold.

use crate::stats::welch::welch;
use crate::stats::{mean, t_interval};

/// Significance level of the comparisons with the best.
pub const ALPHA: f64 = 0.05;

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalRow {
    /// The algorithm or variant (see `data::Run::label`).
    pub label: String,
    /// Seeds (runs) behind the mean.
    pub n: usize,
    /// Mean final return over seeds.
    pub mean: f64,
    /// 95 % Student-t interval of the mean (`None` with one seed).
    pub ci: Option<(f64, f64)>,
    /// Welch p-value against the best (`None` for the best itself, or when
    /// either has a single seed).
    pub p_vs_best: Option<f64>,
    /// The best mean, or not significantly different from it.
    pub bold: bool,
}

/// The table for `(label, final returns)` groups, in the given order.
/// With a single seed on either side there is no variance estimate and so
/// no test: such a row is bold only if it is the best.
pub fn final_table(groups: &[(String, Vec<f64>)]) -> Vec<FinalRow> {
    let best = groups
        .iter()
        .enumerate()
        .max_by(|a, b| mean(&a.1.1).total_cmp(&mean(&b.1.1)))
        .map(|(i, _)| i);
    groups
        .iter()
        .enumerate()
        .map(|(i, (label, xs))| {
            let is_best = Some(i) == best;
            let p = best
                .filter(|_| !is_best)
                .and_then(|b| welch(&groups[b].1, xs))
                .map(|w| w.p);
            FinalRow {
                label: label.clone(),
                n: xs.len(),
                mean: mean(xs),
                ci: t_interval(xs, 0.95),
                p_vs_best: p,
                bold: is_best || p.is_some_and(|p| p >= ALPHA),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_and_indistinguishable_are_bold() {
        let groups = vec![
            ("a".to_string(), vec![10.0, 11.0, 12.0]),
            ("b".to_string(), vec![9.0, 12.0, 10.5]),
            ("c".to_string(), vec![1.0, 1.1, 0.9]),
            ("d".to_string(), vec![100.0]),
        ];
        let t = final_table(&groups);
        // d has the best mean but one seed: bold, with nothing to test.
        assert!(t[3].bold && t[3].p_vs_best.is_none() && t[3].ci.is_none());
        assert!(t.iter().take(3).all(|r| !r.bold && r.p_vs_best.is_none()));
        let t = final_table(&groups[..3]);
        assert!(t[0].bold && t[0].p_vs_best.is_none());
        assert!(t[1].bold && t[1].p_vs_best.unwrap() > ALPHA);
        assert!(!t[2].bold && t[2].p_vs_best.unwrap() < ALPHA);
        assert_eq!(t[0].mean, 11.0);
    }
}
