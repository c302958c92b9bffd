//! Envs registered from outside this crate: the envs of provider libraries
//! that the harness loaded.
//!
//! They join the same lookup as the envs of this crate ([`resolve_spec`]),
//! so every tool that takes an env name (run, sweep, render, env-stats)
//! takes theirs. Their ids keep their case (`CartPole-v1`); a *family*
//! (an id ending in `:`, like `gym:`) stands for every id that starts with
//! it, which the provider checks when a copy is made. Specs are `'static`
//! (their strings leaked once per id) because a provider library stays
//! loaded for the life of the process, as the envs of this crate do.
//!
//! [`resolve_spec`]: crate::resolve_spec

use crate::registry::split_version;
use crate::{EnvOption, EnvSpec, registry};
use std::sync::{Mutex, MutexGuard};

/// The external specs: concrete ids, then families.
struct Externals {
    specs: Vec<&'static EnvSpec>,
    families: Vec<&'static EnvSpec>,
    /// Options of open-option envs, one per key (see [`open_option`]).
    open_options: Vec<&'static EnvOption>,
}

static EXTERNALS: Mutex<Externals> = Mutex::new(Externals {
    specs: Vec::new(),
    families: Vec::new(),
    open_options: Vec::new(),
});

/// Loads the provider of a family the first time one of its ids is asked
/// for (the harness's Gymnasium provider for `gym:`): `Err` says why it
/// cannot be loaded (a missing package, say).
pub type FamilyLoader = fn() -> Result<(), String>;

/// The on-demand loaders, by family prefix.
static LOADERS: Mutex<Vec<(&'static str, FamilyLoader)>> = Mutex::new(Vec::new());

/// Load the family `prefix` (ending in `:`) with `loader` when an id that
/// starts with it is looked up and no registered env matches it, so
/// `--env gym:CartPole-v1` needs no `--plugin`.
pub fn load_on_demand(prefix: &'static str, loader: FamilyLoader) {
    let mut loaders = LOADERS.lock().unwrap_or_else(|e| e.into_inner());
    if !loaders.iter().any(|(p, _)| *p == prefix) {
        loaders.push((prefix, loader));
    }
}

/// Run the on-demand loader whose prefix `name` starts with, if any:
/// `Ok(true)` when one ran (and registered its envs). Called without the
/// externals' lock held: the loader registers.
pub(crate) fn load_family_of(name: &str) -> Result<bool, String> {
    let loader = LOADERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map(|(_, loader)| *loader);
    match loader {
        Some(load) => load().map(|()| true),
        None => Ok(false),
    }
}

fn externals() -> MutexGuard<'static, Externals> {
    // The lists stay consistent whatever a panicking holder did: every
    // change is one push.
    EXTERNALS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether `id` names a family of envs (`gym:`) rather than one env.
pub fn is_family(id: &str) -> bool {
    id.ends_with(':')
}

/// Add `spec` (a family when its id ends in `:`) to the envs every lookup
/// finds. An id that a native env or another external spec already has
/// (native ones compared without case, as they are looked up) is refused,
/// naming both.
pub fn register(spec: EnvSpec) -> Result<&'static EnvSpec, String> {
    let mut ext = externals();
    let lower = spec.id.to_ascii_lowercase();
    if let Some(native) = registry()
        .iter()
        .find(|s| s.id == lower || s.short_name() == lower)
    {
        return Err(format!(
            "env '{}' has the name of the built-in env '{}'; give it another id",
            spec.id, native.id
        ));
    }
    if ext
        .specs
        .iter()
        .chain(&ext.families)
        .any(|s| s.id == spec.id)
    {
        return Err(format!("env '{}' is offered twice", spec.id));
    }
    let spec: &'static EnvSpec = Box::leak(Box::new(spec));
    if is_family(spec.id) {
        ext.families.push(spec);
    } else {
        ext.specs.push(spec);
    }
    Ok(spec)
}

/// Every registered external spec (families as their prefix), in
/// registration order.
pub fn specs() -> Vec<&'static EnvSpec> {
    let ext = externals();
    ext.specs.iter().chain(&ext.families).copied().collect()
}

/// The external spec for `name`: an exact id, a member of a family (made
/// on first use, then found as an exact id), or a short name (its latest
/// version). `None` when no external env matches.
pub(crate) fn find(name: &str) -> Option<&'static EnvSpec> {
    let mut ext = externals();
    if let Some(spec) = ext.specs.iter().find(|s| s.id == name) {
        return Some(spec);
    }
    if let Some(family) = ext
        .families
        .iter()
        .find(|f| name.len() > f.id.len() && name.starts_with(f.id))
    {
        let member = EnvSpec {
            id: Box::leak(name.to_string().into_boxed_str()),
            ..**family
        };
        let member: &'static EnvSpec = Box::leak(Box::new(member));
        ext.specs.push(member);
        return Some(member);
    }
    ext.specs
        .iter()
        .filter(|s| split_version(s.id).0 == name && split_version(s.id).1.is_some())
        .max_by_key(|s| split_version(s.id).1)
        .copied()
}

/// The declaration of an undeclared key given to an open-option env: no
/// default, any value (the provider checks it).
pub(crate) fn open_option(key: &str) -> &'static EnvOption {
    let mut ext = externals();
    if let Some(o) = ext.open_options.iter().find(|o| o.key == key) {
        return o;
    }
    let option: &'static EnvOption = Box::leak(Box::new(EnvOption {
        key: Box::leak(key.to_string().into_boxed_str()),
        default: "",
        valid: "any value (passed to the env as given)",
        help: "an argument of the env, not declared by its provider",
    }));
    ext.open_options.push(option);
    option
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Env, EnvConfig, EnvOptions, ExternalEnv, resolve_spec};

    /// A maker of CartPole copies, standing in for a provider library.
    struct CartPoles;

    impl ExternalEnv for CartPoles {
        fn make(&self, _: &EnvSpec, _: &EnvOptions) -> Result<Box<dyn Env>, String> {
            Ok(crate::resolve("cartpole")?.make())
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    fn spec(id: &'static str, open: bool) -> EnvSpec {
        EnvSpec::external((id, "a test"), (500, 1000), (&[], open), &CartPoles)
    }

    #[test]
    fn external_ids_keep_their_case_and_families_take_their_members() {
        register(spec("TestMass-v0", false)).unwrap();
        register(spec("TestMass-v1", false)).unwrap();
        register(spec("testfam:", true)).unwrap();
        assert_eq!(resolve_spec("TestMass-v0").unwrap().id, "TestMass-v0");
        assert_eq!(
            resolve_spec("TestMass").unwrap().id,
            "TestMass-v1",
            "latest version"
        );
        assert!(
            resolve_spec("testmass-v0").is_err(),
            "external ids are case-sensitive"
        );
        let member = resolve_spec("testfam:CartPole-v1").unwrap();
        assert_eq!(member.id, "testfam:CartPole-v1");
        assert!(std::ptr::eq(
            member,
            resolve_spec("testfam:CartPole-v1").unwrap()
        ));
        // A family takes undeclared options, passed on as given; others refuse them.
        let given = vec![("render_mode".to_string(), "rgb".to_string())];
        let config = EnvConfig::new(member, &given).unwrap();
        assert_eq!(config.options().get("render_mode"), "rgb");
        let closed = resolve_spec("TestMass-v0").unwrap();
        let e = EnvConfig::new(closed, &given).unwrap_err();
        assert!(e.contains("'render_mode'"), "{e}");
        // Built-in names and repeats are refused.
        assert!(
            register(spec("CartPole-v0", false))
                .unwrap_err()
                .contains("cartpole-v0")
        );
        assert!(
            register(spec("TestMass-v0", false))
                .unwrap_err()
                .contains("twice")
        );
        let e = resolve_spec("nope:Thing-v0").unwrap_err();
        assert!(
            e.contains("'nope:Thing-v0'") && e.contains("TestMass-v0"),
            "{e}"
        );
    }
}
