//! The TRPO paper's Table 1, on our games: per game the final returns of
//! the random policy, the env's scripted player, TRPO single path and TRPO
//! vine, beside the figures the paper published for the original Atari
//! 2600 games.
//!
//! The scripted player is not a run: the report plays it on the runs' env
//! (same id and options), from the start states of their evaluation
//! episodes (`env_stats::play`, common random numbers), as many episodes as
//! one evaluation has.

use super::claims::VINE_LABEL;
use super::data::Run;
use super::doc::{Block, Cell, Table, num};
use crate::env_stats::{Policy, play};
use crate::stats::mean;
use anyhow::{Result, anyhow};
use std::collections::BTreeMap;
use trustbench_envs::arcade::GAMES;
use trustbench_envs::{EnvConfig, resolve_spec};

/// One game's row of the paper's Table 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaperScores {
    /// The game's short name in our arcade suite.
    pub game: &'static str,
    /// "Random" (the paper copies it from Mnih et al. 2013).
    pub random: f64,
    /// "TRPO - single path".
    pub single_path: f64,
    /// "TRPO - vine".
    pub vine: f64,
}

/// Schulman et al. 2015, Table 1, as printed (one run per game, no error
/// bars). Checked against the paper's text (arXiv 1502.05477) and against
/// rldb's transcription of it.
pub const PAPER_TABLE_1: &[PaperScores] = &[
    PaperScores {
        game: "beamrider",
        random: 354.0,
        single_path: 1425.2,
        vine: 859.5,
    },
    PaperScores {
        game: "breakout",
        random: 1.2,
        single_path: 10.8,
        vine: 34.2,
    },
    PaperScores {
        game: "enduro",
        random: 0.0,
        single_path: 534.6,
        vine: 430.8,
    },
    PaperScores {
        game: "pong",
        random: -20.4,
        single_path: 20.9,
        vine: 20.9,
    },
    PaperScores {
        game: "qbert",
        random: 157.0,
        single_path: 1973.5,
        vine: 7732.5,
    },
    PaperScores {
        game: "seaquest",
        random: 110.0,
        single_path: 1908.6,
        vine: 788.4,
    },
    PaperScores {
        game: "spaceinvaders",
        random: 179.0,
        single_path: 568.4,
        vine: 450.2,
    },
];

/// Our columns: (header, label of the runs).
const OURS: &[(&str, &str)] = &[
    ("random", "random"),
    ("TRPO single path", "trpo"),
    ("TRPO vine", VINE_LABEL),
];

/// The section, or nothing when no run is on one of the paper's games.
pub fn section(runs: &[Run]) -> Result<Vec<Block>> {
    // Game env (as the report names it) → label → finished runs.
    let mut games: BTreeMap<&str, BTreeMap<&str, Vec<&Run>>> = BTreeMap::new();
    for run in runs.iter().filter(|r| r.ok()) {
        if GAMES.contains(&game_of(run)) {
            games
                .entry(&run.row.env_id)
                .or_default()
                .entry(&run.label)
                .or_default()
                .push(run);
        }
    }
    if games.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    for (env, labels) in &games {
        let any = labels.values().flatten().next().expect("a run");
        let paper = PAPER_TABLE_1
            .iter()
            .find(|p| p.game == game_of(any))
            .expect("every game has a paper row");
        let ours = |label: &str| {
            labels.get(label).map_or("—".to_string(), |rs| {
                let finals: Vec<f64> = rs.iter().filter_map(|r| r.final_return()).collect();
                format!("{} ({})", num(mean(&finals)), finals.len())
            })
        };
        let mut row = vec![Cell::plain(env.to_string()), Cell::plain(ours(OURS[0].1))];
        row.push(Cell::plain(scripted(any)?.map_or("—".to_string(), num)));
        row.extend(OURS[1..].iter().map(|(_, l)| Cell::plain(ours(l))));
        row.extend(
            [paper.random, paper.single_path, paper.vine].map(|x| Cell::plain(format!("{x}"))),
        );
        rows.push(row);
    }
    Ok(vec![
        Block::Heading {
            level: 2,
            id: "table-1".into(),
            text: "Table 1 on our games".into(),
        },
        Block::Table(
            Table::new(
                "Final evaluation return per game: mean over seeds (seeds in brackets) of \
                      the last evaluation, for our random policy, TRPO single path and vine; \
                      the scripted player (a hand-written policy reading the game's state) \
                      played by the report from the same evaluation start states. The last \
                      three columns are the published figures of Schulman et al. (2015), \
                      Trust Region Policy Optimization, Table 1: scores on the original Atari \
                      2600 games (ALE, raw pixels, one run per game, 500 iterations), not on \
                      our games — they share the rules, not the emulator, so compare \
                      orderings, not values. The paper's random row is Mnih et al. (2013)'s.",
            )
            .text("game (ours)")
            .nums(&[OURS[0].0, "scripted", OURS[1].0, OURS[2].0])
            .nums(&["paper: random", "paper: single path", "paper: vine"])
            .rows(rows),
        ),
    ])
}

/// The short name of a run's env (`breakout` for `breakout-v1 [view=compact]`).
fn game_of(run: &Run) -> &'static str {
    let id = run.row.env_id.split(" [").next().unwrap_or_default();
    resolve_spec(id).map_or("", |s| s.short_name())
}

/// The scripted player's mean return on `run`'s env and evaluation starts,
/// or `None` when the env has no scripted player.
fn scripted(run: &Run) -> Result<Option<f64>> {
    let id = run.row.env_id.split(" [").next().unwrap_or_default();
    let spec = resolve_spec(id).map_err(|e| anyhow!(e))?;
    let options: Vec<(String, String)> = run
        .config
        .env
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let env = EnvConfig::new(spec, &options).map_err(|e| anyhow!("{id}: {e}"))?;
    let episodes = run.config.run.eval_episodes;
    Ok(play(&env, Policy::Scripted, episodes, run.row.seed, |_, _, _| {})?.map(|s| s.mean_std().0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil::{recorded_config, synthetic_run};

    fn run(label: &str, env: &str, seed: u64, final_return: f64) -> Run {
        let options = BTreeMap::from([
            ("max_frames".to_string(), "400".to_string()),
            ("preset".to_string(), "2015".to_string()),
        ]);
        let config = recorded_config(Default::default(), Some(options), 2);
        synthetic_run(
            label,
            env,
            seed,
            config,
            vec![(1000.0, final_return)],
            vec![(4, 1.0)],
            &[],
        )
    }

    #[test]
    fn the_paper_table_covers_every_game_once() {
        let games: Vec<&str> = PAPER_TABLE_1.iter().map(|p| p.game).collect();
        assert_eq!(games, GAMES);
    }

    #[test]
    fn one_row_per_game_with_ours_the_scripted_player_and_the_papers() {
        let runs = vec![
            run("random", "breakout-v1", 0, 1.0),
            run("trpo", "breakout-v1", 0, 6.0),
            run("trpo", "breakout-v1", 1, 8.0),
            run("trpo", "cartpole-v0", 0, 500.0),
        ];
        let blocks = section(&runs).unwrap();
        let Block::Table(table) = &blocks[1] else {
            panic!("{blocks:?}")
        };
        assert_eq!(table.rows.len(), 1, "cartpole is not a game of Table 1");
        let cells: Vec<&str> = table.rows[0].iter().map(|c| c.text.as_str()).collect();
        assert_eq!(cells[0], "breakout-v1");
        assert_eq!(cells[1], "1.00 (1)");
        assert!(cells[2].parse::<f64>().is_ok(), "scripted: {}", cells[2]);
        assert_eq!(cells[3], "7.00 (2)");
        assert_eq!(cells[4], "—", "no vine run");
        assert_eq!(&cells[5..], ["1.2", "10.8", "34.2"]);
        assert!(section(&runs[3..]).unwrap().is_empty());
    }
}
