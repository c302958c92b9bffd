//! `sweep.json` in a sweep's output directory: the label (variant name) and
//! env of each planned run id. The `runs` table cannot know a label — two
//! variants of one algorithm share its id — nor list runs that have not
//! started; reports read the labels, `harness sweep --status` every planned
//! run. A directory without one is labelled by algorithm id. Rerunning a
//! sweep, another sweep into the same directory, or the shards of one
//! sweep merge into it.

use super::write_bytes_atomically;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// File name of the manifest in a sweep's output directory.
pub const MANIFEST_FILE: &str = "sweep.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    /// Run id → label.
    labels: BTreeMap<String, String>,
    /// Run id → env id (absent in manifests of older sweeps).
    #[serde(default)]
    envs: BTreeMap<String, String>,
}

/// A run as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRun {
    /// Its id (its directory's name).
    pub run_id: String,
    /// Its label.
    pub label: String,
    /// Its env id.
    pub env_id: String,
}

fn read(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST_FILE);
    if !path.exists() {
        return Ok(Manifest::default());
    }
    let parse =
        || -> Result<Manifest> { Ok(serde_json::from_str(&std::fs::read_to_string(&path)?)?) };
    parse().with_context(|| format!("reading {}", path.display()))
}

/// Run id → label, from the manifest in `dir` (empty when there is none).
pub fn labels(dir: &Path) -> Result<BTreeMap<String, String>> {
    Ok(read(dir)?.labels)
}

/// Every run the manifest in `dir` lists (those with a known env).
pub fn planned_runs(dir: &Path) -> Result<Vec<ManifestRun>> {
    let m = read(dir)?;
    Ok(m.envs
        .into_iter()
        .map(|(run_id, env_id)| ManifestRun {
            label: m.labels.get(&run_id).cloned().unwrap_or_default(),
            run_id,
            env_id,
        })
        .collect())
}

/// Merge `runs` into the manifest in `dir`. Each write is atomic; as the
/// shards of a sweep may merge at the same moment (read, add, write), the
/// merge is checked by reading back and redone when another writer's
/// version replaced ours.
pub fn record_runs(dir: &Path, runs: &[ManifestRun]) -> Result<()> {
    let ours = |m: &Manifest| {
        runs.iter().all(|r| {
            m.labels.get(&r.run_id) == Some(&r.label) && m.envs.get(&r.run_id) == Some(&r.env_id)
        })
    };
    for attempt in 0..20u64 {
        let mut manifest = read(dir)?;
        if ours(&manifest) {
            return Ok(());
        }
        for r in runs {
            manifest.labels.insert(r.run_id.clone(), r.label.clone());
            manifest.envs.insert(r.run_id.clone(), r.env_id.clone());
        }
        let text = serde_json::to_string_pretty(&manifest)? + "\n";
        write_bytes_atomically(&dir.join(MANIFEST_FILE), text.as_bytes())?;
        // Let a concurrent writer finish before checking, longer each time.
        std::thread::sleep(std::time::Duration::from_millis(10 * (attempt + 1)));
    }
    bail!(
        "{} keeps changing under concurrent writers; could not record this sweep's runs in it",
        dir.join(MANIFEST_FILE).display()
    )
}
