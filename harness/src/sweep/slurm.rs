//! `harness sweep ... --slurm`: the sweep as a Slurm job array. Task `i`
//! runs shard `i` of the very same sweep command into the same (shared)
//! directory, so everything a local sweep guarantees holds per task:
//! isolation, the per-shard lock, resumption. Submitting the command again
//! redoes only the runs that did not finish.
//!
//! The script is written to `DIR/slurm/<name>.sbatch`. Every argument is
//! single-quoted (a `'` inside becomes `'\''`), so a value holding spaces,
//! quotes, `$(...)` or a newline reaches the harness unchanged and the
//! shell never executes any of it; the executable, the working directory
//! and the output directory are absolute paths.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `#SBATCH` settings of the job array.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` per task (Slurm's syntax, e.g. `2:00:00`).
    pub time: Option<String>,
    /// `--cpus-per-task`; also the task's `--jobs`.
    pub cpus_per_task: u32,
    /// `--mem` per task (e.g. `4G`).
    pub mem: Option<String>,
    /// At most this many tasks at once (`--array=0-N%K`).
    pub array_parallelism: Option<u32>,
    /// Runs per task: the array has ⌈runs / R⌉ tasks.
    pub runs_per_task: usize,
    /// Environment variables every task exports before it runs (e.g. the
    /// Python interpreter and virtual environment of a sweep with Python
    /// plugins, so tasks import the same packages as the submitting shell).
    pub environment: Vec<(String, String)>,
}

/// A written job script.
#[derive(Debug, Clone)]
pub struct JobScript {
    /// Where it is.
    pub path: PathBuf,
    /// Tasks in the array.
    pub tasks: usize,
}

/// Quote `word` for a POSIX shell: inside single quotes nothing is special
/// but the single quote itself, written as `'\''` (close, escaped quote,
/// reopen).
pub fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Slurm's default `MaxArraySize`: array indices run from 0 to 1000.
pub const DEFAULT_MAX_ARRAY_SIZE: usize = 1001;

/// The cluster's `MaxArraySize` (an array's indices must stay below it),
/// and where the value came from: `scontrol show config`, else Slurm's
/// default.
pub fn max_array_size() -> (usize, &'static str) {
    Command::new("scontrol")
        .args(["show", "config"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| parse_max_array_size(&String::from_utf8_lossy(&o.stdout)))
        .map_or(
            (
                DEFAULT_MAX_ARRAY_SIZE,
                "Slurm's default; scontrol show config did not say",
            ),
            |n| (n, "from scontrol show config"),
        )
}

/// `MaxArraySize` from the text of `scontrol show config`
/// (`MaxArraySize            = 1001`).
pub fn parse_max_array_size(config: &str) -> Option<usize> {
    config.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "MaxArraySize")
            .then(|| value.trim().parse().ok())
            .flatten()
            .filter(|&n| n > 0)
    })
}

/// Runs per task so that the array of `runs` runs has at most
/// `max_array_size` tasks: `runs_per_task`, or the smallest larger value
/// that fits.
pub fn fitting_runs_per_task(runs: usize, runs_per_task: usize, max_array_size: usize) -> usize {
    runs_per_task
        .max(1)
        .max(runs.div_ceil(max_array_size.max(1)))
}

/// Tasks needed for `runs` runs at `runs_per_task` each.
pub fn task_count(runs: usize, runs_per_task: usize) -> usize {
    runs.div_ceil(runs_per_task.max(1)).max(1)
}

/// The job script: `sweep_args` is the sweep command's arguments after
/// `harness` (no shard, no Slurm flags), with absolute paths; each task
/// appends `--shard $SLURM_ARRAY_TASK_ID/<tasks>`.
pub fn script(
    name: &str,
    exe: &Path,
    workdir: &Path,
    out: &Path,
    sweep_args: &[String],
    tasks: usize,
    options: &SlurmOptions,
) -> String {
    let log_dir = out.join("slurm");
    let mut s = String::from("#!/bin/bash\n");
    let mut directive = |d: String| s += &format!("#SBATCH {d}\n");
    directive(format!(
        "--job-name={}",
        shell_quote(&format!("trustbench-{name}"))
    ));
    let throttle = options
        .array_parallelism
        .map_or(String::new(), |k| format!("%{k}"));
    directive(format!("--array=0-{}{throttle}", tasks - 1));
    directive(format!(
        "--output={}",
        shell_quote(&format!("{}/{name}-%A_%a.out", log_dir.display()))
    ));
    directive(format!("--cpus-per-task={}", options.cpus_per_task.max(1)));
    if let Some(p) = &options.partition {
        directive(format!("--partition={}", shell_quote(p)));
    }
    if let Some(t) = &options.time {
        directive(format!("--time={}", shell_quote(t)));
    }
    if let Some(m) = &options.mem {
        directive(format!("--mem={}", shell_quote(m)));
    }
    s += "# Written by `harness ... --slurm`; task i runs shard i of the sweep.\n";
    s += "# A run stopped by Slurm (time limit, preemption, scancel) is recorded\n";
    s += "# `interrupted`; submitting this script again redoes only unfinished runs.\n";
    s += "set -eu\n";
    s += &format!("cd {}\n", shell_quote(&workdir.display().to_string()));
    for (key, value) in &options.environment {
        s += &format!("export {key}={}\n", shell_quote(value));
    }
    let mut command = vec![shell_quote(&exe.display().to_string())];
    command.extend(sweep_args.iter().map(|a| shell_quote(a)));
    command.push("--shard".into());
    command.push(format!("\"${{SLURM_ARRAY_TASK_ID}}/{tasks}\""));
    // `exec`: Slurm's signals reach the harness itself, not a shell.
    s += &format!("exec {}\n", command.join(" \\\n  "));
    s
}

/// Write the script to `DIR/slurm/<name>.sbatch`.
pub fn write(out: &Path, name: &str, text: &str, tasks: usize) -> Result<JobScript> {
    let dir = out.join("slurm");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{name}.sbatch"));
    crate::results::write_bytes_atomically(&path, text.as_bytes())?;
    Ok(JobScript { path, tasks })
}

/// Submit `script` with `sbatch`; returns the job id.
pub fn submit(script: &JobScript) -> Result<String> {
    let o = Command::new("sbatch")
        .arg("--parsable")
        .arg(&script.path)
        .output()
        .context("running sbatch (is Slurm installed and on PATH?)")?;
    if !o.status.success() {
        bail!(
            "sbatch {} failed: {}",
            script.path.display(),
            String::from_utf8_lossy(&o.stderr).trim()
        );
    }
    // `--parsable` prints `jobid` or `jobid;cluster`.
    let text = String::from_utf8_lossy(&o.stdout);
    let id = text.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() {
        bail!("sbatch printed no job id");
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_the_shell() {
        let nasty = [
            "plain",
            "with space",
            "it's",
            "\"double\"",
            "$(touch /tmp/pwned) `id` $HOME",
            "line\nbreak",
            "'",
            "",
        ];
        let line: Vec<String> = nasty.iter().map(|w| shell_quote(w)).collect();
        let o = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("printf '%s\\0' {}", line.join(" ")))
            .output()
            .unwrap();
        let back: Vec<&str> = std::str::from_utf8(&o.stdout)
            .unwrap()
            .split_terminator('\0')
            .collect();
        assert_eq!(back, nasty);
    }

    #[test]
    fn arrays_fit_the_clusters_max_array_size() {
        let config = "MaxArraySize            = 4001\nMaxJobCount = 10000\n";
        assert_eq!(parse_max_array_size(config), Some(4001));
        assert_eq!(parse_max_array_size("MaxJobCount = 1\n"), None);
        assert_eq!(parse_max_array_size("MaxArraySize = none\n"), None);
        assert_eq!(fitting_runs_per_task(1000, 1, 1001), 1);
        assert_eq!(fitting_runs_per_task(1001, 1, 1001), 1);
        assert_eq!(fitting_runs_per_task(1002, 1, 1001), 2);
        assert_eq!(fitting_runs_per_task(100_000, 3, 1001), 100);
        assert_eq!(fitting_runs_per_task(100_000, 500, 1001), 500);
        for runs in [1, 999, 1001, 5000, 99_999, 100_000] {
            for max in [1, 2, 1001, 4001] {
                let r = fitting_runs_per_task(runs, 1, max);
                assert!(task_count(runs, r) <= max, "{runs} runs, max {max}");
                assert!(
                    r == 1 || task_count(runs, r - 1) > max,
                    "{runs} runs, max {max}"
                );
            }
        }
    }

    #[test]
    fn tasks_round_up() {
        assert_eq!(task_count(54, 1), 54);
        assert_eq!(task_count(54, 4), 14);
        assert_eq!(task_count(3, 10), 1);
    }

    #[test]
    fn script_has_the_array_and_absolute_paths() {
        let options = SlurmOptions {
            partition: Some("debug".into()),
            time: Some("1:00:00".into()),
            cpus_per_task: 2,
            mem: None,
            array_parallelism: Some(3),
            runs_per_task: 1,
            environment: vec![("VIRTUAL_ENV".into(), "/home/me/my env".into())],
        };
        let text = script(
            "sweep-1",
            Path::new("/opt/harness"),
            Path::new("/home/me"),
            Path::new("/data/out"),
            &["sweep".into(), "--out".into(), "/data/out".into()],
            5,
            &options,
        );
        assert!(text.contains("#SBATCH --array=0-4%3\n"), "{text}");
        assert!(text.contains("#SBATCH --partition='debug'\n"), "{text}");
        assert!(text.contains("#SBATCH --cpus-per-task=2\n"), "{text}");
        assert!(!text.contains("--mem"), "{text}");
        assert!(text.contains("cd '/home/me'\n"), "{text}");
        assert!(
            text.contains("export VIRTUAL_ENV='/home/me/my env'\n"),
            "{text}"
        );
        assert!(text.contains("exec '/opt/harness'"), "{text}");
        assert!(
            text.contains("--shard \\\n  \"${SLURM_ARRAY_TASK_ID}/5\"\n"),
            "{text}"
        );
    }
}
