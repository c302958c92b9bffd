//! CMA-ES over policy parameters, as a trustbench plugin (Hansen, "The CMA
//! Evolution Strategy: A Tutorial", 2016; for policy search e.g. Heidrich-
//! Meisner & Igel 2009).
//!
//! Each iteration samples λ policies `xₖ = m + σ B D zₖ` over the policy
//! network's weights, scores each by the mean undiscounted return of its
//! deterministic policy (`trustbench_pg::episodes`), and updates the mean
//! by weighted recombination of the best μ = ⌊λ/2⌋, the step size σ by
//! cumulative step-size adaptation and the covariance C by the rank-one and
//! rank-μ updates ([`cma_es`] has the formulas, [`strategy`] the constants).
//! `act` plays m. Unlike CEM, C learns correlations between weights and σ
//! adapts from the path of the mean rather than collapsing with the elites'
//! spread, so no extra noise schedule is needed.
//!
//! **Full or separable.** With n parameters, a dense C costs `O(n²)` memory
//! and time per candidate plus an `O(n³)` eigendecomposition (done every
//! `max(1, ⌊1/(10n(c₁+c_μ))⌋)` generations), and its learning rates
//! `c₁, c_μ ~ 1/n²` make it adapt in `O(n²)` generations — fine for a few
//! hundred weights, slow and heavy for tens of thousands. So while
//! `n ≤ full_covariance_max_dim` C is dense ([`covariance`], faer's
//! self-adjoint EVD); above it the plugin falls back to sep-CMA (Ros &
//! Hansen 2008): C is diagonal, `O(n)` per candidate, and `c₁, c_μ` are
//! multiplied by `(n+2)/3`, so per-weight scales adapt in `O(n)`
//! generations while correlations are given up. `train/separable` says which
//! one a run used.
//!
//! Save/load persist the policy (m and the normaliser); a loaded instance
//! continues searching around the loaded m with its own σ, C and paths.
#![warn(missing_docs)]

pub mod cma_es;
pub mod covariance;
pub mod strategy;

use cma_es::CmaEs;
use serde::{Deserialize, Serialize};
use trustbench_pg::search::{PolicySearch, SearchConfig};
use trustbench_plugin::{
    Actor, Algorithm, AlgorithmInfo, Host, Learner, Result, Spaces, check_range, kinds,
};

/// CMA-ES's hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Policy network and candidate scoring.
    #[serde(flatten)]
    pub search: SearchConfig,
    /// λ, candidates per iteration; 0 is Hansen's default `4 + ⌊3 ln n⌋`
    /// rounded up to a multiple of `--num-envs` (copies left without an
    /// episode would step idle anyway, so the extra candidates are free):
    /// 16 for a linear CartPole policy on 8 copies. Raise it for noisy or
    /// multimodal returns.
    pub population: usize,
    /// σ₀, the initial step size in weight units (C₀ = I). The tutorial:
    /// about a third of the distance to the optimum; too small and the first
    /// generations all score alike, too large and tanh units saturate.
    pub initial_step_size: f64,
    /// Largest parameter count n that gets a dense covariance (`O(n²)` per
    /// candidate); above it, separable CMA-ES. Lower it if iterations are
    /// slow on a large policy.
    pub full_covariance_max_dim: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            search: SearchConfig::default(),
            population: 0,
            initial_step_size: 0.5,
            full_covariance_max_dim: 2000,
        }
    }
}

impl Config {
    /// Check ranges; errors name the key and the valid range.
    fn validate(&self) -> Result<()> {
        if self.population != 0 {
            check_range("population", self.population, 2, 100_000)?;
        }
        check_range("initial_step_size", self.initial_step_size, 1e-9, 1e6)?;
        check_range(
            "full_covariance_max_dim",
            self.full_covariance_max_dim,
            0,
            20_000,
        )
    }
}

/// The CMA-ES plugin.
pub struct Cma(PolicySearch<CmaEs>);

impl Algorithm for Cma {
    type Config = Config;

    fn info() -> AlgorithmInfo {
        AlgorithmInfo {
            id: "cma",
            name: "CMA-ES",
            version: "1.0.0",
            description: "Covariance matrix adaptation evolution strategy over policy weights; sep-CMA for large policies (Hansen 2016)",
            observation_kinds: kinds::BOX,
            action_kinds: kinds::ANY,
        }
    }

    fn create(c: Config, spaces: &Spaces, host: &Host) -> Result<Self> {
        c.validate()?;
        let search = PolicySearch::new(&c.search, spaces, host.seed(), |mean| {
            let n = mean.len();
            let lambda = match c.population {
                0 => strategy::default_population(n).next_multiple_of(host.num_envs().max(1)),
                given => given,
            };
            CmaEs::new(
                mean,
                c.initial_step_size,
                lambda,
                n <= c.full_covariance_max_dim,
            )
        })?;
        Ok(Cma(search))
    }
}

impl Learner for Cma {
    fn train_iteration(&mut self, host: &mut Host) -> Result<()> {
        self.0.iteration(host)
    }

    fn actor(&mut self) -> &mut dyn Actor {
        &mut self.0
    }
}

trustbench_plugin::plugin_library!(pub fn plugin_entry, "trustbench-cma", env!("CARGO_PKG_VERSION"), [Cma]);
