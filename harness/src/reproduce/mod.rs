//! `harness reproduce trpo2015`: the TRPO paper's experiments in one
//! command — the grid of [`grid`] as one resumable sweep, `harness check
//! cg` on a trained TRPO policy, then the report, whose Claims section
//! judges the paper's claims on the results.
//!
//! Built on the sweep planning API only ([`SweepSpec::plan`],
//! [`sweep::execute`]): the parts' plans are concatenated into one plan over
//! one output directory, so rerunning the command skips every finished run.

pub mod grid;
pub mod suites;

use crate::check::cg::{CgCheckRequest, check_cg};
use crate::report;
use crate::report::transfer::{GAME_PAIRS, LOCOMOTION_PAIRS};
use crate::results::{POLICY_FILE, RUNS_FILE};
use crate::sweep::shard::Shard;
use crate::sweep::{self, Plan, SweepSpec};
use anyhow::{Context, Result, bail};
use grid::{Part, Scale};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use suites::Suite;
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
    // The standard suites on the 2-vCPU AMD EPYC VM: the median over the
    // `--scale quick` runs (2026-12-06/07, 8 env copies, two jobs on two
    // cores, at times beside a third) of env steps per wall-clock second,
    // so per CPU-second at most this: 15–20 MuJoCo runs per label over
    // Swimmer-, Hopper- and Walker2d-v5 at 1M steps; 4 runs per label over
    // Breakout, Pong, Seaquest and Space Invaders from pixels at 2M. The
    // Python env step dominates; the vine is given trpo's rate (as for the
    // native pixels).
    ("random", MUJOCO, RAW, 3_800.0),
    ("trpo", MUJOCO, RAW, 2_700.0),
    ("npg", MUJOCO, RAW, 2_500.0),
    ("vpg", MUJOCO, RAW, 2_500.0),
    ("cem", MUJOCO, RAW, 3_500.0),
    ("cma", MUJOCO, RAW, 3_400.0),
    ("random", ROMS, "pixels", 1_260.0),
    ("trpo", ROMS, "pixels", 630.0),
    ("trpo-vine", ROMS, "pixels", 630.0),
];
/// Subdirectory of the output for the sweep's runs.
const RUNS_DIR: &str = "runs";
/// Subdirectory for the CG check.
const CHECKS_DIR: &str = "checks";
/// Subdirectory for the report.
const REPORT_DIR: &str = "report";

/// A reproduction, planned.
pub struct Reproduction {
    /// Its suite.
    pub suite: Suite,
    /// Its scale.
    pub scale: Scale,
    /// The output directory (runs, checks and report below it).
    pub out: PathBuf,
    /// Every run of every part, in one plan over `out/runs`.
    pub plan: Plan,
    /// The parts, each with the range of `plan.runs` it planned.
    pub parts: Vec<(Part, Range<usize>)>,
}

/// Plan the reproduction: every part's spec of `suite`, resolved, into one
/// plan.
pub fn plan(suite: Suite, scale: Scale, seeds: Option<u64>, out: &Path) -> Result<Reproduction> {
    let seeds = seeds.unwrap_or_else(|| scale.default_seeds());
    let parts = suite.parts(scale, seeds);
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
        suite,
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
    /// Keep only the runs whose label or env (id or short name) is named in
    /// `only` (labels and envs each narrow the plan when given): a part of
    /// a suite too big to run at once. Run ids are those of the whole plan,
    /// so a later call without `--only` resumes the rest.
    pub fn restrict(&mut self, only: &[String]) -> Result<()> {
        if only.is_empty() {
            return Ok(());
        }
        let envs_of = |r: &sweep::PlannedRun| {
            let env = &r.request.env;
            [env.id(), env.spec().short_name()]
        };
        let runs = &self.plan.runs;
        let (mut labels, mut envs): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        for name in only {
            if runs.iter().any(|r| r.label == *name) {
                labels.push(name);
            } else if runs.iter().any(|r| envs_of(r).contains(&name.as_str())) {
                envs.push(name);
            } else {
                let mut known: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
                known.extend(runs.iter().map(|r| r.request.env.id()));
                known.sort();
                known.dedup();
                bail!(
                    "--only {name}: no planned run has that label or env; valid: {}",
                    known.join(", ")
                );
            }
        }
        let keep = |r: &sweep::PlannedRun| {
            (labels.is_empty() || labels.contains(&r.label.as_str()))
                && (envs.is_empty() || envs_of(r).iter().any(|e| envs.contains(e)))
        };
        let old = std::mem::take(&mut self.plan.runs);
        let mut old: Vec<Option<sweep::PlannedRun>> = old.into_iter().map(Some).collect();
        for (_, range) in &mut self.parts {
            let start = self.plan.runs.len();
            for slot in &mut old[range.clone()] {
                if slot.as_ref().is_some_and(keep) {
                    self.plan.runs.extend(slot.take());
                }
            }
            *range = start..self.plan.runs.len();
        }
        self.parts.retain(|(_, range)| !range.is_empty());
        Ok(())
    }

    /// The plan as printed before anything runs: per part its runs and
    /// env steps, the notes on what differs from the paper, and the
    /// estimated CPU time.
    pub fn describe(&self, throughputs: &Throughputs) -> String {
        let suite = match self.suite {
            Suite::Native => String::new(),
            other => format!(" --suite {}", other.name()),
        };
        let mut out = format!(
            "reproduce trpo2015{suite} --scale {}: {} runs into {}\n",
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
             directory, {} at the rates measured on this project's 2-core VMs (benches/README.md), \
             {} at an assumed {} steps/s)\n",
            total_seconds / 3600.0,
            counts[0],
            counts[1],
            counts[2],
            ASSUMED_STEPS_PER_SECOND
        );
        if self.cg_run().is_some() {
            out += &format!(
                "then: harness check cg on the trained trpo policy ({CG_ENV}, seed 0), and the \
                 report in {}\n",
                self.out.join(REPORT_DIR).display()
            );
        } else {
            out += &format!(
                "then: the report in {} (of every run under {}, other suites' included)\n",
                self.out.join(REPORT_DIR).display(),
                self.out.display()
            );
        }
        out
    }

    /// Run the sweep, then (unless a signal interrupted it) the CG check
    /// and the report.
    pub fn execute(&self, jobs: usize, threads: usize, quiet: bool) -> Result<Finished> {
        let outcome = self.sweep(jobs, threads, quiet, None)?;
        let mut finished = Finished {
            sweep: outcome.describe(&self.plan, jobs),
            failures: outcome.failed(),
            interrupted: outcome.interrupted,
            check: None,
            report: None,
        };
        if finished.interrupted.is_none() {
            finished.check = self.check_cg()?;
            let out = std::slice::from_ref(&self.out);
            finished.report = Some(report::write(out, &self.out.join(REPORT_DIR))?.html);
        }
        Ok(finished)
    }

    /// Run only `shard`'s runs of the grid (a Slurm task's share).
    pub fn execute_shard(
        &self,
        jobs: usize,
        threads: usize,
        quiet: bool,
        shard: Shard,
    ) -> Result<sweep::Summary> {
        self.sweep(jobs, threads, quiet, Some(shard))
    }

    fn sweep(
        &self,
        jobs: usize,
        threads: usize,
        quiet: bool,
        shard: Option<Shard>,
    ) -> Result<sweep::Summary> {
        sweep::execute(
            &self.plan,
            sweep::Options {
                jobs,
                threads,
                timeout: None,
                shard,
                retry_failed: false,
                quiet,
                mem_limit: None,
            },
        )
    }

    /// The run whose policy the CG check uses: TRPO single path on
    /// [`CG_ENV`] (native: the standard suites have none), lowest seed.
    fn cg_run(&self) -> Option<&sweep::PlannedRun> {
        self.plan
            .runs
            .iter()
            .filter(|r| r.label == "trpo" && r.request.env.spec().short_name() == CG_ENV)
            .min_by_key(|r| r.request.seed)
    }

    /// `harness check cg` on the policy of [`Reproduction::cg_run`], with
    /// its config; `None` when the plan has no such run (a standard suite,
    /// or `--only` left it out).
    fn check_cg(&self) -> Result<Option<PathBuf>> {
        let Some(trained) = self.cg_run() else {
            return Ok(None);
        };
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
        Ok(Some(report.path))
    }
}

/// What a finished reproduction did.
pub struct Finished {
    /// The sweep's closing summary.
    pub sweep: String,
    /// Runs that ended for good without success (not the interrupted ones).
    pub failures: usize,
    /// The signal that stopped the sweep, if one did: then neither the
    /// check nor the report ran, since runs are missing.
    pub interrupted: Option<i32>,
    /// The CG check's table (when the plan has its run: native suite).
    pub check: Option<PathBuf>,
    /// The report's `index.html`.
    pub report: Option<PathBuf>,
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

/// [`MEASURED`]'s env name for the MuJoCo tasks of the `mujoco` suite
/// (their costs per step are within 2× of each other, all Python-bound).
const MUJOCO: &str = "gym:mujoco";
/// The Gymnasium provider's default view (its envs' observations as
/// Gymnasium gives them), which runs record.
const RAW: &str = "raw";
/// [`MEASURED`]'s env name for every Atari ROM.
const ROMS: &str = "gym:ALE";

/// [`MEASURED`]'s rate for `kind` (an arcade game's under [`ARCADE`], a
/// standard suite's under [`MUJOCO`] or [`ROMS`]).
fn measured(kind: &Kind) -> Option<f64> {
    let (label, env, view) = (&kind.0[..], &kind.1[..], &kind.2[..]);
    let standard = |pairs: &[(&str, &str)]| {
        pairs.iter().any(|p| {
            p.1.strip_prefix(env)
                .is_some_and(|version| version.starts_with("-v"))
        })
    };
    let env = if GAMES.contains(&env) {
        ARCADE
    } else if standard(LOCOMOTION_PAIRS) {
        MUJOCO
    } else if standard(GAME_PAIRS) {
        ROMS
    } else {
        env
    };
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
            let r = plan(Suite::Native, scale, Some(1), Path::new("o")).unwrap();
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
    fn every_run_of_the_standard_suites_has_a_measured_rate() {
        // Their plans need Python to resolve the envs: the kinds are read
        // off the specs (label, env id without its version, view).
        for suite in [Suite::Mujoco, Suite::Ale] {
            for scale in [Scale::Smoke, Scale::Quick, Scale::Paper] {
                for part in suite.parts(scale, 1) {
                    let view = part
                        .spec
                        .env_set
                        .iter()
                        .find_map(|s| s.strip_prefix("view="))
                        .unwrap_or(RAW);
                    let labels = part.spec.algos.iter().chain(part.spec.variants.keys());
                    for label in labels {
                        for env in &part.spec.envs {
                            let short = env.rsplit_once("-v").unwrap().0;
                            let kind = (label.clone(), short.to_string(), view.to_string());
                            assert!(measured(&kind).is_some(), "{kind:?}");
                        }
                    }
                }
            }
        }
        let hopper = ("trpo".to_string(), "gym:Hop".to_string(), String::new());
        assert_eq!(measured(&hopper), None);
    }

    #[test]
    fn only_narrows_the_plan_by_label_and_env_and_keeps_run_ids() {
        let full = plan(Suite::Native, Scale::Smoke, Some(1), Path::new("o")).unwrap();
        let mut r = plan(Suite::Native, Scale::Smoke, Some(1), Path::new("o")).unwrap();
        r.restrict(&["trpo".into(), "random".into(), "hopper".into()])
            .unwrap();
        assert_eq!(r.plan.runs.len(), 2);
        assert_eq!(r.parts.len(), 1);
        assert_eq!(r.parts[0].0.name, "locomotion hopper");
        assert_eq!(r.parts[0].1, 0..2);
        for run in &r.plan.runs {
            let twin = full
                .plan
                .runs
                .iter()
                .find(|f| f.label == run.label && f.request.env.id() == run.request.env.id());
            assert_eq!(twin.unwrap().request.run_id(), run.request.run_id());
        }
        assert!(r.cg_run().is_some());
        let mut walker = plan(Suite::Native, Scale::Smoke, Some(1), Path::new("o")).unwrap();
        walker.restrict(&["walker".into()]).unwrap();
        assert!(walker.cg_run().is_none(), "no CG check without its run");
        let err = r.restrict(&["hoper".into()]).unwrap_err().to_string();
        assert!(
            err.contains("--only hoper") && err.contains("hopper-v0"),
            "{err}"
        );
    }

    #[test]
    fn finished_runs_take_precedence_over_the_measured_table() {
        let r = plan(Suite::Native, Scale::Quick, Some(1), Path::new("o")).unwrap();
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
