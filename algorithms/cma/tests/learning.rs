//! CMA-ES driven through the harness (the C ABI, as every algorithm runs):
//! issue 4's acceptance — CartPole well above random (≈ 22) within a small
//! budget, and the same seed gives the same run, bit for bit.

use harness::plugin::Catalog;
use harness::run::{self, POLICY_FILE, RunRequest, RunSummary};
use std::path::Path;

/// Budget of the learning test: about 30 generations of λ = 8 episodes.
const STEPS: u64 = 40_000;

/// One cartpole run of `cma` with its default config and 8 env copies.
fn cartpole(seed: u64, steps: u64, out: &Path) -> (RunSummary, Vec<u8>) {
    let algorithm = Catalog::new(&[]).unwrap().find("cma").unwrap();
    let req = RunRequest {
        config: algorithm.info.default_config.clone(),
        algorithm,
        env: trustbench_envs::resolve("cartpole").unwrap(),
        seed,
        steps,
        num_envs: 8,
        eval_every: 0,
        eval_episodes: 10,
        out_dir: out.to_path_buf(),
        quiet: true,
    };
    let summary = run::execute(&req).unwrap();
    let policy = std::fs::read(summary.dir.join(POLICY_FILE)).unwrap();
    (summary, policy)
}

#[test]
fn learns_cartpole_well_above_random_in_a_small_budget() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, _) = cartpole(0, STEPS, dir.path());
    let (mean, _) = summary.final_eval;
    assert!(
        mean >= 150.0,
        "final eval return {mean} after {STEPS} steps (random ≈ 22)"
    );
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first, first_policy) = cartpole(3, 10_000, a.path());
    let (second, second_policy) = cartpole(3, 10_000, b.path());
    assert_eq!(first.final_eval, second.final_eval);
    assert_eq!(
        (first.iterations, first.env_steps),
        (second.iterations, second.env_steps)
    );
    assert_eq!(
        first_policy, second_policy,
        "the learned mean differs between identical runs"
    );
}
