//! The example plugin written in plain C runs a full `harness run`.

use crate::common::*;
use arrow_array::Array;

#[test]
fn c_plugin_runs_end_to_end_and_writes_three_tables() {
    let dir = tempfile::tempdir().unwrap();
    let lib = compile_plugin(
        &workspace().join("plugins/c/random_plugin.c"),
        &[],
        dir.path(),
        "random_c",
    );
    let lib = lib.to_str().unwrap();

    let listed = harness(&["list", "--plugin", lib]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("c-random") && text.contains(lib), "{text}");

    let out = dir.path().join("out");
    let o = harness(&[
        "run",
        "--plugin",
        lib,
        "--algo",
        "c-random",
        "--env",
        "pendulum",
        "--steps",
        "3000",
        "--seed",
        "4",
        "--num-envs",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = only_run_dir(&out);
    let runs = read_table(&run.join("runs.parquet"));
    assert_eq!(runs.num_rows(), 1);
    assert_eq!(string_at(&runs, "status", 0).as_deref(), Some("ok"));
    assert_eq!(string_at(&runs, "plugin_path", 0).as_deref(), Some(lib));
    assert_eq!(
        string_at(&runs, "algorithm_id", 0).as_deref(),
        Some("c-random")
    );
    let episodes = read_table(&run.join("episodes.parquet"));
    // 3000 steps over 3 copies of a 200-step task: 15 train episodes, plus eval episodes.
    let phase = episodes.column_by_name("phase").unwrap();
    let phase = phase
        .as_any()
        .downcast_ref::<arrow_array::StringArray>()
        .unwrap();
    let train = (0..phase.len())
        .filter(|&i| phase.value(i) == "train")
        .count();
    assert_eq!(train, 15);
    assert!((0..phase.len()).any(|i| phase.value(i) == "eval"));
    let metrics = read_table(&run.join("metrics.parquet"));
    let names = metrics.column_by_name("metric").unwrap();
    let names = names
        .as_any()
        .downcast_ref::<arrow_array::StringArray>()
        .unwrap();
    assert!(
        (0..names.len())
            .any(|i| names.value(i) == trustbench_plugin::metrics::MEAN_REWARD_PER_STEP),
        "the C plugin's own metric"
    );
    assert!(run.join("policy.bin").exists());
}
