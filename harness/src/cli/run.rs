//! `harness run`: train one algorithm on one env.

use super::args::{AlgoArgs, BudgetArgs, EnvArgs};
use super::emit;
use crate::child::MemLimit;
use crate::render::{EVAL_GIF, evaluation_gif};
use crate::results::{POLICY_FILE, RUNS_FILE};
use crate::run::{self, RunRequest};
use crate::signals;
use crate::sweep::claim::{self, Attempt};
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;

/// `harness run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    algo: AlgoArgs,
    #[command(flatten)]
    env: EnvArgs,
    /// Run seed; every random stream of the run derives from it.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    budget: BudgetArgs,
    /// Directory for results; the run writes into DIR/<run-id>/.
    #[arg(long, default_value = "results", value_name = "DIR")]
    out: PathBuf,
    /// No progress output (the final summary is still printed).
    #[arg(long)]
    quiet: bool,
    /// Do not end with `eval.gif`, the final evaluation's first episode.
    #[arg(long)]
    no_gif: bool,
    /// Threads for env stepping and the algorithm's batch math [default:
    /// every core]; results are the same bits for every N.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    threads: Option<u32>,
    /// Cap this process's memory (address space, RLIMIT_AS), e.g. 4G: an
    /// allocation past it fails and ends the run.
    #[arg(long, value_name = "SIZE")]
    mem_limit: Option<MemLimit>,
}

impl RunArgs {
    /// The run, fully resolved.
    pub fn resolve(&self) -> Result<RunRequest> {
        let (algorithm, config) = self.algo.resolve()?;
        let env = self.env.resolve()?;
        let budget = self.budget.resolve(env.spec().default_steps);
        Ok(RunRequest {
            algorithm,
            config,
            env,
            seed: self.seed,
            steps: budget.steps,
            num_envs: budget.num_envs,
            eval_every: budget.eval_every,
            eval_episodes: budget.eval_episodes,
            out_dir: self.out.clone(),
            quiet: self.quiet,
            threads: self
                .threads
                .map_or_else(run::default_threads, |t| t as usize),
        })
    }
}

/// Train, write the GIF, then print the summary and what to do next.
/// SIGINT/SIGTERM stop the run between iterations; it is recorded
/// `interrupted` (exit code 128 + signal). The run is claimed first, so it
/// never executes twice at once (say, here and in a sweep into DIR).
pub fn execute(args: &RunArgs) -> Result<()> {
    let req = args.resolve()?;
    signals::install();
    let dir = req.out_dir.join(req.run_id());
    let out_existed = req.out_dir.exists();
    let claim = match claim::take(&dir)? {
        Attempt::Claimed(c) => c,
        Attempt::Held(h) => bail!(
            "run {} is running elsewhere: {} holds {}",
            req.run_id(),
            h.describe(),
            dir.join(claim::CLAIM_FILE).display()
        ),
    };
    claim.log_execution()?;
    if let Some(limit) = args.mem_limit {
        limit.apply_to_self()?;
    }
    let s = match run::execute(&req) {
        Ok(s) => s,
        // Refused before it started (say, by the plugin at `create`):
        // nothing was written, and nothing is left behind.
        Err(e) if !e.is::<run::RunFailed>() && !dir.join(RUNS_FILE).exists() => {
            claim.forget();
            if !out_existed {
                let _ = std::fs::remove_dir(&req.out_dir);
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let gif = (!args.no_gif).then(|| {
        if !args.quiet {
            eprintln!("rendering the final evaluation's first episode...");
        }
        evaluation_gif(&req, &s.dir)
    });
    emit(&format!(
        "run {}: ok, {} env steps in {:.2} s ({:.0} steps/s), {} iterations; final eval return {:.2} ± {:.2} over {} episodes\n",
        s.run_id,
        s.env_steps,
        s.wall_seconds,
        s.env_steps as f64 / s.wall_seconds.max(1e-9),
        s.iterations,
        s.final_eval.0,
        s.final_eval.1,
        s.eval_episodes
    ));
    let dir = s.dir.display();
    let mut next = format!("results: {dir}/{{runs,metrics,episodes}}.parquet and {POLICY_FILE}\n");
    match gif {
        Some(Ok(g)) => {
            let episode = &g.episodes[0];
            next += &format!(
                "picture: {dir}/{EVAL_GIF} (evaluation episode 0: return {:.1} in {} steps)\n",
                episode.ret, episode.length
            );
        }
        Some(Err(e)) => next += &format!("picture: none ({e:#})\n"),
        None => {}
    }
    next += &format!(
        "next:\n  harness render --run {dir} --episodes 3 -o {id}.gif   # watch more episodes\n  \
         harness report {dir} -o reports/{id}                  # curves and tables of this run\n  \
         harness sweep --algos trpo,ppo,random --envs {env} --seeds 3 --out results/compare && \
         harness report results/compare -o reports/compare     # compare methods\n",
        id = s.run_id,
        env = std::iter::once(req.env.spec().short_name().to_string())
            .chain(
                args.env
                    .env_set
                    .env_sets
                    .iter()
                    .map(|s| format!("--env-set {s}"))
            )
            .chain(
                crate::provider::provider_of(&req.env)
                    .filter(|p| !p.on_demand)
                    .map(|p| format!("--plugin {}", p.source)),
            )
            .collect::<Vec<_>>()
            .join(" "),
    );
    emit(&next);
    Ok(())
}
