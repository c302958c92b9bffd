//! Shared policy math for trustbench's policy-optimisation algorithms
//! (TRPO, NPG, VPG, PPO): the numbers TRPO (Schulman et al. 2015) needs,
//! written once, tested against finite differences and against an exact
//! dense solve.
//!
//! Why one crate: TRPO is only as trustworthy as its gradient, its
//! Fisher-vector product and its conjugate-gradient solve. Every algorithm
//! plugin uses the same pieces, so a bug fixed here is fixed everywhere and
//! the exact check ([`exact`]) covers them all.
//!
//! Map of the pieces:
//! - [`network`] (layers in [`layer`] and [`conv`], products in the
//!   fixed-order kernel): MLPs and conv nets over one flat parameter vector
//!   in `f32` or `f64`, batched forward, reverse mode
//!   ([`Network::vjp`]) and forward mode ([`Network::jvp`]) into
//!   caller-owned [`Workspace`]s.
//! - [`distributions`]: diagonal Gaussian (state-independent log-std) and
//!   categorical heads: sample, log-prob, entropy, closed-form KL, mode and
//!   their Fisher matrix in their own parameters.
//! - [`policy`]: a network plus a head; the per-state distribution parameters
//!   and their derivatives wrt the flat parameters.
//! - [`surrogate`]: the importance-sampled surrogate and mean KL of a batch.
//! - [`fisher`]: the analytic Fisher-vector product `F v = (1/N) Σ Jᵢᵀ Mᵢ Jᵢ v`.
//! - [`cg`]: conjugate gradient for `F x = g`.
//! - [`natural_step`]: the natural direction scaled into a step, to the KL
//!   boundary (TRPO) or by a fixed size (NPG).
//! - [`trust_region`]: TRPO's backtracking line search on the exact KL.
//! - [`advantages`], [`baseline`], [`normalizer`], [`adam`]: GAE, the value
//!   baseline, running observation normalisation, and Adam.
//! - [`exact`]: dense `F` built two ways, a Cholesky solve, and CG's error per
//!   iteration against it.
//!
//! Precision, split by what each number decides:
//! - **`f32` or `f64` ([`Precision`], per policy)**: the network's passes —
//!   forward, VJP, JVP, hence Fisher-vector products — and the value fit's.
//!   Their errors are noise next to a sampled gradient's (`f32` agrees with
//!   `f64` to ~1e-6 relative, tested), and pixel networks are memory- and
//!   SIMD-bound, where `f32` is twice as fast.
//! - **always `f64`**: the parameters `θ` and every vector CG touches, the
//!   per-state distribution parameters and the head (softmax, log-std), and
//!   every sum whose value decides something: the gradient's total over
//!   states (each block of [`GRAD_BLOCK`] states is summed in the network's
//!   type, then added in `f64`), the surrogate, mean KL and entropy, CG's
//!   scalars (`α`, `β`, residuals) and the line search's acceptance test.
//! - Finite-difference and exact-dense tests run the network in `f64`; `f32`
//!   is tested against `f64`.
//!
//! Same bits everywhere: the matrix products are our own (module `kernel`)
//! and sum every output in one fixed order, with no FMA, so a state's result
//! does not depend on the CPU's instruction set (AVX-512, AVX2 or SSE only),
//! the batch it is evaluated in, or how that batch is split. Transcendentals
//! are `libm` or our own `tanh`. Randomness is seeded through
//! [`trustbench_plugin::rng::Rng`], so the same seed gives the same bits.

#![warn(missing_docs)]

pub mod adam;
pub mod advantages;
pub mod baseline;
pub mod cg;
pub mod conv;
pub mod distributions;
pub mod exact;
pub mod fisher;
pub mod layer;
pub mod natural_step;
pub mod network;
pub mod normalizer;
pub mod observations;
pub mod policy;
pub mod surrogate;
pub mod trust_region;
pub mod vector;

mod affine;
mod blocks;
mod kernel;
mod real;
mod shape;
mod tanh;

pub use adam::Adam;
pub use advantages::{gae, normalize_advantages};
pub use baseline::{BaselineConfig, ValueBaseline, explained_variance, mean_squared_error};
pub use cg::{CgIterate, CgReport, CgScratch, CgStatus, conjugate_gradient};
pub use conv::Conv2d;
pub use distributions::ActionDistribution;
pub use exact::{ExactError, ExactReport, ExactRow, SquareMatrix, exact_check};
pub use fisher::{FisherVectorProduct, subsample};
pub use layer::{Dense, Layer};
pub use natural_step::{NaturalStep, StepError};
pub use network::{Activation, GRAD_BLOCK, Network, Workspace};
pub use normalizer::{NormalizerStateError, RunningNormalizer, Standardizer};
pub use observations::{BYTE_SCALE, ObservationBuffer, Observations};
pub use policy::{Policy, PolicyWorkspace, Precision};
pub use real::Real;
pub use shape::ShapeError;
pub use surrogate::{Surrogate, SurrogateValue};
pub use trust_region::{LineSearch, LineSearchAttempt, LineSearchReport};
/// The seeded generator every sampling and initialisation function here
/// takes (re-exported so callers need not depend on the SDK for it).
pub use trustbench_plugin::rng::Rng;

#[cfg(test)]
mod testutil;
