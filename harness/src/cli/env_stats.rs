//! `harness env-stats`: a uniform-random and a scripted policy's returns.

use super::args::{EnvSetArgs, PluginArgs};
use super::emit;
use crate::env_stats::{Policy, play};
use crate::text::table;
use anyhow::Result;
use clap::Args;
use trustbench_envs::{EnvConfig, EnvSpec, resolve_spec};

/// `harness env-stats`.
#[derive(Debug, Args)]
pub struct EnvStatsArgs {
    /// Env ids or short names, comma-separated; `arcade` means every arcade game.
    #[arg(long, value_delimiter = ',', required = true)]
    env: Vec<String>,
    /// Episodes per policy.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    episodes: u32,
    /// Seed: episode i starts where a run of this seed evaluates episode i.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Env options of every env.
    #[command(flatten)]
    env_set: EnvSetArgs,
    /// Env providers (`--plugin PATH`) whose envs to name.
    #[command(flatten)]
    plugins: PluginArgs,
}

impl EnvStatsArgs {
    /// The envs, with their options.
    pub fn resolve(&self) -> Result<Vec<EnvConfig>> {
        // Loading the libraries registers their envs.
        self.plugins.catalog()?;
        expand_envs(&self.env)?
            .into_iter()
            .map(|spec| self.env_set.resolve(spec.id, &[]))
            .collect()
    }
}

/// The envs `names` stands for (`arcade`: every env with the arcade options).
fn expand_envs(names: &[String]) -> Result<Vec<&'static EnvSpec>> {
    let mut specs: Vec<&'static EnvSpec> = Vec::new();
    for name in names {
        let found: Vec<&'static EnvSpec> = if name.trim() == "arcade" {
            trustbench_envs::arcade::GAMES
                .iter()
                .map(|game| resolve_spec(game).map_err(anyhow::Error::msg))
                .collect::<Result<_>>()?
        } else {
            vec![resolve_spec(name).map_err(anyhow::Error::msg)?]
        };
        for spec in found {
            if !specs.iter().any(|s| s.id == spec.id) {
                specs.push(spec);
            }
        }
    }
    Ok(specs)
}

/// Play both policies on every env and print the table.
pub fn execute(args: &EnvStatsArgs) -> Result<()> {
    let mut rows: Vec<[String; 9]> = Vec::new();
    for env in args.resolve()? {
        let id = env.id();
        for policy in [Policy::Random, Policy::Scripted] {
            let progress = |i: u32, ret: f64, len: u64| {
                eprintln!(
                    "[env-stats {id} {}] episode {i}/{}: return {ret} in {len} steps",
                    policy.name(),
                    args.episodes
                );
            };
            let Some(s) = play(&env, policy, args.episodes, args.seed, progress)? else {
                continue;
            };
            let ((mean, std), (min, max)) = (s.mean_std(), s.min_max());
            rows.push([
                id.to_string(),
                policy.name().to_string(),
                s.returns.len().to_string(),
                format!("{mean:.1}"),
                format!("{std:.1}"),
                format!("{min:.1}"),
                format!("{max:.1}"),
                format!("{:.0}", s.mean_length()),
                s.truncated.to_string(),
            ]);
        }
    }
    let options = &args.env_set.env_sets;
    emit(&format!(
        "Episode returns, seed {}{}:\n",
        args.seed,
        if options.is_empty() {
            String::new()
        } else {
            format!(", env options {options:?}")
        }
    ));
    emit(&table(
        &[
            "ENV",
            "POLICY",
            "EPISODES",
            "MEAN",
            "STD",
            "MIN",
            "MAX",
            "LENGTH",
            "TRUNCATED",
        ],
        &rows,
    ));
    Ok(())
}
