//! The command line, in two stages (after ripgrep): clap parses raw flags,
//! then each command resolves them into settings (catalog lookups, config
//! files, `--set` overrides) before any work starts.

use crate::config;
use crate::plugin::Catalog;
use crate::run::{self, RunRequest};
use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use trustbench_envs::{Space, registry, resolve};
use trustbench_plugin::kinds;

/// trustbench: run policy-optimisation algorithms on benchmark environments,
/// reproducibly, and compare them.
#[derive(Debug, Parser)]
#[command(name = "harness", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the algorithms (built-in and from --plugin files) and environments.
    List(ListArgs),
    /// Train one algorithm on one env and write its results to Parquet.
    Run(Box<RunArgs>),
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Also load algorithms from this plugin library (repeatable).
    #[arg(long = "plugin", value_name = "PATH")]
    plugins: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Algorithm id (see `harness list`).
    #[arg(long)]
    algo: String,
    /// Env id (`cartpole-v0`) or short name (`cartpole`: its latest version).
    #[arg(long)]
    env: String,
    /// Run seed; every random stream of the run derives from it.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Env-step budget for training (evaluation steps are not counted).
    #[arg(long, default_value_t = 100_000)]
    steps: u64,
    /// Env copies stepped together.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    num_envs: u32,
    /// Evaluate the deterministic policy every N env steps [default: steps / 20; 0: only at the end].
    #[arg(long, value_name = "N")]
    eval_every: Option<u64>,
    /// Episodes per evaluation.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    eval_episodes: u32,
    /// Algorithm config file (TOML, flat `key = value`), applied over the defaults.
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// Set one algorithm config key, after --config (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Directory for results; the run writes into DIR/<run-id>/.
    #[arg(long, default_value = "results", value_name = "DIR")]
    out: PathBuf,
    /// Load algorithms from this plugin library (repeatable; searched before built-ins).
    #[arg(long = "plugin", value_name = "PATH")]
    plugins: Vec<PathBuf>,
    /// No progress output (the final summary is still printed).
    #[arg(long)]
    quiet: bool,
}

/// Parse the process arguments, run the command, map errors to exit codes:
/// 0 success, 1 failure (one line on stderr), 2 bad usage (from clap).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List(args) => list(&args),
        Command::Run(args) => run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn kinds_name(mask: u32) -> &'static str {
    match mask & kinds::ANY {
        kinds::ANY => "box,discrete",
        kinds::BOX => "box",
        kinds::DISCRETE => "discrete",
        _ => "none",
    }
}

/// Write to stdout; a closed pipe (`harness list | head`) is not an error.
fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn list(args: &ListArgs) -> Result<()> {
    let catalog = Catalog::new(&args.plugins)?;
    let mut out = String::from("Algorithms:\n");
    let rows: Vec<[String; 6]> = catalog
        .algorithms()
        .map(|a| {
            [
                a.info.id.clone(),
                a.info.version.clone(),
                format!("{}.{}", a.library.abi.0, a.library.abi.1),
                format!(
                    "{} / {}",
                    kinds_name(a.info.observation_kinds),
                    kinds_name(a.info.action_kinds)
                ),
                a.library.source.to_string(),
                a.info.name.clone(),
            ]
        })
        .collect();
    out += &table(
        &["ID", "VERSION", "ABI", "OBS / ACTION", "SOURCE", "NAME"],
        &rows,
    );
    out += "\nEnvironments:\n";
    let rows: Vec<[String; 4]> = registry()
        .iter()
        .map(|spec| {
            let env = spec.make();
            let space = |s: &Space| s.describe();
            [
                spec.id.to_string(),
                space(env.observation_space()),
                space(env.action_space()),
                spec.summary.to_string(),
            ]
        })
        .collect();
    out += &table(&["ID", "OBSERVATION", "ACTION", "DESCRIPTION"], &rows);
    emit(&out);
    Ok(())
}

/// Left-aligned columns, two spaces apart, indented by two.
fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("  {}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out += &line(row.iter().map(String::as_str).collect());
    }
    out
}

fn run(args: &RunArgs) -> Result<()> {
    let catalog = Catalog::new(&args.plugins)?;
    let algorithm = catalog.find(&args.algo)?;
    let env = resolve(&args.env).map_err(anyhow::Error::msg)?;
    let config = config::resolve(
        &algorithm.info.id,
        &algorithm.info.default_config,
        args.config.as_deref(),
        &args.sets,
    )?;
    let req = RunRequest {
        algorithm,
        config,
        env,
        seed: args.seed,
        steps: args.steps,
        num_envs: args.num_envs,
        eval_every: args.eval_every.unwrap_or((args.steps / 20).max(1)),
        eval_episodes: args.eval_episodes,
        out_dir: args.out.clone(),
        quiet: args.quiet,
    };
    let s = run::execute(&req)?;
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
        "results: {}/{{runs,metrics,episodes}}.parquet and {}\n",
        s.dir.display(),
        run::POLICY_FILE
    ));
    Ok(())
}
