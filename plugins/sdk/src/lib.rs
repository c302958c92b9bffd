//! The trustbench plugin ABI and a safe SDK for writing plugins in Rust.
//!
//! The key design decision: a Rust plugin is a plain [`Algorithm`] impl, and
//! every `extern "C"` function that the ABI needs is generated generically by
//! this crate, each body wrapped in `catch_unwind`. A panic that leaves a
//! `cdylib` aborts the host (even with `C-unwind`), so here it becomes a
//! `TB_ERROR` status whose text `last_error` reports.
//!
//! ```ignore
//! #[derive(Default, serde::Serialize, serde::Deserialize)]
//! struct MyConfig { /* every key, with its default in `Default` */ }
//! struct MyAlgo { /* ... */ }
//! impl trustbench_plugin::Algorithm for MyAlgo { type Config = MyConfig; /* info, create */ }
//! impl trustbench_plugin::Learner for MyAlgo { /* train_iteration, actor */ }
//! impl trustbench_plugin::Actor for MyAlgo { /* act, save, load */ }
//!
//! // A static descriptor + factory, reachable through `my_entry()`:
//! trustbench_plugin::plugin_library!(pub fn my_entry, "my-lib", "0.1.0", [MyAlgo]);
//! // In a cdylib, also export it under the ABI's versioned symbol:
//! trustbench_plugin::export_entry!(my_entry);
//! ```
//!
//! The raw mirror of the C header is [`abi`]; the host side (loading and
//! calling plugins) lives in the harness.
#![warn(missing_docs)]

/// Rows of a layout table (see [`abi::layout_table`]): the struct's size,
/// then each field's offset, as the C compiler is asked for them.
macro_rules! layout_rows {
    ($out:ident, $ty:ident: $($field:ident),*) => {
        $out.push((stringify!($ty), "sizeof", std::mem::size_of::<$ty>()));
        $($out.push((stringify!($ty), stringify!($field), std::mem::offset_of!($ty, $field)));)*
    };
}

pub mod abi;
mod config;
pub mod env_abi;
mod ffi;
mod host;
mod library;
pub mod metrics;
pub mod parallel;
pub mod rng;
mod space;

pub use config::{check_range, parse_config};
pub use ffi::{copy_to_c_buffer, new_instance};
pub use host::{Host, StepBuffers, StepOutcome};
pub use library::{AlgorithmEntry, CreateFn, Library};
use serde::Serialize;
use serde::de::DeserializeOwned;
pub use space::{Space, Spaces};

/// An error a plugin reports; its text reaches the user through `last_error`.
#[derive(Debug, Clone, PartialEq)]
pub struct Error(pub String);

impl Error {
    /// An error with the given text, which should name the bad value and
    /// the valid ones.
    pub fn new(msg: impl Into<String>) -> Self {
        Error(msg.into())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Result type of plugin operations.
pub type Result<T> = std::result::Result<T, Error>;

/// Which kinds of space an algorithm accepts (bit mask of `TB_SPACE_*`).
pub mod kinds {
    use crate::abi;
    /// Box spaces only.
    pub const BOX: u32 = abi::TB_SPACE_BOX;
    /// Discrete spaces only.
    pub const DISCRETE: u32 = abi::TB_SPACE_DISCRETE;
    /// Box or discrete (the algorithm handles both kinds of space).
    pub const ANY: u32 = abi::TB_SPACE_BOX | abi::TB_SPACE_DISCRETE;
}

/// Static facts about an algorithm: what `harness list` shows and the
/// descriptor exposes.
#[derive(Debug, Clone)]
pub struct AlgorithmInfo {
    /// Short stable id used on the command line (`trpo`).
    pub id: &'static str,
    /// For people (`"Trust Region Policy Optimization"`), shown by `list`.
    pub name: &'static str,
    /// The algorithm's own version (bump when results would change).
    pub version: &'static str,
    /// One sentence for `harness list`: the idea and its source (paper).
    pub description: &'static str,
    /// Accepted observation kinds ([`kinds`]).
    pub observation_kinds: u32,
    /// Accepted action kinds ([`kinds`]).
    pub action_kinds: u32,
}

/// A learning algorithm, written as safe Rust. The SDK turns it into a plugin.
///
/// The static half (its config type, facts and constructor) lives here; what
/// an instance does once created is its [`Learner`] half, which is all the
/// generated `extern "C"` instance functions need. The split lets a library
/// whose algorithms are only known at run time (the Python host) build
/// instances through the same functions: it implements [`Learner`] and
/// describes its algorithms with [`AlgorithmEntry::dynamic`].
pub trait Algorithm: Learner + Sized {
    /// The hyperparameters. `Config::default()` serialised (a JSON object) is
    /// the descriptor's default config, so the defaults are written once;
    /// the config given to `create` is parsed into it by [`parse_config`]
    /// (missing keys take defaults, unknown keys are refused by name).
    type Config: Serialize + DeserializeOwned + Default;

    /// Static facts about the algorithm.
    fn info() -> AlgorithmInfo;

    /// Build an instance from its parsed config, the spaces, and the host
    /// (for the seed and env count). Range checks are the algorithm's.
    fn create(config: Self::Config, spaces: &Spaces, host: &Host) -> Result<Self>;
}

/// A created instance: it learns, acts and persists.
///
/// Threading: all methods of one instance are called from one thread at a
/// time (the ABI's `[instance-thread]` rule); different instances may run on
/// different threads, hence `Send`.
pub trait Learner: Send + 'static {
    /// One iteration of learning, sampling through `host`.
    fn train_iteration(&mut self, host: &mut Host) -> Result<()>;

    /// What the instance acts with and saves: often one part of it, shared
    /// with other algorithms (e.g. an actor-critic), so `act`, `save` and
    /// `load` are written once per kind of policy rather than per algorithm.
    fn actor(&mut self) -> &mut dyn Actor;

    /// The natural-gradient capability (extension
    /// `trustbench.natural-gradient/1`), if this algorithm has one. The SDK
    /// exposes it through the ABI; `harness check cg` uses it.
    fn natural_gradient(&mut self) -> Option<&mut dyn NaturalGradient> {
        None
    }
}

/// A policy that acts and persists: the ABI's `act`, `save` and `load`.
pub trait Actor {
    /// Actions for `obs.len() / obs_dim` observations into `actions`
    /// (already sized to `count * action dim`).
    fn act(&mut self, obs: &[f64], deterministic: bool, actions: &mut [f64]) -> Result<()>;

    /// The learned parameters as bytes.
    fn save(&self) -> Result<Vec<u8>>;

    /// Replace the learned parameters with bytes from [`Actor::save`], all
    /// or nothing (on an error the instance is unchanged).
    fn load(&mut self, bytes: &[u8]) -> Result<()>;
}

/// The pieces of a natural-gradient step, for the exact check of CG against
/// a dense solve. `n` is the number of policy parameters.
pub trait NaturalGradient {
    /// n, the length of every vector below (θ's, not the batch's).
    fn dim(&self) -> usize;

    /// Collect one batch with the current policy through `host` and fix g
    /// and F at the current parameters (without changing the policy).
    fn prepare(&mut self, host: &mut Host) -> Result<()>;

    /// The surrogate gradient g (n values).
    fn gradient(&mut self, g: &mut [f64]) -> Result<()>;

    /// `(F + λI) v`: the operator the algorithm's CG solves with.
    fn fisher_vector_product(&mut self, v: &[f64], out: &mut [f64]) -> Result<()>;

    /// Run the algorithm's own CG from `x_0 = 0` for up to
    /// `residuals.len()` iterations, writing iterate `x_k` as row `k-1` of
    /// `iterates` and its residual norm into `residuals[k-1]`; returns the
    /// number of iterations done.
    fn conjugate_gradient(&mut self, iterates: &mut [f64], residuals: &mut [f64]) -> Result<usize>;
}

/// Build the static descriptor of a plugin library offering the given
/// algorithms, reachable through a generated `extern "C" fn $name() ->
/// *const tb_plugin_entry`. The function is an ordinary (mangled) Rust
/// function, so several libraries can be linked into one binary; use
/// [`export_entry!`] in a `cdylib` to export one under the ABI's symbol.
#[macro_export]
macro_rules! plugin_library {
    ($vis:vis fn $name:ident, $lib_name:expr, $lib_version:expr, [$($algo:ty),+ $(,)?]) => {
        /// The plugin entry of this library (see the trustbench plugin ABI).
        $vis extern "C" fn $name() -> *const $crate::abi::tb_plugin_entry {
            static LIBRARY: ::std::sync::OnceLock<$crate::Library> = ::std::sync::OnceLock::new();
            unsafe extern "C" fn count() -> u32 {
                $crate::Library::guarded_count(LIBRARY.get())
            }
            unsafe extern "C" fn algorithm(index: u32) -> *const $crate::abi::tb_algorithm_descriptor {
                $crate::Library::guarded_descriptor(LIBRARY.get(), index)
            }
            unsafe extern "C" fn create(
                id: *const ::std::ffi::c_char,
                config: *const ::std::ffi::c_char,
                spaces: *const $crate::abi::tb_spaces,
                host: *const $crate::abi::tb_host,
                out: *mut *const $crate::abi::tb_instance,
                err: *mut ::std::ffi::c_char,
                err_cap: usize,
            ) -> $crate::abi::tb_status {
                // SAFETY: forwarded unchanged from the caller, who upholds the ABI contract.
                unsafe { $crate::Library::guarded_create(LIBRARY.get(), id, config, spaces, host, out, err, err_cap) }
            }
            LIBRARY
                .get_or_init(|| {
                    $crate::Library::new(
                        $lib_name,
                        $lib_version,
                        vec![$($crate::AlgorithmEntry::of::<$algo>()),+],
                        count,
                        algorithm,
                        create,
                    )
                })
                .entry()
        }
    };
}

/// Export a library built with [`plugin_library!`] under the ABI's versioned
/// symbol `trustbench_plugin_entry_v1`. Use once, in a `cdylib` crate.
#[macro_export]
macro_rules! export_entry {
    ($name:path) => {
        /// The exported trustbench plugin entry.
        #[unsafe(no_mangle)]
        pub extern "C" fn trustbench_plugin_entry_v1() -> *const $crate::abi::tb_plugin_entry {
            $name()
        }
    };
}
