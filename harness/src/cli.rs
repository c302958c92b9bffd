//! The command line, in two stages (after ripgrep): clap parses raw flags,
//! then each command resolves them into settings (catalog lookups, config
//! files, `--set` overrides) before any work starts.

use crate::check::{self, CgCheck};
use crate::config;
use crate::plugin::{AlgorithmRef, Catalog};
use crate::run::{self, RunRequest};
use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use trustbench_envs::{EnvConfig, EnvSpec, Space, parse_assignment, registry, resolve_spec};
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
    /// Run a grid of algorithms × envs × seeds in parallel; resumable.
    Sweep(Box<SweepArgs>),
    /// Compare the runs under some directories in an HTML report.
    Report(ReportArgs),
    /// Numerical checks of an algorithm plugin.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Play a policy (a run's, a saved one, or uniform random) and write an animated GIF.
    Render(Box<RenderArgs>),
    /// Episode returns of a uniform-random policy and of each env's scripted policy.
    EnvStats(EnvStatsArgs),
}

#[derive(Debug, Subcommand)]
enum CheckCommand {
    /// Compare the plugin's conjugate gradient with the exact dense solve of (F + λI) x = g.
    Cg(Box<CheckCgArgs>),
}

/// Which algorithm, from where, with which config (shared by every command
/// that creates a plugin instance).
#[derive(Debug, Args)]
struct AlgoArgs {
    /// Algorithm id (see `harness list`).
    #[arg(long)]
    algo: String,
    /// Algorithm config file (TOML, flat `key = value`), applied over the defaults.
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// Set one algorithm config key, after --config (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Load algorithms from this plugin library (repeatable; searched before built-ins).
    #[arg(long = "plugin", value_name = "PATH")]
    plugins: Vec<PathBuf>,
}

impl AlgoArgs {
    /// The algorithm and its resolved config.
    fn resolve(&self) -> Result<(AlgorithmRef, serde_json::Map<String, serde_json::Value>)> {
        let catalog = Catalog::new(&self.plugins)?;
        let algorithm = catalog.find(&self.algo)?;
        let config = config::resolve(
            &algorithm.info.id,
            &algorithm.info.default_config,
            self.config.as_deref(),
            &self.sets,
        )?;
        Ok((algorithm, config))
    }
}

#[derive(Debug, Args)]
struct CheckCgArgs {
    #[command(flatten)]
    algo: AlgoArgs,
    /// Env id or short name the batch is collected on.
    #[arg(long)]
    env: String,
    /// Set an env option, e.g. `view=pixels` (repeatable; see `harness list`).
    #[arg(long = "env-set", value_name = "KEY=VALUE")]
    env_sets: Vec<String>,
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

#[derive(Debug, Args)]
struct ListArgs {
    /// Also load algorithms from this plugin library (repeatable).
    #[arg(long = "plugin", value_name = "PATH")]
    plugins: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    algo: AlgoArgs,
    /// Env id (`cartpole-v0`) or short name (`cartpole`: its latest version).
    #[arg(long)]
    env: String,
    /// Set an env option, e.g. `view=pixels` (repeatable; see `harness list`).
    #[arg(long = "env-set", value_name = "KEY=VALUE")]
    env_sets: Vec<String>,
    /// Run seed; every random stream of the run derives from it.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Env-step budget for training (evaluation steps are not counted).
    #[arg(long, default_value_t = run::DEFAULT_STEPS)]
    steps: u64,
    /// Env copies stepped together.
    #[arg(long, default_value_t = run::DEFAULT_NUM_ENVS, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    num_envs: u32,
    /// Evaluate the deterministic policy every N env steps [default: steps / 20; 0: only at the end].
    #[arg(long, value_name = "N")]
    eval_every: Option<u64>,
    /// Episodes per evaluation.
    #[arg(long, default_value_t = run::DEFAULT_EVAL_EPISODES, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    eval_episodes: u32,
    /// Directory for results; the run writes into DIR/<run-id>/.
    #[arg(long, default_value = "results", value_name = "DIR")]
    out: PathBuf,
    /// No progress output (the final summary is still printed).
    #[arg(long)]
    quiet: bool,
}

/// `harness sweep`: the grid from flags, or from a file for what flags
/// cannot express (per-env budgets, per-algorithm configs, named variants).
#[derive(Debug, Args)]
struct SweepArgs {
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
    /// Env-step budget of each run.
    #[arg(long, default_value_t = run::DEFAULT_STEPS, conflicts_with = "file")]
    steps: u64,
    /// Set a config key of every algorithm that has it (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE", conflicts_with = "file")]
    sets: Vec<String>,
    /// Set an option of every env of the sweep (repeatable; after the file's `env_set`).
    #[arg(long = "env-set", value_name = "KEY=VALUE")]
    env_sets: Vec<String>,
    /// Env copies stepped together.
    #[arg(long, default_value_t = run::DEFAULT_NUM_ENVS, conflicts_with = "file",
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    num_envs: u32,
    /// Evaluate every N env steps [default: each run's steps / 20].
    #[arg(long, value_name = "N", conflicts_with = "file")]
    eval_every: Option<u64>,
    /// Episodes per evaluation.
    #[arg(long, default_value_t = run::DEFAULT_EVAL_EPISODES, conflicts_with = "file",
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    eval_episodes: u32,
    /// Parallel runs [default: one per core]; results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    jobs: Option<u32>,
    /// Directory for results (required unless the file gives `out`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Load algorithms from this plugin library (repeatable).
    #[arg(long = "plugin", value_name = "PATH")]
    plugins: Vec<PathBuf>,
    /// Redo runs recorded as failed (finished runs are otherwise skipped).
    #[arg(long)]
    retry_failed: bool,
    /// No progress output (the summary is still printed).
    #[arg(long)]
    quiet: bool,
}

/// `harness report`.
#[derive(Debug, Args)]
struct ReportArgs {
    /// Directories to read (searched recursively for runs and CG checks).
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Output directory for index.html and summary.md.
    #[arg(short, long, default_value = "reports/latest", value_name = "DIR")]
    out: PathBuf,
}

/// Parse the process arguments, run the command, map errors to exit codes:
/// 0 success, 1 failure (one line on stderr), 2 bad usage (from clap).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List(args) => list(&args),
        Command::Run(args) => run(&args),
        Command::Sweep(args) => sweep(&args),
        Command::Report(args) => report(&args),
        Command::Check(CheckCommand::Cg(args)) => check_cg(&args),
        Command::Render(args) => render(&args),
        Command::EnvStats(args) => env_stats(&args),
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
    // Options, once per distinct set (the arcade games share theirs).
    let mut seen: Vec<&'static [trustbench_envs::EnvOption]> = Vec::new();
    for spec in registry().iter().filter(|s| !s.options.is_empty()) {
        if seen.contains(&spec.options) {
            continue;
        }
        seen.push(spec.options);
        let ids: Vec<&str> = registry()
            .iter()
            .filter(|s| s.options == spec.options)
            .map(|s| s.short_name())
            .collect();
        out += &format!("\nOptions of {} (--env-set KEY=VALUE):\n", ids.join(", "));
        let rows: Vec<[String; 4]> = spec
            .options
            .iter()
            .map(|o| {
                [
                    o.key.to_string(),
                    o.default.to_string(),
                    o.valid.to_string(),
                    o.help.to_string(),
                ]
            })
            .collect();
        out += &table(&["KEY", "DEFAULT", "VALID", "WHAT"], &rows);
    }
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
    let (algorithm, config) = args.algo.resolve()?;
    let env = resolve_env(&args.env, &[], &args.env_sets)?;
    let req = RunRequest {
        algorithm,
        config,
        env,
        seed: args.seed,
        steps: args.steps,
        num_envs: args.num_envs,
        eval_every: args
            .eval_every
            .unwrap_or_else(|| run::default_eval_every(args.steps)),
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

fn check_cg(args: &CheckCgArgs) -> Result<()> {
    let (algorithm, config) = args.algo.resolve()?;
    let env = resolve_env(&args.env, &[], &args.env_sets)?;
    let report = check::check_cg(&CgCheck {
        algorithm,
        config,
        env,
        seed: args.seed,
        num_envs: args.num_envs,
        steps: args.steps,
        iterations: args.iters,
        out_dir: args.out.clone(),
    })?;
    let mut out = format!(
        "CG against the exact solve of (F + λI) x = g: {} parameters, ‖x*‖ = {:.3e}\n",
        report.dim, report.solution_norm
    );
    let rows: Vec<[String; 4]> = report
        .rows
        .iter()
        .map(|r| {
            [
                r.iteration.to_string(),
                format!("{:.3e}", r.relative_error),
                format!("{:.9}", r.cosine),
                format!("{:.3e}", r.residual_norm),
            ]
        })
        .collect();
    out += &table(&["K", "RELATIVE ERROR", "COSINE", "RESIDUAL"], &rows);
    if let Some(r) = report.rows.get(9) {
        out += &format!(
            "at 10 iterations (the paper's setting): relative error {:.3e}, cosine {:.9}\n",
            r.relative_error, r.cosine
        );
    }
    if let Some(r) = report.rows.last() {
        out += &format!(
            "at {} iterations: relative error {:.3e}\n",
            r.iteration, r.relative_error
        );
    }
    out += &format!("table: {}\n", report.path.display());
    emit(&out);
    Ok(())
}

fn sweep(args: &SweepArgs) -> Result<()> {
    use crate::sweep::{self, Seeds, SweepSpec};
    let spec = match &args.file {
        Some(file) => SweepSpec::from_file(file)?,
        None => SweepSpec {
            algos: args.algos.clone(),
            envs: args.envs.clone(),
            seeds: Seeds::Count(args.seeds.expect("clap requires --seeds without a file")),
            steps: args.steps,
            env_steps: Default::default(),
            config: Default::default(),
            variants: Default::default(),
            sets: args.sets.clone(),
            env_set: Vec::new(),
            num_envs: args.num_envs,
            eval_every: args.eval_every,
            eval_episodes: args.eval_episodes,
            plugins: Vec::new(),
            out: None,
        },
    };
    let mut spec = spec;
    spec.env_set.extend(args.env_sets.iter().cloned());
    let plan = spec.plan(args.out.as_deref(), &args.plugins)?;
    let options = sweep::Options {
        jobs: args.jobs.map_or_else(sweep::default_jobs, |j| j as usize),
        retry_failed: args.retry_failed,
        quiet: args.quiet,
    };
    let outcome = sweep::execute(&plan, options)?;
    emit(&outcome.describe(&plan, options.jobs));
    if !outcome.failures.is_empty() {
        anyhow::bail!(
            "{} of {} runs failed (listed above)",
            outcome.failures.len(),
            outcome.total
        );
    }
    Ok(())
}

fn report(args: &ReportArgs) -> Result<()> {
    let written = crate::report::write(&args.dirs, &args.out)?;
    for note in &written.notes {
        eprintln!("warning: {note}");
    }
    emit(&format!(
        "report of {} runs on {} env(s): {} and {}\n",
        written.runs,
        written.envs,
        written.html.display(),
        written.summary.display()
    ));
    Ok(())
}

#[derive(Debug, Args)]
struct RenderArgs {
    /// Env id or short name [default: the run's env, with --run].
    #[arg(long)]
    env: Option<String>,
    /// A run directory: play its final policy (policy.bin) with the algorithm,
    /// config and env of its runs.parquet.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["checkpoint", "algo", "config", "sets"])]
    run: Option<PathBuf>,
    /// A saved policy (a run's policy.bin) for --algo with --config/--set.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Algorithm id [default: random, the uniform-random policy].
    #[arg(long)]
    algo: Option<String>,
    /// Algorithm config file (TOML), for --checkpoint.
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// Set one algorithm config key, for --checkpoint (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Set an env option (repeatable; with --run, over the run's recorded options).
    #[arg(long = "env-set", value_name = "KEY=VALUE")]
    env_sets: Vec<String>,
    /// Load algorithms from this plugin library (repeatable).
    #[arg(long = "plugin", value_name = "PATH")]
    plugins: Vec<PathBuf>,
    /// Seed: episode i starts where a run of this seed evaluates episode i.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Episodes to play.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    episodes: u32,
    /// Keep every N-th env step as a frame.
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    every: u32,
    /// Most frames in the GIF.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_frames: u64,
    /// Frame width, pixels.
    #[arg(long, default_value_t = 320, value_parser = clap::value_parser!(u16).range(16..=4096))]
    width: u16,
    /// Frame height, pixels.
    #[arg(long, default_value_t = 240, value_parser = clap::value_parser!(u16).range(16..=4096))]
    height: u16,
    /// Playback frames per second.
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=100))]
    fps: u32,
    /// The GIF to write.
    #[arg(short = 'o', long = "out", value_name = "FILE.gif")]
    out: PathBuf,
}

fn render(args: &RenderArgs) -> Result<()> {
    use anyhow::{Context, anyhow};
    let mut plugins = args.plugins.clone();
    let (algo, config_source, env, policy) = match &args.run {
        Some(dir) => {
            let row = crate::tables::read_run(dir)?;
            let json: serde_json::Value = serde_json::from_str(&row.config_json)
                .with_context(|| format!("config_json of {}", dir.display()))?;
            let config = json
                .get("algorithm")
                .and_then(|c| c.as_object())
                .cloned()
                .ok_or_else(|| {
                    anyhow!(
                        "config_json of {} has no \"algorithm\" object",
                        dir.display()
                    )
                })?;
            plugins.extend(row.plugin_path.map(PathBuf::from));
            let path = dir.join(run::POLICY_FILE);
            let policy =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            (
                row.algorithm_id,
                Some(config),
                // The run's env with its recorded options, unless --env names another.
                match &args.env {
                    Some(env) => (env.clone(), Vec::new()),
                    None => (row.env_id, run::recorded_env_options(&json)),
                },
                Some(policy),
            )
        }
        None => {
            let env = args
                .env
                .clone()
                .ok_or_else(|| anyhow!("--env is required without --run"))?;
            let policy = match &args.checkpoint {
                Some(path) => Some(
                    std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
                ),
                None => None,
            };
            (
                args.algo.clone().unwrap_or_else(|| "random".to_string()),
                None,
                (env, Vec::new()),
                policy,
            )
        }
    };
    let algorithm = Catalog::new(&plugins)?.find(&algo)?;
    let config = match config_source {
        Some(config) => config,
        None => config::resolve(
            &algorithm.info.id,
            &algorithm.info.default_config,
            args.config.as_deref(),
            &args.sets,
        )?,
    };
    let req = crate::render::RenderRequest {
        algorithm,
        config,
        policy,
        env: resolve_env(&env.0, &env.1, &args.env_sets)?,
        seed: args.seed,
        episodes: args.episodes,
        frame_every: args.every,
        max_frames: args.max_frames as usize,
        width: args.width,
        height: args.height,
        fps: args.fps,
        out: args.out.clone(),
    };
    let s = crate::render::execute(&req)?;
    let episodes: Vec<String> = s
        .episodes
        .iter()
        .map(|e| {
            let travel = match (e.distance, s.step_seconds.and_then(|dt| e.speed(dt))) {
                (Some(d), Some(v)) => format!(" ({d:.2} m, {v:.2} m/s)"),
                _ => String::new(),
            };
            format!("{:.1} in {} steps{travel}", e.ret, e.length)
        })
        .collect();
    emit(&format!(
        "wrote {}: {} frames of {}×{}, {} bytes; {} {} on {}:\n  {}\n",
        req.out.display(),
        s.frames,
        req.width,
        req.height,
        s.bytes,
        req.algorithm.info.id,
        if req.policy.is_some() {
            "(saved policy)"
        } else {
            "(fresh instance)"
        },
        req.env.id(),
        episodes.join("\n  ")
    ));
    if s.episodes.len() > 1 {
        let n = s.episodes.len() as f64;
        let mean = |f: &dyn Fn(&crate::render::EpisodeSummary) -> Option<f64>| {
            s.episodes.iter().map(f).sum::<Option<f64>>().map(|t| t / n)
        };
        let speed = s.step_seconds.and_then(|dt| mean(&|e| e.speed(dt)));
        emit(&format!(
            "mean over {} episodes: return {:.1}, length {:.1} steps{}\n",
            s.episodes.len(),
            mean(&|e| Some(e.ret)).unwrap_or(f64::NAN),
            mean(&|e| Some(e.length as f64)).unwrap_or(f64::NAN),
            speed.map_or(String::new(), |v| format!(", forward speed {v:.2} m/s"))
        ));
    }
    Ok(())
}

/// An env by id or short name with options: `recorded` ones (from a run)
/// first, then the `--env-set KEY=VALUE` assignments.
fn resolve_env(name: &str, recorded: &[(String, String)], sets: &[String]) -> Result<EnvConfig> {
    let spec = resolve_spec(name).map_err(anyhow::Error::msg)?;
    let mut options = recorded.to_vec();
    for s in sets {
        options.push(parse_assignment(s).map_err(|e| anyhow::anyhow!("--env-set: {e}"))?);
    }
    EnvConfig::new(spec, &options).map_err(anyhow::Error::msg)
}

/// `harness env-stats`.
#[derive(Debug, Args)]
struct EnvStatsArgs {
    /// Env ids or short names, comma-separated; `arcade` means every arcade game.
    #[arg(long, value_delimiter = ',', required = true)]
    env: Vec<String>,
    /// Episodes per policy.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    episodes: u32,
    /// Seed: episode i starts where a run of this seed evaluates episode i.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Set an env option of every env (repeatable).
    #[arg(long = "env-set", value_name = "KEY=VALUE")]
    env_sets: Vec<String>,
}

/// The envs `names` stands for (`arcade`: every env with the arcade options).
fn expand_envs(names: &[String]) -> Result<Vec<&'static EnvSpec>> {
    let mut specs: Vec<&'static EnvSpec> = Vec::new();
    for name in names {
        let found: Vec<&'static EnvSpec> = if name.trim() == "arcade" {
            registry()
                .iter()
                .filter(|s| s.options == trustbench_envs::arcade::OPTIONS)
                .collect()
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

fn env_stats(args: &EnvStatsArgs) -> Result<()> {
    use crate::env_stats::{Policy, play};
    let mut rows: Vec<[String; 9]> = Vec::new();
    for spec in expand_envs(&args.env)? {
        let env = resolve_env(spec.id, &[], &args.env_sets)?;
        for policy in [Policy::Random, Policy::Scripted] {
            let progress = |i: u32, ret: f64, len: u64| {
                eprintln!(
                    "[env-stats {} {}] episode {i}/{}: return {ret} in {len} steps",
                    spec.id,
                    policy.name(),
                    args.episodes
                );
            };
            let Some(s) = play(&env, policy, args.episodes, args.seed, progress)? else {
                continue;
            };
            let ((mean, std), (min, max)) = (s.mean_std(), s.min_max());
            rows.push([
                spec.id.to_string(),
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
    let options: Vec<&String> = args.env_sets.iter().collect();
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
