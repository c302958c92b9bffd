//! `harness check plugin`: the built-ins and the C example pass; plugins
//! broken on purpose (in C and through the Rust SDK) are caught, each by
//! the check for the rule it breaks.

use crate::common::*;
use std::path::PathBuf;

fn assert_all_pass(rows: &Rows, algorithms: usize) {
    assert_eq!(rows.len(), 1 + 10 * algorithms, "{rows:#?}");
    for ((algo, check), (status, reason)) in rows {
        assert_eq!(status, "PASS", "{algo} {check}: {reason}");
    }
}

#[test]
fn every_builtin_algorithm_passes() {
    // What is asserted is that every check passes. The default 60 s per
    // check bounds a hung plugin (tested in isolation.rs); a loaded CI
    // machine runs the debug build's checks far slower than this one
    // (PPO's took 8.3 s an iteration before its network passes were
    // compiled optimised, see `Observations`), so each check gets ten minutes.
    let (code, rows) = check_plugin(&["--timeout", "10m"]);
    assert_all_pass(&rows, 7);
    assert_eq!(code, Some(0));
}

#[test]
fn the_c_example_passes() {
    let dir = tempfile::tempdir().unwrap();
    let source = workspace().join("plugins/c/random_plugin.c");
    let lib = compile_plugin(&source, &[], dir.path(), "random_c");
    let (code, rows) = check_plugin(&["--plugin", lib.to_str().unwrap()]);
    assert_all_pass(&rows, 1);
    assert_eq!(code, Some(0));
}

/// The checks that FAIL for `algo`, and the reason of `check`.
fn failures(rows: &Rows, algo: &str) -> Vec<String> {
    rows.iter()
        .filter(|((a, _), (s, _))| a == algo && s == "FAIL")
        .map(|((_, c), _)| c.clone())
        .collect()
}

fn reason<'a>(rows: &'a Rows, algo: &str, check: &str) -> &'a str {
    &rows[&(algo.to_string(), check.to_string())].1
}

/// Checks that train (all but config, spaces, acting and errors).
const TRAINING: [&str; 5] = ["budget", "determinism", "save-load", "speed", "threads"];

#[test]
fn broken_c_plugins_are_each_caught_by_the_right_check() {
    let dir = tempfile::tempdir().unwrap();
    let source = workspace().join("harness/tests/fixtures/broken_plugin.c");
    let lib = compile_plugin(&source, &[], dir.path(), "broken");
    let (code, rows) = check_plugin(&["--plugin", lib.to_str().unwrap(), "--timeout", "3s"]);
    assert_eq!(code, Some(1));
    assert_eq!(rows[&("*".into(), "entry".into())].0, "PASS");

    assert_eq!(failures(&rows, "crash"), TRAINING);
    assert!(reason(&rows, "crash", "determinism").starts_with("killed by SIGSEGV"));
    assert_eq!(failures(&rows, "hang"), TRAINING);
    assert_eq!(reason(&rows, "hang", "budget"), "timed out (limit 3s)");
    assert_eq!(failures(&rows, "global-state"), ["threads"]);
    assert_eq!(
        failures(&rows, "nondeterministic"),
        ["determinism", "threads"]
    );
    assert!(reason(&rows, "nondeterministic", "determinism").contains("seed 0 differ"));
    assert_eq!(failures(&rows, "save-mismatch"), ["save-load"]);
    assert_eq!(failures(&rows, "accepts-unknown"), ["config-unknown-key"]);
    assert!(reason(&rows, "accepts-unknown", "config-unknown-key").contains("accepted"));
    assert_eq!(failures(&rows, "oversteps"), ["budget"]);
}

/// The SDK fixture's cdylib, built by cargo as a dev-dependency in `deps/`.
fn broken_sdk_library() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_harness"));
    let name = format!(
        "{}trustbench_broken_sdk{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let path = bin.parent().unwrap().join("deps").join(name);
    assert!(path.exists(), "{} not built", path.display());
    path
}

#[test]
fn broken_sdk_plugins_are_each_caught_by_the_right_check() {
    let lib = broken_sdk_library();
    let (code, rows) = check_plugin(&["--plugin", lib.to_str().unwrap(), "--timeout", "3s"]);
    assert_eq!(code, Some(1));
    assert_eq!(failures(&rows, "sdk-crash"), TRAINING);
    assert!(reason(&rows, "sdk-crash", "threads").starts_with("killed by SIGABRT"));
    assert_eq!(failures(&rows, "sdk-hang"), TRAINING);
    assert!(reason(&rows, "sdk-hang", "speed").starts_with("timed out"));
    // A shared RNG: deterministic alone, not beside another instance (and
    // not saved with the instance either).
    assert_eq!(failures(&rows, "sdk-shared-rng"), ["save-load", "threads"]);
    assert_eq!(
        failures(&rows, "sdk-nondeterministic"),
        ["determinism", "threads"]
    );
    assert_eq!(failures(&rows, "sdk-save-mismatch"), ["save-load"]);
    assert_eq!(failures(&rows, "sdk-oversteps"), ["budget"]);
}

#[test]
fn bad_arguments_name_the_value_and_the_valid_ones() {
    let o = harness(&["check", "plugin", "--timeout", "soon"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("'soon'"), "{}", stderr(&o));
    let o = harness(&["check", "plugin", "--algo", "trpoo"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("'trpoo'") && e.contains("trpo, npg"), "{e}");
}
