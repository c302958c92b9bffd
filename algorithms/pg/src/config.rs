//! Config keys every policy-gradient plugin shares, flattened into each
//! algorithm's own config (so `--set gamma=0.99` means the same everywhere).

use crate::{NetworkConfig, parse_network};
use serde::{Deserialize, Serialize};
use trustbench_plugin::{Result, check_range};
use trustbench_policy::BaselineConfig;

/// Sampling, discounting, network and value-baseline keys.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PgConfig {
    /// Env steps per iteration, summed over copies (the batch). The paper
    /// used 50,000 for Swimmer and 1,000,000 for Hopper and Walker
    /// (`reproduce --scale paper` keeps those). 2,048 is Stable-Baselines3's
    /// and near Tianshou's 1,024: at 1M steps it gives TRPO 488 updates
    /// where 5,000 gave 200, which with the entropy bonus and the whole
    /// batch in the Fisher lifted MuJoCo's Walker2d-v5 above Tianshou's mean
    /// while Hopper-v5 stayed above it (benches/README.md, "The entropy
    /// bonus").
    pub steps_per_iteration: usize,
    /// Discount γ of the returns being maximised (paper: 0.99).
    pub gamma: f64,
    /// GAE λ: 1 gives Monte-Carlo advantages (low bias, high variance), 0
    /// one-step TD errors. 0.97 is our choice, inside the range of λ that
    /// Schulman et al. 2016 (GAE) found best; the TRPO paper predates GAE
    /// and modular_rl's default is 1.
    pub lambda: f64,
    /// Hidden layer widths of the policy MLP. The paper's appendix had one
    /// hidden layer of 50 units for Hopper and Walker (30 for Swimmer);
    /// `reproduce --scale paper` keeps those. The default is 64 × 64, the
    /// network of Tianshou's and Stable-Baselines3's TRPO, so a comparison
    /// with their published results differs in one thing fewer. At 1M
    /// steps it was within a seed's spread of `[50]` on all five tasks
    /// measured (4–5 seeds; benches/README.md), at 10 % more CPU.
    pub hidden_sizes: Vec<usize>,
    /// `tanh` (the paper) or `relu`.
    pub activation: String,
    /// `auto` (the paper's conv net for image observations, an MLP
    /// otherwise), `mlp` or `atari`; the value baseline follows the policy.
    pub network: String,
    /// Standardise observations with running statistics (saved with θ).
    pub normalize_observations: bool,
    /// Hidden widths of the value-baseline MLP.
    pub vf_hidden_sizes: Vec<usize>,
    /// Adam learning rate of the value regression.
    pub vf_learning_rate: f64,
    /// Passes over the batch per value fit (of an MLP value network).
    pub vf_epochs: usize,
    /// Minibatch size of the value fit (of an MLP value network).
    pub vf_minibatch: usize,
    /// Passes over the batch per value fit when the value network is the
    /// conv net (image observations). Why not `vf_epochs`: per state the
    /// conv net's forward + VJP costs ≈ 160× the 64×64 MLP's, and five
    /// passes were half of a pixel TRPO run. One pass of half-size
    /// minibatches (39 Adam steps per 5,000-state batch instead of 98) is a
    /// fifth of the work and explained as much of the returns' variance on
    /// breakout (measured: benches/README.md, "Whole-run TRPO on breakout
    /// pixels").
    pub vf_conv_epochs: usize,
    /// Minibatch size of the conv net's value fit.
    pub vf_conv_minibatch: usize,
}

impl Default for PgConfig {
    fn default() -> PgConfig {
        PgConfig {
            steps_per_iteration: 2048,
            gamma: 0.99,
            lambda: 0.97,
            hidden_sizes: vec![64, 64],
            activation: "tanh".into(),
            network: "auto".into(),
            normalize_observations: true,
            vf_hidden_sizes: vec![64, 64],
            vf_learning_rate: 1e-3,
            vf_epochs: 5,
            vf_minibatch: 256,
            vf_conv_epochs: 1,
            vf_conv_minibatch: 128,
        }
    }
}

impl PgConfig {
    /// Check ranges; errors name the key and the valid range.
    pub fn validate(&self) -> Result<()> {
        check_range(
            "steps_per_iteration",
            self.steps_per_iteration,
            1,
            100_000_000,
        )?;
        check_range("gamma", self.gamma, 0.0, 1.0)?;
        check_range("lambda", self.lambda, 0.0, 1.0)?;
        check_range("vf_learning_rate", self.vf_learning_rate, 1e-9, 1.0)?;
        check_range("vf_epochs", self.vf_epochs, 0, 10_000)?;
        check_range("vf_minibatch", self.vf_minibatch, 1, 10_000_000)?;
        check_range("vf_conv_epochs", self.vf_conv_epochs, 0, 10_000)?;
        check_range("vf_conv_minibatch", self.vf_conv_minibatch, 1, 10_000_000)?;
        self.network()?;
        self.value_network()?;
        Ok(())
    }

    /// The policy network's shape.
    pub fn network(&self) -> Result<NetworkConfig> {
        let kind = parse_network(&self.network)?;
        Ok(NetworkConfig::new(&self.hidden_sizes, &self.activation)?.with_kind(kind))
    }

    /// The value network's shape: `vf_hidden_sizes` for an MLP, the same
    /// kind as the policy's.
    pub fn value_network(&self) -> Result<NetworkConfig> {
        let kind = parse_network(&self.network)?;
        Ok(NetworkConfig::new(&self.vf_hidden_sizes, &self.activation)?.with_kind(kind))
    }

    /// The value baseline's config, for the conv net (`conv`) or an MLP.
    pub fn baseline(&self, conv: bool) -> Result<BaselineConfig> {
        let net = NetworkConfig::new(&self.vf_hidden_sizes, &self.activation)?;
        let (epochs, minibatch) = if conv {
            (self.vf_conv_epochs, self.vf_conv_minibatch)
        } else {
            (self.vf_epochs, self.vf_minibatch)
        };
        Ok(BaselineConfig {
            hidden: net.hidden_sizes,
            activation: net.activation,
            learning_rate: self.vf_learning_rate,
            epochs,
            minibatch,
        })
    }

    /// Steps per copy per iteration: the batch split over `n_envs` copies
    /// (rounded up, so a batch is never smaller than asked).
    pub fn steps_per_env(&self, n_envs: usize) -> usize {
        self.steps_per_iteration.div_ceil(n_envs.max(1))
    }
}
