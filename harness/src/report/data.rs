//! Finding and reading what a report covers below the given directories:
//! every run (a directory holding `runs.parquet`), labelled from the sweep
//! manifests found on the way, and every `harness check cg` table (in a run
//! directory, or in a directory of its own).

use crate::results::{CHECK_CG_FILE, RUNS_FILE, RunRow};
use crate::run::fnv1a;
use crate::sweep::{MANIFEST_FILE, labels};
use crate::tables::{self, CgRow};
use anyhow::{Result, bail};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The metric a learning curve plots.
pub const EVAL_METRIC: &str = "eval/return_mean";

/// One run as the report sees it.
#[derive(Debug, Clone)]
pub struct Run {
    /// Its `runs` row, except that `env_id` is the env as the report names
    /// it: the id, with the env options that tell runs apart appended
    /// (see [`disambiguate_envs`]).
    pub row: RunRow,
    /// Its group's label: the sweep's variant name, else the algorithm id,
    /// with a config hash appended when one label covers several configs.
    pub label: String,
    /// `(env steps, mean evaluation return)` at each evaluation.
    pub eval: Vec<(f64, f64)>,
}

/// One `harness check cg` table.
#[derive(Debug, Clone)]
pub struct CgCheck {
    /// The run's label, else the algorithm id the table names, else its
    /// directory's name.
    pub label: String,
    /// The env (`?` when unknown).
    pub env_id: String,
    /// The seed, when known.
    pub seed: Option<u64>,
    /// One row per CG iteration.
    pub rows: Vec<CgRow>,
}

impl Run {
    /// Whether it finished without error and was evaluated.
    pub fn ok(&self) -> bool {
        self.row.status == "ok" && !self.eval.is_empty()
    }

    /// The return of its last evaluation.
    pub fn final_return(&self) -> Option<f64> {
        self.eval.last().map(|&(_, r)| r)
    }

    /// The algorithm part of its resolved config, as JSON text.
    pub fn algorithm_config(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.row.config_json)
            .ok()
            .and_then(|v| v.get("algorithm").map(|a| a.to_string()))
            .unwrap_or_else(|| self.row.config_json.clone())
    }
}

/// The runs and checks under some directories, and what went wrong
/// reading them.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Runs sorted by env, label and seed.
    pub runs: Vec<Run>,
    /// CG checks sorted by env, label and seed.
    pub checks: Vec<CgCheck>,
    /// Problems worth telling the reader (unreadable or duplicate runs).
    pub notes: Vec<String>,
}

/// Read every run and check below `dirs`.
pub fn load(dirs: &[PathBuf]) -> Result<Loaded> {
    let mut found = Found::default();
    for dir in dirs {
        if !dir.is_dir() {
            bail!("{} is not a directory", dir.display());
        }
        walk(dir, &mut found)?;
    }
    let mut loaded = Loaded::default();
    let mut seen = BTreeSet::new();
    for dir in found.run_dirs {
        match read_run(&dir, &found.labels) {
            Ok(run) if !seen.insert(run.row.run_id.clone()) => loaded.notes.push(format!(
                "run {} appears twice; the copy in {} was ignored",
                run.row.run_id,
                dir.display()
            )),
            Ok(run) => loaded.runs.push(run),
            Err(e) => loaded
                .notes
                .push(format!("skipped {}: {e:#}", dir.display())),
        }
    }
    disambiguate_labels(&mut loaded.runs);
    disambiguate_envs(&mut loaded.runs);
    loaded.runs.sort_by(|a, b| {
        (&a.row.env_id, &a.label, a.row.seed, &a.row.run_id).cmp(&(
            &b.row.env_id,
            &b.label,
            b.row.seed,
            &b.row.run_id,
        ))
    });
    for dir in found.check_dirs {
        if let Err(e) = read_check(&dir, &loaded.runs, &mut loaded.checks) {
            loaded
                .notes
                .push(format!("skipped {}: {e:#}", dir.display()));
        }
    }
    if loaded.runs.is_empty() && loaded.checks.is_empty() {
        bail!(
            "no runs or checks (directories with {RUNS_FILE} or {CHECK_CG_FILE}) under {}",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    loaded
        .checks
        .sort_by(|a, b| (&a.env_id, &a.label, a.seed).cmp(&(&b.env_id, &b.label, b.seed)));
    Ok(loaded)
}

/// What a walk finds.
#[derive(Default)]
struct Found {
    run_dirs: Vec<PathBuf>,
    check_dirs: Vec<PathBuf>,
    labels: HashMap<String, String>,
}

/// Collect run and check directories (not descended into) and manifest
/// labels, in a stable order.
fn walk(dir: &Path, found: &mut Found) -> Result<()> {
    let is_run = dir.join(RUNS_FILE).is_file();
    if is_run {
        found.run_dirs.push(dir.to_path_buf());
    }
    if dir.join(CHECK_CG_FILE).is_file() {
        found.check_dirs.push(dir.to_path_buf());
    }
    if is_run || dir.join(CHECK_CG_FILE).is_file() {
        return Ok(());
    }
    if dir.join(MANIFEST_FILE).is_file() {
        found.labels.extend(labels(dir)?);
    }
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    children.sort();
    for child in children {
        walk(&child, found)?;
    }
    Ok(())
}

fn read_run(dir: &Path, manifest_labels: &HashMap<String, String>) -> Result<Run> {
    let row = tables::read_run(dir)?;
    let eval = if row.status == "ok" {
        tables::read_metric(dir, EVAL_METRIC)?
            .into_iter()
            .map(|(steps, value)| (steps as f64, value))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Run {
        label: manifest_labels
            .get(&row.run_id)
            .cloned()
            .unwrap_or_else(|| row.algorithm_id.clone()),
        eval,
        row,
    })
}

/// The CG check in `dir`, named after the run in the same directory when
/// there is one.
fn read_check(dir: &Path, runs: &[Run], checks: &mut Vec<CgCheck>) -> Result<()> {
    let Some(table) = tables::read_check_cg(dir)? else {
        return Ok(());
    };
    let run_id = dir
        .join(RUNS_FILE)
        .is_file()
        .then(|| tables::read_run(dir))
        .transpose()?;
    let run = run_id.and_then(|row| runs.iter().find(|r| r.row.run_id == row.run_id));
    let dir_name = || {
        dir.file_name()
            .map_or("?".into(), |n| n.to_string_lossy().into_owned())
    };
    checks.push(CgCheck {
        label: run
            .map(|r| r.label.clone())
            .or(table.algorithm_id)
            .unwrap_or_else(dir_name),
        env_id: run
            .map(|r| r.row.env_id.clone())
            .or(table.env_id)
            .unwrap_or_else(|| "?".into()),
        seed: run.map(|r| r.row.seed).or(table.seed),
        rows: table.rows,
    });
    Ok(())
}

/// The env options a run recorded (`config_json`'s `"env"`), as text.
fn env_options(run: &Run) -> BTreeMap<String, String> {
    serde_json::from_str::<serde_json::Value>(&run.row.config_json)
        .ok()
        .and_then(|v| v.get("env").and_then(|e| e.as_object()).cloned())
        .map(|options| {
            options
                .into_iter()
                .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs of one env with different env options (`--env-set`: the arcade's
/// compact and pixel views, say) are different tasks and must not be
/// pooled: their env gets the options whose values differ appended,
/// `breakout-v0 [view=pixels]`.
fn disambiguate_envs(runs: &mut [Run]) {
    let mut by_env: BTreeMap<String, Vec<BTreeMap<String, String>>> = BTreeMap::new();
    for run in runs.iter() {
        by_env
            .entry(run.row.env_id.clone())
            .or_default()
            .push(env_options(run));
    }
    for run in runs.iter_mut() {
        let seen = &by_env[&run.row.env_id];
        let options = env_options(run);
        let differing: Vec<String> = options
            .iter()
            .filter(|(key, value)| seen.iter().any(|o| o.get(*key) != Some(*value)))
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        if !differing.is_empty() {
            run.row.env_id = format!("{} [{}]", run.row.env_id, differing.join(", "));
        }
    }
}

/// Runs of one label with different algorithm configs (say, two sweeps
/// with different `--set`s) must not be pooled: such labels get the
/// config's hash appended.
fn disambiguate_labels(runs: &mut [Run]) {
    let mut configs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for run in runs.iter() {
        configs
            .entry(run.label.clone())
            .or_default()
            .insert(run.algorithm_config());
    }
    for run in runs.iter_mut() {
        if configs[&run.label].len() > 1 {
            let hash = fnv1a(run.algorithm_config().as_bytes()) as u32;
            run.label = format!("{} [{hash:08x}]", run.label);
        }
    }
}
