//! `harness sweep --status DIR`: how far a sweep got, per label × env, for
//! local and Slurm sweeps alike — everything is read from the directory:
//! the manifest lists every planned run, a run's `runs.parquet` says how it
//! ended, and a run without one is running while a live runner holds its
//! claim (else it is pending: the next sweep redoes it).

use super::claim::{self, Holder};
use crate::results::{self, RUNS_FILE, RunStatus};
use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::path::Path;

/// The state of one planned run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// Finished with status `ok`.
    Ok,
    /// Ended as `failed`, `crashed` or `timeout`: a rerun skips it unless
    /// `--retry-failed`.
    Failed,
    /// Unfinished, and claimed by a live runner.
    Running,
    /// Not started, interrupted, or left unfinished: a rerun does it.
    Pending,
}

/// Counts per state for one label on one env.
pub type Counts = BTreeMap<State, usize>;

/// Where a sweep is: counts per (label, env id), and who runs what.
#[derive(Debug, Default)]
pub struct Status {
    /// Counts per (label, env id).
    pub counts: BTreeMap<(String, String), Counts>,
    /// The running runs, by id, with their claims' holders.
    pub running: Vec<(String, Holder)>,
    /// Runs whose `runs.parquet` cannot be read (counted pending: the next
    /// sweep redoes them), one line each naming the file.
    pub warnings: Vec<String>,
}

/// The status of the sweep in `dir`.
pub fn collect(dir: &Path) -> Result<Status> {
    let planned = results::planned_runs(dir)?;
    if planned.is_empty() {
        bail!(
            "{} holds no sweep: no {} listing its runs",
            dir.display(),
            results::MANIFEST_FILE
        );
    }
    let mut status = Status::default();
    for run in planned {
        let run_dir = dir.join(&run.run_id);
        let state = if run_dir.join(RUNS_FILE).exists() {
            match results::read_run(&run_dir).map(|r| r.status) {
                Ok(RunStatus::Ok) => State::Ok,
                Ok(s) if s.is_final() => State::Failed,
                Ok(_) => State::Pending,
                Err(e) => {
                    status.warnings.push(format!("{e:#}; counted pending"));
                    State::Pending
                }
            }
        } else if let Some(holder) = claim::holder(&run_dir) {
            status.running.push((run.run_id.clone(), holder));
            State::Running
        } else {
            State::Pending
        };
        *status
            .counts
            .entry((run.label, run.env_id))
            .or_default()
            .entry(state)
            .or_default() += 1;
    }
    Ok(status)
}
