//! Feed-forward networks over one flat parameter vector, with batched
//! forward, reverse-mode (VJP) and forward-mode (JVP) derivatives.
//!
//! Why a flat vector: TRPO works in parameter space — gradients, Fisher-vector
//! products, CG iterates and line-search candidates are all vectors of the
//! same length — so the network reads its weights from a `&[f64]` slice and
//! writes gradients into one, with no per-layer bookkeeping for callers.
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

use trustbench_plugin::rng::Rng;

use crate::conv::Conv2d;
pub use crate::layer::ShapeError;
use crate::layer::{Dense, Layer, LayerScratch};
use crate::vector::grow;

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
    fn apply(self, y: &mut [f64]) {
        match self {
            Activation::Tanh => crate::tanh::tanh_in_place(y),
            Activation::Relu => y.iter_mut().for_each(|v| *v = v.max(0.0)),
        }
    }

    /// `d ← σ'(z) ⊙ d`, with `σ'` read from the output `a = σ(z)`:
    /// `tanh' = 1 − a²`, `relu' = [a > 0]`. The same rule serves reverse mode
    /// (cotangents) and forward mode (tangents), since the Jacobian is diagonal.
    fn chain(self, a: &[f64], d: &mut [f64]) {
        match self {
            Activation::Tanh => {
                for (d, a) in d.iter_mut().zip(a) {
                    *d *= 1.0 - a * a;
                }
            }
            Activation::Relu => {
                for (d, a) in d.iter_mut().zip(a) {
                    if *a <= 0.0 {
                        *d = 0.0;
                    }
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
/// the derivative passes. Buffers grow to the largest batch seen and are then
/// reused, so steady-state calls do not allocate.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    n: usize,
    activations: Vec<Vec<f64>>,
    deltas: [Vec<f64>; 2],
    tangents: [Vec<f64>; 2],
    scratch: LayerScratch,
}

impl Workspace {
    /// An empty workspace; it sizes itself on the first forward pass.
    pub fn new() -> Workspace {
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

    fn layer_params<'p>(&self, l: usize, params: &'p [f64]) -> &'p [f64] {
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

    fn check(&self, params: &[f64], input: &[f64], n: usize) {
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
    pub fn forward<'w>(
        &self,
        params: &[f64],
        input: &[f64],
        n: usize,
        ws: &'w mut Workspace,
    ) -> &'w [f64] {
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
    pub fn output<'w>(&self, ws: &'w Workspace) -> &'w [f64] {
        &ws.activations[self.layers.len() - 1][..self.outputs() * ws.n]
    }

    /// Reverse mode: `grad = Σᵢ Jᵢᵀ d_outputᵢ`, the gradient wrt the
    /// parameters of any scalar loss whose derivative wrt the outputs is
    /// `d_output` (`outputs × n`). Uses the activations cached by the last
    /// [`Network::forward`] in `ws`, which must have been at the same
    /// `params` and `input`. `grad` is overwritten.
    pub fn vjp(
        &self,
        params: &[f64],
        input: &[f64],
        ws: &mut Workspace,
        d_output: &[f64],
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
        grad.fill(0.0);
        let Workspace {
            activations,
            deltas,
            scratch,
            ..
        } = ws;
        let [a, b] = deltas;
        let (mut dy, mut dx) = (a, b);
        dy[..d_output.len()].copy_from_slice(d_output);
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let x = if l == 0 {
                input
            } else {
                &activations[l - 1][..layer.inputs() * n]
            };
            let g = &mut grad[self.offsets[l]..self.offsets[l + 1]];
            let dy_l = &dy[..layer.outputs() * n];
            let dx_l = (l > 0).then(|| &mut dx[..layer.inputs() * n]);
            layer.vjp(self.layer_params(l, params), x, n, dy_l, g, dx_l, scratch);
            if l > 0 {
                self.activation.chain(x, &mut dx[..layer.inputs() * n]);
                std::mem::swap(&mut dy, &mut dx);
            }
        }
    }

    /// Forward mode: `d_output = J direction`, the change of the outputs
    /// (`outputs × n`) along the parameter direction `direction`, using the
    /// activations cached by the last [`Network::forward`] in `ws` (same
    /// `params` and `input`).
    pub fn jvp(
        &self,
        params: &[f64],
        input: &[f64],
        ws: &mut Workspace,
        direction: &[f64],
        d_output: &mut [f64],
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
}
