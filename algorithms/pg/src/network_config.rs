//! The policy network's shape, as config keys.

use trustbench_plugin::{Error, Result};
use trustbench_policy::network::Activation;

/// Hidden sizes and activation of a policy MLP, from config keys
/// `hidden_sizes` and `activation`.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkConfig {
    /// Width of each hidden layer.
    pub hidden_sizes: Vec<usize>,
    /// Nonlinearity between layers.
    pub activation: Activation,
}

/// `"tanh"` or `"relu"`, with an error naming the valid values.
pub fn parse_activation(name: &str) -> Result<Activation> {
    match name {
        "tanh" => Ok(Activation::Tanh),
        "relu" => Ok(Activation::Relu),
        other => Err(Error::new(format!(
            "config key 'activation' = '{other}' is not valid (valid: tanh, relu)"
        ))),
    }
}

impl NetworkConfig {
    /// Checked network config from raw config values.
    pub fn new(hidden_sizes: &[usize], activation: &str) -> Result<NetworkConfig> {
        if hidden_sizes.iter().any(|&h| h == 0 || h > 4096) {
            return Err(Error::new(format!(
                "config key 'hidden_sizes' = {hidden_sizes:?} is out of range (valid: widths 1 ..= 4096)"
            )));
        }
        Ok(NetworkConfig {
            hidden_sizes: hidden_sizes.to_vec(),
            activation: parse_activation(activation)?,
        })
    }
}
