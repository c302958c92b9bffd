//! `sweep.json` in a sweep's output directory: the label (variant name) of
//! each run id, which the `runs` table cannot know — two variants of one
//! algorithm share its id. Reports read it; a directory without one is
//! labelled by algorithm id. Rerunning a sweep, or another sweep into the
//! same directory, merges into it.

use super::write_bytes_atomically;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// File name of the manifest in a sweep's output directory.
pub const MANIFEST_FILE: &str = "sweep.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    /// Run id → label.
    labels: BTreeMap<String, String>,
}

/// Run id → label, from the manifest in `dir` (empty when there is none).
pub fn labels(dir: &Path) -> Result<BTreeMap<String, String>> {
    let path = dir.join(MANIFEST_FILE);
    if !path.exists() {
        return Ok(BTreeMap::new());
    }
    let read =
        || -> Result<Manifest> { Ok(serde_json::from_str(&std::fs::read_to_string(&path)?)?) };
    Ok(read()
        .with_context(|| format!("reading {}", path.display()))?
        .labels)
}

/// Merge `(run id, label)` pairs into the manifest in `dir` (atomically).
pub fn record_labels(
    dir: &Path,
    labelled: impl IntoIterator<Item = (String, String)>,
) -> Result<()> {
    let mut manifest = Manifest {
        labels: labels(dir)?,
    };
    manifest.labels.extend(labelled);
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    write_bytes_atomically(&dir.join(MANIFEST_FILE), text.as_bytes())
}
