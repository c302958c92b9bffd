//! No run executes twice at once, whoever starts it (sweeps, shards, lone
//! runs, from any process group); claims of dead runners are taken over;
//! typos cannot plan the machine to death; a leaking plugin is stopped at
//! `--mem-limit` and recorded `oom` while its sibling finishes.

use crate::common::*;
use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `harness sweep` of six short random runs into `out`, plus `extra`, as a
/// child in a process group of its own.
fn spawn_sweep(out: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["sweep", "--algos", "random", "--envs", "cartpole,pendulum"])
        .args([
            "--seeds",
            "3",
            "--steps",
            "6000",
            "--set",
            "steps_per_iteration=500",
        ])
        .args([
            "--eval-every",
            "0",
            "--eval-episodes",
            "1",
            "--jobs",
            "1",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The number after `what` in a sweep summary, e.g. `3 ran now` → 3.
fn count(summary: &str, what: &str) -> usize {
    let Some(before) = summary
        .split(what)
        .next()
        .filter(|b| b.len() < summary.len())
    else {
        return 0;
    };
    before
        .rsplit([' ', ','])
        .find(|w| !w.is_empty())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count before '{what}' in: {summary}"))
}

/// Per run directory: its status and how many executions its claim log lists.
fn executions(out: &Path) -> BTreeMap<String, (String, usize)> {
    std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.file_name().unwrap() != "slurm")
        .map(|p| {
            let log = std::fs::read_to_string(p.join(".claim.log")).unwrap_or_default();
            let t = read_table(&p.join("runs.parquet"));
            assert!(
                !p.join(".claim").exists(),
                "{} is still claimed",
                p.display()
            );
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                (string_at(&t, "status", 0).unwrap(), log.lines().count()),
            )
        })
        .collect()
}

/// Two runners started together into one directory: every run executed
/// exactly once, and each summary accounts for every run it was given.
fn exactly_once(first: &[&str], second: &[&str], second_share: usize) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let a = spawn_sweep(&out, first);
    let b = spawn_sweep(&out, second);
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", stderr(&a));
    assert!(b.status.success(), "{}", stderr(&b));
    let (sa, sb) = (stdout(&a), stdout(&b));
    let runs = executions(&out);
    assert_eq!(runs.len(), 6, "{runs:?}");
    for (id, (status, executed)) in &runs {
        assert_eq!(status, "ok", "{id}");
        assert_eq!(*executed, 1, "{id} executed {executed} times\n{sa}\n{sb}");
    }
    assert_eq!(
        count(&sa, " ran now") + count(&sb, " ran now"),
        6,
        "{sa}\n{sb}"
    );
    for (summary, share) in [(&sa, 6), (&sb, second_share)] {
        let accounted = count(summary, " ran now")
            + count(summary, " had finished before")
            + count(summary, " running elsewhere");
        assert_eq!(accounted, share, "{summary}");
    }
}

#[test]
fn a_sweep_and_a_shard_together_run_every_run_exactly_once() {
    exactly_once(&[], &["--shard", "0/2"], 3);
}

#[test]
fn two_sweeps_from_two_process_groups_run_every_run_exactly_once() {
    exactly_once(&[], &["--quiet"], 6);
}

/// `harness run` of a long random run on pendulum into `out`: the same run
/// as `--seeds 1` of [`long_sweep`].
/// `harness sweep` of random on cartpole with `seeds` seeds, as a Slurm
/// job array's dry run.
fn slurm_dry_run(seeds: &str) -> [&str; 9] {
    [
        "sweep",
        "--algos",
        "random",
        "--envs",
        "cartpole",
        "--seeds",
        seeds,
        "--slurm",
        "--dry-run",
    ]
}

/// A budget far beyond what a test waits for, evaluated once, at its end.
const LONG: [&str; 6] = [
    "--steps",
    "1000000000",
    "--eval-every",
    "0",
    "--eval-episodes",
    "1",
];

fn long_run(out: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "run", "--algo", "random", "--env", "pendulum", "--quiet", "--no-gif",
        ])
        .args(LONG)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn long_sweep(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "sweep", "--algos", "random", "--envs", "pendulum", "--seeds", "1",
    ];
    args.extend(LONG);
    args.extend(["--quiet", "--out", out.to_str().unwrap()]);
    args.extend(extra);
    harness(&args)
}

/// The claim file of the only run directory under `out`, once it exists.
fn wait_for_claim(out: &Path) -> PathBuf {
    let t0 = Instant::now();
    loop {
        let claim = std::fs::read_dir(out).ok().and_then(|d| {
            d.map(|e| e.unwrap().path().join(".claim"))
                .find(|c| c.is_file())
        });
        if let Some(claim) = claim {
            return claim;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "no claim appeared");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_run_in_flight_is_skipped_as_running_elsewhere_and_a_dead_runners_claim_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut run = long_run(&out);
    let claim = wait_for_claim(&out);
    // While the lone run lives, a sweep skips it, and so does another run.
    let o = long_sweep(&out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let pid = format!("pid {} on host", run.id());
    assert!(
        text.contains("1 runs: 0 ran now, 0 had finished before, 1 running elsewhere"),
        "{text}"
    );
    assert!(
        text.contains("running elsewhere: random-pendulum-v0-s0-") && text.contains(&pid),
        "{text}"
    );
    let o = harness(&["sweep", "--status", out.to_str().unwrap()]);
    assert_stdout_contains(&o, "total: 0 finished, 0 failed, 1 running, 0 pending");
    assert!(stdout(&o).contains(&pid), "{}", stdout(&o));
    let again = long_run(&out).wait_with_output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("is running elsewhere") && stderr(&again).contains(&pid),
        "{}",
        stderr(&again)
    );
    // Killed outright, the runner leaves its claim behind: taken over.
    run.kill().unwrap();
    run.wait().unwrap();
    assert!(claim.is_file(), "kill -9 leaves the claim");
    let o = long_sweep(&out, &["--timeout", "2s"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("1 runs: 1 ran now"), "{}", stdout(&o));
    let runs = executions(&out);
    let (status, executed) = runs.values().next().unwrap();
    assert_eq!((status.as_str(), *executed), ("timeout", 2), "{runs:?}");
}

#[test]
fn a_huge_grid_is_refused_at_once_and_small() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // Under a 100 MB address-space cap: address space bounds the resident
    // memory, so finishing with the refusal proves a peak RSS under 100 MB.
    // (`wait4`'s `ru_maxrss` would not do: at `exec` Linux folds in the
    // forking process's resident size, this test binary's.)
    let cap = libc::rlimit {
        rlim_cur: 100 << 20,
        rlim_max: 100 << 20,
    };
    let mut command = Command::new(env!("CARGO_BIN_EXE_harness"));
    command
        .args(slurm_dry_run("100000000"))
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: only `setrlimit`, async-signal-safe, between fork and exec.
    unsafe {
        command.pre_exec(move || match libc::setrlimit(libc::RLIMIT_AS, &cap) {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        });
    }
    let t0 = Instant::now();
    #[allow(
        clippy::zombie_processes,
        reason = "reaped by wait4 below, for its usage"
    )]
    let mut child = command.spawn().unwrap();
    let mut status = 0;
    // SAFETY: `rusage` is plain old data; zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: our own child, not yet reaped; valid pointers. Reaped here,
    // for its CPU time.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 1,
        "{err}"
    );
    assert!(
        err.contains("100000000 runs (100000000 seeds × 1 algorithm or variant × 1 env)"),
        "{err}"
    );
    // CPU time, which the load of a shared test machine does not inflate
    // (a wall-clock bound would test the scheduler); the refusal takes
    // about 0.01 s either way on an idle machine.
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    let cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    assert!(cpu < 1.0, "{cpu} CPU seconds");
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    assert!(!out.exists(), "nothing was written");
}

#[test]
fn a_huge_grid_names_its_factors_and_arrays_fit_max_array_size() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = harness(&[
        "sweep",
        "--algos",
        "random,cem",
        "--envs",
        "cartpole,pendulum",
        "--seeds",
        "30000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("120000 runs (30000 seeds × 2 algorithms and variants × 2 envs)")
            && e.contains("limit of 100000"),
        "{e}"
    );
    assert!(e.contains("--max-runs"), "{e}");
    // Past MaxArraySize (Slurm's default 1001 here, or the cluster's), the
    // runs per task are raised so the array fits.
    let mut args = slurm_dry_run("5000").to_vec();
    args.extend(["--out", out.to_str().unwrap()]);
    let o = harness(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let max: usize = text
        .split("MaxArraySize = ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    let per_task = 5000usize.div_ceil(max);
    let tasks = 5000usize.div_ceil(per_task);
    assert!(
        text.contains(&format!("raised --runs-per-task from 1 to {per_task}"))
            && text.contains(&format!("(5000 runs in {tasks} tasks)")),
        "{text}"
    );
    let script = std::fs::read_dir(out.join("slurm"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let script = std::fs::read_to_string(script).unwrap();
    assert!(
        script.contains(&format!("#SBATCH --array=0-{}\n", tasks - 1)),
        "{script}"
    );
}

#[test]
fn a_run_over_its_mem_limit_is_recorded_oom_and_its_sibling_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let lib = compile_plugin(
        &workspace().join("harness/tests/fixtures/faulty_plugin.c"),
        &["FAULT_LEAK"],
        dir.path(),
        "leaky",
    );
    let out = dir.path().join("out");
    let mut args = small_sweep_args("random,faulty", "cartpole", "1", "2", out.to_str().unwrap());
    args.extend(["--plugin", lib.to_str().unwrap()]);
    args.extend([
        "--set",
        "steps_per_iteration=500",
        "--mem-limit",
        "512M",
        "--quiet",
    ]);
    let o = harness(&args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("2 runs: 2 ran now, 0 had finished before; 1 failed"),
        "{text}"
    );
    let mut seen = 0;
    for d in std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
    {
        let t = read_table(&d.join("runs.parquet"));
        let (status, error) = (
            string_at(&t, "status", 0).unwrap(),
            string_at(&t, "error", 0),
        );
        let name = d.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("random-") {
            assert_eq!(status, "ok", "{error:?}");
        } else {
            let error = error.unwrap();
            assert_eq!(status, "oom", "{error}");
            assert!(
                error.starts_with("out of memory under --mem-limit 512M"),
                "{error}"
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 2);
    assert!(text.contains("oom: faulty-cartpole-v0-s0-"), "{text}");
}
