//! Finding and reading what a report covers below the given directories:
//! every run (a directory holding `runs.parquet`), labelled from the sweep
//! manifests found on the way, and every `harness check cg` table (in a run
//! directory, or in a directory of its own).

use crate::results::{
    self, CHECK_CG_FILE, CgTable, MANIFEST_FILE, MetricRow, RUNS_FILE, RecordedConfig, RunRow,
    RunStatus, labels, stable_hash,
};
use anyhow::{Result, bail};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use trustbench_plugin::metrics;

/// The metric a learning curve plots.
pub const EVAL_METRIC: &str = results::EVAL_RETURN_MEAN;
/// The mean KL(π_old ‖ π_new) of an update, as the natural-gradient
/// plugins (TRPO, NPG) log it.
pub const KL_METRIC: &str = metrics::MEAN_KL;
/// 1 when TRPO's line search accepted the step, 0 when it kept θ_old.
pub const ACCEPTED_METRIC: &str = metrics::STEP_ACCEPTED;
/// The mean return of the training episodes an iteration finished: the
/// measure per iteration that every run has, however sparse its
/// evaluations.
pub const TRAIN_RETURN_METRIC: &str = metrics::EPISODE_RETURN_MEAN;

/// One run as the report sees it.
#[derive(Debug, Clone)]
pub struct Run {
    /// Its `runs` row, except that `env_id` is the env as the report names
    /// it: the id, with the env options that tell runs apart appended
    /// (see [`disambiguate_envs`]).
    pub row: RunRow,
    /// Its `config_json`, parsed.
    pub config: RecordedConfig,
    /// Its group's label: the sweep's variant name, else the algorithm id,
    /// with a config hash appended when one label covers several configs.
    pub label: String,
    /// `(env steps, mean evaluation return)` at each evaluation.
    pub eval: Vec<(f64, f64)>,
    /// `(training iteration, wall seconds)` at each evaluation, parallel
    /// to `eval`: the axes of comparisons per iteration and per second.
    pub eval_at: Vec<(u64, f64)>,
    /// The mean KL of every step TRPO's line search accepted (empty for
    /// algorithms that log no [`ACCEPTED_METRIC`]).
    pub accepted_kl: Vec<f64>,
    /// `(env steps at its end, return)` of every training episode.
    pub train: Vec<(f64, f64)>,
    /// `(training iteration, mean return of the training episodes it
    /// finished)`, for the iterations that finished one.
    pub train_at: Vec<(u64, f64)>,
}

/// One `harness check cg` table as the report shows it.
#[derive(Debug, Clone)]
pub struct LabelledCgTable {
    /// The run's label, else the algorithm id the table names, else its
    /// directory's name.
    pub label: String,
    /// The env as the report names it (`?` when unknown).
    pub env_id: String,
    /// The table; its env and seed are the run's when it sits in a run's
    /// directory.
    pub table: CgTable,
}

impl Run {
    /// Whether it finished without error and was evaluated.
    pub fn ok(&self) -> bool {
        self.row.status == RunStatus::Ok && !self.eval.is_empty()
    }

    /// The return of its last evaluation.
    pub fn final_return(&self) -> Option<f64> {
        self.eval.last().map(|&(_, r)| r)
    }

    /// The algorithm part of its resolved config, as JSON text.
    pub fn algorithm_config(&self) -> String {
        serde_json::Value::Object(self.config.algorithm.clone()).to_string()
    }
}

/// The runs and checks under some directories, and what went wrong
/// reading them.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Runs sorted by env, label and seed.
    pub runs: Vec<Run>,
    /// CG checks sorted by env, label and seed.
    pub checks: Vec<LabelledCgTable>,
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
    disambiguate_envs(&mut loaded.runs);
    disambiguate_labels(&mut loaded.runs);
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
    loaded.checks.sort_by(|a, b| {
        (&a.env_id, &a.label, a.table.seed).cmp(&(&b.env_id, &b.label, b.table.seed))
    });
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
    let row = results::read_run(dir)?;
    let (mut eval, mut eval_at, mut accepted_kl) = (Vec::new(), Vec::new(), Vec::new());
    let (mut train, mut train_at) = (Vec::new(), Vec::new());
    if row.status == RunStatus::Ok {
        train = results::read_train_returns(dir)?;
        let [evals, kls, accepted, train_returns]: [Vec<MetricRow>; 4] = results::read_metrics(
            dir,
            &[EVAL_METRIC, KL_METRIC, ACCEPTED_METRIC, TRAIN_RETURN_METRIC],
        )?
        .try_into()
        .expect("one series per name");
        train_at = train_returns
            .iter()
            .map(|m| (m.iteration, m.value))
            .collect();
        eval = evals
            .iter()
            .map(|m| (m.env_steps as f64, m.value))
            .collect();
        eval_at = evals
            .iter()
            .map(|m| (m.iteration, m.wall_seconds))
            .collect();
        // Both are logged once per update; an accepted update is one whose
        // iteration logged accepted = 1.
        let accepted: BTreeSet<u64> = accepted
            .iter()
            .filter(|m| m.value == 1.0)
            .map(|m| m.iteration)
            .collect();
        accepted_kl = kls
            .iter()
            .filter(|m| accepted.contains(&m.iteration))
            .map(|m| m.value)
            .collect();
    }
    let config = RecordedConfig::parse(&row.config_json)?;
    Ok(Run {
        config,
        label: manifest_labels
            .get(&row.run_id)
            .cloned()
            .unwrap_or_else(|| row.algorithm_id.clone()),
        eval,
        eval_at,
        accepted_kl,
        train,
        train_at,
        row,
    })
}

/// The CG check in `dir`, named after the run in the same directory when
/// there is one.
fn read_check(dir: &Path, runs: &[Run], checks: &mut Vec<LabelledCgTable>) -> Result<()> {
    let Some(table) = results::read_check_cg(dir)? else {
        return Ok(());
    };
    let run_id = dir
        .join(RUNS_FILE)
        .is_file()
        .then(|| results::read_run(dir))
        .transpose()?;
    let run = run_id.and_then(|row| runs.iter().find(|r| r.row.run_id == row.run_id));
    let dir_name = || {
        dir.file_name()
            .map_or("?".into(), |n| n.to_string_lossy().into_owned())
    };
    let mut table = table;
    if let Some(run) = run {
        table.seed = Some(run.row.seed);
    }
    checks.push(LabelledCgTable {
        label: run
            .map(|r| r.label.clone())
            .or_else(|| table.algorithm_id.clone())
            .unwrap_or_else(dir_name),
        env_id: run
            .map(|r| r.row.env_id.clone())
            .or_else(|| table.env_id.clone())
            .unwrap_or_else(|| "?".into()),
        table,
    });
    Ok(())
}

/// The env options a run recorded.
fn env_options(run: &Run) -> BTreeMap<String, String> {
    run.config.env.clone().unwrap_or_default()
}

/// Runs of one env with different env options (`--env-set`: the arcade's
/// compact and pixel views, say) are different tasks and must not be
/// pooled: their env gets the options whose values differ appended,
/// `breakout-v1 [view=pixels]`.
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

/// Runs of one label on one env with different algorithm configs (say,
/// two sweeps with different `--set`s) must not be pooled: such labels get
/// the config's hash appended. A label may have a config per env (the
/// paper's batch sizes differ per env): runs of different envs are never
/// pooled anyway.
fn disambiguate_labels(runs: &mut [Run]) {
    let mut configs: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for run in runs.iter() {
        configs
            .entry((run.row.env_id.clone(), run.label.clone()))
            .or_default()
            .insert(run.algorithm_config());
    }
    for run in runs.iter_mut() {
        if configs[&(run.row.env_id.clone(), run.label.clone())].len() > 1 {
            let hash = stable_hash(run.algorithm_config().as_bytes()) as u32;
            run.label = format!("{} [{hash:08x}]", run.label);
        }
    }
}
