//! `harness reproduce trpo2015`: a paper's experiments in one command.

use super::emit;
use crate::reproduce::grid::Scale;
use crate::reproduce::{self, Reproduction, Throughputs};
use crate::sweep;
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
    /// Seeds 0..N [default: smoke 2, quick 4, paper 5].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    seeds: Option<u64>,
    /// Output directory: runs/, checks/ and report/ go below it.
    #[arg(long, value_name = "DIR", default_value = "results/trpo2015")]
    out: PathBuf,
    /// Parallel runs [default: one per core]; results do not depend on it.
    #[arg(long, value_name = "J", value_parser = clap::value_parser!(u32).range(1..=4096))]
    jobs: Option<u32>,
    /// Print the plan and its CPU-time estimate, run nothing.
    #[arg(long)]
    dry_run: bool,
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
        reproduce::plan(self.scale, self.seeds, &self.out)
    }
}

/// Print the plan; run it unless told not to.
pub fn execute(args: &Trpo2015Args) -> Result<()> {
    let repro = args.resolve()?;
    let throughputs = Throughputs::measure(args.throughputs.as_deref().unwrap_or(&args.out));
    emit(&repro.describe(&throughputs));
    if args.dry_run {
        emit("dry run: nothing started\n");
        return Ok(());
    }
    if args.scale == Scale::Paper && !args.local_paper_scale {
        emit(
            "not started: the paper scale is meant for a cluster; pass --local-paper-scale to \
             run it on this machine\n",
        );
        return Ok(());
    }
    let jobs = args.jobs.map_or_else(sweep::default_jobs, |j| j as usize);
    let done = repro.execute(jobs, args.quiet)?;
    emit(&done.sweep);
    emit(&format!(
        "cg check: {}\nreport: {}\n",
        done.check.display(),
        done.report.display()
    ));
    if done.failures > 0 {
        bail!("{} runs failed (listed above)", done.failures);
    }
    Ok(())
}
