//! The child side of a sweep: `harness sweep-worker --plan-file F --index I`
//! runs exactly run `I` of the plan its parent resolved and wrote to `F`,
//! so nothing is parsed or resolved twice in different ways. The plan file
//! holds each run's resolved settings; the child rebuilds the request from
//! them and refuses to run unless it gets the same run id, the hash of
//! everything that can change the results.

use super::Plan;
use crate::child;
use crate::plugin::Catalog;
use crate::results::write_bytes_atomically;
use crate::run::{self, RunFailed, RunRequest, RunSummary};
use crate::signals;
use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use trustbench_envs::{EnvConfig, resolve_spec};

/// A plan as its children read it.
#[derive(Debug, Serialize, Deserialize)]
pub struct PlanFile {
    /// Plugin libraries, in search order.
    plugins: Vec<PathBuf>,
    /// Every run of the plan, in plan order.
    runs: Vec<RunSpec>,
}

/// One run's resolved settings.
#[derive(Debug, Serialize, Deserialize)]
struct RunSpec {
    run_id: String,
    algo: String,
    config: Map<String, Value>,
    env: String,
    env_options: Vec<(String, String)>,
    seed: u64,
    steps: u64,
    num_envs: u32,
    eval_every: u64,
    eval_episodes: u32,
    out_dir: PathBuf,
}

impl PlanFile {
    /// The resolved settings of every run of `plan`.
    pub fn new(plan: &Plan) -> PlanFile {
        let runs = plan
            .runs
            .iter()
            .map(|p| {
                let q = &p.request;
                RunSpec {
                    run_id: q.run_id(),
                    algo: q.algorithm.info.id.clone(),
                    config: q.config.clone(),
                    env: q.env.id().to_string(),
                    env_options: q
                        .env
                        .options()
                        .pairs()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    seed: q.seed,
                    steps: q.steps,
                    num_envs: q.num_envs,
                    eval_every: q.eval_every,
                    eval_episodes: q.eval_episodes,
                    out_dir: q.out_dir.clone(),
                }
            })
            .collect();
        PlanFile {
            plugins: plan.plugins.clone(),
            runs,
        }
    }

    /// Write it (atomically) to `path`.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string(self)?;
        write_bytes_atomically(path, text.as_bytes())
    }

    /// Read one from `path`.
    pub fn read(path: &Path) -> Result<PlanFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading plan file {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("plan file {}", path.display()))
    }

    /// Run `index`, rebuilt: the same request as in the parent's plan, on
    /// `threads` threads.
    pub fn request(&self, index: usize, threads: usize) -> Result<RunRequest> {
        let spec = self.runs.get(index).ok_or_else(|| {
            anyhow!(
                "run index {index} is out of range: the plan has {} runs (0..{})",
                self.runs.len(),
                self.runs.len()
            )
        })?;
        let algorithm = Catalog::new(&self.plugins)?.find(&spec.algo)?;
        let env = resolve_spec(&spec.env).map_err(anyhow::Error::msg)?;
        let env = EnvConfig::new(env, &spec.env_options).map_err(anyhow::Error::msg)?;
        let request = RunRequest {
            algorithm,
            config: spec.config.clone(),
            env,
            seed: spec.seed,
            steps: spec.steps,
            num_envs: spec.num_envs,
            eval_every: spec.eval_every,
            eval_episodes: spec.eval_episodes,
            out_dir: spec.out_dir.clone(),
            quiet: true,
            threads,
        };
        if request.run_id() != spec.run_id {
            bail!(
                "run {index} rebuilt as {} but planned as {}: the plugin libraries changed since the sweep started",
                request.run_id(),
                spec.run_id
            );
        }
        Ok(request)
    }
}

/// Execute run `index` of the plan in `plan_file`, in this process (the
/// child): report progress to the parent on stderr, stop between
/// iterations on SIGINT/SIGTERM (the run is then recorded `interrupted`),
/// and record errors and panics as a failed run, so the parent finds
/// `runs.parquet` whenever this process could still write it.
pub fn execute(plan_file: &Path, index: usize, threads: usize) -> Result<RunSummary> {
    signals::install();
    child::enable_progress_reports();
    let request = PlanFile::read(plan_file)?.request(index, threads)?;
    run_recorded(&request)
}

/// Run `req`; a failure the run did not record itself is recorded here.
fn run_recorded(req: &RunRequest) -> Result<RunSummary> {
    let error = match catch_unwind(AssertUnwindSafe(|| run::execute(req))) {
        Ok(Ok(summary)) => return Ok(summary),
        Ok(Err(e)) if e.is::<RunFailed>() => return Err(e),
        Ok(Err(e)) => format!("{e:#}"),
        Err(panic) => format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        ),
    };
    match run::record_failure(req, &error) {
        Ok(_) => Err(anyhow!(error)),
        Err(e) => Err(anyhow!("{error} (and recording it failed: {e:#})")),
    }
}
