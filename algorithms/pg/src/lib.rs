//! Plumbing shared by trustbench's policy-search plugins.
//!
//! The key design decision: each algorithm file reads like its paper
//! because everything that is *not* the algorithm lives here, once — the
//! agent (policy, parameters, observation normalisation, save/load), batch
//! sampling through the host, GAE advantages with a value baseline, and the
//! natural-gradient update that TRPO and NPG share (they differ only in how
//! the step is sized).
//!
//! The derivative-free plugins (CEM, CMA-ES) share the agent too, plus
//! [`episodes`] (scoring parameter vectors by whole episodes through the
//! host) and [`search`] (their common config keys, ranking and metrics).
#![warn(missing_docs)]

mod actor_critic;
mod advantages;
mod agent;
mod codec;
mod config;
pub mod episodes;
pub mod natural;
mod network_config;
mod sampler;
pub mod search;
pub mod streams;

pub use actor_critic::{ActorCritic, Rollout};
pub use advantages::advantages;
pub use agent::Agent;
pub use codec::{Decoder, Encoder};
pub use config::PgConfig;
pub use network_config::{NetworkConfig, NetworkKind, parse_activation, parse_network};
pub use sampler::{Batch, Sampler};
