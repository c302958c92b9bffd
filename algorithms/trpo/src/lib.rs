//! Trust Region Policy Optimization (Schulman et al. 2015), as a trustbench
//! plugin.
//!
//! Each iteration maximises the importance-sampled surrogate
//! L(θ) = E[π_θ(a|s)/π_old(a|s) · A] subject to E[KL(π_old ‖ π_θ)] ≤ δ:
//! the natural direction x ≈ F⁻¹g by conjugate gradient with analytic
//! Fisher-vector products, the step s = √(2δ / xᵀFx) · x to the boundary
//! of the quadratic trust region, then a backtracking line search that
//! accepts the first fraction whose *exact* mean KL is ≤ δ and whose
//! surrogate improves (see `trustbench_pg::natural`, shared with NPG).
//! Defaults are the paper's (Appendix C and E) unless noted.
//!
//! `sampling` chooses the paper's two schemes: `single-path` (whole
//! trajectories, GAE advantages, a value baseline) or `vine` (branch
//! rollouts from snapshotted states with common random numbers; see
//! [`vine`]).
#![warn(missing_docs)]

pub mod vine;

use serde::{Deserialize, Serialize};
use trustbench_pg::natural::{NaturalConfig, NaturalKeys, NaturalLearner, StepRule};
use trustbench_pg::{ActorCritic, PgConfig};
use trustbench_plugin::{
    Actor, Algorithm, AlgorithmInfo, Error, Host, Learner, NaturalGradient, Result, Spaces, kinds,
};
use trustbench_policy::LineSearch;
use vine::{Vine, VineConfig};

/// TRPO's hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Sampling, discounting, networks, value baseline.
    #[serde(flatten)]
    pub pg: PgConfig,
    /// δ, the trust-region radius in mean KL (paper: 0.01). Larger steps
    /// learn faster until they overshoot; the line search enforces it exactly.
    pub max_kl: f64,
    /// CG iterations, damping and the Fisher subsample.
    #[serde(flatten)]
    pub natural: NaturalKeys,
    /// Step fractions tried by the line search: 1, ½, … (modular_rl: 10).
    pub backtracks: usize,
    /// `single-path` or `vine` (the paper's two sampling schemes).
    pub sampling: String,
    /// The vine's keys (used when `sampling = "vine"`).
    #[serde(flatten)]
    pub vine: VineConfig,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            pg: PgConfig::default(),
            max_kl: 0.01,
            natural: NaturalKeys::default(),
            backtracks: 10,
            sampling: "single-path".into(),
            vine: VineConfig::default(),
        }
    }
}

/// The TRPO plugin.
pub struct Trpo {
    learner: NaturalLearner,
    /// `Some` for vine sampling.
    vine: Option<Vine>,
    iteration: u64,
}

impl Algorithm for Trpo {
    type Config = Config;

    fn info() -> AlgorithmInfo {
        AlgorithmInfo {
            id: "trpo",
            name: "Trust Region Policy Optimization (single path)",
            version: "1.0.0",
            description: "Natural gradient by CG, step to the KL boundary, backtracking on exact KL (Schulman et al. 2015)",
            observation_kinds: kinds::BOX,
            action_kinds: kinds::ANY,
        }
    }

    fn create(c: Config, spaces: &Spaces, host: &Host) -> Result<Self> {
        let mut keys = c.natural;
        if c.sampling == "vine" {
            // The vine's Fisher has its own share of rows (see `vine`).
            keys.fvp_fraction = c.vine.vine_fvp_fraction;
        }
        let natural = NaturalConfig {
            keys,
            rule: StepRule::TrustRegion(LineSearch {
                max_kl: c.max_kl,
                attempts: c.backtracks,
            }),
        };
        let vine = match c.sampling.as_str() {
            "single-path" => None,
            "vine" => {
                c.vine.validate()?;
                Some(Vine::new(c.vine))
            }
            other => {
                return Err(Error::new(format!(
                    "config key 'sampling' = '{other}' is not valid (valid: single-path, vine)"
                )));
            }
        };
        let ac = ActorCritic::new(&c.pg, spaces, host)?;
        Ok(Trpo {
            learner: NaturalLearner::new(ac, natural)?,
            vine,
            iteration: 0,
        })
    }
}

impl Learner for Trpo {
    fn train_iteration(&mut self, host: &mut Host) -> Result<()> {
        self.iteration += 1;
        let Some(vine) = &mut self.vine else {
            return self.learner.iteration(host);
        };
        let gamma = self.learner.ac.config.gamma;
        let Some(batch) = vine.sample(host, &mut self.learner.ac.agent, gamma, self.iteration)?
        else {
            return Ok(());
        };
        host.log(
            trustbench_plugin::metrics::VINE_ROWS,
            batch.advantages.len() as f64,
        );
        self.learner
            .update(batch.obs, batch.actions, batch.advantages, host)
    }

    fn actor(&mut self) -> &mut dyn Actor {
        &mut self.learner.ac
    }

    fn natural_gradient(&mut self) -> Option<&mut dyn NaturalGradient> {
        Some(self)
    }
}

/// The extension on the samples TRPO trains with: single path's batch, or
/// the vine's rows (so `harness check cg` checks CG on the vine's Fisher).
impl NaturalGradient for Trpo {
    fn dim(&self) -> usize {
        self.learner.dim()
    }

    fn prepare(&mut self, host: &mut Host) -> Result<()> {
        let Some(vine) = &mut self.vine else {
            return self.learner.prepare(host);
        };
        let gamma = self.learner.ac.config.gamma;
        let batch = vine
            .sample(host, &mut self.learner.ac.agent, gamma, self.iteration + 1)?
            .ok_or_else(|| Error::new("natural-gradient: the budget allows no vine batch"))?;
        self.learner
            .prepare_samples(batch.obs, batch.actions, batch.advantages);
        Ok(())
    }

    fn gradient(&mut self, g: &mut [f64]) -> Result<()> {
        self.learner.gradient(g)
    }

    fn fisher_vector_product(&mut self, v: &[f64], out: &mut [f64]) -> Result<()> {
        self.learner.fisher_vector_product(v, out)
    }

    fn conjugate_gradient(&mut self, iterates: &mut [f64], residuals: &mut [f64]) -> Result<usize> {
        self.learner.conjugate_gradient(iterates, residuals)
    }
}

trustbench_plugin::plugin_library!(pub fn plugin_entry, "trustbench-trpo", env!("CARGO_PKG_VERSION"), [Trpo]);
