//! Whether a comparison of two algorithms supports a claim, contradicts it,
//! or cannot tell yet.
//!
//! The effect is the probability of improvement `P(A > B)` (Agarwal et al.
//! 2021; [`probability_of_improvement`]) of A's scores over B's on one
//! task, with a 95 % percentile-bootstrap interval that resamples each side's
//! seeds independently. It is scale-free (it needs no reference score) and
//! robust to one wild seed, which is why claims are judged on it rather than
//! on a difference of means.
//!
//! A claim is a statement about where `P(A > B)` lies; the verdict asks
//! where the *whole interval* lies:
//!
//! | direction | supported | contradicted |
//! |---|---|---|
//! | A better than B | lo > ½ | hi < ½ |
//! | A at least as good as B | lo > ½ − m | hi < ½ − m |
//! | A similar to B | ½ − m < lo and hi < ½ + m | lo > ½ + m or hi < ½ − m |
//!
//! with the margin `m` = [`MARGIN`]: "at least as good" and "similar" are
//! equivalence claims, which an interval can only support up to a margin
//! (an interval that merely contains ½ is absence of evidence, not evidence
//! of similarity). Anything else is inconclusive, and then the interval's
//! half-width `h` at `n` seeds says roughly how many seeds would decide it:
//! intervals shrink like `1/√n`, so the point estimate `p` clears the
//! nearest deciding threshold at distance `d` once `h·√(n/n′) < d`, i.e.
//! `n′ ≈ n·(h/d)²` — an extrapolation that assumes the effect stays put.
//! Below [`DECISIVE_SEEDS`] seeds per side no verdict is decisive, whatever
//! the interval says.
//!
//! "A does well next to B" ([`Direction::Close`]) is not a statement about
//! `P(A > B)`: two nearly deterministic learners that end 5 % apart have
//! `P(A > B) = 0` at any number of seeds. It is judged on the *gain ratio*
//! `ρ = (Ā − R̄) / (B̄ − R̄)`, the share of B's gain over the random policy
//! (`R`, its mean final return) that A achieves ([`judge_gain`]), with a
//! bootstrap interval resampling all three sides' seeds: supported when
//! `lo ≥` [`CLOSE_FRACTION`], contradicted when `hi <` it.
//!
//! For the same reason "A at least as good as B" is also supported when the
//! gain ratio's interval lies at or above [`CLOSE_FRACTION`] (random runs on
//! the task given): ten and twenty CG iterations that end at 416.7 and 417.7
//! on swimmer (the random policy: −5.6) give `P(A > B) = 0`, yet ten reach
//! 99.8 % of twenty's gain. The claims engine judges that; without random
//! runs on the task `P(A > B)` alone decides.

use crate::stats::bootstrap::{Bootstrap, Sample};
use crate::stats::mean;
use crate::stats::rliable::probability_of_improvement;

/// Equivalence margin on `P(A > B)`: "similar" means a random run of one
/// beats a random run of the other between 30 % and 70 % of the time.
pub const MARGIN: f64 = 0.2;
/// "Does well next to B": at least this share of B's gain over random.
pub const CLOSE_FRACTION: f64 = 0.9;
/// Bootstrap replicates of each claim's interval.
pub const VERDICT_REPS: usize = 2000;
/// Fewer seeds than this on either side give no interval.
pub const MIN_SEEDS: usize = 2;
/// Fewer seeds than this on either side give no decisive verdict: the
/// percentile bootstrap calls two completely separated samples certain
/// (every replicate gives P = 1), yet with n = 3 against 3 complete
/// separation happens by chance with probability 2/C(6, 3) = 0.1 (the
/// exact Mann–Whitney test); with 4 against 4 it is 2/C(8, 4) ≈ 0.029,
/// below 5 %.
pub const DECISIVE_SEEDS: usize = 4;
/// Seed counts above this are reported as "more than".
pub const MAX_SEEDS_SUGGESTED: usize = 100;

/// What a claim says about `P(A > B)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A beats B.
    Better,
    /// A is at least as good as B, up to the margin.
    AtLeast,
    /// A and B are similar, up to the margin.
    Similar,
    /// A does well next to B: its gain over random is at least
    /// [`CLOSE_FRACTION`] of B's (judged by [`judge_gain`], not on `P`).
    Close,
}

impl Direction {
    /// The relation as the report writes it between two names.
    pub fn symbol(self) -> &'static str {
        match self {
            Direction::Better => ">",
            Direction::AtLeast => "≥",
            Direction::Similar => "≈",
            Direction::Close => "≳",
        }
    }
}

/// The outcome of testing a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The interval lies where the claim says.
    Supported,
    /// The interval lies where the claim says it does not.
    Contradicted,
    /// Neither.
    Inconclusive,
}

impl Verdict {
    /// The word the report prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::Contradicted => "contradicted",
            Verdict::Inconclusive => "inconclusive",
        }
    }

    /// Several parts of one claim: supported if every part is, contradicted
    /// if any part is, else inconclusive.
    pub fn all(parts: impl IntoIterator<Item = Verdict>) -> Verdict {
        let mut all_supported = true;
        for v in parts {
            match v {
                Verdict::Contradicted => return Verdict::Contradicted,
                Verdict::Inconclusive => all_supported = false,
                Verdict::Supported => {}
            }
        }
        if all_supported {
            Verdict::Supported
        } else {
            Verdict::Inconclusive
        }
    }
}

/// A judged comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The effect (`P(A > B)`, or the gain ratio for [`Direction::Close`])
    /// and its 95 % interval; `None` below [`MIN_SEEDS`] seeds.
    pub effect: Option<(f64, f64, f64)>,
    /// The verdict.
    pub verdict: Verdict,
    /// For an inconclusive verdict: about how many seeds per side would
    /// decide it (`None`: cannot say, see `note`).
    pub seeds_needed: Option<usize>,
    /// What to tell the reader besides the numbers (empty when nothing).
    pub note: String,
}

/// Judge the claim "A `direction` B" on one task from the two sides' final
/// scores; `seed` fixes the bootstrap stream. The effect is `P(A > B)`;
/// for [`Direction::Close`] use [`judge_gain`].
pub fn judge(a: &[f64], b: &[f64], direction: Direction, seed: u64) -> Judgement {
    assert!(
        direction != Direction::Close,
        "Close is judged by judge_gain"
    );
    let (sa, sb): (Sample, Sample) = (vec![a.to_vec()], vec![b.to_vec()]);
    decide(&[sa, sb], direction, seed, |r| {
        probability_of_improvement(&r[0], &r[1])
    })
}

/// Judge "A does well next to B" ([`Direction::Close`]) from the final
/// scores of A, B and the random policy (`zero`): the effect is the gain
/// ratio `ρ = (Ā − R̄) / (B̄ − R̄)` (module docs).
pub fn judge_gain(a: &[f64], b: &[f64], zero: &[f64], seed: u64) -> Judgement {
    let samples: Vec<Sample> = [a, b, zero].iter().map(|x| vec![x.to_vec()]).collect();
    decide(&samples, Direction::Close, seed, |r| {
        let m = |s: &Sample| mean(&s[0]);
        let zero = m(&r[2]);
        (m(&r[0]) - zero) / (m(&r[1]) - zero)
    })
}

/// The estimate of `stat` on `samples` (A's, B's, then any others), its
/// bootstrap interval and the verdict for `direction`; every side needs
/// [`MIN_SEEDS`] for an interval and [`DECISIVE_SEEDS`] for a decision.
fn decide(
    samples: &[Sample],
    direction: Direction,
    seed: u64,
    stat: impl Fn(&[Sample]) -> f64,
) -> Judgement {
    let sizes: Vec<usize> = samples.iter().map(|s| s[0].len()).collect();
    let n = sizes.iter().copied().min().unwrap_or(0);
    if n < MIN_SEEDS {
        let sizes: Vec<String> = sizes.iter().map(|k| k.to_string()).collect();
        return Judgement {
            effect: None,
            verdict: Verdict::Inconclusive,
            seeds_needed: None,
            note: format!(
                "{} seed(s): an interval needs at least {MIN_SEEDS} per side; run 5",
                sizes.join(" vs ")
            ),
        };
    }
    let p = stat(samples);
    let (lo, hi) = Bootstrap {
        reps: VERDICT_REPS,
        level: 0.95,
        seed,
    }
    .intervals(samples, |r| vec![stat(r)])[0];
    let verdict = verdict(direction, lo, hi);
    let (verdict, seeds_needed, note) = match verdict {
        Verdict::Inconclusive => {
            let (seeds, note) = seeds_to_decide(direction, p, (hi - lo) / 2.0, n);
            (verdict, seeds.map(|s| s.max(DECISIVE_SEEDS)), note)
        }
        decided if n < DECISIVE_SEEDS => (
            Verdict::Inconclusive,
            Some(DECISIVE_SEEDS),
            format!(
                "would be {} with {DECISIVE_SEEDS} seeds per side (at {n}, even complete \
                 separation is not significant at 5 %)",
                decided.as_str()
            ),
        ),
        decided => (decided, None, String::new()),
    };
    Judgement {
        effect: Some((p, lo, hi)),
        verdict,
        seeds_needed,
        note,
    }
}

/// The table of the module docs.
fn verdict(direction: Direction, lo: f64, hi: f64) -> Verdict {
    let (supported, contradicted) = match direction {
        Direction::Better => (lo > 0.5, hi < 0.5),
        Direction::AtLeast => (lo > 0.5 - MARGIN, hi < 0.5 - MARGIN),
        Direction::Similar => (
            lo > 0.5 - MARGIN && hi < 0.5 + MARGIN,
            lo > 0.5 + MARGIN || hi < 0.5 - MARGIN,
        ),
        Direction::Close => (lo >= CLOSE_FRACTION, hi < CLOSE_FRACTION),
    };
    match (supported, contradicted) {
        (true, _) => Verdict::Supported,
        (_, true) => Verdict::Contradicted,
        _ => Verdict::Inconclusive,
    }
}

/// `n′ ≈ n·(h/d)²` (module docs), with `d` the distance from `p` to the
/// threshold the interval has to clear.
fn seeds_to_decide(direction: Direction, p: f64, half: f64, n: usize) -> (Option<usize>, String) {
    let d = match direction {
        Direction::Better => (p - 0.5).abs(),
        Direction::AtLeast => (p - (0.5 - MARGIN)).abs(),
        Direction::Close => (p - CLOSE_FRACTION).abs(),
        Direction::Similar => {
            let (low, high) = (0.5 - MARGIN, 0.5 + MARGIN);
            if p > low && p < high {
                (p - low).min(high - p)
            } else {
                (p - low).abs().min((p - high).abs())
            }
        }
    };
    if d < 1e-9 || half <= 0.0 {
        return (
            None,
            "the estimate sits on the threshold: no number of seeds is likely to decide it".into(),
        );
    }
    let needed = (n as f64 * (half / d).powi(2)).ceil() as usize;
    if needed > MAX_SEEDS_SUGGESTED {
        (
            None,
            format!("more than {MAX_SEEDS_SUGGESTED} seeds per side would be needed"),
        )
    } else {
        // The interval is already too wide at n, so at least one more seed.
        (Some(needed.max(n + 1)), String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds(base: f64, n: usize) -> Vec<f64> {
        (0..n).map(|i| base + i as f64).collect()
    }

    #[test]
    fn clearly_better_is_supported_and_clearly_worse_contradicted() {
        let (hi, lo) = (seeds(100.0, 5), seeds(0.0, 5));
        let j = judge(&hi, &lo, Direction::Better, 1);
        assert_eq!(j.verdict, Verdict::Supported);
        assert_eq!(j.effect, Some((1.0, 1.0, 1.0)));
        let j = judge(&lo, &hi, Direction::Better, 1);
        assert_eq!(j.verdict, Verdict::Contradicted);
        assert_eq!(j.effect.unwrap().0, 0.0);
        // Far worse also contradicts "at least as good", and "similar".
        assert_eq!(
            judge(&lo, &hi, Direction::AtLeast, 1).verdict,
            Verdict::Contradicted
        );
        assert_eq!(
            judge(&lo, &hi, Direction::Similar, 1).verdict,
            Verdict::Contradicted
        );
        // Clearly better is at least as good, but not similar.
        assert_eq!(
            judge(&hi, &lo, Direction::AtLeast, 1).verdict,
            Verdict::Supported
        );
    }

    #[test]
    fn overlapping_is_inconclusive_with_a_seed_estimate() {
        // Interleaved: P(A > B) = 6/9, the interval wide at three seeds.
        let a = [1.0, 3.0, 5.0];
        let b = [2.0, 4.0, 0.0];
        let j = judge(&a, &b, Direction::Better, 7);
        let (p, lo, hi) = j.effect.unwrap();
        assert!((p - 6.0 / 9.0).abs() < 1e-12, "{p}");
        assert!(lo < 0.5 && hi > 0.5, "[{lo}, {hi}]");
        assert_eq!(j.verdict, Verdict::Inconclusive);
        let needed = j.seeds_needed.expect("a finite estimate");
        assert!(needed > 3 && needed <= MAX_SEEDS_SUGGESTED, "{needed}");
        // Identical samples: P = ½ exactly, no number of seeds decides
        // "better".
        let j = judge(&a, &a, Direction::Better, 7);
        assert_eq!(j.verdict, Verdict::Inconclusive);
        assert!(j.seeds_needed.is_none() && j.note.contains("threshold"));
    }

    #[test]
    fn similar_needs_the_whole_interval_inside_the_margin() {
        // Many interleaved seeds: P = ½ with a narrow interval.
        let a: Vec<f64> = (0..40).map(|i| (2 * i) as f64).collect();
        let b: Vec<f64> = (0..40).map(|i| (2 * i + 1) as f64).collect();
        let j = judge(&a, &b, Direction::Similar, 3);
        let (_, lo, hi) = j.effect.unwrap();
        assert!(lo > 0.5 - MARGIN && hi < 0.5 + MARGIN, "[{lo}, {hi}]");
        assert_eq!(j.verdict, Verdict::Supported);
        // The same with three seeds: the interval is too wide to say.
        let j = judge(&a[..3], &b[..3], Direction::Similar, 3);
        assert_eq!(j.verdict, Verdict::Inconclusive);
    }

    #[test]
    fn one_seed_gives_no_interval_and_no_verdict() {
        let j = judge(&[100.0], &[0.0, 1.0], Direction::Better, 1);
        assert_eq!(j.verdict, Verdict::Inconclusive);
        assert!(j.effect.is_none());
        assert!(j.note.contains("1 vs 2 seed(s)"), "{}", j.note);
        // Three clearly separated seeds: an interval, but no decisive verdict.
        let j = judge(&seeds(100.0, 3), &seeds(0.0, 3), Direction::Better, 1);
        assert_eq!(j.effect, Some((1.0, 1.0, 1.0)));
        assert_eq!(j.verdict, Verdict::Inconclusive);
        assert_eq!(j.seeds_needed, Some(DECISIVE_SEEDS));
        assert!(j.note.starts_with("would be supported"), "{}", j.note);
    }

    #[test]
    fn parts_combine() {
        use Verdict::*;
        assert_eq!(Verdict::all([Supported, Supported]), Supported);
        assert_eq!(Verdict::all([Supported, Inconclusive]), Inconclusive);
        assert_eq!(Verdict::all([Inconclusive, Contradicted]), Contradicted);
    }

    #[test]
    fn same_data_same_interval() {
        let (a, b) = ([1.0, 3.0, 5.0, 2.0], [2.0, 4.0, 0.0, 1.5]);
        assert_eq!(
            judge(&a, &b, Direction::Better, 9),
            judge(&a, &b, Direction::Better, 9)
        );
    }

    /// Nearly deterministic scores around `centre` (±0.5).
    fn tight(centre: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| centre + (i as f64 / n as f64) - 0.5)
            .collect()
    }

    #[test]
    fn doing_well_is_a_share_of_the_gain_over_random_not_a_probability() {
        // 95 % of B's gain over random, every seed below B's: P(A > B) = 0
        // would call this "worse"; the gain ratio calls it close.
        let (zero, b) = (tight(-10.0, 4), tight(410.0, 4));
        let a = tight(389.0, 4);
        assert_eq!(
            judge(&a, &b, Direction::AtLeast, 3).verdict,
            Verdict::Contradicted
        );
        let j = judge_gain(&a, &b, &zero, 3);
        let (r, lo, hi) = j.effect.unwrap();
        assert!(
            (r - 0.95).abs() < 1e-9 && lo >= CLOSE_FRACTION && hi < 1.0,
            "{j:?}"
        );
        assert_eq!(j.verdict, Verdict::Supported);
        // Half of B's gain: contradicted.
        let j = judge_gain(&tight(200.0, 4), &b, &zero, 3);
        assert_eq!(j.verdict, Verdict::Contradicted, "{j:?}");
        // Straddling the threshold: inconclusive, with a seed estimate.
        let wide: Vec<f64> = [300.0, 420.0, 360.0, 410.0].to_vec();
        let j = judge_gain(&wide, &b, &zero, 3);
        assert_eq!(j.verdict, Verdict::Inconclusive, "{j:?}");
        assert!(j.seeds_needed.is_some() || !j.note.is_empty());
        // Three seeds decide nothing, whatever the interval.
        let j = judge_gain(&tight(389.0, 3), &tight(410.0, 3), &tight(-10.0, 3), 3);
        assert_eq!(j.verdict, Verdict::Inconclusive);
        assert!(j.note.starts_with("would be supported"), "{}", j.note);
        // One random seed: no interval.
        assert!(judge_gain(&a, &b, &[-10.0], 3).effect.is_none());
    }
}
