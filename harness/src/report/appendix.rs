//! What a reviewer checks after the results: every run's status, wall
//! clock and throughput; the resolved configs and versions; the methods.

use super::aggregate::RANDOM_ALGORITHM;
use super::data::Run;
use super::doc::{Block, Cell, Table, num};
use super::sections::ByEnv;
use crate::results::RunStatus;
use std::collections::{BTreeMap, BTreeSet};

/// Wall clock and throughput per (algorithm, env), every run folded
/// beneath, and the failures with their errors.
pub fn runs(groups: &ByEnv, runs: &[Run]) -> Vec<Block> {
    let mut blocks = vec![
        Block::Heading {
            level: 2,
            id: "runs".into(),
            text: "Runs: wall clock and throughput".into(),
        },
        Block::Table(throughput_table(groups)),
        Block::Folded {
            summary: format!("Every run ({})", runs.len()),
            blocks: vec![Block::Table(every_run_table(runs))],
        },
    ];
    blocks.extend(failures_table(runs).map(Block::Table));
    blocks
}

/// Env steps per wall-clock second of a run.
fn throughput(r: &Run) -> f64 {
    r.row.env_steps as f64 / r.row.wall_seconds.max(1e-9)
}

/// Per (algorithm, env): finished and failed runs, mean wall clock and
/// throughput of the finished ones.
fn throughput_table(groups: &ByEnv) -> Table {
    let rows = groups
        .iter()
        .flat_map(|(env, labels)| labels.iter().map(move |(l, rs)| (*env, *l, rs)))
        .map(|(env, label, rs)| {
            let ok: Vec<&&Run> = rs.iter().filter(|r| r.ok()).collect();
            let mean = |f: &dyn Fn(&Run) -> f64, show: fn(f64) -> String| {
                if ok.is_empty() {
                    return "—".to_string();
                }
                show(ok.iter().map(|r| f(r)).sum::<f64>() / ok.len() as f64)
            };
            vec![
                Cell::plain(label),
                Cell::plain(env),
                Cell::plain(ok.len().to_string()),
                Cell::plain((rs.len() - ok.len()).to_string()),
                Cell::plain(mean(&|r| r.row.wall_seconds, num)),
                Cell::plain(mean(&throughput, |x| format!("{x:.0}"))),
            ]
        })
        .collect();
    Table::new(
        "Per algorithm and env, over finished runs: wall-clock seconds per run \
         (training and evaluation) and training env steps per wall-clock second. \
         Runs of a sweep share the machine, so compare throughputs within one \
         sweep.",
    )
    .texts(&["algorithm", "env"])
    .nums(&["runs", "failed", "wall s", "steps/s"])
    .rows(rows)
}

/// One row per run.
fn every_run_table(runs: &[Run]) -> Table {
    let rows = runs
        .iter()
        .map(|r| {
            vec![
                Cell::plain(&r.row.run_id),
                Cell::plain(&r.label),
                Cell::plain(&r.row.env_id),
                Cell::plain(r.row.seed.to_string()),
                Cell::plain(r.row.status.as_str()),
                Cell::plain(r.row.env_steps.to_string()),
                Cell::plain(r.row.iterations.to_string()),
                Cell::plain(format!("{:.2}", r.row.wall_seconds)),
                Cell::plain(format!("{:.0}", throughput(r))),
                Cell::plain(r.final_return().map_or("—".into(), num)),
            ]
        })
        .collect();
    Table::new("Every run.")
        .texts(&["run id", "algorithm", "env"])
        .num("seed")
        .text("status")
        .nums(&["env steps", "iterations", "wall s", "steps/s"])
        .num("final return")
        .rows(rows)
}

/// The runs that did not end `ok`, with their errors; `None` when all did.
fn failures_table(runs: &[Run]) -> Option<Table> {
    let failures: Vec<Vec<Cell>> = runs
        .iter()
        .filter(|r| r.row.status != RunStatus::Ok)
        .map(|r| {
            vec![
                Cell::plain(&r.row.run_id),
                Cell::plain(r.row.status.as_str()),
                Cell::plain(r.row.error.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    (!failures.is_empty()).then(|| {
        Table::new(format!(
            "Failed runs ({}), left out of every statistic.",
            failures.len()
        ))
        .texts(&["run id", "status", "error"])
        .rows(failures)
    })
}

/// Per label: the algorithm, its version and library, its resolved config,
/// and the run settings per env; then the versions of everything.
pub fn configs(runs: &[Run]) -> Vec<Block> {
    let mut blocks = vec![Block::Heading {
        level: 2,
        id: "configs".into(),
        text: "Configurations and versions".into(),
    }];
    let mut by_label: BTreeMap<&str, Vec<&Run>> = BTreeMap::new();
    for r in runs {
        by_label.entry(&r.label).or_default().push(r);
    }
    for (label, rs) in &by_label {
        blocks.push(Block::Heading {
            level: 3,
            id: format!("config-{}", blocks.len()),
            text: label.to_string(),
        });
        let algorithms: BTreeSet<String> = rs
            .iter()
            .map(|r| {
                let from = r.row.plugin_path.as_deref().unwrap_or("built-in");
                format!(
                    "algorithm {} {} from {} ({}), plugin ABI {}",
                    r.row.algorithm_id,
                    r.row.algorithm_version,
                    r.row.plugin_library,
                    from,
                    r.row.abi_version
                )
            })
            .collect();
        blocks.push(Block::List(algorithms.into_iter().collect()));
        blocks.push(Block::Code(pretty(&rs[0].algorithm_config())));
        let settings: BTreeSet<Vec<String>> = rs
            .iter()
            .map(|r| {
                let run = r.config.run;
                vec![
                    r.row.env_id.clone(),
                    r.row.step_budget.to_string(),
                    run.num_envs.to_string(),
                    run.eval_every.to_string(),
                    run.eval_episodes.to_string(),
                ]
            })
            .collect();
        blocks.push(Block::Table(
            Table::new(format!("Run settings of {label}."))
                .text("env")
                .nums(&["step budget", "env copies", "eval every", "eval episodes"])
                .rows(
                    settings
                        .into_iter()
                        .map(|row| row.into_iter().map(Cell::plain).collect())
                        .collect(),
                ),
        ));
    }
    let harnesses: BTreeSet<&str> = runs
        .iter()
        .map(|r| r.row.harness_version.as_str())
        .collect();
    let envs: BTreeSet<&str> = runs.iter().map(|r| r.row.env_id.as_str()).collect();
    blocks.push(Block::List(vec![
        format!(
            "Report written by harness {}; runs made by harness {}.",
            env!("CARGO_PKG_VERSION"),
            harnesses.into_iter().collect::<Vec<_>>().join(", ")
        ),
        format!(
            "Env versions (the id's -vN; results of one version never change): {}.",
            envs.into_iter().collect::<Vec<_>>().join(", ")
        ),
    ]));
    blocks
}

fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| json.to_string())
}

/// How every number was computed.
pub fn methods() -> Vec<Block> {
    vec![
        Block::Heading {
            level: 2,
            id: "methods".into(),
            text: "Methods".into(),
        },
        Block::List(vec![
            "Evaluation: every so often during training, and at the end, the harness plays \
             the deterministic policy for a fixed number of episodes from start states that \
             are the same at every evaluation; a run's final performance is its last \
             evaluation's mean return."
                .into(),
            "Seeds: every random stream of a run derives from its seed, so a run is \
             reproducible bit for bit; seeds are the unit of replication in every interval."
                .into(),
            "Learning-curve bands: percentile bootstrap of the mean over seeds (Efron & \
             Tibshirani 1993), resampling whole curves."
                .into(),
            "Final-performance intervals: Student-t, mean ± t(0.975, n−1)·s/√n; with the few \
             seeds RL affords, the percentile bootstrap would be too narrow."
                .into(),
            "Significance: Welch's unequal-variance t-test of each algorithm against the best, \
             two-sided, with Welch–Satterthwaite degrees of freedom (as in Duan et al. 2016)."
                .into(),
            format!(
                "Normalised scores: random = 0 (the {RANDOM_ALGORITHM} algorithm's mean final \
                 return on that env, or a published random score), reference = 1."
            ),
            "Aggregates (Agarwal et al. 2021): interquartile mean of all runs' normalised \
             scores; performance profiles; probability of improvement (Mann–Whitney, ties \
             half), all with stratified-bootstrap percentile intervals. Bootstrap streams are \
             seeded, so the report is reproducible."
                .into(),
        ]),
    ]
}
