//! `harness sweep`: a grid of runs, from flags or from a file.

use super::args::{BudgetArgs, EnvSetArgs, PluginArgs};
use super::emit;
use crate::child::MemLimit;
use crate::results;
use crate::run;
use crate::signals::Interrupted;
use crate::sweep::shard::Shard;
use crate::sweep::slurm::{self, SlurmOptions};
use crate::sweep::{self, Plan, Seeds, SweepSpec};
use crate::text::table as table_text;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `harness sweep`: the grid from flags, or from a file for what flags
/// cannot express (per-env budgets, per-algorithm configs, named variants).
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Sweep file (TOML; see docs/sweeps.md) instead of the grid flags.
    #[arg(value_name = "FILE.toml")]
    file: Option<PathBuf>,
    /// Algorithm ids, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present_any = ["file", "status"],
        conflicts_with = "file"
    )]
    algos: Vec<String>,
    /// Envs (ids or short names), comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present_any = ["file", "status"],
        conflicts_with = "file"
    )]
    envs: Vec<String>,
    /// Number of seeds: runs seeds 0..N.
    #[arg(long, value_name = "N", required_unless_present_any = ["file", "status"],
          conflicts_with = "file", value_parser = clap::value_parser!(u64).range(1..))]
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
    /// Threads of each run [default: 1 with several jobs, else every core,
    /// or in a Slurm task its `--cpus-per-task`]; results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    threads: Option<u32>,
    /// Directory for results (required unless the file gives `out`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    plugins: PluginArgs,
    /// Redo runs recorded as failed, crashed or timed out (finished runs are
    /// otherwise skipped; interrupted ones are always redone).
    #[arg(long)]
    retry_failed: bool,
    /// No progress output (the summary is still printed).
    #[arg(long)]
    quiet: bool,
    /// Wall-clock limit per run, e.g. 90s, 30m, 2h: SIGTERM, then SIGKILL
    /// after 10 s; the run is recorded `timeout`.
    #[arg(long, value_name = "DURATION", value_parser = sweep::parse_duration)]
    timeout: Option<Duration>,
    /// Memory cap of each run's process, e.g. 512M or 4G (its address
    /// space, RLIMIT_AS); a run past it is recorded `oom`.
    #[arg(long, value_name = "SIZE")]
    mem_limit: Option<MemLimit>,
    /// Refuse grids of more than N runs (a guard against typos such as
    /// --seeds 100000000).
    #[arg(long, value_name = "N", default_value_t = sweep::MAX_RUNS,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_runs: u64,
    /// Run only part I (0-based) of N of the sweep; the N parts together run
    /// every run once.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Print how far the sweep in DIR is (finished, failed, running and
    /// pending runs per algorithm × env) and exit.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["file", "algos", "envs", "seeds", "shard", "slurm"])]
    status: Option<PathBuf>,
    #[command(flatten)]
    slurm: SlurmArgs,
}

/// `--slurm` and its settings: the sweep as a Slurm job array.
#[derive(Debug, Args)]
struct SlurmArgs {
    /// Write a Slurm job array (DIR/slurm/NAME.sbatch; task i runs shard i)
    /// and submit it with sbatch.
    #[arg(long, conflicts_with = "shard")]
    slurm: bool,
    #[command(flatten)]
    settings: SlurmSettings,
    /// Only write the job script; do not submit it.
    #[arg(long, requires = "slurm")]
    dry_run: bool,
}

/// The job array's `#SBATCH` settings, shared by every command that takes
/// `--slurm` (the flag itself must be named `slurm`).
#[derive(Debug, Args)]
pub struct SlurmSettings {
    /// Slurm partition.
    #[arg(long, requires = "slurm", value_name = "P")]
    partition: Option<String>,
    /// Time limit per task, in Slurm's syntax (e.g. 2:00:00).
    #[arg(long, requires = "slurm", value_name = "T")]
    time: Option<String>,
    /// CPUs per task; each task runs that many runs at once.
    #[arg(long, requires = "slurm", value_name = "C", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    cpus_per_task: u32,
    /// Memory per task (e.g. 4G).
    #[arg(long, requires = "slurm", value_name = "M")]
    mem: Option<String>,
    /// At most K tasks running at once.
    #[arg(long, requires = "slurm", value_name = "K",
          value_parser = clap::value_parser!(u32).range(1..))]
    array_parallelism: Option<u32>,
    /// Runs per task: the array has ceil(runs / R) tasks.
    #[arg(long, requires = "slurm", value_name = "R", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    runs_per_task: u64,
}

impl SlurmSettings {
    /// As the script writer takes them.
    pub fn options(&self) -> SlurmOptions {
        SlurmOptions {
            partition: self.partition.clone(),
            time: self.time.clone(),
            cpus_per_task: self.cpus_per_task,
            mem: self.mem.clone(),
            array_parallelism: self.array_parallelism,
            runs_per_task: self.runs_per_task as usize,
            environment: Vec::new(),
        }
    }
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
            .plan_at_most(self.out.as_deref(), &self.plugins.plugins, self.max_runs)
    }

    /// What `--resolve-only` checks: the plan, or that the directory
    /// `--status` would read exists (it may hold no sweep yet).
    pub fn check(&self) -> Result<()> {
        match &self.status {
            Some(dir) if !dir.is_dir() => bail!("--status {}: no such directory", dir.display()),
            Some(_) => Ok(()),
            None => {
                // Every distinct (algorithm or variant, env) once: the plugin
                // checks its config's ranges at creation.
                let plan = self.resolve()?;
                let mut seen = std::collections::HashSet::new();
                for run in &plan.runs {
                    if seen.insert((run.label.clone(), run.request.env.id())) {
                        run.request.check_creates().with_context(|| {
                            format!("{} on {}", run.label, run.request.env.id())
                        })?;
                    }
                }
                Ok(())
            }
        }
    }

    /// The sweep's own arguments for the tasks of a job array: everything
    /// that defines the sweep, with absolute paths, and neither `--shard`
    /// nor the Slurm flags. `out` is the resolved output directory.
    fn task_args(&self, out: &Path, jobs: u32) -> Result<Vec<String>> {
        let abs = |p: &Path| -> Result<String> { Ok(absolute(p)?.display().to_string()) };
        let mut args = vec!["sweep".to_string()];
        if let Some(file) = &self.file {
            args.push(abs(file)?);
        }
        let mut flag = |name: &str, value: String| {
            args.push(format!("--{name}"));
            args.push(value);
        };
        if !self.algos.is_empty() {
            flag("algos", self.algos.join(","));
        }
        if !self.envs.is_empty() {
            flag("envs", self.envs.join(","));
        }
        if let Some(n) = self.seeds {
            flag("seeds", n.to_string());
        }
        let b = &self.budget;
        for (name, value) in [("steps", b.steps), ("eval-every", b.eval_every)] {
            if let Some(v) = value {
                flag(name, v.to_string());
            }
        }
        for (name, value) in [("num-envs", b.num_envs), ("eval-episodes", b.eval_episodes)] {
            if let Some(v) = value {
                flag(name, v.to_string());
            }
        }
        for set in &self.sets {
            flag("set", set.clone());
        }
        for set in &self.env_set.env_sets {
            flag("env-set", set.clone());
        }
        for plugin in &self.plugins.plugins {
            flag("plugin", abs(plugin)?);
        }
        flag("out", abs(out)?);
        flag("jobs", jobs.to_string());
        if let Some(t) = self.threads {
            flag("threads", t.to_string());
        }
        if let Some(t) = self.timeout {
            flag("timeout", crate::child::format_duration(t));
        }
        if let Some(m) = self.mem_limit {
            flag("mem-limit", m.to_string());
        }
        if self.max_runs != sweep::MAX_RUNS {
            flag("max-runs", self.max_runs.to_string());
        }
        if self.retry_failed {
            args.push("--retry-failed".into());
        }
        if self.quiet {
            args.push("--quiet".into());
        }
        Ok(args)
    }
}

/// `path` made absolute against the current directory.
pub fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("making {} absolute", path.display()))
}

/// Run the sweep (or submit it, or show its status); failed runs make the
/// exit code 1, a signal 128 + the signal.
pub fn execute(args: &SweepArgs) -> Result<()> {
    if let Some(dir) = &args.status {
        emit(&describe_status(dir)?);
        return Ok(());
    }
    let plan = args.resolve()?;
    if args.slurm.slurm {
        return submit(args, &plan);
    }
    let jobs = args.jobs.map_or_else(sweep::default_jobs, |j| j as usize);
    let options = sweep::Options {
        jobs,
        threads: args
            .threads
            .map_or_else(|| sweep::default_threads(jobs), |t| t as usize),
        retry_failed: args.retry_failed,
        quiet: args.quiet,
        timeout: args.timeout,
        shard: args.shard,
        mem_limit: args.mem_limit,
    };
    let outcome = sweep::execute(&plan, options)?;
    emit(&outcome.describe(&plan, options.jobs));
    if let Some(signal) = outcome.interrupted {
        return Err(Interrupted { signal }.into());
    }
    if outcome.failed() > 0 {
        bail!(
            "{} of {} runs failed (listed above)",
            outcome.failed(),
            outcome.total
        );
    }
    Ok(())
}

/// `--slurm`: write the job array's script, then submit it (unless
/// `--dry-run`) and say how to follow it.
fn submit(args: &SweepArgs, plan: &Plan) -> Result<()> {
    let s = &args.slurm;
    let options = s.settings.options();
    let out = absolute(&plan.out)?;
    let task_args = args.task_args(&out, options.cpus_per_task)?;
    // Named after the sweep's arguments: the same command rewrites the same script.
    let name = format!(
        "sweep-{:08x}",
        results::stable_hash(task_args.join("\0").as_bytes()) as u32
    );
    job_array(&name, &out, plan, &task_args, &options, s.dry_run)
}

/// Write the job array `name` whose task i runs `task_args` plus `--shard
/// i/N` (script and logs in `out/slurm`), then submit it unless `dry_run`;
/// `plan`'s directory is what `harness sweep --status` follows.
pub fn job_array(
    name: &str,
    out: &Path,
    plan: &Plan,
    task_args: &[String],
    options: &SlurmOptions,
    dry_run: bool,
) -> Result<()> {
    let runs = plan.runs.len();
    let runs_dir = absolute(&plan.out)?;
    let (max_array_size, source) = slurm::max_array_size();
    let runs_per_task = slurm::fitting_runs_per_task(runs, options.runs_per_task, max_array_size);
    if runs_per_task != options.runs_per_task {
        emit(&format!(
            "raised --runs-per-task from {} to {runs_per_task}: {runs} runs at {} per task \
             need {} tasks, more than the cluster's MaxArraySize = {max_array_size} ({source})\n",
            options.runs_per_task,
            options.runs_per_task,
            slurm::task_count(runs, options.runs_per_task)
        ));
    }
    let tasks = slurm::task_count(runs, runs_per_task);
    let exe = std::env::current_exe().context("locating the harness executable")?;
    let mut options = options.clone();
    let gym = plan
        .runs
        .iter()
        .any(|r| r.request.env.id().starts_with(crate::provider::GYM_PREFIX));
    options.environment = crate::plugin::job_environment(&plugin_paths(task_args), gym)?;
    let text = slurm::script(
        name,
        &exe,
        &absolute(Path::new("."))?,
        out,
        task_args,
        tasks,
        &options,
    );
    let script = slurm::write(out, name, &text, tasks)?;
    if dry_run {
        emit(&format!(
            "wrote {} ({runs} runs in {tasks} tasks); submit it with: sbatch {}\n",
            script.path.display(),
            script.path.display()
        ));
        return Ok(());
    }
    let job = slurm::submit(&script)?;
    emit(&format!(
        "submitted job array {job}: {runs} runs in {tasks} tasks ({})\n\
         follow it:  squeue -j {job}    harness sweep --status {}\n\
         task logs:  {}/slurm/{name}-{job}_*.out\n\
         runs Slurm stops are recorded `interrupted`; submitting the same command again redoes only unfinished runs\n",
        script.path.display(),
        runs_dir.display(),
        out.display()
    ));
    Ok(())
}

/// The `--plugin` values among a task's arguments.
fn plugin_paths(task_args: &[String]) -> Vec<PathBuf> {
    task_args
        .windows(2)
        .filter(|w| w[0] == "--plugin")
        .map(|w| PathBuf::from(&w[1]))
        .collect()
}

/// The status view: one line per label × env, then the totals.
fn describe_status(dir: &Path) -> Result<String> {
    use sweep::status::State;
    let status = sweep::status::collect(dir)?;
    let table = &status.counts;
    let states = [State::Ok, State::Failed, State::Running, State::Pending];
    let mut rows: Vec<[String; 6]> = Vec::new();
    let mut total = [0usize; 4];
    for ((label, env), counts) in table {
        let n: Vec<usize> = states
            .iter()
            .map(|s| counts.get(s).copied().unwrap_or(0))
            .collect();
        for (t, k) in total.iter_mut().zip(&n) {
            *t += k;
        }
        rows.push([
            label.clone(),
            env.clone(),
            n[0].to_string(),
            n[1].to_string(),
            n[2].to_string(),
            n[3].to_string(),
        ]);
    }
    let header = ["label", "env", "finished", "failed", "running", "pending"];
    let mut out = format!(
        "sweep {}: {} runs\n",
        dir.display(),
        total.iter().sum::<usize>()
    );
    out += &table_text(&header, &rows);
    out += &format!(
        "total: {} finished, {} failed, {} running, {} pending\n",
        total[0], total[1], total[2], total[3]
    );
    if status.superseded > 0 {
        out += &format!(
            "not counted: {} planned runs superseded (a run of the same label, env and seed was \
             planned again under another config, budget or version, and got further: it \
             started where this one never did, or finished where this one was left unfinished)\n",
            status.superseded
        );
    }
    for (run_id, holder) in &status.running {
        out += &format!("  running: {run_id}: {}\n", holder.describe());
    }
    for warning in &status.warnings {
        out += &format!("warning: {warning}\n");
    }
    Ok(out)
}

/// `harness sweep-worker` (hidden): run the run in `--run-file`, written by
/// the sweep that started this process.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The run, as the parent sweep resolved it.
    #[arg(long, value_name = "FILE")]
    run_file: PathBuf,
    /// Threads of the run.
    #[arg(long, value_name = "N", default_value_t = 1)]
    threads: usize,
}

/// Run one run of a sweep; the run's result is in its directory, and its
/// failure (or the signal that stopped it) in the exit code.
pub fn execute_worker(args: &WorkerArgs) -> Result<()> {
    sweep::worker::execute(&args.run_file, args.threads.max(1)).map(drop)
}
