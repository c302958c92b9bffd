//! Natural policy gradient (Kakade 2002), the TRPO paper's baseline, as a
//! trustbench plugin: the same natural direction x ≈ F⁻¹g as TRPO (the same
//! code, `trustbench_pg::natural`), but a fixed step s = η·x — no KL-scaled
//! step and no line search, so nothing bounds how far one update moves.
#![warn(missing_docs)]

use serde::{Deserialize, Serialize};
use trustbench_pg::natural::{NaturalConfig, NaturalLearner, StepRule};
use trustbench_pg::{ActorCritic, PgConfig};
use trustbench_plugin::{
    Algorithm, AlgorithmInfo, Error, Host, NaturalGradient, Result, Spaces, kinds, parse_config,
};

/// NPG's hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Sampling, discounting, networks, value baseline.
    #[serde(flatten)]
    pub pg: PgConfig,
    /// η in s = η·x. With normalised advantages, ½η²·xᵀFx is the KL the
    /// quadratic model predicts; 0.1 keeps it near TRPO's δ = 0.01 early on.
    pub step_size: f64,
    /// Conjugate-gradient iterations for x ≈ F⁻¹g.
    pub cg_iterations: usize,
    /// λ of (F + λI).
    pub cg_damping: f64,
    /// Fraction of the batch used for Fisher-vector products.
    pub fvp_fraction: f64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            pg: PgConfig::default(),
            step_size: 0.1,
            cg_iterations: 10,
            cg_damping: 0.1,
            fvp_fraction: 0.1,
        }
    }
}

/// The NPG plugin.
pub struct Npg {
    learner: NaturalLearner,
}

impl Algorithm for Npg {
    fn info() -> AlgorithmInfo {
        AlgorithmInfo {
            id: "npg",
            name: "Natural policy gradient",
            version: "1.0.0",
            description: "Natural gradient by CG with a fixed step size (Kakade 2002); TRPO's baseline",
            observation_kinds: kinds::BOX,
            action_kinds: kinds::ANY,
        }
    }

    fn default_config() -> serde_json::Value {
        serde_json::to_value(Config::default()).expect("config serialises")
    }

    fn create(config: &serde_json::Value, spaces: &Spaces, host: &Host) -> Result<Self> {
        let c: Config = parse_config(config)?;
        let natural = NaturalConfig {
            cg_iterations: c.cg_iterations,
            cg_damping: c.cg_damping,
            fvp_fraction: c.fvp_fraction,
            rule: StepRule::Fixed(c.step_size),
        };
        let ac = ActorCritic::new(&c.pg, spaces, host.seed())?;
        Ok(Npg {
            learner: NaturalLearner::new(ac, natural)?,
        })
    }

    fn train_iteration(&mut self, host: &mut Host) -> Result<()> {
        self.learner.iteration(host)
    }

    fn act(&mut self, obs: &[f64], deterministic: bool, actions: &mut [f64]) -> Result<()> {
        self.learner.ac.agent.act(obs, deterministic, actions);
        Ok(())
    }

    fn save(&self) -> Result<Vec<u8>> {
        Ok(self.learner.ac.save())
    }

    fn load(&mut self, bytes: &[u8]) -> Result<()> {
        self.learner
            .ac
            .load(bytes)
            .map_err(|e| Error::new(format!("npg: {e}")))
    }

    fn natural_gradient(&mut self) -> Option<&mut dyn NaturalGradient> {
        Some(&mut self.learner)
    }
}

trustbench_plugin::plugin_library!(pub fn plugin_entry, "trustbench-npg", env!("CARGO_PKG_VERSION"), [Npg]);
