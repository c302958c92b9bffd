//! `harness render --run` replays the run's evaluation episodes exactly,
//! and `harness run` ends with that replay as `eval.gif`.

use crate::common::*;
use arrow_array::{Array, Float64Array, StringArray, UInt64Array};

/// Column `name` of `batch`, downcast.
fn column<'a, T: 'static>(batch: &'a arrow_array::RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("column {name} has another type"))
}

/// A trained hopper policy's episodes diverge from the smallest difference
/// (a fall or not), so equal returns and lengths mean the same trajectories:
/// same start states, and actions that do not depend on how many episodes
/// the evaluation was still running. The run's seed is not 0, so the replay
/// must take it from the run (not from `render`'s own default).
#[test]
fn render_of_a_run_replays_its_final_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runs");
    let o = run_ok(
        "trpo",
        "hopper",
        "30000",
        &["--eval-episodes", "6", "--seed", "3", "--quiet"],
        &out,
    );
    let summary = String::from_utf8_lossy(&o.stdout).into_owned();
    let run = only_run_dir(&out);
    let episodes = read_table(&run.join("episodes.parquet"));
    let (phase, steps) = (
        column::<StringArray>(&episodes, "phase"),
        column::<UInt64Array>(&episodes, "env_steps"),
    );
    let (returns, lengths) = (
        column::<Float64Array>(&episodes, "episode_return"),
        column::<UInt64Array>(&episodes, "length"),
    );
    let last = (0..episodes.num_rows())
        .filter(|&i| phase.value(i) == "eval")
        .map(|i| steps.value(i))
        .max()
        .unwrap();
    let evaluated: Vec<String> = (0..episodes.num_rows())
        .filter(|&i| phase.value(i) == "eval" && steps.value(i) == last)
        .map(|i| format!("{:.1} in {} steps", returns.value(i), lengths.value(i)))
        .collect();
    assert_eq!(evaluated.len(), 6);
    let distinct: std::collections::BTreeSet<&String> = evaluated.iter().collect();
    assert!(distinct.len() > 1, "the start states differ: {evaluated:?}");

    let gif = dir.path().join("replay.gif");
    let o = harness(&[
        "render",
        "--run",
        run.to_str().unwrap(),
        "--episodes",
        "6",
        "--every",
        "1000",
        "--width",
        "16",
        "--height",
        "16",
        "-o",
        gif.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed = String::from_utf8_lossy(&o.stdout).into_owned() + &stderr(&o);
    let replayed: Vec<String> = printed
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| l.contains(" steps"))
        .map(|l| l.split(" (").next().unwrap().to_string())
        .collect();
    assert_eq!(replayed, evaluated, "render output:\n{printed}");

    // The run ended with episode 0 of that evaluation as a GIF, and says so.
    let gif = std::fs::read(run.join("eval.gif")).unwrap();
    assert_eq!(&gif[..6], b"GIF89a");
    let picture = format!("eval.gif (evaluation episode 0: return {})", evaluated[0]);
    assert!(summary.contains(&picture), "want {picture} in:\n{summary}");
    assert!(summary.contains("harness report") && summary.contains("harness sweep"));
}

#[test]
fn no_gif_writes_none() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runs");
    let o = run_ok("random", "cartpole", "800", &["--quiet", "--no-gif"], &out);
    let run = only_run_dir(&out);
    assert!(run.join("policy.bin").exists() && !run.join("eval.gif").exists());
    assert!(!String::from_utf8_lossy(&o.stdout).contains("picture:"));
}
