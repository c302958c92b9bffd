//! `harness sweep`: a grid of runs, from flags or from a file.

use super::args::{BudgetArgs, EnvSetArgs, PluginArgs};
use super::emit;
use crate::run;
use crate::sweep::{self, Plan, Seeds, SweepSpec};
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;

/// `harness sweep`: the grid from flags, or from a file for what flags
/// cannot express (per-env budgets, per-algorithm configs, named variants).
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Sweep file (TOML; see the README) instead of the grid flags.
    #[arg(value_name = "FILE.toml")]
    file: Option<PathBuf>,
    /// Algorithm ids, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    algos: Vec<String>,
    /// Envs (ids or short names), comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    envs: Vec<String>,
    /// Number of seeds: runs seeds 0..N.
    #[arg(long, value_name = "N", required_unless_present = "file", conflicts_with = "file",
          value_parser = clap::value_parser!(u64).range(1..))]
    seeds: Option<u64>,
    #[command(flatten)]
    budget: BudgetArgs,
    /// Set a config key of every algorithm that has it (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE", conflicts_with = "file")]
    sets: Vec<String>,
    /// Env options of every env of the sweep, after the file's `env_set`.
    #[command(flatten)]
    env_set: EnvSetArgs,
    /// Parallel runs [default: one per core]; results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    jobs: Option<u32>,
    /// Directory for results (required unless the file gives `out`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    plugins: PluginArgs,
    /// Redo runs recorded as failed (finished runs are otherwise skipped).
    #[arg(long)]
    retry_failed: bool,
    /// No progress output (the summary is still printed).
    #[arg(long)]
    quiet: bool,
}

impl SweepArgs {
    /// The sweep's spec: the file's, or the flags'.
    fn spec(&self) -> Result<SweepSpec> {
        let mut spec = match &self.file {
            Some(file) => {
                let given = self.budget.given();
                if !given.is_empty() {
                    bail!(
                        "{} cannot be combined with a sweep file: set them in {}",
                        given.join(", "),
                        file.display()
                    );
                }
                SweepSpec::from_file(file)?
            }
            None => {
                let budget = &self.budget;
                SweepSpec {
                    algos: self.algos.clone(),
                    envs: self.envs.clone(),
                    seeds: Seeds::Count(self.seeds.expect("clap requires --seeds without a file")),
                    steps: budget.steps,
                    env_steps: Default::default(),
                    config: Default::default(),
                    variants: Default::default(),
                    sets: self.sets.clone(),
                    env_set: Vec::new(),
                    num_envs: budget.num_envs.unwrap_or(run::DEFAULT_NUM_ENVS),
                    eval_every: budget.eval_every,
                    eval_episodes: budget.eval_episodes.unwrap_or(run::DEFAULT_EVAL_EPISODES),
                    plugins: Vec::new(),
                    out: None,
                }
            }
        };
        spec.env_set.extend(self.env_set.env_sets.iter().cloned());
        Ok(spec)
    }

    /// Every run of the sweep, resolved.
    pub fn resolve(&self) -> Result<Plan> {
        self.spec()?
            .plan(self.out.as_deref(), &self.plugins.plugins)
    }
}

/// Run the sweep; failed runs make the exit code 1.
pub fn execute(args: &SweepArgs) -> Result<()> {
    let plan = args.resolve()?;
    let options = sweep::Options {
        jobs: args.jobs.map_or_else(sweep::default_jobs, |j| j as usize),
        retry_failed: args.retry_failed,
        quiet: args.quiet,
    };
    let outcome = sweep::execute(&plan, options)?;
    emit(&outcome.describe(&plan, options.jobs));
    if !outcome.failures.is_empty() {
        bail!(
            "{} of {} runs failed (listed above)",
            outcome.failures.len(),
            outcome.total
        );
    }
    Ok(())
}
