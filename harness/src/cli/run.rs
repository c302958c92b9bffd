//! `harness run`: train one algorithm on one env.

use super::args::{AlgoArgs, BudgetArgs, EnvSetArgs};
use super::emit;
use crate::results::POLICY_FILE;
use crate::run::{self, RunRequest};
use crate::signals;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// `harness run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    algo: AlgoArgs,
    /// Env id (`cartpole-v0`) or short name (`cartpole`: its latest version).
    #[arg(long)]
    env: String,
    #[command(flatten)]
    env_set: EnvSetArgs,
    /// Run seed; every random stream of the run derives from it.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    budget: BudgetArgs,
    /// Directory for results; the run writes into DIR/<run-id>/.
    #[arg(long, default_value = "results", value_name = "DIR")]
    out: PathBuf,
    /// No progress output (the final summary is still printed).
    #[arg(long)]
    quiet: bool,
}

impl RunArgs {
    /// The run, fully resolved.
    pub fn resolve(&self) -> Result<RunRequest> {
        let (algorithm, config) = self.algo.resolve()?;
        let env = self.env_set.resolve(&self.env, &[])?;
        let budget = self.budget.resolve();
        Ok(RunRequest {
            algorithm,
            config,
            env,
            seed: self.seed,
            steps: budget.steps,
            num_envs: budget.num_envs,
            eval_every: budget.eval_every,
            eval_episodes: budget.eval_episodes,
            out_dir: self.out.clone(),
            quiet: self.quiet,
        })
    }
}

/// Train, then print the summary. SIGINT/SIGTERM stop the run between
/// iterations; it is recorded `interrupted` (exit code 128 + signal).
pub fn execute(args: &RunArgs) -> Result<()> {
    let request = args.resolve()?;
    signals::install();
    let s = run::execute(&request)?;
    emit(&format!(
        "run {}: ok, {} env steps in {:.2} s ({:.0} steps/s), {} iterations; final eval return {:.2} ± {:.2} over {} episodes\n",
        s.run_id,
        s.env_steps,
        s.wall_seconds,
        s.env_steps as f64 / s.wall_seconds.max(1e-9),
        s.iterations,
        s.final_eval.0,
        s.final_eval.1,
        s.eval_episodes
    ));
    emit(&format!(
        "results: {}/{{runs,metrics,episodes}}.parquet and {POLICY_FILE}\n",
        s.dir.display(),
    ));
    Ok(())
}
