//! Shared fixtures and finite-difference helpers for the unit tests.

use trustbench_plugin::rng::Rng;

use crate::cg::{CgScratch, conjugate_gradient};
use crate::conv::Conv2d;
use crate::distributions::ActionDistribution;
use crate::fisher::FisherVectorProduct;
use crate::layer::{Dense, Layer};
use crate::natural_step::NaturalStep;
use crate::network::{Activation, Network};
use crate::policy::{Policy, PolicyWorkspace};
use crate::surrogate::Surrogate;
use crate::vector::{distance, norm};

/// `‖a − b‖ / max(‖a‖, ‖b‖)` (0 when both are zero).
pub fn relative_error(a: &[f64], b: &[f64]) -> f64 {
    let scale = norm(a).max(norm(b));
    if scale == 0.0 {
        0.0
    } else {
        distance(a, b) / scale
    }
}

/// Central-difference gradient of `f` at `x`.
pub fn fd_gradient(mut f: impl FnMut(&[f64]) -> f64, x: &[f64], h: f64) -> Vec<f64> {
    let mut x = x.to_vec();
    (0..x.len())
        .map(|j| {
            let x0 = x[j];
            x[j] = x0 + h;
            let up = f(&x);
            x[j] = x0 - h;
            let down = f(&x);
            x[j] = x0;
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// Central-difference derivative of the vector function `f` at `x` along `v`.
pub fn fd_directional(
    mut f: impl FnMut(&[f64]) -> Vec<f64>,
    x: &[f64],
    v: &[f64],
    h: f64,
) -> Vec<f64> {
    let shifted = |s: f64| -> Vec<f64> { x.iter().zip(v).map(|(x, v)| x + s * v).collect() };
    let up = f(&shifted(h));
    let down = f(&shifted(-h));
    up.iter()
        .zip(&down)
        .map(|(u, d)| (u - d) / (2.0 * h))
        .collect()
}

/// Standard-normal vector times `scale`.
pub fn normal_vec(rng: &mut Rng, n: usize, scale: f64) -> Vec<f64> {
    (0..n).map(|_| scale * rng.normal()).collect()
}

/// Small policies covering every layer kind, activation and head.
pub fn small_policies() -> Vec<(&'static str, Policy)> {
    let conv_net = |outputs| {
        let c1 = Conv2d::new(2, 6, 5, 3, 3, 1).unwrap();
        let c2 = Conv2d::new(3, c1.out_height(), c1.out_width(), 2, 2, 2).unwrap();
        Network::new(
            vec![
                Layer::Conv2d(c1),
                Layer::Conv2d(c2),
                Layer::Dense(Dense {
                    inputs: c2.outputs(),
                    outputs: 4,
                }),
                Layer::Dense(Dense { inputs: 4, outputs }),
            ],
            Activation::Tanh,
        )
        .unwrap()
    };
    vec![
        (
            "gaussian mlp tanh",
            Policy::gaussian_mlp(3, &[5, 4], 2, Activation::Tanh).unwrap(),
        ),
        (
            "gaussian mlp relu",
            Policy::gaussian_mlp(3, &[6], 2, Activation::Relu).unwrap(),
        ),
        (
            "categorical mlp tanh",
            Policy::categorical_mlp(4, &[5, 3], 3, Activation::Tanh).unwrap(),
        ),
        (
            "gaussian conv",
            Policy::new(conv_net(2), ActionDistribution::DiagGaussian { dim: 2 }).unwrap(),
        ),
        (
            "categorical conv",
            Policy::new(conv_net(3), ActionDistribution::Categorical { actions: 3 }).unwrap(),
        ),
    ]
}

/// A batch for `policy`: parameters perturbed away from the (tiny-output)
/// init so every layer matters, observations, and actions sampled from it.
pub struct Batch {
    pub params: Vec<f64>,
    pub obs: Vec<f64>,
    pub actions: Vec<f64>,
    pub n: usize,
}

impl Batch {
    /// The surrogate over this batch with `advantages` and entropy bonus
    /// `c`, frozen at its params.
    pub fn surrogate(
        &self,
        policy: &Policy,
        advantages: Vec<f64>,
        c: f64,
        ws: &mut PolicyWorkspace,
    ) -> Surrogate {
        Surrogate::new(
            policy,
            &self.params,
            self.obs.clone(),
            self.actions.clone(),
            advantages,
            c,
            ws,
        )
    }
}

pub fn batch(policy: &Policy, n: usize, seed: u64) -> Batch {
    let mut rng = Rng::new(seed);
    let mut params = policy.init(&mut rng);
    for p in params.iter_mut() {
        *p += 0.3 * rng.normal();
    }
    let obs = normal_vec(&mut rng, policy.obs_len() * n, 1.0);
    let mut ws = PolicyWorkspace::new();
    policy.forward(&params, &obs, n, &mut ws);
    let mut actions = vec![0.0; policy.distribution().action_len() * n];
    policy.sample(&ws, &mut rng, &mut actions);
    Batch {
        params,
        obs,
        actions,
        n,
    }
}

/// A parameter vector near `params` (a plausible `θ_new`).
pub fn perturbed(params: &[f64], scale: f64, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    params.iter().map(|p| p + scale * rng.normal()).collect()
}

/// Everything TRPO computes before the line search, on one batch (for the
/// natural-step and line-search tests).
pub struct StepProblem {
    pub policy: Policy,
    pub b: Batch,
    pub advantages: Vec<f64>,
}

impl StepProblem {
    pub fn new(seed: u64) -> StepProblem {
        let policy = if seed.is_multiple_of(2) {
            Policy::gaussian_mlp(3, &[8], 2, Activation::Tanh).unwrap()
        } else {
            Policy::categorical_mlp(3, &[8], 3, Activation::Tanh).unwrap()
        };
        let b = batch(&policy, 64, 100 + seed);
        let advantages = normal_vec(&mut Rng::new(seed), b.n, 1.0);
        StepProblem {
            policy,
            b,
            advantages,
        }
    }

    pub fn surrogate(&self) -> Surrogate {
        self.b.surrogate(
            &self.policy,
            self.advantages.clone(),
            0.0,
            &mut PolicyWorkspace::new(),
        )
    }

    /// `s` for radius `max_kl`, from 10 CG iterations on the FVP damped
    /// by 1e-3; `β` from `xᵀ(F + λI)x` with damping `step_damping`.
    pub fn step(&self, max_kl: f64, step_damping: f64) -> NaturalStep {
        let p = self.policy.param_len();
        let mut g = vec![0.0; p];
        self.surrogate().gradient(
            &self.policy,
            &self.b.params,
            &mut PolicyWorkspace::new(),
            &mut g,
        );
        let mut fvp = FisherVectorProduct::new(&self.policy, 1e-3);
        fvp.prepare(&self.b.params, &self.b.obs, self.b.n, None);
        let mut x = vec![0.0; p];
        let mut scratch = CgScratch::new(p, 10);
        conjugate_gradient(
            |v, o| fvp.apply(v, o),
            &g,
            &mut x,
            10,
            1e-10,
            &mut scratch,
            |_| {},
        );
        let mut fx = vec![0.0; p];
        let mut fvp_step = FisherVectorProduct::new(&self.policy, step_damping);
        fvp_step.prepare(&self.b.params, &self.b.obs, self.b.n, None);
        fvp_step.apply(&x, &mut fx);
        NaturalStep::new(&x, &fx, &g, max_kl).unwrap()
    }
}
