//! Every random stream the harness draws from, in one list.
//!
//! A run has one seed; each consumer derives its own with
//! `derive_seed(run_seed, STREAM, index)`. Two consumers on one stream would
//! draw correlated numbers (before this list existed, evaluation episode 0
//! and every plugin's policy initialisation shared a seed), so each stream
//! is named once here and a test checks they are pairwise distinct.
//!
//! The plugin gets [`PLUGIN`]'s seed as `tb_host.seed` and derives its own
//! streams from that: whatever stream numbers a plugin picks, it draws from a
//! seed space no harness stream can reach.
//!
//! The list lives here, beside the envs, rather than in the harness, so that
//! everything else that must reproduce a run's seeds (the Python package's
//! vector envs) calls this code instead of copying the numbers.

use crate::derive_seed;

/// Training env copy `i` resets from `derive_seed(seed, TRAIN_ENVS, i)`.
pub const TRAIN_ENVS: u64 = 0;
/// Evaluation episode `i` starts from `derive_seed(seed, EVAL_EPISODES, i)`
/// (also `harness render` and `harness env-stats`, so they replay it).
pub const EVAL_EPISODES: u64 = 1;
/// The draws of `harness env-stats`' uniform-random policy.
pub const RANDOM_POLICY: u64 = 2;
/// The seed handed to the plugin (`tb_host.seed`).
pub const PLUGIN: u64 = 3;

/// Every stream above, for the distinctness test and for readers.
pub const ALL: [(&str, u64); 4] = [
    ("TRAIN_ENVS", TRAIN_ENVS),
    ("EVAL_EPISODES", EVAL_EPISODES),
    ("RANDOM_POLICY", RANDOM_POLICY),
    ("PLUGIN", PLUGIN),
];

/// The seed that evaluation episode `i` of a run seeded `seed` resets its
/// env with. `harness render` and `harness env-stats` start their episodes
/// from the same seeds, so `render --run` replays a run's evaluation.
pub fn eval_episode_seed(seed: u64, i: u32) -> u64 {
    derive_seed(seed, EVAL_EPISODES, u64::from(i))
}

/// The seed a plugin instance is given for a run seeded `seed`.
pub fn plugin_seed(seed: u64) -> u64 {
    derive_seed(seed, PLUGIN, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn streams_are_pairwise_distinct() {
        let mut seen = HashSet::new();
        for (name, stream) in ALL {
            assert!(
                seen.insert(stream),
                "stream {name} = {stream} is used twice"
            );
        }
    }

    #[test]
    fn the_plugin_seed_meets_no_env_seed() {
        // The first seeds of every env-facing stream, for a few run seeds.
        for run in 0..8 {
            let plugin = plugin_seed(run);
            assert_ne!(plugin, run, "the plugin must not get the run seed itself");
            for i in 0..64 {
                for stream in [TRAIN_ENVS, EVAL_EPISODES, RANDOM_POLICY] {
                    assert_ne!(plugin, derive_seed(run, stream, i));
                }
            }
        }
    }
}
