//! Names of the metrics that one side logs and another reads: a plugin
//! logs them through [`crate::Host::log`], and the harness (its report, its
//! checks, its tests) looks them up by the same constant, so a rename is a
//! build error rather than a claim that silently turns inconclusive.
//!
//! A metric only one side knows (an algorithm's diagnostics, say
//! `train/entropy`) may stay a literal where it is logged.

/// The mean KL(π_old ‖ π_new) of an update, as the natural-gradient
/// plugins (TRPO, NPG) log it; the report checks TRPO's against δ.
pub const MEAN_KL: &str = "train/mean_kl";
/// 1 when TRPO's line search accepted the step, 0 when it kept θ_old.
pub const STEP_ACCEPTED: &str = "train/step_accepted";
/// Rows of a vine batch (TRPO with `sampling = "vine"`).
pub const VINE_ROWS: &str = "train/vine_rows";
/// Mean reward per env step of an iteration (the random baseline's, and
/// the C example plugin's).
pub const MEAN_REWARD_PER_STEP: &str = "train/mean_reward_per_step";
/// The mean return of the training episodes an iteration finished (logged
/// by the harness).
pub const EPISODE_RETURN_MEAN: &str = "train/episode_return_mean";
/// How many training episodes an iteration finished (logged by the harness).
pub const EPISODES: &str = "train/episodes";
