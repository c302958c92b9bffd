//! The same bits on every x86-64 CPU: a run natively and the same run under
//! `qemu-x86_64 -cpu Nehalem` (no AVX, so the kernels take their SSE2 path)
//! write identical policies, metrics and episodes; and the `runs` table says
//! which CPU each ran on.

use crate::common::*;
use std::path::Path;
use std::process::Command;

/// A short TRPO run, so that every network pass (forward, gradient,
/// Fisher-vector product, line search) runs at least twice: on Pendulum the
/// f64 MLP, on Breakout's compact view the f32 conv net.
const RUNS: [&[&str]; 2] = [
    &["--env", "pendulum", "--steps", "8000"],
    &[
        "--env",
        "breakout",
        "--steps",
        "2000",
        "--set",
        "steps_per_iteration=1000",
    ],
];

fn recorded_cpu(run: &Path) -> (String, String) {
    let runs = read_table(&run.join("runs.parquet"));
    let text = |name| string_at(&runs, name, 0).unwrap_or_else(|| panic!("{name} is recorded"));
    (text("cpu_model"), text("cpu_features"))
}

#[test]
fn runs_table_records_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = harness(&short_trpo_args(
        "3",
        out,
        &["--env", "cartpole", "--steps", "500"],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    let (model, features) = recorded_cpu(&only_run_dir(dir.path()));
    assert!(!model.is_empty());
    assert!(features.split(' ').any(|f| f == "sse2"), "{features}");
}

/// Needs Debian's `qemu-user` (`.ci/run` installs it), hence ignored in a
/// plain `cargo test`.
#[test]
#[ignore]
fn same_bits_under_qemu_nehalem() {
    let qemu = "qemu-x86_64";
    for env_args in RUNS {
        let dir = tempfile::tempdir().unwrap();
        let (native, emulated) = (dir.path().join("native"), dir.path().join("nehalem"));
        let o = harness(&short_trpo_args("3", native.to_str().unwrap(), env_args));
        assert!(o.status.success(), "{}", stderr(&o));
        let o = Command::new(qemu)
            .args(["-cpu", "Nehalem", env!("CARGO_BIN_EXE_harness")])
            .args(short_trpo_args("3", emulated.to_str().unwrap(), env_args))
            .output()
            .unwrap_or_else(|e| panic!("{qemu} runs (apt-get install qemu-user): {e}"));
        assert!(o.status.success(), "under {qemu}: {}", stderr(&o));
        let (a, b) = (only_run_dir(&native), only_run_dir(&emulated));
        assert_eq!(a.file_name(), b.file_name());
        let (_, features) = recorded_cpu(&b);
        assert!(
            !features.split(' ').any(|f| f.starts_with("avx")),
            "the emulated Nehalem has no AVX: {features}"
        );
        assert_same_results(&a, &b, &format!("{env_args:?} under Nehalem"));
    }
}
