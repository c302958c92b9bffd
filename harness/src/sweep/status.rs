//! `harness sweep --status DIR`: how far a sweep got, per label × env, for
//! local and Slurm sweeps alike — everything is read from the directory:
//! the manifest lists every planned run, a run's `runs.parquet` says how it
//! ended, and a run directory without one is running while some sweep
//! holds a lock on the directory (else it is pending: the next sweep redoes
//! it).

use super::lock::live_holders;
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
    /// Its directory exists without results and a sweep is at work.
    Running,
    /// Not started, interrupted, or left unfinished: a rerun does it.
    Pending,
}

/// Counts per state for one label on one env.
pub type Counts = BTreeMap<State, usize>;

/// The counts of the sweep in `dir`, keyed by (label, env id).
pub fn collect(dir: &Path) -> Result<BTreeMap<(String, String), Counts>> {
    let planned = results::planned_runs(dir)?;
    if planned.is_empty() {
        bail!(
            "{} holds no sweep: no {} listing its runs",
            dir.display(),
            results::MANIFEST_FILE
        );
    }
    let active = !live_holders(dir).is_empty();
    let mut table: BTreeMap<(String, String), Counts> = BTreeMap::new();
    for run in planned {
        let run_dir = dir.join(&run.run_id);
        let state = if run_dir.join(RUNS_FILE).exists() {
            match results::read_run(&run_dir)?.status {
                RunStatus::Ok => State::Ok,
                s if s.is_final() => State::Failed,
                _ => State::Pending,
            }
        } else if run_dir.is_dir() && active {
            State::Running
        } else {
            State::Pending
        };
        *table
            .entry((run.label, run.env_id))
            .or_default()
            .entry(state)
            .or_default() += 1;
    }
    Ok(table)
}
