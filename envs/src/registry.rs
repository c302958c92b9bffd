//! Versioned environment ids, their options, and their resolution.
//!
//! An env is chosen by id and, optionally, a few `key=value` options that
//! the env's [`EnvSpec`] declares (Gymnasium's `make(id, **kwargs)`, but
//! with every key declared up front so a typo is an error, not a silently
//! ignored argument). [`resolve`] returns an [`EnvConfig`]: the spec plus
//! its fully resolved options (defaults filled in), which is what a run
//! records so that it can be repeated exactly.

use crate::Env;
use crate::arcade;
use crate::classic::{CartPole, Pendulum};
use crate::external;
use crate::locomotion::{Ant, Legged, LocomotionConfig as Config, Swimmer};
use crate::time_limit::TimeLimit;
use std::str::FromStr;

/// One option an env accepts: its key, default and valid values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvOption {
    /// The key, as given on the command line (`view`).
    pub key: &'static str,
    /// The value used when the key is not given.
    pub default: &'static str,
    /// The valid values, as shown in errors (`compact | pixels`).
    pub valid: &'static str,
    /// One line on what it does.
    pub help: &'static str,
}

/// The resolved options of one env: every declared key with its value
/// (given, else the default), in declaration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvOptions {
    values: Vec<(&'static EnvOption, String, bool)>,
}

impl EnvOptions {
    fn entry(&self, key: &str) -> &(&'static EnvOption, String, bool) {
        self.values
            .iter()
            .find(|(o, ..)| o.key == key)
            .unwrap_or_else(|| panic!("env option '{key}' is not declared by this env"))
    }

    /// The value of `key` (given or default). Panics if the env does not
    /// declare `key`: that is a bug in the env, not a user error.
    pub fn get(&self, key: &str) -> &str {
        &self.entry(key).1
    }

    /// Whether `key` was given a value other than its default (a recorded
    /// run gives every key, most with their defaults).
    pub fn is_changed(&self, key: &str) -> bool {
        let (option, value, given) = self.entry(key);
        *given && value != option.default
    }

    /// The error for a bad value of `key`, naming the value and the valid ones.
    pub fn invalid(&self, key: &str) -> String {
        let (option, value, _) = self.entry(key);
        format!(
            "env option '{key}' = '{value}' is not valid (valid: {})",
            option.valid
        )
    }

    /// The value of `key` parsed as `T`, accepted only if `ok(&value)`.
    pub fn parse<T: FromStr>(&self, key: &str, ok: impl Fn(&T) -> bool) -> Result<T, String> {
        match self.get(key).parse::<T>() {
            Ok(v) if ok(&v) => Ok(v),
            _ => Err(self.invalid(key)),
        }
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    pub fn flag(&self, key: &str) -> Result<bool, String> {
        match self.get(key) {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(self.invalid(key)),
        }
    }

    /// Every key with its resolved value, in declaration order (what a run records).
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.values.iter().map(|(o, v, _)| (o.key, v.as_str()))
    }

    /// Whether the env declares no options.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Builds an env from its spec and resolved options (checking the values).
type Constructor = fn(&EnvSpec, &EnvOptions) -> Result<Box<dyn Env>, String>;

/// An env whose copies are built outside this crate: by an env-provider
/// library that the harness loaded (see [`EnvSpec::external`]).
pub trait ExternalEnv: Send + Sync + 'static {
    /// A fresh copy with these resolved options (not yet reset). Errors
    /// name the bad value (an unknown id of a family, a bad option).
    fn make(&self, spec: &EnvSpec, options: &EnvOptions) -> Result<Box<dyn Env>, String>;

    /// The maker as `Any`, so the code that registered it can recover its
    /// own type (the harness records which provider an env came from).
    fn as_any(&self) -> &dyn std::any::Any;
}

/// How a spec's copies are built.
#[derive(Clone, Copy)]
pub(crate) enum Make {
    Native(Constructor),
    External(&'static dyn ExternalEnv),
}

impl std::fmt::Debug for Make {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Make::Native(_) => "native",
            Make::External(_) => "external",
        })
    }
}

/// A registered environment: a versioned id, its options and a constructor.
#[derive(Debug, Clone, Copy)]
pub struct EnvSpec {
    /// Versioned id, `name-vN` (e.g. `cartpole-v0`). A new version is added
    /// whenever results would change; old versions keep their behaviour.
    pub id: &'static str,
    /// One line for `harness list`.
    pub summary: &'static str,
    /// Episode length (agent steps) at which the episode is truncated, with
    /// the default options.
    pub max_episode_steps: u64,
    /// Training env steps a run gets unless told otherwise: enough for TRPO
    /// with its defaults to show clear learning (the way RL Zoo keeps
    /// `n_timesteps` per env), so a first run shows what the method does.
    pub default_steps: u64,
    /// The options the env accepts (empty for most envs).
    pub options: &'static [EnvOption],
    /// Whether keys beyond `options` are accepted and passed on as given
    /// (an external family whose envs take arbitrary arguments).
    pub open_options: bool,
    pub(crate) make: Make,
}

impl EnvSpec {
    /// A fresh copy of the env with its default options (not yet reset),
    /// time limit applied.
    pub fn make(&self) -> Box<dyn Env> {
        self.make_with(&[])
            .unwrap_or_else(|e| panic!("{}: default options are invalid: {e}", self.id))
    }

    /// A fresh copy of the env with `options` (`key`, `value`) over the
    /// defaults. An unknown key or a bad value is an error naming it and
    /// the valid ones.
    pub fn make_with(&self, options: &[(String, String)]) -> Result<Box<dyn Env>, String> {
        self.build(&self.resolve_options(options)?)
    }

    /// A spec whose copies `maker` builds: an env of a provider library.
    /// Ids of external envs keep their case (`CartPole-v1`).
    pub fn external(
        (id, summary): (&'static str, &'static str),
        (max_episode_steps, default_steps): (u64, u64),
        (options, open_options): (&'static [EnvOption], bool),
        maker: &'static dyn ExternalEnv,
    ) -> EnvSpec {
        EnvSpec {
            id,
            summary,
            max_episode_steps,
            default_steps,
            options,
            open_options,
            make: Make::External(maker),
        }
    }

    /// The maker of an external env; `None` for the envs of this crate.
    pub fn external_maker(&self) -> Option<&'static dyn ExternalEnv> {
        match self.make {
            Make::Native(_) => None,
            Make::External(maker) => Some(maker),
        }
    }

    fn build(&self, options: &EnvOptions) -> Result<Box<dyn Env>, String> {
        match self.make {
            Make::Native(make) => make(self, options),
            Make::External(maker) => maker.make(self, options),
        }
    }

    /// Every declared option with its value: `given` over the defaults
    /// (a key given twice: the last wins). Values are not checked here but
    /// by the env's constructor.
    pub fn resolve_options(&self, given: &[(String, String)]) -> Result<EnvOptions, String> {
        let mut values: Vec<_> = self
            .options
            .iter()
            .map(|o| (o, o.default.to_string(), false))
            .collect();
        for (key, value) in given {
            let key = key.trim();
            if let Some(slot) = values.iter_mut().find(|(o, ..)| o.key == key) {
                slot.1 = value.trim().to_string();
                slot.2 = true;
                continue;
            }
            if self.open_options {
                values.push((external::open_option(key), value.trim().to_string(), true));
                continue;
            }
            {
                let valid: Vec<&str> = self.options.iter().map(|o| o.key).collect();
                return Err(format!(
                    "env '{}' has no option '{key}' (valid: {})",
                    self.id,
                    if valid.is_empty() {
                        "none".to_string()
                    } else {
                        valid.join(", ")
                    }
                ));
            }
        }
        Ok(EnvOptions { values })
    }

    /// The name without its version suffix (`cartpole`).
    pub fn short_name(&self) -> &'static str {
        split_version(self.id).0
    }
}

/// An env as a run uses it: a registered [`EnvSpec`] and its resolved,
/// validated options. Cheap to clone; [`EnvConfig::make`] builds copies.
#[derive(Debug, Clone)]
pub struct EnvConfig {
    spec: &'static EnvSpec,
    options: EnvOptions,
}

impl EnvConfig {
    /// `spec` with `options` over its defaults, validated by building one
    /// copy (so [`EnvConfig::make`] cannot fail later).
    pub fn new(spec: &'static EnvSpec, options: &[(String, String)]) -> Result<EnvConfig, String> {
        let options = spec.resolve_options(options)?;
        spec.build(&options)?;
        Ok(EnvConfig { spec, options })
    }

    /// The registered spec.
    pub fn spec(&self) -> &'static EnvSpec {
        self.spec
    }

    /// The versioned id (`breakout-v1`).
    pub fn id(&self) -> &'static str {
        self.spec.id
    }

    /// The resolved options (every declared key, defaults filled in).
    pub fn options(&self) -> &EnvOptions {
        &self.options
    }

    /// A fresh copy of the env (not yet reset).
    pub fn make(&self) -> Box<dyn Env> {
        self.spec
            .build(&self.options)
            .unwrap_or_else(|e| panic!("{}: options were validated: {e}", self.spec.id))
    }
}

/// Split `KEY=VALUE` (as given to `--env-set`) into its parts.
pub fn parse_assignment(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("'{text}' is not of the form KEY=VALUE")),
    }
}

pub(crate) fn split_version(id: &str) -> (&str, Option<u32>) {
    match id.rsplit_once("-v") {
        Some((name, v)) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
            (name, v.parse().ok())
        }
        _ => (id, None),
    }
}

/// A spec without options whose env is `make()` wrapped in a time limit.
macro_rules! plain {
    ($id:literal, $summary:literal, $steps:literal, $budget:expr, $make:expr) => {
        EnvSpec {
            id: $id,
            summary: $summary,
            max_episode_steps: $steps,
            default_steps: $budget,
            options: &[],
            open_options: false,
            make: Make::Native(|spec, _| {
                Ok(Box::new(TimeLimit::new($make, spec.max_episode_steps)))
            }),
        }
    };
}

/// An arcade game behind the shared ALE wrapper, with the arcade options.
macro_rules! arcade {
    ($id:expr, $game:ty, $summary:literal) => {
        EnvSpec {
            id: $id,
            summary: $summary,
            max_episode_steps: arcade::MAX_FRAMES / arcade::FRAME_SKIP as u64,
            default_steps: ARCADE_STEPS,
            options: arcade::OPTIONS,
            open_options: false,
            make: Make::Native(|_, options| {
                arcade::Arcade::<$game>::from_options(options).map(|e| Box::new(e) as Box<dyn Env>)
            }),
        }
    };
}

/// CartPole: every policy-gradient method reaches the 500-step cap by
/// 200k steps (seed 0).
const CARTPOLE_STEPS: u64 = 200_000;
/// Pendulum: TRPO swings up and holds (≈ −190) after 500k steps.
const PENDULUM_STEPS: u64 = 500_000;
/// Locomotion: the modern 1M-step protocol; TRPO's walker runs by then.
const LOCOMOTION_STEPS: u64 = 1_000_000;
/// Arcade (compact view): TRPO clearly beats random on all seven games at
/// 1M steps.
const ARCADE_STEPS: u64 = 1_000_000;

const PLAIN: [EnvSpec; 9] = [
    plain!(
        "cartpole-v0",
        "Balance a pole on a cart (Barto et al. 1983); Gymnasium CartPole-v1 dynamics",
        500,
        CARTPOLE_STEPS,
        CartPole::new()
    ),
    plain!(
        "pendulum-v0",
        "Swing up and hold an inverted pendulum; Gymnasium Pendulum-v1 dynamics",
        200,
        PENDULUM_STEPS,
        Pendulum::new()
    ),
    plain!(
        "swimmer-v0",
        "Three links swimming in a viscous fluid (planar, rapier2d); MuJoCo's swimmer",
        1000,
        LOCOMOTION_STEPS,
        Swimmer::new(Config::swimmer())
    ),
    plain!(
        "swimmer-paper-v0",
        "swimmer-v0 observing its absolute position: the TRPO paper's 10-dim state",
        1000,
        LOCOMOTION_STEPS,
        Swimmer::new(Config::swimmer().paper())
    ),
    plain!(
        "hopper-v0",
        "One-legged hopper on flat ground (planar, rapier2d); MuJoCo's hopper",
        1000,
        LOCOMOTION_STEPS,
        Legged::hopper(Config::hopper())
    ),
    plain!(
        "hopper-paper-v0",
        "hopper-v0 observing its absolute position: the TRPO paper's 12-dim state",
        1000,
        LOCOMOTION_STEPS,
        Legged::hopper(Config::hopper().paper())
    ),
    plain!(
        "walker-v0",
        "Two-legged walker on flat ground (planar, rapier2d); MuJoCo's walker2d",
        1000,
        LOCOMOTION_STEPS,
        Legged::walker(Config::walker())
    ),
    plain!(
        "walker-paper-v0",
        "walker-v0 observing its absolute position: the TRPO paper's 18-dim state",
        1000,
        LOCOMOTION_STEPS,
        Legged::walker(Config::walker().paper())
    ),
    plain!(
        "ant-v0",
        "Four-legged ant on flat ground (3-D, rapier3d); MuJoCo's ant",
        1000,
        LOCOMOTION_STEPS,
        Ant::new(Config::ant())
    ),
];

/// The arcade suite, one line per game: its short name, version, game
/// and summary. [`GAMES`] and the games' registry entries are both made from
/// this one list, so a game renamed or added here is renamed or added
/// everywhere the harness lists the games (reports, the reproduction grid,
/// `env-stats arcade`).
macro_rules! arcade_games {
    ($(($name:literal, $version:literal, $game:ty, $summary:literal)),* $(,)?) => {
        /// The arcade games (the TRPO paper's Table 1) by short name, in
        /// registry order.
        pub const GAMES: &[&str] = &[$($name),*];
        const ARCADE: [EnvSpec; GAMES.len()] =
            [$(arcade!(concat!($name, "-v", $version), $game, $summary)),*];
    };
}

arcade_games!(
    (
        "beamrider",
        1,
        arcade::BeamRider,
        "Arcade (ALE): Beam Rider — shoot saucers on five beams, torpedo the sector sentinel"
    ),
    (
        "breakout",
        1,
        arcade::Breakout,
        "Arcade (ALE): Breakout — bounce the ball off the paddle into six rows of bricks"
    ),
    (
        "enduro",
        2,
        arcade::Enduro,
        "Arcade (ALE): Enduro — overtake cars on a day's endurance race"
    ),
    (
        "pong",
        1,
        arcade::Pong,
        "Arcade (ALE): Pong — paddle duel against a scripted opponent, first to 21"
    ),
    (
        "qbert",
        1,
        arcade::Qbert,
        "Arcade (ALE): Q*bert — hop a pyramid of cubes to recolour them, dodge the enemies"
    ),
    (
        "seaquest",
        1,
        arcade::Seaquest,
        "Arcade (ALE): Seaquest — submarine, sharks, divers and oxygen"
    ),
    (
        "spaceinvaders",
        1,
        arcade::SpaceInvaders,
        "Arcade (ALE): Space Invaders — a marching, descending, shooting formation; shields"
    ),
);

/// `a` then `b`, in a constant (`N` must be their total length).
const fn join<const A: usize, const B: usize, const N: usize>(
    a: [EnvSpec; A],
    b: [EnvSpec; B],
) -> [EnvSpec; N] {
    assert!(A + B == N && A > 0);
    let mut out = [a[0]; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < A { a[i] } else { b[i - A] };
        i += 1;
    }
    out
}

static REGISTRY: [EnvSpec; PLAIN.len() + GAMES.len()] = join(PLAIN, ARCADE);

/// Every registered environment, in a stable order.
pub fn registry() -> &'static [EnvSpec] {
    &REGISTRY
}

/// Find an env by exact id (`cartpole-v0`) or by short name (`cartpole`,
/// which means its latest version), with its default options. The error
/// names the valid ids.
pub fn resolve(name: &str) -> Result<EnvConfig, String> {
    resolve_spec(name).and_then(|spec| EnvConfig::new(spec, &[]))
}

/// The registered spec of an id or short name (see [`resolve`]). External
/// envs (see [`external::register`]) are matched first, case-sensitively (a
/// family given to [`external::load_on_demand`] is loaded on first use); the
/// envs of this crate ignore case.
pub fn resolve_spec(name: &str) -> Result<&'static EnvSpec, String> {
    if let Some(spec) = external::find(name.trim()) {
        return Ok(spec);
    }
    if external::load_family_of(name.trim())?
        && let Some(spec) = external::find(name.trim())
    {
        return Ok(spec);
    }
    let given = name.trim();
    let name = given.to_ascii_lowercase();
    if let Some(spec) = REGISTRY.iter().find(|s| s.id == name) {
        return Ok(spec);
    }
    REGISTRY
        .iter()
        .filter(|s| split_version(s.id).0 == name)
        .max_by_key(|s| split_version(s.id).1)
        .ok_or_else(|| {
            let mut ids: Vec<&str> = REGISTRY.iter().map(|s| s.id).collect();
            let external = external::specs();
            ids.extend(external.iter().map(|s| s.id));
            format!("unknown env '{given}'; valid envs: {}", ids.join(", "))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_resolve_to_the_latest_version() {
        assert_eq!(resolve("cartpole").unwrap().id(), "cartpole-v0");
        assert_eq!(resolve("Pendulum-v0").unwrap().id(), "pendulum-v0");
        let e = resolve("cartpol").unwrap_err();
        assert!(
            e.contains("'cartpol'") && e.contains("cartpole-v0") && e.contains("pendulum-v0"),
            "{e}"
        );
        assert!(resolve("cartpole-v9").is_err());
        assert_eq!(split_version("a-b-v12"), ("a-b", Some(12)));
    }

    #[test]
    fn ids_are_unique_and_versioned() {
        let mut ids: Vec<&str> = REGISTRY.iter().map(|s| s.id).collect();
        assert!(ids.iter().all(|id| split_version(id).1.is_some()));
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), REGISTRY.len());
    }

    #[test]
    fn options_are_checked_by_key_and_value() {
        let set = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        let e = resolve_spec("cartpole")
            .unwrap()
            .make_with(&set("view", "pixels"))
            .err()
            .unwrap();
        assert!(e.contains("'view'") && e.contains("valid: none"), "{e}");
        let breakout = resolve_spec("breakout").unwrap();
        let e = breakout.make_with(&set("veiw", "pixels")).err().unwrap();
        assert!(
            e.contains("'veiw'") && e.contains("view") && e.contains("sticky"),
            "{e}"
        );
        let e = breakout.make_with(&set("view", "pixel")).err().unwrap();
        assert!(
            e.contains("'pixel'") && e.contains("compact | pixels"),
            "{e}"
        );
        let e = breakout.make_with(&set("sticky", "1.5")).err().unwrap();
        assert!(e.contains("'sticky' = '1.5'"), "{e}");
        let mut two = set("frameskip", "2");
        two.extend(set("view", "pixels"));
        let config = EnvConfig::new(breakout, &two).unwrap();
        let pairs: Vec<(&str, &str)> = config.options().pairs().collect();
        assert!(pairs.contains(&("frameskip", "2")) && pairs.contains(&("view", "pixels")));
        assert!(config.options().is_changed("frameskip") && !config.options().is_changed("sticky"));
        let defaults = set("sticky", "auto");
        let same = EnvConfig::new(breakout, &defaults).unwrap();
        assert!(!same.options().is_changed("sticky"));
        assert!(resolve("cartpole").unwrap().options().is_empty());
        assert_eq!(
            parse_assignment(" a = b=c ").unwrap(),
            ("a".into(), "b=c".into())
        );
        assert!(parse_assignment("=x").is_err() && parse_assignment("x").is_err());
    }
}
