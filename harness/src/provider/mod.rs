//! Env providers: libraries that offer environments through the
//! env-provider ABI (`plugins/include/trustbench_env.h`), loaded with
//! `--plugin` like algorithm libraries (one file may offer both).
//!
//! Loading a provider registers its envs with `trustbench_envs`'s lookup
//! ([`trustbench_envs::external`]), so every command that takes an env name
//! takes theirs, and their copies ([`ProviderEnv`]) go through the same
//! host paths as native envs: budget, seeds, episode records, evaluation,
//! `render`, `env-stats`.

mod env;
mod library;

pub(crate) use env::{Batch, options_json};
pub use env::{ProviderEnv, ProviderMaker};
pub use library::{EnvInfo, OptionInfo, ProviderLibrary};

use crate::plugin::{PluginLibrary, Source, symbol_name};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use trustbench_envs::{EnvConfig, EnvOption, EnvSpec};
use trustbench_plugin::{abi, env_abi};

/// The providers loaded so far, by the path they were loaded from: a
/// library's envs are registered once, however often it is named.
static LOADED: Mutex<Vec<(PathBuf, Arc<ProviderLibrary>)>> = Mutex::new(Vec::new());

/// The library at `path` as `--plugin` takes it: its env provider, when it
/// exports one, is loaded and its envs registered; its algorithms, when it
/// exports them, are returned. A file that exports neither entry is an
/// error naming both symbols.
pub fn load_plugin(path: &Path) -> Result<Option<PluginLibrary>> {
    let algorithms = PluginLibrary::open_if_exported(path)?;
    let provider = load_provider(path)?;
    if algorithms.is_none() && provider.is_none() {
        bail!(
            "plugin {}: not a trustbench plugin (it exports neither `{}` nor `{}`)",
            path.display(),
            symbol_name(abi::TB_ENTRY_SYMBOL),
            symbol_name(env_abi::TB_ENV_ENTRY_SYMBOL)
        );
    }
    Ok(algorithms)
}

/// The env provider of the library at `path` (loaded and registered on
/// first use), or `None` when it exports no provider entry.
pub fn load_provider(path: &Path) -> Result<Option<Arc<ProviderLibrary>>> {
    if crate::plugin::is_python(path) {
        // A Python script offers algorithms only (it is no shared library).
        return Ok(None);
    }
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, library)) = loaded.iter().find(|(p, _)| *p == key) {
        return Ok(Some(library.clone()));
    }
    let Some(library) = ProviderLibrary::open(path)? else {
        return Ok(None);
    };
    let library = register(library)?;
    loaded.push((key, library.clone()));
    Ok(Some(library))
}

/// The family prefix of the Gymnasium provider.
pub const GYM_PREFIX: &str = "gym:";

/// Make `gym:ID` env ids load the Gymnasium provider of the Python host
/// library on first use (no `--plugin` needed).
pub fn enable_gym() {
    trustbench_envs::external::load_on_demand(GYM_PREFIX, || {
        static GYM: OnceLock<std::result::Result<(), String>> = OnceLock::new();
        GYM.get_or_init(|| load_gym().map_err(|e| format!("{e:#}")))
            .clone()
    });
}

/// Load and register the Gymnasium provider.
fn load_gym() -> Result<()> {
    let context = "`gym:` envs run in Python through the Python host library";
    let (entry, host) = crate::plugin::gym_provider().context(context)?;
    // SAFETY: the host library's static entry; the library is never unloaded.
    let mut library =
        unsafe { ProviderLibrary::from_entry(entry, Source::File(host), None) }.context(context)?;
    library.on_demand = true;
    register(library)?;
    Ok(())
}

/// Register every env of `library` (however it was obtained: see
/// [`ProviderLibrary::from_entry`]) so that env lookups find them.
pub fn register(library: ProviderLibrary) -> Result<Arc<ProviderLibrary>> {
    let library = Arc::new(library);
    let maker: &'static ProviderMaker = Box::leak(Box::new(ProviderMaker::new(library.clone())));
    for info in &library.envs {
        trustbench_envs::external::register(spec(info, maker))
            .map_err(|e| anyhow::anyhow!("{}: {e}", library.culprit()))?;
    }
    Ok(library)
}

/// The `'static` spec of a provider env (its strings leaked once: the
/// library stays loaded for the life of the process).
fn spec(info: &EnvInfo, maker: &'static ProviderMaker) -> EnvSpec {
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let options: Vec<EnvOption> = info
        .options
        .iter()
        .map(|o| EnvOption {
            key: leak(&o.key),
            default: leak(&o.default),
            valid: leak(&o.valid),
            help: leak(&o.help),
        })
        .collect();
    EnvSpec::external(
        (leak(&info.id), leak(&info.description)),
        (info.max_episode_steps, info.default_steps),
        (Box::leak(options.into_boxed_slice()), info.open_options),
        maker,
    )
}

/// The provider an env comes from; `None` for the harness's own envs.
pub fn provider_of(env: &EnvConfig) -> Option<Arc<ProviderLibrary>> {
    provider_of_spec(env.spec())
}

/// [`provider_of`] for a spec.
pub fn provider_of_spec(spec: &EnvSpec) -> Option<Arc<ProviderLibrary>> {
    let maker = spec.external_maker()?;
    let maker = maker.as_any().downcast_ref::<ProviderMaker>()?;
    Some(maker.library.clone())
}
