//! A loaded plugin library and the validated descriptors of its algorithms.

use anyhow::{Context, Result, anyhow, bail};
use std::ffi::{CStr, c_char};
use std::path::{Path, PathBuf};
use trustbench_plugin::abi::{self, tb_algorithm_descriptor, tb_entry_fn, tb_plugin_entry};

/// Where a library came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Linked into the harness (still called through the ABI).
    Builtin,
    /// Loaded at run time from this path.
    File(PathBuf),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Builtin => f.write_str("built-in"),
            Source::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// An algorithm's descriptor, copied out of the library and validated.
#[derive(Debug, Clone)]
pub struct AlgorithmInfo {
    /// Command-line id.
    pub id: String,
    /// Human name.
    pub name: String,
    /// The algorithm's version.
    pub version: String,
    /// One line for `harness list` and reports.
    pub description: String,
    /// Accepted observation kinds (bit mask).
    pub observation_kinds: u32,
    /// Accepted action kinds (bit mask).
    pub action_kinds: u32,
    /// Every config key with its default.
    pub default_config: serde_json::Map<String, serde_json::Value>,
}

/// A plugin library whose entry has been checked.
pub struct PluginLibrary {
    /// Where it came from.
    pub source: Source,
    /// The library's name (recorded with each run as `plugin_library`).
    pub name: String,
    /// `(major, minor)` the library was built against.
    pub abi: (u32, u32),
    /// Its algorithms.
    pub algorithms: Vec<AlgorithmInfo>,
    /// What the library runs on beyond its own code, as a JSON object
    /// (recorded with each run as `plugin_runtime`): for a Python plugin,
    /// the interpreter's version and path, the virtual environment and the
    /// script's SHA-256. `None` for native libraries.
    pub runtime: Option<String>,
    entry: *const tb_plugin_entry,
    // Declared last so it is dropped last: every pointer above lives in it.
    _library: Option<libloading::Library>,
}

// SAFETY: the only non-thread-safe-looking member is the raw `entry`
// pointer. It points to immutable static data of the library, which stays
// loaded as long as `self` (`_library`), and the ABI marks the entry,
// descriptor and factory functions [any-thread]; so sending or sharing the
// handle across threads cannot race.
unsafe impl Send for PluginLibrary {}
// SAFETY: as for `Send`: `&PluginLibrary` only reads immutable static data
// and calls [any-thread] functions.
unsafe impl Sync for PluginLibrary {}

/// A symbol's name without its NUL terminator.
pub(crate) fn symbol_name(symbol: &[u8]) -> String {
    String::from_utf8_lossy(&symbol[..symbol.len() - 1]).into_owned()
}

/// dlopen `path`, a library of either kind (or both).
pub(crate) fn load_library(path: &Path) -> Result<libloading::Library> {
    let shown = path.display();
    if !path.exists() {
        bail!("plugin {shown}: no such file");
    }
    // A bare file name would make dlopen search the system paths.
    let resolved = if path.components().count() == 1 {
        Path::new(".").join(path)
    } else {
        path.to_path_buf()
    };
    // SAFETY: loading a library runs its initialisers; the user asked for this file.
    unsafe { libloading::Library::new(&resolved) }
        .map_err(|e| anyhow!("plugin {shown}: cannot be loaded: {e}"))
}

/// Copy a C string owned by the plugin, refusing NULL and invalid UTF-8.
///
/// # Safety
/// `p` must be NULL or a NUL-terminated string.
pub(crate) unsafe fn plugin_str(p: *const c_char, what: &str) -> Result<String> {
    if p.is_null() {
        bail!("{what} is NULL");
    }
    // SAFETY: non-null and NUL-terminated per the caller.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map(str::to_owned)
        .map_err(|_| anyhow!("{what} is not valid UTF-8"))
}

impl PluginLibrary {
    /// A library linked into the harness, reached through its entry function.
    pub fn builtin(entry: tb_entry_fn) -> Result<PluginLibrary> {
        // SAFETY: built-in entries are our own SDK-generated functions.
        let ptr = unsafe { entry() };
        Self::from_entry(ptr, Source::Builtin, None)
    }

    /// Load a plugin file: a shared library (its versioned entry function)
    /// or a Python script (`.py`, through the Python host library).
    pub fn open(path: &Path) -> Result<PluginLibrary> {
        Self::open_if_exported(path)?.ok_or_else(|| {
            anyhow!(
                "plugin {}: not a trustbench plugin (it does not export `{}`)",
                path.display(),
                symbol_name(abi::TB_ENTRY_SYMBOL)
            )
        })
    }

    /// The algorithms of the library at `path`; `None` when it does not
    /// export the algorithm entry (an env provider only, say).
    pub fn open_if_exported(path: &Path) -> Result<Option<PluginLibrary>> {
        if super::python::is_python(path) {
            return super::python::open(path).map(Some);
        }
        let library = load_library(path)?;
        // SAFETY: the symbol's type is fixed by the ABI; a wrong export is caught by the checks below.
        let entry: tb_entry_fn = match unsafe { library.get::<tb_entry_fn>(abi::TB_ENTRY_SYMBOL) } {
            Ok(symbol) => *symbol,
            Err(_) => return Ok(None),
        };
        // SAFETY: as above.
        let ptr = unsafe { entry() };
        Self::from_entry(ptr, Source::File(path.to_path_buf()), Some(library))
            .with_context(|| format!("plugin {}", path.display()))
            .map(Some)
    }

    /// Validate the entry at `ptr` (the library it lives in, if any, is
    /// kept loaded as long as the result).
    pub(super) fn from_entry(
        ptr: *const tb_plugin_entry,
        source: Source,
        library: Option<libloading::Library>,
    ) -> Result<PluginLibrary> {
        if ptr.is_null() {
            bail!("the entry function returned NULL");
        }
        // Read the version prefix first: a library of another major may lay out everything after it differently.
        // SAFETY: every version of the ABI starts with {struct_size, abi_major, abi_minor}.
        let (size, major, minor) =
            unsafe { ((*ptr).struct_size, (*ptr).abi_major, (*ptr).abi_minor) };
        if major != abi::TB_ABI_MAJOR {
            bail!(
                "built for plugin ABI {major}.{minor}, but this harness speaks ABI {}.x; rebuild it against plugins/include/trustbench_plugin.h",
                abi::TB_ABI_MAJOR
            );
        }
        if (size as usize) < std::mem::size_of::<tb_plugin_entry>() {
            bail!(
                "its entry struct is {size} bytes, smaller than ABI 1.0's {}",
                std::mem::size_of::<tb_plugin_entry>()
            );
        }
        // SAFETY: size checked: all 1.0 fields are present.
        let entry = unsafe { &*ptr };
        let (Some(count), Some(descriptor), Some(_)) =
            (entry.algorithm_count, entry.algorithm, entry.create)
        else {
            bail!("its entry has a NULL function pointer");
        };
        // SAFETY: the ABI makes both NUL-terminated static strings of the
        // library (or NULL, which `plugin_str` refuses). The version is
        // checked like every string a plugin hands over, but not kept: runs
        // record each algorithm's own version.
        let name = unsafe {
            plugin_str(entry.library_version, "library version")?;
            plugin_str(entry.library_name, "library name")?
        };
        // SAFETY: [any-thread] factory functions.
        let n = unsafe { count() };
        let algorithms = (0..n)
            .map(|i| {
                // SAFETY: `descriptor(i)` for `i < count()` returns NULL or
                // a descriptor of at least its `struct_size` that lives as
                // long as the library ([any-thread] factory function).
                unsafe { read_descriptor(descriptor(i)) }.with_context(|| format!("algorithm #{i}"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(PluginLibrary {
            source,
            name,
            abi: (major, minor),
            algorithms,
            runtime: None,
            entry: ptr,
            _library: library,
        })
    }

    /// The validated entry.
    pub(crate) fn entry(&self) -> &tb_plugin_entry {
        // SAFETY: validated in from_entry; lives as long as `_library`.
        unsafe { &*self.entry }
    }
}

/// # Safety
/// `d` must be NULL or point to a descriptor of at least its `struct_size`.
unsafe fn read_descriptor(d: *const tb_algorithm_descriptor) -> Result<AlgorithmInfo> {
    if d.is_null() {
        bail!("descriptor is NULL");
    }
    // SAFETY: non-null; size checked before any other field is read.
    let size = unsafe { (*d).struct_size } as usize;
    if size < std::mem::size_of::<tb_algorithm_descriptor>() {
        bail!("descriptor is {size} bytes, smaller than ABI 1.0's");
    }
    // SAFETY: non-null, and at least as large as the 1.0 struct (checked).
    let d = unsafe { &*d };
    // SAFETY (this and the strings below): the ABI makes a descriptor's
    // strings NUL-terminated and owned by the library (or NULL, refused).
    let config_text = unsafe { plugin_str(d.default_config_json, "default config")? };
    let default_config = match serde_json::from_str(&config_text) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => bail!("default config is not a JSON object: {config_text}"),
    };
    let info = AlgorithmInfo {
        id: unsafe { plugin_str(d.id, "id")? },
        name: unsafe { plugin_str(d.name, "name")? },
        version: unsafe { plugin_str(d.version, "version")? },
        description: unsafe { plugin_str(d.description, "description")? },
        observation_kinds: d.observation_kinds,
        action_kinds: d.action_kinds,
        default_config,
    };
    if info.id.is_empty()
        || !info
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!(
            "id '{}' must be non-empty ASCII letters, digits, '-' or '_'",
            info.id
        );
    }
    Ok(info)
}
