//! `harness reproduce trpo2015`: the smoke scale runs every piece end to
//! end (grid, CG check on the trained policy, report with claims) and
//! resumes, and a signal stops it before the check and the report; the
//! paper scale only plans unless told to run here.

use crate::common::*;
use std::path::Path;

/// `harness reproduce trpo2015 --scale smoke` with `extra` flags into `out`,
/// called twice: the first call runs all `runs` runs, the second (on one
/// thread per run: threads are no part of a run's identity) finds every
/// one finished. The first call's stdout.
fn smoke_twice(out: &Path, extra: &[&str], runs: usize) -> String {
    let mut args = vec![
        "reproduce",
        "trpo2015",
        "--scale",
        "smoke",
        "--jobs",
        "2",
        "--quiet",
    ];
    args.extend(extra);
    args.extend(["--out", out.to_str().unwrap()]);
    let o = harness(&args);
    let text = stdout(&o);
    assert!(o.status.success(), "{text}\n{}", stderr(&o));
    let ran = format!("{runs} runs: {runs} ran now, 0 had finished before; 0 failed");
    assert!(text.contains(&ran), "{text}");
    let mut one_thread = args.clone();
    one_thread.extend(["--threads", "1"]);
    let again = harness(&one_thread);
    assert!(again.status.success(), "{}", stderr(&again));
    let skipped = format!("{runs} runs: 0 ran now, {runs} had finished before");
    assert!(stdout(&again).contains(&skipped), "{}", stdout(&again));
    text
}

#[test]
fn smoke_scale_runs_every_piece_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trpo2015");
    smoke_twice(&out, &[], 102);
    assert!(
        out.join("checks/check-cg-trpo-hopper-v0-s0/check_cg.parquet")
            .is_file()
    );
    let summary = std::fs::read_to_string(out.join("report/summary.md")).unwrap();
    let html = std::fs::read_to_string(out.join("report/index.html")).unwrap();
    // The claims come first, before the per-env results.
    let claims = summary
        .find("## Claims of the TRPO paper")
        .expect("a claims section");
    assert!(claims < summary.find("## Learning curves").unwrap());
    assert!(html.contains("id=\"claims\""));
    for id in [
        "trpo-vs-npg",
        "cem-cma",
        "vine-per-iteration",
        "games-vs-random",
        "cg-iterations",
        "kl-bound",
    ] {
        assert!(
            summary.contains(&format!("| {id} |")),
            "no evidence for {id}"
        );
    }
    // Smoke budgets are far below the paper's, and the report says so.
    assert!(
        summary.contains("No claim was judged at the paper's settings"),
        "{summary}"
    );
    assert!(summary.contains("(paper: iteration 200)"), "{summary}");
    // Every comparison has its runs: no claim is left "not run".
    assert!(!summary.contains(": not run"), "{summary}");
    assert!(!summary.contains("| not run |"), "{summary}");
}

#[test]
fn a_signal_stops_a_reproduction_before_its_check_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let args = ["reproduce", "trpo2015", "--scale", "smoke", "--jobs", "1"];
    // `runs/` exists once the sweep has started; a second later runs are
    // in flight and most of the grid is still to go.
    let o = harness_stopped_by_sigterm(&args, &out, 1, std::time::Duration::from_secs(1));
    let err = stderr(&o);
    assert!(err.contains("error: interrupted by SIGTERM"), "{err}");
    assert!(!err.contains("failed (listed above)"), "{err}");
    assert_stdout_contains(&o, "runs not finished are redone by the same command");
    assert!(!out.join("checks").exists(), "no CG check of a missing run");
    assert!(!out.join("report").exists(), "no report of half a grid");
}

#[test]
fn paper_scale_prints_its_plan_and_runs_nothing_without_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("paper");
    let o = harness(&[
        "reproduce",
        "trpo2015",
        "--scale",
        "paper",
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        text.contains("CPU-HOURS (EST.)") && text.contains("estimated CPU time"),
        "{text}"
    );
    assert!(
        text.contains("hopper: 200 iterations of 1000000 steps"),
        "{text}"
    );
    assert!(text.contains("not started") && !out.exists(), "{text}");
    // --dry-run also writes the job array that runs it on a cluster: one
    // task per run, each a shard of this very command.
    let o = harness(&[
        "reproduce",
        "trpo2015",
        "--scale",
        "paper",
        "--dry-run",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("CPU-HOURS (EST.)"));
    let script =
        std::fs::read_to_string(out.join("slurm/reproduce-trpo2015-paper.sbatch")).unwrap();
    let runs: usize = stdout(&o)
        .split("--scale paper: ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the plan's run count");
    assert!(
        script.contains(&format!("#SBATCH --array=0-{}\n", runs - 1)),
        "{script}"
    );
    assert!(script.contains("'reproduce' \\\n  'trpo2015'"), "{script}");
    assert!(script.contains("'--local-paper-scale'"), "{script}");
    assert!(
        script.contains(&format!("\"${{SLURM_ARRAY_TASK_ID}}/{runs}\"")),
        "{script}"
    );
    assert!(!out.join("runs").exists(), "a dry run runs nothing");
    let o = harness(&[
        "reproduce",
        "trpo2015",
        "--scale",
        "quick",
        "--local-paper-scale",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--scale paper only"), "{}", stderr(&o));
}

#[test]
fn the_mujoco_suite_runs_at_smoke_scale_and_resumes() {
    if !crate::gym::importable("gymnasium, mujoco") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("suites");
    // Three MuJoCo tasks × random, trpo, npg, vpg, cem, cma.
    let text = smoke_twice(&out, &["--suite", "mujoco", "--seeds", "1"], 18);
    assert!(
        text.contains("left out of the native grid: trpo-vine"),
        "{text}"
    );
    // The CG check belongs to the native suite.
    assert!(!out.join("checks").exists());
    let summary = std::fs::read_to_string(out.join("report/summary.md")).unwrap();
    for env in ["gym:Swimmer-v5", "gym:Hopper-v5", "gym:Walker2d-v5"] {
        assert!(summary.contains(env), "no {env} in the report");
    }
    // Slurm-ready like the native suite: each task runs a shard of this
    // very suite (--only included), under its own job name.
    let o = harness(&[
        "reproduce",
        "trpo2015",
        "--suite",
        "mujoco",
        "--scale",
        "smoke",
        "--seeds",
        "1",
        "--only",
        "trpo,random",
        "--slurm",
        "--dry-run",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let script =
        std::fs::read_to_string(out.join("slurm/reproduce-trpo2015-mujoco-smoke.sbatch")).unwrap();
    assert!(script.contains("'--suite' \\\n  'mujoco'"), "{script}");
    assert!(script.contains("'--only' \\\n  'trpo,random'"), "{script}");
    assert!(script.contains("#SBATCH --array=0-5\n"), "6 runs: {script}");
}
