//! Environments for trustbench, behind one contract with Gymnasium semantics.
//!
//! The key design decision: an environment is a plain, single-threaded,
//! bit-deterministic state machine ([`Env`]) whose *clone is its snapshot*.
//! Everything that makes a trajectory — physics state, time-limit counter and
//! the env's own RNG — lives inside the value, so `boxed_clone` captures it
//! exactly and the vine method can branch from any state with common random
//! numbers. Batching ([`VecEnv`]), seeding and the time limit
//! ([`TimeLimit`]) are written once here, not per env.
//!
//! Environments know nothing of files, terminals or plugins.
#![warn(missing_docs)]

pub mod arcade;
pub mod classic;
mod env;
pub mod external;
pub mod locomotion;
mod registry;
pub mod render;
pub mod streams;
mod time_limit;
mod vec_env;

pub use env::{Env, Odometer, Step};
pub use registry::{
    EnvConfig, EnvOption, EnvOptions, EnvSpec, ExternalEnv, parse_assignment, registry, resolve,
    resolve_spec,
};
pub use time_limit::TimeLimit;
pub use trustbench_plugin::rng::{Rng, derive_seed};
pub use trustbench_plugin::{Space, Spaces};
pub use vec_env::VecEnv;
