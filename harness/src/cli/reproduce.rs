//! `harness reproduce trpo2015`: a paper's experiments in one command.

use super::emit;
use super::sweep::{SlurmSettings, absolute, job_array};
use crate::reproduce::grid::Scale;
use crate::reproduce::suites::Suite;
use crate::reproduce::{self, Reproduction, Throughputs};
use crate::signals::Interrupted;
use crate::sweep;
use crate::sweep::shard::Shard;
use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// The papers `harness reproduce` knows.
#[derive(Debug, Subcommand)]
pub enum ReproduceCommand {
    /// Schulman et al. 2015, "Trust Region Policy Optimization": locomotion
    /// (Figure 4), the seven games (Table 1), the CG check; then the report
    /// with each claim judged.
    Trpo2015(Box<Trpo2015Args>),
}

/// `harness reproduce trpo2015`.
#[derive(Debug, Args)]
pub struct Trpo2015Args {
    /// smoke: every piece on tiny budgets (≤ 2 min); quick: 1M-step
    /// locomotion and a short arcade run (≤ 30 min on 2 cores); paper: the
    /// paper's batches and iterations (a cluster's worth; see
    /// --local-paper-scale).
    #[arg(long, value_enum, default_value_t = Scale::Quick)]
    scale: Scale,
    /// Which envs: native (our rapier locomotion and arcade games), mujoco
    /// (MuJoCo v5 Swimmer, Hopper, Walker2d through Gymnasium) or ale (the
    /// seven Atari ROMs from pixels); the standard suites need Python with
    /// gymnasium, mujoco and ale-py (docs/envs.md). Suites may share --out:
    /// the report then covers them all, with a transfer section.
    #[arg(long, value_enum, default_value_t = Suite::Native)]
    suite: Suite,
    /// Run only the planned runs with these labels (trpo, random,
    /// trpo-vine, ...) and envs (as planned, e.g. gym:ALE/Pong-v5, or short
    /// names), comma-separated; run ids stay those of the whole plan.
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    only: Vec<String>,
    /// Seeds 0..N [default: smoke 2, quick 4, paper 5].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    seeds: Option<u64>,
    /// Output directory: runs/, checks/ and report/ go below it.
    #[arg(long, value_name = "DIR", default_value = "results/trpo2015")]
    out: PathBuf,
    /// Parallel runs [default: one per core]; results do not depend on it.
    #[arg(long, value_name = "J", value_parser = clap::value_parser!(u32).range(1..=4096))]
    jobs: Option<u32>,
    /// Threads of each run [default: 1 with several jobs, else every core];
    /// results do not depend on it. Set it when other work shares the cores.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    threads: Option<u32>,
    /// Print the plan and its CPU-time estimate, run nothing; at the paper
    /// scale (and with --slurm) also write the Slurm job script.
    #[arg(long)]
    dry_run: bool,
    /// Run the grid as a Slurm job array (OUT/slurm/reproduce-trpo2015-SCALE.sbatch;
    /// task i runs shard i) and submit it with sbatch; once it has finished,
    /// the same command without --slurm does the CG check and the report.
    #[arg(long, conflicts_with = "shard")]
    slurm: bool,
    #[command(flatten)]
    slurm_settings: SlurmSettings,
    /// Run only part I (0-based) of N of the grid, no CG check or report (a
    /// Slurm task's share).
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Run the paper scale on this machine (otherwise it is only planned).
    #[arg(long)]
    local_paper_scale: bool,
    /// Where to measure throughputs for the estimate [default: --out].
    #[arg(long, value_name = "DIR")]
    throughputs: Option<PathBuf>,
    /// No per-run progress lines (the summary is still printed).
    #[arg(long)]
    quiet: bool,
}

impl Trpo2015Args {
    /// The planned reproduction.
    pub fn resolve(&self) -> Result<Reproduction> {
        if self.local_paper_scale && self.scale != Scale::Paper {
            bail!("--local-paper-scale applies to --scale paper only");
        }
        let mut repro = reproduce::plan(self.suite, self.scale, self.seeds, &self.out)?;
        repro.restrict(&self.only)?;
        Ok(repro)
    }
}

/// Print the plan; run it unless told not to.
pub fn execute(args: &Trpo2015Args) -> Result<()> {
    let repro = args.resolve()?;
    let throughputs = Throughputs::measure(args.throughputs.as_deref().unwrap_or(&args.out));
    emit(&repro.describe(&throughputs));
    if args.slurm || (args.dry_run && args.scale == Scale::Paper) {
        job_script(args, &repro, args.dry_run)?;
    }
    if args.dry_run {
        emit("dry run: nothing started\n");
        return Ok(());
    }
    if args.slurm {
        return Ok(());
    }
    if args.scale == Scale::Paper && !args.local_paper_scale {
        emit(
            "not started: the paper scale is meant for a cluster (--slurm submits it as a job \
             array); pass --local-paper-scale to run it on this machine\n",
        );
        return Ok(());
    }
    let jobs = args.jobs.map_or_else(sweep::default_jobs, |j| j as usize);
    let threads = args
        .threads
        .map_or_else(|| sweep::default_threads(jobs), |t| t as usize);
    if let Some(shard) = args.shard {
        let outcome = repro.execute_shard(jobs, threads, args.quiet, shard)?;
        emit(&outcome.describe(&repro.plan, jobs));
        emit(
            "shard done; once every shard has finished, the same command without --shard does \
             the CG check (native suite) and the report\n",
        );
        if let Some(signal) = outcome.interrupted {
            return Err(Interrupted { signal }.into());
        }
        if outcome.failed() > 0 {
            bail!("{} runs failed (listed above)", outcome.failed());
        }
        return Ok(());
    }
    let done = repro.execute(jobs, threads, args.quiet)?;
    emit(&done.sweep);
    if let Some(signal) = done.interrupted {
        return Err(Interrupted { signal }.into());
    }
    if let Some(check) = &done.check {
        emit(&format!("cg check: {}\n", check.display()));
    }
    if let Some(report) = &done.report {
        emit(&format!("report: {}\n", report.display()));
    }
    if done.failures > 0 {
        bail!("{} runs failed (listed above)", done.failures);
    }
    Ok(())
}

/// Write the job array whose task i runs shard i of this reproduction, and
/// submit it unless `dry_run`.
fn job_script(args: &Trpo2015Args, repro: &Reproduction, dry_run: bool) -> Result<()> {
    let options = args.slurm_settings.options();
    let out = absolute(&args.out)?;
    let scale = args.scale.name().to_string();
    let suite = args.suite.name();
    let mut task_args: Vec<String> = ["reproduce", "trpo2015", "--suite", suite, "--scale", &scale]
        .map(String::from)
        .to_vec();
    if let Some(n) = args.seeds {
        task_args.extend(["--seeds".into(), n.to_string()]);
    }
    if !args.only.is_empty() {
        task_args.extend(["--only".into(), args.only.join(",")]);
    }
    task_args.extend([
        "--out".into(),
        out.display().to_string(),
        "--jobs".into(),
        options.cpus_per_task.to_string(),
        "--quiet".into(),
    ]);
    if args.scale == Scale::Paper {
        task_args.push("--local-paper-scale".into());
    }
    // The native suite's job keeps its name from before suites existed.
    let job = match args.suite {
        Suite::Native => format!("reproduce-trpo2015-{scale}"),
        _ => format!("reproduce-trpo2015-{suite}-{scale}"),
    };
    job_array(&job, &out, &repro.plan, &task_args, &options, dry_run)
}
