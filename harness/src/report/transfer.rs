//! How far conclusions drawn on our fast envs carry over to the standard
//! benchmarks: each native task beside its standard counterpart (MuJoCo
//! v5 through Gymnasium, the Atari ROMs through ALE).
//!
//! The pairs are data here, one place for both sides of the comparison:
//! `reproduce`'s standard suites run the standard member of each pair,
//! and the report matches runs by them.

/// Native locomotion task (short name) ↔ its MuJoCo v5 env in Gymnasium.
pub const LOCOMOTION_PAIRS: &[(&str, &str)] = &[
    ("swimmer", "gym:Swimmer-v5"),
    ("hopper", "gym:Hopper-v5"),
    ("walker", "gym:Walker2d-v5"),
];

/// Native arcade game (short name, as in [`super::claims::GAMES`]) ↔ its
/// ROM in ALE through Gymnasium.
pub const GAME_PAIRS: &[(&str, &str)] = &[
    ("beamrider", "gym:ALE/BeamRider-v5"),
    ("breakout", "gym:ALE/Breakout-v5"),
    ("enduro", "gym:ALE/Enduro-v5"),
    ("pong", "gym:ALE/Pong-v5"),
    ("qbert", "gym:ALE/Qbert-v5"),
    ("seaquest", "gym:ALE/Seaquest-v5"),
    ("spaceinvaders", "gym:ALE/SpaceInvaders-v5"),
];

/// The standard env paired with native task `short` (`hopper` →
/// `gym:Hopper-v5`), if any.
pub fn standard_of(short: &str) -> Option<&'static str> {
    LOCOMOTION_PAIRS
        .iter()
        .chain(GAME_PAIRS)
        .find(|(native, _)| *native == short)
        .map(|(_, standard)| *standard)
}

/// The native task (short name) paired with standard env id `id`
/// (`gym:Hopper-v5` → `hopper`), if any. Matched on the id as runs record
/// it, without loading the env's provider, so a report needs no Python.
pub fn native_of(id: &str) -> Option<&'static str> {
    LOCOMOTION_PAIRS
        .iter()
        .chain(GAME_PAIRS)
        .find(|(_, standard)| *standard == id)
        .map(|(native, _)| *native)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::claims::GAMES;

    #[test]
    fn every_game_and_locomotion_task_has_one_standard_counterpart() {
        let games: Vec<&str> = GAME_PAIRS.iter().map(|p| p.0).collect();
        assert_eq!(games, GAMES);
        for (native, standard) in LOCOMOTION_PAIRS.iter().chain(GAME_PAIRS) {
            assert_eq!(standard_of(native), Some(*standard));
            assert_eq!(native_of(standard), Some(*native));
        }
        assert_eq!(standard_of("cartpole"), None);
        assert_eq!(native_of("hopper-v0"), None);
    }
}
