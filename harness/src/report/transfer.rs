//! How far conclusions drawn on our fast envs carry over to the standard
//! benchmarks: each native task beside its standard counterpart (MuJoCo
//! v5 through Gymnasium, the Atari ROMs through ALE).
//!
//! The pairs are data here, one place for both sides of the comparison:
//! `reproduce`'s standard suites run the standard member of each pair,
//! and the report matches runs by them.
//!
//! The section ([`section`]), when a report covers both members of some
//! pair, compares the two sides on the tasks run on both:
//! - each claim of [`TRPO_2015`] judged twice, on our envs and on the
//!   standard ones (the claims are keyed by native short names; a standard
//!   env stands for its native task);
//! - per pair, Kendall's τ-b between the algorithms' mean final returns
//!   on the two sides, with a percentile-bootstrap interval over seeds
//!   ([`crate::stats::kendall`]);
//! - per game, random and TRPO on our game beside the ROM;
//! - one sentence per task, generated from those numbers.

use super::claims::{self, Assessment, TRPO_2015};
use super::data::Run;
use super::doc::{Block, Cell, Table, num};
use super::verdict::{DECISIVE_SEEDS, Direction, VERDICT_REPS, Verdict, judge};
use crate::results::stable_hash;
use crate::stats::bootstrap::Bootstrap;
use crate::stats::kendall::tau_interval;
use crate::stats::mean;
use std::collections::{BTreeMap, BTreeSet};

/// Native locomotion task (short name) ↔ its MuJoCo v5 env in Gymnasium.
pub const LOCOMOTION_PAIRS: &[(&str, &str)] = &[
    ("swimmer", "gym:Swimmer-v5"),
    ("hopper", "gym:Hopper-v5"),
    ("walker", "gym:Walker2d-v5"),
];

/// Native arcade game (short name, as in [`trustbench_envs::arcade::GAMES`]) ↔ its
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

/// τ above this (its whole interval, for "carries over") counts as the
/// same ranking: more than three in four pairs of algorithms in the same
/// order ((1 + τ)/2 of the pairs are concordant without ties).
const TAU_AGREES: f64 = 0.5;

/// The native task a native env (as the report names it) is, when it is
/// one member of a pair; never loads a provider for a `gym:` id.
fn native_task(env_id: &str) -> Option<&'static str> {
    if env_id.starts_with(crate::provider::GYM_PREFIX) {
        return None;
    }
    claims::short_name(env_id).filter(|t| standard_of(t).is_some())
}

/// The native task a standard env (as the report names it) stands for.
fn standard_task(env_id: &str) -> Option<&'static str> {
    native_of(env_id.split(" [").next().unwrap_or_default())
}

/// One side of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Native,
    Standard,
}

impl Side {
    fn task(self, env_id: &str) -> Option<&'static str> {
        match self {
            Side::Native => native_task(env_id),
            Side::Standard => standard_task(env_id),
        }
    }
}

/// Finished runs of one side by task, then label.
type ByTask<'a> = BTreeMap<&'static str, BTreeMap<&'a str, Vec<&'a Run>>>;

fn by_task(runs: &[Run], side: Side) -> ByTask<'_> {
    let mut by: ByTask = BTreeMap::new();
    for r in runs.iter().filter(|r| r.ok() && r.final_return().is_some()) {
        if let Some(task) = side.task(&r.row.env_id) {
            by.entry(task)
                .or_default()
                .entry(&r.label)
                .or_default()
                .push(r);
        }
    }
    by
}

/// A claim's verdict from the rows it has (parts not run on these runs
/// left out), `None` without rows.
fn verdict_of(a: &Assessment) -> Option<Verdict> {
    (!a.rows.is_empty()).then(|| Verdict::all(a.rows.iter().map(|r| r.verdict)))
}

/// The claims judged on `runs` of `side`, only on `tasks`.
fn assess(runs: &[Run], side: Side, tasks: &BTreeSet<&'static str>) -> Vec<Assessment> {
    let task = |env: &str| side.task(env).filter(|t| tasks.contains(t));
    let runs: Vec<Run> = runs
        .iter()
        .filter(|r| task(&r.row.env_id).is_some())
        .cloned()
        .collect();
    claims::assess_on(TRPO_2015, &runs, &task)
}

/// A claim's verdict as a cell: `not run` when not judged.
fn verdict_cell(a: &Assessment) -> Cell {
    match verdict_of(a) {
        None => Cell::plain("not run"),
        Some(v) => {
            let short = a.rows.iter().any(|r| !r.settings.at_paper());
            let text = if short {
                format!("{} below the paper's settings", v.as_str())
            } else {
                v.as_str().to_string()
            };
            Cell::marked(text, v == Verdict::Supported)
        }
    }
}

/// How two verdicts of one claim compare.
fn agreement(a: Option<Verdict>, b: Option<Verdict>) -> &'static str {
    match (a, b) {
        (Some(x), Some(y)) if x == y => "same",
        (Some(Verdict::Supported), Some(Verdict::Contradicted))
        | (Some(Verdict::Contradicted), Some(Verdict::Supported)) => "opposite",
        (Some(_), Some(_)) => "decided on one side only",
        _ => "not judged on both",
    }
}

/// The rank agreement of one task pair.
struct Ranking {
    /// Labels run on both sides, best first on our env.
    native_order: Vec<String>,
    /// The same labels, best first on the standard env.
    standard_order: Vec<String>,
    /// τ-b and its interval; `None` with fewer than two labels.
    tau: Option<(f64, (f64, f64))>,
    /// Seeds per label, fewest and most, on each side.
    seeds: [(usize, usize); 2],
}

fn ranking(
    task: &str,
    native: &BTreeMap<&str, Vec<&Run>>,
    standard: &BTreeMap<&str, Vec<&Run>>,
) -> Ranking {
    let labels: Vec<&str> = native
        .keys()
        .filter(|l| standard.contains_key(*l))
        .copied()
        .collect();
    let scores = |by: &BTreeMap<&str, Vec<&Run>>| -> Vec<Vec<f64>> {
        labels
            .iter()
            .map(|l| by[l].iter().filter_map(|r| r.final_return()).collect())
            .collect()
    };
    let (a, b) = (scores(native), scores(standard));
    let order = |scores: &[Vec<f64>]| {
        let mut ranked: Vec<(f64, &str)> = scores
            .iter()
            .zip(&labels)
            .map(|(s, l)| (mean(s), *l))
            .collect();
        ranked.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(y.1)));
        ranked.into_iter().map(|(_, l)| l.to_string()).collect()
    };
    let spread = |scores: &[Vec<f64>]| {
        let n = scores.iter().map(Vec::len);
        (n.clone().min().unwrap_or(0), n.max().unwrap_or(0))
    };
    let bootstrap = Bootstrap {
        reps: VERDICT_REPS,
        level: 0.95,
        seed: stable_hash(format!("transfer\0{task}").as_bytes()),
    };
    Ranking {
        native_order: order(&a),
        standard_order: order(&b),
        tau: (labels.len() >= 2).then(|| tau_interval(&a, &b, &bootstrap)),
        seeds: [spread(&a), spread(&b)],
    }
}

/// What a τ and its interval say about a ranking carrying over: only an
/// interval above [`TAU_AGREES`] with [`DECISIVE_SEEDS`] seeds of every
/// algorithm on both sides says it does, and only that many seeds say it
/// does not (fewer make the percentile bootstrap overconfident, as for the
/// claims: one seed a side gives the interval [τ, τ] whatever τ is).
fn tau_words(r: &Ranking) -> String {
    let Some((tau, (lo, hi))) = r.tau else {
        return "fewer than two algorithms ran on both sides, so no ranking to compare".into();
    };
    let k = r.native_order.len();
    let stat = format!("τ = {tau:.2} [{lo:.2}, {hi:.2}] over {k} algorithms");
    let decisive = r.seeds.iter().all(|s| s.0 >= DECISIVE_SEEDS);
    if tau.is_nan() {
        format!("the algorithms tie on one side, so no ranking to compare ({stat})")
    } else if lo > TAU_AGREES && decisive {
        format!("the algorithms' ranking carries over ({stat})")
    } else if tau > TAU_AGREES {
        format!(
            "the algorithms' ranking mostly carries over, though too few seeds to be sure ({stat})"
        )
    } else if tau > 0.0 {
        format!("the algorithms' ranking carries over only in part ({stat})")
    } else if decisive {
        format!("the algorithms' ranking does not carry over ({stat})")
    } else {
        format!(
            "the algorithms' ranking does not carry over, though too few seeds to be sure ({stat})"
        )
    }
}

/// Per claim judged on both sides of one task: how many agree and how
/// many are opposite, in words.
fn claim_words(native: &[Assessment], standard: &[Assessment]) -> String {
    let both: Vec<&'static str> = native
        .iter()
        .zip(standard)
        .map(|(a, b)| agreement(verdict_of(a), verdict_of(b)))
        .filter(|w| *w != "not judged on both")
        .collect();
    if both.is_empty() {
        return "no claim of the paper is judged on it on both sides".into();
    }
    let count = |w: &str| both.iter().filter(|x| **x == w).count();
    let mut text = format!(
        "{} of {} claims judged on both sides get the same verdict",
        count("same"),
        both.len()
    );
    if count("opposite") > 0 {
        text += &format!(", {} the opposite one", count("opposite"));
    }
    text
}

/// The section, or nothing unless the runs cover both members of a pair.
pub fn section(runs: &[Run]) -> Vec<Block> {
    let native = by_task(runs, Side::Native);
    let standard = by_task(runs, Side::Standard);
    let tasks: BTreeSet<&'static str> = native
        .keys()
        .filter(|t| standard.contains_key(*t))
        .copied()
        .collect();
    if tasks.is_empty() {
        return Vec::new();
    }
    let mut blocks = vec![
        Block::Heading {
            level: 2,
            id: "transfer".into(),
            text: "Do conclusions carry over to the standard benchmarks?".into(),
        },
        Block::Paragraph(format!(
            "Our envs beside their standard counterparts, on the {} task(s) run on both sides \
             ({}). Claims are judged as in the claims section, once on each side, each on the \
             parts run on both sides (parts run on one side only are left out). The rank \
             agreement is Kendall's τ-b between the algorithms' mean final returns on the two \
             sides (1: the same order, −1: reversed), with a 95 % percentile-bootstrap \
             interval that resamples every algorithm's seeds on each side ({VERDICT_REPS} \
             replicates).",
            tasks.len(),
            tasks
                .iter()
                .map(|t| format!("{t} ↔ {}", standard_of(t).unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    ];
    blocks.extend(claims_table(runs, &tasks));
    let (ranks, sentences) = rank_agreement(runs, &native, &standard, &tasks);
    blocks.push(ranks);
    let games = games_table(&native, &standard, &tasks);
    if !games.is_empty() {
        blocks.push(Block::Table(
            Table::new(
                "Per game, our game beside its ROM: mean final evaluation return (seeds in \
                 brackets) of random and TRPO single path, and whether TRPO beats random on each \
                 (P(TRPO > random) with its bootstrap interval, as the claims are judged).",
            )
            .text("game ↔ ROM")
            .nums(&["random: ours", "random: ROM", "TRPO: ours", "TRPO: ROM"])
            .texts(&["TRPO > random: ours", "TRPO > random: ROM"])
            .rows(games),
        ));
    }
    blocks.push(Block::Paragraph(
        "How far conclusions drawn on our fast envs carry over, per task:".into(),
    ));
    blocks.push(Block::List(sentences));
    blocks
}

/// Each claim's verdict on both sides, when some claim has a row on either.
fn claims_table(runs: &[Run], tasks: &BTreeSet<&'static str>) -> Option<Block> {
    let native_claims = assess(runs, Side::Native, tasks);
    let standard_claims = assess(runs, Side::Standard, tasks);
    let claim_rows: Vec<Vec<Cell>> = native_claims
        .iter()
        .zip(&standard_claims)
        .filter(|(a, b)| !a.rows.is_empty() || !b.rows.is_empty())
        .map(|(a, b)| {
            vec![
                Cell::plain(a.claim.id),
                Cell::plain(a.claim.sentence),
                verdict_cell(a),
                verdict_cell(b),
                Cell::plain(agreement(verdict_of(a), verdict_of(b))),
            ]
        })
        .collect();
    (!claim_rows.is_empty()).then(|| {
        Block::Table(
            Table::new("Each claim's verdict on our envs beside its verdict on the standard ones.")
                .texts(&[
                    "claim",
                    "sentence",
                    "our envs",
                    "standard envs",
                    "agreement",
                ])
                .rows(claim_rows),
        )
    })
}

/// The rank-agreement table per task pair, and one sentence per task on how
/// far its conclusions carry over.
fn rank_agreement(
    runs: &[Run],
    native: &ByTask,
    standard: &ByTask,
    tasks: &BTreeSet<&'static str>,
) -> (Block, Vec<String>) {
    let mut rank_rows = Vec::new();
    let mut sentences = Vec::new();
    for &task in tasks {
        let r = ranking(task, &native[task], &standard[task]);
        let std_id = standard_of(task).unwrap_or_default();
        rank_rows.push(vec![
            Cell::plain(format!("{task} ↔ {std_id}")),
            Cell::plain(r.native_order.join(" > ")),
            Cell::plain(r.standard_order.join(" > ")),
            Cell::plain(format!(
                "{}–{} vs {}–{}",
                r.seeds[0].0, r.seeds[0].1, r.seeds[1].0, r.seeds[1].1
            )),
            Cell::plain(r.tau.map_or("—".into(), |(t, (lo, hi))| {
                format!("{t:.2} [{lo:.2}, {hi:.2}]")
            })),
        ]);
        let only: BTreeSet<&'static str> = [task].into();
        let claims = claim_words(
            &assess(runs, Side::Native, &only),
            &assess(runs, Side::Standard, &only),
        );
        sentences.push(format!("{task} → {std_id}: {}; {claims}.", tau_words(&r)));
    }
    let table = Block::Table(
        Table::new(
            "Rank agreement per task pair: the algorithms run on both sides, ordered by mean \
             final evaluation return (best first), seeds per algorithm (fewest–most) on ours vs \
             the standard env, and Kendall's τ-b with its 95 % bootstrap interval.",
        )
        .texts(&["task pair", "order on ours", "order on standard", "seeds"])
        .num("τ [95 % CI]")
        .rows(rank_rows),
    );
    (table, sentences)
}

/// The per-game rows: random and TRPO on both sides.
fn games_table(native: &ByTask, standard: &ByTask, tasks: &BTreeSet<&str>) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for (game, rom) in GAME_PAIRS.iter().filter(|(g, _)| tasks.contains(g)) {
        let sides = [&native[game], &standard[game]];
        let finals = |by: &BTreeMap<&str, Vec<&Run>>, label: &str| -> Vec<f64> {
            by.get(label)
                .map(|rs| rs.iter().filter_map(|r| r.final_return()).collect())
                .unwrap_or_default()
        };
        let cell = |xs: Vec<f64>| {
            Cell::plain(if xs.is_empty() {
                "—".to_string()
            } else {
                format!("{} ({})", num(mean(&xs)), xs.len())
            })
        };
        let beats = |by: &BTreeMap<&str, Vec<&Run>>, side: &str| {
            let (t, r) = (finals(by, "trpo"), finals(by, "random"));
            if t.is_empty() || r.is_empty() {
                return Cell::plain("not run");
            }
            let seed = stable_hash(format!("transfer\0{game}\0{side}").as_bytes());
            let j = judge(&t, &r, Direction::Better, seed);
            // Without an interval (too few seeds), the judgement's note says
            // why and how many seeds would give one.
            let effect = j.effect.map_or_else(
                || format!(" ({})", j.note),
                |(p, lo, hi)| format!(" ({p:.2} [{lo:.2}, {hi:.2}])"),
            );
            Cell::marked(
                format!("{}{effect}", j.verdict.as_str()),
                j.verdict == Verdict::Supported,
            )
        };
        rows.push(vec![
            Cell::plain(format!("{game} ↔ {rom}")),
            cell(finals(sides[0], "random")),
            cell(finals(sides[1], "random")),
            cell(finals(sides[0], "trpo")),
            cell(finals(sides[1], "trpo")),
            beats(sides[0], "ours"),
            beats(sides[1], "rom"),
        ]);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use trustbench_envs::arcade::GAMES;

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

    use crate::report::testutil::finished_run;
    use trustbench_plugin::rng::Rng;

    fn run(label: &str, env: &str, seed: u64, final_return: f64) -> Run {
        finished_run(label, env, seed, r#"{"max_kl": 0.01}"#, final_return, &[])
    }

    /// `seeds` runs of each (label, mean) on `env`, spread by `noise`.
    fn runs(env: &str, means: &[(&str, f64)], seeds: u64, noise: f64, rng: &mut Rng) -> Vec<Run> {
        (0..seeds)
            .flat_map(|seed| {
                means
                    .iter()
                    .map(|(l, m)| run(l, env, seed, m + noise * rng.normal()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    const HOPPER: &[(&str, f64)] = &[("trpo", 3000.0), ("npg", 1000.0), ("random", 10.0)];

    fn table(blocks: &[Block], caption: &str) -> Table {
        blocks
            .iter()
            .find_map(|b| match b {
                Block::Table(t) if t.caption.starts_with(caption) => Some(t.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no table '{caption}' in {blocks:?}"))
    }

    fn sentences(blocks: &[Block]) -> Vec<String> {
        match blocks.last() {
            Some(Block::List(items)) => items.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_same_ranking_carries_over_and_a_reversed_one_does_not() {
        let mut rng = Rng::new(1);
        // Hopper on both sides, `standard` the means on gym:Hopper-v5.
        let mut hopper = |standard: &[(&str, f64)], seeds: u64| {
            let mut all = runs("hopper-v0", HOPPER, seeds, 1.0, &mut rng);
            all.extend(runs("gym:Hopper-v5", standard, seeds, 1.0, &mut rng));
            section(&all)
        };
        let npg_row = |blocks: &[Block]| -> Vec<String> {
            let claims = table(blocks, "Each claim's verdict");
            let row = claims.rows.iter().find(|r| r[0].text == "trpo-vs-npg");
            row.unwrap().iter().map(|c| c.text.clone()).collect()
        };
        let blocks = hopper(HOPPER, 4);
        let ranks = table(&blocks, "Rank agreement");
        let row: Vec<&str> = ranks.rows[0].iter().map(|c| c.text.as_str()).collect();
        assert_eq!(row[0], "hopper ↔ gym:Hopper-v5");
        assert_eq!(row[1], "trpo > npg > random");
        assert_eq!(row[3], "4–4 vs 4–4");
        assert_eq!(row[4], "1.00 [1.00, 1.00]");
        let npg = npg_row(&blocks);
        assert_eq!(npg[2], "supported below the paper's settings");
        assert_eq!(npg[4], "same");
        let said = sentences(&blocks);
        assert_eq!(said.len(), 1);
        assert!(
            said[0].starts_with("hopper → gym:Hopper-v5: the algorithms' ranking carries over (τ = 1.00 [1.00, 1.00] over 3 algorithms)"),
            "{}",
            said[0]
        );

        // The same order from two seeds a side: not enough to be sure.
        let said = sentences(&hopper(HOPPER, 2));
        assert!(said[0].contains("too few seeds to be sure"), "{}", said[0]);

        let reversed: Vec<(&str, f64)> = HOPPER.iter().map(|(l, m)| (*l, 3010.0 - m)).collect();
        let blocks = hopper(&reversed, 4);
        let row = &table(&blocks, "Rank agreement").rows[0];
        assert_eq!(row[2].text, "random > npg > trpo");
        assert_eq!(row[4].text, "-1.00 [-1.00, -1.00]");
        assert_eq!(npg_row(&blocks)[4], "opposite");
        let said = sentences(&blocks);
        assert!(said[0].contains("does not carry over ("), "{}", said[0]);
        assert!(said[0].contains("the opposite one"), "{}", said[0]);

        // The reversed order from two seeds a side: not enough to be sure either.
        let said = sentences(&hopper(&reversed, 2));
        assert!(
            said[0].contains("does not carry over, though too few seeds to be sure"),
            "{}",
            said[0]
        );
    }

    #[test]
    fn the_interval_narrows_with_more_seeds() {
        let close: &[(&str, f64)] = &[("trpo", 3.0), ("npg", 2.0), ("vpg", 1.0), ("random", 0.0)];
        let width = |seeds: u64| {
            let mut rng = Rng::new(3);
            let native = runs("hopper-v0", close, seeds, 1.5, &mut rng);
            let standard = runs("gym:Hopper-v5", close, seeds, 1.5, &mut rng);
            let a = by_task(&native, Side::Native);
            let b = by_task(&standard, Side::Standard);
            let (_, (lo, hi)) = ranking("hopper", &a["hopper"], &b["hopper"]).tau.unwrap();
            hi - lo
        };
        let (few, many) = (width(3), width(40));
        assert!(many < few / 2.0, "{many} vs {few}");
    }

    #[test]
    fn games_stand_beside_their_roms_and_one_side_alone_has_no_section() {
        let mut rng = Rng::new(2);
        let game = [("random", 1.0), ("trpo", 8.0)];
        let mut all = runs("breakout-v1", &game, 4, 0.5, &mut rng);
        let rom = [("random", 1.5), ("trpo", 1.4)];
        all.extend(runs(
            "gym:ALE/Breakout-v5 [view=pixels]",
            &rom,
            4,
            0.01,
            &mut rng,
        ));
        let blocks = section(&all);
        let games = table(&blocks, "Per game");
        let row: Vec<&str> = games.rows[0].iter().map(|c| c.text.as_str()).collect();
        assert_eq!(row[0], "breakout ↔ gym:ALE/Breakout-v5");
        assert!(row[5].starts_with("supported"), "{row:?}");
        assert!(row[6].starts_with("contradicted"), "{row:?}");
        let said = sentences(&blocks);
        assert!(
            said[0].starts_with("breakout → gym:ALE/Breakout-v5"),
            "{said:?}"
        );
        assert!(said[0].contains("does not carry over"), "{said:?}");
        // The ROM side down to seed 0, ours kept whole.
        let one_seed: Vec<Run> = all
            .iter()
            .filter(|r| !r.row.env_id.starts_with("gym:") || r.row.seed == 0)
            .cloned()
            .collect();
        let rows = table(&section(&one_seed), "Per game").rows;
        assert_eq!(
            rows[0][6].text,
            "inconclusive (1 vs 1 seed(s): an interval needs at least 2 per side; run 5)"
        );
        let natives: Vec<Run> = all
            .into_iter()
            .filter(|r| !r.row.env_id.starts_with("gym:"))
            .collect();
        assert!(section(&natives).is_empty());
    }
}
