//! Every built-in algorithm, exported as one dynamically loadable plugin
//! library: `cargo build --release -p trustbench-bundle` writes
//! `target/release/libtrustbench_bundle.so` (`.dylib`, `.dll`), which
//! `harness --plugin PATH` loads like any third-party plugin.
//!
//! Why it exists: the harness links the same algorithms in statically, but
//! the ABI is the contract, and this library proves it from the outside —
//! the algorithms a user gets through `dlopen` are the very ones the harness
//! runs built-in, byte for byte the same code. Plugins found through
//! `--plugin` are searched first, so `--algo trpo` then runs the loaded copy.
#![warn(missing_docs)]

trustbench_plugin::plugin_library!(
    pub fn bundle_entry,
    "trustbench-bundle",
    env!("CARGO_PKG_VERSION"),
    [
        trustbench_random::UniformRandom,
        trustbench_trpo::Trpo,
        trustbench_npg::Npg,
        trustbench_vpg::Vpg,
        trustbench_ppo::Ppo,
        trustbench_cem::Cem,
        trustbench_cma::Cma,
    ]
);
trustbench_plugin::export_entry!(bundle_entry);
