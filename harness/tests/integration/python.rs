//! Python plugins (`--plugin algo.py`), end to end through the harness
//! binary: learning, the validator, determinism, failures as run statuses,
//! a sweep and report beside the built-ins, and what `runs` records.
//!
//! They need a Python 3 with NumPy and its shared library (a virtual
//! environment is honoured through `VIRTUAL_ENV`). Without one they are
//! skipped with a message, unless `TRUSTBENCH_REQUIRE_PYTHON` is set (as in
//! `.ci/run`), where a missing Python is a failure.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// A temporary directory for a Python test, or `None` when they cannot run
/// here (see [`python_ready`]).
fn python_tempdir() -> Option<tempfile::TempDir> {
    python_ready().then(|| tempfile::tempdir().unwrap())
}

/// Whether the Python tests can run here; prints why not once.
fn python_ready() -> bool {
    static READY: OnceLock<Option<String>> = OnceLock::new();
    let problem = READY.get_or_init(|| {
        let python = std::env::var("VIRTUAL_ENV")
            .map(|v| format!("{v}/bin/python"))
            .unwrap_or_else(|_| "python3".into());
        let check = "import numpy, sysconfig, sys; sys.exit(0 if sysconfig.get_config_var('Py_ENABLE_SHARED') else 3)";
        match Command::new(&python).args(["-c", check]).output() {
            Ok(o) if o.status.success() => None,
            Ok(o) => Some(format!(
                "{python} cannot run them: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Some(format!("no {python}: {e}")),
        }
    });
    match problem {
        None => true,
        Some(why) if std::env::var_os("TRUSTBENCH_REQUIRE_PYTHON").is_some() => {
            panic!("TRUSTBENCH_REQUIRE_PYTHON is set, but {why}")
        }
        Some(why) => {
            eprintln!(
                "skipping a Python plugin test: {why}. To run them: python3 -m venv .venv && \
                 .venv/bin/pip install numpy, then run the tests with VIRTUAL_ENV=$PWD/.venv \
                 (Python needs its shared library: Debian's libpython3-dev, or pyenv with \
                 --enable-shared)"
            );
            false
        }
    }
}

fn example(name: &str) -> String {
    workspace()
        .join("examples/python")
        .join(name)
        .display()
        .to_string()
}

fn fixture(name: &str) -> String {
    workspace()
        .join("harness/tests/fixtures/python")
        .join(name)
        .display()
        .to_string()
}

/// `harness sweep` of example `script`'s `algos` on cartpole with `seeds`
/// seeds of `steps` env steps into `out`, and `extra`.
fn example_sweep(
    (script, algos): (&str, &str),
    (seeds, steps): (&str, &str),
    out: &Path,
    extra: &[&str],
) -> std::process::Output {
    let plugin = example(script);
    let mut args = vec![
        "sweep", "--plugin", &plugin, "--algos", algos, "--envs", "cartpole",
    ];
    args.extend([
        "--seeds",
        seeds,
        "--steps",
        steps,
        "--out",
        out.to_str().unwrap(),
    ]);
    args.extend(extra);
    harness(&args)
}

/// Run a Python algorithm quietly into `out`, no GIF, one final evaluation.
fn run(plugin: &str, algo: &str, env: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run", "--plugin", plugin, "--algo", algo, "--env", env, "--quiet", "--no-gif", "--out",
    ];
    let out = out.to_str().unwrap();
    args.push(out);
    args.extend_from_slice(extra);
    harness(&args)
}

/// Mean return of the run's final evaluation.
fn final_eval(run_dir: &Path) -> f64 {
    use arrow_array::{Array, Float64Array, StringArray, UInt64Array};
    let t = read_table(&run_dir.join("episodes.parquet"));
    let phase = t.column_by_name("phase").unwrap();
    let phase = phase.as_any().downcast_ref::<StringArray>().unwrap();
    let steps = t.column_by_name("env_steps").unwrap();
    let steps = steps.as_any().downcast_ref::<UInt64Array>().unwrap();
    let ret = t.column_by_name("episode_return").unwrap();
    let ret = ret.as_any().downcast_ref::<Float64Array>().unwrap();
    let evals: Vec<usize> = (0..t.num_rows())
        .filter(|&i| phase.value(i) == "eval")
        .collect();
    let last = evals.iter().map(|&i| steps.value(i)).max().unwrap();
    let finals: Vec<f64> = evals
        .iter()
        .filter(|&&i| steps.value(i) == last)
        .map(|&i| ret.value(i))
        .collect();
    assert!(!finals.is_empty() && !ret.is_null(0));
    finals.iter().sum::<f64>() / finals.len() as f64
}

/// A seed-0 run of example `script`'s `algo` on `env` for `steps` env
/// steps, evaluated only at the end over `episodes`, scores at least
/// `floor` (when Python can run here).
fn assert_learns(script: &str, algo: &str, env: &str, (steps, episodes): (&str, &str), floor: f64) {
    let Some(dir) = python_tempdir() else {
        return;
    };
    let o = run(
        &example(script),
        algo,
        env,
        dir.path(),
        &[
            "--steps",
            steps,
            "--seed",
            "0",
            "--eval-every",
            "0",
            "--eval-episodes",
            episodes,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let score = final_eval(&only_run_dir(dir.path()));
    assert!(score >= floor, "final evaluation {score}");
}

#[test]
fn reinforce_in_numpy_learns_cartpole() {
    // Random play scores about 22 on CartPole-v1; the cap is 500.
    let budget = ("60000", "10");
    assert_learns("reinforce.py", "reinforce-py", "cartpole", budget, 150.0);
}

#[test]
fn same_seed_same_rows_another_seed_other_rows() {
    let Some(dir) = python_tempdir() else {
        return;
    };
    let go = |seed: &str, name: &str| {
        let out = dir.path().join(name);
        let o = run(
            &example("reinforce.py"),
            "reinforce-py",
            "cartpole",
            &out,
            &[
                "--steps",
                "6000",
                "--seed",
                seed,
                "--eval-every",
                "3000",
                "--eval-episodes",
                "2",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        only_run_dir(&out)
    };
    let (a, b, c) = (go("3", "a"), go("3", "b"), go("4", "c"));
    assert_same_results(&a, &b, "two runs with seed 3");
    let episodes = |d: &PathBuf| without_wall_clock(read_table(&d.join("episodes.parquet")));
    assert_ne!(
        episodes(&a),
        episodes(&c),
        "seeds 3 and 4 gave the same episodes"
    );
}

#[test]
fn the_examples_pass_the_validator() {
    if !python_ready() {
        return;
    }
    for (file, algo) in [
        ("reinforce.py", "reinforce-py"),
        ("cem.py", "cem-py"),
        ("uniform_random.py", "random-py"),
    ] {
        let o = harness(&[
            "check",
            "plugin",
            "--plugin",
            &example(file),
            "--algo",
            algo,
        ]);
        let text = stdout(&o);
        assert!(o.status.success(), "{file}: {text}\n{}", stderr(&o));
        assert!(text.contains(" PASS, 0 FAIL"), "{file}: {text}");
    }
}

#[test]
fn cem_in_numpy_improves_on_swimmer() {
    // A random policy scores about 0 on swimmer (it drifts, it does not swim).
    assert_learns("cem.py", "cem-py", "swimmer", ("200000", "2"), 15.0);
}

#[test]
fn python_failures_are_run_statuses_and_the_others_finish() {
    let Some(dir) = python_tempdir() else {
        return;
    };
    let out = dir.path().join("out");
    let faulty = fixture("faulty.py");
    let algos = "py-raise,py-exit,py-abort,random";
    let mut args = small_sweep_args(algos, "cartpole", "1", "2", out.to_str().unwrap());
    args.extend(["--plugin", &faulty]);
    let o = harness(&args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let runs = run_records(&out);
    assert_eq!(runs.len(), 4, "{runs:?}");
    let by_algo = |algo: &str| {
        runs.iter()
            .find(|(id, _)| id.starts_with(&format!("{algo}-")))
            .map(|(_, r)| (r.status.clone(), r.error.clone().unwrap_or_default()))
            .unwrap_or_else(|| panic!("no {algo} run: {runs:?}"))
    };
    let (status, error) = by_algo("py-raise");
    assert_eq!(status, "failed", "{error}");
    assert!(
        error.contains("Traceback (most recent call last)"),
        "{error}"
    );
    assert!(
        error.contains("ValueError: deliberate failure in train_iteration"),
        "{error}"
    );
    assert!(error.contains("faulty.py\", line"), "{error}");
    let (status, error) = by_algo("py-exit");
    assert_eq!(status, "failed", "{error}");
    assert!(error.contains("SystemExit: 3"), "{error}");
    let (status, error) = by_algo("py-abort");
    assert_eq!(status, "crashed", "{error}");
    assert!(error.contains("SIGABRT"), "{error}");
    assert_eq!(by_algo("random").0, "ok");
}

#[test]
fn an_import_error_names_the_file_and_line() {
    let Some(dir) = python_tempdir() else {
        return;
    };
    let (script, steps) = (fixture("broken_import.py"), ["--steps", "100"]);
    let o = run(&script, "anything", "cartpole", dir.path(), &steps);
    assert!(!o.status.success());
    let text = stderr(&o);
    assert!(
        text.contains(&format!("{script}:4: ModuleNotFoundError")),
        "{text}"
    );
    // A syntax error too: its own line.
    let bad = dir.path().join("syntax.py");
    std::fs::write(&bad, "import numpy\n\ndef broken(:\n    pass\n").unwrap();
    let o = run(
        bad.to_str().unwrap(),
        "x",
        "cartpole",
        dir.path(),
        &["--steps", "100"],
    );
    let text = stderr(&o);
    assert!(text.contains("syntax.py:3: SyntaxError"), "{text}");
}

#[test]
fn a_sweep_and_report_compare_a_python_algorithm_with_the_builtins() {
    let Some(dir) = python_tempdir() else {
        return;
    };
    let out = dir.path().join("out");
    let evaluations = [
        "--eval-every",
        "2000",
        "--eval-episodes",
        "2",
        "--jobs",
        "2",
    ];
    let o = example_sweep(
        ("reinforce.py", "reinforce-py,vpg,random"),
        ("4", "4000"),
        &out,
        &evaluations,
    );
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let runs = run_records(&out);
    assert_eq!(runs.len(), 12, "{runs:?}");
    assert!(runs.values().all(|r| r.status == "ok"), "{runs:?}");
    let report = dir.path().join("report");
    let o = harness(&[
        "report",
        out.to_str().unwrap(),
        "-o",
        report.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    for algo in ["reinforce-py", "vpg", "random"] {
        assert!(html.contains(algo), "the report does not mention {algo}");
    }
}

#[test]
fn runs_record_the_interpreter_and_the_script_hash() {
    let Some(dir) = python_tempdir() else {
        return;
    };
    let (script, steps) = (example("uniform_random.py"), ["--steps", "1000"]);
    let o = run(&script, "random-py", "cartpole", dir.path(), &steps);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = read_table(&only_run_dir(dir.path()).join("runs.parquet"));
    assert_eq!(
        string_at(&t, "plugin_path", 0).as_deref(),
        Some(script.as_str())
    );
    let runtime: serde_json::Value =
        serde_json::from_str(&string_at(&t, "plugin_runtime", 0).expect("plugin_runtime")).unwrap();
    let sha = Command::new("sha256sum").arg(&script).output().unwrap();
    let sha = String::from_utf8_lossy(&sha.stdout);
    assert_eq!(
        runtime["script_sha256"].as_str(),
        sha.split_whitespace().next()
    );
    let version = runtime["python"].as_str().unwrap();
    assert!(version.starts_with("3."), "{runtime}");
}

#[test]
fn sigterm_during_a_python_iteration_is_recorded_interrupted() {
    let Some(dir) = python_tempdir() else {
        return;
    };
    let out = dir.path().join("out");
    // One iteration would take the whole (huge) budget: the stop must come
    // from inside it.
    let script = example("uniform_random.py");
    let args = [
        "run",
        "--plugin",
        &script,
        "--algo",
        "random-py",
        "--env",
        "pendulum",
        "--quiet",
        "--steps",
        "1000000000",
        "--set",
        "steps_per_iteration=1000000000",
    ];
    harness_stopped_by_sigterm(&args, &out, 1, Duration::from_millis(500));
    let runs = run_records(&out);
    let run = runs.values().next().expect("a runs row");
    assert_eq!(run.status, "interrupted");
}

#[test]
fn without_python_a_py_plugin_gets_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = harness_with_env(
        &[
            "run",
            "--plugin",
            &example("uniform_random.py"),
            "--algo",
            "random-py",
            "--env",
            "cartpole",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        &[("TRUSTBENCH_PYTHON", "/nonexistent/python3")],
    );
    assert!(!o.status.success());
    let text = stderr(&o);
    assert!(
        text.contains("Python plugins need a Python 3 interpreter"),
        "{text}"
    );
    assert!(text.contains("/nonexistent/python3"), "{text}");
    // Every native command works as ever: the harness does not link libpython.
    let ldd = Command::new("ldd")
        .arg(env!("CARGO_BIN_EXE_harness"))
        .output();
    if let Ok(ldd) = ldd {
        let libs = String::from_utf8_lossy(&ldd.stdout);
        assert!(!libs.contains("libpython"), "{libs}");
    }
}

#[test]
fn the_docs_skeleton_runs_and_passes_the_validator() {
    if !python_ready() {
        return;
    }
    let plugins = std::fs::read_to_string(workspace().join("docs/plugins.md")).unwrap();
    let start = plugins
        .find("A skeleton:")
        .expect("docs/plugins.md has a skeleton");
    let block = &plugins[start..];
    let code = &block[block.find("```python\n").unwrap() + 10..];
    let code = &code[..code.find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("skeleton.py");
    std::fs::write(&script, code).unwrap();
    let script = script.to_str().unwrap();
    let o = harness(&["check", "plugin", "--plugin", script]);
    let text = stdout(&o);
    assert!(
        o.status.success() && text.contains(" PASS, 0 FAIL"),
        "{text}\n{}",
        stderr(&o)
    );
    let o = run(
        script,
        "my-algo",
        "cartpole",
        &dir.path().join("out"),
        &["--steps", "4000"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn reinforce_in_jax_learns_cartpole() {
    if !python_ready() {
        return;
    }
    let python = std::env::var("VIRTUAL_ENV")
        .map(|v| format!("{v}/bin/python"))
        .unwrap_or_else(|_| "python3".into());
    let has_jax = Command::new(&python)
        .args(["-c", "import jax"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_jax {
        assert!(
            std::env::var_os("TRUSTBENCH_REQUIRE_PYTHON").is_none(),
            "TRUSTBENCH_REQUIRE_PYTHON is set, but {python} has no JAX"
        );
        eprintln!("skipping the JAX example: {python} -m pip install jax==0.10.2");
        return;
    }
    let budget = ("80000", "10");
    assert_learns(
        "reinforce_jax.py",
        "reinforce-jax",
        "cartpole",
        budget,
        150.0,
    );
}

#[test]
fn slurm_job_scripts_carry_the_interpreter_and_virtual_environment() {
    let Some(dir) = python_tempdir() else {
        return;
    };
    let out = dir.path().join("out");
    let slurm = ["--slurm", "--dry-run"];
    let o = example_sweep(
        ("uniform_random.py", "random-py"),
        ("2", "1000"),
        &out,
        &slurm,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let script = std::fs::read_dir(out.join("slurm"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "sbatch"))
        .expect("a job script");
    let text = std::fs::read_to_string(script).unwrap();
    assert!(text.contains("export TRUSTBENCH_PYTHON='"), "{text}");
    assert!(text.contains("export TRUSTBENCH_PYTHON_HOST='"), "{text}");
    if let Ok(venv) = std::env::var("VIRTUAL_ENV") {
        assert!(
            text.contains(&format!("export VIRTUAL_ENV='{venv}'")),
            "{text}"
        );
    }
    // The exports come before the harness runs.
    assert!(
        text.find("export TRUSTBENCH_PYTHON=") < text.find("exec "),
        "{text}"
    );
}

#[test]
fn check_cg_checks_a_python_natural_gradient_against_the_exact_solve() {
    let Some(dir) = python_tempdir() else {
        return;
    };
    let fixture = fixture("natural.py");
    let o = harness(&[
        "check",
        "cg",
        "--plugin",
        &fixture,
        "--algo",
        "py-natural",
        "--env",
        "cartpole",
        "--iters",
        "8",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let text = stdout(&o);
    assert!(o.status.success(), "{text}\n{}", stderr(&o));
    // 4 observations × 2 actions = 8 parameters: CG is exact after 8 steps.
    let error = cg_relative_error(&text);
    assert!(error < 1e-6, "relative error {error}\n{text}");
}
