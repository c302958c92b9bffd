//! An algorithm and the library that offers it: what the catalog finds,
//! and what an instance is created from.

use super::{AlgorithmInfo, PluginLibrary};
use std::sync::Arc;

/// An algorithm and the library that offers it.
#[derive(Clone)]
pub struct AlgorithmRef {
    /// The library (kept alive as long as the reference).
    pub library: Arc<PluginLibrary>,
    /// Its validated descriptor.
    pub info: AlgorithmInfo,
}

impl AlgorithmRef {
    /// How errors name the plugin: `plugin 'c-random' (./librandom.so)`.
    pub fn culprit(&self) -> String {
        format!("plugin '{}' ({})", self.info.id, self.library.source)
    }
}
