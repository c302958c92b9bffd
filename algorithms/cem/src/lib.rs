//! The cross-entropy method over policy parameters, as a trustbench plugin
//! (Rubinstein 1999; for RL, Szita & Lőrincz 2006, "Learning Tetris Using
//! the Noisy Cross-Entropy Method").
//!
//! A derivative-free baseline: no gradients, no value function, no
//! discounting. Each iteration samples `K` policies `xₖ ~ N(μ, diag σ²)`
//! over the policy network's weights, scores each by the mean undiscounted
//! return of its deterministic policy (`trustbench_pg::episodes`), and
//! refits μ and σ² to the best `⌈ρK⌉` plus the extra noise `Zₜ` (see
//! [`distribution`]). `act` plays μ. Where TRPO needs ~10⁵ samples per
//! update to estimate a gradient, CEM only needs to *rank* `K` episodes —
//! strong on small policies, hopeless on large ones (σ² has one entry per
//! weight and the elites are a handful of points).
//!
//! Save/load persist the policy (μ and the normaliser); a loaded instance
//! continues searching around the loaded μ with its own σ.
#![warn(missing_docs)]

pub mod distribution;

use distribution::CrossEntropy;
use serde::{Deserialize, Serialize};
use trustbench_pg::search::{PolicySearch, SearchConfig, log_generation, rank};
use trustbench_plugin::{
    Algorithm, AlgorithmInfo, Error, Host, Result, Spaces, check_range, kinds, parse_config,
};

/// CEM's hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Policy network and candidate scoring.
    #[serde(flatten)]
    pub search: SearchConfig,
    /// K, candidates per iteration. More ranks better and costs K episodes
    /// per iteration; a multiple of `--num-envs` wastes the fewest steps.
    pub population: usize,
    /// ρ: the best `⌈ρK⌉` candidates are the elites the distribution is
    /// refit to. Smaller is greedier and shrinks σ faster.
    pub elite_fraction: f64,
    /// σ₀ of every weight. About the scale of a good policy's weights; too
    /// small and the first generations all look alike.
    pub initial_std: f64,
    /// Z₀, the variance added to every σ²ⱼ after each refit (Szita &
    /// Lőrincz). Raise it if σ collapses before the return stops improving.
    pub extra_noise: f64,
    /// T: Zₜ decays linearly from Z₀ to 0 over this many iterations (0:
    /// constant Z₀). Set it near the run's expected number of iterations.
    pub noise_decay_iterations: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            search: SearchConfig::default(),
            population: 32,
            elite_fraction: 0.25,
            initial_std: 1.0,
            extra_noise: 0.05,
            noise_decay_iterations: 50,
        }
    }
}

impl Config {
    /// Check ranges; errors name the key and the valid range.
    fn validate(&self) -> Result<()> {
        check_range("population", self.population, 2, 100_000)?;
        check_range("elite_fraction", self.elite_fraction, 1e-6, 1.0)?;
        check_range("initial_std", self.initial_std, 1e-9, 1e6)?;
        check_range("extra_noise", self.extra_noise, 0.0, 1e6)?;
        check_range(
            "noise_decay_iterations",
            self.noise_decay_iterations,
            0,
            100_000_000,
        )
    }
}

/// The CEM plugin.
pub struct Cem {
    search: PolicySearch,
    cem: CrossEntropy,
}

impl Algorithm for Cem {
    fn info() -> AlgorithmInfo {
        AlgorithmInfo {
            id: "cem",
            name: "Cross-entropy method (noisy)",
            version: "1.0.0",
            description: "Refit N(μ, diag σ²) over policy weights to the elite episodes, plus decaying extra noise (Szita & Lőrincz 2006)",
            observation_kinds: kinds::BOX,
            action_kinds: kinds::ANY,
        }
    }

    fn default_config() -> serde_json::Value {
        serde_json::to_value(Config::default()).expect("config serialises")
    }

    fn create(config: &serde_json::Value, spaces: &Spaces, host: &Host) -> Result<Self> {
        let c: Config = parse_config(config)?;
        c.validate()?;
        let search = PolicySearch::new(&c.search, spaces, host.seed())?;
        let cem = CrossEntropy::new(search.mean(), &c);
        Ok(Cem { search, cem })
    }

    fn train_iteration(&mut self, host: &mut Host) -> Result<()> {
        let candidates = self.cem.sample(&mut self.search.rng);
        // A generation cut short by the budget is dropped: μ stays as it was.
        let Some(fitness) = self.search.score(host, candidates)? else {
            return Ok(());
        };
        let order = rank(&fitness);
        log_generation(host, &fitness, &order, self.cem.elites());
        host.log("train/extra_noise", self.cem.noise());
        self.cem.refit(&order);
        self.search.set_mean(self.cem.mean());
        host.log("train/sigma_mean", self.cem.sigma_mean());
        Ok(())
    }

    fn act(&mut self, obs: &[f64], _deterministic: bool, actions: &mut [f64]) -> Result<()> {
        self.search.act(obs, actions);
        Ok(())
    }

    fn save(&self) -> Result<Vec<u8>> {
        Ok(self.search.save())
    }

    fn load(&mut self, bytes: &[u8]) -> Result<()> {
        self.search
            .load(bytes)
            .map_err(|e| Error::new(format!("cem: {e}")))?;
        self.cem.set_mean(self.search.mean());
        Ok(())
    }
}

trustbench_plugin::plugin_library!(pub fn plugin_entry, "trustbench-cem", env!("CARGO_PKG_VERSION"), [Cem]);
