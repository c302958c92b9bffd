//! One run: a plugin learning on an env until the step budget is spent,
//! evaluated every so often, its results written to Parquet.
//!
//! The harness owns the world (envs, seeding, the budget, timing,
//! evaluation, every byte on disk); the plugin owns learning and sees the
//! envs only through the host vtable.

use crate::child;
use crate::episode::play_in_lockstep;
use crate::host::World;
use crate::plugin::{AlgorithmRef, Source};
use crate::progress::Progress;
use crate::results::{
    self, EnvProviderRecord, EpisodeRow, POLICY_FILE, Phase, RecordedConfig, RunRow, RunSettings,
    RunStatus, stable_hash,
};
use crate::session::{Session, SessionSpec};
use crate::signals::{self, Interrupted};
use crate::stats::{mean, population_std};
use crate::streams::eval_episode_seed;
use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};
use trustbench_envs::EnvConfig;
use trustbench_plugin::metrics;
/// Train episodes averaged for the "recent return" shown while running.
const RECENT_EPISODES: usize = 20;
/// Env copies stepped together, unless told otherwise.
pub const DEFAULT_NUM_ENVS: u32 = 8;
/// Episodes per evaluation, unless told otherwise.
pub const DEFAULT_EVAL_EPISODES: u32 = 10;

/// Threads of a run unless told otherwise: inside a Slurm task, the CPUs
/// Slurm gave it (`SLURM_CPUS_PER_TASK`, which the job scripts always set
/// through `--cpus-per-task`), else every core. A Slurm node may have more
/// cores than the task, and threads beyond the allocation only wait on
/// each other: on the 2-core CI node, four 1-CPU tasks of 2 threads each
/// made the Slurm test 12× slower.
pub fn default_threads() -> usize {
    slurm_cpus(std::env::var("SLURM_CPUS_PER_TASK").ok().as_deref())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// A positive CPU count from `SLURM_CPUS_PER_TASK`'s value.
fn slurm_cpus(value: Option<&str>) -> Option<usize> {
    value?.trim().parse().ok().filter(|&n| n > 0)
}

/// Evaluation interval unless told otherwise: 20 evaluations per run, so
/// learning curves have the same resolution whatever the budget.
pub fn default_eval_every(steps: u64) -> u64 {
    (steps / 20).max(1)
}

/// What to run, fully resolved.
#[derive(Clone)]
pub struct RunRequest {
    /// The algorithm and its library.
    pub algorithm: AlgorithmRef,
    /// Its resolved config.
    pub config: Map<String, Value>,
    /// The env and its options.
    pub env: EnvConfig,
    /// The run seed; every random stream derives from it.
    pub seed: u64,
    /// Env-step budget (training steps; evaluation is not counted).
    pub steps: u64,
    /// Env copies stepped together.
    pub num_envs: u32,
    /// Evaluate every this many env steps (0: only at the end).
    pub eval_every: u64,
    /// Episodes per evaluation.
    pub eval_episodes: u32,
    /// Parent directory of the run's directory.
    pub out_dir: PathBuf,
    /// No progress output.
    pub quiet: bool,
    /// Threads for env stepping and the plugin's batch math. Not part of
    /// the config or the run id: results are the same bits for every value.
    pub threads: usize,
}

impl RunRequest {
    /// The resolved config as stored in the `runs` table: the algorithm's
    /// config, the harness's own settings for the run and, for envs that
    /// have options, every option's resolved value (`"env"`; absent for envs
    /// without options, so their run ids are unchanged).
    pub fn recorded_config(&self) -> RecordedConfig {
        let options = self.env.options();
        RecordedConfig {
            algorithm: self.config.clone(),
            env: (!options.is_empty()).then(|| {
                options
                    .pairs()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
            run: RunSettings {
                eval_episodes: self.eval_episodes,
                eval_every: self.eval_every,
                num_envs: self.num_envs,
            },
        }
    }

    /// The plugin instance and envs this run trains with.
    pub fn session_spec(&self) -> SessionSpec<'_> {
        SessionSpec {
            algorithm: &self.algorithm,
            config: &self.config,
            env: &self.env,
            seed: self.seed,
            num_envs: self.num_envs as usize,
            steps: self.steps,
            threads: self.threads,
        }
    }

    /// Whether the plugin accepts this run: its instance is created (so
    /// the plugin checks its config's ranges and the env's spaces) and
    /// dropped, with no step taken. `--resolve-only` relies on it.
    pub fn check_creates(&self) -> Result<()> {
        Session::start(&self.session_spec(), Instant::now()).map(drop)
    }

    /// Deterministic id: `{algo}-{env}-s{seed}-{hash}`, where the hash covers
    /// everything that can change the results, so reruns of the same
    /// configuration land in the same directory.
    pub fn run_id(&self) -> String {
        let a = &self.algorithm.info;
        let key = format!(
            "{}\0{}\0{}\0{}\0{}\0{}\0{}",
            a.id,
            a.version,
            self.algorithm.library.name,
            self.env.id(),
            self.seed,
            self.steps,
            self.recorded_config().to_json()
        );
        // An external env's id may hold `:` or `/` (`gym:ALE/Pong-v5`),
        // which a directory name cannot: those become `_` (the hash keeps
        // the id apart from one spelled with `_`).
        let env_name: String = self
            .env
            .id()
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c,
                _ => '_',
            })
            .collect();
        format!(
            "{}-{env_name}-s{}-{:08x}",
            a.id,
            self.seed,
            stable_hash(key.as_bytes()) as u32
        )
    }

    /// The `runs` row of this run with the given outcome.
    fn run_row(
        &self,
        status: RunStatus,
        error: Option<String>,
        env_steps: u64,
        iterations: u64,
        started: SystemTime,
        wall_seconds: f64,
    ) -> RunRow {
        let a = &self.algorithm;
        let cpu = crate::cpu::this_cpu();
        RunRow {
            run_id: self.run_id(),
            status,
            error,
            algorithm_id: a.info.id.clone(),
            algorithm_version: a.info.version.clone(),
            plugin_library: a.library.name.clone(),
            plugin_path: match &a.library.source {
                Source::Builtin => None,
                Source::File(p) => Some(p.display().to_string()),
            },
            abi_version: format!("{}.{}", a.library.abi.0, a.library.abi.1),
            env_id: self.env.id().to_string(),
            env_provider: crate::provider::provider_of(&self.env).map(|p| EnvProviderRecord {
                library: p.name.clone(),
                version: p.version.clone(),
                path: p.source.to_string(),
            }),
            seed: self.seed,
            num_envs: self.num_envs as u64,
            step_budget: self.steps,
            env_steps,
            iterations,
            config_json: self.recorded_config().to_json(),
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            cpu_model: Some(cpu.model),
            cpu_features: Some(cpu.features),
            plugin_runtime: a.library.runtime.clone(),
            start_time_us: unix_micros(started),
            end_time_us: unix_micros(SystemTime::now()),
            wall_seconds,
        }
    }
}

/// Record a run that failed before it could start (say, the plugin refused
/// its config or the env's spaces at `create`), so that a sweep lists it
/// with its error: only its `runs` row is written (status `failed`, no
/// steps). `harness run` reports such errors directly instead.
pub fn record_failure(req: &RunRequest, error: &str) -> Result<PathBuf> {
    record_ending(req, RunStatus::Failed, error, (0, 0), 0.0)
}

/// Record how a run ended when the run itself could not: only its `runs`
/// row, with `status`, `error`, `(env steps, iterations)` reached and its
/// wall-clock time. A sweep uses this for a child process that crashed,
/// timed out or was stopped before writing its tables.
pub fn record_ending(
    req: &RunRequest,
    status: RunStatus,
    error: &str,
    (env_steps, iterations): (u64, u64),
    wall_seconds: f64,
) -> Result<PathBuf> {
    let dir = req.out_dir.join(req.run_id());
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let started = SystemTime::now() - std::time::Duration::from_secs_f64(wall_seconds);
    let row = req.run_row(
        status,
        Some(error.to_string()),
        env_steps,
        iterations,
        started,
        wall_seconds,
    );
    results::write_runs(&dir, &row)?;
    Ok(dir)
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Its id.
    pub run_id: String,
    /// Its directory (holds the Parquet files and the policy).
    pub dir: PathBuf,
    /// Env steps spent.
    pub env_steps: u64,
    /// Iterations completed.
    pub iterations: u64,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// Mean and standard deviation of the final evaluation's returns.
    pub final_eval: (f64, f64),
    /// Episodes in the final evaluation.
    pub eval_episodes: usize,
}

/// A run that started but failed: its `runs` row (status `failed`) and
/// everything recorded until then were written to `dir`.
#[derive(Debug)]
pub struct RunFailed {
    /// The run's directory.
    pub dir: PathBuf,
    /// Why it failed.
    pub error: anyhow::Error,
}

impl std::fmt::Display for RunFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:#} (partial results in {})",
            self.error,
            self.dir.display()
        )
    }
}

impl std::error::Error for RunFailed {}

fn unix_micros(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Mean and population standard deviation of some episode returns.
fn mean_std(xs: &[f64]) -> (f64, f64) {
    (mean(xs), population_std(xs))
}

/// Run `req`. Errors before the plugin instance exists (bad config, plugin
/// refused to start) write nothing; later failures write the run's tables
/// with status `failed` and return [`RunFailed`].
pub fn execute(req: &RunRequest) -> Result<RunSummary> {
    if req.num_envs == 0 || req.eval_episodes == 0 || req.steps == 0 {
        bail!("--steps, --num-envs and --eval-episodes must be at least 1");
    }
    let started = SystemTime::now();
    let t0 = Instant::now();
    let mut session = Session::start(&req.session_spec(), t0)?;
    let run_id = req.run_id();
    let dir = req.out_dir.join(&run_id);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

    let mut progress = Progress::new(
        format!("{} {} s{}", req.algorithm.info.id, req.env.id(), req.seed),
        req.steps,
        req.quiet,
    );
    let outcome = train(req, &mut session, &mut progress)
        .and_then(|iterations| Ok((iterations, session.instance().save()?)));
    progress.finish();

    let world = session.host().world();
    let (status, iterations, error) = match &outcome {
        Ok((iterations, policy)) => {
            results::write_bytes_atomically(&dir.join(POLICY_FILE), policy)?;
            (RunStatus::Ok, *iterations, None)
        }
        Err(e) => (
            stopped_status(e),
            world.log().metrics.last().map_or(0, |m| m.iteration),
            Some(format!("{e:#}")),
        ),
    };
    let wall_seconds = t0.elapsed().as_secs_f64();
    let row = req.run_row(
        status,
        error,
        world.steps_used(),
        iterations,
        started,
        wall_seconds,
    );
    write_tables(&dir, &row, &world)?;
    if let Err(error) = outcome {
        return Err(RunFailed { dir, error }.into());
    }
    let finals: Vec<f64> = last_eval(&world.log().episodes)
        .iter()
        .map(|e| e.episode_return)
        .collect();
    Ok(RunSummary {
        run_id,
        dir,
        env_steps: world.steps_used(),
        iterations,
        wall_seconds,
        final_eval: mean_std(&finals),
        eval_episodes: finals.len(),
    })
}

/// `interrupted` for a run stopped by a signal, else `failed`.
fn stopped_status(error: &anyhow::Error) -> RunStatus {
    if error.is::<Interrupted>() {
        RunStatus::Interrupted
    } else {
        RunStatus::Failed
    }
}

/// `metrics` and `episodes` first, `runs` last: its presence marks the run
/// as finished.
fn write_tables(dir: &Path, row: &RunRow, world: &World) -> Result<()> {
    results::write_metrics(dir, &row.run_id, &world.log().metrics)?;
    results::write_episodes(dir, &row.run_id, &world.log().episodes)?;
    results::write_runs(dir, row)
}

/// The episodes of the most recent evaluation.
fn last_eval(episodes: &[EpisodeRow]) -> Vec<&EpisodeRow> {
    let evals: Vec<&EpisodeRow> = episodes.iter().filter(|e| e.phase == Phase::Eval).collect();
    let last_step = evals.last().map(|e| e.env_steps);
    evals
        .into_iter()
        .filter(|e| Some(e.env_steps) == last_step)
        .collect()
}

/// The training loop; returns the number of iterations.
fn train(req: &RunRequest, session: &mut Session, progress: &mut Progress) -> Result<u64> {
    let mut iteration = 0u64;
    let mut next_eval = req.eval_every;
    let mut eval_return = None;
    while !session.host().world().budget_spent() {
        if let Some(signal) = signals::requested() {
            let used = session.host().world().steps_used();
            return Err(anyhow::Error::new(Interrupted { signal })
                .context(format!("stopped at {used} of {} env steps", req.steps)));
        }
        iteration += 1;
        let (steps_before, episodes_before) = {
            let mut w = session.host().world();
            w.begin_iteration(iteration);
            (w.steps_used(), w.log().episodes.len())
        };
        let result = session.instance().train_iteration();
        session.check_host("")?;
        result?;
        let mut w = session.host().world();
        let used = w.steps_used();
        if used == steps_before && signals::requested().is_none() {
            bail!(
                "{} made no progress: iteration {iteration} took no env step",
                session.plugin()
            );
        }
        let returns: Vec<f64> = w.log().episodes[episodes_before..]
            .iter()
            .map(|e| e.episode_return)
            .collect();
        if !returns.is_empty() {
            w.log_metric(metrics::EPISODE_RETURN_MEAN, mean(&returns));
            w.log_metric(metrics::EPISODES, returns.len() as f64);
        }
        let train: Vec<f64> = w
            .log()
            .episodes
            .iter()
            .rev()
            .filter(|e| e.phase == Phase::Train)
            .take(RECENT_EPISODES)
            .map(|e| e.episode_return)
            .collect();
        drop(w);
        if req.eval_every > 0 && used >= next_eval && used < req.steps {
            eval_return = Some(evaluate(req, session)?);
            while next_eval <= used {
                next_eval += req.eval_every;
            }
        }
        child::report(&child::Report::Progress(child::Progress {
            env_steps: used,
            iterations: iteration,
        }));
        progress.update(used, (!train.is_empty()).then(|| mean(&train)), eval_return);
    }
    evaluate(req, session)?;
    Ok(iteration)
}

/// Play `eval_episodes` episodes with the deterministic policy, episode `i`
/// from the start state of [`eval_episode_seed`] (the same start states at
/// every evaluation: common random numbers make successive evaluations
/// comparable). Records the episodes and `eval/*` metrics; returns the mean
/// return.
///
/// The episodes run side by side ([`play_in_lockstep`]): one batched `act`
/// for the live ones, their env steps on the run's threads — evaluation
/// was a serial tail of every run, a seventh of a walker run's env work.
/// An action may not depend on the rest of its batch (the ABI's contract;
/// `harness check plugin` checks it, and the built-in kernels sum in a
/// fixed order), so episode `i` is a function of the policy and its start
/// state only, which is what lets `harness render --run` replay it exactly.
fn evaluate(req: &RunRequest, session: &mut Session) -> Result<f64> {
    let envs = (0..req.eval_episodes).map(|_| req.env.make()).collect();
    let seeds: Vec<u64> = (0..req.eval_episodes)
        .map(|i| eval_episode_seed(req.seed, i))
        .collect();
    let played = play_in_lockstep(envs, &seeds, req.threads, |obs, actions| {
        session.instance().act(obs, true, actions)
    })?;
    session.check_host(" during act")?;
    let mut w = session.host().world();
    w.record_evaluation(&played);
    let returns: Vec<f64> = played.iter().map(|p| p.ret).collect();
    let lengths: Vec<f64> = played.iter().map(|p| p.length as f64).collect();
    let (return_mean, return_std) = mean_std(&returns);
    w.log_metric(results::EVAL_RETURN_MEAN, return_mean);
    w.log_metric(results::EVAL_RETURN_STD, return_std);
    w.log_metric(results::EVAL_LENGTH_MEAN, mean(&lengths));
    Ok(return_mean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slurm_allocation_bounds_the_default_threads() {
        assert_eq!(slurm_cpus(Some("3")), Some(3));
        assert_eq!(slurm_cpus(None), None);
        for bad in ["0", "", "two", "-1"] {
            assert_eq!(slurm_cpus(Some(bad)), None, "{bad:?}");
        }
    }
    use crate::catalog::Catalog;
    use trustbench_envs::{resolve, resolve_spec};

    fn request(env: EnvConfig) -> RunRequest {
        let algorithm = Catalog::new(&[]).unwrap().find("random").unwrap();
        RunRequest {
            config: algorithm.info.default_config.clone(),
            algorithm,
            env,
            seed: 0,
            steps: 1000,
            num_envs: 1,
            eval_every: 0,
            eval_episodes: 1,
            out_dir: PathBuf::from("unused"),
            quiet: true,
            threads: 1,
        }
    }

    #[test]
    fn env_options_are_recorded_and_part_of_the_run_id() {
        let plain = request(resolve("cartpole").unwrap());
        assert!(plain.recorded_config().env.is_none(), "no options, no key");
        let compact = request(resolve("breakout").unwrap());
        let set = [("view".to_string(), "pixels".to_string())];
        let pixels = request(EnvConfig::new(resolve_spec("breakout").unwrap(), &set).unwrap());
        assert_ne!(compact.run_id(), pixels.run_id());
        let recorded = RecordedConfig::parse(&pixels.recorded_config().to_json()).unwrap();
        let options = recorded.env.clone().unwrap();
        assert_eq!(options["view"], "pixels");
        assert_eq!(options["sticky"], "auto");
        // What is recorded rebuilds the same env.
        let recorded = recorded.env_options();
        let rebuilt = EnvConfig::new(resolve_spec("breakout").unwrap(), &recorded).unwrap();
        assert_eq!(
            rebuilt.options().pairs().collect::<Vec<_>>(),
            pixels.env.options().pairs().collect::<Vec<_>>()
        );
    }
}
