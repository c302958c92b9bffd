//! `harness report`: the page holds the expected figures and tables, escapes
//! names from the data, links nowhere outside, and still renders from a
//! single run.

use crate::common::*;
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use std::path::Path;
use std::sync::Arc;

/// A hostile variant name: it must come out as text, never as markup.
const HOSTILE: &str = "<script>alert(1)</script>&";

fn sweep_file(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("grid.toml");
    std::fs::write(
        &file,
        format!(
            r#"
            algos = ["random"]
            envs = ["cartpole", "pendulum"]
            seeds = 3
            steps = 2000
            out = {:?}
            [config.random]
            steps_per_iteration = 400
            [variants.{HOSTILE:?}]
            algo = "random"
            config = {{ steps_per_iteration = 1000 }}
            "#,
            dir.join("runs").to_str().unwrap()
        ),
    )
    .unwrap();
    file
}

/// A `check_cg.parquet` in `dir`: the columns the report needs, plus the
/// names `harness check cg` adds when `named`.
fn write_check_cg(dir: &Path, named: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let errors = [0.5, 0.1, 1e-3, 1e-6];
    let mut columns: Vec<(&str, ArrayRef)> = vec![
        ("iteration", Arc::new(UInt64Array::from(vec![1, 2, 3, 4]))),
        (
            "relative_error",
            Arc::new(Float64Array::from(errors.to_vec())),
        ),
        (
            "cosine",
            Arc::new(Float64Array::from(vec![0.9, 0.99, 0.9999, 1.0])),
        ),
        (
            "residual",
            Arc::new(Float64Array::from(vec![1.0, 0.2, 1e-3, 1e-7])),
        ),
    ];
    if named {
        columns.push((
            "algorithm_id",
            Arc::new(StringArray::from(vec!["random"; 4])),
        ));
        columns.push((
            "env_id",
            Arc::new(StringArray::from(vec!["cartpole-v0"; 4])),
        ));
        columns.push(("seed", Arc::new(UInt64Array::from(vec![7; 4]))));
    }
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let file = std::fs::File::create(dir.join("check_cg.parquet")).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// `harness run --algo random ARGS --out out --quiet`, which must succeed.
fn random_run(args: &[&str], out: &Path) {
    let mut all = vec!["run", "--algo", "random"];
    all.extend(args);
    all.extend(["--out", out.to_str().unwrap(), "--quiet"]);
    let o = harness(&all);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The `index.html` of a report of `runs` written to `out`, which must succeed.
fn report_html(runs: &Path, out: &Path) -> String {
    let o = report(&[runs], out);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read_to_string(out.join("index.html")).unwrap()
}

fn report(dirs: &[&Path], out: &Path) -> std::process::Output {
    let mut args = vec!["report"];
    args.extend(dirs.iter().map(|d| d.to_str().unwrap()));
    args.extend(["-o", out.to_str().unwrap()]);
    harness(&args)
}

#[test]
fn report_has_curves_tables_aggregates_and_no_external_url() {
    let dir = tempfile::tempdir().unwrap();
    let o = harness(&[
        "sweep",
        sweep_file(dir.path()).to_str().unwrap(),
        "--jobs",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // One check in a directory of its own, as `harness check cg` writes
    // it; one inside a run's directory.
    let runs = dir.path().join("runs");
    write_check_cg(&runs.join("check-cg-random-cartpole-v0-s7"), true);
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("random-cartpole-v0-s1-"))
        .unwrap();
    write_check_cg(&run, false);
    let out = dir.path().join("reports/demo");
    let o = report(&[&dir.path().join("runs")], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();

    // Figures: learning curves per env against env steps and against wall
    // seconds, and training returns against env steps (three panels of one
    // figure), IQM intervals, performance profiles, the CG check.
    assert_eq!(html.matches("<svg").count(), 9, "figures");
    assert_eq!(html.matches("<figure>").count(), 5, "figures");
    assert!(html.contains("against wall-clock seconds"));
    let cg = &html[html.find("CG check on cartpole-v0").unwrap()..];
    let cg = &cg[..cg.find("</table>").unwrap()];
    assert_eq!(cg.matches("<tr>").count(), 3, "a header and both checks");
    assert!(
        cg.contains("<td>random</td><td class=\"num\">7</td>"),
        "named by its columns"
    );
    for text in [
        ">cartpole-v0</h3>",
        ">pendulum-v0</h3>",
        "Final performance on cartpole-v0",
        "Final performance on pendulum-v0",
        "Interquartile mean (IQM)",
        "Performance profiles",
        "P(row &gt; column)",
        "Conjugate-gradient checks",
        "CG check on cartpole-v0",
        "Runs: wall clock and throughput",
        "Configurations and versions",
        "&quot;steps_per_iteration&quot;: 400",
        "95 % percentile-bootstrap",
    ] {
        assert!(html.contains(text), "missing {text:?}");
    }
    // Both labels, 3 seeds each, in each env's table; the best is bold.
    let seeds_cells = md.lines().filter(|l| l.split(" | ").nth(1) == Some("3"));
    assert_eq!(
        seeds_cells.count(),
        4,
        "two labels × two envs with 3 seeds: {md}"
    );
    assert!(html.contains("<td><strong>"), "the best is bold");
    // Self-contained and escaped.
    for forbidden in [
        "http://", "https://", "src=", "<script", "<link", "@import", "url(",
    ] {
        assert!(!html.contains(forbidden), "found {forbidden:?}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;"));
    // The summary has the same tables.
    assert!(
        md.contains("| algorithm | seeds | mean | 95 % CI | p vs best | training return |"),
        "{md}"
    );
    assert!(md.contains("\\<script\\>alert(1)\\</script\\>&"), "{md}");
    assert!(md.contains("| P(row \\> column) |"), "{md}");

    // Bootstrap streams are seeded: the same data gives the same report.
    let again = dir.path().join("reports/again");
    assert!(report(&[&dir.path().join("runs")], &again).status.success());
    assert_eq!(
        md,
        std::fs::read_to_string(again.join("summary.md")).unwrap()
    );
}

#[test]
fn runs_evaluated_once_are_drawn_from_their_training_returns() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("results");
    for eval_every in ["0", "500"] {
        let out = runs.join(eval_every);
        random_run(
            &[
                "--env",
                "cartpole",
                "--steps",
                "3000",
                "--set",
                "steps_per_iteration=500",
                "--eval-every",
                eval_every,
            ],
            &out,
        );
        let html = report_html(&out, &dir.path().join(format!("r{eval_every}")));
        let sparse = html.contains("too few for an evaluation curve");
        assert_eq!(sparse, eval_every == "0", "eval every {eval_every}");
        assert!(html.contains("training return on cartpole-v0"));
        assert!(
            html.contains("training return (smoothed)"),
            "the panel's axis"
        );
        assert_eq!(
            html.contains("against wall-clock seconds"),
            eval_every != "0",
            "evaluation panels only with evaluations"
        );
    }
}

#[test]
fn report_of_a_single_run_still_renders() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("results");
    random_run(&["--env", "pendulum", "--steps", "1000"], &runs);
    let html = report_html(&runs, &dir.path().join("r"));
    assert!(html.contains("1 runs (1 finished, 0 failed)"));
    assert!(html.contains("Final performance on pendulum-v0"));
    assert!(html.contains("Probability of improvement needs at least two algorithms"));
    assert!(
        !html.contains("Conjugate-gradient checks"),
        "no check, no section"
    );
    // One seed: no interval, no test.
    assert!(html.contains("<td class=\"num\">—</td>"));

    // Nothing to report is an error.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = report(&[&empty], &dir.path().join("r2"));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no runs or checks"), "{}", stderr(&o));
}

/// Runs of one env with different env options are different tasks: the
/// report names them apart instead of pooling their returns.
#[test]
fn report_keeps_runs_with_different_env_options_apart() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("results");
    for view in ["view=compact", "view=pixels"] {
        let args = ["--env", "breakout", "--env-set", view, "--steps", "300"];
        random_run(&[&args[..], &["--eval-episodes", "2"]].concat(), &runs);
    }
    let html = report_html(&runs, &dir.path().join("r"));
    for env in ["breakout-v1 [view=compact]", "breakout-v1 [view=pixels]"] {
        assert!(html.contains(env), "{env} missing from the report");
    }
}
