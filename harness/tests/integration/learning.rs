//! Issue 4's acceptance, at CI size: every algorithm learns CartPole well
//! above random (≈ 22) within a small budget, is deterministic per seed,
//! and TRPO never accepts a step whose exact KL exceeds δ. The longer
//! checks (≥ 475 within 200k steps) are `#[ignore]`d: run them with
//! `cargo test --release -p harness --test integration -- --ignored`.

use crate::common::*;
use arrow_array::{Array, Float64Array, StringArray};
use harness::catalog::Catalog;
use harness::config;
use harness::run::{self, RunRequest, RunSummary};
use std::path::Path;

/// Train `algo` on `env` with `sets` applied over the defaults.
pub fn train(
    algo: &str,
    env: &str,
    steps: u64,
    seed: u64,
    sets: &[&str],
    out: &Path,
) -> RunSummary {
    let catalog = Catalog::new(&[]).unwrap();
    let algorithm = catalog.find(algo).unwrap();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let config = config::resolve(algo, &algorithm.info.default_config, None, &sets).unwrap();
    let req = RunRequest {
        algorithm,
        config,
        env: trustbench_envs::resolve(env).unwrap(),
        seed,
        steps,
        num_envs: 8,
        eval_every: steps / 4,
        eval_episodes: 10,
        out_dir: out.to_path_buf(),
        quiet: true,
        threads: 1,
    };
    run::execute(&req).unwrap_or_else(|e| panic!("{algo} on {env}: {e:#}"))
}

/// (algorithm, budget, sets): small budgets that still show clear learning.
const QUICK: &[(&str, u64, &[&str])] = &[
    ("trpo", 40_000, &[]),
    ("npg", 40_000, &[]),
    ("vpg", 40_000, &[]),
    ("ppo", 20_000, &[]),
    ("cem", 40_000, &[]),
    ("cma", 40_000, &[]),
    (
        "trpo",
        60_000,
        &["sampling=vine", "vine_states=40", "vine_rollout_length=50"],
    ),
];

#[test]
fn every_algorithm_learns_cartpole_well_above_random() {
    for (algo, steps, sets) in QUICK {
        let dir = tempfile::tempdir().unwrap();
        let s = train(algo, "cartpole", *steps, 0, sets, dir.path());
        println!(
            "{algo} {sets:?}: eval return {:.1} ± {:.1} after {steps} steps",
            s.final_eval.0, s.final_eval.1
        );
        assert!(
            s.final_eval.0 >= 100.0,
            "{algo} {sets:?} reached only {:.1} (random ≈ 22)",
            s.final_eval.0
        );
    }
}

#[test]
fn every_algorithm_is_deterministic_per_seed() {
    for (algo, _, sets) in QUICK {
        let dir = tempfile::tempdir().unwrap();
        let a = train(algo, "cartpole", 6_000, 5, sets, &dir.path().join("a"));
        let b = train(algo, "cartpole", 6_000, 5, sets, &dir.path().join("b"));
        for table in ["metrics.parquet", "episodes.parquet"] {
            let (x, y) = (
                read_table(&a.dir.join(table)),
                read_table(&b.dir.join(table)),
            );
            assert_eq!(
                without_wall_clock(x),
                without_wall_clock(y),
                "{algo} {sets:?}: {table} differs between runs with the same seed"
            );
        }
        assert_eq!(
            std::fs::read(a.dir.join("policy.bin")).unwrap(),
            std::fs::read(b.dir.join("policy.bin")).unwrap()
        );
    }
}

#[test]
fn trpo_never_accepts_a_step_beyond_the_trust_region() {
    for max_kl in ["0.01", "0.05"] {
        let dir = tempfile::tempdir().unwrap();
        let s = train(
            "trpo",
            "pendulum",
            30_000,
            1,
            &[&format!("max_kl={max_kl}")],
            dir.path(),
        );
        let metrics = read_table(&s.dir.join("metrics.parquet"));
        let names = metrics
            .column_by_name("metric")
            .unwrap()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap()
            .clone();
        let values = metrics
            .column_by_name("value")
            .unwrap()
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .clone();
        let kls: Vec<f64> = (0..names.len())
            .filter(|&i| names.value(i) == trustbench_plugin::metrics::MEAN_KL)
            .map(|i| values.value(i))
            .collect();
        assert!(kls.len() >= 5, "one KL per iteration");
        let delta: f64 = max_kl.parse().unwrap();
        assert!(
            kls.iter().all(|&kl| kl <= delta),
            "KL above δ = {delta}: {kls:?}"
        );
        assert!(kls.iter().any(|&kl| kl > 0.0), "steps were taken");
    }
}

#[test]
#[ignore = "long: ~1 min per algorithm in release"]
fn gradient_methods_solve_cartpole_within_200k_steps() {
    for algo in ["trpo", "npg", "ppo", "vpg"] {
        let dir = tempfile::tempdir().unwrap();
        let s = train(algo, "cartpole", 200_000, 0, &[], dir.path());
        println!("{algo}: {:.1} ± {:.1}", s.final_eval.0, s.final_eval.1);
        assert!(s.final_eval.0 >= 475.0, "{algo}: {:.1}", s.final_eval.0);
    }
}

#[test]
#[ignore = "long: minutes in release"]
fn trpo_and_ppo_reach_minus_400_on_pendulum_within_500k_steps() {
    for algo in ["trpo", "ppo"] {
        let dir = tempfile::tempdir().unwrap();
        let s = train(algo, "pendulum", 500_000, 0, &[], dir.path());
        println!("{algo}: {:.1} ± {:.1}", s.final_eval.0, s.final_eval.1);
        assert!(s.final_eval.0 >= -400.0, "{algo}: {:.1}", s.final_eval.0);
    }
}
