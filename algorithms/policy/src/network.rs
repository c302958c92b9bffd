//! Feed-forward networks over one flat parameter vector, with batched
//! forward, reverse-mode (VJP) and forward-mode (JVP) derivatives.
//!
//! Why a flat vector: TRPO works in parameter space — gradients, Fisher-vector
//! products, CG iterates and line-search candidates are all vectors of the
//! same length — so the network reads its weights from one slice and
//! writes gradients into one, with no per-layer bookkeeping for callers.
//! The passes are generic over the element type ([`Real`]: `f32` or `f64`);
//! gradients are always summed into `f64` (see [`Network::vjp`]).
//! Layout: layer 0's weights and biases, then layer 1's, …
//! (see [`crate::layer`]).
//!
//! Batches are column-major `features × n`: sample `i` is the contiguous
//! slice `[i·d, (i+1)·d)`, as an environment writes observations.
//!
//! Every hidden layer is followed by the activation; the last layer is
//! linear. Derivatives reuse the activations cached in a [`Workspace`] by the
//! last [`Network::forward`], so a VJP or JVP costs no extra forward pass —
//! which is what makes a Fisher-vector product at `θ_old` cheap.
//!
//! Same bits for any batch: every product sums in a fixed order
//! ([`crate::kernel`]) and activations are element-wise, so a state's outputs
//! (and tangents) do not depend on the other states of its batch, nor on
//! how a batch is split. A gradient sums over states in fixed blocks of
//! [`GRAD_BLOCK`] (see [`Network::vjp`]), so it is the same however the batch is
//! cut into calls, provided the cuts fall on block boundaries.

use trustbench_plugin::rng::Rng;

use crate::conv::Conv2d;
use crate::layer::{Dense, Layer, LayerScratch};
use crate::real::{Real, add_widened};
pub use crate::shape::ShapeError;
use crate::vector::grow;

/// States per gradient block: a block's gradient is summed in the network's
/// element type, from zero, then added to the `f64` total — in block order.
/// This bounds the length of an `f32` sum (e.g. 64 × 432 pixels for the
/// first Atari conv layer) and fixes the reduction tree independently of how
/// callers chunk the batch or spread it over threads.
pub const GRAD_BLOCK: usize = 64;

/// Hidden-layer nonlinearity.
///
/// `tanh` is our own (module `tanh`): plain arithmetic, so its results are
/// the same bits on every platform, and faster than the `libm` port, which
/// dominated training time. (The system libm is avoided for both reasons; its
/// SSE code also ran ~6× slower right after faer's AVX kernels on the bench
/// machine.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `tanh` (the TRPO paper's choice).
    Tanh,
    /// `max(0, z)`.
    Relu,
}

impl Activation {
    fn apply<T: Real>(self, y: &mut [T]) {
        match self {
            Activation::Tanh => T::tanh_in_place(y),
            // A select, not a branch: signs are random, and a mispredicted
            // branch per value cost more than the layer's products.
            Activation::Relu => y
                .iter_mut()
                .for_each(|v| *v = if *v < T::ZERO { T::ZERO } else { *v }),
        }
    }

    /// `d ← σ'(z) ⊙ d`, with `σ'` read from the output `a = σ(z)`:
    /// `tanh' = 1 − a²`, `relu' = [a > 0]`. The same rule serves reverse mode
    /// (cotangents) and forward mode (tangents), since the Jacobian is diagonal.
    fn chain<T: Real>(self, a: &[T], d: &mut [T]) {
        match self {
            Activation::Tanh => {
                for (d, a) in d.iter_mut().zip(a) {
                    *d = *d * (T::ONE - *a * *a);
                }
            }
            Activation::Relu => {
                for (d, a) in d.iter_mut().zip(a) {
                    *d = if *a <= T::ZERO { T::ZERO } else { *d };
                }
            }
        }
    }
}

/// The architecture of a feed-forward network (no parameters: those live in
/// the caller's flat vector).
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    layers: Vec<Layer>,
    activation: Activation,
    offsets: Vec<usize>,
}

/// Caller-owned buffers for one network: the activations of the last forward
/// pass (reused by [`Network::vjp`] and [`Network::jvp`]) and the scratch of
/// the derivative passes, in the element type `T` the passes run in.
/// Buffers grow to the largest batch seen and are then reused, so
/// steady-state calls do not allocate.
#[derive(Clone, Debug)]
pub struct Workspace<T = f64> {
    n: usize,
    activations: Vec<Vec<T>>,
    deltas: [Vec<T>; 2],
    tangents: [Vec<T>; 2],
    scratch: LayerScratch<T>,
    block_grad: Vec<T>,
}

impl<T: Real> Default for Workspace<T> {
    fn default() -> Workspace<T> {
        Workspace {
            n: 0,
            activations: Vec::new(),
            deltas: Default::default(),
            tangents: Default::default(),
            scratch: LayerScratch::default(),
            block_grad: Vec::new(),
        }
    }
}

impl<T: Real> Workspace<T> {
    /// An empty workspace; it sizes itself on the first forward pass.
    pub fn new() -> Workspace<T> {
        Workspace::default()
    }

    /// Batch size of the cached forward pass.
    pub fn batch(&self) -> usize {
        self.n
    }

    fn reserve(&mut self, net: &Network, n: usize) {
        self.activations.resize(net.layers.len(), Vec::new());
        for (buffer, layer) in self.activations.iter_mut().zip(&net.layers) {
            grow(buffer, layer.outputs() * n);
        }
        let widest = net
            .layers
            .iter()
            .map(|l| l.inputs().max(l.outputs()))
            .max()
            .unwrap_or(0);
        for buffer in self.deltas.iter_mut().chain(&mut self.tangents) {
            grow(buffer, widest * n);
        }
        self.n = n;
    }
}

/// Side of the conv kernels of [`Network::atari`]; the paper gives channels
/// and stride but not the kernel.
pub const ATARI_KERNEL: usize = 4;

impl Network {
    /// A network from its layers, checking that each layer's input size is
    /// the previous layer's output size and that no size is zero.
    pub fn new(layers: Vec<Layer>, activation: Activation) -> Result<Network, ShapeError> {
        if layers.is_empty() {
            return Err(ShapeError("a network needs at least one layer".into()));
        }
        for (i, layer) in layers.iter().enumerate() {
            if layer.inputs() == 0 || layer.outputs() == 0 {
                return Err(ShapeError(format!("layer {i} ({layer:?}) has a zero size")));
            }
            if i > 0 && layers[i - 1].outputs() != layer.inputs() {
                return Err(ShapeError(format!(
                    "layer {i} expects {} inputs but layer {} gives {}",
                    layer.inputs(),
                    i - 1,
                    layers[i - 1].outputs()
                )));
            }
        }
        let offsets = std::iter::once(0)
            .chain(layers.iter().scan(0, |end, l| {
                *end += l.param_len();
                Some(*end)
            }))
            .collect();
        Ok(Network {
            layers,
            activation,
            offsets,
        })
    }

    /// A multilayer perceptron `inputs → hidden[0] → … → outputs`.
    pub fn mlp(
        inputs: usize,
        hidden: &[usize],
        outputs: usize,
        activation: Activation,
    ) -> Result<Network, ShapeError> {
        let sizes: Vec<usize> = std::iter::once(inputs)
            .chain(hidden.iter().copied())
            .chain(std::iter::once(outputs))
            .collect();
        let layers = sizes
            .windows(2)
            .map(|w| {
                Layer::Dense(Dense {
                    inputs: w[0],
                    outputs: w[1],
                })
            })
            .collect();
        Network::new(layers, activation)
    }

    /// The TRPO paper's Atari network: two conv layers of 16 channels,
    /// stride 2 (kernel [`ATARI_KERNEL`]), then 20 fully connected units, then
    /// `outputs`. The input is `height × width × channels` (HWC). With
    /// 4 stacked frames of 50×38 (the 210×160 screen scaled by ≈ 1/4.2, aspect
    /// kept) and 6 actions this has 33,458 parameters, the paper's ≈ 33,500.
    pub fn atari(
        channels: usize,
        height: usize,
        width: usize,
        outputs: usize,
        activation: Activation,
    ) -> Result<Network, ShapeError> {
        let conv1 = Conv2d::new(channels, height, width, 16, ATARI_KERNEL, 2)?;
        let conv2 = Conv2d::new(
            16,
            conv1.out_height(),
            conv1.out_width(),
            16,
            ATARI_KERNEL,
            2,
        )?;
        let layers = vec![
            Layer::Conv2d(conv1),
            Layer::Conv2d(conv2),
            Layer::Dense(Dense {
                inputs: conv2.outputs(),
                outputs: 20,
            }),
            Layer::Dense(Dense {
                inputs: 20,
                outputs,
            }),
        ];
        Network::new(layers, activation)
    }

    /// The layers, input first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The hidden-layer activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Input values per sample.
    pub fn inputs(&self) -> usize {
        self.layers[0].inputs()
    }

    /// Output values per sample.
    pub fn outputs(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs()
    }

    /// Length of the flat parameter vector.
    pub fn param_len(&self) -> usize {
        self.offsets[self.layers.len()]
    }

    fn layer_params<'p, T>(&self, l: usize, params: &'p [T]) -> &'p [T] {
        &params[self.offsets[l]..self.offsets[l + 1]]
    }

    /// Seeded Glorot-uniform initialisation: weights `U(−a, a)` with
    /// `a = √(6 / (fan_in + fan_out))`, which keeps activation variance
    /// roughly constant through tanh layers; biases 0. The last layer's
    /// weights are multiplied by `output_scale` — 0.01 for policies, so the
    /// initial action distribution barely depends on the state and starts
    /// near maximum entropy; 1 for value functions.
    pub fn init(&self, rng: &mut Rng, output_scale: f64) -> Vec<f64> {
        let mut params = vec![0.0; self.param_len()];
        for (l, layer) in self.layers.iter().enumerate() {
            let (fan_in, fan_out) = layer.fans();
            let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
            let scale = if l + 1 == self.layers.len() {
                output_scale
            } else {
                1.0
            };
            let weights = &mut params[self.offsets[l]..self.offsets[l] + layer.weight_len()];
            for w in weights {
                *w = scale * rng.uniform_in(-limit, limit);
            }
        }
        params
    }

    fn check<T>(&self, params: &[T], input: &[T], n: usize) {
        assert_eq!(params.len(), self.param_len(), "parameter vector length");
        assert_eq!(
            input.len(),
            self.inputs() * n,
            "input length for a batch of {n}"
        );
    }

    /// Batched forward pass of `n` samples; returns the outputs
    /// (`outputs × n`, sample-contiguous) and caches every layer's
    /// activations in `ws` for the derivative passes.
    pub fn forward<'w, T: Real>(
        &self,
        params: &[T],
        input: &[T],
        n: usize,
        ws: &'w mut Workspace<T>,
    ) -> &'w [T] {
        self.check(params, input, n);
        ws.reserve(self, n);
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let (done, rest) = ws.activations.split_at_mut(l);
            let x = if l == 0 {
                input
            } else {
                &done[l - 1][..layer.inputs() * n]
            };
            let y = &mut rest[0][..layer.outputs() * n];
            layer.forward(self.layer_params(l, params), x, n, y, &mut ws.scratch);
            if l < last {
                self.activation.apply(y);
            }
        }
        &ws.activations[last][..self.outputs() * n]
    }

    /// The outputs of the last forward pass cached in `ws`.
    pub fn output<'w, T: Real>(&self, ws: &'w Workspace<T>) -> &'w [T] {
        &ws.activations[self.layers.len() - 1][..self.outputs() * ws.n]
    }

    /// Reverse mode: `grad = Σᵢ Jᵢᵀ d_outputᵢ`, the gradient wrt the
    /// parameters of any scalar loss whose derivative wrt the outputs is
    /// `d_output` (`outputs × n`). Uses the activations cached by the last
    /// [`Network::forward`] in `ws`, which must have been at the same
    /// `params` and `input`. `grad` is overwritten.
    pub fn vjp<T: Real>(
        &self,
        params: &[T],
        input: &[T],
        ws: &mut Workspace<T>,
        d_output: &[T],
        grad: &mut [f64],
    ) {
        assert_eq!(grad.len(), self.param_len(), "gradient length");
        grad.fill(0.0);
        self.vjp_add(params, input, ws, d_output, grad);
    }

    /// [`Network::vjp`] added to `grad` instead of overwriting it: the sum
    /// runs over blocks of [`GRAD_BLOCK`] states — each block's gradient in
    /// `T` from zero, then widened and added to `grad` — so a batch cut into
    /// calls at block boundaries accumulates exactly the same bits as one call.
    pub fn vjp_add<T: Real>(
        &self,
        params: &[T],
        input: &[T],
        ws: &mut Workspace<T>,
        d_output: &[T],
        grad: &mut [f64],
    ) {
        let n = ws.n;
        self.check(params, input, n);
        assert_eq!(
            d_output.len(),
            self.outputs() * n,
            "output cotangent length"
        );
        assert_eq!(grad.len(), self.param_len(), "gradient length");
        let mut block_grad = std::mem::take(&mut ws.block_grad);
        grow(&mut block_grad, self.param_len());
        for s0 in (0..n).step_by(GRAD_BLOCK) {
            let s1 = (s0 + GRAD_BLOCK).min(n);
            let block = &mut block_grad[..self.param_len()];
            block.fill(T::ZERO);
            self.vjp_block(params, input, ws, d_output, s0..s1, block);
            add_widened(block, grad);
        }
        ws.block_grad = block_grad;
    }

    /// The gradient of the states `range` into `grad` (in `T`, accumulated).
    fn vjp_block<T: Real>(
        &self,
        params: &[T],
        input: &[T],
        ws: &mut Workspace<T>,
        d_output: &[T],
        range: std::ops::Range<usize>,
        grad: &mut [T],
    ) {
        let (s0, m) = (range.start, range.len());
        let Workspace {
            activations,
            deltas,
            scratch,
            ..
        } = ws;
        let [a, b] = deltas;
        let (mut dy, mut dx) = (a, b);
        let outputs = self.outputs();
        dy[..outputs * m].copy_from_slice(&d_output[s0 * outputs..(s0 + m) * outputs]);
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let (i, o) = (layer.inputs(), layer.outputs());
            let x = if l == 0 {
                &input[s0 * i..(s0 + m) * i]
            } else {
                &activations[l - 1][s0 * i..(s0 + m) * i]
            };
            let g = &mut grad[self.offsets[l]..self.offsets[l + 1]];
            let dy_l = &dy[..o * m];
            let dx_l = (l > 0).then(|| &mut dx[..i * m]);
            layer.vjp(self.layer_params(l, params), x, m, dy_l, g, dx_l, scratch);
            if l > 0 {
                self.activation.chain(x, &mut dx[..i * m]);
                std::mem::swap(&mut dy, &mut dx);
            }
        }
    }

    /// Forward mode: `d_output = J direction`, the change of the outputs
    /// (`outputs × n`) along the parameter direction `direction`, using the
    /// activations cached by the last [`Network::forward`] in `ws` (same
    /// `params` and `input`).
    pub fn jvp<T: Real>(
        &self,
        params: &[T],
        input: &[T],
        ws: &mut Workspace<T>,
        direction: &[T],
        d_output: &mut [T],
    ) {
        let n = ws.n;
        self.check(params, input, n);
        assert_eq!(direction.len(), self.param_len(), "direction length");
        assert_eq!(d_output.len(), self.outputs() * n, "output tangent length");
        let Workspace {
            activations,
            tangents,
            scratch,
            ..
        } = ws;
        let [a, b] = tangents;
        let (mut t_in, mut t_out) = (a, b);
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let x = if l == 0 {
                input
            } else {
                &activations[l - 1][..layer.inputs() * n]
            };
            let dx = (l > 0).then(|| &t_in[..layer.inputs() * n]);
            let (p, v) = (
                self.layer_params(l, params),
                self.layer_params(l, direction),
            );
            if l == last {
                layer.jvp(p, v, x, dx, n, d_output, scratch);
            } else {
                let dy = &mut t_out[..layer.outputs() * n];
                layer.jvp(p, v, x, dx, n, dy, scratch);
                self.activation
                    .chain(&activations[l][..layer.outputs() * n], dy);
                std::mem::swap(&mut t_in, &mut t_out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atari_network_has_the_papers_parameter_count() {
        // 4 stacked 50×38 frames, 6 actions: conv 4→16 (k4 s2) → 24×18×16,
        // conv 16→16 (k4 s2) → 11×8×16, dense 1408 → 20, dense 20 → 6.
        let net = Network::atari(4, 50, 38, 6, Activation::Relu).unwrap();
        let expected = (16 * 64 + 16) + (16 * 256 + 16) + (20 * 1408 + 20) + (6 * 20 + 6);
        assert_eq!(net.param_len(), expected);
        assert_eq!(net.param_len(), 33_458);
        assert_eq!(net.layers()[2].inputs(), 11 * 8 * 16);
        let params = net.init(&mut Rng::new(1), 0.01);
        let frames: Vec<f64> = (0..2 * net.inputs())
            .map(|k| (k % 7) as f64 / 7.0)
            .collect();
        let mut ws = Workspace::new();
        let out = net.forward(&params, &frames, 2, &mut ws);
        assert_eq!(out.len(), 12);
        assert!(out.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn mlp_layout_and_sizes() {
        let net = Network::mlp(11, &[64, 64], 3, Activation::Tanh).unwrap();
        assert_eq!(net.param_len(), 12 * 64 + 65 * 64 + 65 * 3);
        assert_eq!((net.inputs(), net.outputs()), (11, 3));
    }

    #[test]
    fn bad_shapes_are_rejected_with_a_message() {
        assert!(
            Network::mlp(0, &[4], 2, Activation::Tanh)
                .unwrap_err()
                .0
                .contains("zero size")
        );
        assert!(Network::new(vec![], Activation::Tanh).is_err());
        let mismatch = Network::new(
            vec![
                Layer::Dense(Dense {
                    inputs: 3,
                    outputs: 4,
                }),
                Layer::Dense(Dense {
                    inputs: 5,
                    outputs: 1,
                }),
            ],
            Activation::Tanh,
        );
        assert!(
            mismatch
                .unwrap_err()
                .0
                .contains("expects 5 inputs but layer 0 gives 4")
        );
        assert!(
            Conv2d::new(1, 3, 8, 2, 4, 1)
                .unwrap_err()
                .0
                .contains("larger than")
        );
        assert!(Conv2d::new(1, 8, 8, 2, 3, 0).is_err());
    }

    #[test]
    fn conv_output_size_uses_valid_padding() {
        let conv = Conv2d::new(3, 9, 10, 5, 3, 2).unwrap();
        assert_eq!((conv.out_height(), conv.out_width()), (4, 4));
        assert_eq!(
            (conv.inputs(), conv.outputs(), conv.patch_len()),
            (270, 80, 27)
        );
    }

    #[test]
    fn conv_matches_a_direct_convolution() {
        // A direct sum over the HWC layout, independent of im2col.
        let conv = Conv2d::new(2, 5, 4, 3, 2, 2).unwrap();
        let net = Network::new(vec![Layer::Conv2d(conv)], Activation::Tanh).unwrap();
        let mut rng = Rng::new(9);
        let params: Vec<f64> = (0..net.param_len()).map(|_| rng.normal()).collect();
        let x: Vec<f64> = (0..2 * conv.inputs()).map(|_| rng.normal()).collect();
        let mut ws = Workspace::new();
        let y = net.forward(&params, &x, 2, &mut ws).to_vec();
        let (k, c_in, c_out) = (2, 2, 3);
        for s in 0..2 {
            for oy in 0..conv.out_height() {
                for ox in 0..conv.out_width() {
                    for o in 0..c_out {
                        let mut sum = params[c_out * k * k * c_in + o];
                        for ky in 0..k {
                            for kx in 0..k {
                                for c in 0..c_in {
                                    let w = params[o * k * k * c_in + (ky * k + kx) * c_in + c];
                                    let pixel = ((oy * 2 + ky) * 4 + ox * 2 + kx) * c_in + c;
                                    sum += w * x[s * conv.inputs() + pixel];
                                }
                            }
                        }
                        let got = y[s * conv.outputs() + (oy * conv.out_width() + ox) * c_out + o];
                        assert!(
                            (got - sum).abs() < 1e-12,
                            "sample {s} ({oy},{ox},{o}): {got} vs {sum}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn large_conv_batches_are_split_into_chunks_consistently() {
        // Enough samples for several im2col chunks; per-sample results must
        // not depend on the chunking.
        let conv = Conv2d::new(1, 40, 40, 4, 3, 1).unwrap();
        let net = Network::new(vec![Layer::Conv2d(conv)], Activation::Tanh).unwrap();
        assert!(conv.chunk() < 30);
        let params = net.init(&mut Rng::new(2), 1.0);
        let mut rng = Rng::new(3);
        let x: Vec<f64> = (0..30 * conv.inputs()).map(|_| rng.normal()).collect();
        let all = net.forward(&params, &x, 30, &mut Workspace::new()).to_vec();
        let last = net
            .forward(&params, &x[29 * conv.inputs()..], 1, &mut Workspace::new())
            .to_vec();
        assert_eq!(&all[29 * conv.outputs()..], last.as_slice());
    }

    /// `len` standard-normal values in `T`.
    fn random<T: Real>(len: usize, seed: u64) -> Vec<T> {
        let mut rng = Rng::new(seed);
        (0..len).map(|_| T::from_f64(rng.normal())).collect()
    }

    fn bits<T: Real>(v: &[T]) -> Vec<u64> {
        v.iter().map(|x| x.to_f64().to_bits()).collect()
    }

    /// A state's outputs and tangents alone equal its outputs and tangents
    /// inside batches of every size (bit for bit), in `T`.
    fn one_state_is_the_same_in_any_batch<T: Real>() {
        let nets = [
            Network::atari(4, 50, 38, 6, Activation::Relu).unwrap(),
            Network::mlp(11, &[64, 64], 3, Activation::Tanh).unwrap(),
        ];
        for net in nets {
            let mut rng = Rng::new(8);
            let params: Vec<T> = net
                .init(&mut rng, 1.0)
                .iter()
                .map(|p| T::from_f64(*p))
                .collect();
            let direction: Vec<T> = (0..net.param_len())
                .map(|_| T::from_f64(rng.normal()))
                .collect();
            let x = random::<T>(37 * net.inputs(), 9);
            let (i, o) = (net.inputs(), net.outputs());
            let (mut ws, mut tangent) = (Workspace::new(), vec![T::ZERO; o * 37]);
            let alone = net.forward(&params, &x[..i], 1, &mut ws).to_vec();
            net.jvp(&params, &x[..i], &mut ws, &direction, &mut tangent[..o]);
            let alone_tangent = tangent[..o].to_vec();
            for n in [2, 3, 8, 17, 37] {
                let batch = net.forward(&params, &x[..n * i], n, &mut ws).to_vec();
                assert_eq!(bits(&batch[..o]), bits(&alone), "{n} states, forward");
                net.jvp(
                    &params,
                    &x[..n * i],
                    &mut ws,
                    &direction,
                    &mut tangent[..n * o],
                );
                assert_eq!(bits(&tangent[..o]), bits(&alone_tangent), "{n} states, JVP");
            }
        }
    }

    #[test]
    fn one_state_is_the_same_in_any_batch_f32() {
        one_state_is_the_same_in_any_batch::<f32>();
    }

    #[test]
    fn one_state_is_the_same_in_any_batch_f64() {
        one_state_is_the_same_in_any_batch::<f64>();
    }

    #[test]
    fn gradients_accumulated_block_by_block_equal_one_call() {
        // 150 states: two full gradient blocks and a partial one. Calls cut at
        // block boundaries add up to the same bits as one call.
        let net = Network::atari(2, 20, 16, 3, Activation::Tanh).unwrap();
        let params: Vec<f32> = net
            .init(&mut Rng::new(4), 1.0)
            .iter()
            .map(|p| *p as f32)
            .collect();
        let n = 2 * GRAD_BLOCK + 22;
        let x = random::<f32>(n * net.inputs(), 5);
        let d_out = random::<f32>(n * net.outputs(), 6);
        let mut ws = Workspace::new();
        net.forward(&params, &x, n, &mut ws);
        let mut whole = vec![0.0; net.param_len()];
        net.vjp(&params, &x, &mut ws, &d_out, &mut whole);
        let (i, o) = (net.inputs(), net.outputs());
        let mut pieces = vec![0.0; net.param_len()];
        for (s0, s1) in [(0, GRAD_BLOCK), (GRAD_BLOCK, n)] {
            let m = s1 - s0;
            net.forward(&params, &x[s0 * i..s1 * i], m, &mut ws);
            net.vjp_add(
                &params,
                &x[s0 * i..s1 * i],
                &mut ws,
                &d_out[s0 * o..s1 * o],
                &mut pieces,
            );
        }
        assert_eq!(bits(&pieces), bits(&whole));
        assert!(whole.iter().any(|g| *g != 0.0));
    }

    #[test]
    fn f32_passes_agree_with_f64_to_single_precision() {
        let net = Network::atari(2, 20, 16, 3, Activation::Tanh).unwrap();
        let params = net.init(&mut Rng::new(6), 1.0);
        let n = 70;
        let x = random::<f64>(n * net.inputs(), 7);
        let narrow = |v: &[f64]| v.iter().map(|x| *x as f32).collect::<Vec<f32>>();
        let widen = |v: &[f32]| v.iter().map(|x| f64::from(*x)).collect::<Vec<f64>>();
        let (p32, x32) = (narrow(&params), narrow(&x));
        let mut ws64 = Workspace::new();
        let mut ws32 = Workspace::new();
        let y64 = net.forward(&params, &x, n, &mut ws64).to_vec();
        let y32 = widen(net.forward(&p32, &x32, n, &mut ws32));
        let err = crate::testutil::relative_error(&y32, &y64);
        assert!(err < 1e-5, "forward: {err:e}");
        let d_out = random::<f64>(3 * n, 8);
        let (mut g64, mut g32) = (vec![0.0; net.param_len()], vec![0.0; net.param_len()]);
        net.vjp(&params, &x, &mut ws64, &d_out, &mut g64);
        net.vjp(&p32, &x32, &mut ws32, &narrow(&d_out), &mut g32);
        let err = crate::testutil::relative_error(&g32, &g64);
        assert!(err < 1e-5, "VJP: {err:e}");
        let v = random::<f64>(net.param_len(), 9);
        let (mut t64, mut t32) = (vec![0.0; 3 * n], vec![0.0f32; 3 * n]);
        net.jvp(&params, &x, &mut ws64, &v, &mut t64);
        net.jvp(&p32, &x32, &mut ws32, &narrow(&v), &mut t32);
        let err = crate::testutil::relative_error(&widen(&t32), &t64);
        assert!(err < 1e-5, "JVP: {err:e}");
    }
}
