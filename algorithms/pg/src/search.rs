//! What the derivative-free plugins (CEM, CMA-ES) share around their search
//! distribution: the config keys of the policy and its scoring, the agent
//! whose network weights are the search space, the generation loop
//! (sample, score, rank, update), its metrics, and `act`/`save`/`load`. Each
//! plugin keeps only its own [`SearchDistribution`].
//!
//! The search space is the policy *network's* parameters only: the policy is
//! always used deterministically (its mode), and the Gaussian head's
//! log-stds do not change the mode, so searching over them would only add
//! dimensions that the fitness ignores.

use crate::episodes::EpisodeScorer;
use crate::{Agent, Decoder, Encoder, NetworkConfig, parse_network, streams};
use serde::{Deserialize, Serialize};
use trustbench_plugin::rng::{Rng, derive_seed};
use trustbench_plugin::{Actor, Host, Result, Spaces, check_range};

/// Policy and scoring keys shared by the derivative-free plugins, flattened
/// into each one's config.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SearchConfig {
    /// Episodes each candidate is scored on (its fitness is their mean
    /// undiscounted return). Raise it when start states vary enough that one
    /// episode misranks candidates; each extra episode multiplies the cost.
    pub episodes_per_candidate: usize,
    /// Hidden layer widths of the policy MLP; `[]` is a linear policy, which
    /// solves CartPole and keeps the search space tiny (10 weights there).
    /// Use e.g. `[8]` for tasks a linear policy cannot do (Pendulum's
    /// swing-up), with a budget to match: the search space grows ~10×.
    pub hidden_sizes: Vec<usize>,
    /// `tanh` or `relu` between hidden layers.
    pub activation: String,
    /// `mlp` (the default), `atari` (the TRPO paper's conv net, 33,458
    /// weights on 4 × 50 × 38 frames; image observations only) or `auto`
    /// (the conv net for images, else the MLP), as in the gradient plugins.
    /// The default stays `mlp` even for images because a search over whole
    /// weight vectors needs samples in proportion to their length n: the
    /// linear default keeps n small, the conv net makes it tens of
    /// thousands (CMA-ES then keeps a diagonal covariance, see
    /// `full_covariance_max_dim`).
    pub network: String,
    /// Standardise observations with running statistics (frozen while a
    /// generation is scored, updated between generations, saved with the
    /// policy). Off by default: moving statistics change what every
    /// parameter vector means from one generation to the next.
    pub normalize_observations: bool,
}

impl Default for SearchConfig {
    fn default() -> SearchConfig {
        SearchConfig {
            episodes_per_candidate: 1,
            hidden_sizes: Vec::new(),
            activation: "tanh".into(),
            network: "mlp".into(),
            normalize_observations: false,
        }
    }
}

/// A search distribution over the policy network's weights: what CEM and
/// CMA-ES each add to [`PolicySearch`].
pub trait SearchDistribution: Send + 'static {
    /// Draw a generation's `K` candidates from `rng`, back to back (`K·n`
    /// values).
    fn sample(&mut self, rng: &mut Rng) -> &[f64];

    /// How many of the best candidates the update learns from (logged as
    /// `train/elite_return_mean`).
    fn elites(&self) -> usize;

    /// Update from the last sample, given its candidate indices best first,
    /// and log the distribution's own metrics.
    fn advance(&mut self, order: &[usize], host: &mut Host);

    /// The centre of the distribution: the policy `act` plays.
    fn mean(&self) -> &[f64];

    /// Recentre at `mean` (a loaded policy), keeping the spread and any
    /// other state.
    fn set_mean(&mut self, mean: &[f64]);
}

/// The agent being searched for, its scorer, the sampling stream and the
/// search distribution `D`. The agent's network parameters always equal
/// `D`'s mean between generations.
#[derive(Debug)]
pub struct PolicySearch<D> {
    agent: Agent,
    rng: Rng,
    episodes: usize,
    scorer: EpisodeScorer,
    distribution: D,
}

impl<D: SearchDistribution> PolicySearch<D> {
    /// Check the keys and build the agent from the run seed; its network
    /// initialisation is the initial mean, from which `distribution` builds
    /// `D` (the mean's length is the search dimension n).
    pub fn new(
        config: &SearchConfig,
        spaces: &Spaces,
        seed: u64,
        distribution: impl FnOnce(&[f64]) -> D,
    ) -> Result<PolicySearch<D>> {
        check_range(
            "episodes_per_candidate",
            config.episodes_per_candidate,
            1,
            10_000,
        )?;
        let network = NetworkConfig::new(&config.hidden_sizes, &config.activation)?
            .with_kind(parse_network(&config.network)?);
        let init = Rng::new(derive_seed(seed, streams::POLICY, 0));
        let agent = Agent::new(spaces, &network, config.normalize_observations, init)?;
        let distribution = distribution(&agent.params[..agent.policy.network().param_len()]);
        Ok(PolicySearch {
            agent,
            rng: Rng::new(derive_seed(seed, streams::SEARCH, 0)),
            episodes: config.episodes_per_candidate,
            scorer: EpisodeScorer::default(),
            distribution,
        })
    }

    /// One generation: sample, score each candidate by whole episodes (see
    /// [`crate::episodes`]), rank, log, update, and play the new mean.
    pub fn iteration(&mut self, host: &mut Host) -> Result<()> {
        let candidates = self.distribution.sample(&mut self.rng);
        let scored = self
            .scorer
            .score(host, &mut self.agent, candidates, self.episodes)?;
        // A generation cut short by the budget is dropped: the mean stays.
        let Some(fitness) = scored else {
            return Ok(());
        };
        let order = rank(&fitness);
        log_generation(host, &fitness, &order, self.distribution.elites());
        self.distribution.advance(&order, host);
        let mean = self.distribution.mean();
        self.agent.params[..mean.len()].copy_from_slice(mean);
        Ok(())
    }
}

/// The derivative-free plugins' `act`, `save` and `load`, written once.
impl<D: SearchDistribution> Actor for PolicySearch<D> {
    /// The mean's action; the policy is deterministic by construction
    /// (there is no action noise to sample), whatever `deterministic` says.
    fn act(&mut self, obs: &[f64], _deterministic: bool, actions: &mut [f64]) -> Result<()> {
        self.agent.act(obs, true, actions);
        Ok(())
    }

    /// The policy: parameters, normaliser, RNG state. Not the distribution:
    /// a loaded instance searches on around the loaded mean with its own
    /// spread.
    fn save(&self) -> Result<Vec<u8>> {
        let mut e = Encoder::new();
        self.agent.encode(&mut e);
        Ok(e.finish())
    }

    fn load(&mut self, bytes: &[u8]) -> Result<()> {
        let mut d = Decoder::new(bytes)?;
        let mut agent = Agent::new_like(&self.agent);
        agent.decode(&mut d)?;
        d.finish()?;
        self.agent = agent;
        let n = self.distribution.mean().len();
        self.distribution.set_mean(&self.agent.params[..n]);
        Ok(())
    }
}

/// Candidate indices best first (highest fitness). Ties keep sampling
/// order, which is random, so equal candidates are chosen without bias.
pub fn rank(fitness: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..fitness.len()).collect();
    order.sort_by(|&a, &b| fitness[b].total_cmp(&fitness[a]));
    order
}

/// Log `train/population_return_mean`, `train/population_return_max` and
/// `train/elite_return_mean` (the mean of the `elites` best by `order`).
fn log_generation(host: &mut Host, fitness: &[f64], order: &[usize], elites: usize) {
    let elite_sum: f64 = order[..elites].iter().map(|&i| fitness[i]).sum();
    host.log(
        "train/population_return_mean",
        fitness.iter().sum::<f64>() / fitness.len() as f64,
    );
    host.log("train/population_return_max", fitness[order[0]]);
    host.log("train/elite_return_mean", elite_sum / elites as f64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_is_descending_and_stable_on_ties() {
        assert_eq!(rank(&[1.0, 3.0, 2.0, 3.0]), vec![1, 3, 2, 0]);
        assert_eq!(rank(&[]), Vec::<usize>::new());
    }
}
