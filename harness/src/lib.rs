//! The trustbench harness: runs algorithm plugins on environments, owns
//! everything they are measured by, and writes the results to Parquet.
//!
//! The key design decision: every algorithm — built-in or a `.so` written in
//! any language — is called through the same C ABI ([`plugin`]), and the
//! plugin touches the environments only through the host vtable ([`host`]),
//! which counts every step against the budget and checks every action. So
//! all algorithms are measured the same way, and the ABI is exercised by
//! every test. Only this crate knows about files, Parquet and the terminal.
#![warn(missing_docs)]

pub mod catalog;
pub mod check;
pub mod child;
pub mod cli;
pub mod config;
pub mod cpu;
pub mod env_stats;
pub mod episode;
pub mod host;
pub mod plugin;
pub mod progress;
pub mod provider;
pub mod render;
pub mod report;
pub mod reproduce;
pub mod results;
pub mod run;
pub mod session;
pub mod signals;
pub mod stats;
pub use trustbench_envs::streams;
pub mod sweep;
pub mod text;
