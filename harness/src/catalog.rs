//! Every algorithm the harness can run: the built-in libraries plus any
//! loaded with `--plugin`. It sits above both kinds of plugin: a `--plugin`
//! file may offer algorithms ([`crate::plugin`]), envs
//! ([`crate::provider`]), or both.

use crate::plugin::{AlgorithmRef, PluginLibrary};
use anyhow::{Result, bail};
use std::path::PathBuf;
use std::sync::Arc;

/// The libraries in search order: `--plugin` files first (an explicit
/// choice wins over a built-in of the same id), then the built-ins.
pub struct Catalog {
    libraries: Vec<Arc<PluginLibrary>>,
}

impl Catalog {
    /// The built-in libraries plus the given plugin files (whose env
    /// providers, if any, are loaded and their envs registered). The built-ins
    /// (listed once, in `trustbench-bundle`) are linked statically but called
    /// through the same descriptor and vtable as a `.so`: one code path for
    /// every algorithm.
    pub fn new(plugins: &[PathBuf]) -> Result<Catalog> {
        let mut libraries = Vec::new();
        for path in plugins {
            // A file may offer envs only: they are registered, not listed here.
            if let Some(library) = crate::provider::load_plugin(path)? {
                libraries.push(Arc::new(library));
            }
        }
        for entry in trustbench_bundle::BUILTIN {
            libraries.push(Arc::new(PluginLibrary::builtin(*entry)?));
        }
        Ok(Catalog { libraries })
    }

    /// Add a library at the front of the search order (tests use this for
    /// in-process plugins).
    pub fn prepend(&mut self, library: PluginLibrary) {
        self.libraries.insert(0, Arc::new(library));
    }

    /// Every algorithm, in search order (shadowed duplicates included).
    pub fn algorithms(&self) -> impl Iterator<Item = AlgorithmRef> + '_ {
        self.libraries.iter().flat_map(|lib| {
            lib.algorithms.iter().map(|info| AlgorithmRef {
                library: lib.clone(),
                info: info.clone(),
            })
        })
    }

    /// The first algorithm with this id; the error lists the valid ids.
    pub fn find(&self, id: &str) -> Result<AlgorithmRef> {
        if let Some(found) = self.algorithms().find(|a| a.info.id == id) {
            return Ok(found);
        }
        let mut ids: Vec<String> = self.algorithms().map(|a| a.info.id).collect();
        ids.dedup();
        bail!(
            "unknown algorithm '{id}'; valid algorithms: {}",
            ids.join(", ")
        )
    }
}
