//! `harness sweep`: many runs in parallel, each in its own process,
//! crash-safe and resumable.
//!
//! - **Isolated**: every run executes in a child process (the harness
//!   re-running itself as `harness sweep-worker`, see [`worker`]). A plugin
//!   that segfaults, aborts, exits or hangs takes down only its own child;
//!   the parent records how it ended (`crashed`, `timeout`, `interrupted`:
//!   [`verdict`]) with the signal or limit, the env steps reached and the
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
//! - **One writer per directory** ([`lock`]), **shards** ([`shard`]) for
//!   running one sweep as several processes, e.g. a Slurm job array
//!   ([`slurm`]); [`status`] counts where a sweep is.

pub mod lock;
mod plan;
mod progress;
pub mod shard;
pub mod slurm;
pub mod status;
pub mod worker;

pub use plan::{Plan, PlannedRun, Seeds, SweepSpec, Variant};

use crate::child::{self, ChildSpec, Exit, Finished};
use crate::results::{self, ManifestRun, RUNS_FILE, RunRow, RunStatus};
use crate::run;
use crate::signals;
use anyhow::{Context, Result};
use lock::SweepLock;
use progress::SweepProgress;
use shard::Shard;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use worker::PlanFile;

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

/// What a sweep did.
#[derive(Debug)]
pub struct Outcome {
    /// Runs in the plan (in the shard, for one shard).
    pub total: usize,
    /// The shard it ran.
    pub shard: Option<Shard>,
    /// Runs executed now.
    pub ran: usize,
    /// Runs skipped because they had finished before.
    pub skipped: usize,
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

impl Outcome {
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
        let mut out = format!(
            "sweep {}{part}: {} runs: {} ran now, {} had finished before; {} failed{interrupted}; {:.1} s with {jobs} job(s)\n",
            plan.out.display(),
            self.total,
            self.ran,
            self.skipped,
            self.failed(),
            self.wall_seconds
        );
        for f in &self.failures {
            out += &format!("  {}: {}: {}\n", f.status, f.run_id, f.error);
        }
        if let Some(signal) = self.interrupted {
            out += &format!(
                "interrupted by {}: runs not finished are redone by the same command\n",
                child::signal_name(signal)
            );
        }
        out += &format!(
            "report: harness report {} -o reports/NAME\n",
            plan.out.display()
        );
        out
    }
}

/// Execute `plan`: take the directory's lock, skip finished runs, run the
/// others in child processes on `options.jobs` workers.
pub fn execute(plan: &Plan, options: Options) -> Result<Outcome> {
    let t0 = Instant::now();
    std::fs::create_dir_all(&plan.out)
        .with_context(|| format!("creating {}", plan.out.display()))?;
    let _lock = SweepLock::acquire(&plan.out, options.shard)?;
    signals::install();
    // Every shard records the whole plan: status views see every run from
    // the start, and shards merging at once cannot lose one another's.
    let manifest: Vec<ManifestRun> = plan
        .runs
        .iter()
        .map(|r| ManifestRun {
            run_id: r.request.run_id(),
            label: r.label.clone(),
            env_id: r.request.env.id().to_string(),
        })
        .collect();
    results::record_runs(&plan.out, &manifest)?;
    let mine: Vec<usize> = (0..plan.runs.len())
        .filter(|&i| options.shard.is_none_or(|s| s.owns(i)))
        .collect();
    let mut failures = Vec::new();
    let mut todo = Vec::new();
    for &i in &mine {
        match finished_row(&plan.runs[i])? {
            Some(row)
                if row.status.is_final()
                    && (row.status == RunStatus::Ok || !options.retry_failed) =>
            {
                if row.status != RunStatus::Ok {
                    failures.push(Failure {
                        status: row.status,
                        run_id: row.run_id,
                        error: row.error.unwrap_or_default(),
                    });
                }
            }
            _ => todo.push(i),
        }
    }
    let skipped = mine.len() - todo.len();
    let plan_file = PlanFileGuard::write(plan, options.shard)?;
    let mut progress = SweepProgress::new(todo.len(), options.quiet);
    let next = AtomicUsize::new(0);
    let started = AtomicUsize::new(0);
    let (sender, results) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1).min(todo.len()) {
            let (sender, next, started, todo) = (sender.clone(), &next, &started, &todo);
            let plan_file = &plan_file.path;
            scope.spawn(move || {
                while signals::requested().is_none() {
                    let Some(&i) = todo.get(next.fetch_add(1, Ordering::SeqCst)) else {
                        break;
                    };
                    started.fetch_add(1, Ordering::SeqCst);
                    let result = run_isolated(plan_file, i, &plan.runs[i], &options);
                    if sender.send((i, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for (i, result) in results {
            let planned = &plan.runs[i];
            let q = &planned.request;
            let what = format!("{} {} s{}", planned.label, q.env.id(), q.seed);
            let row = match result {
                Ok(row) => row,
                Err(e) => {
                    let error = format!("{e:#}");
                    progress.finished(&format!("{what}: FAILED: {error}"), true);
                    failures.push(Failure {
                        status: RunStatus::Failed,
                        run_id: q.run_id(),
                        error,
                    });
                    continue;
                }
            };
            if row.status == RunStatus::Ok {
                let dir = q.out_dir.join(&row.run_id);
                progress.finished(
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
                progress.finished(
                    &format!(
                        "{what}: {}: {first_line}",
                        row.status.as_str().to_uppercase()
                    ),
                    true,
                );
                failures.push(Failure {
                    status: row.status,
                    run_id: row.run_id,
                    error,
                });
            }
        }
    });
    progress.finish();
    Ok(Outcome {
        total: mine.len(),
        shard: options.shard,
        ran: started.into_inner(),
        skipped,
        failures,
        wall_seconds: t0.elapsed().as_secs_f64(),
        interrupted: signals::requested(),
    })
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

/// The `runs` row of a finished run, `None` when it has not finished.
fn finished_row(planned: &PlannedRun) -> Result<Option<RunRow>> {
    let dir = planned.request.out_dir.join(planned.request.run_id());
    if !dir.join(RUNS_FILE).exists() {
        return Ok(None);
    }
    results::read_run(&dir).map(Some)
}

/// The plan file the children read, removed when the sweep ends. Named
/// after the shard, whose lock this process holds, so no other sweep
/// writes the same file.
struct PlanFileGuard {
    path: PathBuf,
}

impl PlanFileGuard {
    fn write(plan: &Plan, shard: Option<Shard>) -> Result<PlanFileGuard> {
        let name = match shard {
            None => ".plan.json".to_string(),
            Some(s) => format!(".plan.{}-of-{}.json", s.index, s.count),
        };
        let path = plan.out.join(name);
        PlanFile::new(plan).write(&path)?;
        Ok(PlanFileGuard { path })
    }
}

impl Drop for PlanFileGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Run plan run `index` in a child process from a clean directory, and
/// return its `runs` row: the child's own, or the parent's [`verdict`] when
/// the child could not write one.
fn run_isolated(
    plan_file: &Path,
    index: usize,
    planned: &PlannedRun,
    options: &Options,
) -> Result<RunRow> {
    let timeout = options.timeout;
    let req = &planned.request;
    let dir = req.out_dir.join(req.run_id());
    // Leftovers of an interrupted or failed attempt (temp files, tables
    // without `runs.parquet`) must not mix with the new attempt's files.
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    let spec = ChildSpec {
        args: vec![
            OsString::from("sweep-worker"),
            OsString::from("--plan-file"),
            plan_file.as_os_str().to_owned(),
            OsString::from("--index"),
            OsString::from(index.to_string()),
            OsString::from("--threads"),
            OsString::from(options.threads.to_string()),
        ],
        timeout,
        grace: GRACE,
    };
    let finished = child::run_harness(&spec, signals::stop_flag())?;
    if dir.join(RUNS_FILE).exists() {
        let mut row = results::read_run(&dir)?;
        // Stopped for its time limit, the child saw only a SIGTERM.
        if finished.exit == Exit::TimedOut && row.status == RunStatus::Interrupted {
            row.status = RunStatus::Timeout;
            row.error = Some(verdict(&finished, timeout).1);
            results::write_runs(&dir, &row)?;
        }
        return Ok(row);
    }
    remove_temp_files(&dir);
    let (status, error) = verdict(&finished, timeout);
    run::record_ending(
        req,
        status,
        &error,
        reached(&finished),
        finished.wall.as_secs_f64(),
    )?;
    results::read_run(&dir)
}

/// How a child that left no `runs` row ended, as a status and an error
/// naming the signal or limit, the env steps reached, and its stderr tail.
fn verdict(finished: &Finished, timeout: Option<Duration>) -> (RunStatus, String) {
    let (status, what) = match finished.exit {
        Exit::Signal(sig) => (
            RunStatus::Crashed,
            format!("killed by {}", child::signal_name(sig)),
        ),
        Exit::Code(code) => (
            RunStatus::Crashed,
            format!("exited with code {code} without writing results"),
        ),
        Exit::TimedOut => (
            RunStatus::Timeout,
            format!(
                "exceeded --timeout {}",
                timeout.map_or("?".into(), format_duration)
            ),
        ),
        Exit::Stopped => (
            RunStatus::Interrupted,
            format!(
                "interrupted by {}",
                signals::requested().map_or("a signal".into(), child::signal_name)
            ),
        ),
    };
    let (steps, iterations) = reached(finished);
    let mut error = format!("{what} after {steps} env steps ({iterations} iterations)");
    if !finished.stderr_tail.is_empty() {
        error += &format!("; stderr: {}", finished.stderr_tail);
    }
    (status, error)
}

/// `(env steps, iterations)` of the child's last progress report.
fn reached(finished: &Finished) -> (u64, u64) {
    let mut words = finished.progress.as_deref().unwrap_or("").split(' ');
    let mut next = || words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
    (next(), next())
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

/// A duration as `parse_duration` reads it back (`1h30m`, `90s` → `1m30s`).
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    let parts = [(s / 3600, "h"), (s % 3600 / 60, "m"), (s % 60, "s")];
    let text: String = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    if text.is_empty() {
        format!("{}ms", d.as_millis())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_verdict_names_the_signal_the_steps_and_the_stderr() {
        let f = Finished {
            exit: Exit::Signal(libc::SIGSEGV),
            stderr_tail: "last words".into(),
            progress: Some("1500 3".into()),
            wall: Duration::from_secs(1),
        };
        let (status, error) = verdict(&f, None);
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
        let (status, error) = verdict(&f, Some(Duration::from_secs(90)));
        assert_eq!(status, RunStatus::Timeout);
        assert!(
            error.starts_with("exceeded --timeout 1m30s after 0 env steps"),
            "{error}"
        );
    }
}
