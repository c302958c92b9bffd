//! Every run of a sweep in its own process: a plugin that segfaults,
//! aborts, exits or hangs costs only its own run, which is recorded with
//! the right status; signals stop sweeps and runs cleanly; shards; the job
//! script's quoting; and isolation leaves the results unchanged (claims:
//! `integrity.rs`).

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// No file of a half-done write anywhere below `dir`.
fn assert_no_temp_files(dir: &Path) {
    let temps: Vec<PathBuf> = all_files(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(temps.is_empty(), "leftovers: {temps:?}");
}

/// A sweep of `random` and the faulty fixture built with `define`, two
/// seeds each, on two workers, into `dir/out`.
fn sweep_with_fault(dir: &Path, define: &str, extra: &[&str]) -> Output {
    let lib = faulty(dir, define);
    let out = dir.join("out");
    let mut args = small_sweep_args("random,faulty", "cartpole", "2", "2", out.to_str().unwrap());
    args.extend(["--plugin", &lib, "--set", "steps_per_iteration=500"]);
    args.extend(extra);
    harness(&args)
}

/// The faulty runs end with `status` and an error containing `what`; the
/// random runs finish ok; a rerun skips them all.
fn check_fault(define: &str, extra: &[&str], status: &str, what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let o = sweep_with_fault(dir.path(), define, extra);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_stdout_contains(&o, "4 runs: 4 ran now, 0 had finished before; 2 failed");
    let out = dir.path().join("out");
    let rows = run_records(&out);
    assert_eq!(rows.len(), 4, "{rows:?}");
    for (id, row) in &rows {
        if id.starts_with("random-") {
            assert_eq!(row.status, "ok", "{id}: {row:?}");
            assert_eq!(row.env_steps, 2000);
        } else {
            let error = row.error.as_deref().unwrap_or("");
            assert_eq!(row.status, status, "{id}: {row:?}");
            assert!(error.contains(what), "{id}: {error}");
            // Two iterations of one step each came before the fault, and the
            // child's last words are in the record.
            assert_eq!(row.env_steps, 2, "{id}: {row:?}");
            assert!(
                error.contains("after 2 env steps (2 iterations)"),
                "{error}"
            );
            assert!(error.contains("striking at iteration 3"), "{error}");
        }
    }
    assert_no_temp_files(&out);
    // The report lists them apart, with their status and error.
    let html = dir.path().join("report");
    let o = harness(&[
        "report",
        out.to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(html.join("index.html")).unwrap();
    let failed = &html[html.find("Failed runs (2)").expect("a failed-runs table")..];
    let failed = &failed[..failed.find("</table>").unwrap()];
    assert!(failed.contains(">status<"), "{failed}");
    assert_eq!(
        failed.matches(&format!(">{status}<")).count(),
        2,
        "{failed}"
    );
    assert_eq!(failed.matches(what).count(), 2, "{failed}");
    let o = sweep_with_fault(dir.path(), define, extra);
    assert_stdout_contains(&o, "0 ran now, 4 had finished before; 2 failed");
}

#[test]
fn a_segfaulting_plugin_is_recorded_crashed() {
    check_fault("FAULT_SEGV", &[], "crashed", "killed by SIGSEGV");
}

#[test]
fn an_aborting_plugin_is_recorded_crashed() {
    check_fault("FAULT_ABORT", &[], "crashed", "killed by SIGABRT");
}

#[test]
fn an_exiting_plugin_is_recorded_crashed() {
    check_fault(
        "FAULT_EXIT",
        &[],
        "crashed",
        "exited with code 3 without writing results",
    );
}

#[test]
fn a_hanging_plugin_is_stopped_at_the_timeout() {
    let t0 = Instant::now();
    check_fault(
        "FAULT_HANG",
        &["--timeout", "2s"],
        "timeout",
        "timed out (limit 2s)",
    );
    // Two hung runs on two workers: 2 s, then the 10 s grace before SIGKILL.
    assert!(t0.elapsed() < Duration::from_secs(60), "{:?}", t0.elapsed());
}

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(needle))
        .collect()
}

#[test]
fn sigterm_to_a_sweep_records_runs_in_flight_as_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // Budgets far beyond what the test waits for.
    let args = [
        "sweep",
        "--algos",
        "random",
        "--envs",
        "pendulum",
        "--seeds",
        "3",
        "--steps",
        "1000000000",
        "--jobs",
        "2",
    ];
    let o = harness_stopped_by_sigterm(&args, &out, 2, Duration::from_millis(500));
    assert!(
        stderr(&o).contains("error: interrupted by SIGTERM"),
        "{}",
        stderr(&o)
    );
    assert_stdout_contains(
        &o,
        "3 runs: 2 ran now, 0 had finished before; 0 failed, 2 interrupted",
    );
    let rows = run_records(&out);
    assert_eq!(rows.len(), 2, "the third run never started: {rows:?}");
    for (id, row) in &rows {
        assert_eq!(row.status, "interrupted", "{id}: {row:?}");
        assert!(row.env_steps > 0, "{id}: {row:?}");
        let error = row.error.as_deref().unwrap();
        assert!(error.contains("interrupted by SIGTERM"), "{error}");
        assert!(
            error.contains(&format!("stopped at {} of", row.env_steps)),
            "{error}"
        );
    }
    assert_no_temp_files(&out);
    assert!(
        processes_mentioning(out.to_str().unwrap()).is_empty(),
        "orphans: {:?}",
        processes_mentioning(out.to_str().unwrap())
    );
    let claims: Vec<PathBuf> = all_files(&out)
        .into_iter()
        .filter(|p| p.file_name().unwrap() == ".claim")
        .collect();
    assert!(claims.is_empty(), "claims were released: {claims:?}");
    // Interrupted runs are not finished: the status view counts them pending.
    let o = harness(&["sweep", "--status", out.to_str().unwrap()]);
    assert_stdout_contains(&o, "total: 0 finished, 0 failed, 0 running, 3 pending");
}

#[test]
fn sigterm_to_a_run_writes_its_tables_as_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let args = [
        "run",
        "--algo",
        "random",
        "--env",
        "pendulum",
        "--quiet",
        "--steps",
        "1000000000",
    ];
    harness_stopped_by_sigterm(&args, &out, 1, Duration::from_millis(300));
    let rows = run_records(&out);
    let row = rows.values().next().expect("a runs row");
    assert_eq!(row.status, "interrupted", "{row:?}");
    assert!(row.env_steps > 0);
    let run = only_run_dir(&out);
    assert!(run.join("metrics.parquet").is_file() && run.join("episodes.parquet").is_file());
    assert_no_temp_files(&out);
}

#[test]
fn shards_run_every_run_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            "--algos",
            "random",
            "--envs",
            "cartpole,pendulum",
            "--seeds",
            "3",
            "--steps",
            "600",
            "--set",
            "steps_per_iteration=300",
            "--quiet",
            "--out",
        ];
        args.push(out.to_str().unwrap());
        args.extend(extra);
        harness(&args)
    };
    let mut ran = 0;
    for i in 0..4 {
        let o = sweep(&["--shard", &format!("{i}/4")]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        let n: usize = text
            .split(" ran now")
            .next()
            .and_then(|s| s.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{text}"));
        assert!((1..=2).contains(&n), "6 runs in 4 shards: {text}");
        ran += n;
    }
    assert_eq!(ran, 6);
    let rows = run_records(&out);
    assert_eq!(rows.len(), 6);
    assert!(rows.values().all(|r| r.status == "ok"));
    // The whole sweep finds nothing left to do.
    let o = sweep(&[]);
    assert_stdout_contains(&o, "6 runs: 0 ran now, 6 had finished before");
    let o = sweep(&["--shard", "4/4"]);
    assert_eq!(o.status.code(), Some(2), "clap refuses a bad shard");
    assert!(stderr(&o).contains("'4/4'"), "{}", stderr(&o));
}

#[test]
fn isolation_does_not_change_results() {
    let dir = tempfile::tempdir().unwrap();
    let (alone, swept) = (dir.path().join("alone"), dir.path().join("swept"));
    let common = [
        "--steps",
        "2000",
        "--set",
        "steps_per_iteration=500",
        "--quiet",
    ];
    let mut run = vec![
        "run", "--algo", "trpo", "--env", "pendulum", "--seed", "1", "--out",
    ];
    run.push(alone.to_str().unwrap());
    run.extend(common);
    let o = harness(&run);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut sweep = vec![
        "sweep", "--algos", "trpo", "--envs", "pendulum", "--seeds", "2", "--out",
    ];
    sweep.push(swept.to_str().unwrap());
    sweep.extend(common);
    let o = harness(&sweep);
    assert!(o.status.success(), "{}", stderr(&o));
    let alone_dir = only_run_dir(&alone);
    let id = alone_dir.file_name().unwrap();
    assert!(id.to_string_lossy().contains("-s1-"));
    let swept_dir = swept.join(id);
    for table in ["metrics.parquet", "episodes.parquet"] {
        let a = without_wall_clock(read_table(&alone_dir.join(table)));
        let b = without_wall_clock(read_table(&swept_dir.join(table)));
        assert!(a.num_rows() > 0);
        assert_eq!(a, b, "{table} differs between a sweep and the run alone");
    }
    assert_eq!(
        std::fs::read(alone_dir.join("policy.bin")).unwrap(),
        std::fs::read(swept_dir.join("policy.bin")).unwrap()
    );
}

#[test]
fn the_job_script_passes_every_value_through_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let lib = faulty(dir.path(), "FAULT_ERROR");
    let canary = dir.path().join("canary");
    // Not JSON, so `--set` keeps it as the string it is.
    let nasty = format!(
        "it's a \"test\" $(touch {c}) `touch {c}` ${{HOME}} \\ ;|&\nsecond line",
        c = canary.display()
    );
    let out = dir.path().join("out dir with 'quotes' and $(spaces)");
    let note = format!("note={nasty}");
    let o = harness(&[
        "sweep",
        "--algos",
        "faulty",
        "--plugin",
        &lib,
        "--envs",
        "cartpole",
        "--seeds",
        "2",
        "--steps",
        "100",
        "--set",
        &note,
        "--out",
        out.to_str().unwrap(),
        "--slurm",
        "--partition",
        "debug",
        "--time",
        "0:10:00",
        "--dry-run",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("(2 runs in 2 tasks)"), "{}", stdout(&o));
    let scripts: Vec<PathBuf> = std::fs::read_dir(out.join("slurm"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(scripts.len(), 1, "{scripts:?}");
    let script = std::fs::read_to_string(&scripts[0]).unwrap();
    assert!(script.contains("#SBATCH --array=0-1\n"), "{script}");
    assert!(script.contains("#SBATCH --time='0:10:00'\n"), "{script}");
    // Run both tasks as Slurm would, from another directory.
    for task in ["0", "1"] {
        let o = Command::new("bash")
            .arg(&scripts[0])
            .env("SLURM_ARRAY_TASK_ID", task)
            .current_dir("/")
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(1),
            "the fixture fails: {}",
            stderr(&o)
        );
        assert!(stdout(&o).contains("(shard "), "{}", stdout(&o));
    }
    assert!(!canary.exists(), "the shell executed part of a value");
    let rows = run_records(&out);
    assert_eq!(rows.len(), 2, "{rows:?}");
    for id in rows.keys() {
        let t = read_table(&out.join(id).join("runs.parquet"));
        let config = string_at(&t, "config_json", 0).unwrap();
        let config: serde_json::Value = serde_json::from_str(&config).unwrap();
        assert_eq!(config["algorithm"]["note"], nasty.as_str());
    }
}

#[test]
fn status_counts_runs_per_algorithm_and_env() {
    let dir = tempfile::tempdir().unwrap();
    let o = sweep_with_fault(dir.path(), "FAULT_ERROR", &["--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = dir.path().join("out");
    // One run's results lost: it is pending again.
    let lost = run_records(&out)
        .into_keys()
        .find(|k| k.starts_with("random-"))
        .unwrap();
    std::fs::remove_file(out.join(&lost).join("runs.parquet")).unwrap();
    let o = harness(&["sweep", "--status", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let line = |label: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("{text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        line("random"),
        ["random", "cartpole-v0", "1", "0", "0", "1"],
        "{text}"
    );
    assert_eq!(
        line("faulty"),
        ["faulty", "cartpole-v0", "0", "2", "0", "0"],
        "{text}"
    );
    assert!(
        text.contains("total: 1 finished, 2 failed, 0 running, 1 pending"),
        "{text}"
    );
    let o = harness(&["sweep", "--status", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("holds no sweep"), "{}", stderr(&o));
}
