//! Env providers: the C example provider runs through `harness run` and the
//! host paths of native envs (seeds, episodes, evaluation, eval.gif, the
//! `runs` record), passes the validator; broken providers fail the right
//! checks, fail runs naming themselves, and cost a sweep only their runs.

use crate::common::*;
use std::path::Path;
use std::process::Output;

const ID: &str = "PointMass-v0";

/// The C example provider, compiled into `dir`.
fn pointmass(dir: &Path) -> String {
    let source = workspace().join("plugins/c/pointmass_env.c");
    let lib = compile_plugin(&source, &[], dir, "pointmass_env");
    lib.to_str().unwrap().to_string()
}

/// The broken provider built with `-D<define>`.
fn broken(dir: &Path, define: &str) -> String {
    let source = workspace().join("harness/tests/fixtures/broken_provider.c");
    let lib = compile_plugin(&source, &[define], dir, &format!("broken_{define}"));
    lib.to_str().unwrap().to_string()
}

/// `harness run --algo random` on the provider's env.
fn run(lib: &str, out: &Path, seed: &str, threads: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--plugin",
        lib,
        "--algo",
        "random",
        "--env",
        ID,
        "--steps",
        "1200",
        "--num-envs",
        "3",
        "--eval-every",
        "600",
        "--eval-episodes",
        "2",
        "--seed",
        seed,
        "--threads",
        threads,
        "--quiet",
        "--out",
    ];
    args.push(out.to_str().unwrap());
    args.extend(extra);
    harness(&args)
}

#[test]
fn the_c_provider_runs_through_the_host_paths_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    let lib = pointmass(dir.path());
    let listed = harness(&["list", "--plugin", &lib]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains(ID) && text.contains("max_steps") && text.contains("trustbench-c-pointmass"),
        "{text}"
    );
    // The Gymnasium family loads on first use, yet `list` names it.
    assert!(text.contains("gym:<ID>"), "{text}");

    let out = |name: &str| dir.path().join(name);
    let o = run(&lib, &out("a"), "1", "1", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let a = only_run_dir(&out("a"));
    let runs = read_table(&a.join("runs.parquet"));
    assert_eq!(string_at(&runs, "status", 0).as_deref(), Some("ok"));
    assert_eq!(
        string_at(&runs, "env_id", 0).as_deref(),
        Some(ID),
        "the id keeps its case"
    );
    assert_eq!(
        string_at(&runs, "env_provider", 0).as_deref(),
        Some("trustbench-c-pointmass")
    );
    assert_eq!(
        string_at(&runs, "env_provider_version", 0).as_deref(),
        Some("1.0.0")
    );
    assert_eq!(
        string_at(&runs, "env_provider_path", 0).as_deref(),
        Some(lib.as_str())
    );
    let config = string_at(&runs, "config_json", 0).unwrap();
    assert!(
        config.contains(r#""max_steps":"200""#),
        "options recorded: {config}"
    );
    assert!(
        a.join("eval.gif").is_file(),
        "rendered through the extension"
    );
    let episodes = read_table(&a.join("episodes.parquet"));
    // 1200 steps over 3 copies of a 200-step task (the random plugin's one
    // iteration): at least 6 train episodes, then the final evaluation's 2.
    assert!(episodes.num_rows() >= 6 + 2, "{}", episodes.num_rows());

    // Same seed on other threads: the same rows; another seed: others.
    let o = run(&lib, &out("b"), "1", "3", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_results(&a, &only_run_dir(&out("b")), "--threads 1 vs 3");
    let o = run(&lib, &out("c"), "2", "1", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let other = without_wall_clock(read_table(
        &only_run_dir(&out("c")).join("episodes.parquet"),
    ));
    assert_ne!(
        without_wall_clock(episodes),
        other,
        "seed 2 gives other episodes"
    );

    // Options reach the provider, and its refusals name the value.
    let o = run(&lib, &out("d"), "1", "1", &["--env-set", "mass=-1"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("'mass'"), "{}", stderr(&o));
    let o = run(&lib, &out("d"), "1", "1", &["--env-set", "gravity=1"]);
    assert!(stderr(&o).contains("no option 'gravity'"), "{}", stderr(&o));

    // The vine branches through the snapshot extension.
    let o = harness(&short_trpo_args(
        "0",
        out("vine").to_str().unwrap(),
        &[
            "--plugin",
            &lib,
            "--env",
            ID,
            "--steps",
            "3000",
            "--num-envs",
            "2",
            "--set",
            "sampling=vine",
            "--set",
            "vine_trunk_steps=50",
            "--set",
            "vine_states=8",
            "--set",
            "vine_rollout_length=10",
        ],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn the_c_provider_passes_the_validator_and_broken_ones_fail_the_right_check() {
    let dir = tempfile::tempdir().unwrap();
    let (code, rows) = check_plugin(&["--plugin", &pointmass(dir.path())]);
    assert_eq!(code, Some(0), "{rows:?}");
    let env = format!("env {ID}");
    for c in [
        "env-spaces",
        "env-lengths",
        "env-determinism",
        "env-snapshot",
    ] {
        assert_eq!(
            rows[&(env.clone(), c.to_string())].0,
            "PASS",
            "{c}: {rows:?}"
        );
    }
    assert_eq!(
        rows[&("env *".to_string(), "env-entry".to_string())].0,
        "PASS"
    );
    assert_eq!(
        rows[&("*".to_string(), "entry".to_string())].0,
        "SKIP",
        "no algorithms"
    );

    let failing = |define: &str| {
        let (code, rows) =
            check_plugin(&["--plugin", &broken(dir.path(), define), "--timeout", "5s"]);
        assert_eq!(code, Some(1), "{define}: {rows:?}");
        let fail: Vec<(String, String)> = rows
            .iter()
            .filter(|(_, (s, _))| s == "FAIL")
            .map(|((_, c), (_, r))| (c.clone(), r.clone()))
            .collect();
        fail
    };
    let crash = failing("FAULT_CRASH");
    assert!(
        crash
            .iter()
            .any(|(c, r)| c == "env-determinism" && r.starts_with("killed by SIGSEGV")),
        "{crash:?}"
    );
    let hang = failing("FAULT_HANG");
    assert!(
        hang.iter()
            .any(|(c, r)| c == "env-determinism" && r == "timed out (limit 5s)"),
        "{hang:?}"
    );
    let nan = failing("FAULT_NAN");
    assert!(
        nan.iter()
            .any(|(c, r)| c == "env-determinism" && r.contains("non-finite reward")),
        "{nan:?}"
    );
    let nondeterministic = failing("FAULT_NONDETERMINISTIC");
    let checks: Vec<&str> = nondeterministic.iter().map(|(c, _)| c.as_str()).collect();
    assert!(checks.contains(&"env-determinism"), "{nondeterministic:?}");
}

#[test]
fn a_provider_that_returns_nan_fails_the_run_naming_itself() {
    let dir = tempfile::tempdir().unwrap();
    let lib = broken(dir.path(), "FAULT_NAN");
    let out = dir.path().join("out");
    let o = run(&lib, &out, "0", "2", &[]);
    assert!(!o.status.success());
    let runs = read_table(&only_run_dir(&out).join("runs.parquet"));
    assert_eq!(string_at(&runs, "status", 0).as_deref(), Some("failed"));
    let error = string_at(&runs, "error", 0).unwrap();
    assert!(
        error.contains("env provider 'trustbench-c-pointmass'")
            && error.contains("non-finite reward"),
        "{error}"
    );
}

#[test]
fn a_crashing_provider_is_recorded_crashed_in_a_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let lib = broken(dir.path(), "FAULT_CRASH");
    let out = dir.path().join("out");
    let o = harness(&[
        "sweep",
        "--algos",
        "random",
        "--plugin",
        &lib,
        "--envs",
        ID,
        "--seeds",
        "2",
        "--steps",
        "600",
        "--jobs",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let dirs: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("runs.parquet").is_file())
        .collect();
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    for d in dirs {
        let runs = read_table(&d.join("runs.parquet"));
        assert_eq!(string_at(&runs, "status", 0).as_deref(), Some("crashed"));
        let error = string_at(&runs, "error", 0).unwrap();
        assert!(error.contains("SIGSEGV"), "{error}");
        assert_eq!(
            string_at(&runs, "env_provider_path", 0).as_deref(),
            Some(lib.as_str())
        );
    }
}
