//! `harness reproduce trpo2015`: the TRPO paper's experiments in one
//! command — the grid of [`grid`] as one resumable sweep, `harness check
//! cg` on a trained TRPO policy, then the report, whose Claims section
//! judges the paper's claims on the results.
//!
//! Built on the sweep planning API only ([`SweepSpec::plan`],
//! [`sweep::execute`]): the parts' plans are concatenated into one plan over
//! one output directory, so rerunning the command skips every finished run.

pub mod grid;

use crate::check::{CgCheckRequest, check_cg};
use crate::report;
use crate::results::{POLICY_FILE, RUNS_FILE};
use crate::sweep::shard::Shard;
use crate::sweep::{self, Plan, SweepSpec};
use anyhow::{Context, Result, bail};
use grid::{Part, Scale};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The env whose trained TRPO policy the CG check uses.
const CG_ENV: &str = "hopper";
/// CG iterations compared with the exact solve (the claim reads the 10th).
const CG_ITERATIONS: usize = 30;
/// Throughput assumed for an (algorithm, env) with no finished run to
/// measure it from: the order of a locomotion run on one core.
const ASSUMED_STEPS_PER_SECOND: f64 = 20_000.0;
/// Subdirectory of the output for the sweep's runs.
const RUNS_DIR: &str = "runs";
/// Subdirectory for the CG check.
const CHECKS_DIR: &str = "checks";
/// Subdirectory for the report.
const REPORT_DIR: &str = "report";

/// A reproduction, planned.
pub struct Reproduction {
    /// Its scale.
    pub scale: Scale,
    /// The output directory (runs, checks and report below it).
    pub out: PathBuf,
    /// Every run of every part, in one plan over `out/runs`.
    pub plan: Plan,
    /// The parts, each with the range of `plan.runs` it planned.
    pub parts: Vec<(Part, Range<usize>)>,
}

/// Plan the reproduction: every part's spec, resolved, into one plan.
pub fn plan(scale: Scale, seeds: Option<u64>, out: &Path) -> Result<Reproduction> {
    let seeds = seeds.unwrap_or_else(|| scale.default_seeds());
    let parts = grid::parts(scale, seeds);
    let runs_dir = out.join(RUNS_DIR);
    let mut runs = Vec::new();
    let mut planned = Vec::new();
    for part in parts {
        let plan = SweepSpec::plan(&part.spec, Some(&runs_dir), &[])
            .with_context(|| format!("planning {}", part.name))?;
        let start = runs.len();
        runs.extend(plan.runs);
        planned.push((part, start..runs.len()));
    }
    Ok(Reproduction {
        scale,
        out: out.to_path_buf(),
        plan: Plan {
            out: runs_dir,
            plugins: Vec::new(),
            runs,
        },
        parts: planned,
    })
}

impl Reproduction {
    /// The plan as printed before anything runs: per part its runs and
    /// env steps, the notes on what differs from the paper, and the
    /// estimated CPU time.
    pub fn describe(&self, throughputs: &Throughputs) -> String {
        let mut out = format!(
            "reproduce trpo2015 --scale {}: {} runs into {}\n",
            self.scale.name(),
            self.plan.runs.len(),
            self.plan.out.display()
        );
        let mut total_seconds = 0.0;
        let mut assumed = 0usize;
        let mut rows = Vec::new();
        for (part, range) in &self.parts {
            let (mut steps, mut seconds) = (0u64, 0.0);
            for run in &self.plan.runs[range.clone()] {
                steps += run.request.steps;
                let rate = throughputs.get(&run.label, run.request.env.spec().short_name());
                if rate.is_none() {
                    assumed += 1;
                }
                seconds += run.request.steps as f64 / rate.unwrap_or(ASSUMED_STEPS_PER_SECOND);
            }
            total_seconds += seconds;
            rows.push([
                part.name.clone(),
                range.len().to_string(),
                format!("{:.3e}", steps as f64),
                format!("{:.2}", seconds / 3600.0),
            ]);
        }
        out += &crate::cli::table(&["PART", "RUNS", "ENV STEPS", "CPU-HOURS (EST.)"], &rows);
        let mut printed: Vec<&String> = Vec::new();
        for note in self.parts.iter().flat_map(|(p, _)| &p.notes) {
            if !printed.contains(&note) {
                out += &format!("  - {note}\n");
                printed.push(note);
            }
        }
        out += &format!(
            "estimated CPU time: {:.2} CPU-hours ({} of {} runs at an assumed {} steps/s; the \
             rest at the steps/s measured by finished runs of the same algorithm and env)\n",
            total_seconds / 3600.0,
            assumed,
            self.plan.runs.len(),
            ASSUMED_STEPS_PER_SECOND
        );
        out += &format!(
            "then: harness check cg on the trained trpo policy ({CG_ENV}, seed 0), and the \
             report in {}\n",
            self.out.join(REPORT_DIR).display()
        );
        out
    }

    /// Run the sweep, the CG check and the report.
    pub fn execute(&self, jobs: usize, quiet: bool) -> Result<Finished> {
        let outcome = self.sweep(jobs, quiet, None)?;
        let check = self.check_cg()?;
        let written = report::write(std::slice::from_ref(&self.out), &self.out.join(REPORT_DIR))?;
        Ok(Finished {
            sweep: outcome.describe(&self.plan, jobs),
            failures: outcome.failures.len(),
            check,
            report: written.html,
        })
    }

    /// Run only `shard`'s runs of the grid (a Slurm task's share).
    pub fn execute_shard(&self, jobs: usize, quiet: bool, shard: Shard) -> Result<sweep::Outcome> {
        self.sweep(jobs, quiet, Some(shard))
    }

    fn sweep(&self, jobs: usize, quiet: bool, shard: Option<Shard>) -> Result<sweep::Outcome> {
        sweep::execute(
            &self.plan,
            sweep::Options {
                jobs,
                threads: sweep::default_threads(jobs),
                timeout: None,
                shard,
                retry_failed: false,
                quiet,
            },
        )
    }

    /// `harness check cg` on the policy trained by TRPO single path on
    /// [`CG_ENV`], seed 0 (or the lowest seed run), with its config.
    fn check_cg(&self) -> Result<PathBuf> {
        let trained = self
            .plan
            .runs
            .iter()
            .filter(|r| r.label == "trpo" && r.request.env.spec().short_name() == CG_ENV)
            .min_by_key(|r| r.request.seed)
            .context("the plan has no trpo run on hopper to check CG with")?;
        let req = &trained.request;
        let dir = req.out_dir.join(req.run_id());
        if !dir.join(RUNS_FILE).is_file() {
            bail!("the trpo run {} did not finish", dir.display());
        }
        let policy = std::fs::read(dir.join(POLICY_FILE))
            .with_context(|| format!("reading {}", dir.join(POLICY_FILE).display()))?;
        let report = check_cg(&CgCheckRequest {
            algorithm: req.algorithm.clone(),
            config: req.config.clone(),
            env: req.env.clone(),
            seed: req.seed,
            num_envs: req.num_envs,
            steps: req.steps,
            iterations: Some(CG_ITERATIONS),
            out_dir: self.out.join(CHECKS_DIR),
            policy: Some(policy),
        })?;
        Ok(report.path)
    }
}

/// What a finished reproduction did.
pub struct Finished {
    /// The sweep's closing summary.
    pub sweep: String,
    /// Failed runs.
    pub failures: usize,
    /// The CG check's table.
    pub check: PathBuf,
    /// The report's `index.html`.
    pub report: PathBuf,
}

/// Measured env steps per wall-clock second of finished runs, by (label,
/// env short name): what the CPU-time estimate divides by.
#[derive(Debug, Default)]
pub struct Throughputs(BTreeMap<(String, String), f64>);

impl Throughputs {
    /// The mean throughput of the finished runs below `dir` (none when it
    /// holds none).
    pub fn measure(dir: &Path) -> Throughputs {
        let Ok(loaded) = report::data::load(&[dir.to_path_buf()]) else {
            return Throughputs::default();
        };
        let mut sums: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
        for run in loaded.runs.iter().filter(|r| r.ok()) {
            let id = run.row.env_id.split(" [").next().unwrap_or_default();
            let Ok(spec) = trustbench_envs::resolve_spec(id) else {
                continue;
            };
            let slot = sums
                .entry((run.label.clone(), spec.short_name().to_string()))
                .or_default();
            slot.0 += run.row.env_steps as f64;
            slot.1 += run.row.wall_seconds;
        }
        Throughputs(
            sums.into_iter()
                .filter(|(_, (_, s))| *s > 0.0)
                .map(|(k, (steps, s))| (k, steps / s))
                .collect(),
        )
    }

    fn get(&self, label: &str, env: &str) -> Option<f64> {
        self.0.get(&(label.to_string(), env.to_string())).copied()
    }
}
