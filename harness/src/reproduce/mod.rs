//! `harness reproduce trpo2015`: the TRPO paper's experiments in one
//! command — the grid of [`grid`] as one resumable sweep, `harness check
//! cg` on a trained TRPO policy, then the report, whose Claims section
//! judges the paper's claims on the results.
//!
//! Built on the sweep planning API only ([`SweepSpec::plan`],
//! [`sweep::execute`]): the parts' plans are concatenated into one plan over
//! one output directory, so rerunning the command skips every finished run.

pub mod grid;

use crate::check::cg::{CgCheckRequest, check_cg};
use crate::report;
use crate::results::{POLICY_FILE, RUNS_FILE};
use crate::sweep::shard::Shard;
use crate::sweep::{self, Plan, SweepSpec};
use anyhow::{Context, Result, bail};
use grid::{Part, Scale};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use trustbench_envs::arcade::GAMES;

/// The env whose trained TRPO policy the CG check uses.
const CG_ENV: &str = "hopper";
/// CG iterations compared with the exact solve (the claim reads the 10th).
const CG_ITERATIONS: usize = 30;
/// Throughput assumed for a run that neither finished runs nor
/// [`MEASURED`] cover (a plugin's algorithm, say): the order of a
/// locomotion run on one core.
const ASSUMED_STEPS_PER_SECOND: f64 = 20_000.0;
/// Env steps per CPU-second of one single-threaded run, by (label, env,
/// view), as measured on this project's 2-core VM (Intel Xeon, AVX-512, 2026-11-30;
/// `benches/README.md`, "harness reproduce"): the locomotion and compact
/// arcade figures by `--scale quick` on an otherwise idle machine, the
/// pixel figures by the whole-run pixel benchmark. What the estimate uses
/// when the output directory holds no finished run of the same kind.
/// `trpo-cg20` and `trpo-cg50` are TRPO's rate × 0.97 and × 0.89: their CPU
/// time over TRPO's in 200k-step hopper runs, one seed each (7.83 and 8.48
/// against 7.57 user-seconds, 2026-12-06).
const MEASURED: &[(&str, &str, &str, f64)] = &[
    ("random", "swimmer", "", 39_900.0),
    ("trpo", "swimmer", "", 24_200.0),
    ("trpo-cg20", "swimmer", "", 23_500.0),
    ("trpo-cg50", "swimmer", "", 21_500.0),
    ("trpo-vine", "swimmer", "", 34_800.0),
    ("npg", "swimmer", "", 23_000.0),
    ("vpg", "swimmer", "", 40_800.0),
    ("ppo", "swimmer", "", 18_600.0),
    ("cem", "swimmer", "", 38_400.0),
    ("cma", "swimmer", "", 31_000.0),
    ("random", "hopper", "", 97_700.0),
    ("trpo", "hopper", "", 26_000.0),
    ("trpo-cg20", "hopper", "", 25_200.0),
    ("trpo-cg50", "hopper", "", 23_100.0),
    ("trpo-vine", "hopper", "", 69_200.0),
    ("npg", "hopper", "", 27_300.0),
    ("vpg", "hopper", "", 62_500.0),
    ("ppo", "hopper", "", 20_700.0),
    ("cem", "hopper", "", 73_500.0),
    ("cma", "hopper", "", 71_300.0),
    ("random", "walker", "", 57_000.0),
    ("trpo", "walker", "", 35_100.0),
    ("trpo-cg20", "walker", "", 34_000.0),
    ("trpo-cg50", "walker", "", 31_200.0),
    ("trpo-vine", "walker", "", 57_100.0),
    ("npg", "walker", "", 36_200.0),
    ("vpg", "walker", "", 36_800.0),
    ("ppo", "walker", "", 16_800.0),
    ("cem", "walker", "", 60_300.0),
    ("cma", "walker", "", 58_000.0),
    ("random", ARCADE, "compact", 7_700_000.0),
    ("trpo", ARCADE, "compact", 21_600.0),
    ("trpo-vine", ARCADE, "compact", 289_000.0),
    ("random", ARCADE, "pixels", 28_600.0),
    ("trpo", ARCADE, "pixels", 1_400.0),
    // Not measured on its own: a vine iteration's branches step the env
    // like single path's rollouts and run the same net.
    ("trpo-vine", ARCADE, "pixels", 1_400.0),
];
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
        // Runs estimated from finished runs, from MEASURED, assumed.
        let mut counts = [0usize; 3];
        let mut rows = Vec::new();
        for (part, range) in &self.parts {
            let (mut steps, mut seconds) = (0u64, 0.0);
            for run in &self.plan.runs[range.clone()] {
                steps += run.request.steps;
                let rate = match throughputs.get(&kind_of(run)) {
                    Some(rate) => {
                        counts[0] += 1;
                        rate
                    }
                    None => match measured(&kind_of(run)) {
                        Some(rate) => {
                            counts[1] += 1;
                            rate
                        }
                        None => {
                            counts[2] += 1;
                            ASSUMED_STEPS_PER_SECOND
                        }
                    },
                };
                seconds += run.request.steps as f64 / rate;
            }
            total_seconds += seconds;
            rows.push([
                part.name.clone(),
                range.len().to_string(),
                format!("{:.3e}", steps as f64),
                format!("{:.2}", seconds / 3600.0),
            ]);
        }
        out += &crate::text::table(&["PART", "RUNS", "ENV STEPS", "CPU-HOURS (EST.)"], &rows);
        let mut printed: Vec<&String> = Vec::new();
        for note in self.parts.iter().flat_map(|(p, _)| &p.notes) {
            if !printed.contains(&note) {
                out += &format!("  - {note}\n");
                printed.push(note);
            }
        }
        out += &format!(
            "estimated CPU time: {:.2} CPU-hours (env steps / steps per CPU-second: {} runs at the \
             rate of finished runs of the same algorithm, env and view under the throughput \
             directory, {} at the rates measured on a 2-core Xeon VM (benches/README.md), \
             {} at an assumed {} steps/s)\n",
            total_seconds / 3600.0,
            counts[0],
            counts[1],
            counts[2],
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
    pub fn execute_shard(&self, jobs: usize, quiet: bool, shard: Shard) -> Result<sweep::Summary> {
        self.sweep(jobs, quiet, Some(shard))
    }

    fn sweep(&self, jobs: usize, quiet: bool, shard: Option<Shard>) -> Result<sweep::Summary> {
        sweep::execute(
            &self.plan,
            sweep::Options {
                jobs,
                threads: sweep::default_threads(jobs),
                timeout: None,
                shard,
                retry_failed: false,
                quiet,
                mem_limit: None,
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

/// What a run's throughput depends on: its label, its env's short name
/// and its view (`pixels` costs ~20× `compact`; empty for envs without
/// one).
type Kind = (String, String, String);

/// The [`Kind`] of a planned run.
fn kind_of(run: &sweep::PlannedRun) -> Kind {
    let env = &run.request.env;
    let view = env.options().pairs().find(|(k, _)| *k == VIEW_OPTION);
    (
        run.label.clone(),
        env.spec().short_name().to_string(),
        view.map(|(_, v)| v.to_string()).unwrap_or_default(),
    )
}

/// The env option that changes a run's cost by an order of magnitude.
const VIEW_OPTION: &str = "view";

/// [`MEASURED`]'s env name for every arcade game: their costs per step are
/// within 2× of each other, close enough for a plan.
const ARCADE: &str = "arcade";

/// [`MEASURED`]'s rate for `kind` (an arcade game's under [`ARCADE`]).
fn measured(kind: &Kind) -> Option<f64> {
    let (label, env, view) = (&kind.0[..], &kind.1[..], &kind.2[..]);
    let env = if GAMES.contains(&env) { ARCADE } else { env };
    MEASURED
        .iter()
        .find(|m| (m.0, m.1, m.2) == (label, env, view))
        .map(|m| m.3)
}

/// Measured env steps per wall-clock second of finished single-threaded
/// runs, by [`Kind`]: what the CPU-time estimate divides by first.
#[derive(Debug, Default)]
pub struct Throughputs(BTreeMap<Kind, f64>);

impl Throughputs {
    /// The mean throughput of the finished runs below `dir` (none when it
    /// holds none).
    pub fn measure(dir: &Path) -> Throughputs {
        let Ok(loaded) = report::data::load(&[dir.to_path_buf()]) else {
            return Throughputs::default();
        };
        let mut sums: BTreeMap<Kind, (f64, f64)> = BTreeMap::new();
        for run in loaded.runs.iter().filter(|r| r.ok()) {
            let id = run.row.env_id.split(" [").next().unwrap_or_default();
            let Ok(spec) = trustbench_envs::resolve_spec(id) else {
                continue;
            };
            let view = run.config.env.as_ref().and_then(|o| o.get(VIEW_OPTION));
            let kind = (
                run.label.clone(),
                spec.short_name().to_string(),
                view.cloned().unwrap_or_default(),
            );
            let slot = sums.entry(kind).or_default();
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

    fn get(&self, kind: &Kind) -> Option<f64> {
        self.0.get(kind).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_planned_run_of_every_scale_has_a_measured_rate() {
        for scale in [Scale::Smoke, Scale::Quick, Scale::Paper] {
            let r = plan(scale, Some(1), Path::new("o")).unwrap();
            let missing: Vec<Kind> = r
                .plan
                .runs
                .iter()
                .map(kind_of)
                .filter(|k| measured(k).is_none())
                .collect();
            assert!(missing.is_empty(), "{}: {missing:?}", scale.name());
            let text = r.describe(&Throughputs::default());
            assert!(text.contains(", 0 at an assumed"), "{text}");
        }
    }

    #[test]
    fn finished_runs_take_precedence_over_the_measured_table() {
        let r = plan(Scale::Quick, Some(1), Path::new("o")).unwrap();
        let table = r.describe(&Throughputs::default());
        let fast: BTreeMap<Kind, f64> = r.plan.runs.iter().map(|p| (kind_of(p), 1e9)).collect();
        let text = r.describe(&Throughputs(fast));
        assert!(
            text.contains("estimated CPU time: 0.00 CPU-hours"),
            "{text}"
        );
        assert!(
            !table.contains("estimated CPU time: 0.00 CPU-hours"),
            "{table}"
        );
    }
}
