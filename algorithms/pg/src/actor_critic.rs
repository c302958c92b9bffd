//! The agent with its value baseline and sampler: what every
//! policy-gradient iteration starts from ("collect a batch, estimate
//! advantages, refit the baseline"), and what `save`/`load` persist.

use crate::{Agent, Batch, Decoder, Encoder, PgConfig, Sampler, advantages, streams};
use trustbench_plugin::rng::{Rng, derive_seed};
use trustbench_plugin::{Actor, Error, Host, Result, Spaces};
use trustbench_policy::{Layer, ValueBaseline, explained_variance, mean_squared_error};

/// A batch with what was estimated from it before any update.
#[derive(Debug, Clone)]
pub struct Rollout {
    /// The samples, observations already normalised.
    pub batch: Batch,
    /// `V(sₜ)` before the baseline refit.
    pub values: Vec<f64>,
    /// GAE advantages (not normalised).
    pub advantages: Vec<f64>,
    /// Value targets `Aₜ + V(sₜ)`.
    pub returns: Vec<f64>,
}

/// Agent + value baseline + sampler + the RNG of the update itself
/// (subsampling, minibatch order).
#[derive(Debug)]
pub struct ActorCritic {
    /// The shared keys; `gamma` and `lambda` are read again every rollout.
    pub config: PgConfig,
    /// The policy being improved, with its normaliser and sampling stream.
    pub agent: Agent,
    /// `V(s)`.
    pub baseline: ValueBaseline,
    /// Keeps episodes going across iterations.
    pub sampler: Sampler,
    /// Randomness of updates (never of sampling).
    pub rng: Rng,
    /// Threads the batch math may use (the host's `trustbench.threads/1`);
    /// results are the same bits for every count.
    pub threads: usize,
}

impl ActorCritic {
    /// Build from the shared config, the spaces and the host's seed and
    /// thread count.
    pub fn new(config: &PgConfig, spaces: &Spaces, host: &Host) -> Result<ActorCritic> {
        config.validate()?;
        let (seed, threads) = (host.seed(), host.threads());
        let agent = Agent::new(
            spaces,
            &config.network()?,
            config.normalize_observations,
            Rng::new(derive_seed(seed, streams::POLICY, 0)),
        )?
        .with_threads(threads);
        let mut baseline_rng = Rng::new(derive_seed(seed, streams::BASELINE, 0));
        let (value_net, precision) = config.value_network()?.build(&spaces.observation, 1)?;
        let conv = matches!(value_net.layers()[0], Layer::Conv2d(_));
        let baseline = ValueBaseline::with_network(
            value_net,
            precision,
            config.baseline(conv)?,
            &mut baseline_rng,
        )
        .map_err(|e| Error::new(e.0))?
        .with_threads(threads);
        Ok(ActorCritic {
            config: config.clone(),
            agent,
            baseline,
            sampler: Sampler::default(),
            rng: Rng::new(derive_seed(seed, streams::UPDATE, 0)),
            threads,
        })
    }

    /// Collect one batch with the current policy and estimate advantages;
    /// `None` when the budget allowed no step at all.
    pub fn rollout(&mut self, host: &mut Host) -> Result<Option<Rollout>> {
        let steps = self.config.steps_per_env(host.num_envs());
        let batch = self.sampler.collect(host, &mut self.agent, steps)?;
        self.baseline
            .set_byte_standardizer(self.agent.byte_standardizer());
        if batch.is_empty() {
            return Ok(None);
        }
        let (values, advantages, returns) = advantages(
            &batch,
            &mut self.baseline,
            self.config.gamma,
            self.config.lambda,
        );
        Ok(Some(Rollout {
            batch,
            values,
            advantages,
            returns,
        }))
    }

    /// Regress the baseline on the rollout's returns and log
    /// `train/value_loss` and `train/explained_variance`.
    pub fn refit_baseline(&mut self, rollout: &Rollout, host: &mut Host) {
        // The loss before the fit, from the predictions GAE already made.
        host.log(
            "train/value_loss",
            mean_squared_error(&rollout.values, &rollout.returns),
        );
        self.baseline
            .fit(rollout.batch.obs.view(), &rollout.returns, &mut self.rng);
        host.log(
            "train/explained_variance",
            explained_variance(&rollout.values, &rollout.returns),
        );
    }
}

/// The policy-gradient plugins' `act`, `save` and `load`, written once.
impl Actor for ActorCritic {
    fn act(&mut self, obs: &[f64], deterministic: bool, actions: &mut [f64]) -> Result<()> {
        self.agent.act(obs, deterministic, actions);
        Ok(())
    }

    /// θ, normaliser, sampling RNG, the baseline's parameters (so a loaded
    /// instance also continues training where the saved one stopped).
    fn save(&self) -> Result<Vec<u8>> {
        let mut e = Encoder::new();
        self.agent.encode(&mut e);
        e.reals(self.baseline.params());
        Ok(e.finish())
    }

    fn load(&mut self, bytes: &[u8]) -> Result<()> {
        let mut d = Decoder::new(bytes)?;
        let mut agent_copy = Agent::new_like(&self.agent);
        agent_copy.decode(&mut d)?;
        let baseline = d.reals(self.baseline.params().len(), "value-baseline parameters")?;
        d.finish()?;
        self.agent = agent_copy;
        self.baseline.set_params(&baseline);
        Ok(())
    }
}
