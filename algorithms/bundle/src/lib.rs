//! Every built-in algorithm, listed once, in two forms:
//!
//! - [`BUILTIN`]: each algorithm crate's own library entry, which the harness
//!   links in statically (its built-ins). Each keeps its own library name
//!   (`trustbench-trpo`, …), which run ids hash, so linking them through this
//!   list changes no run id.
//! - [`bundle_entry`]: the same algorithms as one dynamically loadable plugin
//!   library: `cargo build --release -p trustbench-bundle` writes
//!   `target/release/libtrustbench_bundle.so` (`.dylib`, `.dll`), which
//!   `harness --plugin PATH` loads like any third-party plugin.
//!
//! Why the loadable form exists: the ABI is the contract, and this library
//! proves it from the outside — the algorithms a user gets through `dlopen`
//! are the very ones the harness runs built-in, byte for byte the same code.
//! Plugins found through `--plugin` are searched first, so `--algo trpo` then
//! runs the loaded copy.
#![warn(missing_docs)]

use trustbench_plugin::abi::tb_entry_fn;

/// Generates both forms from one list of `crate::Type` pairs, so adding an
/// algorithm is one line here.
macro_rules! builtins {
    ($($krate:ident :: $algo:ident),+ $(,)?) => {
        /// The built-in libraries, one per algorithm crate, in `harness list`
        /// order.
        pub const BUILTIN: &[tb_entry_fn] = &[$($krate::plugin_entry),+];

        trustbench_plugin::plugin_library!(
            pub fn bundle_entry,
            "trustbench-bundle",
            env!("CARGO_PKG_VERSION"),
            [$($krate::$algo),+]
        );
    };
}

builtins!(
    trustbench_random::UniformRandom,
    trustbench_trpo::Trpo,
    trustbench_npg::Npg,
    trustbench_vpg::Vpg,
    trustbench_ppo::Ppo,
    trustbench_cem::Cem,
    trustbench_cma::Cma,
);

trustbench_plugin::export_entry!(bundle_entry);
