//! A short training run for the checks: a few thousand env steps, no
//! evaluation and no files, and everything reproducible about it (metrics,
//! episodes, saved bytes, actions on fixed observations) kept for
//! comparison.

use crate::plugin::AlgorithmRef;
use crate::session::{Session, SessionSpec};
use anyhow::{Result, bail};
use serde_json::{Map, Value};
use std::sync::Barrier;
use std::time::Instant;
use trustbench_envs::EnvConfig;

/// Env steps of one trial: enough for a few iterations of every built-in
/// algorithm on the classic tasks, little enough for seconds per check.
pub const STEPS: u64 = 4_000;
/// Env copies of a trial (more than one, so batched stepping is exercised).
pub const NUM_ENVS: usize = 2;
/// Observations the policy is probed with.
pub const PROBES: usize = 8;
/// A guard against a plugin whose iterations take steps forever.
const MAX_ITERATIONS: u64 = 100_000;

/// The algorithm, config and env the checks of one algorithm use.
pub struct Subject {
    /// The algorithm.
    pub algorithm: AlgorithmRef,
    /// Its default config.
    pub config: Map<String, Value>,
    /// The env trained on.
    pub env: EnvConfig,
}

/// What a trial produced that must be the same for the same seed:
/// metrics and episodes without their wall clock, the saved parameters,
/// and the deterministic actions for the probe observations (as bits).
#[derive(Debug, Clone, PartialEq)]
pub struct Fingerprint {
    metrics: Vec<(u64, u64, String, u64)>,
    episodes: Vec<(u64, u64, u64, bool, bool)>,
    saved: Vec<u8>,
    actions: Vec<u64>,
}

impl Fingerprint {
    /// The first thing that differs between two trials, in words.
    pub fn difference(&self, other: &Fingerprint) -> Option<String> {
        fn first<T: PartialEq + std::fmt::Debug>(what: &str, a: &[T], b: &[T]) -> Option<String> {
            if a.len() != b.len() {
                return Some(format!("{what}: {} rows vs {}", a.len(), b.len()));
            }
            let i = a.iter().zip(b).position(|(x, y)| x != y)?;
            Some(format!("{what} row {i}: {:?} vs {:?}", a[i], b[i]))
        }
        let metrics = |f: &Fingerprint| -> Vec<(u64, u64, String, f64)> {
            f.metrics
                .iter()
                .map(|(i, s, n, v)| (*i, *s, n.clone(), f64::from_bits(*v)))
                .collect()
        };
        let episodes = |f: &Fingerprint| -> Vec<(u64, f64, u64)> {
            f.episodes
                .iter()
                .map(|(s, r, l, _, _)| (*s, f64::from_bits(*r), *l))
                .collect()
        };
        first(
            "metrics (iteration, steps, name, value)",
            &metrics(self),
            &metrics(other),
        )
        .or_else(|| {
            (self.episodes != other.episodes).then(|| {
                first(
                    "episodes (steps, return, length)",
                    &episodes(self),
                    &episodes(other),
                )
                .unwrap_or_else(|| "episodes: how they ended".into())
            })
        })
        .or_else(|| {
            (self.saved != other.saved).then(|| {
                format!(
                    "saved parameters ({} vs {} bytes)",
                    self.saved.len(),
                    other.saved.len()
                )
            })
        })
        .or_else(|| {
            (self.actions != other.actions).then(|| "actions on the probe observations".into())
        })
    }
}

/// A finished trial.
pub struct Trial {
    /// Its reproducible results.
    pub fingerprint: Fingerprint,
    /// How its training went.
    pub training: Training,
}

/// `PROBES` observations of `env`: the start states of seeds `0..PROBES`.
pub fn probe_observations(env: &EnvConfig) -> Vec<f64> {
    let mut e = env.make();
    let dim = e.observation_space().dim();
    let mut obs = vec![0.0; PROBES * dim];
    for (seed, row) in obs.chunks_exact_mut(dim.max(1)).enumerate() {
        e.reset(Some(seed as u64), row);
    }
    obs
}

impl Subject {
    /// A session on this subject's env with `steps` of budget.
    pub fn session(&self, seed: u64, steps: u64) -> Result<Session> {
        Session::start(
            &SessionSpec {
                algorithm: &self.algorithm,
                config: &self.config,
                env: &self.env,
                seed,
                num_envs: NUM_ENVS,
                steps,
                threads: 1,
            },
            Instant::now(),
        )
    }

    /// Train with `seed` until the budget is spent (after `start`, when
    /// given, is passed by every trial sharing it: they then train at once).
    pub fn train(&self, seed: u64, start: Option<&Barrier>) -> Result<Trial> {
        let mut session = self.session(seed, STEPS)?;
        if let Some(barrier) = start {
            barrier.wait();
        }
        let training = train_to_end(&mut session)?;
        let (host, instance) = session.parts();
        let probes = probe_observations(&self.env);
        let obs_dim = host.observation_space().dim().max(1);
        let act_dim = host.action_space().dim();
        let mut actions = vec![0.0; PROBES * act_dim];
        for (o, a) in probes
            .chunks_exact(obs_dim)
            .zip(actions.chunks_exact_mut(act_dim.max(1)))
        {
            instance.act(o, true, a)?;
        }
        let saved = instance.save()?;
        let w = host.world();
        let fingerprint = Fingerprint {
            metrics: w
                .log()
                .metrics
                .iter()
                .map(|m| (m.iteration, m.env_steps, m.name.clone(), m.value.to_bits()))
                .collect(),
            episodes: w
                .log()
                .episodes
                .iter()
                .map(|e| {
                    let ret = e.episode_return.to_bits();
                    (e.env_steps, ret, e.length, e.terminated, e.truncated)
                })
                .collect(),
            saved,
            actions: actions.iter().map(|a| a.to_bits()).collect(),
        };
        Ok(Trial {
            fingerprint,
            training,
        })
    }
}

/// How a session's training went.
pub struct Training {
    /// Wall-clock seconds of each iteration.
    pub iteration_seconds: Vec<f64>,
    /// Most `step` calls refused for the budget within one iteration.
    pub most_refused_steps: u64,
}

/// Call `train_iteration` until the session's budget is spent. Misuse of
/// the host, an error, or an iteration without a step ends it with an error.
pub fn train_to_end(session: &mut Session) -> Result<Training> {
    let (host, instance) = session.parts();
    let mut iteration_seconds = Vec::new();
    let mut most_refused_steps = 0;
    for iteration in 1..=MAX_ITERATIONS {
        let (steps_before, refused_before) = {
            let mut w = host.world();
            if w.budget_spent() {
                break;
            }
            w.begin_iteration(iteration);
            (w.steps_used(), w.refused_step_calls())
        };
        let t = Instant::now();
        let result = instance.train_iteration();
        iteration_seconds.push(t.elapsed().as_secs_f64());
        if let Some(fault) = host.take_fault() {
            bail!("misused the host in iteration {iteration}: {fault}");
        }
        result?;
        let w = host.world();
        most_refused_steps = most_refused_steps.max(w.refused_step_calls() - refused_before);
        if w.steps_used() == steps_before && !w.budget_spent() {
            bail!("made no progress: iteration {iteration} took no env step");
        }
    }
    Ok(Training {
        iteration_seconds,
        most_refused_steps,
    })
}
