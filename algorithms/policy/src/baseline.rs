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
//!
//! Threads ([`ValueBaseline::with_threads`]): a minibatch's gradient is
//! computed as blocks of [`crate::GRAD_BLOCK`] states, each block alone on one of
//! the threads, and the blocks' gradients added in block order (see
//! `crate::blocks`); predictions are split into runs of states. There is one
//! code path, and neither the blocks nor their order depend on the thread
//! count, so the fitted parameters are the same bits for any count.

use std::sync::Arc;
use trustbench_plugin::parallel::split;
use trustbench_plugin::rng::Rng;

use crate::adam::Adam;
use crate::blocks::{grid, sum_blocks};
use crate::network::{Activation, Network, ShapeError, Workspace};
use crate::normalizer::Standardizer;
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

/// States per prediction job: a thread's workspace holds one job's
/// activations, so memory does not grow with the batch (256 states of the
/// Atari net are ≈ 9 MB of `f32`), and a batch of a few thousand states
/// still gives every thread several jobs.
const PREDICT_BLOCK: usize = 256;

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
    grad: Vec<f64>,
    /// The blocks' gradients of one round (see `crate::blocks`).
    slots: Vec<f64>,
    /// How byte observations are standardised: as the policy's are.
    byte_standardizer: Option<Arc<Standardizer>>,
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

/// The parameters rounded to `T`, and one [`Lane`] per thread.
#[derive(Clone, Debug)]
struct Buffers<T: Real> {
    params: Vec<T>,
    lanes: Vec<Lane<T>>,
}

/// One thread's scratch: a workspace, a job's inputs and output cotangents.
#[derive(Clone, Debug, Default)]
struct Lane<T: Real> {
    ws: Workspace<T>,
    x: Vec<T>,
    d_out: Vec<T>,
}

impl<T: Real> Buffers<T> {
    fn new(threads: usize) -> Buffers<T> {
        Buffers {
            params: Vec::new(),
            lanes: vec![Lane::default(); threads.max(1)],
        }
    }

    fn set_params(&mut self, params: &[f64]) {
        Observations::Reals(params).write_to(&mut self.params);
    }

    /// `V` of the `n` states of `obs` into `out`, [`PREDICT_BLOCK`] states
    /// per job (a state's value does not depend on the states beside it).
    fn predict(
        &mut self,
        network: &Network,
        obs: Observations<'_>,
        by: Option<&Standardizer>,
        out: &mut [f64],
    ) {
        let d = network.inputs();
        let Buffers { params, lanes } = self;
        let params = &*params;
        let mut jobs: Vec<(usize, &mut [f64])> = out
            .chunks_mut(PREDICT_BLOCK)
            .enumerate()
            .map(|(b, out)| (b * PREDICT_BLOCK, out))
            .collect();
        split(&mut jobs, lanes, |lane, _, (first, out)| {
            let m = out.len();
            obs.slice(*first * d, (*first + m) * d)
                .write_standardized_to(&mut lane.x, by);
            let values = network.forward(params, &lane.x, m, &mut lane.ws);
            for (o, v) in out.iter_mut().zip(values) {
                *o = v.to_f64();
            }
        });
    }

    /// `grad` = the gradient of the squared error of the minibatch `rows`
    /// (`m` states): per block of [`crate::GRAD_BLOCK`] rows, its forward pass,
    /// `∂ℓ/∂Vᵢ = 2 (Vᵢ − Rᵢ) / m` and VJP into the block's slot, the slots
    /// added in block order — the sum [`Network::vjp`] makes over one call.
    fn gradient(
        &mut self,
        network: &Network,
        (obs, by): (Observations<'_>, Option<&Standardizer>),
        rows: &[usize],
        targets: &[f64],
        grad: &mut [f64],
        slots: &mut Vec<f64>,
    ) {
        let (d, m) = (network.inputs(), rows.len());
        let Buffers { params, lanes } = self;
        let params = &*params;
        let mut blocks: Vec<(usize, usize)> = grid(m).collect();
        let job = |lane: &mut Lane<T>, &mut (first, k): &mut (usize, usize), slot: &mut [f64]| {
            let rows = &rows[first..first + k];
            lane.x.resize(d * k, T::ZERO);
            for (x, &i) in lane.x.chunks_exact_mut(d).zip(rows) {
                obs.slice(i * d, (i + 1) * d).write_standardized_into(x, by);
            }
            let values = network.forward(params, &lane.x, k, &mut lane.ws);
            lane.d_out.clear();
            lane.d_out.extend(
                values
                    .iter()
                    .zip(rows)
                    .map(|(v, &i)| T::from_f64(2.0 * (v.to_f64() - targets[i]) / m as f64)),
            );
            network.vjp_add(params, &lane.x, &mut lane.ws, &lane.d_out, slot);
        };
        grad.fill(0.0);
        sum_blocks(
            &mut blocks,
            lanes,
            slots,
            network.param_len(),
            Some(grad),
            job,
        );
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
            Precision::F64 => Engine::F64(Buffers::new(1)),
            Precision::F32 => Engine::F32(Buffers::new(1)),
        };
        let mut baseline = ValueBaseline {
            network,
            config,
            params,
            adam,
            engine,
            order: Vec::new(),
            grad,
            slots: Vec::new(),
            byte_standardizer: None,
        };
        baseline.params_changed();
        Ok(baseline)
    }

    /// The same baseline predicting and fitting on up to `threads` threads
    /// (the calling one included): the same bits for every count.
    pub fn with_threads(mut self, threads: usize) -> ValueBaseline {
        self.engine = match self.engine {
            Engine::F64(_) => Engine::F64(Buffers::new(threads)),
            Engine::F32(_) => Engine::F32(Buffers::new(threads)),
        };
        self.params_changed();
        self
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

    /// Standardise byte observations with `by` (the policy's statistics),
    /// or read them as `b · BYTE_SCALE` (`None`).
    pub fn set_byte_standardizer(&mut self, by: Option<Arc<Standardizer>>) {
        self.byte_standardizer = by;
    }

    /// Rounds the parameters into the network's element type.
    fn params_changed(&mut self) {
        self.engine.set_params(&self.params);
    }

    /// `V(sᵢ)` of `n` states into `out`.
    pub fn predict<'o>(&mut self, obs: impl Into<Observations<'o>>, n: usize, out: &mut [f64]) {
        self.predict_obs(obs.into(), n, out);
    }

    /// [`ValueBaseline::predict`], compiled here (see [`Observations`] on why).
    fn predict_obs(&mut self, obs: Observations<'_>, n: usize, out: &mut [f64]) {
        assert_eq!(
            obs.len(),
            self.network.inputs() * n,
            "value predict: observation length"
        );
        let out = &mut out[..n];
        let by = self.byte_standardizer.as_deref();
        match &mut self.engine {
            Engine::F64(b) => b.predict(&self.network, obs, by, out),
            Engine::F32(b) => b.predict(&self.network, obs, by, out),
        }
    }

    /// Regresses `V` on `targets` (one per state of `obs`) for the configured
    /// epochs of shuffled minibatches. The loss is not computed here: it
    /// would cost a pass over the batch, and callers have the predictions
    /// (see [`mean_squared_error`]).
    pub fn fit<'o>(&mut self, obs: impl Into<Observations<'o>>, targets: &[f64], rng: &mut Rng) {
        self.fit_obs(obs.into(), targets, rng);
    }

    /// [`ValueBaseline::fit`], compiled here (see [`Observations`] on why).
    fn fit_obs(&mut self, obs: Observations<'_>, targets: &[f64], rng: &mut Rng) {
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
            for rows in self.order.chunks(b) {
                let (net, g, slots) = (&self.network, &mut self.grad, &mut self.slots);
                let by = self.byte_standardizer.as_deref();
                match &mut self.engine {
                    Engine::F64(buffers) => {
                        buffers.gradient(net, (obs, by), rows, targets, g, slots)
                    }
                    Engine::F32(buffers) => {
                        buffers.gradient(net, (obs, by), rows, targets, g, slots)
                    }
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

    /// A small conv value network (two conv layers, a dense layer) over
    /// 6×5×2 images, and `n` random images with targets.
    fn conv_data(n: usize) -> (Network, Vec<f64>, Vec<f64>) {
        use crate::{Conv2d, Dense, Layer};
        let c1 = Conv2d::new(2, 6, 5, 3, 3, 1).unwrap();
        let c2 = Conv2d::new(3, c1.out_height(), c1.out_width(), 2, 2, 2).unwrap();
        let dense = |inputs, outputs| Layer::Dense(Dense { inputs, outputs });
        let layers = vec![
            Layer::Conv2d(c1),
            Layer::Conv2d(c2),
            dense(c2.outputs(), 4),
            dense(4, 1),
        ];
        let network = Network::new(layers, Activation::Tanh).unwrap();
        let mut rng = Rng::new(6);
        let obs: Vec<f64> = (0..network.inputs() * n).map(|_| rng.uniform()).collect();
        let targets = (0..n).map(|_| rng.normal()).collect();
        (network, obs, targets)
    }

    #[test]
    fn fits_and_predictions_are_the_same_bits_on_any_number_of_threads() {
        // Minibatches of 150: two full blocks and a partial one, and a last
        // minibatch shorter than the rest.
        let n = 3 * 150 + 37;
        let (conv, conv_obs, conv_targets) = conv_data(n);
        let (mlp_obs, mlp_targets) = regression_data(n);
        let mlp = Network::mlp(2, &[16, 16], 1, Activation::Tanh).unwrap();
        let cases = [
            (
                "conv f32",
                conv.clone(),
                Precision::F32,
                &conv_obs,
                &conv_targets,
            ),
            ("conv f64", conv, Precision::F64, &conv_obs, &conv_targets),
            (
                "mlp f64",
                mlp.clone(),
                Precision::F64,
                &mlp_obs,
                &mlp_targets,
            ),
            ("mlp f32", mlp, Precision::F32, &mlp_obs, &mlp_targets),
        ];
        for (name, network, precision, obs, targets) in cases {
            let run = |threads: usize| {
                let config = BaselineConfig {
                    epochs: 2,
                    minibatch: 150,
                    ..BaselineConfig::default()
                };
                let mut baseline = ValueBaseline::with_network(
                    network.clone(),
                    precision,
                    config,
                    &mut Rng::new(3),
                )
                .unwrap()
                .with_threads(threads);
                baseline.fit(obs.as_slice(), targets, &mut Rng::new(4));
                let mut values = vec![0.0; n];
                baseline.predict(obs.as_slice(), n, &mut values);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                (bits(baseline.params()), bits(&values))
            };
            let one = run(1);
            assert_ne!(
                one.0,
                initial_bits(&network, precision),
                "{name}: the fit moved the parameters"
            );
            for threads in [2, 3] {
                assert_eq!(run(threads), one, "{name}: {threads} threads");
            }
        }
    }

    /// The parameters `run` starts from (same seed), as bits.
    fn initial_bits(network: &Network, precision: Precision) -> Vec<u64> {
        let baseline = ValueBaseline::with_network(
            network.clone(),
            precision,
            BaselineConfig::default(),
            &mut Rng::new(3),
        )
        .unwrap();
        baseline.params().iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn a_minibatch_gradient_is_one_vjp_over_the_minibatch() {
        // The block sum is the sum one `Network::vjp` call makes over the
        // whole minibatch, on any number of threads.
        let (network, obs, targets) = conv_data(200);
        let rows: Vec<usize> = (0..200).rev().step_by(2).chain([7, 1, 0]).collect();
        let m = rows.len();
        let mut params = Vec::new();
        Observations::Reals(&network.init(&mut Rng::new(2), 1.0)).write_to(&mut params);
        let d = network.inputs();
        let mut x = Vec::<f32>::new();
        for &i in &rows {
            let mut row = Vec::<f32>::new();
            Observations::Reals(&obs[i * d..(i + 1) * d]).write_to(&mut row);
            x.extend(row);
        }
        let mut ws = Workspace::new();
        let values = network.forward(&params, &x, m, &mut ws).to_vec();
        let d_out: Vec<f32> = values
            .iter()
            .zip(&rows)
            .map(|(v, &i)| (2.0 * (f64::from(*v) - targets[i]) / m as f64) as f32)
            .collect();
        let mut expected = vec![0.0; network.param_len()];
        network.vjp(&params, &x, &mut ws, &d_out, &mut expected);
        for threads in [1, 2] {
            let mut buffers = Buffers::<f32>::new(threads);
            buffers.params = params.clone();
            let mut grad = vec![f64::NAN; network.param_len()];
            let obs = Observations::Reals(&obs);
            buffers.gradient(
                &network,
                (obs, None),
                &rows,
                &targets,
                &mut grad,
                &mut Vec::new(),
            );
            assert_eq!(grad, expected, "{threads} threads");
        }
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
