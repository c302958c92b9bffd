//! The TRPO update as reusable pieces (paper, Appendix C).
//!
//! 1. The natural direction `x ≈ F⁻¹ g` comes from [`crate::cg`].
//! 2. [`NaturalStep::new`] scales it to the trust-region boundary of the
//!    quadratic KL model: `s = β x`, `β = √(2δ / xᵀF x)`, so `½ sᵀF s = δ`.
//! 3. TRPO runs [`LineSearch::run`]: try `s, s/2, s/4, …` and accept the
//!    first whose *exact* mean KL is within `δ` and whose surrogate improves;
//!    otherwise restore the parameters bit for bit.
//!
//! NPG is steps 1–2 followed by [`NaturalStep::apply`] (no line search);
//! with [`NaturalStep::scaled`] it can use a fixed learning rate instead of a
//! KL radius. Nothing is duplicated between the two.

use crate::surrogate::SurrogateValue;
use crate::vector::{axpy, dot};

/// Why no step can be taken: the quadratic model is not positive along the
/// direction (`xᵀF x ≤ 0`), or something is not finite. Never turned into a
/// NaN step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepError {
    /// `xᵀ F x` is `≤ 0` or not finite.
    NonPositiveCurvature {
        /// The offending `xᵀ F x`.
        curvature: f64,
    },
    /// The direction, gradient or resulting step has a non-finite entry, or
    /// the KL radius / scale is not a positive finite number.
    NonFinite,
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepError::NonPositiveCurvature { curvature } => write!(
                f,
                "natural step impossible: xᵀFx = {curvature} is not positive (Fisher not positive \
                 definite along the CG direction)"
            ),
            StepError::NonFinite => {
                f.write_str("natural step impossible: non-finite direction, gradient or radius")
            }
        }
    }
}

impl std::error::Error for StepError {}

/// A full step `s` along the natural direction, with its first-order model.
#[derive(Clone, Debug, PartialEq)]
pub struct NaturalStep {
    /// `s = β x`.
    pub full_step: Vec<f64>,
    /// `β`.
    pub scale: f64,
    /// `gᵀs`: the surrogate improvement the linear model predicts for `s`.
    pub expected_improvement: f64,
}

impl NaturalStep {
    /// `s = β x` with `β = √(2δ / xᵀ F x)`: the step to the boundary of the
    /// quadratic trust region `½ sᵀF s ≤ δ` (`δ = max_kl`; the paper uses
    /// 0.01). `f_direction` is `F x`, as computed by the same (damped)
    /// Fisher-vector product CG used.
    pub fn new(
        direction: &[f64],
        f_direction: &[f64],
        gradient: &[f64],
        max_kl: f64,
    ) -> Result<NaturalStep, StepError> {
        if !(max_kl > 0.0 && max_kl.is_finite()) {
            return Err(StepError::NonFinite);
        }
        let curvature = dot(direction, f_direction);
        if curvature.is_nan() || curvature <= 0.0 {
            return Err(StepError::NonPositiveCurvature { curvature });
        }
        // An infinite curvature gives β = 0, caught by `scaled`.
        NaturalStep::scaled(direction, gradient, (2.0 * max_kl / curvature).sqrt())
    }

    /// `s = scale · x`, for a fixed step size (e.g. NPG with a learning rate).
    pub fn scaled(
        direction: &[f64],
        gradient: &[f64],
        scale: f64,
    ) -> Result<NaturalStep, StepError> {
        if !(scale > 0.0 && scale.is_finite()) {
            return Err(StepError::NonFinite);
        }
        let full_step: Vec<f64> = direction.iter().map(|x| scale * x).collect();
        let expected_improvement = dot(gradient, &full_step);
        if !expected_improvement.is_finite() || full_step.iter().any(|s| !s.is_finite()) {
            return Err(StepError::NonFinite);
        }
        Ok(NaturalStep {
            full_step,
            scale,
            expected_improvement,
        })
    }

    /// `params ← params + fraction · s`.
    pub fn apply(&self, params: &mut [f64], fraction: f64) {
        axpy(fraction, &self.full_step, params);
    }
}

/// TRPO's backtracking line search on the exact constraint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineSearch {
    /// `δ`: the largest mean KL(π_old ‖ π) accepted.
    pub max_kl: f64,
    /// Step fractions tried: `1, ½, …, 2^−(attempts−1)` (the paper's code: 10).
    pub attempts: usize,
    /// Minimum `actual / expected` improvement accepted, on top of
    /// `actual > 0` (0: any improvement).
    pub accept_ratio: f64,
}

impl Default for LineSearch {
    /// `δ = 0.01`, 10 attempts, any improvement.
    fn default() -> LineSearch {
        LineSearch {
            max_kl: 0.01,
            attempts: 10,
            accept_ratio: 0.0,
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
    /// `L(θ) − L(θ_old)`.
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
    /// with exact `KL̄ ≤ δ`, `ΔL > 0` and `ΔL ≥ accept_ratio · 2⁻ᵏ gᵀs` (all
    /// finite). `evaluate(θ)` returns the surrogate and exact mean KL at `θ`
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
            let actual = value.surrogate - before.surrogate;
            let accepted = value.mean_kl.is_finite()
                && value.mean_kl <= self.max_kl
                && actual.is_finite()
                && actual > 0.0
                && actual >= self.accept_ratio * expected;
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
    use trustbench_plugin::rng::Rng;

    use super::*;
    use crate::cg::{CgScratch, conjugate_gradient};
    use crate::fisher::FisherVectorProduct;
    use crate::network::Activation;
    use crate::policy::{Policy, PolicyWorkspace};
    use crate::surrogate::Surrogate;
    use crate::testutil::{Batch, batch, normal_vec};

    /// Everything TRPO computes before the line search, on one batch.
    struct Problem {
        policy: Policy,
        b: Batch,
        advantages: Vec<f64>,
    }

    impl Problem {
        fn new(seed: u64) -> Problem {
            let policy = if seed.is_multiple_of(2) {
                Policy::gaussian_mlp(3, &[8], 2, Activation::Tanh).unwrap()
            } else {
                Policy::categorical_mlp(3, &[8], 3, Activation::Tanh).unwrap()
            };
            let b = batch(&policy, 64, 100 + seed);
            let advantages = normal_vec(&mut Rng::new(seed), b.n, 1.0);
            Problem {
                policy,
                b,
                advantages,
            }
        }

        fn surrogate(&self) -> Surrogate {
            self.b.surrogate(
                &self.policy,
                self.advantages.clone(),
                &mut PolicyWorkspace::new(),
            )
        }

        /// `s` for radius `max_kl`, from 10 CG iterations on the FVP damped
        /// by 1e-3; `β` from `xᵀ(F + λI)x` with damping `step_damping`.
        fn step(&self, max_kl: f64, step_damping: f64) -> NaturalStep {
            let p = self.policy.param_len();
            let mut g = vec![0.0; p];
            self.surrogate().gradient(
                &self.policy,
                &self.b.params,
                &mut PolicyWorkspace::new(),
                &mut g,
            );
            let mut fvp = FisherVectorProduct::new(&self.policy, 1e-3);
            fvp.prepare(&self.b.params, &self.b.obs, self.b.n, None);
            let mut x = vec![0.0; p];
            let mut scratch = CgScratch::new(p, 10);
            conjugate_gradient(
                |v, o| fvp.apply(v, o),
                &g,
                &mut x,
                10,
                1e-10,
                &mut scratch,
                |_| {},
            );
            let mut fx = vec![0.0; p];
            let mut fvp_step = FisherVectorProduct::new(&self.policy, step_damping);
            fvp_step.prepare(&self.b.params, &self.b.obs, self.b.n, None);
            fvp_step.apply(&x, &mut fx);
            NaturalStep::new(&x, &fx, &g, max_kl).unwrap()
        }
    }

    #[test]
    fn natural_step_reaches_the_quadratic_kl_boundary() {
        let (x, fx, g) = ([1.0, -2.0], [3.0, -1.0], [0.5, 0.25]);
        let step = NaturalStep::new(&x, &fx, &g, 0.01).unwrap();
        // ½ sᵀFs = ½ β² xᵀFx = δ.
        let quadratic_kl = 0.5 * step.scale * step.scale * dot(&x, &fx);
        assert!((quadratic_kl - 0.01).abs() < 1e-15);
        assert!((step.expected_improvement - dot(&g, &step.full_step)).abs() < 1e-15);
        let mut params = [1.0, 1.0];
        step.apply(&mut params, 1.0);
        assert_eq!(params, [1.0 + step.full_step[0], 1.0 + step.full_step[1]]);
    }

    #[test]
    fn natural_step_refuses_non_positive_or_non_finite_curvature() {
        let g = [1.0, 1.0];
        for (x, fx) in [
            ([0.0, 0.0], [0.0, 0.0]),
            ([1.0, 0.0], [-1.0, 0.0]),
            ([1.0, 0.0], [f64::NAN, 0.0]),
        ] {
            let err = NaturalStep::new(&x, &fx, &g, 0.01).unwrap_err();
            assert!(
                matches!(err, StepError::NonPositiveCurvature { .. }),
                "{x:?} {fx:?}: {err}"
            );
        }
        let (x, fx) = ([1.0, 0.0], [1.0, 0.0]);
        assert_eq!(
            NaturalStep::new(&x, &fx, &g, 0.0),
            Err(StepError::NonFinite)
        );
        assert_eq!(
            NaturalStep::new(&x, &[f64::INFINITY, 0.0], &g, 0.01),
            Err(StepError::NonFinite)
        );
        assert_eq!(
            NaturalStep::new(&x, &fx, &[f64::NAN, 0.0], 0.01),
            Err(StepError::NonFinite)
        );
        assert_eq!(
            NaturalStep::scaled(&[f64::INFINITY, 0.0], &g, 1.0),
            Err(StepError::NonFinite)
        );
    }

    #[test]
    fn exact_kl_of_a_small_natural_step_matches_the_quadratic_model() {
        // F is the Hessian of the mean KL, so the exact KL after an NPG step
        // (no line search) sized by the undamped F is δ + O(δ^{3/2}).
        for seed in [0, 1] {
            let problem = Problem::new(seed);
            let relative_gap = |delta: f64| {
                let step = problem.step(delta, 0.0);
                let mut params = problem.b.params.clone();
                step.apply(&mut params, 1.0);
                let mut ws = PolicyWorkspace::new();
                let kl = problem
                    .surrogate()
                    .evaluate(&problem.policy, &params, &mut ws)
                    .mean_kl;
                (kl / delta - 1.0).abs()
            };
            let (coarse, fine) = (relative_gap(1e-6), relative_gap(1e-8));
            assert!(
                fine < 0.01,
                "seed {seed}: exact KL off the quadratic model by {fine:e} at δ = 1e-8"
            );
            assert!(
                fine < 0.2 * coarse,
                "seed {seed}: gap {coarse:e} → {fine:e} should shrink like √δ"
            );
        }
    }

    #[test]
    fn line_search_never_accepts_a_step_beyond_the_kl_radius() {
        let search = LineSearch::default();
        let mut accepted = 0;
        for seed in 0..8 {
            let problem = Problem::new(seed);
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
                assert!(report.after.surrogate > report.before.surrogate);
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
        let problem = Problem::new(3);
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
