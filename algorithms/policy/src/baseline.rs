//! The value-function baseline `V_φ(s)`: an MLP regressed on returns.
//!
//! Choice: Adam on minibatches for a few epochs per policy iteration,
//! minimising the mean squared error
//!
//! `ℓ(φ) = (1/B) Σ_{i∈batch} (V_φ(sᵢ) − Rᵢ)²`,  `∂ℓ/∂V_φ(sᵢ) = 2 (V_φ(sᵢ) − Rᵢ) / B`.
//!
//! Why Adam rather than the paper code's L-BFGS: it needs no line search and
//! no full-batch passes per step, scales to the paper's 1M-step batches
//! with a fixed memory footprint, and the same optimiser serves VPG and PPO.
//! The minibatch order is shuffled with the caller's seeded RNG, so fits are
//! reproducible.

use trustbench_plugin::rng::Rng;

use crate::adam::Adam;
use crate::network::{Activation, Network, ShapeError, Workspace};
use crate::observations::Observations;
use crate::policy::Precision;
use crate::real::Real;

/// Architecture and optimiser settings of a [`ValueBaseline`].
#[derive(Clone, Debug, PartialEq)]
pub struct BaselineConfig {
    /// Hidden layer sizes.
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// Adam step size.
    pub learning_rate: f64,
    /// Passes over the batch per [`ValueBaseline::fit`].
    pub epochs: usize,
    /// States per Adam step.
    pub minibatch: usize,
}

impl Default for BaselineConfig {
    /// 64×64 tanh, Adam 1e-3, 5 epochs of minibatches of 256.
    fn default() -> BaselineConfig {
        BaselineConfig {
            hidden: vec![64, 64],
            activation: Activation::Tanh,
            learning_rate: 1e-3,
            epochs: 5,
            minibatch: 256,
        }
    }
}

/// `(1/N) Σ (vᵢ − rᵢ)²`, the value regression's loss (0 for no values).
pub fn mean_squared_error(values: &[f64], targets: &[f64]) -> f64 {
    let sum: f64 = values
        .iter()
        .zip(targets)
        .map(|(v, r)| (v - r) * (v - r))
        .sum();
    sum / targets.len().max(1) as f64
}

/// `1 − Var(R − V) / Var(R)`: 1 when the baseline predicts returns exactly,
/// 0 when it is no better than a constant, negative when worse.
pub fn explained_variance(values: &[f64], returns: &[f64]) -> f64 {
    let n = returns.len().max(1) as f64;
    let var = |xs: &mut dyn Iterator<Item = f64>| {
        let v: Vec<f64> = xs.collect();
        let m = v.iter().sum::<f64>() / n;
        v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n
    };
    let var_r = var(&mut returns.iter().copied());
    if var_r == 0.0 {
        return 0.0;
    }
    1.0 - var(&mut returns.iter().zip(values).map(|(r, v)| r - v)) / var_r
}

/// States per prediction pass: the workspace holds one chunk's activations,
/// so memory does not grow with the batch.
const PREDICT_CHUNK: usize = 1024;

/// A value function with its parameters, optimiser state and buffers.
///
/// Its network runs in a [`Precision`] like a policy's (the conv net in
/// `f32`: a value regression needs no more, and the `f64` conv passes were
/// half of a pixel TRPO iteration); the parameters and Adam stay `f64`.
#[derive(Clone, Debug)]
pub struct ValueBaseline {
    network: Network,
    config: BaselineConfig,
    params: Vec<f64>,
    adam: Adam,
    engine: Engine,
    order: Vec<usize>,
    batch_targets: Vec<f64>,
    grad: Vec<f64>,
}

/// The network's buffers in its element type.
#[derive(Clone, Debug)]
enum Engine {
    F64(Buffers<f64>),
    F32(Buffers<f32>),
}

impl Engine {
    fn set_params(&mut self, params: &[f64]) {
        match self {
            Engine::F64(b) => b.set_params(params),
            Engine::F32(b) => b.set_params(params),
        }
    }
}

/// A workspace, the parameters rounded to `T`, one pass's inputs and
/// output cotangents.
#[derive(Clone, Debug, Default)]
struct Buffers<T: Real> {
    ws: Workspace<T>,
    params: Vec<T>,
    x: Vec<T>,
    d_out: Vec<T>,
}

impl<T: Real> Buffers<T> {
    fn set_params(&mut self, params: &[f64]) {
        Observations::Reals(params).write_to(&mut self.params);
    }

    /// `V` of the `n` states of `obs` into `out`, a chunk at a time.
    fn predict(&mut self, network: &Network, obs: Observations<'_>, n: usize, out: &mut [f64]) {
        let d = network.inputs();
        for s0 in (0..n).step_by(PREDICT_CHUNK) {
            let s1 = (s0 + PREDICT_CHUNK).min(n);
            obs.slice(s0 * d, s1 * d).write_to(&mut self.x);
            let values = network.forward(&self.params, &self.x, s1 - s0, &mut self.ws);
            for (o, v) in out[s0..s1].iter_mut().zip(values) {
                *o = v.to_f64();
            }
        }
    }

    /// The gradient of the minibatch `rows`' squared error into `grad`.
    fn gradient(
        &mut self,
        network: &Network,
        obs: Observations<'_>,
        rows: &[usize],
        targets: &[f64],
        grad: &mut [f64],
    ) {
        let (d, m) = (network.inputs(), rows.len());
        self.x.resize(d * m, T::ZERO);
        let mut row = Vec::new();
        for (k, &i) in rows.iter().enumerate() {
            obs.slice(i * d, (i + 1) * d).write_to(&mut row);
            self.x[k * d..(k + 1) * d].copy_from_slice(&row);
        }
        let values = network.forward(&self.params, &self.x, m, &mut self.ws);
        self.d_out.resize(m, T::ZERO);
        for ((g, v), r) in self.d_out.iter_mut().zip(values).zip(targets) {
            *g = T::from_f64(2.0 * (v.to_f64() - r) / m as f64);
        }
        network.vjp(&self.params, &self.x, &mut self.ws, &self.d_out, grad);
    }
}

impl ValueBaseline {
    /// A seeded value network `obs_len → hidden → 1` (Glorot init, output
    /// scale 1), in `f64`.
    pub fn new(
        obs_len: usize,
        config: BaselineConfig,
        rng: &mut Rng,
    ) -> Result<ValueBaseline, ShapeError> {
        let network = Network::mlp(obs_len, &config.hidden, 1, config.activation)?;
        ValueBaseline::with_network(network, Precision::F64, config, rng)
    }

    /// A seeded value function on any network with one output (the conv net
    /// for pixels), run in `precision`; `config.hidden` and
    /// `config.activation` are not read.
    pub fn with_network(
        network: Network,
        precision: Precision,
        config: BaselineConfig,
        rng: &mut Rng,
    ) -> Result<ValueBaseline, ShapeError> {
        if config.minibatch == 0 {
            return Err(ShapeError(
                "value baseline minibatch must be positive".into(),
            ));
        }
        if network.outputs() != 1 {
            return Err(ShapeError(format!(
                "a value network has one output, not {}",
                network.outputs()
            )));
        }
        let params = network.init(rng, 1.0);
        let adam = Adam::new(params.len(), config.learning_rate);
        let grad = vec![0.0; params.len()];
        let engine = match precision {
            Precision::F64 => Engine::F64(Buffers::default()),
            Precision::F32 => Engine::F32(Buffers::default()),
        };
        let mut baseline = ValueBaseline {
            network,
            config,
            params,
            adam,
            engine,
            order: Vec::new(),
            batch_targets: Vec::new(),
            grad,
        };
        baseline.params_changed();
        Ok(baseline)
    }

    /// The value network.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The parameters `φ` (for saving).
    pub fn params(&self) -> &[f64] {
        &self.params
    }

    /// Replaces the parameters (for loading).
    pub fn set_params(&mut self, params: &[f64]) {
        self.params.copy_from_slice(params);
        self.params_changed();
    }

    /// Rounds the parameters into the network's element type.
    fn params_changed(&mut self) {
        self.engine.set_params(&self.params);
    }

    /// `V(sᵢ)` of `n` states into `out`.
    pub fn predict<'o>(&mut self, obs: impl Into<Observations<'o>>, n: usize, out: &mut [f64]) {
        let obs = obs.into();
        assert_eq!(
            obs.len(),
            self.network.inputs() * n,
            "value predict: observation length"
        );
        match &mut self.engine {
            Engine::F64(b) => b.predict(&self.network, obs, n, out),
            Engine::F32(b) => b.predict(&self.network, obs, n, out),
        }
    }

    /// Regresses `V` on `targets` (one per state of `obs`) for the configured
    /// epochs of shuffled minibatches. The loss is not computed here: it
    /// would cost a pass over the batch, and callers have the predictions
    /// (see [`mean_squared_error`]).
    pub fn fit<'o>(&mut self, obs: impl Into<Observations<'o>>, targets: &[f64], rng: &mut Rng) {
        let obs = obs.into();
        let n = targets.len();
        let d = self.network.inputs();
        assert_eq!(obs.len(), d * n, "value fit: observation length");
        self.order.clear();
        self.order.extend(0..n);
        let b = self.config.minibatch.min(n.max(1));
        for _ in 0..self.config.epochs {
            for i in (1..n).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                self.order.swap(i, j);
            }
            for chunk in self.order.chunks(b) {
                self.batch_targets.clear();
                self.batch_targets.extend(chunk.iter().map(|&i| targets[i]));
                let (net, r, g) = (&self.network, &self.batch_targets, &mut self.grad);
                match &mut self.engine {
                    Engine::F64(buffers) => buffers.gradient(net, obs, chunk, r, g),
                    Engine::F32(buffers) => buffers.gradient(net, obs, chunk, r, g),
                }
                self.adam.step(&mut self.params, &self.grad);
                self.engine.set_params(&self.params);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regression_data(n: usize) -> (Vec<f64>, Vec<f64>) {
        let mut rng = Rng::new(5);
        let obs: Vec<f64> = (0..2 * n).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
        let targets = obs
            .chunks_exact(2)
            .map(|s| (2.0 * s[0]).sin() + 0.5 * s[1])
            .collect();
        (obs, targets)
    }

    #[test]
    fn fitting_reduces_the_squared_error() {
        let (obs, targets) = regression_data(256);
        let config = BaselineConfig {
            hidden: vec![16],
            epochs: 20,
            minibatch: 32,
            ..BaselineConfig::default()
        };
        let mut baseline = ValueBaseline::new(2, config, &mut Rng::new(1)).unwrap();
        let mut rng = Rng::new(2);
        let mut predicted = vec![0.0; 256];
        let mut loss = |baseline: &mut ValueBaseline| {
            baseline.predict(&obs, 256, &mut predicted);
            mean_squared_error(&predicted, &targets)
        };
        let before = loss(&mut baseline);
        baseline.fit(&obs, &targets, &mut rng);
        let first = loss(&mut baseline);
        for _ in 0..4 {
            baseline.fit(&obs, &targets, &mut rng);
        }
        let last = loss(&mut baseline);
        assert!(first < before, "{before} → {first}");
        assert!(last < 0.1 * before, "{before} → {last}");
    }

    #[test]
    fn mean_squared_error_is_the_mean_of_squares() {
        assert_eq!(mean_squared_error(&[1.0, 2.0], &[0.0, 4.0]), 2.5);
        assert_eq!(mean_squared_error(&[], &[]), 0.0);
    }

    #[test]
    fn fits_are_deterministic_for_a_seed() {
        let (obs, targets) = regression_data(100);
        let run = || {
            let config = BaselineConfig {
                hidden: vec![8],
                epochs: 2,
                minibatch: 16,
                ..BaselineConfig::default()
            };
            let mut baseline = ValueBaseline::new(2, config, &mut Rng::new(3)).unwrap();
            baseline.fit(&obs, &targets, &mut Rng::new(4));
            baseline.params().to_vec()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn explained_variance_is_one_for_exact_and_zero_for_constant_predictions() {
        let returns = [1.0, -2.0, 0.5, 3.0];
        assert_eq!(explained_variance(&returns, &returns), 1.0);
        let mean = returns.iter().sum::<f64>() / 4.0;
        assert!(explained_variance(&[mean; 4], &returns).abs() < 1e-15);
        assert!(explained_variance(&[-1.0, 2.0, -0.5, -3.0], &returns) < 0.0);
        assert_eq!(explained_variance(&[0.0; 3], &[2.0; 3]), 0.0);
    }
}
