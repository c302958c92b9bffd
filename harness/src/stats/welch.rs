//! Welch's t-test: are two means different, without assuming equal
//! variances (algorithms rarely have equal seed-to-seed spread)?

use super::{mean, sample_variance, special};

/// The outcome of a two-sided Welch test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    /// `t = (x̄₁ − x̄₂) / √(s₁²/n₁ + s₂²/n₂)`.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom,
    /// `ν = (s₁²/n₁ + s₂²/n₂)² / ((s₁²/n₁)²/(n₁−1) + (s₂²/n₂)²/(n₂−1))`.
    pub df: f64,
    /// Two-sided p-value, `P(|T| ≥ |t|) = I_{ν/(ν+t²)}(ν/2, 1/2)`.
    pub p: f64,
}

/// Welch's test of `a` against `b`; `None` when either has fewer than two
/// values (no variance estimate, so no test).
///
/// When both samples have zero variance the difference of the means is
/// exact: `p = 1` if they are equal, else `p = 0` (and `t = ±∞`).
pub fn welch(a: &[f64], b: &[f64]) -> Option<Welch> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (sample_variance(a) / na, sample_variance(b) / nb);
    let diff = mean(a) - mean(b);
    let se2 = va + vb;
    if se2 == 0.0 {
        let equal = diff == 0.0;
        return Some(Welch {
            t: if equal {
                0.0
            } else {
                diff.signum() * f64::INFINITY
            },
            df: na + nb - 2.0,
            p: if equal { 1.0 } else { 0.0 },
        });
    }
    let t = diff / se2.sqrt();
    let df = se2 * se2 / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    let p = special::incomplete_beta(df / (df + t * t), df / 2.0, 0.5);
    Some(Welch { t, df, p })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two worked examples of Wikipedia's "Welch's t-test" article;
    /// reference values from `scipy.stats.ttest_ind(a, b, equal_var=False)`.
    #[test]
    fn matches_worked_examples() {
        let a = [
            27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7,
            21.4,
        ];
        let b = [
            27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5,
            24.4,
        ];
        let w = welch(&a, &b).unwrap();
        assert!((w.t - -2.455_356_398_286_006).abs() < 1e-10, "{w:?}");
        assert!((w.df - 24.988_529_290_231_416).abs() < 1e-9, "{w:?}");
        assert!((w.p - 0.021_378_001_462_866_992).abs() < 1e-10, "{w:?}");

        let a = [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8];
        let b = [
            21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5,
            23.6, 21.5, 22.5, 23.5, 21.5, 21.8,
        ];
        let w = welch(&a, &b).unwrap();
        assert!((w.t - -1.565_433_523_598_503_7).abs() < 1e-10, "{w:?}");
        assert!((w.df - 9.904_741_248_650_831).abs() < 1e-9, "{w:?}");
        assert!((w.p - 0.148_841_696_605_328_17).abs() < 1e-10, "{w:?}");
        // Symmetric in its arguments, up to the sign of t.
        let r = welch(&b, &a).unwrap();
        assert_eq!((r.t, r.p), (-w.t, w.p));
    }

    #[test]
    fn degenerate_samples() {
        assert!(welch(&[1.0], &[1.0, 2.0]).is_none());
        assert_eq!(welch(&[500.0; 3], &[500.0; 5]).unwrap().p, 1.0);
        let w = welch(&[500.0; 3], &[20.0; 3]).unwrap();
        assert_eq!((w.p, w.t), (0.0, f64::INFINITY));
        // One sample without spread: ν = n − 1 of the other.
        let w = welch(&[1.0, 2.0, 3.0], &[0.0, 0.0]).unwrap();
        assert!((w.df - 2.0).abs() < 1e-12);
    }
}
