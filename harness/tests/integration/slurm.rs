//! `harness sweep --slurm` on a real Slurm: ignored by default, since it
//! needs a cluster. `.ci/run` starts one (`bash ci/local-slurm.sh start`,
//! a single node on localhost) and runs it:
//! `cargo test --workspace --test integration slurm -- --ignored`.

use crate::common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Submit the sweep (`args` after `harness sweep`) with `--slurm`; the job id.
fn submit(args: &[&str]) -> String {
    let mut all = vec!["sweep"];
    all.extend(args);
    all.push("--slurm");
    let o = harness(&all);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    text.split("submitted job array ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("no job id in: {text}"))
        .to_string()
}

/// Whether job `id` still has tasks pending or running.
fn active(id: &str) -> bool {
    let o = Command::new("squeue")
        .args(["-h", "-j", id, "-o", "%i %T"])
        .output()
        .expect("squeue runs");
    o.status.success() && !String::from_utf8_lossy(&o.stdout).trim().is_empty()
}

/// Wait (bounded) until `done` holds.
fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !done() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// `(status, runs.parquet bytes)` of every run under `out`.
fn runs(out: &Path) -> Vec<(String, String, Vec<u8>)> {
    let mut rows: Vec<(String, String, Vec<u8>)> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("runs.parquet").is_file())
        .map(|p| {
            let t = read_table(&p.join("runs.parquet"));
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                string_at(&t, "status", 0).unwrap(),
                std::fs::read(p.join("runs.parquet")).unwrap(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
#[ignore = "needs Slurm: bash ci/local-slurm.sh start (.ci/run does)"]
fn slurm_job_arrays_finish_every_run_and_resubmission_redoes_only_unfinished() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    // Four runs, one per task: cartpole runs are short, pendulum runs long
    // enough to be cancelled while running.
    let file = dir.path().join("grid.toml");
    std::fs::write(
        &file,
        "algos = [\"random\"]\nenvs = [\"cartpole\", \"pendulum\"]\nseeds = 2\n\
         steps = 2000\nenv_steps = { pendulum = 20000000 }\n",
    )
    .unwrap();
    let sweep = [file.to_str().unwrap(), "--out", out_s];
    let job = submit(&sweep);
    // Plan order is seed-major: task 1 runs pendulum seed 0.
    let pendulum0 = || {
        std::fs::read_dir(&out).ok().is_some_and(|d| {
            d.filter_map(Result::ok).any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("random-pendulum-v0-s0-")
            })
        })
    };
    wait_until(
        "pendulum seed 0 to start",
        Duration::from_secs(120),
        pendulum0,
    );
    std::thread::sleep(Duration::from_millis(500));
    let o = Command::new("scancel")
        .arg(format!("{job}_1"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    wait_until("the first job", Duration::from_secs(300), || !active(&job));
    let first = runs(&out);
    let statuses: Vec<(&str, &str)> = first
        .iter()
        .map(|(id, s, _)| (id.split("-s").next().unwrap(), s.as_str()))
        .collect();
    assert_eq!(first.len(), 4, "{statuses:?}");
    let interrupted: Vec<&str> = first
        .iter()
        .filter(|(_, s, _)| s == "interrupted")
        .map(|(id, _, _)| id.as_str())
        .collect();
    assert_eq!(interrupted.len(), 1, "{statuses:?}");
    assert!(interrupted[0].starts_with("random-pendulum-v0-s0-"));
    assert_eq!(first.iter().filter(|(_, s, _)| s == "ok").count(), 3);
    let o = harness(&["sweep", "--status", out_s]);
    assert_stdout_contains(&o, "total: 3 finished, 0 failed, 0 running, 1 pending");

    // The same command again: only the interrupted run is redone.
    let job = submit(&sweep);
    wait_until("the second job", Duration::from_secs(300), || !active(&job));
    let second = runs(&out);
    assert_eq!(second.len(), 4);
    assert!(second.iter().all(|(_, s, _)| s == "ok"), "{second:?}");
    for ((id, status, bytes), (_, _, again)) in first.iter().zip(&second) {
        if status == "ok" {
            assert_eq!(bytes, again, "{id} was run twice");
        }
    }
    let o = harness(&["sweep", "--status", out_s]);
    assert_stdout_contains(&o, "total: 4 finished, 0 failed, 0 running, 0 pending");
}

#[test]
#[ignore = "needs Slurm: bash ci/local-slurm.sh start (.ci/run does)"]
fn a_task_resubmitted_while_its_first_attempt_runs_does_not_run_it_twice() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    // Task 0 runs a short random run; task 1 a plugin that hangs (at its
    // third iteration) until the test cancels it: still running, whatever
    // the machine's speed and the queue, when the array is submitted again.
    let lib = compile_plugin(
        &workspace().join("harness/tests/fixtures/faulty_plugin.c"),
        &["FAULT_HANG"],
        dir.path(),
        "hang",
    );
    let file = dir.path().join("grid.toml");
    std::fs::write(
        &file,
        format!(
            "algos = [\"random\", \"faulty\"]\nenvs = [\"cartpole\"]\nseeds = 1\nsteps = 2000\n\
             plugins = [{lib:?}]\n"
        ),
    )
    .unwrap();
    let sweep = [file.to_str().unwrap(), "--out", out_s];
    let first = submit(&sweep);
    let claimed = || {
        std::fs::read_dir(&out).ok().is_some_and(|d| {
            d.filter_map(Result::ok).any(|e| {
                e.file_name().to_string_lossy().starts_with("faulty-")
                    && e.path().join(".claim").is_file()
            })
        })
    };
    wait_until("the hanging run's claim", Duration::from_secs(120), claimed);
    let second = submit(&sweep);
    wait_until("the second job", Duration::from_secs(300), || {
        !active(&second)
    });
    assert!(
        active(&first),
        "the first attempt ended before the second job"
    );
    let o = Command::new("scancel").arg(&first).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    wait_until("the first job", Duration::from_secs(300), || {
        !active(&first)
    });
    // Every run executed once, by the first job; the second skipped the one in flight.
    let runs = runs(&out);
    let statuses: Vec<&str> = runs.iter().map(|(_, s, _)| s.as_str()).collect();
    assert_eq!(statuses, ["interrupted", "ok"], "{runs:?}");
    for (id, _, _) in &runs {
        let log = std::fs::read_to_string(out.join(id).join(".claim.log")).unwrap();
        assert_eq!(
            log.lines().count(),
            1,
            "{id} executed more than once:\n{log}"
        );
    }
    let logs: String = std::fs::read_dir(out.join("slurm"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(&format!("-{second}_")))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(logs.contains("1 running elsewhere"), "{logs}");
    let o = harness(&["sweep", "--status", out_s]);
    assert_stdout_contains(&o, "total: 1 finished, 0 failed, 0 running, 1 pending");
}
