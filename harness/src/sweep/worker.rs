//! The child side of a sweep: `harness sweep-worker --run-file F` runs
//! exactly the run its parent resolved and wrote to `F` (in the run's own
//! directory, which the parent has claimed), so nothing is parsed or
//! resolved twice in different ways, and a child reads its one run, never
//! the whole plan. The file holds the run's resolved settings; the child
//! rebuilds the request from them and refuses to run unless it gets the
//! same run id, the hash of everything that can change the results.

use crate::catalog::Catalog;
use crate::child;
use crate::results::write_bytes_atomically;
use crate::run::{self, RunFailed, RunRequest, RunSummary};
use crate::signals;
use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use trustbench_envs::{EnvConfig, resolve_spec};

/// The run file's name in a run directory (removed when the child ends).
pub const RUN_FILE: &str = ".run.json";

/// One run as its child reads it: the run's resolved settings.
#[derive(Debug, Serialize, Deserialize)]
pub struct RunFile {
    /// Plugin libraries, in search order.
    plugins: Vec<PathBuf>,
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

impl RunFile {
    /// The resolved settings of `q`, whose algorithm was looked up in
    /// `plugins` (then the built-ins).
    pub fn new(plugins: &[PathBuf], q: &RunRequest) -> RunFile {
        RunFile {
            plugins: plugins.to_vec(),
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
    }

    /// Write it (atomically) to `path`.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string(self)?;
        write_bytes_atomically(path, text.as_bytes())
    }

    /// Read one from `path`.
    pub fn read(path: &Path) -> Result<RunFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading run file {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("run file {}", path.display()))
    }

    /// The run, rebuilt: the same request as in the parent's plan, on
    /// `threads` threads.
    pub fn request(&self, threads: usize) -> Result<RunRequest> {
        let algorithm = Catalog::new(&self.plugins)?.find(&self.algo)?;
        let env = resolve_spec(&self.env).map_err(anyhow::Error::msg)?;
        let env = EnvConfig::new(env, &self.env_options).map_err(anyhow::Error::msg)?;
        let request = RunRequest {
            algorithm,
            config: self.config.clone(),
            env,
            seed: self.seed,
            steps: self.steps,
            num_envs: self.num_envs,
            eval_every: self.eval_every,
            eval_episodes: self.eval_episodes,
            out_dir: self.out_dir.clone(),
            quiet: true,
            threads,
        };
        if request.run_id() != self.run_id {
            bail!(
                "run rebuilt as {} but planned as {}: the plugin libraries changed since the sweep started",
                request.run_id(),
                self.run_id
            );
        }
        Ok(request)
    }
}

/// Execute the run in `run_file`, in this process (the child): report
/// progress to the parent on stderr, stop between iterations on
/// SIGINT/SIGTERM (the run is then recorded `interrupted`), and record
/// errors and panics as a failed run, so the parent finds `runs.parquet`
/// whenever this process could still write it.
pub fn execute(run_file: &Path, threads: usize) -> Result<RunSummary> {
    signals::install();
    child::enable_reports();
    let request = RunFile::read(run_file)?.request(threads)?;
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
