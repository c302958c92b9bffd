//! What a uniform-random player experiences on each arcade game, pinned.
//!
//! Issue 15 matched these statistics to the real ROMs' under the ALE v5
//! protocol (`benches/anchors/`: the anchor script and its figures); the
//! numbers below are ours after that work. They are the same episodes as
//! `harness env-stats --env GAME --episodes 30 --seed 0` (episode `i` reset
//! with `derive_seed(0, 1, i)`, the random policy's draws from
//! `derive_seed(0, 2, 0)`), so the table in `benches/README.md` and this
//! test cannot drift apart, nor can a rule change slip by unnoticed: a
//! change here means the env's version must be bumped.

use trustbench_envs::{Rng, Space, derive_seed, resolve};

/// Episodes per game, as in the anchor table.
const EPISODES: u32 = 30;

/// Total return and total length (agent steps) of the uniform-random
/// policy over `EPISODES` episodes, exactly as `harness env-stats` plays
/// them (totals, not means, so the comparison is exact: arcade rewards are
/// whole points).
fn random_totals(game: &str) -> (i64, u64) {
    let mut env = resolve(game).unwrap().make();
    let mut obs = vec![0.0; env.observation_space().dim()];
    let n = match env.action_space() {
        Space::Discrete { n } => *n as u64,
        other => panic!("{game}: arcade actions are discrete, not {other:?}"),
    };
    let mut rng = Rng::new(derive_seed(0, 2, 0));
    let (mut total, mut steps) = (0.0, 0u64);
    for i in 0..EPISODES {
        env.reset(Some(derive_seed(0, 1, u64::from(i))), &mut obs);
        loop {
            let s = env.step(&[rng.below(n) as f64], &mut obs);
            total += s.reward;
            steps += 1;
            if s.done() {
                break;
            }
        }
    }
    (total as i64, steps)
}

#[test]
fn random_policy_statistics_are_pinned() {
    // (game, total return, total steps) over the 30 episodes; the means are
    // these ÷ 30, next to the real ROM's in the comment (return, length).
    let pinned: [(&str, i64, u64); 7] = [
        ("beamrider", 9516, 40385),     // 317.2 vs 321, 1346.2 vs 1286
        ("breakout", 47, 5789),         // 1.57 vs 1.6, 193.0 vs 195
        ("enduro", 0, 99840),           // 0 vs 0, 3328 vs 3328
        ("pong", -568, 33572),          // −18.93 vs −20.1, 1119.1 vs 935
        ("qbert", 5325, 9506),          // 177.5 vs 148, 316.9 vs 333
        ("seaquest", 1800, 14793),      // 60.0 vs 79, 493.1 vs 538
        ("spaceinvaders", 4230, 17111), // 141.0 vs 149, 570.4 vs 508
    ];
    let mut failures = Vec::new();
    for (game, ret, len) in pinned {
        let (r, l) = random_totals(game);
        let n = f64::from(EPISODES);
        eprintln!(
            "{game}: total return {r}, steps {l} (means {:.4}, {:.4})",
            r as f64 / n,
            l as f64 / n
        );
        if (r, l) != (ret, len) {
            failures.push(format!("{game}: {r} / {l}, pinned {ret} / {len}"));
        }
    }
    assert!(
        failures.is_empty(),
        "random-policy statistics changed (bump the env's version and re-measure): {failures:#?}"
    );
}

/// Enduro pays nothing until you pass a car, and a uniform-random player
/// never does (on the ROM too). What makes it learnable on the ROM is that
/// a player only somewhat keener on the pedal does: pressing a FIRE
/// combination with probability `P_FIRE` (else a uniform action), it
/// passes cars in most episodes (`benches/anchors/ale_enduro.py`
/// measures the same player on the ROM). Returns the total return and,
/// per episode, the agent step of its first pass.
fn enduro_fire_biased(p_fire: f64, episodes: u32) -> (i64, Vec<Option<u64>>) {
    let mut env = resolve("enduro").unwrap().make();
    let mut obs = vec![0.0; env.observation_space().dim()];
    let mut rng = Rng::new(derive_seed(0, 2, 0));
    // ALE's minimal set: FIRE, RIGHTFIRE, LEFTFIRE are 1, 7, 8.
    let fire = [1.0, 7.0, 8.0];
    let (mut total, mut firsts) = (0.0, Vec::new());
    for i in 0..episodes {
        env.reset(Some(derive_seed(0, 1, u64::from(i))), &mut obs);
        let mut first = None;
        for t in 1.. {
            let a = if rng.uniform() < p_fire {
                fire[rng.below(3) as usize]
            } else {
                rng.below(9) as f64
            };
            let s = env.step(&[a], &mut obs);
            total += s.reward;
            if s.reward > 0.0 && first.is_none() {
                first = Some(t);
            }
            if s.done() {
                break;
            }
        }
        firsts.push(first);
    }
    (total as i64, firsts)
}

#[test]
fn enduro_pays_a_player_keener_on_the_pedal_than_random() {
    // The ROM, same player, 10 episodes (`ale_enduro.py`): a pass in every
    // episode, the first at agent steps 93 … 1151, return 0.1 a day (the
    // passes are mostly taken back). Ours, pinned: every episode too.
    let (ret, firsts) = enduro_fire_biased(0.5, 10);
    let firsts: Vec<u64> = firsts
        .into_iter()
        .map(|f| f.expect("a pass in every episode"))
        .collect();
    assert_eq!(
        (ret, firsts),
        (1, vec![114, 439, 377, 2371, 1860, 302, 1843, 1392, 69, 758])
    );
}
