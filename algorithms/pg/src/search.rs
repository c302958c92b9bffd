//! What the derivative-free plugins (CEM, CMA-ES) share around their search
//! distribution: the config keys of the policy and its scoring, the agent
//! whose network weights are the search space, ranking, and the metrics of a
//! generation. Each plugin keeps only its own distribution and update.
//!
//! The search space is the policy *network's* parameters only: the policy is
//! always used deterministically (its mode), and the Gaussian head's
//! log-stds do not change the mode, so searching over them would only add
//! dimensions that the fitness ignores.

use crate::episodes::EpisodeScorer;
use crate::{Agent, Decoder, Encoder, NetworkConfig};
use serde::{Deserialize, Serialize};
use trustbench_plugin::rng::{Rng, derive_seed};
use trustbench_plugin::{Host, Result, Spaces, check_range};

/// Seed stream of the initial parameters (the same stream the
/// policy-gradient agents initialise from).
const INIT_STREAM: u64 = 1;
/// Seed stream of the search distribution's samples.
const SEARCH_STREAM: u64 = 4;

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
            normalize_observations: false,
        }
    }
}

/// The agent being searched for, its scorer and the sampling stream.
#[derive(Debug)]
pub struct PolicySearch {
    /// The policy; its network parameters are the current mean.
    pub agent: Agent,
    /// The search distribution's sampling stream.
    pub rng: Rng,
    episodes: usize,
    scorer: EpisodeScorer,
}

impl PolicySearch {
    /// Check the keys and build the agent (its network initialisation is the
    /// initial mean) from the run seed.
    pub fn new(config: &SearchConfig, spaces: &Spaces, seed: u64) -> Result<PolicySearch> {
        check_range(
            "episodes_per_candidate",
            config.episodes_per_candidate,
            1,
            10_000,
        )?;
        let network = NetworkConfig::new(&config.hidden_sizes, &config.activation)?;
        let init = Rng::new(derive_seed(seed, INIT_STREAM, 0));
        let agent = Agent::new(spaces, &network, config.normalize_observations, init)?;
        Ok(PolicySearch {
            agent,
            rng: Rng::new(derive_seed(seed, SEARCH_STREAM, 0)),
            episodes: config.episodes_per_candidate,
            scorer: EpisodeScorer::default(),
        })
    }

    /// n, the dimension of the search space (network parameters).
    pub fn dim(&self) -> usize {
        self.agent.policy.network().param_len()
    }

    /// The policy's network parameters (the mean after [`Self::set_mean`]).
    pub fn mean(&self) -> &[f64] {
        &self.agent.params[..self.dim()]
    }

    /// Make `mean` the policy that `act` plays.
    pub fn set_mean(&mut self, mean: &[f64]) {
        let dim = self.dim();
        self.agent.params[..dim].copy_from_slice(mean);
    }

    /// Fitness of `K` candidates stored back to back (`K·n` values); `None`
    /// when the budget ran out first. See [`crate::episodes`].
    pub fn score(&mut self, host: &mut Host, candidates: &[f64]) -> Result<Option<Vec<f64>>> {
        self.scorer
            .score(host, &mut self.agent, candidates, self.episodes)
    }

    /// The deterministic action of the mean (the policy is deterministic by
    /// construction: there is no action noise to sample).
    pub fn act(&mut self, obs: &[f64], actions: &mut [f64]) {
        self.agent.act(obs, true, actions);
    }

    /// The policy: parameters, normaliser, RNG state.
    pub fn save(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        self.agent.encode(&mut e);
        e.finish()
    }

    /// Read what [`Self::save`] wrote (all or nothing).
    pub fn load(&mut self, bytes: &[u8]) -> Result<()> {
        let mut d = Decoder::new(bytes)?;
        let mut agent = Agent::new_like(&self.agent);
        agent.decode(&mut d)?;
        d.finish()?;
        self.agent = agent;
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
pub fn log_generation(host: &mut Host, fitness: &[f64], order: &[usize], elites: usize) {
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
