//! `harness sweep --status DIR`: how far a sweep got, per label × env, for
//! local and Slurm sweeps alike — everything is read from the directory:
//! the manifest lists every planned run, a run's `runs.parquet` says how it
//! ended, and a run without one is running while a live runner holds its
//! claim (else it is pending: the next sweep redoes it).
//!
//! A planned run is *superseded* when the sweep was planned again after a
//! config, budget or version change (the id hashes them) and a run of the
//! same label, env and seed under the new id has got further: it never
//! started while the other started, or it was left unfinished (no results,
//! no live runner) while the other finished. The old id will not run unless
//! the old plan does, so such runs are counted apart, not as pending.

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
    // Per run: its (label, env, seed), whether its directory exists and
    // whether it holds results — checked once, read by the superseded test.
    let seen: Vec<(Option<RunKey>, bool, bool)> = planned
        .iter()
        .map(|r| {
            let key = seed_of(&r.run_id).map(|s| (r.label.as_str(), r.env_id.as_str(), s));
            let run_dir = dir.join(&r.run_id);
            (key, run_dir.is_dir(), run_dir.join(RUNS_FILE).exists())
        })
        .collect();
    let keys_where = |pick: fn(bool, bool) -> bool| -> std::collections::BTreeSet<RunKey> {
        seen.iter()
            .filter_map(|&(key, dir, results)| key.filter(|_| pick(dir, results)))
            .collect()
    };
    let (started, finished) = (keys_where(|dir, _| dir), keys_where(|_, results| results));
    for (run, &(key, exists, has_results)) in planned.iter().zip(&seen) {
        let run_dir = dir.join(&run.run_id);
        let holder = (exists && !has_results)
            .then(|| claim::holder(&run_dir))
            .flatten();
        // A run without results is never the finished one of its key.
        let superseded = key.is_some_and(|k| match exists {
            false => started.contains(&k),
            true => !has_results && holder.is_none() && finished.contains(&k),
        });
        if superseded {
            status.superseded += 1;
            continue;
        }
        let state = if has_results {
            match results::read_run(&run_dir).map(|r| r.status) {
                Ok(RunStatus::Ok) => State::Ok,
                Ok(s) if s.is_final() => State::Failed,
                Ok(_) => State::Pending,
                Err(e) => {
                    status.warnings.push(format!("{e:#}; counted pending"));
                    State::Pending
                }
            }
        } else if let Some(holder) = holder {
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
    use crate::report::testutil::finished_run;
    use crate::results::{ManifestRun, record_runs};

    fn planned(run_id: &str) -> ManifestRun {
        ManifestRun {
            run_id: run_id.into(),
            label: "trpo".into(),
            env_id: "hopper-v0".into(),
        }
    }

    #[test]
    fn runs_of_an_older_plan_that_got_less_far_are_superseded_not_pending() {
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

        // Seed 1 planned again; the new id finishes, the old one is left
        // interrupted: no longer pending either.
        let runs = [
            planned("trpo-hopper-v0-s1-dddddddd"),
            planned("trpo-hopper-v0-s1-cccccccc"),
        ];
        record_runs(dir.path(), &runs).unwrap();
        std::fs::create_dir(dir.path().join("trpo-hopper-v0-s1-cccccccc")).unwrap();
        let new = dir.path().join("trpo-hopper-v0-s1-dddddddd");
        std::fs::create_dir(&new).unwrap();
        let mut row = finished_run("trpo", "hopper-v0", 1, "{}", 1.0, &[]).row;
        row.run_id = "trpo-hopper-v0-s1-dddddddd".into();
        crate::results::write_runs(&new, &row).unwrap();
        let status = collect(dir.path()).unwrap();
        assert_eq!(status.superseded, 2, "{status:?}");
        let counts = &status.counts[&("trpo".to_string(), "hopper-v0".to_string())];
        assert_eq!(counts.get(&State::Ok), Some(&1));
        // Seed 0's started run is still pending: no id of seed 0 finished.
        assert_eq!(counts.get(&State::Pending), Some(&1));
        assert_eq!(seed_of("not-a-run"), None);
    }
}
