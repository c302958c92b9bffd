//! The TRPO paper's experiments as sweep specs, at three scales.
//!
//! - **Locomotion** (Figure 4): swimmer, hopper, walker × TRPO single path,
//!   TRPO vine (the variant [`VINE_LABEL`]), NPG with a fixed step, CEM,
//!   CMA-ES; VPG, PPO and the uniform-random policy as context (random is
//!   also every aggregate's zero).
//! - **Arcade** (Table 1): the seven games with `preset=2015` (no sticky
//!   actions, the paper's protocol) × TRPO single path, vine and random.
//!
//! One spec per locomotion env (at the `paper` scale batch sizes and vine
//! settings differ per env) and one for the arcade; their plans share one
//! output directory, so the whole reproduction is one resumable sweep.
//!
//! Paper numbers (Appendix E, `DESIGN.md`): 200 iterations of 50k steps
//! (swimmer) or 1M steps (hopper, walker); vine branch rollouts of 50 / 100
//! / 100 steps with 4 actions per state; policy hidden sizes 30 / 50 / 50.
//! The vine (Table 2): 500 / 2500 / 2500 Q-values per batch, i.e. 125 / 625
//! / 625 states × 4 actions, and trunks of 16 rollouts × 1000 steps per
//! iteration — 41k / 266k / 266k steps, fewer than single path's batch (the
//! paper's vine also took less computation time), so at the `paper` scale
//! it is its own part with a budget of exactly 200 iterations.

use crate::report::claims::{CG_LABELS, VINE_LABEL};
use crate::report::paper::{self, ITERATIONS as PAPER_ITERATIONS, VINE_ACTIONS, VINE_TRUNK_TOTAL};
use crate::sweep::{Seeds, SweepSpec, Variant};
use std::collections::BTreeMap;
use toml::{Table, Value};
use trustbench_envs::arcade::GAMES;

/// How big a reproduction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// Every piece runs on tiny budgets (≤ 2 minutes on 2 cores): proves the
    /// pipeline, says nothing about the claims.
    Smoke,
    /// The modern 1M-step protocol on locomotion plus a short arcade run
    /// (≤ 30 minutes on 2 cores).
    Quick,
    /// The paper's batch sizes, iteration counts and vine settings: for a
    /// cluster.
    Paper,
}

/// The locomotion baselines besides TRPO single path and vine.
const LOCOMOTION_ALGOS: &[&str] = &["random", "trpo", "npg", "vpg", "ppo", "cem", "cma"];
/// Locomotion algorithms that no claim reads (modern context). The quick
/// scale leaves them out: by the measured rates they add 0.25 CPU-hours
/// to its 0.58 (PPO alone costs 1.5–2 TRPO runs), ≈ 25 minutes on 2 idle
/// cores with them, and the VM's speed drifts 1.5×; without them the
/// 30-minute goal holds in a slow phase too.
const CONTEXT_ALGOS: &[&str] = &["vpg", "ppo"];
/// Evaluations per locomotion run at the quick scale (every 100k of 1M
/// steps): enough points for a curve, half the default's evaluation cost.
const QUICK_EVALUATIONS: u64 = 10;
/// TRPO with more CG iterations than the paper's 10, as labels of the
/// CG claim (`report::claims::CG_LABELS`): the same runs but for the solve.
const CG_VARIANTS: &[(&str, u64)] = &[(CG_LABELS[0], 20), (CG_LABELS[1], 50)];
/// The arcade rows besides vine.
const ARCADE_ALGOS: &[&str] = &["random", "trpo"];
/// Locomotion envs of Figure 4.
pub const LOCOMOTION: &[&str] = &["swimmer", "hopper", "walker"];

/// One part of the reproduction: a name for the plan printout and its spec.
pub struct Part {
    /// `locomotion swimmer`, `arcade`, ...
    pub name: String,
    /// The sweep it runs.
    pub spec: SweepSpec,
    /// What the printout should say about it (compromises, sources).
    pub notes: Vec<String>,
}

impl Scale {
    /// The name `--scale` takes.
    pub fn name(self) -> &'static str {
        match self {
            Scale::Smoke => "smoke",
            Scale::Quick => "quick",
            Scale::Paper => "paper",
        }
    }

    /// Seeds unless `--seeds` says otherwise: a claim's interval needs two
    /// per side, a decisive verdict four (`report::verdict::DECISIVE_SEEDS`).
    pub fn default_seeds(self) -> u64 {
        match self {
            Scale::Smoke => 2,
            Scale::Quick => 4,
            Scale::Paper => 5,
        }
    }
}

/// The parts of the reproduction at `scale` with `seeds` seeds.
pub fn parts(scale: Scale, seeds: u64) -> Vec<Part> {
    let mut parts: Vec<Part> = LOCOMOTION
        .iter()
        .flat_map(|env| locomotion(scale, seeds, env))
        .collect();
    parts.push(arcade(scale, seeds));
    parts
}

fn table(pairs: &[(&str, Value)]) -> Table {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn int(x: u64) -> Value {
    Value::Integer(x as i64)
}

fn spec(algos: &[&str], env: &str, seeds: u64, steps: u64) -> SweepSpec {
    SweepSpec {
        algos: algos.iter().map(|a| a.to_string()).collect(),
        envs: vec![env.to_string()],
        seeds: Seeds::Count(seeds),
        steps: Some(steps),
        env_steps: BTreeMap::new(),
        config: BTreeMap::new(),
        variants: BTreeMap::new(),
        sets: Vec::new(),
        env_set: Vec::new(),
        num_envs: crate::run::DEFAULT_NUM_ENVS,
        eval_every: None,
        eval_episodes: crate::run::DEFAULT_EVAL_EPISODES,
        plugins: Vec::new(),
        out: None,
    }
}

/// The gradient-based algorithms, whose batch is `steps_per_iteration`.
const BATCHED: &[&str] = &["random", "trpo", "npg", "vpg", "ppo"];

/// The natural-gradient algorithms, whose defaults depart from the paper in
/// the objective (an entropy bonus) and the Fisher's sample.
const NATURAL: &[&str] = &["trpo", "npg"];

/// The paper's natural-gradient keys (Appendix C; the paper maximised the
/// surrogate alone and sampled a tenth of the batch for the Fisher).
const PAPER_NATURAL_KEYS: &[(&str, f64)] = &[("entropy_bonus", 0.0), ("fvp_fraction", 0.1)];

/// `keys` for the natural-gradient algorithms that `s` runs.
fn natural_keys(s: &mut SweepSpec, keys: &[(&str, f64)]) {
    for algo in NATURAL.iter().filter(|a| s.algos.iter().any(|b| b == *a)) {
        let config = s.config.entry(algo.to_string()).or_default();
        for (key, value) in keys {
            config.insert(key.to_string(), Value::Float(*value));
        }
    }
}

/// The Fisher's sample of TRPO and NPG at the smoke scale (see
/// `scale_settings`).
const SMOKE_FVP_FRACTION: f64 = 0.1;

/// The keys the paper scale pins on TRPO, which the vine's own part copies.
const PAPER_TRPO_KEYS: &[&str] = &["hidden_sizes", "entropy_bonus", "fvp_fraction"];

/// The paper's vine keys for one locomotion env (Appendix E, Table 2):
/// its trunk of 16 × 1000 steps split over the run's env copies.
fn paper_vine(env: &str) -> Table {
    let sizes = paper::Locomotion::of(env).expect("a locomotion env");
    table(&[
        ("vine_states", int(sizes.vine_states())),
        (
            "vine_trunk_steps",
            int(VINE_TRUNK_TOTAL / crate::run::DEFAULT_NUM_ENVS as u64),
        ),
        ("vine_rollout_length", int(sizes.vine_rollout)),
        ("vine_actions", int(VINE_ACTIONS)),
    ])
}

fn locomotion(scale: Scale, seeds: u64, env: &str) -> Vec<Part> {
    let mut notes = Vec::new();
    let (steps, batch, vine) = locomotion_budget(scale, env, &mut notes);
    let algos = locomotion_algos(scale, &mut notes);
    let mut s = spec(&algos, env, seeds, steps);
    scale_settings(scale, env, batch, &mut s, &mut notes);
    for (label, iterations) in CG_VARIANTS {
        s.variants.insert(
            label.to_string(),
            Variant {
                algo: "trpo".into(),
                config: table(&[("cg_iterations", int(*iterations))]),
            },
        );
    }
    let name = format!("locomotion {env}");
    if scale != Scale::Paper {
        s.variants
            .insert(VINE_LABEL.to_string(), vine_variant(vine));
        return vec![Part {
            name,
            spec: s,
            notes,
        }];
    }
    let vine = paper_vine_part(env, seeds, &s);
    vec![
        Part {
            name,
            spec: s,
            notes,
        },
        vine,
    ]
}

/// A locomotion env's budget at `scale`: its env steps, the batch of the
/// batched algorithms (`None`: their defaults) and the vine's keys.
fn locomotion_budget(
    scale: Scale,
    env: &str,
    notes: &mut Vec<String>,
) -> (u64, Option<u64>, Table) {
    match scale {
        Scale::Smoke => (
            3_000,
            Some(1_000),
            table(&[
                ("vine_trunk_steps", int(100)),
                ("vine_states", int(8)),
                ("vine_rollout_length", int(20)),
            ]),
        ),
        // The modern protocol: 1M steps, every algorithm at its defaults;
        // the vine at the paper's per-iteration sizes (so fewer iterations).
        Scale::Quick => {
            let sizes = paper::Locomotion::of(env).expect("a locomotion env");
            notes.push(format!(
                "{env} vine: the paper's sizes per iteration ({} states × {VINE_ACTIONS} \
                 actions, {}-step branches, 16 × 1000 trunk steps): {} steps an iteration, \
                 so {} iterations in 1M steps (paper: {PAPER_ITERATIONS})",
                sizes.vine_states(),
                sizes.vine_rollout,
                sizes.vine_steps_per_iteration(),
                1_000_000 / sizes.vine_steps_per_iteration()
            ));
            (1_000_000, None, paper_vine(env))
        }
        Scale::Paper => {
            let batch = paper::Locomotion::of(env).expect("a locomotion env").batch;
            notes.push(format!(
                "{env}: {PAPER_ITERATIONS} iterations of {batch} steps (Appendix E)"
            ));
            (PAPER_ITERATIONS * batch, Some(batch), Table::new())
        }
    }
}

/// The locomotion algorithms run at `scale`.
fn locomotion_algos(scale: Scale, notes: &mut Vec<String>) -> Vec<&'static str> {
    match scale {
        Scale::Quick => {
            notes.push(format!(
                "locomotion: {} left out at this scale (context only, no claim reads them; \
                 the paper scale runs them); {QUICK_EVALUATIONS} evaluations per run",
                CONTEXT_ALGOS.join(" and ")
            ));
            LOCOMOTION_ALGOS
                .iter()
                .copied()
                .filter(|a| !CONTEXT_ALGOS.contains(a))
                .collect()
        }
        _ => LOCOMOTION_ALGOS.to_vec(),
    }
}

/// The settings of a locomotion spec that depend on the scale: evaluation
/// cadence, the batched algorithms' `batch`, the paper's policy networks,
/// the smoke test's small populations.
fn scale_settings(
    scale: Scale,
    env: &str,
    batch: Option<u64>,
    s: &mut SweepSpec,
    notes: &mut Vec<String>,
) {
    let steps = s.steps.expect("a locomotion spec has its budget");
    if scale == Scale::Quick {
        s.eval_every = Some(steps / QUICK_EVALUATIONS);
    }
    if let Some(batch) = batch {
        for algo in BATCHED {
            s.config.insert(
                algo.to_string(),
                table(&[("steps_per_iteration", int(batch))]),
            );
        }
    }
    if scale == Scale::Paper {
        // The default is the anchors' 64 × 64 (benches/README.md); the
        // paper scale keeps the paper's one hidden layer.
        let units = paper::Locomotion::of(env).expect("a locomotion env").hidden;
        let hidden = Value::Array(vec![int(units)]);
        for algo in ["trpo", "npg", "vpg", "ppo"] {
            s.config
                .entry(algo.to_string())
                .or_default()
                .insert("hidden_sizes".into(), hidden.clone());
        }
        notes.push(format!(
            "{env}: the policy's one hidden layer of {units} units (Appendix E)"
        ));
        natural_keys(s, PAPER_NATURAL_KEYS);
        notes.push(format!(
            "{env}: trpo and npg as the paper: the surrogate alone (entropy_bonus = 0), the \
             Fisher on a tenth of the batch (fvp_fraction = 0.1)"
        ));
    }
    if scale == Scale::Smoke {
        for algo in ["cem", "cma"] {
            s.config
                .insert(algo.to_string(), table(&[("population", int(4))]));
        }
        // The CG check forms the trained TRPO's dense F from one
        // Fisher-vector product per parameter (5,126 on hopper): on the
        // whole batch, as the defaults take it, that was most of the smoke
        // scale's time.
        natural_keys(s, &[("fvp_fraction", SMOKE_FVP_FRACTION)]);
        notes.push(format!(
            "{env}: trpo and npg take the Fisher on fvp_fraction = {SMOKE_FVP_FRACTION} of the \
             batch (the default: all of it), so the CG check's dense F takes seconds"
        ));
        s.eval_episodes = 2;
        s.eval_every = Some(steps / 2);
    }
}

/// The paper scale's vine part of a locomotion env. The paper's vine
/// iteration costs fewer steps than its single-path one: it gets a part of
/// its own whose budget is exactly the paper's 200 iterations, and the
/// claim compares the two per iteration. It keeps the single-path spec
/// `single`'s TRPO network and objective.
fn paper_vine_part(env: &str, seeds: u64, single: &SweepSpec) -> Part {
    let sizes = paper::Locomotion::of(env).expect("a locomotion env");
    let per_iteration = sizes.vine_steps_per_iteration();
    let mut v = spec(&[], env, seeds, PAPER_ITERATIONS * per_iteration);
    let mut keys = paper_vine(env);
    for key in PAPER_TRPO_KEYS {
        if let Some(value) = single.config.get("trpo").and_then(|t| t.get(*key)) {
            keys.insert(key.to_string(), value.clone());
        }
    }
    v.variants
        .insert(VINE_LABEL.to_string(), vine_variant(keys));
    let notes = vec![format!(
        "{env} vine: {} Q-values ({} states × {VINE_ACTIONS} actions) with {}-step branches, \
         trunks of {VINE_TRUNK_TOTAL} steps (16 × 1000, continued across iterations): \
         {per_iteration} steps × {PAPER_ITERATIONS} iterations (Appendix E, Table 2); \
         compared with single path at equal iterations",
        sizes.vine_q_values,
        sizes.vine_states(),
        sizes.vine_rollout
    )];
    Part {
        name: format!("locomotion {env} vine"),
        spec: v,
        notes,
    }
}

/// The vine variant of TRPO with `keys` over its defaults.
fn vine_variant(keys: Table) -> Variant {
    let mut config = table(&[("sampling", Value::String("vine".into()))]);
    config.extend(keys);
    Variant {
        algo: "trpo".into(),
        config,
    }
}

fn arcade(scale: Scale, seeds: u64) -> Part {
    let (steps, view, max_frames) = match scale {
        Scale::Smoke => (2_000, "compact", Some(2_000)),
        Scale::Quick => (200_000, "compact", Some(18_000)),
        Scale::Paper => (50_000_000, "pixels", None),
    };
    let mut s = spec(ARCADE_ALGOS, "breakout", seeds, steps);
    s.envs = GAMES.iter().map(|g| g.to_string()).collect();
    s.env_set = vec!["preset=2015".into(), format!("view={view}")];
    let mut notes = vec![format!(
        "arcade: the seven games, preset=2015 (no sticky actions), view={view}, {steps} steps"
    )];
    if view == "compact" {
        notes.push(
            "arcade: the compact 10×10 symbolic view stands in for pixels at this scale \
             (pixels need the conv policy and are too slow on 2 cores today)"
                .into(),
        );
    }
    if let Some(frames) = max_frames {
        s.env_set.push(format!("max_frames={frames}"));
        notes.push(format!(
            "arcade: episodes capped at {frames} frames (the paper plays whole games) so \
             evaluations stay short"
        ));
    }
    // The conv net's Fisher-vector products on whole batches (the default)
    // would cost a pixel run several times its time: the games keep the
    // batch and the Fisher sample the defaults had before 2026-12-07.
    let batch = if scale == Scale::Smoke { 500 } else { 5000 };
    s.config.insert(
        "trpo".into(),
        table(&[
            ("steps_per_iteration", int(batch)),
            ("fvp_fraction", Value::Float(0.1)),
        ]),
    );
    notes.push(format!(
        "arcade: trpo with a batch of {batch} and a tenth of it in the Fisher (fvp_fraction = \
         0.1; the default, the whole batch, costs a pixel run several times its time)"
    ));
    if scale == Scale::Paper {
        natural_keys(&mut s, PAPER_NATURAL_KEYS);
        notes.push(
            "arcade: trpo maximises the surrogate alone (entropy_bonus = 0), as the paper".into(),
        );
    }
    if scale == Scale::Smoke {
        s.eval_episodes = 2;
        s.eval_every = Some(steps / 2);
    } else {
        // Five evaluations of five episodes: game episodes are long.
        s.eval_episodes = 5;
        s.eval_every = Some(steps / 5);
    }
    let mut vine = table(&[("sampling", Value::String("vine".into()))]);
    if scale == Scale::Smoke {
        vine.extend(table(&[
            ("vine_trunk_steps", int(50)),
            ("vine_states", int(8)),
            ("vine_rollout_length", int(20)),
        ]));
    }
    s.variants.insert(
        VINE_LABEL.to_string(),
        Variant {
            algo: "trpo".into(),
            config: vine,
        },
    );
    Part {
        name: "arcade".into(),
        spec: s,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_scale_plans_and_the_paper_scale_has_the_paper_batches() {
        for scale in [Scale::Smoke, Scale::Quick, Scale::Paper] {
            for part in parts(scale, 2) {
                let plan = part.spec.plan(Some(Path::new("o")), &[]).unwrap();
                assert!(!plan.runs.is_empty(), "{}", part.name);
            }
        }
        let paper = parts(Scale::Paper, 1);
        let hopper = paper[2].spec.plan(Some(Path::new("o")), &[]).unwrap();
        let trpo = hopper.runs.iter().find(|r| r.label == "trpo").unwrap();
        assert_eq!(trpo.request.config["steps_per_iteration"], 1_000_000);
        assert_eq!(trpo.request.steps, 200_000_000);
        assert!(hopper.runs.iter().all(|r| r.label != VINE_LABEL));
        let names: Vec<&str> = paper.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names[3], "locomotion hopper vine");
        let vine = paper[3].spec.plan(Some(Path::new("o")), &[]).unwrap();
        let vine = &vine.runs[0];
        assert_eq!(vine.label, VINE_LABEL);
        assert_eq!(vine.request.config["vine_rollout_length"], 100);
        // 2500 Q-values = 625 states × 4 actions; 16 × 1000 trunk steps.
        assert_eq!(vine.request.config["vine_states"], 625);
        assert_eq!(vine.request.config["vine_trunk_steps"], 2000);
        assert_eq!(vine.request.steps, 200 * (16_000 + 2500 * 100));
        let swimmer = paper[1].spec.plan(Some(Path::new("o")), &[]).unwrap();
        assert_eq!(swimmer.runs[0].request.config["vine_states"], 125);
        assert_eq!(swimmer.runs[0].request.config["hidden_sizes"][0], 30);
        assert_eq!(trpo.request.config["hidden_sizes"], serde_json::json!([50]));
        // The paper's objective (the surrogate alone) and Fisher sample
        // wherever TRPO or NPG runs; the defaults differ in both.
        let npg = hopper.runs.iter().find(|r| r.label == "npg").unwrap();
        let arcade = paper[6].spec.plan(Some(Path::new("o")), &[]).unwrap();
        let games = arcade.runs.iter().filter(|r| r.label != "random");
        for run in [trpo, npg, vine].into_iter().chain(games) {
            assert_eq!(run.request.config["entropy_bonus"], 0.0, "{}", run.label);
            assert_eq!(run.request.config["fvp_fraction"], 0.1, "{}", run.label);
        }
        let quick = parts(Scale::Quick, 1);
        let quick_hopper = quick[2].spec.plan(Some(Path::new("o")), &[]).unwrap();
        let quick_trpo = quick_hopper
            .runs
            .iter()
            .find(|r| r.label == "trpo")
            .unwrap();
        assert_ne!(
            quick_trpo.request.config["entropy_bonus"], 0.0,
            "the default"
        );
        assert_ne!(
            quick_trpo.request.config["fvp_fraction"], 0.1,
            "the default"
        );
        // The smoke scale's CG check stays cheap: a tenth of the batch in
        // the Fisher for TRPO (its CG variants included) and NPG.
        let smoke = parts(Scale::Smoke, 1);
        let smoke_hopper = smoke[2].spec.plan(Some(Path::new("o")), &[]).unwrap();
        let natural = smoke_hopper
            .runs
            .iter()
            .filter(|r| r.label.starts_with("trpo") || r.label == "npg");
        assert_eq!(
            natural.clone().count(),
            5,
            "trpo, its CG variants, vine, npg"
        );
        for run in natural {
            let fraction = &run.request.config["fvp_fraction"];
            assert_eq!(fraction, SMOKE_FVP_FRACTION, "{}", run.label);
        }
        assert_eq!(arcade.runs.len(), 7 * 3);
        for scale in [Scale::Smoke, Scale::Quick, Scale::Paper] {
            let arcade = parts(scale, 1).pop().unwrap();
            assert_eq!(arcade.name, "arcade");
            let plan = arcade.spec.plan(Some(Path::new("o")), &[]).unwrap();
            for run in plan.runs.iter().filter(|r| r.label != "random") {
                assert_eq!(run.request.config["fvp_fraction"], 0.1, "{scale:?}");
            }
        }
        assert_eq!(arcade.runs[0].request.env.options().get("view"), "pixels");
        assert!(hopper.runs.iter().any(|r| r.label == "ppo"));
    }

    #[test]
    fn the_quick_scale_runs_every_claimed_algorithm_and_no_context_one() {
        let quick = parts(Scale::Quick, 4);
        let walker = quick[2].spec.plan(Some(Path::new("o")), &[]).unwrap();
        let labels: std::collections::BTreeSet<&str> =
            walker.runs.iter().map(|r| r.label.as_str()).collect();
        let expected = [
            "cem",
            "cma",
            "npg",
            "random",
            "trpo",
            CG_LABELS[0],
            CG_LABELS[1],
            VINE_LABEL,
        ];
        assert_eq!(labels, expected.into_iter().collect());
        assert_eq!(walker.runs.len(), expected.len() * 4);
        assert_eq!(walker.runs[0].request.eval_every, 100_000);
        // The vine at the paper's per-iteration sizes from the quick scale on.
        let vine = walker.runs.iter().find(|r| r.label == VINE_LABEL).unwrap();
        assert_eq!(vine.request.config["vine_states"], 625);
        assert_eq!(vine.request.config["vine_actions"], 4);
        assert_eq!(vine.request.config["vine_rollout_length"], 100);
        assert_eq!(vine.request.config["vine_trunk_steps"], 2000);
        let cg50 = walker
            .runs
            .iter()
            .find(|r| r.label == CG_LABELS[1])
            .unwrap();
        assert_eq!(cg50.request.config["cg_iterations"], 50);
    }
}
