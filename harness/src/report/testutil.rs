//! Synthetic runs for the report's unit tests.

use super::data::Run;
use crate::results::{RecordedConfig, RunRow, RunSettings, RunStatus};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A run's recorded config: `algorithm`'s keys, `env`'s options, one env
/// copy, evaluated every 500 steps over `eval_episodes` episodes.
pub fn recorded_config(
    algorithm: Map<String, Value>,
    env: Option<BTreeMap<String, String>>,
    eval_episodes: u32,
) -> RecordedConfig {
    RecordedConfig {
        algorithm,
        env,
        run: RunSettings {
            eval_episodes,
            eval_every: 500,
            num_envs: 1,
        },
    }
}

/// A finished run labelled `label` (its algorithm id is the label's part
/// before any `-`) on `env` with `seed`, recorded with `config`, of 1,000
/// env steps in 4 iterations, evaluated as `eval` (env steps, return) at
/// `eval_at` (iteration, wall seconds).
pub fn synthetic_run(
    label: &str,
    env: &str,
    seed: u64,
    config: RecordedConfig,
    eval: Vec<(f64, f64)>,
    eval_at: Vec<(u64, f64)>,
    accepted_kl: &[f64],
) -> Run {
    Run {
        row: RunRow {
            run_id: format!("{label}-{env}-s{seed}"),
            status: RunStatus::Ok,
            error: None,
            algorithm_id: label.split('-').next().unwrap().into(),
            algorithm_version: "1".into(),
            plugin_library: "builtin".into(),
            plugin_path: None,
            env_provider: None,
            abi_version: "1.0".into(),
            env_id: env.into(),
            seed,
            num_envs: 1,
            step_budget: 1000,
            env_steps: 1000,
            iterations: 4,
            config_json: config.to_json(),
            harness_version: "0".into(),
            cpu_model: None,
            cpu_features: None,
            plugin_runtime: None,
            start_time_us: 0,
            end_time_us: 0,
            wall_seconds: 1.0,
        },
        config,
        label: label.into(),
        eval,
        eval_at,
        accepted_kl: accepted_kl.to_vec(),
        train: Vec::new(),
    }
}
