//! `harness check ...`: numerical checks of a plugin.

mod plugin;

use super::args::{AlgoArgs, EnvArgs};
use super::emit;
use crate::check::cg::{self, CgCheckRequest};
use crate::text::table;
use anyhow::Result;
use clap::{Args, Subcommand};
pub use plugin::{execute as execute_plugin, execute_one as execute_plugin_one};
use std::path::PathBuf;

/// `harness check`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Compare the plugin's conjugate gradient with the exact dense solve of (F + λI) x = g.
    Cg(Box<CheckCgArgs>),
    /// Validate a plugin library against the ABI's rules: one row per check, PASS/FAIL/WARN/SKIP.
    Plugin(plugin::PluginCheckArgs),
    /// One check of `check plugin`, run in a child process.
    #[command(hide = true)]
    PluginOne(plugin::PluginOneArgs),
}

/// `harness check cg`.
#[derive(Debug, Args)]
pub struct CheckCgArgs {
    #[command(flatten)]
    algo: AlgoArgs,
    /// The env the batch is collected on.
    #[command(flatten)]
    env: EnvArgs,
    /// Seed of the batch and of the plugin.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// CG iterations to compare [default: the parameter count, at most 500].
    #[arg(long, value_name = "K")]
    iters: Option<usize>,
    /// Env copies stepped together.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    num_envs: u32,
    /// Env-step cap for collecting the batch.
    #[arg(long, default_value_t = 1_000_000)]
    steps: u64,
    /// Directory for the table; written to DIR/check-cg-<algo>-<env>-s<seed>/check_cg.parquet.
    #[arg(long, default_value = "results", value_name = "DIR")]
    out: PathBuf,
}

impl CheckCgArgs {
    /// The check, fully resolved.
    pub fn resolve(&self) -> Result<CgCheckRequest> {
        let (algorithm, config) = self.algo.resolve()?;
        Ok(CgCheckRequest {
            algorithm,
            config,
            env: self.env.resolve()?,
            seed: self.seed,
            num_envs: self.num_envs,
            steps: self.steps,
            iterations: self.iters,
            out_dir: self.out.clone(),
            policy: None,
        })
    }
}

/// Run the check and print its table.
pub fn execute_cg(args: &CheckCgArgs) -> Result<()> {
    let report = cg::check_cg(&args.resolve()?)?;
    let rows = &report.table.rows;
    let mut out = format!(
        "CG against the exact solve of (F + λI) x = g: {} parameters, ‖x*‖ = {:.3e}\n\
         settings: {}\n",
        report.dim, report.solution_norm, report.settings
    );
    let cells: Vec<[String; 5]> = rows
        .iter()
        .zip(&report.gain_share)
        .map(|(r, share)| {
            [
                r.iteration.to_string(),
                format!("{:.3e}", r.relative_error),
                format!("{:.9}", r.cosine),
                format!("{share:.6}"),
                format!("{:.3e}", r.residual_norm),
            ]
        })
        .collect();
    out += &table(
        &["K", "RELATIVE ERROR", "COSINE", "GTX/GTX*", "RESIDUAL"],
        &cells,
    );
    // A CG that stopped before 10 iterations (its residual met its
    // tolerance) returns the same x with `cg_iterations = 10`.
    let k = rows.len().min(10).saturating_sub(1);
    if let (Some(r), Some(share)) = (rows.get(k), report.gain_share.get(k)) {
        let stopped = if rows.len() < 10 {
            format!("; CG stopped at {}", rows.len())
        } else {
            String::new()
        };
        out += &format!(
            "at 10 iterations (the paper's setting{stopped}): relative error {:.3e}, cosine {:.9}, \
             gᵀx/gᵀx* {share:.6} (a step to the KL bound along it gains √ of that, {:.6}, \
             of the exact direction's first-order improvement); {}\n",
            r.relative_error,
            r.cosine,
            share.max(0.0).sqrt(),
            report.settings
        );
    }
    if let Some(r) = rows.last() {
        out += &format!(
            "at {} iterations: relative error {:.3e}\n",
            r.iteration, r.relative_error
        );
    }
    out += &format!("table: {}\n", report.path.display());
    emit(&out);
    Ok(())
}
