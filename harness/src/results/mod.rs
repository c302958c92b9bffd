//! Results on disk: a run's Parquet tables (`runs`, `metrics` in long
//! format, `episodes`), the `harness check cg` table, a sweep's label
//! manifest, and the typed values stored in them. One file per table in
//! the run's directory, so readers merge many runs with a glob
//! (`DIR/*/metrics.parquet`).
//!
//! `runs.parquet` is written last and marks a finished run. The schema
//! version is stored in the Parquet key-value metadata under
//! [`SCHEMA_VERSION_KEY`].
//!
//! - [`rows`]: the rows in memory; [`write`]: atomic Parquet writes;
//!   [`read`]: reading them back; [`manifest`]: `sweep.json`.

pub mod manifest;
pub mod read;
pub mod rows;
pub mod write;

pub use manifest::{MANIFEST_FILE, ManifestRun, labels, planned_runs, record_runs};
pub use read::{read_check_cg, read_metrics, read_run, read_train_returns};
pub use rows::{CgTable, EnvProviderRecord, EpisodeRow, MetricRow, Phase, RunLog, RunRow};
pub use write::{
    write_bytes_atomically, write_check_cg, write_episodes, write_metrics, write_runs,
};

use anyhow::{Result, anyhow};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Key of the schema version in each file's key-value metadata.
pub const SCHEMA_VERSION_KEY: &str = "trustbench.schema_version";
/// Version of the three tables' schema; bump on any column change.
/// 2: the `runs` table records the CPU (`cpu_model`, `cpu_features`;
/// readers accept files without them). 3: the `runs` table records the
/// env's provider library (`env_provider`, `env_provider_version`,
/// `env_provider_path`; null for the harness's own envs, absent before).
pub const SCHEMA_VERSION: &str = "3";
/// File name of the `runs` table in a run directory.
pub const RUNS_FILE: &str = "runs.parquet";
/// File name of the `metrics` table in a run directory.
pub const METRICS_FILE: &str = "metrics.parquet";
/// File name of the `harness check cg` table.
pub const CHECK_CG_FILE: &str = "check_cg.parquet";
/// File name of the `episodes` table in a run directory.
pub const EPISODES_FILE: &str = "episodes.parquet";

/// Metric: the mean return of an evaluation's episodes (deterministic policy).
pub const EVAL_RETURN_MEAN: &str = "eval/return_mean";
/// Metric: their population standard deviation.
pub const EVAL_RETURN_STD: &str = "eval/return_std";
/// Metric: their mean length.
pub const EVAL_LENGTH_MEAN: &str = "eval/length_mean";

/// File name of the final policy (the plugin's `save` bytes) in a run directory.
pub const POLICY_FILE: &str = "policy.bin";

/// How a run ended: the `status` column of the `runs` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// Trained to its budget and evaluated.
    Ok,
    /// Stopped by an error the harness caught (the `error` column says which).
    Failed,
    /// Its process died: killed by a signal (a segfault, `abort`) or exited
    /// without writing results; recorded by the sweep that started it.
    Crashed,
    /// Stopped for running past the sweep's `--timeout`.
    Timeout,
    /// Its process ran out of memory: it died at the sweep's `--mem-limit`
    /// or was killed under Slurm's `--mem` (the error names the limit).
    Oom,
    /// Stopped from outside (SIGINT, SIGTERM: Ctrl-C, Slurm's time limit or
    /// `scancel`) before its budget was spent.
    Interrupted,
}

impl RunStatus {
    /// Every status, for parsing and for messages listing the valid ones.
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Ok,
        RunStatus::Failed,
        RunStatus::Crashed,
        RunStatus::Timeout,
        RunStatus::Oom,
        RunStatus::Interrupted,
    ];

    /// The text stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Crashed => "crashed",
            RunStatus::Timeout => "timeout",
            RunStatus::Oom => "oom",
            RunStatus::Interrupted => "interrupted",
        }
    }

    /// Whether a rerun of its sweep leaves it alone (unless told to retry
    /// failures). An interrupted run was stopped from outside, not by its
    /// own doing, so it counts as unfinished: resubmitting a sweep after a
    /// preemption redoes exactly those runs.
    pub fn is_final(self) -> bool {
        self != RunStatus::Interrupted
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RunStatus {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<RunStatus> {
        RunStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                let valid: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
                anyhow!("unknown run status '{text}'; valid: {}", valid.join(", "))
            })
    }
}

/// The `config_json` column: everything that configured a run, typed.
///
/// Fields are declared in alphabetical order, the order `serde_json` writes
/// an object's keys in, so the text (and the run id hashed from it) is the
/// same as when it was built as a JSON object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedConfig {
    /// The algorithm's resolved config.
    pub algorithm: Map<String, Value>,
    /// Every declared env option's resolved value; absent for envs without
    /// options, so their run ids did not change when options were added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    /// The harness's own settings for the run.
    pub run: RunSettings,
}

/// The harness settings recorded with a run (`config_json`'s `"run"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSettings {
    /// Episodes per evaluation.
    pub eval_episodes: u32,
    /// Env steps between evaluations (0: only at the end).
    pub eval_every: u64,
    /// Env copies stepped together.
    pub num_envs: u32,
}

impl RecordedConfig {
    /// Parse a `config_json` value.
    pub fn parse(text: &str) -> Result<RecordedConfig> {
        serde_json::from_str(text).map_err(|e| anyhow!("config_json is not a recorded config: {e}"))
    }

    /// The text stored in the `config_json` column.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a map of JSON values always serialises")
    }

    /// The env options as `(key, value)` pairs, to rebuild the same env.
    pub fn env_options(&self) -> Vec<(String, String)> {
        self.env
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// FNV-1a, 64-bit: a hash that stays the same across Rust versions and
/// machines (unlike `std`'s), for run ids and labels stored on disk.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_unknown_ones_name_the_valid() {
        for s in RunStatus::ALL {
            assert_eq!(s.as_str().parse::<RunStatus>().unwrap(), s);
        }
        let e = "okay".parse::<RunStatus>().unwrap_err().to_string();
        assert!(
            e.contains("'okay'") && e.contains("ok, failed, crashed, timeout, oom, interrupted"),
            "{e}"
        );
    }

    #[test]
    fn recorded_config_text_is_a_json_object_in_key_order() {
        let config = RecordedConfig {
            algorithm: serde_json::from_str(r#"{"b": 1, "a": [2]}"#).unwrap(),
            env: Some(BTreeMap::from([("view".into(), "pixels".into())])),
            run: RunSettings {
                eval_episodes: 10,
                eval_every: 5000,
                num_envs: 8,
            },
        };
        let text = config.to_json();
        // The same text as building the object with `serde_json::json!`.
        let object = serde_json::json!({
            "algorithm": config.algorithm,
            "run": {"num_envs": 8, "eval_every": 5000, "eval_episodes": 10},
            "env": {"view": "pixels"},
        });
        assert_eq!(text, object.to_string());
        assert_eq!(RecordedConfig::parse(&text).unwrap(), config);
        let plain = RecordedConfig {
            env: None,
            ..config
        };
        assert!(!plain.to_json().contains("\"env\""));
        assert!(RecordedConfig::parse("{}").is_err());
    }
}
