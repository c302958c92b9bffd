//! Cross-crate criterion benchmarks for trustbench (see `benches/README.md`).
//! This crate has no library code; the benchmarks live in `benches/benches/`.
