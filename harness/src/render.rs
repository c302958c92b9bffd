//! `harness render`: play a policy on an env and write the frames as an
//! animated GIF.
//!
//! The envs draw themselves (`Env::render`, RGB frames, no I/O); this module
//! owns the rest: creating the plugin instance exactly as a run does (through
//! the C ABI, with a host whose budget is zero since nothing is trained),
//! loading a saved policy into it, playing episodes on the evaluation start
//! states of the run's seed with the policy's mode (as evaluation does) or
//! with actions sampled from it (as training does), and encoding.
//! Frames are encoded as they are drawn, so memory stays flat however many
//! frames are asked for; without a GIF to write nothing is drawn at all.

use crate::episode::play_episode;
use crate::plugin::AlgorithmRef;
use crate::results::{self, POLICY_FILE};
use crate::run::RunRequest;
use crate::session::{Session, SessionSpec};
use crate::streams::eval_episode_seed;
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;
use trustbench_envs::EnvConfig;

/// What to render, fully resolved.
pub struct RenderRequest {
    /// The policy's algorithm.
    pub algorithm: AlgorithmRef,
    /// Its config (the one it was trained with, for a saved policy).
    pub config: Map<String, Value>,
    /// Saved parameters to load (`Instance::load`); `None` plays the
    /// freshly created instance.
    pub policy: Option<Vec<u8>>,
    /// The env and its options.
    pub env: EnvConfig,
    /// Seed of the start states and of the instance.
    pub seed: u64,
    /// Episodes to play (fewer if `max_frames` is reached first).
    pub episodes: u32,
    /// Play actions sampled from the policy instead of its mode. Why: some
    /// published figures (Tianshou's MuJoCo table) evaluate the stochastic
    /// policy, and the two can differ by thousands on the same parameters.
    pub sample: bool,
    /// Keep every `frame_every`-th env step (and each episode's first and
    /// last state).
    pub frame_every: u32,
    /// Most frames in the GIF.
    pub max_frames: usize,
    /// Frame width, pixels.
    pub width: u16,
    /// Frame height, pixels.
    pub height: u16,
    /// Playback rate, frames per second.
    pub fps: u32,
    /// The GIF file (written atomically); `None` plays the episodes and
    /// draws nothing (then `max_frames` does not apply).
    pub out: Option<PathBuf>,
}

/// One episode as played: what the policy earned and, for envs with an
/// [`trustbench_envs::Odometer`], how far and how fast it went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpisodeSummary {
    /// Undiscounted return.
    pub ret: f64,
    /// Steps taken.
    pub length: u64,
    /// Metres travelled forward (end minus start position).
    pub distance: Option<f64>,
}

impl EpisodeSummary {
    /// Mean forward speed in m/s: `distance / (length · step seconds)`.
    pub fn speed(&self, step_seconds: f64) -> Option<f64> {
        self.distance
            .map(|d| d / (self.length.max(1) as f64 * step_seconds))
    }
}

/// What was rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderSummary {
    /// Frames written (0 without a GIF).
    pub frames: usize,
    /// Each episode played (the last one may have been cut short by
    /// `max_frames`).
    pub episodes: Vec<EpisodeSummary>,
    /// Size of the file, bytes (0 without a GIF).
    pub bytes: usize,
    /// Simulated seconds per step, for envs with an odometer.
    pub step_seconds: Option<f64>,
}

/// GIF encoding of frames as they come.
struct Gif {
    encoder: gif::Encoder<Vec<u8>>,
    width: u16,
    height: u16,
    delay_cs: u16,
    frames: usize,
}

impl Gif {
    fn new(req: &RenderRequest) -> Result<Gif> {
        let mut encoder = gif::Encoder::new(Vec::new(), req.width, req.height, &[])?;
        encoder.set_repeat(gif::Repeat::Infinite)?;
        Ok(Gif {
            encoder,
            width: req.width,
            height: req.height,
            delay_cs: (100 / req.fps.max(1)).max(1) as u16,
            frames: 0,
        })
    }

    /// Quantise an RGB frame to its own 256-colour palette and append it.
    fn push(&mut self, rgb: &[u8]) -> Result<()> {
        let mut frame = gif::Frame::from_rgb_speed(self.width, self.height, rgb, 10);
        frame.delay = self.delay_cs;
        self.encoder.write_frame(&frame)?;
        self.frames += 1;
        Ok(())
    }

    fn finish(self) -> Result<Vec<u8>> {
        Ok(self.encoder.into_inner()?)
    }
}

/// File name of the GIF a run ends with, in its directory.
pub const EVAL_GIF: &str = "eval.gif";

/// The picture a run ends with: its final evaluation's first episode,
/// replayed exactly (same start state and policy, see `harness render
/// --run`) from the saved policy in `dir`, written to `dir/eval.gif`.
/// Every 4th step is a frame, at most 250 (a 1000-step episode), so it
/// costs a few seconds at most.
pub fn evaluation_gif(run: &RunRequest, dir: &Path) -> Result<RenderSummary> {
    let path = dir.join(POLICY_FILE);
    let policy = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    execute(&RenderRequest {
        algorithm: run.algorithm.clone(),
        config: run.config.clone(),
        policy: Some(policy),
        env: run.env.clone(),
        seed: run.seed,
        episodes: 1,
        sample: false,
        frame_every: 4,
        max_frames: 250,
        width: 320,
        height: 240,
        fps: 25,
        out: Some(dir.join(EVAL_GIF)),
    })
}

/// Play, and write the GIF if one is asked for.
pub fn execute(req: &RenderRequest) -> Result<RenderSummary> {
    if req.episodes == 0 || req.frame_every == 0 || req.max_frames == 0 {
        bail!("--episodes, --every and --max-frames must be at least 1");
    }
    if req.width == 0 || req.height == 0 {
        bail!("--width and --height must be at least 1");
    }
    let (width, height) = (req.width as usize, req.height as usize);
    // Nothing is trained: the host's budget is zero.
    let mut session = Session::start(
        &SessionSpec {
            algorithm: &req.algorithm,
            config: &req.config,
            env: &req.env,
            seed: req.seed,
            num_envs: 1,
            steps: 0,
            threads: 1,
        },
        Instant::now(),
    )?;
    let instance = session.instance();
    if let Some(policy) = &req.policy {
        instance.load(policy)?;
    }
    let mut env = req.env.make();
    let draw = |env: &dyn trustbench_envs::Env| {
        env.render(width, height)
            .ok_or_else(|| anyhow!("env '{}' cannot be rendered", req.env.id()))
    };
    let mut gif = req.out.as_ref().map(|_| Gif::new(req)).transpose()?;
    let full = |gif: &Option<Gif>| gif.as_ref().is_some_and(|g| g.frames >= req.max_frames);
    let mut episodes = Vec::new();
    for i in 0..req.episodes {
        if full(&gif) {
            break;
        }
        let (mut start, mut steps) = (None, 0u64);
        let episode = play_episode(
            env.as_mut(),
            eval_episode_seed(req.seed, i),
            |_, obs, action| instance.act(obs, !req.sample, action),
            |env, step| {
                match step {
                    None => start = env.odometer(),
                    Some(step) => {
                        steps += 1;
                        if !(steps % u64::from(req.frame_every) == 0 || step.done()) {
                            return Ok(ControlFlow::Continue(()));
                        }
                    }
                }
                if let Some(gif) = gif.as_mut() {
                    gif.push(&draw(env)?)?;
                }
                Ok(if full(&gif) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                })
            },
        )?;
        episodes.push(EpisodeSummary {
            ret: episode.ret,
            length: episode.length,
            distance: start
                .zip(env.odometer())
                .map(|(a, b)| b.position - a.position),
        });
    }
    session.check_host("")?;
    let (frames, bytes) = match (gif, &req.out) {
        (Some(gif), Some(out)) => {
            let frames = gif.frames;
            let bytes = gif.finish()?;
            results::write_bytes_atomically(out, &bytes)
                .with_context(|| format!("writing {}", out.display()))?;
            (frames, bytes.len())
        }
        _ => (0, 0),
    };
    Ok(RenderSummary {
        frames,
        episodes,
        bytes,
        step_seconds: env.odometer().map(|o| o.step_seconds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn request(out: PathBuf, episodes: u32, max_frames: usize) -> RenderRequest {
        let algorithm = Catalog::new(&[]).unwrap().find("random").unwrap();
        RenderRequest {
            config: algorithm.info.default_config.clone(),
            algorithm,
            policy: None,
            env: trustbench_envs::resolve("cartpole").unwrap(),
            seed: 0,
            episodes,
            sample: false,
            frame_every: 3,
            max_frames,
            width: 32,
            height: 24,
            fps: 25,
            out: Some(out),
        }
    }

    #[test]
    fn writes_an_animated_gif_of_whole_episodes_within_the_frame_cap() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("cartpole.gif");
        let s = execute(&request(out.clone(), 2, 1000)).unwrap();
        assert_eq!(s.episodes.len(), 2);
        // First state, every third step, and the last state of each episode.
        let expected: usize = s
            .episodes
            .iter()
            .map(|e| {
                let len = e.length as usize;
                1 + len / 3 + usize::from(!len.is_multiple_of(3))
            })
            .sum();
        assert_eq!(s.frames, expected);
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(&bytes[..6], b"GIF89a");
        assert_eq!(bytes.len(), s.bytes);

        let capped = execute(&request(out, 5, 4)).unwrap();
        assert_eq!((capped.frames, capped.episodes.len()), (4, 1));
    }

    /// Without `out` nothing is drawn or written, and `sample` plays the
    /// policy's sampled actions: reproducibly (the instance's seeded
    /// stream), and not the mode's (a fresh TRPO policy on pendulum has
    /// σ = 1, so the two returns cannot agree).
    #[test]
    fn plays_without_a_gif_and_samples_on_request() {
        let algorithm = Catalog::new(&[]).unwrap().find("trpo").unwrap();
        let play = |sample: bool| {
            let mut req = request(PathBuf::new(), 2, 1);
            req.config = algorithm.info.default_config.clone();
            req.algorithm = algorithm.clone();
            req.env = trustbench_envs::resolve("pendulum").unwrap();
            req.sample = sample;
            req.out = None;
            execute(&req).unwrap()
        };
        let mode = play(false);
        // max_frames = 1 caps nothing without a GIF: both episodes are whole.
        assert_eq!((mode.frames, mode.bytes, mode.episodes.len()), (0, 0, 2));
        assert_eq!(mode.episodes[0].length, 200);
        let sampled = play(true);
        assert_eq!(sampled, play(true));
        assert_ne!(sampled.episodes[0].ret, mode.episodes[0].ret);
    }
}
