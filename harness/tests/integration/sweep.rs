//! `harness sweep`: every cell of the grid, resumption after a crash,
//! results independent of `--jobs`, failures recorded without stopping.

use crate::common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `harness sweep --algos random --envs cartpole,pendulum --seeds 2` with a
/// tiny budget, into `out`.
fn small_sweep(out: &Path, jobs: &str) -> std::process::Output {
    let mut args = small_sweep_args(
        "random",
        "cartpole,pendulum",
        "2",
        jobs,
        out.to_str().unwrap(),
    );
    args.extend(["--set", "steps_per_iteration=500"]);
    harness(&args)
}

/// Run directories under `out`, by name.
fn run_dirs(out: &Path) -> BTreeMap<String, PathBuf> {
    std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect()
}

/// Every file under `dir` with its bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    all_files(dir)
        .into_iter()
        .map(|p| {
            let meta = std::fs::metadata(&p).unwrap();
            (
                p.clone(),
                (std::fs::read(&p).unwrap(), meta.modified().unwrap()),
            )
        })
        .collect()
}

#[test]
fn sweep_resumes_after_a_crash_redoing_only_unfinished_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let o = small_sweep(&out, "2");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_stdout_contains(&o, "4 runs: 4 ran now, 0 had finished before; 0 failed");
    // Not a terminal: one line per finished run, with its final evaluation.
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains(": ok, ") && l.contains(", final eval ")),
        "{lines:?}"
    );
    let runs = run_dirs(&out);
    assert_eq!(runs.len(), 4);
    assert!(out.join("sweep.json").is_file());
    for d in runs.values() {
        for f in [
            "runs.parquet",
            "metrics.parquet",
            "episodes.parquet",
            "policy.bin",
        ] {
            assert!(d.join(f).is_file(), "{}/{f}", d.display());
        }
    }

    // Simulate `kill -9` mid-run: one run wrote its metrics and was writing
    // `runs.parquet` (a temp file, no final file); another had only begun.
    let mut names = runs.keys();
    let (crashed, begun) = (
        runs[names.next().unwrap()].clone(),
        runs[names.next().unwrap()].clone(),
    );
    std::fs::remove_file(crashed.join("runs.parquet")).unwrap();
    std::fs::write(crashed.join(".runs.parquet.tmp-99999"), b"half a file").unwrap();
    std::fs::remove_dir_all(&begun).unwrap();
    std::fs::create_dir(&begun).unwrap();
    std::fs::write(begun.join(".metrics.parquet.tmp-99999"), b"").unwrap();
    let untouched: Vec<_> = runs
        .values()
        .filter(|d| **d != crashed && **d != begun)
        .collect();
    let before: Vec<_> = untouched.iter().map(|d| snapshot(d)).collect();

    let o = small_sweep(&out, "2");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_stdout_contains(&o, "4 runs: 2 ran now, 2 had finished before; 0 failed");
    for d in [&crashed, &begun] {
        assert!(d.join("runs.parquet").is_file());
        let temps: Vec<_> = all_files(d)
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(temps.is_empty(), "leftovers: {temps:?}");
    }
    let after: Vec<_> = untouched.iter().map(|d| snapshot(d)).collect();
    assert_eq!(before, after, "finished runs were touched");

    // Nothing left to do.
    let o = small_sweep(&out, "2");
    assert_stdout_contains(&o, "0 ran now, 4 had finished before");
}

#[test]
fn results_do_not_depend_on_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for (out, jobs) in [(&a, "1"), (&b, "2")] {
        let o = small_sweep(out, jobs);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let (ra, rb) = (run_dirs(&a), run_dirs(&b));
    assert_eq!(ra.keys().collect::<Vec<_>>(), rb.keys().collect::<Vec<_>>());
    for (id, da) in &ra {
        for table in ["metrics.parquet", "episodes.parquet"] {
            let x = without_wall_clock(read_table(&da.join(table)));
            let y = without_wall_clock(read_table(&rb[id].join(table)));
            assert!(x.num_rows() > 0);
            assert_eq!(x, y, "{id}/{table} differs between --jobs 1 and --jobs 2");
        }
        assert_eq!(
            std::fs::read(da.join("policy.bin")).unwrap(),
            std::fs::read(rb[id].join("policy.bin")).unwrap()
        );
    }
}

#[test]
fn failures_are_recorded_listed_and_retried_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let lib = compile_plugin(
        &workspace().join("harness/tests/fixtures/faulty_plugin.c"),
        &["FAULT_ERROR"],
        dir.path(),
        "faulty",
    );
    let file = dir.path().join("grid.toml");
    std::fs::write(
        &file,
        format!(
            r#"
            algos = ["random", "faulty"]
            envs = ["cartpole"]
            seeds = [4]
            steps = 1000
            plugins = [{lib:?}]
            out = {out:?}
            [variants.zero-batch]          # refused by the plugin at create
            algo = "random"
            config = {{ steps_per_iteration = 0 }}
            "#,
            out = dir.path().join("out").to_str().unwrap(),
        ),
    )
    .unwrap();
    let sweep = |extra: &[&str]| {
        let mut args = vec!["sweep", file.to_str().unwrap()];
        args.extend(extra);
        harness(&args)
    };
    let o = sweep(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let (text, err) = (stdout(&o), stderr(&o));
    assert!(
        text.contains("3 runs: 3 ran now, 0 had finished before; 2 failed"),
        "{text}"
    );
    assert!(
        text.contains("deliberate failure from the faulty fixture"),
        "{text}"
    );
    assert!(text.contains("steps_per_iteration"), "{text}");
    assert!(err.contains("error: 2 of 3 runs failed"), "{err}");
    // Both failures have a `runs` row with status `failed` and the error.
    let runs = run_dirs(&dir.path().join("out"));
    let statuses: BTreeMap<String, (String, Option<String>)> = runs
        .values()
        .map(|d| {
            let t = read_table(&d.join("runs.parquet"));
            (
                string_at(&t, "algorithm_id", 0).unwrap()
                    + &string_at(&t, "config_json", 0).unwrap(),
                (
                    string_at(&t, "status", 0).unwrap(),
                    string_at(&t, "error", 0),
                ),
            )
        })
        .collect();
    assert_eq!(statuses.values().filter(|(s, _)| s == "failed").count(), 2);
    assert!(statuses.values().all(|(s, e)| (s == "ok") == e.is_none()));
    let labels = std::fs::read_to_string(dir.path().join("out/sweep.json")).unwrap();
    assert!(labels.contains("\"zero-batch\""), "{labels}");

    // Rerun: failures count as finished (still listed); --retry-failed redoes them.
    let o = sweep(&[]);
    assert_stdout_contains(&o, "0 ran now, 3 had finished before; 2 failed");
    let o = sweep(&["--retry-failed"]);
    assert_stdout_contains(&o, "2 ran now, 1 had finished before; 2 failed");
}

#[test]
fn bad_sweeps_are_refused_before_any_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    let o = |args: &[&str]| {
        let mut all = vec!["sweep", "--out", out.to_str().unwrap()];
        all.extend(args);
        harness(&all)
    };
    let r = o(&[
        "--algos",
        "random,nope",
        "--envs",
        "cartpole",
        "--seeds",
        "1",
    ]);
    assert_eq!(r.status.code(), Some(1));
    assert!(
        stderr(&r).contains("unknown algorithm 'nope'"),
        "{}",
        stderr(&r)
    );
    let r = o(&["--algos", "random", "--envs", "cartpol", "--seeds", "1"]);
    assert!(
        stderr(&r).contains("unknown env 'cartpol'"),
        "{}",
        stderr(&r)
    );
    let r = o(&[
        "--algos", "random", "--envs", "cartpole", "--seeds", "1", "--set", "delta=1",
    ]);
    assert!(
        stderr(&r).contains("no algorithm of this sweep has config key 'delta'"),
        "{}",
        stderr(&r)
    );
    // Flags that the file form would ignore are usage errors.
    let r = harness(&["sweep", "x.toml", "--algos", "random"]);
    assert_eq!(r.status.code(), Some(2));
    let r = harness(&["sweep", "--algos", "random", "--envs", "cartpole"]);
    assert_eq!(r.status.code(), Some(2), "--seeds is required");
    assert!(!out.exists(), "nothing was written");
}

/// Every sweep file committed under `benches/sweeps` resolves (algorithms,
/// config keys and values, envs, env options): the experiments that the
/// docs cite by file stay runnable as the code changes under them.
#[test]
fn committed_sweep_files_resolve() {
    let dir = workspace().join("benches/sweeps");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    assert!(
        files.len() >= 2,
        "sweep files under {}: {files:?}",
        dir.display()
    );
    for file in files {
        let o = harness(&["sweep", file.to_str().unwrap(), "--resolve-only"]);
        assert!(
            o.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// A sweep keeps starting its runs with the executable it was started from
/// when that file is deleted or replaced under it (a `cargo build` during a
/// long sweep), instead of failing every later run with "No such file".
#[test]
fn runs_start_after_the_harness_file_is_deleted_mid_sweep() {
    // A hard link beside the build, so removing it deletes a name the
    // running sweep came from while the executable itself stays on disk.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let exe = dir.path().join("harness");
    std::fs::hard_link(env!("CARGO_BIN_EXE_harness"), &exe).unwrap();
    let out = dir.path().join("out");
    let args = small_sweep_args(
        "random",
        "cartpole,pendulum",
        "4",
        "1",
        out.to_str().unwrap(),
    );
    let child = std::process::Command::new(&exe)
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Delete the name as soon as the sweep runs from it, before its eight
    // runs (one at a time) have all started.
    // The kernel names the resolved path: a target dir under a symlink
    // (CARGO_TARGET_TMPDIR through it) must still match.
    let resolved = exe.canonicalize().unwrap();
    let started = std::time::Instant::now();
    let proc_exe = PathBuf::from(format!("/proc/{}/exe", child.id()));
    while std::fs::read_link(&proc_exe).ok().as_deref() != Some(resolved.as_path()) {
        assert!(started.elapsed().as_secs() < 30, "the sweep never started");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    std::fs::remove_file(&exe).unwrap();
    let output = child.wait_with_output().unwrap();
    let said = format!("{}{}", stdout(&output), stderr(&output));
    assert!(output.status.success(), "{said}");
    assert!(
        said.contains("8 ran now") && said.contains("0 failed"),
        "{said}"
    );
}
