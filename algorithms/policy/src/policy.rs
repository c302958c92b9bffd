//! A stochastic policy: a [`Network`] whose outputs, with the head
//! parameters, are the per-state parameters of an [`ActionDistribution`].
//!
//! Flat parameter layout: `[network parameters, head parameters]` — the head
//! being the Gaussian's state-independent log-stds (none for a categorical).
//!
//! Derivatives are taken wrt that whole vector, through the per-state
//! distribution parameters `dᵢ(θ)`: [`Policy::jvp`] gives `Jᵢ v` and
//! [`Policy::vjp`] gives `Σᵢ Jᵢᵀ uᵢ`, with `Jᵢ = ∂dᵢ/∂θ`. The log-std block of
//! `Jᵢ` is the identity for every state, handled exactly: its tangent is
//! copied into each row, its cotangents are summed over rows.
//!
//! Parameters, observations, distributions and gradients are `f64` at this
//! interface; the network runs in the policy's [`Precision`]. In `f32` the
//! parameters and states are rounded once per forward pass, the network's
//! outputs widened back, and the head (softmax, log-std) works in `f64`.

use trustbench_plugin::rng::Rng;

use crate::distributions::ActionDistribution;
use crate::network::{Activation, Network, ShapeError, Workspace};
use crate::normalizer::Standardizer;
use crate::observations::Observations;
use crate::real::{Real, narrow};
use crate::vector::grow;
use std::sync::Arc;

/// The element type a policy's network runs in (see [`crate::Real`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// `f32`: half the memory traffic, twice the SIMD lanes; for pixel
    /// networks, whose gradients and Fisher products need no more.
    F32,
    /// `f64` (the default): what finite-difference checks need.
    #[default]
    F64,
}

/// A network plus an action-distribution head.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    network: Network,
    distribution: ActionDistribution,
    precision: Precision,
    /// How byte observations are standardised on their way into the
    /// network (`None`: as `b · BYTE_SCALE`); reals come normalised.
    byte_standardizer: Option<Arc<Standardizer>>,
}

/// The network's buffers in one element type: its [`Workspace`], and the
/// rounded parameters and states of the last forward pass with the output
/// cotangent or tangent rows (unused in `f64`, where the caller's slices
/// are read directly).
#[derive(Clone, Debug, Default)]
struct Lowered<T: Real> {
    ws: Workspace<T>,
    params: Vec<T>,
    obs: Vec<T>,
    rows: Vec<T>,
    direction: Vec<T>,
}

/// Caller-owned buffers for a [`Policy`]: the network's workspace and the
/// per-state distribution parameters of the last forward pass. One made
/// [`PolicyWorkspace::with_threads`] also lets the batch passes that take
/// it (the surrogate's) run their blocks of states on that many threads.
#[derive(Clone, Debug, Default)]
pub struct PolicyWorkspace {
    wide: Workspace<f64>,
    /// Byte observations converted for the `f64` network.
    wide_obs: Vec<f64>,
    narrow: Lowered<f32>,
    dist: Vec<f64>,
    net_rows: Vec<f64>,
    n: usize,
    /// One workspace per thread of a parallel pass (empty: serial).
    lanes: Vec<PolicyWorkspace>,
    /// The blocks' gradients of a parallel pass's round.
    slots: Vec<f64>,
}

impl PolicyWorkspace {
    /// An empty workspace; it sizes itself on the first forward pass.
    pub fn new() -> PolicyWorkspace {
        PolicyWorkspace::default()
    }

    /// A workspace whose batch passes use up to `threads` threads (the
    /// calling one included). Results are the same bits for every count.
    pub fn with_threads(threads: usize) -> PolicyWorkspace {
        PolicyWorkspace {
            lanes: match threads {
                0 | 1 => Vec::new(),
                n => vec![PolicyWorkspace::new(); n],
            },
            ..PolicyWorkspace::default()
        }
    }

    /// Threads a batch pass may use.
    pub fn threads(&self) -> usize {
        self.lanes.len().max(1)
    }

    /// The per-thread workspaces and the gradient slots of a parallel pass.
    pub(crate) fn lanes(&mut self) -> (&mut [PolicyWorkspace], &mut Vec<f64>) {
        (&mut self.lanes, &mut self.slots)
    }

    /// Batch size of the cached forward pass.
    pub fn batch(&self) -> usize {
        self.n
    }
}

impl Policy {
    /// Pairs a network with a distribution, checking the network has as many
    /// outputs as the distribution reads.
    pub fn new(network: Network, distribution: ActionDistribution) -> Result<Policy, ShapeError> {
        if network.outputs() != distribution.net_outputs() {
            return Err(ShapeError(format!(
                "network has {} outputs but {distribution:?} reads {}",
                network.outputs(),
                distribution.net_outputs()
            )));
        }
        Ok(Policy {
            network,
            distribution,
            precision: Precision::default(),
            byte_standardizer: None,
        })
    }

    /// The same policy with its network running in `precision`.
    pub fn with_precision(self, precision: Precision) -> Policy {
        Policy { precision, ..self }
    }

    /// Standardise byte observations with `by` from now on (`None`: plain
    /// `b · BYTE_SCALE`). Shared, not copied: a batch's many passes and
    /// the Fisher's copy of the policy read the same statistics.
    pub fn set_byte_standardizer(&mut self, by: Option<Arc<Standardizer>>) {
        self.byte_standardizer = by;
    }

    /// How byte observations are standardised, if they are.
    pub fn byte_standardizer(&self) -> Option<&Arc<Standardizer>> {
        self.byte_standardizer.as_ref()
    }

    /// The element type the network runs in.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// A Gaussian MLP policy (the paper's locomotion policy).
    pub fn gaussian_mlp(
        obs_len: usize,
        hidden: &[usize],
        action_dim: usize,
        activation: Activation,
    ) -> Result<Policy, ShapeError> {
        let network = Network::mlp(obs_len, hidden, action_dim, activation)?;
        Policy::new(
            network,
            ActionDistribution::DiagGaussian { dim: action_dim },
        )
    }

    /// A categorical MLP policy over `actions` discrete actions.
    pub fn categorical_mlp(
        obs_len: usize,
        hidden: &[usize],
        actions: usize,
        activation: Activation,
    ) -> Result<Policy, ShapeError> {
        let network = Network::mlp(obs_len, hidden, actions, activation)?;
        Policy::new(network, ActionDistribution::Categorical { actions })
    }

    /// The network alone: its parameters are the leading part of θ, which
    /// is what the derivative-free plugins search over.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The distribution family (Gaussian or categorical head), which fixes
    /// how many distribution parameters each action takes.
    pub fn distribution(&self) -> ActionDistribution {
        self.distribution
    }

    /// Length of the flat parameter vector (network + head).
    pub fn param_len(&self) -> usize {
        self.network.param_len() + self.distribution.head_len()
    }

    /// Observation values per state.
    pub fn obs_len(&self) -> usize {
        self.network.inputs()
    }

    /// The head parameters (log-stds) within `params`.
    pub fn head<'p>(&self, params: &'p [f64]) -> &'p [f64] {
        &params[self.network.param_len()..]
    }

    /// Seeded initial parameters: the network by [`Network::init`] with the
    /// output layer scaled by 0.01 (initial actions nearly state-independent),
    /// log-stds 0 (σ = 1).
    pub fn init(&self, rng: &mut Rng) -> Vec<f64> {
        let mut params = self.network.init(rng, 0.01);
        params.resize(self.param_len(), 0.0);
        params
    }

    /// Batched forward pass: the distribution parameters of `n` states
    /// (`dist_len × n`, state-contiguous), cached in `ws` for the derivative
    /// passes and the per-state helpers below.
    pub fn forward<'w, 'o>(
        &self,
        params: &[f64],
        obs: impl Into<Observations<'o>>,
        n: usize,
        ws: &'w mut PolicyWorkspace,
    ) -> &'w [f64] {
        self.forward_obs(params, obs.into(), n, ws)
    }

    /// [`Policy::forward`], compiled here (see [`Observations`] on why).
    fn forward_obs<'w>(
        &self,
        params: &[f64],
        obs: Observations<'_>,
        n: usize,
        ws: &'w mut PolicyWorkspace,
    ) -> &'w [f64] {
        assert_eq!(params.len(), self.param_len(), "policy parameter length");
        let (net_params, head) = params.split_at(self.network.param_len());
        let (k, d) = (
            self.distribution.net_outputs(),
            self.distribution.dist_len(),
        );
        grow(&mut ws.dist, d * n);
        grow(&mut ws.net_rows, k * n);
        let outputs = match self.precision {
            Precision::F64 => {
                if let Observations::Bytes(_) = obs {
                    obs.write_standardized_to(&mut ws.wide_obs, self.byte_standardizer.as_deref());
                }
                let x = wide_input(obs, &ws.wide_obs);
                self.network.forward(net_params, x, n, &mut ws.wide)
            }
            Precision::F32 => {
                let low = &mut ws.narrow;
                lower(net_params, &mut low.params);
                obs.write_standardized_to(&mut low.obs, self.byte_standardizer.as_deref());
                let out = self.network.forward(&low.params, &low.obs, n, &mut low.ws);
                let rows = &mut ws.net_rows[..k * n];
                rows.iter_mut().zip(out).for_each(|(r, o)| *r = o.to_f64());
                &ws.net_rows[..k * n]
            }
        };
        for (out, dist) in outputs.chunks_exact(k).zip(ws.dist.chunks_exact_mut(d)) {
            self.distribution.dist_params(out, head, dist);
        }
        ws.n = n;
        &ws.dist[..d * n]
    }

    /// The distribution parameters cached by the last forward pass.
    pub fn dist<'w>(&self, ws: &'w PolicyWorkspace) -> &'w [f64] {
        &ws.dist[..self.distribution.dist_len() * ws.n]
    }

    /// Reverse mode: `grad = Σᵢ Jᵢᵀ d_distᵢ` (overwritten), the gradient of
    /// any scalar loss with `∂loss/∂dᵢ = d_distᵢ`. Reuses the forward pass
    /// cached in `ws`, which must have been at the same `params` and `obs`
    /// (in `f32` the rounded copies cached there are what is read).
    pub fn vjp<'o>(
        &self,
        params: &[f64],
        obs: impl Into<Observations<'o>>,
        ws: &mut PolicyWorkspace,
        d_dist: &[f64],
        grad: &mut [f64],
    ) {
        assert_eq!(grad.len(), self.param_len(), "gradient length");
        grad.fill(0.0);
        self.vjp_add_obs(params, obs.into(), ws, d_dist, grad);
    }

    /// [`Policy::vjp`] added to `grad`. Calls over consecutive chunks of a
    /// batch that start at multiples of [`crate::GRAD_BLOCK`] states sum to
    /// the same bits as one call over the batch (see [`Network::vjp_add`]).
    pub fn vjp_add<'o>(
        &self,
        params: &[f64],
        obs: impl Into<Observations<'o>>,
        ws: &mut PolicyWorkspace,
        d_dist: &[f64],
        grad: &mut [f64],
    ) {
        self.vjp_add_obs(params, obs.into(), ws, d_dist, grad);
    }

    /// [`Policy::vjp_add`], compiled here (see [`Observations`] on why).
    fn vjp_add_obs(
        &self,
        params: &[f64],
        obs: Observations<'_>,
        ws: &mut PolicyWorkspace,
        d_dist: &[f64],
        grad: &mut [f64],
    ) {
        let (k, d, n) = (
            self.distribution.net_outputs(),
            self.distribution.dist_len(),
            ws.n,
        );
        assert_eq!(d_dist.len(), d * n, "distribution cotangent length");
        assert_eq!(grad.len(), self.param_len(), "gradient length");
        let split = self.network.param_len();
        let (net_grad, head_grad) = grad.split_at_mut(split);
        let rows = &mut ws.net_rows[..k * n];
        for (dd, row) in d_dist.chunks_exact(d).zip(rows.chunks_exact_mut(k)) {
            self.distribution.split_cotangent(dd, row, head_grad);
        }
        match self.precision {
            Precision::F64 => {
                let x = wide_input(obs, &ws.wide_obs);
                self.network
                    .vjp_add(&params[..split], x, &mut ws.wide, rows, net_grad)
            }
            Precision::F32 => {
                let low = &mut ws.narrow;
                lower(rows, &mut low.rows);
                self.network
                    .vjp_add(&low.params, &low.obs, &mut low.ws, &low.rows, net_grad);
            }
        }
    }

    /// Forward mode: `d_dist = J direction`, the change of every state's
    /// distribution parameters along `direction`. Reuses the forward pass
    /// cached in `ws`.
    pub fn jvp<'o>(
        &self,
        params: &[f64],
        obs: impl Into<Observations<'o>>,
        ws: &mut PolicyWorkspace,
        direction: &[f64],
        d_dist: &mut [f64],
    ) {
        self.jvp_obs(params, obs.into(), ws, direction, d_dist);
    }

    /// [`Policy::jvp`], compiled here (see [`Observations`] on why).
    fn jvp_obs(
        &self,
        params: &[f64],
        obs: Observations<'_>,
        ws: &mut PolicyWorkspace,
        direction: &[f64],
        d_dist: &mut [f64],
    ) {
        let (k, d, n) = (
            self.distribution.net_outputs(),
            self.distribution.dist_len(),
            ws.n,
        );
        assert_eq!(d_dist.len(), d * n, "distribution tangent length");
        let split = self.network.param_len();
        let (net_dir, head_dir) = direction.split_at(split);
        let rows = &mut ws.net_rows[..k * n];
        match self.precision {
            Precision::F64 => {
                let x = wide_input(obs, &ws.wide_obs);
                self.network
                    .jvp(&params[..split], x, &mut ws.wide, net_dir, rows)
            }
            Precision::F32 => {
                let low = &mut ws.narrow;
                lower(net_dir, &mut low.direction);
                grow(&mut low.rows, k * n);
                let out = &mut low.rows[..k * n];
                self.network
                    .jvp(&low.params, &low.obs, &mut low.ws, &low.direction, out);
                rows.iter_mut().zip(out).for_each(|(r, o)| *r = o.to_f64());
            }
        }
        // The map (outputs, head) ↦ dist is linear, so it maps tangents too.
        for (row, dd) in rows.chunks_exact(k).zip(d_dist.chunks_exact_mut(d)) {
            self.distribution.dist_params(row, head_dir, dd);
        }
    }

    /// Samples one action per cached state into `actions` (`action_len × n`).
    pub fn sample(&self, ws: &PolicyWorkspace, rng: &mut Rng, actions: &mut [f64]) {
        let a = self.distribution.action_len();
        assert_eq!(actions.len(), a * ws.n, "actions length");
        let rows = self.dist(ws).chunks_exact(self.distribution.dist_len());
        for (dist, action) in rows.zip(actions.chunks_exact_mut(a)) {
            self.distribution.sample(dist, rng, action);
        }
    }

    /// The deterministic action (mean or argmax) of every cached state.
    pub fn mode(&self, ws: &PolicyWorkspace, actions: &mut [f64]) {
        let a = self.distribution.action_len();
        assert_eq!(actions.len(), a * ws.n, "actions length");
        let rows = self.dist(ws).chunks_exact(self.distribution.dist_len());
        for (dist, action) in rows.zip(actions.chunks_exact_mut(a)) {
            self.distribution.mode(dist, action);
        }
    }

    /// `log π(aᵢ | sᵢ)` of every cached state into `out` (length `n`).
    pub fn log_prob(&self, ws: &PolicyWorkspace, actions: &[f64], out: &mut [f64]) {
        let a = self.distribution.action_len();
        assert_eq!(actions.len(), a * ws.n, "actions length");
        assert_eq!(out.len(), ws.n, "log-prob output length");
        let rows = self.dist(ws).chunks_exact(self.distribution.dist_len());
        for ((dist, action), out) in rows.zip(actions.chunks_exact(a)).zip(out) {
            *out = self.distribution.log_prob(dist, action);
        }
    }
}

/// `dst = src` rounded to `T`, resized to `src`'s length.
/// The `f64` network's input: real observations as they are; for bytes,
/// their conversion that the forward pass left in `cache` (the derivative
/// passes are called with the same states).
fn wide_input<'a>(obs: Observations<'a>, cache: &'a [f64]) -> &'a [f64] {
    match obs {
        Observations::Reals(x) => x,
        Observations::Bytes(_) => cache,
    }
}

fn lower<T: Real>(src: &[f64], dst: &mut Vec<T>) {
    dst.resize(src.len(), T::ZERO);
    narrow(src, dst);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{
        batch, fd_directional, fd_gradient, normal_vec, relative_error, small_policies,
    };
    use crate::vector::dot;

    const H: f64 = 1e-6;

    /// `Σᵢ wᵢ log π(aᵢ|sᵢ)`: a generic scalar loss of the distribution.
    fn weighted_log_prob(
        policy: &Policy,
        params: &[f64],
        obs: &[f64],
        actions: &[f64],
        w: &[f64],
    ) -> f64 {
        let mut ws = PolicyWorkspace::new();
        policy.forward(params, obs, w.len(), &mut ws);
        let mut lp = vec![0.0; w.len()];
        policy.log_prob(&ws, actions, &mut lp);
        dot(&lp, w)
    }

    #[test]
    fn vjp_matches_finite_differences() {
        for (name, policy) in small_policies() {
            let b = batch(&policy, 5, 11);
            let w = normal_vec(&mut Rng::new(3), b.n, 1.0);
            let mut ws = PolicyWorkspace::new();
            let dist = policy.forward(&b.params, &b.obs, b.n, &mut ws).to_vec();
            let (d, a) = (
                policy.distribution().dist_len(),
                policy.distribution().action_len(),
            );
            let mut d_dist = vec![0.0; d * b.n];
            for i in 0..b.n {
                let g = &mut d_dist[i * d..(i + 1) * d];
                policy.distribution().log_prob_grad(
                    &dist[i * d..(i + 1) * d],
                    &b.actions[i * a..(i + 1) * a],
                    g,
                );
                g.iter_mut().for_each(|g| *g *= w[i]);
            }
            let mut grad = vec![0.0; policy.param_len()];
            policy.vjp(&b.params, &b.obs, &mut ws, &d_dist, &mut grad);
            let fd = fd_gradient(
                |p| weighted_log_prob(&policy, p, &b.obs, &b.actions, &w),
                &b.params,
                H,
            );
            let err = relative_error(&grad, &fd);
            assert!(
                err < 1e-6,
                "{name}: VJP vs finite differences, relative error {err:e}"
            );
        }
    }

    #[test]
    fn jvp_matches_finite_differences() {
        for (name, policy) in small_policies() {
            let b = batch(&policy, 4, 12);
            let v = normal_vec(&mut Rng::new(5), policy.param_len(), 1.0);
            let mut ws = PolicyWorkspace::new();
            policy.forward(&b.params, &b.obs, b.n, &mut ws);
            let mut jv = vec![0.0; policy.distribution().dist_len() * b.n];
            policy.jvp(&b.params, &b.obs, &mut ws, &v, &mut jv);
            let fd = fd_directional(
                |p| {
                    policy
                        .forward(p, &b.obs, b.n, &mut PolicyWorkspace::new())
                        .to_vec()
                },
                &b.params,
                &v,
                H,
            );
            let err = relative_error(&jv, &fd);
            assert!(
                err < 1e-6,
                "{name}: JVP vs finite differences, relative error {err:e}"
            );
        }
    }

    #[test]
    fn vjp_is_the_adjoint_of_jvp() {
        for (name, policy) in small_policies() {
            let b = batch(&policy, 6, 13);
            let mut rng = Rng::new(8);
            let v = normal_vec(&mut rng, policy.param_len(), 1.0);
            let u = normal_vec(&mut rng, policy.distribution().dist_len() * b.n, 1.0);
            let mut ws = PolicyWorkspace::new();
            policy.forward(&b.params, &b.obs, b.n, &mut ws);
            let mut jv = vec![0.0; u.len()];
            policy.jvp(&b.params, &b.obs, &mut ws, &v, &mut jv);
            let mut jtu = vec![0.0; v.len()];
            policy.vjp(&b.params, &b.obs, &mut ws, &u, &mut jtu);
            let (lhs, rhs) = (dot(&u, &jv), dot(&jtu, &v));
            assert!(
                (lhs - rhs).abs() <= 1e-12 * lhs.abs().max(1.0),
                "{name}: uᵀJv {lhs} vs (Jᵀu)ᵀv {rhs}"
            );
        }
    }

    #[test]
    fn batched_forward_gives_each_state_its_own_bits() {
        for (name, policy) in small_policies() {
            for precision in [Precision::F32, Precision::F64] {
                let policy = policy.clone().with_precision(precision);
                let b = batch(&policy, 7, 14);
                let whole = policy
                    .forward(&b.params, &b.obs, b.n, &mut PolicyWorkspace::new())
                    .to_vec();
                let (o, d) = (policy.obs_len(), policy.distribution().dist_len());
                let mut ws = PolicyWorkspace::new();
                for i in 0..b.n {
                    let one = policy.forward(&b.params, &b.obs[i * o..(i + 1) * o], 1, &mut ws);
                    assert_eq!(
                        one,
                        &whole[i * d..(i + 1) * d],
                        "{name} {precision:?}: state {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn f32_network_agrees_with_f64_to_single_precision() {
        for (name, wide) in small_policies() {
            let narrow = wide.clone().with_precision(Precision::F32);
            assert_eq!(narrow.precision(), Precision::F32);
            let b = batch(&wide, 9, 15);
            let mut rng = Rng::new(16);
            let v = normal_vec(&mut rng, wide.param_len(), 1.0);
            let u = normal_vec(&mut rng, wide.distribution().dist_len() * b.n, 1.0);
            let run = |policy: &Policy| {
                let mut ws = PolicyWorkspace::new();
                let dist = policy.forward(&b.params, &b.obs, b.n, &mut ws).to_vec();
                let mut jv = vec![0.0; u.len()];
                policy.jvp(&b.params, &b.obs, &mut ws, &v, &mut jv);
                let mut jtu = vec![0.0; v.len()];
                policy.vjp(&b.params, &b.obs, &mut ws, &u, &mut jtu);
                [dist, jv, jtu]
            };
            for (what, (a, b)) in ["forward", "JVP", "VJP"]
                .iter()
                .zip(run(&narrow).iter().zip(&run(&wide)))
            {
                let err = relative_error(a, b);
                assert!(err < 1e-5, "{name}: {what} in f32 off by {err:e}");
                assert!(err > 0.0, "{name}: {what} did not run in f32");
            }
        }
    }

    #[test]
    fn same_seed_gives_identical_parameters_and_samples() {
        for (name, policy) in small_policies() {
            let (a, b) = (batch(&policy, 9, 21), batch(&policy, 9, 21));
            assert_eq!(a.params, b.params, "{name}: parameters");
            assert_eq!(a.actions, b.actions, "{name}: sampled actions");
            let c = batch(&policy, 9, 22);
            assert_ne!(a.params, c.params, "{name}: another seed should differ");
        }
    }

    #[test]
    fn init_scales_output_layer_and_zeroes_log_std() {
        let policy = Policy::gaussian_mlp(4, &[8], 2, Activation::Tanh).unwrap();
        let params = policy.init(&mut Rng::new(1));
        assert_eq!(params.len(), 4 * 8 + 8 + 8 * 2 + 2 + 2);
        assert_eq!(policy.head(&params), &[0.0, 0.0]);
        let limit = |fan_in: f64, fan_out: f64| (6.0 / (fan_in + fan_out)).sqrt();
        assert!(params[..32].iter().all(|w| w.abs() <= limit(4.0, 8.0)));
        assert!(
            params[40..56]
                .iter()
                .all(|w| w.abs() <= 0.01 * limit(8.0, 2.0))
        );
        assert!(params[40..56].iter().any(|w| *w != 0.0));
        assert!(
            params[32..40]
                .iter()
                .chain(&params[56..58])
                .all(|b| *b == 0.0),
            "biases start at 0"
        );
    }

    #[test]
    fn mismatched_head_is_rejected() {
        let net = Network::mlp(3, &[4], 2, Activation::Tanh).unwrap();
        let err = Policy::new(net, ActionDistribution::Categorical { actions: 3 }).unwrap_err();
        assert!(err.0.contains("2 outputs"), "{err}");
    }
}
