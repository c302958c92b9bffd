//! The rows of the results tables, in memory: what a run records before
//! it is written out, and what readers get back.

use super::RunStatus;
use trustbench_policy::exact::ExactRow;

/// Whether an episode was collected by training or by evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Sampled by the plugin through the host while training.
    Train,
    /// Played by the harness with the deterministic policy.
    Eval,
}

impl Phase {
    /// The value stored in the `phase` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Train => "train",
            Phase::Eval => "eval",
        }
    }
}

/// One finished episode.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeRow {
    /// Train or eval.
    pub phase: Phase,
    /// Training env steps spent when it ended (for eval: when it was run).
    pub env_steps: u64,
    /// Seconds since the run started (wall clock: not reproducible).
    pub wall_seconds: f64,
    /// Undiscounted sum of rewards.
    pub episode_return: f64,
    /// Number of steps.
    pub length: u64,
    /// Ended by a true end.
    pub terminated: bool,
    /// Ended by the time limit.
    pub truncated: bool,
}

/// One scalar metric.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// Training iteration (1-based; 0 before the first).
    pub iteration: u64,
    /// Training env steps spent when it was logged.
    pub env_steps: u64,
    /// Seconds since the run started (wall clock: not reproducible).
    pub wall_seconds: f64,
    /// Namespaced name, e.g. `eval/return_mean`.
    pub name: String,
    /// Any finite or non-finite f64 (a plugin's NaN is stored as NaN, not
    /// dropped, so the problem stays visible).
    pub value: f64,
}

/// Everything a run recorded.
#[derive(Debug, Clone, Default)]
pub struct RunLog {
    /// Metrics in logging order.
    pub metrics: Vec<MetricRow>,
    /// Episodes in the order they ended.
    pub episodes: Vec<EpisodeRow>,
}

/// The one row of the `runs` table.
#[derive(Debug, Clone)]
pub struct RunRow {
    /// Deterministic id: same algorithm, env, seed and config → same id.
    pub run_id: String,
    /// How it ended.
    pub status: RunStatus,
    /// Why it failed.
    pub error: Option<String>,
    /// Algorithm id.
    pub algorithm_id: String,
    /// Algorithm version.
    pub algorithm_version: String,
    /// Name of the library that provided it.
    pub plugin_library: String,
    /// Path of the plugin file; `None` for built-ins.
    pub plugin_path: Option<String>,
    /// ABI version the plugin was built against, `major.minor`.
    pub abi_version: String,
    /// Versioned env id.
    pub env_id: String,
    /// The library that provided the env; `None` for the harness's own envs.
    pub env_provider: Option<EnvProviderRecord>,
    /// Run seed.
    pub seed: u64,
    /// Env copies stepped together.
    pub num_envs: u64,
    /// Env-step budget.
    pub step_budget: u64,
    /// Env steps actually spent.
    pub env_steps: u64,
    /// Training iterations completed.
    pub iterations: u64,
    /// The fully resolved config as JSON (the run's own settings included).
    pub config_json: String,
    /// Version of the harness that ran it.
    pub harness_version: String,
    /// CPU model it ran on (`None` in tables written before it was recorded).
    pub cpu_model: Option<String>,
    /// The CPU's vector extensions, space-separated (likewise optional).
    pub cpu_features: Option<String>,
    /// What the plugin ran on beyond its own code, a JSON object: for a
    /// Python plugin the interpreter's version and path, the virtual
    /// environment and the script's SHA-256. `None` for native plugins
    /// (and in tables written before it was recorded).
    pub plugin_runtime: Option<String>,
    /// Start, microseconds since the Unix epoch (UTC).
    pub start_time_us: i64,
    /// End, microseconds since the Unix epoch (UTC).
    pub end_time_us: i64,
    /// Wall-clock duration.
    pub wall_seconds: f64,
}

/// Which env-provider library a run's env came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvProviderRecord {
    /// The library's name.
    pub library: String,
    /// The library's version.
    pub version: String,
    /// Where it was loaded from.
    pub path: String,
}

/// A `check_cg.parquet` table (written by `harness check cg`): the
/// plugin's CG iterates on one batch against the exact dense solve.
#[derive(Debug, Clone, PartialEq)]
pub struct CgTable {
    /// The algorithm checked (`None` in tables written without the column).
    pub algorithm_id: Option<String>,
    /// The env the batch came from, likewise optional.
    pub env_id: Option<String>,
    /// The seed, likewise optional.
    pub seed: Option<u64>,
    /// One row per CG iteration, the first iteration first.
    pub rows: Vec<ExactRow>,
}
