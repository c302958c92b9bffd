//! The Gymnasium provider (`--env gym:ID`), end to end through the harness
//! binary: determinism on CartPole and Pendulum, clear errors for an
//! unknown id and an option the env does not take, typed `--env-set`
//! values, what `runs` records, and a short TRPO run on MuJoCo's Hopper.
//!
//! They need a Python 3 with NumPy, Gymnasium and its shared library (a
//! virtual environment is honoured through `VIRTUAL_ENV`). Without one they
//! are skipped with a message, unless `TRUSTBENCH_REQUIRE_PYTHON` is set (as
//! in `.ci/run`), where a missing Gymnasium is a failure. The MuJoCo test
//! runs when `mujoco` imports (always under `TRUSTBENCH_REQUIRE_PYTHON`).

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether `modules` import in the test interpreter; prints why not when
/// they do not (and fails under `TRUSTBENCH_REQUIRE_PYTHON`).
pub fn importable(modules: &str) -> bool {
    let python = std::env::var("VIRTUAL_ENV")
        .map(|v| format!("{v}/bin/python"))
        .unwrap_or_else(|_| "python3".into());
    let check = format!(
        "import sysconfig, sys, {modules}; sys.exit(0 if sysconfig.get_config_var('Py_ENABLE_SHARED') else 3)"
    );
    let problem = match Command::new(&python).args(["-c", &check]).output() {
        Ok(o) if o.status.success() => return true,
        Ok(o) => format!(
            "{python} cannot import {modules}: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => format!("no {python}: {e}"),
    };
    if std::env::var_os("TRUSTBENCH_REQUIRE_PYTHON").is_some() {
        panic!("TRUSTBENCH_REQUIRE_PYTHON is set, but {problem}");
    }
    eprintln!(
        "skipping a Gymnasium test: {problem}. To run them: python3 -m venv .venv && \
         .venv/bin/pip install numpy \"gymnasium[mujoco]\", then run the tests with \
         VIRTUAL_ENV=$PWD/.venv"
    );
    false
}

/// A random-policy run of `env` with `seed` into `out` (its run directory).
fn random_run(env: &str, seed: &str, out: &Path, extra: &[&str]) -> PathBuf {
    let mut args = vec![
        "run",
        "--algo",
        "random",
        "--env",
        env,
        "--seed",
        seed,
        "--steps",
        "600",
        "--quiet",
        "--no-gif",
        "--eval-episodes",
        "2",
        "--out",
    ];
    args.push(out.to_str().unwrap());
    args.extend_from_slice(extra);
    let o = harness(&args);
    assert!(o.status.success(), "{env}: {}", stderr(&o));
    only_run_dir(out)
}

#[test]
fn cartpole_and_pendulum_same_seed_same_rows_another_seed_other_rows() {
    if !importable("numpy, gymnasium") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for env in ["gym:CartPole-v1", "gym:Pendulum-v1"] {
        let go = |seed: &str, name: &str| random_run(env, seed, &dir.path().join(name), &[]);
        let name = env.replace(':', "_");
        let a = go("3", &format!("{name}-a"));
        let b = go("3", &format!("{name}-b"));
        let c = go("4", &format!("{name}-c"));
        assert_same_results(&a, &b, &format!("two runs of {env} with seed 3"));
        let episodes = |d: &PathBuf| without_wall_clock(read_table(&d.join("episodes.parquet")));
        assert_ne!(
            episodes(&a),
            episodes(&c),
            "{env}: seeds 3 and 4 gave the same episodes"
        );
    }
}

#[test]
fn env_set_values_reach_gymnasium_make_typed_and_runs_record_them() {
    if !importable("numpy, gymnasium") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Pendulum's `g` must be a number: a string would fail inside the physics.
    let run = random_run(
        "gym:Pendulum-v1",
        "0",
        &dir.path().join("g"),
        &["--env-set", "g=3.5"],
    );
    let t = read_table(&run.join("runs.parquet"));
    let config = string_at(&t, "config_json", 0).unwrap();
    assert!(
        config.contains("\"g\"") && config.contains("3.5"),
        "{config}"
    );
    let version = string_at(&t, "env_provider_version", 0).unwrap();
    assert!(version.contains("gymnasium "), "{version}");
    assert_eq!(
        string_at(&t, "env_id", 0).as_deref(),
        Some("gym:Pendulum-v1")
    );
    // Another gravity gives other episodes: the value was used.
    let other = random_run("gym:Pendulum-v1", "0", &dir.path().join("default"), &[]);
    let episodes = |d: &PathBuf| without_wall_clock(read_table(&d.join("episodes.parquet")));
    assert_ne!(episodes(&run), episodes(&other), "g=3.5 changed nothing");
}

#[test]
fn an_unknown_id_and_an_option_the_env_does_not_take_are_clear_errors() {
    if !importable("numpy, gymnasium") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = harness(&short_trpo_args("0", out, &["--env", "gym:Cartpole-v1"]));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("unknown Gymnasium env 'gym:Cartpole-v1'") && e.contains("CartPole-v1"),
        "{e}"
    );
    let args = ["--env", "gym:Pendulum-v1", "--env-set", "gravity=9.8"];
    let o = harness(&short_trpo_args("0", out, &args));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("does not take the options given (gravity=9.8)") && e.contains("gravity"),
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn trpo_trains_on_mujoco_hopper() {
    if !importable("numpy, gymnasium, mujoco") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let args = ["--env", "gym:Hopper-v5", "--steps", "3000"];
    let o = harness(&short_trpo_args("1", out, &args));
    assert!(o.status.success(), "{}", stderr(&o));
    let run = only_run_dir(dir.path());
    assert!(run.join("policy.bin").exists());
    let t = read_table(&run.join("runs.parquet"));
    let version = string_at(&t, "env_provider_version", 0).unwrap();
    assert!(version.contains("mujoco "), "{version}");
    assert_eq!(string_at(&t, "status", 0).as_deref(), Some("ok"));
}

#[test]
fn the_vine_runs_on_mujoco_from_exact_snapshots_and_is_refused_elsewhere() {
    if !importable("numpy, gymnasium") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let vine = |env: &str, name: &str| {
        let out = dir.path().join(name);
        let args = ["--env", env, "--set", "sampling=vine", "--steps", "2000"];
        (
            harness(&short_trpo_args("2", out.to_str().unwrap(), &args)),
            out,
        )
    };
    let (o, _) = vine("gym:Pendulum-v1", "pendulum");
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("'gym:Pendulum-v1' does not offer exact snapshot/restore"),
        "{e}"
    );
    if !importable("mujoco") {
        return;
    }
    let (a, out_a) = vine("gym:Hopper-v5", "a");
    assert!(a.status.success(), "{}", stderr(&a));
    let (b, out_b) = vine("gym:Hopper-v5", "b");
    assert!(b.status.success(), "{}", stderr(&b));
    assert_same_results(
        &only_run_dir(&out_a),
        &only_run_dir(&out_b),
        "two vine runs on gym:Hopper-v5 with seed 2",
    );
}

#[test]
fn an_exception_in_step_fails_the_run_with_its_traceback() {
    if !importable("numpy, gymnasium") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fixtures = workspace().join("harness/tests/fixtures/python");
    let args = short_trpo_args(
        "0",
        dir.path().to_str().unwrap(),
        &["--env", "gym:crashy_gym_env:CrashyEnv-v0", "--steps", "200"],
    );
    let o = harness_with_env(&args, &[("PYTHONPATH", fixtures.to_str().unwrap())]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("Traceback")
            && e.contains("crashy_gym_env.py")
            && e.contains("fell over on purpose"),
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
    let t = read_table(&only_run_dir(dir.path()).join("runs.parquet"));
    assert_eq!(string_at(&t, "status", 0).as_deref(), Some("failed"));
}

#[test]
fn trpo_runs_on_the_real_pong_from_pixels_and_draws_its_gif() {
    if !importable("numpy, gymnasium, ale_py") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "run",
        "--algo",
        "trpo",
        "--env",
        "gym:ALE/Pong-v5",
        "--env-set",
        "view=pixels",
        "--steps",
        "2000",
        "--set",
        "steps_per_iteration=1000",
        "--eval-every",
        "0",
        "--eval-episodes",
        "1",
        "--quiet",
        "--out",
        dir.path().to_str().unwrap(),
    ];
    let o = harness(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = only_run_dir(dir.path());
    for file in [
        "policy.bin",
        "eval.gif",
        "metrics.parquet",
        "episodes.parquet",
    ] {
        assert!(run.join(file).exists(), "{file} of {}", run.display());
    }
    let t = read_table(&run.join("runs.parquet"));
    let version = string_at(&t, "env_provider_version", 0).unwrap();
    assert!(version.contains("ale-py "), "{version}");
    let config = string_at(&t, "config_json", 0).unwrap();
    assert!(config.contains("\"view\":\"pixels\""), "{config}");
    let episodes = read_table(&run.join("episodes.parquet"));
    assert!(episodes.num_rows() >= 1, "at least the evaluation episode");
    let gif = dir.path().join("again.gif");
    let again = [
        "render",
        "--run",
        run.to_str().unwrap(),
        "--episodes",
        "1",
        "--max-frames",
        "10",
        "-o",
        gif.to_str().unwrap(),
    ];
    let o = harness(&again);
    assert!(o.status.success(), "render --run: {}", stderr(&o));
    assert!(gif.exists());
}
