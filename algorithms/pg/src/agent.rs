//! The agent: a policy over a flat parameter vector, optional running
//! observation normalisation, and the sampling RNG — everything `act`,
//! `save` and `load` need.

use crate::{Decoder, Encoder, NetworkConfig};
use trustbench_plugin::rng::Rng;
use trustbench_plugin::{Error, Result, Space, Spaces};
use trustbench_policy::{
    ActionDistribution, Layer, Observations, Policy, PolicyWorkspace, RunningNormalizer,
};

/// Clip of normalised observations, in standard deviations.
const NORMALIZER_CLIP: f64 = 10.0;

/// A stochastic policy with its parameters (see the module docs).
#[derive(Debug)]
pub struct Agent {
    /// The policy's shape (θ is kept apart, so candidates and line-search
    /// trials can evaluate other θ with the same policy).
    pub policy: Policy,
    /// Its flat parameters θ.
    pub params: Vec<f64>,
    /// Running observation statistics, when normalisation is on. Part of the
    /// saved parameters: a policy is meaningless without them.
    pub normalizer: Option<RunningNormalizer>,
    /// The sampling stream; saved with θ so a reloaded agent continues it.
    pub rng: Rng,
    /// Batches keep observations as bytes (see [`Agent::byte_observations`]).
    bytes: bool,
    ws: PolicyWorkspace,
    scratch: Vec<f64>,
}

impl Agent {
    /// A Gaussian policy for box actions, categorical for discrete ones, over
    /// box observations (the network by [`NetworkConfig::build`]),
    /// initialised from `rng`.
    pub fn new(
        spaces: &Spaces,
        network: &NetworkConfig,
        normalize: bool,
        mut rng: Rng,
    ) -> Result<Agent> {
        let Space::Box { low, high, .. } = &spaces.observation else {
            return Err(Error::new("policy networks need box observations"));
        };
        let unit = low.iter().all(|&l| l == 0.0) && high.iter().all(|&h| h == 1.0);
        let obs_len = spaces.observation.dim();
        let distribution = match spaces.action {
            Space::Box { .. } => ActionDistribution::DiagGaussian {
                dim: spaces.action.dim(),
            },
            Space::Discrete { n } => ActionDistribution::Categorical { actions: n },
        };
        let (net, precision) = network.build(&spaces.observation, distribution.net_outputs())?;
        let policy = Policy::new(net, distribution)
            .map_err(|e| Error::new(e.0))?
            .with_precision(precision);
        let params = policy.init(&mut rng);
        let bytes = unit && matches!(policy.network().layers()[0], Layer::Conv2d(_));
        Ok(Agent {
            policy,
            params,
            normalizer: (normalize && !bytes)
                .then(|| RunningNormalizer::new(obs_len, NORMALIZER_CLIP)),
            rng,
            bytes,
            ws: PolicyWorkspace::new(),
            scratch: Vec::new(),
        })
    }

    /// A copy of `other`'s shape and state (for all-or-nothing loads).
    pub fn new_like(other: &Agent) -> Agent {
        Agent {
            policy: other.policy.clone(),
            params: other.params.clone(),
            normalizer: other.normalizer.clone(),
            rng: other.rng.clone(),
            bytes: other.bytes,
            ws: PolicyWorkspace::new(),
            scratch: Vec::new(),
        }
    }

    /// Whether batches store observations as bytes: for the conv net on
    /// [0, 1] images (the pixel view's grey levels, each `b / 255`), which
    /// then are not normalised either — they are already on a fixed scale,
    /// and per-pixel running statistics would make them reals (8× the
    /// memory of bytes; the paper's 100,000-step batch would not fit).
    pub fn byte_observations(&self) -> bool {
        self.bytes
    }

    /// Observation values per state.
    pub fn obs_len(&self) -> usize {
        self.policy.obs_len()
    }

    /// Normalise `obs` in place (a no-op without normalisation).
    pub fn normalize(&self, obs: &mut [f64]) {
        if let Some(n) = &self.normalizer {
            n.normalize(obs);
        }
    }

    /// Actions for already-normalised observations: sampled, or the mode.
    pub fn act_normalized(&mut self, obs: &[f64], deterministic: bool, actions: &mut [f64]) {
        let n = obs.len() / self.obs_len();
        self.policy.forward(&self.params, obs, n, &mut self.ws);
        if deterministic {
            self.policy.mode(&self.ws, actions);
        } else {
            self.policy.sample(&self.ws, &mut self.rng, actions);
        }
    }

    /// Sampled actions for normalised observations, row `i` drawn from
    /// `rngs[i]` instead of the agent's stream: common random numbers, so
    /// rollouts that share a stream differ only where their states do.
    pub fn sample_with(&mut self, obs: &[f64], rngs: &mut [Rng], actions: &mut [f64]) {
        let n = obs.len() / self.obs_len();
        let family = self.policy.distribution();
        let (d, a) = (family.dist_len(), family.action_len());
        let dist = self.policy.forward(&self.params, obs, n, &mut self.ws);
        for ((row, rng), action) in dist
            .chunks_exact(d)
            .zip(rngs)
            .zip(actions.chunks_exact_mut(a))
        {
            family.sample(row, rng, action);
        }
    }

    /// `log π(a|s)` of each (normalised) state and action.
    pub fn log_prob(&mut self, obs: &[f64], actions: &[f64], out: &mut [f64]) {
        let n = obs.len() / self.obs_len();
        self.policy.forward(&self.params, obs, n, &mut self.ws);
        self.policy.log_prob(&self.ws, actions, out);
    }

    /// Actions for raw observations (normalised here with the current
    /// statistics, which are not updated).
    pub fn act(&mut self, obs: &[f64], deterministic: bool, actions: &mut [f64]) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend_from_slice(obs);
        self.normalize(&mut scratch);
        self.act_normalized(&scratch, deterministic, actions);
        self.scratch = scratch;
    }

    /// Mean entropy of the policy on `obs` (normalised).
    pub fn mean_entropy<'o>(&mut self, obs: impl Into<Observations<'o>>) -> f64 {
        let obs = obs.into();
        let n = obs.len() / self.obs_len();
        let family = self.policy.distribution();
        let dist = self.policy.forward(&self.params, obs, n, &mut self.ws);
        dist.chunks_exact(family.dist_len())
            .map(|d| family.entropy(d))
            .sum::<f64>()
            / n.max(1) as f64
    }

    /// Append θ, the normaliser state and the RNG state.
    pub fn encode(&self, e: &mut Encoder) {
        e.reals(&self.params);
        e.reals(
            &self
                .normalizer
                .as_ref()
                .map(RunningNormalizer::state)
                .unwrap_or_default(),
        );
        for w in self.rng.state() {
            e.word(w);
        }
    }

    /// Read what [`Agent::encode`] wrote.
    pub fn decode(&mut self, d: &mut Decoder<'_>) -> Result<()> {
        let params = d.reals(self.params.len(), "policy parameters")?;
        let dim = self.obs_len();
        let normalizer = match &self.normalizer {
            Some(_) => Some(
                RunningNormalizer::from_state(dim, &d.reals(2 + 2 * dim, "normaliser state")?)
                    .map_err(|e| Error::new(e.0))?,
            ),
            None => {
                d.reals(0, "normaliser state")?;
                None
            }
        };
        let rng = Rng::from_state([d.word()?, d.word()?, d.word()?, d.word()?]);
        if params.iter().any(|p| !p.is_finite()) {
            return Err(Error::new("saved policy parameters are not finite"));
        }
        (self.params, self.normalizer, self.rng) = (params, normalizer, rng);
        Ok(())
    }
}
