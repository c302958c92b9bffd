//! Flag groups shared by several commands (`#[command(flatten)]`), each
//! declared once with its help text and its resolution.

use crate::catalog::Catalog;
use crate::config;
use crate::plugin::AlgorithmRef;
use crate::run;
use anyhow::{Result, anyhow};
use clap::Args;
use serde_json::{Map, Value};
use std::path::PathBuf;
use trustbench_envs::{EnvConfig, parse_assignment, resolve_spec};

/// `--plugin PATH`: libraries searched before the built-ins.
#[derive(Debug, Args)]
pub struct PluginArgs {
    /// Load algorithms and envs from this plugin library (repeatable; its algorithms are
    /// searched before the built-ins; a library may offer either or both).
    #[arg(long = "plugin", value_name = "PATH")]
    pub plugins: Vec<PathBuf>,
}

impl PluginArgs {
    /// The built-ins plus these libraries' algorithms; their env providers
    /// are loaded and their envs registered.
    pub fn catalog(&self) -> Result<Catalog> {
        Catalog::new(&self.plugins)
    }
}

/// `--config FILE` and `--set KEY=VALUE`: an algorithm's config over its
/// defaults.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Algorithm config file (TOML, flat `key = value`), applied over the defaults.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Set one algorithm config key, after --config (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

impl ConfigArgs {
    /// `algorithm`'s defaults, then the file, then each `--set`.
    pub fn resolve(&self, algorithm: &AlgorithmRef) -> Result<Map<String, Value>> {
        config::resolve(
            &algorithm.info.id,
            &algorithm.info.default_config,
            self.config.as_deref(),
            &self.sets,
        )
    }
}

/// Which algorithm, from where, with which config (every command that
/// creates one plugin instance).
#[derive(Debug, Args)]
pub struct AlgoArgs {
    /// Algorithm id (see `harness list`).
    #[arg(long)]
    pub algo: String,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub plugins: PluginArgs,
}

impl AlgoArgs {
    /// The algorithm and its resolved config.
    pub fn resolve(&self) -> Result<(AlgorithmRef, Map<String, Value>)> {
        let algorithm = self.plugins.catalog()?.find(&self.algo)?;
        let config = self.config.resolve(&algorithm)?;
        Ok((algorithm, config))
    }
}

/// `--env-set KEY=VALUE`: env options.
#[derive(Debug, Args)]
pub struct EnvSetArgs {
    /// Set an env option, e.g. `view=pixels` (repeatable; see `harness list`).
    #[arg(long = "env-set", value_name = "KEY=VALUE")]
    pub env_sets: Vec<String>,
}

impl EnvSetArgs {
    /// The env `name` (id or short name) with `recorded` options (from a
    /// run) first, then these.
    pub fn resolve(&self, name: &str, recorded: &[(String, String)]) -> Result<EnvConfig> {
        let spec = resolve_spec(name).map_err(anyhow::Error::msg)?;
        let mut options = recorded.to_vec();
        for s in &self.env_sets {
            options.push(parse_assignment(s).map_err(|e| anyhow!("--env-set: {e}"))?);
        }
        EnvConfig::new(spec, &options).map_err(anyhow::Error::msg)
    }
}

/// `--env NAME` with its options (the commands that build one env).
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Env id (`cartpole-v0`) or short name (`cartpole`: its latest version).
    #[arg(long)]
    pub env: String,
    #[command(flatten)]
    pub env_set: EnvSetArgs,
}

impl EnvArgs {
    /// The env with its options.
    pub fn resolve(&self) -> Result<EnvConfig> {
        self.env_set.resolve(&self.env, &[])
    }
}

/// How long a run trains and how it is evaluated (`run` and `sweep`).
/// Every flag is optional so a command can tell "not given" from a
/// default: the defaults are applied by [`Budget::resolve`].
#[derive(Debug, Args)]
pub struct BudgetArgs {
    /// Env-step budget for training (evaluation steps are not counted) [default: the env's, see `harness list`].
    #[arg(long)]
    pub steps: Option<u64>,
    /// Env copies stepped together [default: 8].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub num_envs: Option<u32>,
    /// Evaluate the deterministic policy every N env steps [default: steps / 20; 0: only at the end].
    #[arg(long, value_name = "N")]
    pub eval_every: Option<u64>,
    /// Episodes per evaluation [default: 10].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub eval_episodes: Option<u32>,
}

/// A resolved [`BudgetArgs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Training env steps.
    pub steps: u64,
    /// Env copies.
    pub num_envs: u32,
    /// Env steps between evaluations.
    pub eval_every: u64,
    /// Episodes per evaluation.
    pub eval_episodes: u32,
}

impl BudgetArgs {
    /// The flags given, with the defaults for the rest (`default_steps`:
    /// the env's own budget).
    pub fn resolve(&self, default_steps: u64) -> Budget {
        let steps = self.steps.unwrap_or(default_steps);
        Budget {
            steps,
            num_envs: self.num_envs.unwrap_or(run::DEFAULT_NUM_ENVS),
            eval_every: self
                .eval_every
                .unwrap_or_else(|| run::default_eval_every(steps)),
            eval_episodes: self.eval_episodes.unwrap_or(run::DEFAULT_EVAL_EPISODES),
        }
    }

    /// The flags that were given, by name (a sweep file refuses them).
    pub fn given(&self) -> Vec<&'static str> {
        [
            ("--steps", self.steps.is_some()),
            ("--num-envs", self.num_envs.is_some()),
            ("--eval-every", self.eval_every.is_some()),
            ("--eval-episodes", self.eval_episodes.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }
}
