//! End-to-end tests of the harness: the real binary, real shared libraries
//! compiled from C by the system compiler, real Parquet files.

mod abi_layout;
mod bundle;
mod byte_observations;
mod c_plugin;
mod check_plugin;
mod common;
mod cpu;
mod determinism;
mod errors;
mod fuzz;
mod gym;
mod integrity;
mod isolation;
mod learning;
mod markdown_links;
mod providers;
mod python;
mod readme;
mod render;
mod report;
mod reproduce;
mod slurm;
mod snapshots;
mod sweep;
mod vine;
