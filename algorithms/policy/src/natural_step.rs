//! The natural step (paper, Appendix C), shared by TRPO and NPG.
//!
//! The natural direction `x ≈ F⁻¹ g` comes from [`crate::cg`]; this module
//! turns it into a step `s = β x`, sized one of two ways:
//! - [`NaturalStep::new`] (TRPO): to the boundary of the quadratic KL model,
//!   `β = √(2δ / xᵀF x)`, so `½ sᵀF s = δ`; TRPO then runs
//!   [`crate::trust_region::LineSearch`] on it.
//! - [`NaturalStep::scaled`] (NPG): a fixed `β`, the learning rate, applied
//!   as it is with [`NaturalStep::apply`] (no line search).

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyWorkspace;
    use crate::testutil::StepProblem;

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
            let problem = StepProblem::new(seed);
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
}
