//! The agent: a policy over a flat parameter vector, optional running
//! observation normalisation, and the sampling RNG — everything `act`,
//! `save` and `load` need.

use crate::{Decoder, Encoder, NetworkConfig};
use std::sync::Arc;
use trustbench_plugin::parallel::split;
use trustbench_plugin::rng::Rng;
use trustbench_plugin::{Error, Result, Space, Spaces};
use trustbench_policy::{
    ActionDistribution, BYTE_SCALE, Layer, Observations, Policy, PolicyWorkspace,
    RunningNormalizer, Standardizer,
};

/// Clip of normalised observations, in standard deviations.
const NORMALIZER_CLIP: f64 = 10.0;

/// `ε` of the pixel normaliser: a floor √ε = 0.02 (about 5 grey levels)
/// under each pixel's standard deviation. Why: the pixels that matter most
/// change least often (a ball crosses any one pixel rarely), so their σ is
/// near 0 and `(x − μ) / σ` would turn each rare change into a clipped
/// ±10 spike; the floor keeps a change of Δ grey levels at about Δ/5.
const PIXEL_VARIANCE_EPSILON: f64 = 0.02 * 0.02;

/// `normalizer` as pixels (`bytes`) or real features need it: pixels get
/// the σ floor of [`PIXEL_VARIANCE_EPSILON`].
fn for_inputs(normalizer: RunningNormalizer, bytes: bool) -> RunningNormalizer {
    if bytes {
        normalizer.with_epsilon(PIXEL_VARIANCE_EPSILON)
    } else {
        normalizer
    }
}

/// A stochastic policy with its parameters (see the module docs).
#[derive(Debug)]
pub struct Agent {
    /// The policy's shape (θ is kept apart, so candidates and line-search
    /// trials can evaluate other θ with the same policy).
    pub policy: Policy,
    /// Its flat parameters θ.
    pub params: Vec<f64>,
    /// Running observation statistics, when normalisation is on. Part of the
    /// saved parameters: a policy is meaningless without them. For byte
    /// observations these are frozen for a batch (see [`Agent::begin_batch`]).
    pub normalizer: Option<RunningNormalizer>,
    /// Byte observations only: the statistics as they grow during a batch,
    /// the next batch's [`Agent::normalizer`].
    pending: Option<RunningNormalizer>,
    /// The sampling stream; saved with θ so a reloaded agent continues it.
    pub rng: Rng,
    /// Batches keep observations as bytes (see [`Agent::byte_observations`]).
    bytes: bool,
    ws: PolicyWorkspace,
    scratch: Vec<f64>,
    /// One workspace per thread for acting on a batch of states (empty:
    /// one thread), and the distribution rows they compute.
    lanes: Vec<PolicyWorkspace>,
    dist: Vec<f64>,
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
        let normalizer =
            normalize.then(|| for_inputs(RunningNormalizer::new(obs_len, NORMALIZER_CLIP), bytes));
        Ok(Agent {
            policy,
            params,
            pending: normalizer.clone().filter(|_| bytes),
            normalizer,
            rng,
            bytes,
            ws: PolicyWorkspace::new(),
            scratch: Vec::new(),
            lanes: Vec::new(),
            dist: Vec::new(),
        })
    }

    /// The same agent acting on up to `threads` threads (see
    /// [`Agent::act_normalized`]).
    pub fn with_threads(self, threads: usize) -> Agent {
        Agent {
            lanes: match threads {
                0 | 1 => Vec::new(),
                n => vec![PolicyWorkspace::new(); n],
            },
            ..self
        }
    }

    /// A copy of `other`'s shape and state (for all-or-nothing loads).
    pub fn new_like(other: &Agent) -> Agent {
        Agent {
            policy: other.policy.clone(),
            params: other.params.clone(),
            normalizer: other.normalizer.clone(),
            pending: other.pending.clone(),
            rng: other.rng.clone(),
            bytes: other.bytes,
            ws: PolicyWorkspace::new(),
            scratch: Vec::new(),
            lanes: vec![PolicyWorkspace::new(); other.lanes.len()],
            dist: Vec::new(),
        }
    }

    /// Whether batches store observations as bytes: for the conv net on
    /// [0, 1] images (the pixel view's grey levels, each `b / 255`). Stored
    /// normalised they would be reals (8× the memory of bytes; the paper's
    /// 100,000-step batch would not fit), so bytes are kept and normalised
    /// per pixel where a network reads them, with statistics frozen for the
    /// batch: the numbers the sampler acted on are the numbers the update
    /// sees.
    ///
    /// Why per pixel, and not just `b / 255`: on Pong from pixels the ball
    /// is a few pixels that differ from the background by a few grey
    /// levels after averaging down; standardised, each pixel's rare changes
    /// stand out. Measured: TRPO on pong from pixels went from no learning in
    /// 500k steps (evaluation −19.8) to −13.7 at 250k (benches log,
    /// 2026-12-06).
    pub fn byte_observations(&self) -> bool {
        self.bytes
    }

    /// Merge `n` observations' values (`obs_len × n`) into the statistics:
    /// live for real observations (stored normalised as they are sampled),
    /// pending until the next [`Agent::begin_batch`] for bytes.
    pub fn update_statistics(&mut self, obs: &[f64], n: usize) {
        match (&mut self.pending, &mut self.normalizer) {
            (Some(pending), _) => pending.update(obs, n),
            (None, Some(live)) => live.update(obs, n),
            (None, None) => {}
        }
    }

    /// [`Agent::update_statistics`] with byte observations.
    pub fn update_statistics_bytes(&mut self, obs: &[u8], n: usize) {
        if self.pending.is_none() && self.normalizer.is_none() {
            return;
        }
        let mut values = std::mem::take(&mut self.scratch);
        values.clear();
        values.extend(obs.iter().map(|&b| f64::from(b) * BYTE_SCALE));
        self.update_statistics(&values, n);
        self.scratch = values;
    }

    /// Start a batch: byte observations are normalised from here on with
    /// the statistics gathered so far (nothing changes for reals).
    pub fn begin_batch(&mut self) {
        if let Some(pending) = &self.pending {
            self.normalizer = Some(pending.clone());
            self.freeze();
        }
    }

    /// Hand the frozen statistics of byte observations to the policy (none
    /// before the first data: bytes then read as `b · BYTE_SCALE`).
    fn freeze(&mut self) {
        let by = match (&self.normalizer, self.bytes) {
            (Some(n), true) if n.count() > 0.0 => Some(Arc::new(n.standardizer())),
            _ => None,
        };
        self.policy.set_byte_standardizer(by);
    }

    /// The standardisation byte observations get, for the value baseline
    /// to read them as the policy does.
    pub fn byte_standardizer(&self) -> Option<Arc<Standardizer>> {
        self.policy.byte_standardizer().cloned()
    }

    /// Observation values per state.
    pub fn obs_len(&self) -> usize {
        self.policy.obs_len()
    }

    /// Normalise `obs` in place (a no-op without normalisation).
    pub fn normalize(&self, obs: &mut [f64]) {
        if self.bytes {
            if let Some(by) = self.policy.byte_standardizer() {
                by.apply(obs);
            }
        } else if let Some(n) = &self.normalizer {
            n.normalize(obs);
        }
    }

    /// Actions for already-normalised observations: sampled, or the mode.
    ///
    /// With several threads the states' forward passes are split into one
    /// run of states per thread; a state's distribution is the same bits in
    /// any batch (the kernels' fixed order), and the actions are then drawn
    /// on this thread in state order, so the result does not depend on the
    /// thread count.
    pub fn act_normalized(&mut self, obs: &[f64], deterministic: bool, actions: &mut [f64]) {
        let family = self.policy.distribution();
        let (d, a) = (family.dist_len(), family.action_len());
        assert_eq!(
            actions.len(),
            a * (obs.len() / self.obs_len()),
            "actions length"
        );
        self.forward(obs);
        let rows = self.dist.chunks_exact(d).zip(actions.chunks_exact_mut(a));
        if deterministic {
            rows.for_each(|(dist, action)| family.mode(dist, action));
        } else {
            rows.for_each(|(dist, action)| family.sample(dist, &mut self.rng, action));
        }
    }

    /// The distribution parameters of the states `obs` into `self.dist`, on
    /// the agent's threads when it has several and there are several states.
    fn forward(&mut self, obs: &[f64]) {
        let o = self.obs_len();
        let n = obs.len() / o;
        let runs = self.lanes.len().min(n);
        self.dist.clear();
        if runs <= 1 {
            let dist = self.policy.forward(&self.params, obs, n, &mut self.ws);
            self.dist.extend_from_slice(dist);
            return;
        }
        let d = self.policy.distribution().dist_len();
        self.dist.resize(d * n, 0.0);
        let mut jobs = Vec::with_capacity(runs);
        let (mut obs_rest, mut dist_rest) = (obs, &mut self.dist[..]);
        for t in 0..runs {
            let m = (t + 1) * n / runs - t * n / runs;
            let (x, x_rest) = obs_rest.split_at(m * o);
            let (y, y_rest) = dist_rest.split_at_mut(m * d);
            jobs.push((x, y));
            (obs_rest, dist_rest) = (x_rest, y_rest);
        }
        let (policy, params) = (&self.policy, &self.params);
        split(&mut jobs, &mut self.lanes, |ws, _, (x, y)| {
            y.copy_from_slice(policy.forward(params, *x, y.len() / d, ws));
        });
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
        self.mean_entropy_obs(obs.into())
    }

    /// [`Agent::mean_entropy`], compiled here (see [`Observations`] on why).
    fn mean_entropy_obs(&mut self, obs: Observations<'_>) -> f64 {
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
            Some(_) => Some(for_inputs(
                RunningNormalizer::from_state(dim, &d.reals(2 + 2 * dim, "normaliser state")?)
                    .map_err(|e| Error::new(e.0))?,
                self.bytes,
            )),
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
        if self.pending.is_some() {
            self.pending = self.normalizer.clone();
            self.freeze();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An agent over `spaces` with the default network, on `threads`.
    fn agent(spaces: &Spaces, threads: usize) -> Agent {
        let network = NetworkConfig::new(&[16], "tanh")
            .unwrap()
            .with_kind(crate::NetworkKind::Auto);
        Agent::new(spaces, &network, false, Rng::new(5))
            .unwrap()
            .with_threads(threads)
    }

    fn spaces(shape: Vec<usize>, action: Space) -> Spaces {
        let dim = shape.iter().product();
        Spaces {
            num_envs: 7,
            observation: Space::Box {
                shape,
                low: vec![0.0; dim],
                high: vec![1.0; dim],
            },
            action,
        }
    }

    #[test]
    fn acting_on_threads_gives_the_one_thread_actions_and_stream() {
        // A Gaussian MLP and a categorical conv net (12×10 images of 2
        // frames: the Atari net's kernel and strides fit), 7 states.
        let cases = [
            spaces(
                vec![5],
                Space::Box {
                    shape: vec![2],
                    low: vec![-1.0; 2],
                    high: vec![1.0; 2],
                },
            ),
            spaces(vec![12, 10, 2], Space::Discrete { n: 4 }),
        ];
        for spaces in cases {
            let d = spaces.observation.dim();
            let a = match spaces.action {
                Space::Box { .. } => spaces.action.dim(),
                Space::Discrete { .. } => 1,
            };
            let mut rng = Rng::new(8);
            let obs: Vec<f64> = (0..7 * d).map(|_| rng.uniform()).collect();
            let act = |threads: usize| {
                let mut agent = agent(&spaces, threads);
                let mut out = Vec::new();
                for deterministic in [false, true, false] {
                    let mut actions = vec![f64::NAN; 7 * a];
                    agent.act_normalized(&obs, deterministic, &mut actions);
                    out.extend(actions.iter().map(|x| x.to_bits()));
                }
                (out, agent.rng.state())
            };
            let one = act(1);
            for threads in [2, 3, 8] {
                assert_eq!(
                    act(threads),
                    one,
                    "{:?}, {threads} threads",
                    spaces.observation
                );
            }
        }
    }

    #[test]
    fn pixels_are_normalised_with_the_statistics_frozen_at_the_batch_start() {
        let spaces = spaces(vec![12, 10, 2], Space::Discrete { n: 4 });
        let network = NetworkConfig::new(&[16], "tanh")
            .unwrap()
            .with_kind(crate::NetworkKind::Auto);
        let mut agent = Agent::new(&spaces, &network, true, Rng::new(5)).unwrap();
        assert!(agent.byte_observations());
        let d = agent.obs_len();
        let mut rng = Rng::new(3);
        let bytes: Vec<u8> = (0..3 * d).map(|_| rng.below(256) as u8).collect();
        let values: Vec<f64> = bytes.iter().map(|&b| f64::from(b) * BYTE_SCALE).collect();
        let normalized = |agent: &Agent| {
            let mut x = values[..d].to_vec();
            agent.normalize(&mut x);
            x
        };
        // Before any data, and while a batch gathers some: b / 255 as is.
        agent.update_statistics_bytes(&bytes, 3);
        assert_eq!(normalized(&agent), values[..d]);
        // The next batch reads them, and so does the policy's byte path:
        // the same numbers the sampler acts on.
        agent.begin_batch();
        let frozen = normalized(&agent);
        assert_ne!(frozen, values[..d]);
        let mut via_bytes = vec![0.0; d];
        Observations::Bytes(&bytes[..d])
            .write_standardized_into(&mut via_bytes, agent.byte_standardizer().as_deref());
        assert_eq!(via_bytes, frozen);
        // More data changes nothing until the next batch starts.
        agent.update_statistics_bytes(&bytes[..d], 1);
        assert_eq!(normalized(&agent), frozen);
        // Saved and loaded, the statistics come back and are in use.
        let mut e = Encoder::new();
        agent.encode(&mut e);
        let mut fresh = Agent::new(&spaces, &network, true, Rng::new(9)).unwrap();
        let saved = e.finish();
        fresh.decode(&mut Decoder::new(&saved).unwrap()).unwrap();
        assert_eq!(normalized(&fresh), frozen);
    }
}
