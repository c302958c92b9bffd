//! `harness sweep`: many runs in parallel, crash-safe and resumable.
//!
//! - **Parallel, yet independent of `--jobs`**: each worker thread takes the
//!   next run from a shared queue and runs it with [`run::execute`], itself
//!   single-threaded and deterministic; runs share nothing, so the results
//!   are the same with one worker or many.
//! - **Crash-safe**: every file of a run is written atomically and
//!   `runs.parquet` last, so a run is finished iff that file exists. `kill
//!   -9` at any moment loses only the runs in flight.
//! - **Resumable**: rerunning the same sweep into the same directory skips
//!   finished runs (run ids are deterministic) and redoes unfinished ones
//!   from a clean directory.
//! - **Failures don't stop it**: a failed run is recorded with its error
//!   (status `failed` in its `runs` table), and the summary lists failures.

mod plan;
mod progress;

pub use plan::{Plan, PlannedRun, Seeds, SweepSpec, Variant};

use crate::results::{self, RUNS_FILE, RunStatus};
use crate::run::{self, RunFailed, RunSummary};
use anyhow::{Context, Result};
use progress::SweepProgress;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// How to execute a plan.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Redo runs recorded as failed instead of skipping them.
    pub retry_failed: bool,
    /// No progress output.
    pub quiet: bool,
}

/// A failed run.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The run (its directory under the sweep's output).
    pub run_id: String,
    /// The error recorded in its `runs` row, as printed in the summary.
    pub error: String,
}

/// What a sweep did.
#[derive(Debug)]
pub struct Outcome {
    /// Runs in the plan.
    pub total: usize,
    /// Runs executed now.
    pub ran: usize,
    /// Runs skipped because they had finished before.
    pub skipped: usize,
    /// Failed runs: executed now, or recorded as failed before.
    pub failures: Vec<Failure>,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
}

/// One worker per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Outcome {
    /// The closing summary: counts, time, failures, and what to do next.
    pub fn describe(&self, plan: &Plan, jobs: usize) -> String {
        let mut out = format!(
            "sweep {}: {} runs: {} ran now, {} had finished before; {} failed; {:.1} s with {jobs} job(s)\n",
            plan.out.display(),
            self.total,
            self.ran,
            self.skipped,
            self.failures.len(),
            self.wall_seconds
        );
        for f in &self.failures {
            out += &format!("  failed: {}: {}\n", f.run_id, f.error);
        }
        out += &format!(
            "report: harness report {} -o reports/NAME\n",
            plan.out.display()
        );
        out
    }
}

/// Execute `plan`: skip finished runs, run the others on `options.jobs`
/// workers.
pub fn execute(plan: &Plan, options: Options) -> Result<Outcome> {
    let t0 = Instant::now();
    std::fs::create_dir_all(&plan.out)
        .with_context(|| format!("creating {}", plan.out.display()))?;
    results::record_labels(
        &plan.out,
        plan.runs
            .iter()
            .map(|r| (r.request.run_id(), r.label.clone())),
    )?;
    let mut failures = Vec::new();
    let mut todo = Vec::new();
    for (i, planned) in plan.runs.iter().enumerate() {
        match finished_row(planned)? {
            Some(row) if row.status == RunStatus::Ok || !options.retry_failed => {
                if row.status != RunStatus::Ok {
                    failures.push(Failure {
                        run_id: row.run_id,
                        error: row.error.unwrap_or_default(),
                    });
                }
            }
            _ => todo.push(i),
        }
    }
    let skipped = plan.runs.len() - todo.len();
    let mut progress = SweepProgress::new(todo.len(), options.quiet);
    let next = AtomicUsize::new(0);
    let (sender, results) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1).min(todo.len()) {
            let (sender, next, todo) = (sender.clone(), &next, &todo);
            scope.spawn(move || {
                while let Some(&i) = todo.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if sender.send((i, run_one(&plan.runs[i]))).is_err() {
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
            match result {
                Ok(s) => progress.finished(
                    &format!(
                        "{what}: ok, final eval {:.2}, {} steps in {:.1} s",
                        s.final_eval.0, s.env_steps, s.wall_seconds
                    ),
                    false,
                ),
                Err(error) => {
                    progress.finished(&format!("{what}: FAILED: {error}"), true);
                    failures.push(Failure {
                        run_id: q.run_id(),
                        error,
                    });
                }
            }
        }
    });
    progress.finish();
    Ok(Outcome {
        total: plan.runs.len(),
        ran: todo.len(),
        skipped,
        failures,
        wall_seconds: t0.elapsed().as_secs_f64(),
    })
}

/// The `runs` row of a finished run, `None` when it has not finished.
fn finished_row(planned: &PlannedRun) -> Result<Option<crate::results::RunRow>> {
    let dir = planned.request.out_dir.join(planned.request.run_id());
    if !dir.join(RUNS_FILE).exists() {
        return Ok(None);
    }
    results::read_run(&dir).map(Some)
}

/// Run one planned run from a clean directory; errors (and panics, which
/// would otherwise take the sweep down) become the failure's text, and a
/// failure the run did not record itself is recorded here.
fn run_one(planned: &PlannedRun) -> Result<RunSummary, String> {
    let req = &planned.request;
    let dir = req.out_dir.join(req.run_id());
    // Leftovers of an interrupted or failed attempt (temp files, tables
    // without `runs.parquet`) must not mix with the new attempt's files.
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("clearing {}: {e}", dir.display()))?;
    }
    let error = match catch_unwind(AssertUnwindSafe(|| run::execute(req))) {
        Ok(Ok(summary)) => return Ok(summary),
        Ok(Err(e)) if e.is::<RunFailed>() => return Err(format!("{e:#}")),
        Ok(Err(e)) => format!("{e:#}"),
        Err(panic) => format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        ),
    };
    match run::record_failure(req, &error) {
        Ok(_) => Err(error),
        Err(e) => Err(format!("{error} (and recording it failed: {e:#})")),
    }
}
