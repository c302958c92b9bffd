//! What a run records in memory before it is written out.

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
    /// Value.
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
