//! `harness sweep`: many runs in parallel, each in its own process,
//! crash-safe and resumable.
//!
//! - **Isolated**: every run executes in a child process (the harness
//!   re-running itself as `harness sweep-worker`, see [`worker`]). A plugin
//!   that segfaults, aborts, exits or hangs takes down only its own child;
//!   the parent records how it ended (`crashed`, `timeout`, `interrupted`:
//!   [`ending`]) with the signal or limit, the env steps reached and the
//!   tail of the child's stderr, and the sweep goes on.
//! - **Parallel, yet independent of `--jobs`**: each worker thread takes the
//!   next run from a shared queue and waits for its child; a run is
//!   single-threaded and deterministic and runs share nothing, so the
//!   results are the same with one worker or many, and the same as running
//!   each run alone.
//! - **Crash-safe**: every file of a run is written atomically and
//!   `runs.parquet` last, so a run is finished iff that file exists.
//! - **Resumable**: rerunning the same sweep into the same directory skips
//!   finished runs (run ids are deterministic) and redoes unfinished and
//!   interrupted ones from a clean directory; `--retry-failed` also redoes
//!   failed, crashed and timed-out runs.
//! - **Stoppable**: SIGINT/SIGTERM stop the children (TERM, then KILL after
//!   a grace period), each run in flight is recorded `interrupted`, no new
//!   run starts, and the sweep exits with 128 + the signal.
//! - **Each run executes once at a time**: a run is claimed ([`claim`])
//!   before it starts, so sweeps, shards, Slurm tasks and lone runs sharing
//!   a directory never execute one run twice at once; a run claimed
//!   elsewhere is skipped and reported. **Shards** ([`shard`]) run one
//!   sweep as several processes, e.g. a Slurm job array ([`slurm`]);
//!   [`status`] counts where a sweep is.
//! - **Memory-capped**: `--mem-limit` caps each child ([`child::MemLimit`]);
//!   a child that runs out is recorded `oom`.

pub mod claim;
mod plan;
mod progress;
pub mod shard;
pub mod slurm;
pub mod status;
pub mod worker;

pub use plan::{MAX_RUNS, Plan, PlannedRun, Seeds, SweepSpec, Variant};

use crate::child::{self, ChildSpec, Exit, Finished, MemLimit};
use crate::results::{self, ManifestRun, RUNS_FILE, RunRow, RunStatus};
use crate::run;
use crate::signals;
use anyhow::{Context, Result};
use progress::SweepProgress;
use shard::Shard;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use worker::RunFile;

/// Time a stopped child gets between SIGTERM and SIGKILL: enough to finish
/// its iteration and write its tables, bounded for a stuck plugin.
pub const GRACE: Duration = Duration::from_secs(10);

/// How to execute a plan.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Threads of each run (at least 1).
    pub threads: usize,
    /// Wall-clock limit per run.
    pub timeout: Option<Duration>,
    /// Only this part of the plan.
    pub shard: Option<Shard>,
    /// Redo runs recorded as failed instead of skipping them.
    pub retry_failed: bool,
    /// No progress output.
    pub quiet: bool,
    /// Memory cap of each run's process.
    pub mem_limit: Option<MemLimit>,
}

/// A run that did not end `ok`.
#[derive(Debug, Clone)]
pub struct Failure {
    /// How it ended.
    pub status: RunStatus,
    /// The run (its directory under the sweep's output).
    pub run_id: String,
    /// The error recorded in its `runs` row, as printed in the summary.
    pub error: String,
}

impl Failure {
    /// The failure a recorded row tells of.
    fn of(row: RunRow) -> Failure {
        Failure {
            status: row.status,
            run_id: row.run_id,
            error: row.error.unwrap_or_default(),
        }
    }
}

/// What a sweep did.
#[derive(Debug)]
pub struct Summary {
    /// Runs in the plan (in the shard, for one shard).
    pub total: usize,
    /// The shard it ran.
    pub shard: Option<Shard>,
    /// Runs executed now.
    pub ran: usize,
    /// Runs skipped because they had finished before.
    pub skipped: usize,
    /// Runs skipped because another live runner holds their claim, by id.
    pub elsewhere: Vec<(String, claim::Holder)>,
    /// Runs that did not end `ok`: executed now, or recorded before.
    pub failures: Vec<Failure>,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// The signal that stopped the sweep, if one did.
    pub interrupted: Option<i32>,
}

/// One worker per core.
pub fn default_jobs() -> usize {
    run::default_threads()
}

/// Threads of each run unless told otherwise: the runs of several jobs
/// already share the cores, so one each; a sweep of one job gets them all.
pub fn default_threads(jobs: usize) -> usize {
    if jobs > 1 { 1 } else { run::default_threads() }
}

impl Summary {
    /// Runs that ended for good without success (not the interrupted ones).
    pub fn failed(&self) -> usize {
        self.failures.iter().filter(|f| f.status.is_final()).count()
    }

    /// The closing summary: counts, time, failures, and what to do next.
    pub fn describe(&self, plan: &Plan, jobs: usize) -> String {
        let part = self
            .shard
            .map_or(String::new(), |s| format!(" (shard {s})"));
        let interrupted = self.failures.len() - self.failed();
        let interrupted = match interrupted {
            0 => String::new(),
            n => format!(", {n} interrupted"),
        };
        let elsewhere = match self.elsewhere.len() {
            0 => String::new(),
            n => format!(", {n} running elsewhere"),
        };
        let mut out = format!(
            "sweep {}{part}: {} runs: {} ran now, {} had finished before{elsewhere}; {} failed{interrupted}; {:.1} s with {jobs} job(s)\n",
            plan.out.display(),
            self.total,
            self.ran,
            self.skipped,
            self.failed(),
            self.wall_seconds
        );
        for (run_id, holder) in &self.elsewhere {
            out += &format!("  running elsewhere: {run_id}: {}\n", holder.describe());
        }
        for f in &self.failures {
            out += &format!("  {}: {}: {}\n", f.status, f.run_id, f.error);
        }
        if let Some(signal) = self.interrupted {
            out += &format!(
                "interrupted by {}: runs not finished are redone by the same command\n",
                signals::signal_name(signal)
            );
        }
        out += &format!(
            "report: harness report {} -o reports/NAME\n",
            plan.out.display()
        );
        out
    }
}

/// Execute `plan`: skip finished runs, claim each of the others and run
/// it in a child process on `options.jobs` workers; a run claimed by
/// another live runner is skipped and reported as running elsewhere.
pub fn execute(plan: &Plan, options: Options) -> Result<Summary> {
    let t0 = Instant::now();
    std::fs::create_dir_all(&plan.out)
        .with_context(|| format!("creating {}", plan.out.display()))?;
    signals::install();
    record_manifest(plan)?;
    let mine: Vec<usize> = (0..plan.runs.len())
        .filter(|&i| options.shard.is_none_or(|s| s.owns(i)))
        .collect();
    let (todo, failures) = triage(plan, &mine, &options);
    let mut tally = Tally {
        progress: SweepProgress::new(todo.len(), options.quiet),
        failures,
        elsewhere: Vec::new(),
        skipped: mine.len() - todo.len(),
    };
    let started = AtomicUsize::new(0);
    run_workers(plan, &options, &todo, &started, |i, result| {
        tally.record(&plan.runs[i], result);
    });
    tally.progress.finish();
    tally.elsewhere.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Summary {
        total: mine.len(),
        shard: options.shard,
        ran: started.into_inner(),
        skipped: tally.skipped,
        elsewhere: tally.elsewhere,
        failures: tally.failures,
        wall_seconds: t0.elapsed().as_secs_f64(),
        interrupted: signals::requested(),
    })
}

/// Record the whole plan in the manifest. Every shard does: status views
/// see every run from the start, and shards merging at once cannot lose
/// one another's.
fn record_manifest(plan: &Plan) -> Result<()> {
    let manifest: Vec<ManifestRun> = plan
        .runs
        .iter()
        .map(|r| ManifestRun {
            run_id: r.request.run_id(),
            label: r.label.clone(),
            env_id: r.request.env.id().to_string(),
        })
        .collect();
    results::record_runs(&plan.out, &manifest)
}

/// Of the runs `mine`, those still to run (with the end time of the row a
/// redone run had, if any), and the failures recorded by those left alone.
fn triage(
    plan: &Plan,
    mine: &[usize],
    options: &Options,
) -> (Vec<(usize, Option<i64>)>, Vec<Failure>) {
    let mut failures = Vec::new();
    let mut todo = Vec::new();
    for &i in mine {
        let row = finished_row(&plan.runs[i]);
        match row {
            Some(row) if is_done(&row, options) => {
                if row.status != RunStatus::Ok {
                    failures.push(Failure::of(row));
                }
            }
            row => todo.push((i, row.map(|r| r.end_time_us))),
        }
    }
    (todo, failures)
}

/// Run `todo` on `options.jobs` worker threads (each claims the next run
/// and runs it, until none is left or a stop is requested), handing every
/// result to `on_result` on this thread as it comes back; `started` counts
/// the runs executed.
fn run_workers(
    plan: &Plan,
    options: &Options,
    todo: &[(usize, Option<i64>)],
    started: &AtomicUsize,
    mut on_result: impl FnMut(usize, Result<Turn>),
) {
    let next = AtomicUsize::new(0);
    let (sender, results) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1).min(todo.len()) {
            let (sender, next) = (sender.clone(), &next);
            scope.spawn(move || {
                while signals::requested().is_none() {
                    let Some(&(i, seen)) = todo.get(next.fetch_add(1, Ordering::SeqCst)) else {
                        break;
                    };
                    let result = claim_and_run(plan, i, seen, options, started);
                    if sender.send((i, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for (i, result) in results {
            on_result(i, result);
        }
    });
}

/// What the parent learns as runs come back, and the progress it shows.
struct Tally {
    progress: SweepProgress,
    failures: Vec<Failure>,
    elsewhere: Vec<(String, claim::Holder)>,
    skipped: usize,
}

impl Tally {
    /// Count what became of `planned`, and show it.
    fn record(&mut self, planned: &PlannedRun, result: Result<Turn>) {
        let q = &planned.request;
        let what = format!("{} {} s{}", planned.label, q.env.id(), q.seed);
        let row = match result {
            Ok(Turn::Ran(row)) => row,
            Ok(Turn::Elsewhere(holder)) => {
                self.progress.finished(
                    &format!("{what}: running elsewhere ({})", holder.describe()),
                    false,
                );
                self.elsewhere.push((q.run_id(), holder));
                return;
            }
            Ok(Turn::DoneMeanwhile(row)) => {
                self.progress
                    .finished(&format!("{what}: finished elsewhere meanwhile"), false);
                self.skipped += 1;
                if row.status.is_final() && row.status != RunStatus::Ok {
                    self.failures.push(Failure::of(row));
                }
                return;
            }
            Err(e) => {
                let error = format!("{e:#}");
                self.progress
                    .finished(&format!("{what}: FAILED: {error}"), true);
                self.failures.push(Failure {
                    status: RunStatus::Failed,
                    run_id: q.run_id(),
                    error,
                });
                return;
            }
        };
        if row.status == RunStatus::Ok {
            let dir = q.out_dir.join(&row.run_id);
            self.progress.finished(
                &format!(
                    "{what}: ok, {} steps in {:.1} s{}",
                    row.env_steps,
                    row.wall_seconds,
                    final_eval_note(&dir)
                ),
                false,
            );
        } else {
            let error = row.error.clone().unwrap_or_default();
            let first_line = error.lines().next().unwrap_or("");
            self.progress.finished(
                &format!(
                    "{what}: {}: {first_line}",
                    row.status.as_str().to_uppercase()
                ),
                true,
            );
            self.failures.push(Failure::of(row));
        }
    }
}

/// Whether a recorded run is left alone: it ended for good, and either
/// well or without `--retry-failed`.
fn is_done(row: &RunRow, options: &Options) -> bool {
    row.status.is_final() && (row.status == RunStatus::Ok || !options.retry_failed)
}

/// What became of one run a worker took.
enum Turn {
    /// It ran now; its `runs` row.
    Ran(RunRow),
    /// Another live runner holds its claim.
    Elsewhere(claim::Holder),
    /// Between the sweep's scan and its claim, another runner ran it.
    DoneMeanwhile(RunRow),
}

/// Claim `planned` and, once it is ours, run it unless another runner
/// changed its record since the scan (`seen`: the end time recorded then),
/// which means that runner executed it meanwhile.
fn claim_and_run(
    plan: &Plan,
    i: usize,
    seen: Option<i64>,
    options: &Options,
    started: &AtomicUsize,
) -> Result<Turn> {
    let planned = &plan.runs[i];
    let dir = planned.request.out_dir.join(planned.request.run_id());
    let claim = match claim::take(&dir)? {
        claim::Attempt::Held(holder) => return Ok(Turn::Elsewhere(holder)),
        claim::Attempt::Claimed(c) => c,
    };
    if let Some(row) = finished_row(planned)
        && (is_done(&row, options) || Some(row.end_time_us) != seen)
    {
        return Ok(Turn::DoneMeanwhile(row));
    }
    started.fetch_add(1, Ordering::SeqCst);
    claim.log_execution()?;
    run_isolated(&plan.plugins, planned, options).map(Turn::Ran)
}

/// `", final eval R ± S"` from a finished run's last evaluation, or nothing
/// when it logged none (`--eval-every 0` still evaluates at the end; a
/// metrics file that cannot be read is the report's business, not the
/// progress line's).
fn final_eval_note(dir: &Path) -> String {
    let last = |series: &Vec<results::MetricRow>| series.last().map(|m| m.value);
    match results::read_metrics(dir, &[results::EVAL_RETURN_MEAN, results::EVAL_RETURN_STD]) {
        Ok(series) => match (last(&series[0]), last(&series[1])) {
            (Some(mean), Some(std)) => format!(", final eval {mean:.2} ± {std:.2}"),
            _ => String::new(),
        },
        Err(_) => String::new(),
    }
}

/// The `runs` row of a finished run, `None` when it has not finished. A
/// `runs.parquet` that cannot be read (truncated, corrupted, another
/// schema) is not a finished run: it is redone, with a warning naming it.
fn finished_row(planned: &PlannedRun) -> Option<RunRow> {
    let dir = planned.request.out_dir.join(planned.request.run_id());
    if !dir.join(RUNS_FILE).exists() {
        return None;
    }
    results::read_run(&dir)
        .inspect_err(|e| eprintln!("warning: {e:#}; the run is redone"))
        .ok()
}

/// Run `planned` (claimed by this process; its algorithm looked up in
/// `plugins`) in a child process from a clean directory, and return its
/// `runs` row: the child's own, or the parent's [`ending`] when the child
/// could not write one.
fn run_isolated(plugins: &[PathBuf], planned: &PlannedRun, options: &Options) -> Result<RunRow> {
    let req = &planned.request;
    let dir = req.out_dir.join(req.run_id());
    // Leftovers of an interrupted or failed attempt (temp files, tables
    // without `runs.parquet`) must not mix with the new attempt's files;
    // the claim stays.
    clear_except_claim(&dir)?;
    let run_file = dir.join(worker::RUN_FILE);
    RunFile::new(plugins, req).write(&run_file)?;
    let args = vec![
        OsString::from("sweep-worker"),
        OsString::from("--run-file"),
        run_file.as_os_str().to_owned(),
        OsString::from("--threads"),
        OsString::from(options.threads.to_string()),
    ];
    let spec = ChildSpec {
        args,
        timeout: options.timeout,
        grace: GRACE,
        mem_limit: options.mem_limit,
    };
    let finished = child::run_harness(&spec, signals::stop_flag());
    let _ = std::fs::remove_file(&run_file);
    let finished = finished?;
    if dir.join(RUNS_FILE).exists() {
        let mut row = results::read_run(&dir)?;
        // Stopped for its time limit, the child saw only a SIGTERM.
        if finished.exit == Exit::TimedOut && row.status == RunStatus::Interrupted {
            row.status = RunStatus::Timeout;
            row.error = Some(ending(&finished, &Limits::of(options)).1);
            results::write_runs(&dir, &row)?;
        }
        return Ok(row);
    }
    remove_temp_files(&dir);
    let (status, error) = ending(&finished, &Limits::of(options));
    run::record_ending(
        req,
        status,
        &error,
        reached(&finished),
        finished.wall.as_secs_f64(),
    )?;
    results::read_run(&dir)
}

/// Remove everything in `dir` but the claim's files.
fn clear_except_claim(dir: &Path) -> Result<()> {
    let clear = || -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            if claim::is_claim_file(&e.file_name().to_string_lossy()) {
                continue;
            }
            if e.file_type()?.is_dir() {
                std::fs::remove_dir_all(e.path())?;
            } else {
                std::fs::remove_file(e.path())?;
            }
        }
        Ok(())
    };
    clear().with_context(|| format!("clearing {}", dir.display()))
}

/// The limits a child ran under, as [`ending`] names them.
struct Limits {
    timeout: Option<Duration>,
    mem_limit: Option<MemLimit>,
    /// Slurm's `--mem` of the task this sweep runs in, if any.
    slurm_mem: Option<String>,
}

impl Limits {
    fn of(options: &Options) -> Limits {
        Limits {
            timeout: options.timeout,
            mem_limit: options.mem_limit,
            slurm_mem: ["SLURM_MEM_PER_NODE", "SLURM_MEM_PER_CPU"]
                .iter()
                .find_map(|v| Some(format!("{v}={}", std::env::var(v).ok()?))),
        }
    }
}

/// How a child that left no `runs` row ended, as a status and an error
/// naming the signal or limit, the env steps reached, and its stderr tail.
fn ending(finished: &Finished, limits: &Limits) -> (RunStatus, String) {
    let (status, what) = match finished.exit {
        _ if out_of_memory(finished, limits).is_some() => (
            RunStatus::Oom,
            out_of_memory(finished, limits).unwrap_or_default(),
        ),
        Exit::Signal(_) | Exit::Code(_) => (RunStatus::Crashed, died(finished.exit)),
        Exit::TimedOut => (RunStatus::Timeout, finished.exit.describe(limits.timeout)),
        Exit::Stopped => (RunStatus::Interrupted, finished.exit.describe(None)),
    };
    let (steps, iterations) = reached(finished);
    let mut error = format!("{what} after {steps} env steps ({iterations} iterations)");
    if !finished.stderr_tail.is_empty() {
        error += &format!("; stderr: {}", finished.stderr_tail);
    }
    (status, error)
}

/// Why a child that died by itself ran out of memory, naming the limit, or
/// `None` when nothing says it did. Under `--mem-limit` (`RLIMIT_AS`) an
/// allocation past the cap fails: the child's stderr says so (Rust's
/// allocator, `strerror(ENOMEM)`, …) or its sampled peak address space is
/// at the cap. Under Slurm's `--mem`, the task's memory cgroup kills the
/// largest process with SIGKILL; Slurm's own stops (time limit, `scancel`)
/// send SIGTERM first and reach this sweep, which stops its children itself
/// (`Exit::Stopped`), so a SIGKILL out of the blue there is the cgroup's.
fn out_of_memory(finished: &Finished, limits: &Limits) -> Option<String> {
    let how = match finished.exit {
        Exit::Signal(_) | Exit::Code(_) => died(finished.exit),
        Exit::TimedOut | Exit::Stopped => return None,
    };
    if let Some(limit) = limits.mem_limit {
        let peak = finished.peak_address_space;
        if child::tells_of_allocation_failure(&finished.stderr_tail)
            || peak.is_some_and(|p| limit.reached_by(p))
        {
            let peak = peak.map_or(String::new(), |p| {
                format!(" (peak address space {} MiB)", p >> 20)
            });
            return Some(format!(
                "out of memory under --mem-limit {limit}{peak}: {how}"
            ));
        }
    }
    match (&limits.slurm_mem, finished.exit) {
        (Some(mem), Exit::Signal(libc::SIGKILL)) => Some(format!(
            "out of memory under Slurm's --mem ({mem}): {how}, as Slurm's memory cgroup does"
        )),
        _ => None,
    }
}

/// How a child that ended by itself (a signal or an exit) without a `runs`
/// row died.
fn died(exit: Exit) -> String {
    match exit {
        Exit::Code(_) => format!("{} without writing results", exit.describe(None)),
        _ => exit.describe(None),
    }
}

/// `(env steps, iterations)` of the child's last progress report.
fn reached(finished: &Finished) -> (u64, u64) {
    let p = finished.progress.unwrap_or_default();
    (p.env_steps, p.iterations)
}

/// Remove the temp files of writes a dead child left half done.
fn remove_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().contains(".tmp-") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// `90s`, `30m`, `2h` (or a combination such as `1h30m`) as a duration.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let bad = || {
        anyhow::anyhow!(
            "--timeout '{text}': expected a duration such as 90s, 30m, 2h or 1h30m (units s, m, h, d)"
        )
    };
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = total.saturating_add(n.saturating_mul(unit));
        number.clear();
    }
    if !number.is_empty() || total == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::child::format_duration;

    #[test]
    fn durations_parse_and_print() {
        for (text, secs) in [
            ("90s", 90),
            ("30m", 1800),
            ("2h", 7200),
            ("1h30m", 5400),
            ("1d", 86_400),
        ] {
            assert_eq!(parse_duration(text).unwrap(), Duration::from_secs(secs));
        }
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        for bad in ["", "90", "5x", "h", "0s"] {
            let e = parse_duration(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("'{bad}'")) && e.contains("30m"), "{e}");
        }
    }

    #[test]
    fn an_ending_names_the_signal_the_steps_and_the_stderr() {
        let none = Limits {
            timeout: None,
            mem_limit: None,
            slurm_mem: None,
        };
        let f = Finished {
            exit: Exit::Signal(libc::SIGSEGV),
            stderr_tail: "last words".into(),
            progress: Some(child::Progress {
                env_steps: 1500,
                iterations: 3,
            }),
            result: None,
            wall: Duration::from_secs(1),
            peak_address_space: None,
        };
        let (status, error) = ending(&f, &none);
        assert_eq!(status, RunStatus::Crashed);
        assert_eq!(
            error,
            "killed by SIGSEGV after 1500 env steps (3 iterations); stderr: last words"
        );
        let f = Finished {
            exit: Exit::TimedOut,
            progress: None,
            ..f
        };
        let limits = Limits {
            timeout: Some(Duration::from_secs(90)),
            ..none
        };
        let (status, error) = ending(&f, &limits);
        assert_eq!(status, RunStatus::Timeout);
        assert!(
            error.starts_with("timed out (limit 1m30s) after 0 env steps"),
            "{error}"
        );
    }

    #[test]
    fn a_child_that_died_at_its_memory_cap_is_oom_naming_the_limit() {
        let capped = Limits {
            timeout: None,
            mem_limit: Some("256M".parse().unwrap()),
            slurm_mem: None,
        };
        let died = |exit, stderr: &str, peak: Option<u64>| Finished {
            exit,
            stderr_tail: stderr.into(),
            progress: Some(child::Progress {
                env_steps: 40,
                iterations: 2,
            }),
            result: None,
            wall: Duration::from_secs(1),
            peak_address_space: peak,
        };
        // The allocator says so.
        let f = died(
            Exit::Signal(libc::SIGABRT),
            "memory allocation of 1048576 bytes failed",
            Some(100 << 20),
        );
        let (status, error) = ending(&f, &capped);
        assert_eq!(status, RunStatus::Oom);
        assert!(
            error.starts_with(
                "out of memory under --mem-limit 256M (peak address space 100 MiB): \
                 killed by SIGABRT after 40 env steps"
            ),
            "{error}"
        );
        // A silent death at the cap.
        let f = died(Exit::Signal(libc::SIGSEGV), "", Some(250 << 20));
        assert_eq!(ending(&f, &capped).0, RunStatus::Oom);
        // A segfault far below it is a crash; so is anything without a cap.
        let f = died(Exit::Signal(libc::SIGSEGV), "", Some(100 << 20));
        assert_eq!(ending(&f, &capped).0, RunStatus::Crashed);
        let f = died(Exit::Code(2), "xrealloc: cannot allocate 5 bytes", None);
        assert_eq!(ending(&f, &capped).0, RunStatus::Oom);
        let uncapped = Limits {
            mem_limit: None,
            ..capped
        };
        assert_eq!(ending(&f, &uncapped).0, RunStatus::Crashed);
        // Under Slurm's --mem, the cgroup's SIGKILL.
        let slurm = Limits {
            slurm_mem: Some("SLURM_MEM_PER_NODE=4096".into()),
            ..uncapped
        };
        let f = died(Exit::Signal(libc::SIGKILL), "", None);
        let (status, error) = ending(&f, &slurm);
        assert_eq!(status, RunStatus::Oom);
        assert!(
            error.contains("Slurm's --mem (SLURM_MEM_PER_NODE=4096)"),
            "{error}"
        );
        let f = died(Exit::Signal(libc::SIGSEGV), "", None);
        assert_eq!(ending(&f, &slurm).0, RunStatus::Crashed);
    }
}
