//! `harness render`: a policy played on an env, written as a GIF.

use super::args::{ConfigArgs, EnvSetArgs, PluginArgs};
use super::emit;
use crate::render::{EpisodeSummary, RenderRequest};
use crate::results::{self, POLICY_FILE, RecordedConfig};
use anyhow::{Context, Result, anyhow};
use clap::Args;
use std::path::PathBuf;

/// `harness render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Env id or short name [default: the run's env, with --run].
    #[arg(long)]
    env: Option<String>,
    /// A run directory: play its final policy (policy.bin) with the algorithm,
    /// config and env of its runs.parquet.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["checkpoint", "algo", "config", "sets"])]
    run: Option<PathBuf>,
    /// A saved policy (a run's policy.bin) for --algo with --config/--set.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Algorithm id [default: random, the uniform-random policy].
    #[arg(long)]
    algo: Option<String>,
    /// The config of --algo, for --checkpoint.
    #[command(flatten)]
    config: ConfigArgs,
    /// Env options (with --run, over the run's recorded options).
    #[command(flatten)]
    env_set: EnvSetArgs,
    #[command(flatten)]
    plugins: PluginArgs,
    /// Seed: episode i starts where a run of this seed evaluates episode i
    /// [default: the run's, with --run; else 0].
    #[arg(long)]
    seed: Option<u64>,
    /// Episodes to play.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    episodes: u32,
    /// Play actions sampled from the policy, as in training, instead of its
    /// mode (what evaluations play).
    #[arg(long)]
    sample: bool,
    /// Keep every N-th env step as a frame.
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    every: u32,
    /// Most frames in the GIF.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_frames: u64,
    /// Frame width, pixels.
    #[arg(long, default_value_t = 320, value_parser = clap::value_parser!(u16).range(16..=4096))]
    width: u16,
    /// Frame height, pixels.
    #[arg(long, default_value_t = 240, value_parser = clap::value_parser!(u16).range(16..=4096))]
    height: u16,
    /// Playback frames per second.
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=100))]
    fps: u32,
    /// The GIF to write; without it the episodes are played and printed,
    /// and nothing is drawn.
    #[arg(short = 'o', long = "out", value_name = "FILE.gif")]
    out: Option<PathBuf>,
}

impl RenderArgs {
    /// What to render: a run's policy, a saved one, or a fresh instance.
    pub fn resolve(&self) -> Result<RenderRequest> {
        let mut plugins = self.plugins.plugins.clone();
        let read = |path: &PathBuf| {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))
        };
        let (algorithm, config, env, policy, seed) = match &self.run {
            Some(dir) => {
                let row = results::read_run(dir)?;
                let recorded = RecordedConfig::parse(&row.config_json)
                    .with_context(|| format!("the run in {}", dir.display()))?;
                plugins.extend(row.plugin_path.map(PathBuf::from));
                // `gym:` envs load their provider on demand (it needs libpython
                // first), so only other providers are loaded from their path.
                if !row.env_id.starts_with(crate::provider::GYM_PREFIX) {
                    plugins.extend(row.env_provider.map(|p| PathBuf::from(p.path)));
                }
                let algorithm = PluginArgs { plugins }.catalog()?.find(&row.algorithm_id)?;
                // The run's env with its recorded options, unless --env names another.
                let env = match &self.env {
                    Some(env) => self.env_set.resolve(env, &[])?,
                    None => self.env_set.resolve(&row.env_id, &recorded.env_options())?,
                };
                let policy = read(&dir.join(POLICY_FILE))?;
                // The run's seed, so episode i is its evaluation's episode i.
                let seed = self.seed.unwrap_or(row.seed);
                (algorithm, recorded.algorithm, env, Some(policy), seed)
            }
            None => {
                let env = self
                    .env
                    .as_deref()
                    .ok_or_else(|| anyhow!("--env is required without --run"))?;
                let algorithm = PluginArgs { plugins }
                    .catalog()?
                    .find(self.algo.as_deref().unwrap_or("random"))?;
                let config = self.config.resolve(&algorithm)?;
                let policy = self.checkpoint.as_ref().map(read).transpose()?;
                let env = self.env_set.resolve(env, &[])?;
                (algorithm, config, env, policy, self.seed.unwrap_or(0))
            }
        };
        Ok(RenderRequest {
            algorithm,
            config,
            policy,
            env,
            seed,
            episodes: self.episodes,
            sample: self.sample,
            frame_every: self.every,
            max_frames: self.max_frames as usize,
            width: self.width,
            height: self.height,
            fps: self.fps,
            out: self.out.clone(),
        })
    }
}

/// Render, then print each episode.
pub fn execute(args: &RenderArgs) -> Result<()> {
    let req = args.resolve()?;
    let s = crate::render::execute(&req)?;
    let episodes: Vec<String> = s
        .episodes
        .iter()
        .map(|e| {
            let travel = match (e.distance, s.step_seconds.and_then(|dt| e.speed(dt))) {
                (Some(d), Some(v)) => format!(" ({d:.2} m, {v:.2} m/s)"),
                _ => String::new(),
            };
            format!("{:.1} in {} steps{travel}", e.ret, e.length)
        })
        .collect();
    let written = match &req.out {
        Some(out) => format!(
            "wrote {}: {} frames of {}×{}, {} bytes; ",
            out.display(),
            s.frames,
            req.width,
            req.height,
            s.bytes
        ),
        None => String::new(),
    };
    emit(&format!(
        "{written}{} {}{} on {}:\n  {}\n",
        req.algorithm.info.id,
        if req.policy.is_some() {
            "(saved policy)"
        } else {
            "(fresh instance)"
        },
        if req.sample { ", actions sampled" } else { "" },
        req.env.id(),
        episodes.join("\n  ")
    ));
    if s.episodes.len() > 1 {
        let n = s.episodes.len() as f64;
        let mean = |f: &dyn Fn(&EpisodeSummary) -> Option<f64>| {
            s.episodes.iter().map(f).sum::<Option<f64>>().map(|t| t / n)
        };
        let speed = s.step_seconds.and_then(|dt| mean(&|e| e.speed(dt)));
        emit(&format!(
            "mean over {} episodes: return {:.1}, length {:.1} steps{}\n",
            s.episodes.len(),
            mean(&|e| Some(e.ret)).unwrap_or(f64::NAN),
            mean(&|e| Some(e.length as f64)).unwrap_or(f64::NAN),
            speed.map_or(String::new(), |v| format!(", forward speed {v:.2} m/s"))
        ));
    }
    Ok(())
}
