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
        train_at: Vec::new(),
    }
}

/// A finished run of 1,000 steps whose algorithm config is `algorithm`
/// (JSON), with no env options and one episode per evaluation, whose two
/// evaluations, at iterations 2 and 4, return half of `final_return`, then
/// `final_return`, and whose accepted steps had `accepted_kl`.
pub fn finished_run(
    label: &str,
    env: &str,
    seed: u64,
    algorithm: &str,
    final_return: f64,
    accepted_kl: &[f64],
) -> Run {
    let algorithm = serde_json::from_str(algorithm).expect("JSON of an algorithm config");
    synthetic_run(
        label,
        env,
        seed,
        recorded_config(algorithm, None, 1),
        vec![(500.0, final_return / 2.0), (1000.0, final_return)],
        vec![(2, 0.5), (4, 1.0)],
        accepted_kl,
    )
}
