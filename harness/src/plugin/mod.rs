//! The host side of the plugin ABI: loading libraries (built-in or from a
//! file), validating everything they hand back, and calling instances.
//!
//! Nothing a plugin returns is trusted: struct sizes, NULL pointers, UTF-8,
//! JSON, lengths and finiteness are all checked here, and every failure
//! becomes an error that names the plugin.

mod algorithm;
mod instance;
mod library;
mod python;

pub use algorithm::AlgorithmRef;
pub use instance::{Instance, NaturalGradient};
pub(crate) use instance::{RawCreate, raw_create};
pub use library::{AlgorithmInfo, PluginLibrary, Source};
pub(crate) use library::{load_library, plugin_str, symbol_name};
pub use python::{gym_provider, is_python, job_environment};
