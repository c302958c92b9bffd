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
//! The vine branches from as many states as make its branch steps equal the
//! single-path batch (batch / (4 × rollout): 250 / 2500 / 2500), so the two
//! are compared per iteration at (nearly) equal samples.

use crate::report::claims::{GAMES, VINE_LABEL};
use crate::sweep::{Seeds, SweepSpec, Variant};
use std::collections::BTreeMap;
use toml::{Table, Value};

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
/// The arcade rows besides vine.
const ARCADE_ALGOS: &[&str] = &["random", "trpo"];
/// Locomotion envs of Figure 4.
pub const LOCOMOTION: &[&str] = &["swimmer", "hopper", "walker"];
/// The paper's policy iterations.
const PAPER_ITERATIONS: u64 = 200;
/// The paper's vine actions per state.
const VINE_ACTIONS: u64 = 4;
/// The trunk visits this many times as many states as are branched from, so
/// the branched states are a sparse random subset of it (the paper picks
/// them at random from its trunks).
const VINE_TRUNK_SPREAD: u64 = 4;

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
        .map(|env| locomotion(scale, seeds, env))
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

fn locomotion(scale: Scale, seeds: u64, env: &str) -> Part {
    let mut notes = Vec::new();
    let rollout: u64 = if env == "swimmer" { 50 } else { 100 };
    let (steps, batch, vine): (u64, Option<u64>, Table) = match scale {
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
        // vine trunks are whole episodes.
        Scale::Quick => (1_000_000, None, table(&[("vine_trunk_steps", int(1000))])),
        Scale::Paper => {
            let batch = if env == "swimmer" { 50_000 } else { 1_000_000 };
            notes.push(format!(
                "{env}: {PAPER_ITERATIONS} iterations of {batch} steps (Appendix E)"
            ));
            let states = batch / (VINE_ACTIONS * rollout);
            let trunk = VINE_TRUNK_SPREAD * states / crate::run::DEFAULT_NUM_ENVS as u64;
            notes.push(format!(
                "{env} vine: {states} states × {VINE_ACTIONS} actions × {rollout}-step branches \
                 = {batch} branch steps per iteration (the single-path batch), from trunks of \
                 {trunk} steps per copy that continue across iterations"
            ));
            (
                PAPER_ITERATIONS * batch,
                Some(batch),
                table(&[
                    ("vine_states", int(states)),
                    ("vine_trunk_steps", int(trunk)),
                    ("vine_rollout_length", int(rollout)),
                    ("vine_actions", int(VINE_ACTIONS)),
                ]),
            )
        }
    };
    let mut s = spec(LOCOMOTION_ALGOS, env, seeds, steps);
    if let Some(batch) = batch {
        for algo in BATCHED {
            s.config.insert(
                algo.to_string(),
                table(&[("steps_per_iteration", int(batch))]),
            );
        }
    }
    if scale == Scale::Paper && env == "swimmer" {
        let hidden = Value::Array(vec![int(30)]);
        for algo in ["trpo", "npg", "vpg", "ppo"] {
            s.config
                .entry(algo.to_string())
                .or_default()
                .insert("hidden_sizes".into(), hidden.clone());
        }
        notes.push("swimmer: hidden size 30 (Appendix E)".into());
    }
    if scale == Scale::Smoke {
        for algo in ["cem", "cma"] {
            s.config
                .insert(algo.to_string(), table(&[("population", int(4))]));
        }
        s.eval_episodes = 2;
        s.eval_every = Some(steps / 2);
    }
    let mut vine_config = table(&[("sampling", Value::String("vine".into()))]);
    vine_config.extend(vine);
    s.variants.insert(
        VINE_LABEL.to_string(),
        Variant {
            algo: "trpo".into(),
            config: vine_config,
        },
    );
    if scale == Scale::Paper {
        // The vine's iterations cost more steps than single path's; the
        // paper compares the two per iteration, so its budget is the
        // single-path one and the claim is judged at equal iterations.
        notes.push(format!(
            "{env} vine: compared with single path at equal iterations"
        ));
    }
    Part {
        name: format!("locomotion {env}"),
        spec: s,
        notes,
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
    if scale == Scale::Smoke {
        s.config
            .insert("trpo".into(), table(&[("steps_per_iteration", int(500))]));
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
        let hopper = paper[1].spec.plan(Some(Path::new("o")), &[]).unwrap();
        let trpo = hopper.runs.iter().find(|r| r.label == "trpo").unwrap();
        assert_eq!(trpo.request.config["steps_per_iteration"], 1_000_000);
        assert_eq!(trpo.request.steps, 200_000_000);
        let vine = hopper.runs.iter().find(|r| r.label == VINE_LABEL).unwrap();
        assert_eq!(vine.request.config["vine_rollout_length"], 100);
        // 2500 states × 4 actions × 100 steps: the single-path batch.
        assert_eq!(vine.request.config["vine_states"], 2500);
        assert_eq!(vine.request.config["vine_trunk_steps"], 1250);
        let swimmer = paper[0].spec.plan(Some(Path::new("o")), &[]).unwrap();
        let vine = swimmer.runs.iter().find(|r| r.label == VINE_LABEL).unwrap();
        assert_eq!(vine.request.config["vine_states"], 250);
        let arcade = paper[3].spec.plan(Some(Path::new("o")), &[]).unwrap();
        assert_eq!(arcade.runs.len(), 7 * 3);
        assert_eq!(arcade.runs[0].request.env.options().get("view"), "pixels");
    }
}
