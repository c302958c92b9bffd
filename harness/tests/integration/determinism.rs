//! Same seed and config → identical results, bit for bit, wall clock aside.

use crate::common::*;
use std::path::Path;

fn run_into(out: &Path, seed: &str) {
    run_ok(
        "random",
        "cartpole",
        "5000",
        &["--seed", seed, "--quiet"],
        out,
    );
}

#[test]
fn same_seed_gives_identical_metrics_and_episodes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    run_into(&a, "1");
    run_into(&b, "1");
    run_into(&c, "2");
    let (ra, rb, rc) = (only_run_dir(&a), only_run_dir(&b), only_run_dir(&c));
    assert_eq!(ra.file_name(), rb.file_name(), "run ids are deterministic");
    for table in ["metrics.parquet", "episodes.parquet"] {
        let x = without_wall_clock(read_table(&ra.join(table)));
        let y = without_wall_clock(read_table(&rb.join(table)));
        assert!(x.num_rows() > 10, "{table} has rows");
        assert_eq!(x, y, "{table} differs between identical runs");
    }
    let ea = read_table(&ra.join("episodes.parquet"));
    let ec = read_table(&rc.join("episodes.parquet"));
    assert_ne!(
        ea.column_by_name("episode_return").unwrap(),
        ec.column_by_name("episode_return").unwrap(),
        "another seed gives other episodes"
    );
}

#[test]
fn files_carry_the_schema_version() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let dir = tempfile::tempdir().unwrap();
    run_into(dir.path(), "3");
    let run = only_run_dir(dir.path());
    for table in ["runs.parquet", "metrics.parquet", "episodes.parquet"] {
        let reader =
            SerializedFileReader::new(std::fs::File::open(run.join(table)).unwrap()).unwrap();
        let kv = reader
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .cloned()
            .unwrap_or_default();
        let version = kv
            .iter()
            .find(|k| k.key == harness::results::SCHEMA_VERSION_KEY)
            .and_then(|k| k.value.clone());
        assert_eq!(
            version.as_deref(),
            Some(harness::results::SCHEMA_VERSION),
            "{table}"
        );
    }
}

/// `harness run` of TRPO with `extra` flags on `threads` threads into
/// `out/t{threads}`; returns the run's directory.
fn trpo_on_threads(out: &Path, threads: u32, extra: &[&str]) -> std::path::PathBuf {
    let dir = out.join(format!("t{threads}"));
    let threads = threads.to_string();
    let mut with_threads = vec!["--threads", threads.as_str()];
    with_threads.extend_from_slice(extra);
    let o = harness(&short_trpo_args("4", dir.to_str().unwrap(), &with_threads));
    assert!(o.status.success(), "{}", stderr(&o));
    only_run_dir(&dir)
}

/// Threads are not part of a run: 1, 2 and 3 threads (an odd split of 8
/// copies and of the blocks of states) give the same run id, the same
/// `policy.bin` byte for byte, and the same metrics and episodes.
fn assert_threads_do_not_change_results(extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let one = trpo_on_threads(dir.path(), 1, extra);
    for threads in [2, 3] {
        let other = trpo_on_threads(dir.path(), threads, extra);
        assert_eq!(
            one.file_name(),
            other.file_name(),
            "threads are not in the run id"
        );
        assert_same_results(
            &one,
            &other,
            &format!("1 and {threads} threads ({extra:?})"),
        );
    }
}

#[test]
fn threads_do_not_change_a_locomotion_run() {
    assert_threads_do_not_change_results(&[
        "--env",
        "walker",
        "--steps",
        "3072",
        "--set",
        "steps_per_iteration=1024",
    ]);
}

#[test]
fn threads_do_not_change_a_pixel_arcade_run() {
    assert_threads_do_not_change_results(&short_pixel_breakout(&[]));
}
