//! `harness check ...`: checks of a plugin, each a submodule. [`cg`]
//! measures a natural-gradient plugin's conjugate gradient against the exact
//! dense solve; [`plugin`] is the conformance validator (`check plugin`),
//! which runs every rule of the ABI against a library in child processes.

pub mod cg;
pub mod plugin;
