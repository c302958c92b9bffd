//! The uniform-random baseline, as a trustbench plugin.
//!
//! Why it exists: every comparison needs the floor ("random = 0" in
//! normalised scores), and it exercises the whole ABI — sampling through the
//! host, metrics, save/load — with no learning in the way.
//!
//! Policy: each action is drawn uniformly from the action space: discrete
//! actions uniformly from `0..n`; box actions uniformly within their bounds,
//! with unbounded sides replaced by ±1 (a documented convention; a uniform
//! draw over an infinite interval does not exist).
#![warn(missing_docs)]

use serde::{Deserialize, Serialize};
use trustbench_plugin::rng::{Rng, derive_seed};
use trustbench_plugin::{
    Actor, Algorithm, AlgorithmInfo, Error, Host, Learner, Result, Space, Spaces, StepBuffers,
    StepOutcome, check_range, kinds,
};

/// Hyperparameters of the random baseline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Env steps (summed over copies) per training iteration; only changes
    /// how often metrics and evaluations happen, never the policy.
    pub steps_per_iteration: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            steps_per_iteration: 2048,
        }
    }
}

/// The uniform-random policy.
pub struct UniformRandom {
    config: Config,
    obs_dim: usize,
    sampler: Sampler,
    /// Per-step scratch, reused every step.
    buffers: Buffers,
}

struct Buffers {
    actions: Vec<f64>,
    observations: Vec<f64>,
    rewards: Vec<f64>,
    terminated: Vec<u8>,
    truncated: Vec<u8>,
}

/// Stream of the plugin's sampling RNG within the plugin's seed. This crate
/// stands apart from `trustbench-pg`, whose `streams` lists every other
/// plugin-side stream; keep this one out of that range.
const SAMPLING_STREAM: u64 = 0x5241_4e44; // "RAND"

/// The policy's action stream: what the plugin instance given `seed` as
/// `tb_host.seed` draws, call after call. Public so that a run can be
/// replayed outside the harness (the Python package's test replays
/// `harness run --algo random` with it) without a second copy of the rule.
#[derive(Debug, Clone)]
pub struct Sampler {
    action_space: Space,
    rng: Rng,
}

impl Sampler {
    /// The stream of the instance whose host seed is `seed`.
    pub fn new(seed: u64, action_space: &Space) -> Sampler {
        Sampler {
            action_space: action_space.clone(),
            rng: Rng::new(derive_seed(seed, SAMPLING_STREAM, 0)),
        }
    }

    /// Draw `count` actions, row after row, into `out` (`count × dim` values).
    pub fn sample(&mut self, count: usize, out: &mut [f64]) {
        match &self.action_space {
            Space::Discrete { n } => out[..count]
                .iter_mut()
                .for_each(|a| *a = self.rng.below(*n as u64) as f64),
            Space::Box { low, high, .. } => {
                for row in out.chunks_exact_mut(low.len()).take(count) {
                    for ((a, &lo), &hi) in row.iter_mut().zip(low).zip(high) {
                        let lo = if lo.is_finite() { lo } else { -1.0 };
                        let hi = if hi.is_finite() { hi } else { 1.0 };
                        *a = self.rng.uniform_in(lo, hi);
                    }
                }
            }
        }
    }
}

impl Algorithm for UniformRandom {
    type Config = Config;

    fn info() -> AlgorithmInfo {
        AlgorithmInfo {
            id: "random",
            name: "Uniform random policy",
            version: "1.0.0",
            description: "Actions drawn uniformly from the action space; the floor of every comparison",
            observation_kinds: kinds::ANY,
            action_kinds: kinds::ANY,
        }
    }

    fn create(config: Config, spaces: &Spaces, host: &Host) -> Result<Self> {
        check_range(
            "steps_per_iteration",
            config.steps_per_iteration,
            1,
            1 << 40,
        )?;
        let n = spaces.num_envs;
        let (obs_dim, act_dim) = (spaces.observation.dim(), spaces.action.dim());
        Ok(UniformRandom {
            config,
            obs_dim,
            sampler: Sampler::new(host.seed(), &spaces.action),
            buffers: Buffers {
                actions: vec![0.0; n * act_dim],
                observations: vec![0.0; n * obs_dim],
                rewards: vec![0.0; n],
                terminated: vec![0; n],
                truncated: vec![0; n],
            },
        })
    }
}

impl Learner for UniformRandom {
    fn train_iteration(&mut self, host: &mut Host) -> Result<()> {
        let n = host.num_envs();
        let mut steps = 0u64;
        let mut reward_sum = 0.0;
        while steps < self.config.steps_per_iteration {
            let mut actions = std::mem::take(&mut self.buffers.actions);
            self.sampler.sample(n, &mut actions);
            let b = &mut self.buffers;
            let outcome = host.step(
                0,
                &actions,
                StepBuffers {
                    observations: &mut b.observations,
                    final_observations: None,
                    rewards: &mut b.rewards,
                    terminated: &mut b.terminated,
                    truncated: &mut b.truncated,
                },
            );
            self.buffers.actions = actions;
            if outcome? == StepOutcome::BudgetExhausted {
                break;
            }
            steps += n as u64;
            reward_sum += self.buffers.rewards.iter().sum::<f64>();
        }
        if steps > 0 {
            host.log(
                trustbench_plugin::metrics::MEAN_REWARD_PER_STEP,
                reward_sum / steps as f64,
            );
        }
        Ok(())
    }

    fn actor(&mut self) -> &mut dyn Actor {
        self
    }
}

/// Its own policy: nothing learned, only the sampling stream.
impl Actor for UniformRandom {
    fn act(&mut self, obs: &[f64], _deterministic: bool, actions: &mut [f64]) -> Result<()> {
        // A uniform policy has no mode: "deterministic" still samples, from
        // the same seeded stream, so evaluations stay reproducible.
        let count = obs.len() / self.obs_dim.max(1);
        self.sampler.sample(count, actions);
        Ok(())
    }

    fn save(&self) -> Result<Vec<u8>> {
        // No parameters; the RNG state makes a reload continue the stream.
        Ok(self
            .sampler
            .rng
            .state()
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect())
    }

    fn load(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.len() != 32 {
            return Err(Error::new(format!(
                "expected 32 bytes of state, got {}",
                bytes.len()
            )));
        }
        let mut s = [0u64; 4];
        for (w, chunk) in s.iter_mut().zip(bytes.chunks_exact(8)) {
            *w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        }
        self.sampler.rng = Rng::from_state(s);
        Ok(())
    }
}

trustbench_plugin::plugin_library!(pub fn plugin_entry, "trustbench-random", env!("CARGO_PKG_VERSION"), [UniformRandom]);
