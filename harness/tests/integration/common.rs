//! Helpers shared by the integration tests.

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The config of a test plugin without hyperparameters: `{}`.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct NoKeys {}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The system C compiler (`$CC`, else `cc`).
pub fn cc() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_string())
}

/// Compile C sources into a shared library in `dir` with all warnings as
/// errors, as a plugin author would be asked to.
pub fn compile_plugin(source: &Path, defines: &[&str], dir: &Path, name: &str) -> PathBuf {
    let include = workspace().join("plugins/include");
    compile_plugin_against(&include, source, defines, dir, name)
}

/// [`compile_plugin`] with the ABI header taken from `include` (an older
/// release of it, say).
pub fn compile_plugin_against(
    include: &Path,
    source: &Path,
    defines: &[&str],
    dir: &Path,
    name: &str,
) -> PathBuf {
    let out = dir.join(format!("lib{name}.so"));
    let mut cmd = Command::new(cc());
    cmd.args([
        "-std=c99",
        "-Wall",
        "-Wextra",
        "-pedantic",
        "-Werror",
        "-O1",
        "-shared",
        "-fPIC",
    ])
    .arg("-I")
    .arg(include)
    .arg(source)
    .arg("-o")
    .arg(&out)
    .arg("-lm");
    for d in defines {
        cmd.arg(format!("-D{d}"));
    }
    let result = cmd.output().expect("the system C compiler runs");
    assert!(
        result.status.success(),
        "compiling {}:\n{}",
        source.display(),
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

/// Run the harness binary with `args`.
pub fn harness(args: &[&str]) -> Output {
    harness_with_env(args, &[])
}

/// Run the harness binary with `args` and environment variables `vars`.
pub fn harness_with_env(args: &[&str], vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .envs(vars.iter().copied())
        .output()
        .expect("harness runs")
}

/// Text of stdout.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The faulty fixture (`fixtures/faulty_plugin.c`) compiled into `dir`
/// with `-D<define>`: a plugin that breaks one rule; its path.
pub fn faulty(dir: &Path, define: &str) -> String {
    let lib = compile_plugin(
        &workspace().join("harness/tests/fixtures/faulty_plugin.c"),
        &[define],
        dir,
        &format!("faulty_{define}"),
    );
    lib.to_str().unwrap().to_string()
}

/// The env arguments of a short run on breakout's pixels: `options`
/// (more `--env-set`s) after `view=pixels`, 200-frame episodes so some end,
/// 256 steps in batches of 128.
pub fn short_pixel_breakout(options: &[&'static str]) -> Vec<&'static str> {
    let mut args = vec!["--env", "breakout", "--env-set", "view=pixels"];
    args.extend(options);
    args.extend([
        "--env-set",
        "max_frames=200",
        "--steps",
        "256",
        "--set",
        "steps_per_iteration=128",
    ]);
    args
}

/// A run's `runs` row, as the tests look at it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// `ok`, `failed`, `crashed`, …
    pub status: String,
    /// Why it did not end `ok`.
    pub error: Option<String>,
    /// Training env steps it took.
    pub env_steps: u64,
}

/// Every finished run under `out` (a directory with `runs.parquet`), by
/// directory name.
pub fn run_records(out: &Path) -> std::collections::BTreeMap<String, RunRecord> {
    use arrow_array::{Array, UInt64Array};
    std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("runs.parquet").is_file())
        .map(|p| {
            let t = read_table(&p.join("runs.parquet"));
            let steps = t.column_by_name("env_steps").unwrap();
            let steps = steps.as_any().downcast_ref::<UInt64Array>().unwrap();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                RunRecord {
                    status: string_at(&t, "status", 0).unwrap(),
                    error: string_at(&t, "error", 0),
                    env_steps: steps.value(0),
                },
            )
        })
        .collect()
}

/// Run `harness args --out out` in the background until `runs` run
/// directories exist under `out`, let it work for `settle` more, then send
/// it SIGTERM; its output, once it exited with 128 + SIGTERM as it must.
pub fn harness_stopped_by_sigterm(
    args: &[&str],
    out: &Path,
    runs: usize,
    settle: std::time::Duration,
) -> Output {
    use std::time::{Duration, Instant};
    let child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .arg("--out")
        .arg(out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    loop {
        let dirs = std::fs::read_dir(out)
            .map(|d| d.filter(|e| e.as_ref().unwrap().path().is_dir()).count())
            .unwrap_or(0);
        if dirs >= runs {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "no run started");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(settle);
    // SAFETY: signalling our own child, which has not been waited for.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(128 + 15), "{}", stderr(&o));
    o
}

/// `harness run --algo ALGO --env ENV --steps STEPS EXTRA… --out OUT`,
/// which must succeed; its output.
pub fn run_ok(algo: &str, env: &str, steps: &str, extra: &[&str], out: &Path) -> Output {
    let mut args = vec!["run", "--algo", algo, "--env", env, "--steps", steps];
    args.extend(extra);
    args.extend(["--out", out.to_str().unwrap()]);
    let o = harness(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

/// `(algorithm, check)` → `(status, reason)` of a `check plugin --json` run.
pub type Rows = std::collections::BTreeMap<(String, String), (String, String)>;

/// `harness check plugin --json ARGS`: its exit code and its rows (the
/// summary's FAIL count checked against them).
pub fn check_plugin(args: &[&str]) -> (Option<i32>, Rows) {
    let mut all = vec!["check", "plugin", "--json"];
    all.extend(args);
    let o = harness(&all);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            stderr(&o)
        )
    });
    let rows = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            ((s("algorithm"), s("check")), (s("status"), s("reason")))
        })
        .collect::<Rows>();
    let failed = rows.values().filter(|(s, _)| s == "FAIL").count();
    assert_eq!(doc["summary"]["fail"], failed, "{doc}");
    (o.status.code(), rows)
}

/// The relative error of CG against the dense solve that `harness check
/// cg` printed last in `text`.
pub fn cg_relative_error(text: &str) -> f64 {
    text.rsplit("relative error ")
        .next()
        .and_then(|t| t.split(|c: char| c == ',' || c.is_whitespace()).next())
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no relative error in {text}"))
}

/// `o`'s stdout contains `text` (shown whole when it does not).
pub fn assert_stdout_contains(o: &Output, text: &str) {
    let out = stdout(o);
    assert!(out.contains(text), "{out}");
}

/// The arguments of a small sweep: `algos` on `envs`, `seeds` seeds of
/// 2,000 env steps each, on `jobs` workers, into `out` (callers add the
/// rest: plugins, config, limits).
pub fn small_sweep_args<'a>(
    algos: &'a str,
    envs: &'a str,
    seeds: &'a str,
    jobs: &'a str,
    out: &'a str,
) -> Vec<&'a str> {
    vec![
        "sweep", "--algos", algos, "--envs", envs, "--seeds", seeds, "--steps", "2000", "--jobs",
        jobs, "--out", out,
    ]
}

/// Text of stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The contents of a Parquet file written by the harness.
pub fn read_table(path: &Path) -> RecordBatch {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    assert!(
        batches.len() <= 1,
        "tables are small enough to come back as one batch"
    );
    batches
        .pop()
        .unwrap_or_else(|| panic!("{} is empty", path.display()))
}

/// The single run directory under `out`.
pub fn only_run_dir(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.into_iter().next().unwrap()
}

/// All files below `dir`, recursively (to spot temp or half-written files).
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(all_files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// String column `name` of `batch`, row `row`.
pub fn string_at(batch: &RecordBatch, name: &str, row: usize) -> Option<String> {
    use arrow_array::Array;
    let col = batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"));
    let col = col
        .as_any()
        .downcast_ref::<arrow_array::StringArray>()
        .unwrap();
    (!col.is_null(row)).then(|| col.value(row).to_string())
}

/// The table without its wall-clock column.
pub fn without_wall_clock(batch: RecordBatch) -> RecordBatch {
    let keep: Vec<usize> = (0..batch.num_columns())
        .filter(|&i| batch.schema().field(i).name() != "wall_seconds")
        .collect();
    assert!(
        keep.len() < batch.num_columns(),
        "the wall-clock column exists"
    );
    batch.project(&keep).unwrap()
}

/// The arguments of a short `harness run` of TRPO with `seed` into `out`:
/// no evaluation but the final one (one episode), no GIF, quiet; `extra`
/// chooses the env, the budget and the rest.
pub fn short_trpo_args<'a>(seed: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        "--algo",
        "trpo",
        "--seed",
        seed,
        "--eval-every",
        "0",
        "--eval-episodes",
        "1",
        "--no-gif",
        "--quiet",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    args
}

/// Two run directories hold the same results: `policy.bin` byte for byte,
/// and the same metrics and episodes (wall clock aside). `what` names the
/// difference between the two runs in a failure.
pub fn assert_same_results(a: &Path, b: &Path, what: &str) {
    let policy = |d: &Path| std::fs::read(d.join("policy.bin")).unwrap();
    assert!(policy(a) == policy(b), "policy.bin differs: {what}");
    for table in ["metrics.parquet", "episodes.parquet"] {
        let x = without_wall_clock(read_table(&a.join(table)));
        let y = without_wall_clock(read_table(&b.join(table)));
        assert!(x.num_rows() > 0, "{table} has rows");
        assert_eq!(x, y, "{table} differs: {what}");
    }
}
