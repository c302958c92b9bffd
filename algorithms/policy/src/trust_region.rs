//! TRPO's backtracking line search on the exact KL constraint (paper,
//! Appendix C): try `s, s/2, s/4, …` of a [`NaturalStep`] and accept the
//! first whose *exact* mean KL is within `δ` and whose objective (the
//! surrogate, plus any entropy bonus) improves; otherwise restore the
//! parameters bit for bit. NPG takes the natural step as it is and has no
//! such search.

use crate::natural_step::NaturalStep;
use crate::surrogate::SurrogateValue;

/// TRPO's backtracking line search on the exact constraint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineSearch {
    /// `δ`: the largest mean KL(π_old ‖ π) accepted.
    pub max_kl: f64,
    /// Step fractions tried: `1, ½, …, 2^−(attempts−1)` (the paper's code: 10).
    pub attempts: usize,
}

impl Default for LineSearch {
    /// `δ = 0.01`, 10 attempts, any improvement.
    fn default() -> LineSearch {
        LineSearch {
            max_kl: 0.01,
            attempts: 10,
        }
    }
}

/// One tried step fraction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineSearchAttempt {
    /// Fraction of the full step.
    pub fraction: f64,
    /// `fraction · gᵀs`.
    pub expected_improvement: f64,
    /// The objective's change, `(L + c·H̄)(θ) − (L + c·H̄)(θ_old)`.
    pub actual_improvement: f64,
    /// Exact mean KL at the candidate.
    pub mean_kl: f64,
    /// Whether this candidate was taken.
    pub accepted: bool,
}

/// What the line search did.
#[derive(Clone, Debug, PartialEq)]
pub struct LineSearchReport {
    /// Values at the starting parameters.
    pub before: SurrogateValue,
    /// Values at the returned parameters (`before` when nothing was accepted).
    pub after: SurrogateValue,
    /// Every candidate tried, in order; at most the last is accepted.
    pub attempts: Vec<LineSearchAttempt>,
}

impl LineSearchReport {
    /// Whether a step was taken.
    pub fn accepted(&self) -> bool {
        self.attempts.last().is_some_and(|a| a.accepted)
    }
}

impl LineSearch {
    /// Tries `θ_old + 2⁻ᵏ s` for `k = 0, 1, …` and keeps the first candidate
    /// with exact `KL̄ ≤ δ` and an improved objective `L + c·H̄` (both
    /// finite); like the paper's code, any improvement is accepted, however
    /// far below the linear model's `2⁻ᵏ gᵀs`. `evaluate(θ)` returns the
    /// objective and exact mean KL at `θ`
    /// (e.g. [`crate::Surrogate::evaluate`]). Candidates are formed from a
    /// copy of `θ_old`, so when none is accepted `params` is restored to
    /// `θ_old` bit for bit.
    pub fn run(
        &self,
        params: &mut [f64],
        step: &NaturalStep,
        mut evaluate: impl FnMut(&[f64]) -> SurrogateValue,
    ) -> LineSearchReport {
        assert_eq!(
            params.len(),
            step.full_step.len(),
            "line search: step length"
        );
        let start = params.to_vec();
        let before = evaluate(params);
        let mut attempts = Vec::with_capacity(self.attempts);
        let mut fraction = 1.0;
        for _ in 0..self.attempts {
            params.copy_from_slice(&start);
            step.apply(params, fraction);
            let value = evaluate(params);
            let expected = fraction * step.expected_improvement;
            let actual = value.objective - before.objective;
            let accepted = value.mean_kl.is_finite()
                && value.mean_kl <= self.max_kl
                && actual.is_finite()
                && actual > 0.0;
            attempts.push(LineSearchAttempt {
                fraction,
                expected_improvement: expected,
                actual_improvement: actual,
                mean_kl: value.mean_kl,
                accepted,
            });
            if accepted {
                return LineSearchReport {
                    before,
                    after: value,
                    attempts,
                };
            }
            fraction *= 0.5;
        }
        params.copy_from_slice(&start);
        LineSearchReport {
            before,
            after: before,
            attempts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyWorkspace;
    use crate::testutil::StepProblem;

    #[test]
    fn line_search_never_accepts_a_step_beyond_the_kl_radius() {
        let search = LineSearch::default();
        let mut accepted = 0;
        for seed in 0..8 {
            let problem = StepProblem::new(seed);
            // A step sized for 100× the radius: the full step must be refused.
            let step = problem.step(100.0 * search.max_kl, 1e-3);
            let surrogate = problem.surrogate();
            let mut ws = PolicyWorkspace::new();
            let mut params = problem.b.params.clone();
            let report = search.run(&mut params, &step, |p| {
                surrogate.evaluate(&problem.policy, p, &mut ws)
            });
            let fresh = surrogate.evaluate(&problem.policy, &params, &mut PolicyWorkspace::new());
            assert!(
                fresh.mean_kl <= search.max_kl,
                "seed {seed}: accepted KL {}",
                fresh.mean_kl
            );
            assert!(report.attempts.iter().filter(|a| a.accepted).count() <= 1);
            for (k, a) in report.attempts.iter().enumerate() {
                assert_eq!(a.fraction, 0.5f64.powi(k as i32));
                assert!(!a.accepted || a.mean_kl <= search.max_kl);
            }
            if report.accepted() {
                accepted += 1;
                assert_eq!(report.after, fresh);
                assert!(report.after.objective > report.before.objective);
                assert!(
                    report.attempts.len() > 1,
                    "seed {seed}: the full step cannot be within δ"
                );
            } else {
                assert_eq!(params, problem.b.params);
            }
        }
        assert!(
            accepted >= 6,
            "only {accepted} of 8 line searches found a step"
        );
    }

    #[test]
    fn failed_line_search_restores_parameters_bit_for_bit() {
        let problem = StepProblem::new(3);
        let mut step = problem.step(0.01, 1e-3);
        // Walk downhill: no fraction improves the surrogate.
        step.full_step.iter_mut().for_each(|s| *s = -*s);
        step.expected_improvement = -step.expected_improvement;
        let surrogate = problem.surrogate();
        let mut ws = PolicyWorkspace::new();
        for scale in [1.0, 1e300] {
            let scaled = NaturalStep {
                full_step: step.full_step.iter().map(|s| s * scale).collect(),
                ..step.clone()
            };
            let mut params = problem.b.params.clone();
            let report = LineSearch::default().run(&mut params, &scaled, |p| {
                surrogate.evaluate(&problem.policy, p, &mut ws)
            });
            assert!(!report.accepted());
            assert_eq!(report.attempts.len(), 10);
            assert_eq!(report.after, report.before);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&params), bits(&problem.b.params), "scale {scale}");
        }
    }
}
