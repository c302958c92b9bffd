//! The policy network's shape, as config keys.

use trustbench_plugin::{Error, Result, Space};
use trustbench_policy::network::Activation;
use trustbench_policy::{Network, Precision};

/// Which network to build, from config key `network`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkKind {
    /// The Atari net for image observations (`[height, width, channels]`),
    /// an MLP otherwise.
    Auto,
    /// An MLP over the flattened observation.
    Mlp,
    /// The TRPO paper's conv net ([`Network::atari`]); image observations only.
    Atari,
}

/// `"auto"`, `"mlp"` or `"atari"`, with an error naming the valid values.
pub fn parse_network(name: &str) -> Result<NetworkKind> {
    match name {
        "auto" => Ok(NetworkKind::Auto),
        "mlp" => Ok(NetworkKind::Mlp),
        "atari" => Ok(NetworkKind::Atari),
        other => Err(Error::new(format!(
            "config key 'network' = '{other}' is not valid (valid: auto, mlp, atari)"
        ))),
    }
}

/// Hidden sizes and activation of a policy MLP, from config keys
/// `hidden_sizes` and `activation`, and which network to build (`network`).
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkConfig {
    /// Width of each hidden layer (of an MLP; the Atari net's are fixed).
    pub hidden_sizes: Vec<usize>,
    /// Nonlinearity between layers.
    pub activation: Activation,
    /// MLP, Atari net, or chosen by the observation's shape.
    pub kind: NetworkKind,
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
            kind: NetworkKind::Mlp,
        })
    }

    /// The same shape keys with another network kind.
    pub fn with_kind(self, kind: NetworkKind) -> NetworkConfig {
        NetworkConfig { kind, ..self }
    }

    /// The network over `observation` with `outputs` outputs, and the
    /// precision it runs in: the Atari net in `f32` (its products are
    /// memory- and SIMD-bound, and `f32` is enough for a sampled gradient),
    /// an MLP in `f64`.
    pub fn build(&self, observation: &Space, outputs: usize) -> Result<(Network, Precision)> {
        let image = match observation {
            Space::Box { shape, .. } if shape.len() == 3 => Some([shape[0], shape[1], shape[2]]),
            _ => None,
        };
        let shape_error = |e: trustbench_policy::ShapeError| Error::new(e.0);
        match (self.kind, image) {
            (NetworkKind::Atari | NetworkKind::Auto, Some([height, width, channels])) => {
                let net = Network::atari(channels, height, width, outputs, self.activation)
                    .map_err(shape_error)?;
                Ok((net, Precision::F32))
            }
            (NetworkKind::Atari, None) => {
                let shape = match observation {
                    Space::Box { shape, .. } => format!("a box of shape {shape:?}"),
                    Space::Discrete { n } => format!("discrete ({n} values)"),
                };
                Err(Error::new(format!(
                    "config key 'network' = 'atari' needs image observations \
                     ([height, width, channels]), but the env's observations are {shape} \
                     (valid here: auto, mlp)"
                )))
            }
            (NetworkKind::Mlp | NetworkKind::Auto, _) => {
                let net = Network::mlp(
                    observation.dim(),
                    &self.hidden_sizes,
                    outputs,
                    self.activation,
                )
                .map_err(shape_error)?;
                Ok((net, Precision::F64))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(height: usize, width: usize, channels: usize) -> Space {
        let dim = height * width * channels;
        Space::Box {
            shape: vec![height, width, channels],
            low: vec![0.0; dim],
            high: vec![1.0; dim],
        }
    }

    fn config(kind: &str) -> NetworkConfig {
        NetworkConfig::new(&[8], "relu")
            .unwrap()
            .with_kind(parse_network(kind).unwrap())
    }

    #[test]
    fn auto_picks_the_papers_conv_net_for_images_and_an_mlp_otherwise() {
        let (net, precision) = config("auto").build(&image(50, 38, 4), 6).unwrap();
        assert_eq!((net.param_len(), precision), (33_458, Precision::F32));
        let (net, precision) = config("atari").build(&image(50, 38, 4), 6).unwrap();
        assert_eq!((net.param_len(), precision), (33_458, Precision::F32));
        let flat = Space::uniform_box(11, -1.0, 1.0);
        let (net, precision) = config("auto").build(&flat, 3).unwrap();
        assert_eq!(
            (net.param_len(), precision),
            (12 * 8 + 9 * 3, Precision::F64)
        );
        let (net, _) = config("mlp").build(&image(50, 38, 4), 6).unwrap();
        assert_eq!(net.inputs(), 50 * 38 * 4);
        assert_eq!(net.layers().len(), 2);
    }

    #[test]
    fn atari_on_flat_observations_and_unknown_kinds_are_refused_with_the_valid_values() {
        let flat = Space::uniform_box(11, -1.0, 1.0);
        let err = config("atari").build(&flat, 3).unwrap_err().to_string();
        assert!(
            err.contains("'atari' needs image observations")
                && err.contains("shape [11]")
                && err.contains("auto, mlp"),
            "{err}"
        );
        let err = parse_network("cnn").unwrap_err().to_string();
        assert!(
            err.contains("'cnn'") && err.contains("auto, mlp, atari"),
            "{err}"
        );
        let err = config("atari")
            .build(&image(3, 3, 1), 2)
            .unwrap_err()
            .to_string();
        assert!(err.contains("larger than"), "{err}");
    }
}
