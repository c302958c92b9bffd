//! The natural-gradient update that TRPO and NPG share (Schulman et al.
//! 2015, Appendix C; Kakade 2002). They differ only in how the step along
//! the natural direction is sized ([`StepRule`]), so that is the only switch.
//!
//! One iteration, as in the paper:
//! 1. collect a batch with π_old and estimate advantages A (GAE);
//! 2. g = ∇θ (L + c·H̄)(θ_old), L(θ) = mean(π_θ(a|s)/π_old(a|s) · A), H̄
//!    the policy's mean entropy over the batch and c the entropy bonus
//!    (the paper's c = 0);
//! 3. x ≈ (F + λI)⁻¹ g by `cg_iterations` of conjugate gradient, with the
//!    analytic Fisher-vector product on a `fvp_fraction` subsample;
//! 4. TRPO: s = β x, β = √(2δ / xᵀFx), then backtrack until the exact mean
//!    KL ≤ δ and L + c·H̄ improves. NPG: s = η x with a fixed η, taken as is;
//! 5. refit the value baseline on the batch's returns.

use crate::{ActorCritic, Rollout};
use serde::{Deserialize, Serialize};
use trustbench_plugin::{Error, Host, NaturalGradient, Result, check_range, metrics};
use trustbench_policy::vector::norm;
use trustbench_policy::{
    CgScratch, FisherVectorProduct, LineSearch, NaturalStep, ObservationBuffer, PolicyWorkspace,
    Surrogate, conjugate_gradient, normalize_advantages, subsample,
};

/// How the step along the natural direction x is sized.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepRule {
    /// TRPO: to the KL boundary, then backtracking on the exact constraint.
    TrustRegion(LineSearch),
    /// NPG: a fixed multiple of x, no line search.
    Fixed(f64),
}

/// The config keys of the natural-gradient solve, flattened into TRPO's and
/// NPG's configs (so `--set cg_damping=…` means the same in both).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NaturalKeys {
    /// Conjugate-gradient iterations for x ≈ (F + λI)⁻¹g (paper: 10).
    pub cg_iterations: usize,
    /// λ of (F + λI): regularises the solve where F is nearly singular. The
    /// paper names no damping; Schulman's modular_rl uses 1e-3. 0.1 is this
    /// project's choice, measured against 1e-2 and 1e-3 on swimmer, hopper
    /// and walker (`benches/sweeps/cg-damping.toml`): best or tied on all
    /// three. It also enters the step size, β = √(2δ / xᵀ(F + λI)x), and
    /// a smaller λ made steps shorter, not longer: the solve then leans on
    /// low-curvature directions where the subsampled Fisher underestimates
    /// the KL, so nearly every step overshot δ and was halved by the line
    /// search. `harness check cg` shows its effect on the solve.
    pub cg_damping: f64,
    /// Fraction of the batch used for Fisher-vector products (paper: 0.1,
    /// which `reproduce --scale paper` keeps); the gradient always uses the
    /// whole batch. With the default batch of 2,048 a tenth (205 states)
    /// made the solve too noisy on Walker2d-v5 and a quarter left a third of
    /// its seeds short; the whole batch is what reached the anchors
    /// (benches/README.md, "The entropy bonus"). It costs: a run on our own
    /// tasks takes about twice as long as with a tenth, and on the conv net
    /// (pixel games) the Fisher-vector products would dominate, so the
    /// reproduction's games keep a tenth of 5,000. Single path only: TRPO's
    /// vine has its own `vine_fvp_fraction`.
    pub fvp_fraction: f64,
    /// c of the maximised objective L(θ) + c·H̄(θ), H̄ the policy's mean
    /// entropy over the batch; the paper maximised L alone (c = 0), which
    /// `reproduce --scale paper` keeps. For a diagonal Gaussian,
    /// H = Σₖ log σₖ + const, so the bonus adds c to the gradient of each
    /// log σₖ: it slows the collapse of the policy's spread, the cause of
    /// our TRPO's seeds that learn a gait and then lose it (evaluated by
    /// the mode, the gait is brittle when σ has shrunk onto one path).
    /// 0.01 was measured on MuJoCo's Hopper-v5 and Walker2d-v5 and on our
    /// own locomotion tasks at 1M steps (benches/README.md, "The entropy
    /// bonus"); it is PPO's usual coefficient too.
    pub entropy_bonus: f64,
}

impl Default for NaturalKeys {
    fn default() -> NaturalKeys {
        NaturalKeys {
            cg_iterations: 10,
            cg_damping: 0.1,
            fvp_fraction: 1.0,
            entropy_bonus: 0.01,
        }
    }
}

/// The natural-gradient solve and how its step is sized.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NaturalConfig {
    /// CG iterations, damping, Fisher subsample: as configured.
    pub keys: NaturalKeys,
    /// TRPO's or NPG's step size rule.
    pub rule: StepRule,
}

impl NaturalConfig {
    /// Check ranges; errors name the key and the valid range.
    pub fn validate(&self) -> Result<()> {
        check_range("cg_iterations", self.keys.cg_iterations, 1, 100_000)?;
        check_range("cg_damping", self.keys.cg_damping, 0.0, 1e6)?;
        check_range("fvp_fraction", self.keys.fvp_fraction, 1e-6, 1.0)?;
        check_range("entropy_bonus", self.keys.entropy_bonus, 0.0, 10.0)?;
        match self.rule {
            StepRule::TrustRegion(ls) => {
                check_range("max_kl", ls.max_kl, 1e-9, 10.0)?;
                check_range("backtracks", ls.attempts, 1, 100)
            }
            StepRule::Fixed(step) => check_range("step_size", step, 1e-12, 1e3),
        }
    }
}

/// Everything fixed at θ_old for one update: the surrogate over the batch,
/// g, and the Fisher-vector product prepared on its subsample.
pub struct NaturalProblem {
    surrogate: Surrogate,
    gradient: Vec<f64>,
    fvp: FisherVectorProduct,
    objective_before: f64,
    entropy: f64,
}

impl NaturalProblem {
    /// Steps 2–3's inputs from (normalised) states, actions and advantages
    /// (advantages are standardised here). One forward pass over the batch
    /// serves both freezing π_old and g.
    pub fn new(
        ac: &mut ActorCritic,
        obs: ObservationBuffer,
        actions: Vec<f64>,
        mut advantages: Vec<f64>,
        config: &NaturalConfig,
    ) -> NaturalProblem {
        normalize_advantages(&mut advantages);
        let policy = &ac.agent.policy;
        let params = &ac.agent.params;
        let n = advantages.len();
        let subset = subsample(n, config.keys.fvp_fraction, &mut ac.rng);
        let mut fvp =
            FisherVectorProduct::new(policy, config.keys.cg_damping).with_threads(ac.threads);
        fvp.prepare(params, obs.view(), n, Some(&subset));
        let mut gradient = vec![0.0; policy.param_len()];
        let (surrogate, value) = Surrogate::with_gradient(
            policy,
            params,
            obs,
            actions,
            advantages,
            config.keys.entropy_bonus,
            &mut PolicyWorkspace::with_threads(ac.threads),
            &mut gradient,
        );
        NaturalProblem {
            surrogate,
            gradient,
            fvp,
            objective_before: value.objective,
            entropy: value.mean_entropy,
        }
    }

    /// x ≈ (F + λI)⁻¹ g from x₀ = 0; `on_iterate(k, x_k, ‖r_k‖)` sees every
    /// iterate. Returns x and the final residual norm.
    pub fn solve(
        &mut self,
        iterations: usize,
        mut on_iterate: impl FnMut(usize, &[f64], f64),
    ) -> (Vec<f64>, f64) {
        let n = self.gradient.len();
        let mut x = vec![0.0; n];
        let mut scratch = CgScratch::new(n, iterations);
        let fvp = &mut self.fvp;
        let report = conjugate_gradient(
            |v, out| fvp.apply(v, out),
            &self.gradient,
            &mut x,
            iterations,
            1e-10,
            &mut scratch,
            |it| on_iterate(it.iteration, it.x, it.residual_norm),
        );
        (x, report.residual_norm)
    }
}

/// Steps 3–4 on a prepared problem; logs the update's metrics. On a failed
/// line search the parameters are left exactly as they were.
pub fn natural_update(
    ac: &mut ActorCritic,
    problem: &mut NaturalProblem,
    config: &NaturalConfig,
    host: &mut Host,
) -> Result<()> {
    // Advantages that are all zero (no reward yet, say in a game's first
    // batch) make g = 0: the surrogate is flat, CG returns x = 0 and no
    // step along it exists. The policy stays as it is; that is not an error.
    if problem.gradient.iter().all(|&g| g == 0.0) {
        host.log("train/zero_gradient", 1.0);
        return Ok(());
    }
    let (x, residual) = problem.solve(config.keys.cg_iterations, |_, _, _| {});
    let mut fx = vec![0.0; x.len()];
    problem.fvp.apply(&x, &mut fx);
    let step = match config.rule {
        StepRule::TrustRegion(ls) => NaturalStep::new(&x, &fx, &problem.gradient, ls.max_kl),
        StepRule::Fixed(eta) => NaturalStep::scaled(&x, &problem.gradient, eta),
    }
    .map_err(|e| Error::new(e.to_string()))?;
    let policy = ac.agent.policy.clone();
    let mut ws = PolicyWorkspace::with_threads(ac.threads);
    let surrogate = &problem.surrogate;
    let (after, expected, backtracks) = match config.rule {
        StepRule::TrustRegion(ls) => {
            let report = ls.run(&mut ac.agent.params, &step, |p| {
                surrogate.evaluate(&policy, p, &mut ws)
            });
            let accepted = report.accepted();
            let expected = report.attempts.last().map_or(0.0, |a| {
                if accepted {
                    a.expected_improvement
                } else {
                    0.0
                }
            });
            host.log(metrics::STEP_ACCEPTED, accepted as u8 as f64);
            (
                report.after,
                expected,
                report.attempts.len().saturating_sub(1),
            )
        }
        StepRule::Fixed(_) => {
            step.apply(&mut ac.agent.params, 1.0);
            (
                surrogate.evaluate(&policy, &ac.agent.params, &mut ws),
                step.expected_improvement,
                0,
            )
        }
    };
    host.log(metrics::MEAN_KL, after.mean_kl);
    host.log("train/entropy", problem.entropy);
    host.log("train/surrogate_expected_improvement", expected);
    host.log(
        "train/surrogate_actual_improvement",
        after.objective - problem.objective_before,
    );
    host.log("train/backtracks", backtracks as f64);
    host.log("train/cg_residual", residual);
    host.log("train/step_norm", norm(&step.full_step));
    Ok(())
}

/// A TRPO or NPG learner: one natural-gradient iteration per call, and the
/// `trustbench.natural-gradient/1` capability for `harness check cg`.
pub struct NaturalLearner {
    /// Agent, baseline, sampler.
    pub ac: ActorCritic,
    /// The solve and the step rule.
    pub config: NaturalConfig,
    prepared: Option<NaturalProblem>,
}

impl NaturalLearner {
    /// A learner over `ac`.
    pub fn new(ac: ActorCritic, config: NaturalConfig) -> Result<NaturalLearner> {
        config.validate()?;
        Ok(NaturalLearner {
            ac,
            config,
            prepared: None,
        })
    }

    /// One iteration of the module docs' steps 1–5 (single-path sampling).
    pub fn iteration(&mut self, host: &mut Host) -> Result<()> {
        let Some(rollout) = self.ac.rollout(host)? else {
            return Ok(());
        };
        let Rollout {
            batch, advantages, ..
        } = &rollout;
        self.update(
            batch.obs.clone(),
            batch.actions.clone(),
            advantages.clone(),
            host,
        )?;
        self.ac.refit_baseline(&rollout, host);
        Ok(())
    }

    /// Steps 2–4 on samples from any sampler (the vine sampler brings its
    /// own advantage estimates).
    pub fn update(
        &mut self,
        obs: impl Into<ObservationBuffer>,
        actions: Vec<f64>,
        advantages: Vec<f64>,
        host: &mut Host,
    ) -> Result<()> {
        let mut problem =
            NaturalProblem::new(&mut self.ac, obs.into(), actions, advantages, &self.config);
        natural_update(&mut self.ac, &mut problem, &self.config, host)
    }

    /// The extension's `prepare` on samples of any sampler (the vine's): fix
    /// g and F at the current parameters without changing the policy.
    pub fn prepare_samples(
        &mut self,
        obs: impl Into<ObservationBuffer>,
        actions: Vec<f64>,
        advantages: Vec<f64>,
    ) {
        self.prepared = Some(NaturalProblem::new(
            &mut self.ac,
            obs.into(),
            actions,
            advantages,
            &self.config,
        ));
    }

    fn prepared(&mut self) -> Result<&mut NaturalProblem> {
        self.prepared
            .as_mut()
            .ok_or_else(|| Error::new("natural-gradient: call prepare first"))
    }
}

impl NaturalGradient for NaturalLearner {
    fn dim(&self) -> usize {
        self.ac.agent.params.len()
    }

    fn prepare(&mut self, host: &mut Host) -> Result<()> {
        let rollout = self
            .ac
            .rollout(host)?
            .ok_or_else(|| Error::new("natural-gradient: the budget allows no batch"))?;
        let Rollout {
            batch, advantages, ..
        } = rollout;
        self.prepare_samples(batch.obs, batch.actions, advantages);
        Ok(())
    }

    fn gradient(&mut self, g: &mut [f64]) -> Result<()> {
        g.copy_from_slice(&self.prepared()?.gradient);
        Ok(())
    }

    fn fisher_vector_product(&mut self, v: &[f64], out: &mut [f64]) -> Result<()> {
        self.prepared()?.fvp.apply(v, out);
        Ok(())
    }

    fn conjugate_gradient(&mut self, iterates: &mut [f64], residuals: &mut [f64]) -> Result<usize> {
        let n = self.dim();
        let mut done = 0;
        self.prepared()?.solve(residuals.len(), |k, x, r| {
            iterates[(k - 1) * n..k * n].copy_from_slice(x);
            residuals[k - 1] = r;
            done = k;
        });
        Ok(done)
    }
}
