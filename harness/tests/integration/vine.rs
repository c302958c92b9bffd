//! The vine sampler's trunk continues across iterations: episodes run to
//! their end, so the rollout set covers whole episodes, and the sampler
//! stays deterministic per seed.

use crate::common::*;
use crate::learning::train;
use arrow_array::{Array, StringArray, UInt64Array};

/// Pendulum episodes are exactly 200 steps (truncated, never terminated);
/// trunks of 50 steps, branches of 10.
const SETS: &[&str] = &[
    "sampling=vine",
    "vine_trunk_steps=50",
    "vine_states=8",
    "vine_rollout_length=10",
];

#[test]
fn vine_trunks_continue_to_whole_episodes_and_replay_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    train("trpo", "pendulum", 12_000, 5, SETS, &a);
    train("trpo", "pendulum", 12_000, 5, SETS, &b);
    let (ra, rb) = (only_run_dir(&a), only_run_dir(&b));
    for table in ["metrics.parquet", "episodes.parquet"] {
        let x = without_wall_clock(read_table(&ra.join(table)));
        let y = without_wall_clock(read_table(&rb.join(table)));
        assert_eq!(x, y, "{table} differs between identical vine runs");
    }
    let episodes = read_table(&ra.join("episodes.parquet"));
    let phase = episodes.column_by_name("phase").unwrap();
    let phase = phase.as_any().downcast_ref::<StringArray>().unwrap();
    let length = episodes.column_by_name("length").unwrap();
    let length = length.as_any().downcast_ref::<UInt64Array>().unwrap();
    // A trunk restarted every iteration would end no training episode
    // beyond 50 + 10 steps; a continued one reaches the 200-step limit.
    let whole = (0..episodes.num_rows())
        .filter(|&i| phase.value(i) == "train" && length.value(i) == 200)
        .count();
    assert!(whole >= 8, "{whole} whole 200-step training episodes");
}

/// `harness check cg` collects the vine's rows (not a single-path batch)
/// and CG solves their damped Fisher system.
#[test]
fn check_cg_solves_on_the_vine_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["check", "cg", "--algo", "trpo", "--env", "pendulum"];
    for set in SETS {
        args.extend(["--set", set]);
    }
    args.extend(["--num-envs", "8", "--iters", "10", "--out"]);
    args.push(dir.path().to_str().unwrap());
    let o = harness(&args);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text}\n{}", stderr(&o));
    // The last summary line: CG's relative error against the dense solve
    // (a rank-deficient Fisher of few states converges in fewer steps).
    let error = cg_relative_error(&text);
    assert!(
        error < 1e-2,
        "CG on the vine's rows: relative error {error}\n{text}"
    );
    // The settings the figures depend on, and gᵀx_k / gᵀx* beside the
    // cosine: at 10 iterations, with x_10 ≈ x*, close to 1.
    assert!(
        text.contains("λ = cg_damping = 0.1; Fisher on vine_fvp_fraction = 1.0 of the vine's rows"),
        "{text}"
    );
    let share: f64 = text
        .split("gᵀx/gᵀx* ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no gain share in {text}"));
    assert!((share - 1.0).abs() < 1e-3, "gᵀx/gᵀx* = {share}\n{text}");
}

/// The vine's rows per iteration (`train/vine_rows`) of a run on breakout
/// (4 actions) with `sets`.
fn breakout_vine_rows(sets: &[&str], out: &std::path::Path) -> Vec<f64> {
    let mut args = vec![
        "run",
        "--algo",
        "trpo",
        "--env",
        "breakout",
        "--env-set",
        "max_frames=2000",
        "--steps",
        "6000",
        "--eval-episodes",
        "1",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    for set in SETS.iter().chain(sets) {
        args.extend(["--set", set]);
    }
    let o = harness(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let metrics = read_table(&only_run_dir(out).join("metrics.parquet"));
    let name = metrics.column_by_name("metric").unwrap();
    let name = name.as_any().downcast_ref::<StringArray>().unwrap();
    let value = metrics.column_by_name("value").unwrap();
    let value = value
        .as_any()
        .downcast_ref::<arrow_array::Float64Array>()
        .unwrap();
    (0..metrics.num_rows())
        .filter(|&i| name.value(i) == trustbench_plugin::metrics::VINE_ROWS)
        .map(|i| value.value(i))
        .collect()
}

/// On discrete actions the vine branches on `vine_actions` of them (drawn
/// uniformly), not on every action: 8 states × K rows an iteration.
#[test]
fn discrete_vine_branches_on_vine_actions_of_the_actions() {
    let dir = tempfile::tempdir().unwrap();
    let two = breakout_vine_rows(&["vine_actions=2"], &dir.path().join("two"));
    let all = breakout_vine_rows(&["vine_actions=4"], &dir.path().join("all"));
    assert!(!two.is_empty() && !all.is_empty());
    assert_eq!(two[0], 16.0, "{two:?}");
    assert_eq!(all[0], 32.0, "{all:?}");
}
