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
    let error: f64 = text
        .rsplit("relative error ")
        .next()
        .and_then(|t| t.split(|c: char| c == ',' || c.is_whitespace()).next())
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no relative error in {text}"));
    assert!(
        error < 1e-2,
        "CG on the vine's rows: relative error {error}\n{text}"
    );
}
