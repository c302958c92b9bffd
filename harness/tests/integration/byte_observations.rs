//! Pixel observations as bytes across the ABI (`trustbench.byte-observations/1`):
//! the same results as the `f64` path, and plugins built before the
//! extension existed still run.

use crate::common::*;
use arrow_array::{Array, UInt64Array};
use std::path::{Path, PathBuf};

/// What the harness reads to withhold host extensions (`harness::host::HIDE_EXTENSIONS_VAR`).
const HIDE: &str = "TRUSTBENCH_HIDE_HOST_EXTENSIONS";

/// A short TRPO run on breakout pixels (the paper's 50 × 38 frames, short
/// episodes so some end) into `out`, with environment variables `vars`.
fn trpo_on_pixels(out: &Path, vars: &[(&str, &str)]) -> PathBuf {
    let extra = short_pixel_breakout(&["--env-set", "preset=2015"]);
    let o = harness_with_env(&short_trpo_args("2", out.to_str().unwrap(), &extra), vars);
    assert!(o.status.success(), "{}", stderr(&o));
    only_run_dir(out)
}

#[test]
fn byte_observations_do_not_change_a_pixel_trpo_run() {
    assert_eq!(HIDE, harness::host::HIDE_EXTENSIONS_VAR);
    let dir = tempfile::tempdir().unwrap();
    let bytes = trpo_on_pixels(&dir.path().join("bytes"), &[]);
    let hidden = [(HIDE, "trustbench.byte-observations/1")];
    let values = trpo_on_pixels(&dir.path().join("values"), &hidden);
    assert_same_results(&bytes, &values, "byte observations vs f64 observations");
}

/// The `runs` row of the single run under `out`: its status and env steps.
fn status_and_steps(out: &Path) -> (Option<String>, u64) {
    let runs = read_table(&only_run_dir(out).join("runs.parquet"));
    let steps = runs.column_by_name("env_steps").unwrap();
    let steps = steps.as_any().downcast_ref::<UInt64Array>().unwrap();
    (string_at(&runs, "status", 0), steps.value(0))
}

#[test]
fn a_c_plugin_built_against_abi_1_0_runs_on_pixels_and_locomotion() {
    let dir = tempfile::tempdir().unwrap();
    let include = workspace().join("harness/tests/fixtures/abi-1.0");
    let header = std::fs::read_to_string(include.join("trustbench_plugin.h")).unwrap();
    assert!(
        !header.contains("TB_HOST_EXT_"),
        "the fixture is the header from before any host extension"
    );
    let source = workspace().join("plugins/c/random_plugin.c");
    let lib = compile_plugin_against(&include, &source, &[], dir.path(), "random_abi_1_0");
    let lib = lib.to_str().unwrap();
    for (name, env) in [
        ("pixels", &["breakout", "--env-set", "view=pixels"][..]),
        ("locomotion", &["hopper"][..]),
    ] {
        let out = dir.path().join(name);
        let mut args = vec!["run", "--plugin", lib, "--algo", "c-random", "--env"];
        args.extend_from_slice(env);
        args.extend_from_slice(&["--steps", "800", "--num-envs", "4", "--eval-every", "0"]);
        args.extend_from_slice(&["--eval-episodes", "1", "--no-gif", "--quiet"]);
        args.extend_from_slice(&["--out", out.to_str().unwrap()]);
        let o = harness(&args);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert_eq!(status_and_steps(&out), (Some("ok".into()), 800), "{name}");
    }
}
