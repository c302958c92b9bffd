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
use crate::blocks::{grid, sum_blocks};
use crate::network::{Activation, GRAD_BLOCK, Network, ShapeError, Workspace};
use crate::vector::grow;
use trustbench_plugin::parallel::split;

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

/// A value function with its parameters, optimiser state and buffers.
#[derive(Clone, Debug)]
pub struct ValueBaseline {
    network: Network,
    config: BaselineConfig,
    params: Vec<f64>,
    adam: Adam,
    ws: Workspace,
    order: Vec<usize>,
    batch_obs: Vec<f64>,
    batch_targets: Vec<f64>,
    d_out: Vec<f64>,
    grad: Vec<f64>,
    /// One workspace per thread (one: serial) and the block slots of
    /// `crate::blocks`.
    lanes: Vec<Workspace>,
    slots: Vec<f64>,
}

impl ValueBaseline {
    /// A seeded value network `obs_len → hidden → 1` (Glorot init, output
    /// scale 1).
    pub fn new(
        obs_len: usize,
        config: BaselineConfig,
        rng: &mut Rng,
    ) -> Result<ValueBaseline, ShapeError> {
        let network = Network::mlp(obs_len, &config.hidden, 1, config.activation)?;
        ValueBaseline::with_network(network, config, rng)
    }

    /// A seeded value function on any network with one output (the conv net
    /// for pixels); `config.hidden` and `config.activation` are not read.
    pub fn with_network(
        network: Network,
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
        Ok(ValueBaseline {
            network,
            config,
            params,
            adam,
            ws: Workspace::new(),
            order: Vec::new(),
            batch_obs: Vec::new(),
            batch_targets: Vec::new(),
            d_out: Vec::new(),
            grad,
            lanes: vec![Workspace::new()],
            slots: Vec::new(),
        })
    }

    /// Predict and fit on up to `threads` threads, a block of states per
    /// job (see [`crate::blocks`]): the same bits for any count.
    pub fn set_threads(&mut self, threads: usize) {
        self.lanes.resize_with(threads.max(1), Workspace::new);
    }

    /// The value network.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The parameters `φ` (for saving).
    pub fn params(&self) -> &[f64] {
        &self.params
    }

    /// The parameters, writable (for loading).
    pub fn params_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }

    /// `V(sᵢ)` of `n` states into `out`.
    pub fn predict(&mut self, obs: &[f64], n: usize, out: &mut [f64]) {
        if self.lanes.len() == 1 {
            out.copy_from_slice(self.network.forward(&self.params, obs, n, &mut self.ws));
            return;
        }
        let (network, params, d) = (&self.network, &self.params, self.network.inputs());
        assert_eq!(out.len(), n, "value output length");
        let mut blocks: Vec<_> = grid(n).zip(out.chunks_mut(GRAD_BLOCK)).collect();
        split(&mut blocks, &mut self.lanes, |ws, _, ((first, m), out)| {
            let x = &obs[*first * d..(*first + *m) * d];
            out.copy_from_slice(network.forward(params, x, *m, ws));
        });
    }

    /// Regresses `V` on `targets` (one per state of `obs`) for the configured
    /// epochs of shuffled minibatches. The loss is not computed here: it
    /// would cost a pass over the batch, and callers have the predictions
    /// (see [`mean_squared_error`]).
    pub fn fit(&mut self, obs: &[f64], targets: &[f64], rng: &mut Rng) {
        let n = targets.len();
        let d = self.network.inputs();
        assert_eq!(obs.len(), d * n, "value fit: observation length");
        self.order.clear();
        self.order.extend(0..n);
        let b = self.config.minibatch.min(n.max(1));
        grow(&mut self.batch_obs, d * b);
        grow(&mut self.batch_targets, b);
        grow(&mut self.d_out, b);
        for _ in 0..self.config.epochs {
            for i in (1..n).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                self.order.swap(i, j);
            }
            for chunk in self.order.chunks(b) {
                let m = chunk.len();
                for (k, &i) in chunk.iter().enumerate() {
                    self.batch_obs[k * d..(k + 1) * d].copy_from_slice(&obs[i * d..(i + 1) * d]);
                    self.batch_targets[k] = targets[i];
                }
                let (x, r) = (&self.batch_obs[..d * m], &self.batch_targets[..m]);
                if self.lanes.len() > 1 {
                    let (lanes, slots) = (&mut self.lanes, &mut self.slots);
                    minibatch_gradient(
                        &self.network,
                        &self.params,
                        x,
                        r,
                        &mut self.grad,
                        lanes,
                        slots,
                    );
                    self.adam.step(&mut self.params, &self.grad);
                    continue;
                }
                let values = self.network.forward(&self.params, x, m, &mut self.ws);
                for ((g, v), r) in self.d_out.iter_mut().zip(values).zip(r) {
                    *g = 2.0 * (v - r) / m as f64;
                }
                self.network.vjp(
                    &self.params,
                    x,
                    &mut self.ws,
                    &self.d_out[..m],
                    &mut self.grad,
                );
                self.adam.step(&mut self.params, &self.grad);
            }
        }
    }
}

/// `grad` = the squared loss's gradient on the minibatch `x`, `r`, block by
/// block on one thread per workspace in `lanes`: each block's forward,
/// `∂ℓ/∂Vᵢ = 2 (Vᵢ − Rᵢ) / m` and VJP into its slot, the slots added in
/// block order as the serial VJP adds its blocks (see [`crate::blocks`]).
fn minibatch_gradient(
    network: &Network,
    params: &[f64],
    x: &[f64],
    r: &[f64],
    grad: &mut [f64],
    lanes: &mut [Workspace],
    slots: &mut Vec<f64>,
) {
    let (d, m) = (network.inputs(), r.len());
    let mut blocks: Vec<_> = grid(m).collect();
    grad.fill(0.0);
    let job = |ws: &mut Workspace, &mut (first, k): &mut (usize, usize), slot: &mut [f64]| {
        let x = &x[first * d..(first + k) * d];
        let mut d_out = [0.0; GRAD_BLOCK];
        let values = network.forward(params, x, k, ws);
        for ((g, v), r) in d_out.iter_mut().zip(values).zip(&r[first..first + k]) {
            *g = 2.0 * (v - r) / m as f64;
        }
        network.vjp(params, x, ws, &d_out[..k], slot);
    };
    sum_blocks(
        &mut blocks,
        lanes,
        slots,
        network.param_len(),
        Some(grad),
        job,
    );
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
