//! A loaded env-provider library and the validated descriptors of its envs.

use crate::plugin::{Source, plugin_str};
use anyhow::{Context, Result, anyhow, bail};
use std::path::Path;
use trustbench_plugin::env_abi::{
    self, TB_ENV_FAMILY, TB_ENV_OPEN_OPTIONS, tb_env_descriptor, tb_env_entry_fn, tb_env_provider,
};

/// One option an env declares, copied out of its descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionInfo {
    /// The key.
    pub key: String,
    /// Its default value.
    pub default: String,
    /// The valid values, as shown in errors.
    pub valid: String,
    /// One line on what it does.
    pub help: String,
}

/// An env's descriptor, copied out of the library and validated.
#[derive(Debug, Clone)]
pub struct EnvInfo {
    /// The id (a family prefix ending in `:` when `family`).
    pub id: String,
    /// One line for `harness list`.
    pub description: String,
    /// Declared options.
    pub options: Vec<OptionInfo>,
    /// Undeclared keys are passed on as given.
    pub open_options: bool,
    /// Truncation length with the default options (0: none).
    pub max_episode_steps: u64,
    /// Default training budget.
    pub default_steps: u64,
}

/// An env-provider library whose entry has been checked.
pub struct ProviderLibrary {
    /// Where it came from.
    pub source: Source,
    /// The library's name.
    pub name: String,
    /// The library's version.
    pub version: String,
    /// `(major, minor)` of the env ABI it was built against.
    pub abi: (u32, u32),
    /// Its envs.
    pub envs: Vec<EnvInfo>,
    /// Loaded by the harness itself when one of its ids was asked for (the
    /// Gymnasium provider), not named with `--plugin`.
    pub on_demand: bool,
    entry: *const tb_env_provider,
    // Declared last so it is dropped last: every pointer above lives in it.
    _library: Option<libloading::Library>,
}

// SAFETY: `entry` points to immutable static data of the library, which
// stays loaded as long as `self`, and the ABI makes the entry's functions
// [any-thread].
unsafe impl Send for ProviderLibrary {}
// SAFETY: as for `Send`.
unsafe impl Sync for ProviderLibrary {}

impl ProviderLibrary {
    /// The provider in the library at `path`, `None` when the library does
    /// not export the env-provider entry (it may offer algorithms only).
    pub fn open(path: &Path) -> Result<Option<ProviderLibrary>> {
        let library = crate::plugin::load_library(path)?;
        // SAFETY: the symbol's type is fixed by the ABI; a wrong export is
        // caught by the checks in `from_entry`.
        let entry = match unsafe { library.get::<tb_env_entry_fn>(env_abi::TB_ENV_ENTRY_SYMBOL) } {
            Ok(symbol) => *symbol,
            Err(_) => return Ok(None),
        };
        // SAFETY: as above; [any-thread].
        let ptr = unsafe { entry() };
        // SAFETY: the library's static entry, living in `library`, which the result keeps.
        unsafe { Self::from_entry(ptr, Source::File(path.to_path_buf()), Some(library)) }
            .with_context(|| format!("env provider {}", path.display()))
            .map(Some)
    }

    /// A provider reached through an entry pointer obtained elsewhere (a
    /// host library that offers it, the Python host's Gymnasium provider
    /// say); `library`, when given, is kept loaded as long as the result.
    ///
    /// # Safety
    /// `ptr` must be NULL or point to a provider entry that starts with
    /// `{struct_size, abi_major, abi_minor}` and is valid for the size it
    /// declares, and it and everything it points to must live as long as
    /// the result (inside `library`, or for the rest of the process).
    pub unsafe fn from_entry(
        ptr: *const tb_env_provider,
        source: Source,
        library: Option<libloading::Library>,
    ) -> Result<ProviderLibrary> {
        if ptr.is_null() {
            bail!("the env-provider entry function returned NULL");
        }
        // SAFETY: every version of the ABI starts with {struct_size,
        // abi_major, abi_minor}: read them before anything else.
        let (size, major, minor) =
            unsafe { ((*ptr).struct_size, (*ptr).abi_major, (*ptr).abi_minor) };
        if major != env_abi::TB_ENV_ABI_MAJOR {
            bail!(
                "built for env-provider ABI {major}.{minor}, but this harness speaks {}.x; rebuild it against plugins/include/trustbench_env.h",
                env_abi::TB_ENV_ABI_MAJOR
            );
        }
        if (size as usize) < std::mem::size_of::<tb_env_provider>() {
            bail!(
                "its entry struct is {size} bytes, smaller than ABI 1.0's {}",
                std::mem::size_of::<tb_env_provider>()
            );
        }
        // SAFETY: size checked: every 1.0 field is present.
        let entry = unsafe { &*ptr };
        let (Some(count), Some(descriptor), Some(_)) = (entry.env_count, entry.env, entry.create)
        else {
            bail!("its entry has a NULL function pointer");
        };
        // SAFETY: NUL-terminated static strings of the library, or NULL (refused).
        let (name, version) = unsafe {
            (
                plugin_str(entry.library_name, "library name")?,
                plugin_str(entry.library_version, "library version")?,
            )
        };
        // SAFETY: [any-thread] entry functions.
        let n = unsafe { count() };
        let envs = (0..n)
            .map(|i| {
                // SAFETY: NULL or a descriptor of at least its struct_size,
                // alive as long as the library.
                unsafe { read_descriptor(descriptor(i)) }.with_context(|| format!("env #{i}"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ProviderLibrary {
            source,
            name,
            version,
            abi: (major, minor),
            envs,
            on_demand: false,
            entry: ptr,
            _library: library,
        })
    }

    /// The validated entry.
    pub(crate) fn entry(&self) -> &tb_env_provider {
        // SAFETY: validated in from_entry; lives as long as `_library`.
        unsafe { &*self.entry }
    }

    /// How errors name it: `env provider 'name' (path)`.
    pub fn culprit(&self) -> String {
        format!("env provider '{}' ({})", self.name, self.source)
    }
}

/// Whether `id` is a valid env id: ASCII letters, digits and `-_.:/`
/// (Gymnasium's `ALE/Pong-v5` included), a family's ending in `:`.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c))
}

/// # Safety
/// `d` must be NULL or point to a descriptor of at least its `struct_size`.
unsafe fn read_descriptor(d: *const tb_env_descriptor) -> Result<EnvInfo> {
    if d.is_null() {
        bail!("descriptor is NULL");
    }
    // SAFETY: non-null; the size is read before any other field.
    let size = unsafe { (*d).struct_size } as usize;
    if size < std::mem::size_of::<tb_env_descriptor>() {
        bail!("descriptor is {size} bytes, smaller than ABI 1.0's");
    }
    // SAFETY: at least the 1.0 struct (checked).
    let d = unsafe { &*d };
    // SAFETY (the strings): NUL-terminated and owned by the library, or NULL (refused).
    let (id, description, options_text) = unsafe {
        (
            plugin_str(d.id, "id")?,
            plugin_str(d.description, "description")?,
            plugin_str(d.options_json, "options")?,
        )
    };
    let family = d.flags & TB_ENV_FAMILY != 0;
    if !valid_id(&id) || family != id.ends_with(':') {
        bail!(
            "id '{id}' must be ASCII letters, digits and '-_.:/', ending in ':' exactly when it is a family (TB_ENV_FAMILY)"
        );
    }
    if d.flags & !(TB_ENV_FAMILY | TB_ENV_OPEN_OPTIONS) != 0 {
        bail!("env '{id}' has unknown flags {:#x}", d.flags);
    }
    let options = parse_options(&options_text).with_context(|| format!("env '{id}'"))?;
    Ok(EnvInfo {
        id,
        description,
        options,
        open_options: d.flags & TB_ENV_OPEN_OPTIONS != 0,
        max_episode_steps: d.max_episode_steps,
        default_steps: d.default_steps,
    })
}

/// The options array of a descriptor: `[{"key", "default", "valid", "help"}]`.
fn parse_options(text: &str) -> Result<Vec<OptionInfo>> {
    let shape = "a JSON array of {\"key\", \"default\", \"valid\", \"help\"} with string values";
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| anyhow!("options are not JSON ({e}): {text}"))?;
    let items = value
        .as_array()
        .ok_or_else(|| anyhow!("options must be {shape}: {text}"))?;
    let mut options: Vec<OptionInfo> = Vec::new();
    for item in items {
        let field = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| anyhow!("options must be {shape}; '{name}' is missing in {item}"))
        };
        let option = OptionInfo {
            key: field("key")?,
            default: field("default")?,
            valid: field("valid")?,
            help: field("help")?,
        };
        if option.key.is_empty() || options.iter().any(|o| o.key == option.key) {
            bail!("option key '{}' is empty or declared twice", option.key);
        }
        options.push(option);
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_must_be_an_array_of_string_fields_with_distinct_keys() {
        let ok = r#"[{"key":"mass","default":"1","valid":"> 0","help":"kg"}]"#;
        assert_eq!(parse_options(ok).unwrap()[0].key, "mass");
        assert!(parse_options("[]").unwrap().is_empty());
        for bad in [
            "{}",
            "nope",
            r#"[{"key":"mass","default":1,"valid":"","help":""}]"#,
            r#"[{"key":"a","default":"","valid":"","help":""},{"key":"a","default":"","valid":"","help":""}]"#,
        ] {
            assert!(parse_options(bad).is_err(), "{bad}");
        }
        assert!(valid_id("ALE/Pong-v5") && valid_id("gym:") && !valid_id("a b"));
    }
}
