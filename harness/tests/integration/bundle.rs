//! The built-in algorithms seen from outside: the `trustbench-bundle`
//! cdylib, loaded through `dlopen` with `--plugin`, offers every one of them
//! and gives the very runs the statically linked copies give.

use crate::common::*;
use harness::plugin::PluginLibrary;
use std::path::PathBuf;

/// The bundle's shared library, built by cargo beside the test binaries
/// (the harness's dependency on it makes cargo build it, in `deps/`).
/// `deps/` first: a copy in the profile directory is only there if someone
/// built the bundle by hand, and may be stale.
fn bundle_library() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_harness"));
    let profile_dir = bin.parent().unwrap();
    let name = format!(
        "{}trustbench_bundle{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    [
        profile_dir.join("deps").join(&name),
        profile_dir.join(&name),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| panic!("{name} not built under {}", profile_dir.display()))
}

/// `harness run` of `algo` on cartpole, from the bundle or built-in.
fn run(algo: &str, plugin: Option<&str>, out: &std::path::Path) -> PathBuf {
    let mut args = vec!["run", "--algo", algo, "--env", "cartpole"];
    args.extend(["--steps", "4000", "--seed", "2", "--quiet"]);
    args.extend(["--out", out.to_str().unwrap()]);
    if let Some(lib) = plugin {
        args.extend(["--plugin", lib]);
    }
    let o = harness(&args);
    assert!(o.status.success(), "{algo} {plugin:?}: {}", stderr(&o));
    only_run_dir(out)
}

/// A table's results: without the wall clock, and without the run id
/// (which hashes the plugin's source, so it differs by design).
fn results(table: &std::path::Path) -> arrow_array::RecordBatch {
    let batch = without_wall_clock(read_table(table));
    let keep: Vec<usize> = (0..batch.num_columns())
        .filter(|&i| batch.schema().field(i).name() != "run_id")
        .collect();
    batch.project(&keep).unwrap()
}

#[test]
fn bundle_offers_every_builtin_and_runs_them_identically() {
    let lib = bundle_library();
    let lib = lib.to_str().unwrap();
    let listed = harness(&["list", "--plugin", lib]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = String::from_utf8_lossy(&listed.stdout);
    let ids = |entries: &[trustbench_plugin::abi::tb_entry_fn]| -> Vec<String> {
        entries
            .iter()
            .flat_map(|&e| PluginLibrary::builtin(e).unwrap().algorithms)
            .map(|a| a.id)
            .collect()
    };
    let builtin = ids(trustbench_bundle::BUILTIN);
    assert_eq!(builtin, ids(&[trustbench_bundle::bundle_entry]));
    assert!(!builtin.is_empty());
    for id in &builtin {
        let id = id.as_str();
        let from = |source: &str| {
            text.lines()
                .any(|l| l.split_whitespace().next() == Some(id) && l.contains(source))
        };
        assert!(
            from(lib) && from("built-in"),
            "{id} is not offered both by the bundle and built in:\n{text}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    for algo in ["trpo", "cma"] {
        let loaded = run(algo, Some(lib), &dir.path().join(format!("{algo}-loaded")));
        let linked = run(algo, None, &dir.path().join(format!("{algo}-linked")));
        let runs = read_table(&loaded.join("runs.parquet"));
        assert_eq!(string_at(&runs, "plugin_path", 0).as_deref(), Some(lib));
        for table in ["metrics.parquet", "episodes.parquet"] {
            assert_eq!(
                results(&loaded.join(table)),
                results(&linked.join(table)),
                "{algo}: {table} differs between the loaded and the linked copy"
            );
        }
    }
}
