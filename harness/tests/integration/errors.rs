//! Every way a run can go wrong gives a one-line message naming the culprit,
//! a non-zero exit, and no half-written file.

use crate::common::*;
use harness::catalog::Catalog;
use harness::plugin::PluginLibrary;
use harness::run::{self, RunRequest};
use std::path::Path;
use trustbench_plugin::{Actor, Algorithm, AlgorithmInfo, Host, Learner, Spaces, kinds};

/// Asserts the failure contract and returns stderr's single line.
fn fails(args: &[&str], out: &Path) -> String {
    let o = harness(args);
    assert!(!o.status.success(), "expected failure: {args:?}");
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "one error line: {err}");
    let stray: Vec<_> = all_files(out)
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(stray.is_empty(), "temp files left: {stray:?}");
    lines[0].to_string()
}

#[test]
fn unknown_algorithm_and_env_name_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let e = fails(
        &["run", "--algo", "trpoo", "--env", "cartpole", "--out", o],
        &out,
    );
    assert!(
        e.contains("unknown algorithm 'trpoo'") && e.contains("random"),
        "{e}"
    );
    let e = fails(
        &["run", "--algo", "random", "--env", "cartpol", "--out", o],
        &out,
    );
    assert!(
        e.contains("unknown env 'cartpol'")
            && e.contains("cartpole-v0")
            && e.contains("pendulum-v0"),
        "{e}"
    );
    assert!(!out.exists(), "nothing written");
}

#[test]
fn bad_config_keys_and_values_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let base = [
        "run", "--algo", "random", "--env", "cartpole", "--steps", "100", "--out", o,
    ];
    let e = fails(
        &[&base[..], &["--set", "step_per_iteration=5"]].concat(),
        &out,
    );
    assert!(
        e.contains("unknown config key 'step_per_iteration'") && e.contains("steps_per_iteration"),
        "{e}"
    );
    let e = fails(
        &[&base[..], &["--set", "steps_per_iteration=0"]].concat(),
        &out,
    );
    assert!(
        e.contains("'steps_per_iteration' = 0 is out of range") && e.contains("plugin 'random'"),
        "{e}"
    );
    let e = fails(
        &[&base[..], &["--set", "steps_per_iteration=fast"]].concat(),
        &out,
    );
    assert!(e.contains("expects an integer"), "{e}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn incompatible_libraries_are_refused_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let lib = faulty(dir.path(), "FAULT_ABI_MAJOR");
    let e = fails(
        &[
            "run", "--plugin", &lib, "--algo", "faulty", "--env", "cartpole", "--out", o,
        ],
        &out,
    );
    assert!(
        e.contains(&lib) && e.contains("ABI 2.0") && e.contains("ABI 1.x"),
        "{e}"
    );
    let lib = faulty(dir.path(), "FAULT_NO_ENTRY");
    let e = fails(
        &[
            "run", "--plugin", &lib, "--algo", "faulty", "--env", "cartpole", "--out", o,
        ],
        &out,
    );
    assert!(
        e.contains(&lib) && e.contains("trustbench_plugin_entry_v1"),
        "{e}"
    );
    let e = fails(&["list", "--plugin", "/no/such/plugin.so"], &out);
    assert!(
        e.contains("/no/such/plugin.so") && e.contains("no such file"),
        "{e}"
    );
    assert!(!out.exists(), "nothing written");
}

/// A run that fails after starting keeps what it recorded: complete tables
/// with status `failed` and the error text.
fn assert_failed_run_recorded(out: &Path, expected: &str) {
    let run = only_run_dir(out);
    let runs = read_table(&run.join("runs.parquet"));
    assert_eq!(string_at(&runs, "status", 0).as_deref(), Some("failed"));
    let error = string_at(&runs, "error", 0).unwrap();
    assert!(error.contains(expected), "{error}");
    assert!(run.join("metrics.parquet").exists() && run.join("episodes.parquet").exists());
    assert!(
        !run.join("policy.bin").exists(),
        "no policy from a failed run"
    );
}

#[test]
fn misbehaving_plugins_fail_the_run_with_their_name() {
    for (define, expected) in [
        (
            "FAULT_ERROR",
            "failed in train_iteration: deliberate failure from the faulty fixture",
        ),
        (
            "FAULT_NAN",
            "misused the host: invalid action for env 0: element 0 is NaN",
        ),
        (
            "FAULT_SHORT",
            "returned 0 action values for 1 observations; expected 1",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let lib = faulty(dir.path(), define);
        let e = fails(
            &[
                "run",
                "--plugin",
                &lib,
                "--algo",
                "faulty",
                "--env",
                "pendulum",
                "--steps",
                "50",
                "--num-envs",
                "1",
                "--eval-episodes",
                "1",
                "--out",
                out.to_str().unwrap(),
            ],
            &out,
        );
        assert!(
            e.contains("plugin 'faulty'") && e.contains(&lib) && e.contains(expected),
            "{define}: {e}"
        );
        assert_failed_run_recorded(&out, expected);
    }
}

/// A Rust plugin that panics in `train_iteration`.
struct Panicky;

impl Algorithm for Panicky {
    type Config = NoKeys;
    fn info() -> AlgorithmInfo {
        AlgorithmInfo {
            id: "panicky",
            name: "Panics",
            version: "0.0.1",
            description: "panics in train_iteration",
            observation_kinds: kinds::ANY,
            action_kinds: kinds::ANY,
        }
    }
    fn create(_: NoKeys, _: &Spaces, _: &Host) -> trustbench_plugin::Result<Self> {
        Ok(Panicky)
    }
}

impl Learner for Panicky {
    fn train_iteration(&mut self, _: &mut Host) -> trustbench_plugin::Result<()> {
        let empty: Vec<u8> = Vec::new();
        let _ = empty[3]; // index out of bounds
        Ok(())
    }

    fn actor(&mut self) -> &mut dyn Actor {
        self
    }
}

impl Actor for Panicky {
    fn act(&mut self, _: &[f64], _: bool, _: &mut [f64]) -> trustbench_plugin::Result<()> {
        Ok(())
    }
    fn save(&self) -> trustbench_plugin::Result<Vec<u8>> {
        Ok(Vec::new())
    }
    fn load(&mut self, _: &[u8]) -> trustbench_plugin::Result<()> {
        Ok(())
    }
}

trustbench_plugin::plugin_library!(fn panicky_entry, "test-panicky", "0.0.1", [Panicky]);

#[test]
fn a_panicking_plugin_becomes_an_error_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = Catalog::new(&[]).unwrap();
    catalog.prepend(PluginLibrary::builtin(panicky_entry).unwrap());
    let algorithm = catalog.find("panicky").unwrap();
    let req = RunRequest {
        config: algorithm.info.default_config.clone(),
        algorithm,
        env: trustbench_envs::resolve("cartpole").unwrap(),
        seed: 0,
        steps: 100,
        num_envs: 1,
        eval_every: 0,
        eval_episodes: 1,
        out_dir: dir.path().to_path_buf(),
        quiet: true,
        threads: 1,
    };
    let e = format!("{:#}", run::execute(&req).unwrap_err());
    assert!(
        e.contains(
            "plugin 'panicky' (built-in) failed in train_iteration: panicked: index out of bounds"
        ),
        "{e}"
    );
    assert_failed_run_recorded(dir.path(), "panicked");
}

/// A budget that is not a multiple of the number of copies ends the run
/// at the last whole step (8 copies, 300 steps: 296), not in a
/// "made no progress" error on the next iteration.
#[test]
fn a_budget_that_does_not_divide_into_copies_ends_the_run_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    for algo in ["random", "trpo"] {
        let o = harness(&[
            "run",
            "--algo",
            algo,
            "--env",
            "cartpole",
            "--steps",
            "300",
            "--num-envs",
            "8",
            "--eval-episodes",
            "1",
            "--out",
            dir.path().to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{algo}: {}", stderr(&o));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(stdout.contains("ok, 296 env steps"), "{algo}: {stdout}");
    }
}
