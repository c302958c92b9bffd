//! `harness report DIR... -o OUT/`: read every run under the directories and
//! write a self-contained `OUT/index.html` (inline SVG figures, no network)
//! and `OUT/summary.md` that compare the algorithms with the statistics of
//! [`crate::stats`].
//!
//! Pipeline: [`data`] reads the Parquet results → the analyses
//! ([`curves`], [`finals`], [`aggregate`], [`claims`] judged by
//! [`verdict`]) → [`claims`], [`table1`], [`anchors`] (published results
//! beside ours), [`transfer`] (our envs beside the standard ones),
//! [`sections`] and [`appendix`]
//! turn them into [`doc`] blocks (tables, figures from [`plots`]) → [`html`]
//! and [`markdown`] render the blocks. Whatever the data lacks (one run,
//! one seed, one algorithm, no reference scores), the report still renders
//! and says what it left out.

pub mod aggregate;
pub mod anchors;
pub mod appendix;
pub mod claims;
pub mod curves;
pub mod data;
pub mod doc;
pub mod finals;
pub mod html;
pub mod markdown;
pub mod paper;
pub mod plots;
pub mod references;
pub mod sections;
pub mod table1;
#[cfg(test)]
pub(crate) mod testutil;
pub mod transfer;
pub mod verdict;

use crate::results::write_bytes_atomically;
use anyhow::{Context, Result};
use doc::Block;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// File name of the HTML report.
pub const HTML_FILE: &str = "index.html";
/// File name of the Markdown summary.
pub const SUMMARY_FILE: &str = "summary.md";
const TITLE: &str = "trustbench report";

/// What was written.
#[derive(Debug)]
pub struct Written {
    /// Path of `index.html`.
    pub html: PathBuf,
    /// Path of `summary.md`.
    pub summary: PathBuf,
    /// Runs the report covers (unreadable ones are in `notes`).
    pub runs: usize,
    /// Envs covered, counting one env with different options as several.
    pub envs: usize,
    /// Problems met while reading (also in the report).
    pub notes: Vec<String>,
}

/// Build the report of the runs under `dirs` into `out`.
pub fn write(dirs: &[PathBuf], out: &Path) -> Result<Written> {
    let loaded = data::load(dirs)?;
    let runs = &loaded.runs;
    let labels: BTreeSet<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    // Colours only for what is drawn: labels with finished runs, and checks.
    let colors: sections::Colors = runs
        .iter()
        .filter(|r| r.ok())
        .map(|r| r.label.as_str())
        .chain(loaded.checks.iter().map(|c| c.label.as_str()))
        .collect::<BTreeSet<&str>>()
        .into_iter()
        .enumerate()
        .map(|(i, l)| (l.to_string(), i))
        .collect();
    let groups = sections::by_env(runs);
    let mut blocks = overview(dirs, runs, &labels, groups.len(), &loaded.notes);
    let assessed = claims::assess(claims::TRPO_2015, runs);
    blocks.extend(claims::section(&assessed));
    blocks.extend(table1::section(runs)?);
    blocks.extend(anchors::section(runs));
    blocks.extend(transfer::section(runs));
    if !runs.is_empty() {
        blocks.extend(sections::envs(&groups, &colors)?);
        blocks.extend(sections::aggregates(runs, &colors)?);
    }
    blocks.extend(sections::cg_checks(&loaded.checks, &colors)?);
    if !runs.is_empty() {
        blocks.extend(appendix::runs(&groups, runs));
        blocks.extend(appendix::configs(runs));
    }
    blocks.extend(appendix::methods());

    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let html = out.join(HTML_FILE);
    let summary = out.join(SUMMARY_FILE);
    write_bytes_atomically(&html, html::render(TITLE, &blocks).as_bytes())?;
    write_bytes_atomically(&summary, markdown::render(TITLE, &blocks).as_bytes())?;
    Ok(Written {
        html,
        summary,
        runs: runs.len(),
        envs: groups.len(),
        notes: loaded.notes,
    })
}

fn overview(
    dirs: &[PathBuf],
    runs: &[data::Run],
    labels: &BTreeSet<&str>,
    envs: usize,
    notes: &[String],
) -> Vec<Block> {
    let finished = runs.iter().filter(|r| r.ok()).count();
    // An interrupted run is not a failure: the same sweep command redoes it.
    let interrupted = runs.iter().filter(|r| !r.row.status.is_final()).count();
    let failed = runs.len() - finished - interrupted;
    let interrupted = match interrupted {
        0 => String::new(),
        n => format!(", {n} interrupted: the same sweep command redoes them"),
    };
    let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let mut blocks = vec![Block::Paragraph(format!(
        "{} runs ({finished} finished, {failed} failed{interrupted}) of {} algorithm(s) — {} — on \
         {envs} env(s), read from {}.",
        runs.len(),
        labels.len(),
        labels.iter().copied().collect::<Vec<_>>().join(", "),
        dirs.join(", ")
    ))];
    if !notes.is_empty() {
        blocks.push(Block::List(notes.to_vec()));
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::RunStatus;
    use testutil::finished_run;

    #[test]
    fn the_overview_tells_interrupted_runs_from_failed_ones() {
        let mut runs: Vec<data::Run> = (0..4)
            .map(|seed| finished_run("trpo", "hopper-v0", seed, "{}", 1.0, &[]))
            .collect();
        runs[1].row.status = RunStatus::Interrupted;
        runs[2].row.status = RunStatus::Failed;
        let labels = BTreeSet::from(["trpo"]);
        let blocks = overview(&[PathBuf::from("out")], &runs, &labels, 1, &[]);
        let Block::Paragraph(text) = &blocks[0] else {
            panic!("{:?}", blocks[0])
        };
        assert!(
            text.starts_with(
                "4 runs (2 finished, 1 failed, 1 interrupted: the same sweep command redoes them)"
            ),
            "{text}"
        );
    }
}
