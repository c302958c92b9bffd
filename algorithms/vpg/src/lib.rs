//! Vanilla policy gradient (REINFORCE, Williams 1992) with a value baseline
//! and GAE, as a trustbench plugin: one first-order (Adam) step along
//! g = ∇θ mean(log π_θ(a|s) · A) per batch. The simplest member of the
//! family; what the natural gradient and the trust region improve upon.
#![warn(missing_docs)]

use serde::{Deserialize, Serialize};
use trustbench_pg::{ActorCritic, PgConfig};
use trustbench_plugin::{
    Actor, Algorithm, AlgorithmInfo, Host, Learner, Result, Spaces, check_range, kinds,
};
use trustbench_policy::vector::norm;
use trustbench_policy::{Adam, PolicyWorkspace, Surrogate, normalize_advantages};

/// VPG's hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Sampling, discounting, networks, value baseline.
    #[serde(flatten)]
    pub pg: PgConfig,
    /// Adam's step size for the policy. With normalised advantages the
    /// gradient's scale is fixed, so this directly sets how far θ moves.
    pub learning_rate: f64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            pg: PgConfig {
                steps_per_iteration: 2000,
                ..PgConfig::default()
            },
            learning_rate: 0.01,
        }
    }
}

/// The VPG plugin.
pub struct Vpg {
    ac: ActorCritic,
    adam: Adam,
    ws: PolicyWorkspace,
}

impl Algorithm for Vpg {
    type Config = Config;

    fn info() -> AlgorithmInfo {
        AlgorithmInfo {
            id: "vpg",
            name: "Vanilla policy gradient (REINFORCE with baseline)",
            version: "1.0.0",
            description: "One Adam step along the policy gradient per batch, GAE advantages (Williams 1992)",
            observation_kinds: kinds::BOX,
            action_kinds: kinds::ANY,
        }
    }

    fn create(c: Config, spaces: &Spaces, host: &Host) -> Result<Self> {
        check_range("learning_rate", c.learning_rate, 1e-9, 10.0)?;
        let ac = ActorCritic::new(&c.pg, spaces, host)?;
        let adam = Adam::new(ac.agent.params.len(), c.learning_rate);
        Ok(Vpg {
            ac,
            adam,
            ws: PolicyWorkspace::new(),
        })
    }
}

impl Learner for Vpg {
    fn train_iteration(&mut self, host: &mut Host) -> Result<()> {
        // 1. Sample with the current policy; estimate advantages.
        let Some(rollout) = self.ac.rollout(host)? else {
            return Ok(());
        };
        let mut advantages = rollout.advantages.clone();
        normalize_advantages(&mut advantages);
        // 2. g = ∇ mean(π/π_old · A) at θ_old, which is ∇ mean(log π · A).
        let (batch, agent) = (&rollout.batch, &mut self.ac.agent);
        let mut g = vec![0.0; agent.params.len()];
        let (_, value) = Surrogate::with_gradient(
            &agent.policy,
            &agent.params,
            batch.obs.clone(),
            batch.actions.clone(),
            advantages,
            0.0,
            &mut self.ws,
            &mut g,
        );
        // 3. Ascend: Adam minimises, so hand it −g.
        g.iter_mut().for_each(|x| *x = -*x);
        self.adam.step(&mut agent.params, &g);
        host.log("train/entropy", value.mean_entropy);
        host.log("train/gradient_norm", norm(&g));
        // 4. Refit the baseline.
        self.ac.refit_baseline(&rollout, host);
        Ok(())
    }

    fn actor(&mut self) -> &mut dyn Actor {
        &mut self.ac
    }
}

trustbench_plugin::plugin_library!(pub fn plugin_entry, "trustbench-vpg", env!("CARGO_PKG_VERSION"), [Vpg]);
