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
use trustbench_pg::search::{PolicySearch, SearchConfig};
use trustbench_plugin::{
    Actor, Algorithm, AlgorithmInfo, Host, Learner, Result, Spaces, check_range, kinds,
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
pub struct Cem(PolicySearch<CrossEntropy>);

impl Algorithm for Cem {
    type Config = Config;

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

    fn create(c: Config, spaces: &Spaces, host: &Host) -> Result<Self> {
        c.validate()?;
        let search = PolicySearch::new(&c.search, spaces, host.seed(), |mean| {
            CrossEntropy::new(mean, &c)
        })?;
        Ok(Cem(search))
    }
}

impl Learner for Cem {
    fn train_iteration(&mut self, host: &mut Host) -> Result<()> {
        self.0.iteration(host)
    }

    fn actor(&mut self) -> &mut dyn Actor {
        &mut self.0
    }
}

trustbench_plugin::plugin_library!(pub fn plugin_entry, "trustbench-cem", env!("CARGO_PKG_VERSION"), [Cem]);

#[cfg(test)]
mod tests {
    use super::*;
    use trustbench_plugin::Space;

    /// The search dimension n with config key `network` on `observation`
    /// (four discrete actions).
    fn dimension(network: &str, observation: Space) -> Result<usize> {
        let spaces = Spaces {
            num_envs: 1,
            observation,
            action: Space::Discrete { n: 4 },
        };
        let config = Config {
            search: SearchConfig {
                network: network.into(),
                ..SearchConfig::default()
            },
            ..Config::default()
        };
        let mut n = 0;
        PolicySearch::new(&config.search, &spaces, 0, |mean| {
            n = mean.len();
            CrossEntropy::new(mean, &config)
        })?;
        Ok(n)
    }

    fn image() -> Space {
        Space::Box {
            shape: vec![10, 10, 4],
            low: vec![0.0; 400],
            high: vec![1.0; 400],
        }
    }

    #[test]
    fn network_key_chooses_what_is_searched() {
        // The default stays the linear policy, even on images: 400 · 4 + 4.
        assert_eq!(dimension("mlp", image()).unwrap(), 1604);
        let conv = dimension("atari", image()).unwrap();
        assert!(conv > 1604, "the conv net has more weights: {conv}");
        assert_eq!(dimension("auto", image()).unwrap(), conv);
        let vector = Space::Box {
            shape: vec![4],
            low: vec![-1.0; 4],
            high: vec![1.0; 4],
        };
        assert_eq!(dimension("auto", vector.clone()).unwrap(), 20);
        let refusal = dimension("atari", vector).unwrap_err().to_string();
        assert!(refusal.contains("needs image observations"), "{refusal}");
        let refusal = dimension("conv", image()).unwrap_err().to_string();
        assert!(
            refusal.contains("'conv'") && refusal.contains("auto, mlp, atari"),
            "{refusal}"
        );
    }
}
