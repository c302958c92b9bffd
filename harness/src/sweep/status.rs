//! `harness sweep --status DIR`: how far a sweep got, per label × env, for
//! local and Slurm sweeps alike — everything is read from the directory:
//! the manifest lists every planned run, a run's `runs.parquet` says how it
//! ended, and a run without one is running while a live runner holds its
//! claim (else it is pending: the next sweep redoes it).
//!
//! A planned run that never started is *superseded* when a run of the same
//! label, env and seed under another id has a directory: the sweep was
//! planned again after a config, budget or version change (the id hashes
//! them), and the old id will not run unless the old plan does. Such runs
//! are counted apart, not as pending.

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
    /// Planned runs superseded by a later plan (see the module docs).
    pub superseded: usize,
}

/// A planned run's label, env id and seed.
type RunKey<'a> = (&'a str, &'a str, &'a str);

/// The seed in a run id `{algo}-{env}-s{seed}-{hash}`.
fn seed_of(run_id: &str) -> Option<&str> {
    let mut parts = run_id.rsplitn(3, '-');
    let (_hash, seed) = (parts.next()?, parts.next()?);
    seed.strip_prefix('s')
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
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
    // (label, env, seed) of each run, and whether its directory exists:
    // read once, used for the superseded test below.
    let keys: Vec<(Option<RunKey>, bool)> = planned
        .iter()
        .map(|r| {
            let key = seed_of(&r.run_id).map(|s| (r.label.as_str(), r.env_id.as_str(), s));
            (key, dir.join(&r.run_id).is_dir())
        })
        .collect();
    let started: std::collections::BTreeSet<_> = keys
        .iter()
        .filter_map(|&(key, exists)| key.filter(|_| exists))
        .collect();
    let superseded: Vec<bool> = keys
        .iter()
        .map(|&(key, exists)| !exists && key.is_some_and(|k| started.contains(&k)))
        .collect();
    for (run, superseded) in planned.iter().zip(superseded) {
        if superseded {
            status.superseded += 1;
            continue;
        }
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
            .entry((run.label.clone(), run.env_id.clone()))
            .or_default()
            .entry(state)
            .or_default() += 1;
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{ManifestRun, record_runs};

    fn planned(run_id: &str) -> ManifestRun {
        ManifestRun {
            run_id: run_id.into(),
            label: "trpo".into(),
            env_id: "hopper-v0".into(),
        }
    }

    #[test]
    fn a_never_started_run_of_an_older_plan_is_superseded_not_pending() {
        let dir = tempfile::tempdir().unwrap();
        // Seed 0 planned twice (the config changed in between), the newer
        // id started; seed 1 planned once and never started.
        let runs = [
            planned("trpo-hopper-v0-s0-aaaaaaaa"),
            planned("trpo-hopper-v0-s0-bbbbbbbb"),
            planned("trpo-hopper-v0-s1-cccccccc"),
        ];
        record_runs(dir.path(), &runs).unwrap();
        std::fs::create_dir(dir.path().join("trpo-hopper-v0-s0-bbbbbbbb")).unwrap();
        let status = collect(dir.path()).unwrap();
        assert_eq!(status.superseded, 1);
        let counts = &status.counts[&("trpo".to_string(), "hopper-v0".to_string())];
        // The started one was interrupted (no results), seed 1 never ran.
        assert_eq!(counts.get(&State::Pending), Some(&2));
        assert_eq!(seed_of("trpo-gym_ALE_Pong-v5-s12-0123abcd"), Some("12"));
        assert_eq!(seed_of("not-a-run"), None);
    }
}
