//! The command line, in two stages (after ripgrep): clap parses raw flags,
//! then each command resolves them into settings (catalog lookups, config
//! files, `--set` overrides) before any work starts. One file per command;
//! the flag groups several commands share are in [`args`].

mod args;
mod check;
mod env_stats;
mod list;
mod render;
mod report;
mod reproduce;
mod run;
mod sweep;

use crate::run::RunFailed;
use crate::signals::Interrupted;
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// trustbench: run policy-optimisation algorithms on benchmark environments,
/// reproducibly, and compare them.
#[derive(Debug, Parser)]
#[command(name = "harness", version, about, long_about = None)]
pub struct Cli {
    /// Check every name, key, value and file the command refers to, then
    /// exit without doing the work (say, before submitting a long sweep).
    #[arg(long, global = true)]
    resolve_only: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the algorithms (built-in and from --plugin files) and environments.
    List(list::ListArgs),
    /// Train one algorithm on one env and write its results to Parquet.
    Run(Box<run::RunArgs>),
    /// Run a grid of algorithms × envs × seeds in parallel, each run in its
    /// own process; resumable, shardable, or as a Slurm job array.
    Sweep(Box<sweep::SweepArgs>),
    /// One run of a sweep's plan, in the child process the sweep starts.
    #[command(hide = true)]
    SweepWorker(sweep::WorkerArgs),
    /// Compare the runs under some directories in an HTML report.
    Report(report::ReportArgs),
    /// Numerical checks of an algorithm plugin.
    #[command(subcommand)]
    Check(check::CheckCommand),
    /// Play a policy (a run's, a saved one, or uniform random) and write an animated GIF.
    Render(Box<render::RenderArgs>),
    /// Episode returns of a uniform-random policy and of each env's scripted policy.
    EnvStats(env_stats::EnvStatsArgs),
    /// Rerun a paper's experiments and judge its claims (`trpo2015`).
    #[command(subcommand)]
    Reproduce(reproduce::ReproduceCommand),
}

impl Cli {
    /// The second stage without the work (`--resolve-only`): every name,
    /// key, value and file the command refers to is resolved, and for `run`
    /// and `sweep` the plugin is created once per configuration, so it
    /// checks its ranges too. The examples of the README and docs/ are checked this way
    /// in a test.
    fn resolve(&self) -> Result<()> {
        match &self.command {
            Command::List(args) => args.resolve().map(drop),
            Command::Run(args) => args.resolve()?.check_creates(),
            Command::Sweep(args) => args.check(),
            Command::SweepWorker(_) => Ok(()),
            Command::Report(args) => args.resolve(),
            Command::Check(check::CheckCommand::Cg(args)) => args.resolve().map(drop),
            Command::Check(check::CheckCommand::Plugin(args)) => args.resolve().map(drop),
            Command::Check(check::CheckCommand::PluginOne(args)) => args.resolve().map(drop),
            Command::Render(args) => args.resolve().map(drop),
            Command::EnvStats(args) => args.resolve().map(drop),
            Command::Reproduce(reproduce::ReproduceCommand::Trpo2015(args)) => {
                args.resolve().map(drop)
            }
        }
    }

    fn execute(&self) -> Result<()> {
        match &self.command {
            Command::List(args) => list::execute(args),
            Command::Run(args) => run::execute(args),
            Command::Sweep(args) => sweep::execute(args),
            Command::SweepWorker(args) => sweep::execute_worker(args),
            Command::Report(args) => report::execute(args),
            Command::Check(check::CheckCommand::Cg(args)) => check::execute_cg(args),
            Command::Check(check::CheckCommand::Plugin(args)) => check::execute_plugin(args),
            Command::Check(check::CheckCommand::PluginOne(args)) => check::execute_plugin_one(args),
            Command::Render(args) => render::execute(args),
            Command::EnvStats(args) => env_stats::execute(args),
            Command::Reproduce(reproduce::ReproduceCommand::Trpo2015(args)) => {
                reproduce::execute(args)
            }
        }
    }
}

/// Parse the process arguments, run the command, map errors to exit codes:
/// 0 success, 1 failure (one line on stderr), 2 bad usage (from clap),
/// 128 + N when signal N stopped the work.
pub fn main() -> ExitCode {
    crate::provider::enable_gym();
    let cli = Cli::parse();
    let result = if cli.resolve_only {
        cli.resolve()
            .map(|()| emit("arguments resolved; nothing run (--resolve-only)\n"))
    } else {
        cli.execute()
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(interrupted(&e).map_or(1, Interrupted::exit_code))
        }
    }
}

/// The signal that stopped the work, whether the error is the signal
/// itself or a run it stopped.
fn interrupted(e: &anyhow::Error) -> Option<Interrupted> {
    e.downcast_ref::<Interrupted>().copied().or_else(|| {
        e.downcast_ref::<RunFailed>()
            .and_then(|f| f.error.downcast_ref::<Interrupted>().copied())
    })
}

/// Write to stdout; a closed pipe (`harness list | head`) is not an error.
fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
