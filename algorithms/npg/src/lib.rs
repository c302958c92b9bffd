//! Natural policy gradient (Kakade 2002), the TRPO paper's baseline, as a
//! trustbench plugin: the same natural direction x ≈ F⁻¹g as TRPO (the same
//! code, `trustbench_pg::natural`), but a fixed step s = η·x — no KL-scaled
//! step and no line search, so nothing bounds how far one update moves.
#![warn(missing_docs)]

use serde::{Deserialize, Serialize};
use trustbench_pg::natural::{NaturalConfig, NaturalKeys, NaturalLearner, StepRule};
use trustbench_pg::{ActorCritic, PgConfig};
use trustbench_plugin::{
    Actor, Algorithm, AlgorithmInfo, Host, Learner, NaturalGradient, Result, Spaces, kinds,
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
    /// CG iterations, damping and the Fisher subsample (as TRPO's).
    #[serde(flatten)]
    pub natural: NaturalKeys,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            pg: PgConfig::default(),
            step_size: 0.1,
            natural: NaturalKeys::default(),
        }
    }
}

/// The NPG plugin.
pub struct Npg {
    learner: NaturalLearner,
}

impl Algorithm for Npg {
    type Config = Config;

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

    fn create(c: Config, spaces: &Spaces, host: &Host) -> Result<Self> {
        let natural = NaturalConfig {
            keys: c.natural,
            rule: StepRule::Fixed(c.step_size),
        };
        let ac = ActorCritic::new(&c.pg, spaces, host)?;
        Ok(Npg {
            learner: NaturalLearner::new(ac, natural)?,
        })
    }
}

impl Learner for Npg {
    fn train_iteration(&mut self, host: &mut Host) -> Result<()> {
        self.learner.iteration(host)
    }

    fn actor(&mut self) -> &mut dyn Actor {
        &mut self.learner.ac
    }

    fn natural_gradient(&mut self) -> Option<&mut dyn NaturalGradient> {
        Some(&mut self.learner)
    }
}

trustbench_plugin::plugin_library!(pub fn plugin_entry, "trustbench-npg", env!("CARGO_PKG_VERSION"), [Npg]);
