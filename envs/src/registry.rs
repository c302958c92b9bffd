//! Versioned environment ids and their resolution.

use crate::Env;
use crate::classic::{CartPole, Pendulum};
use crate::locomotion::{Ant, Legged, LocomotionConfig as Config, Swimmer};
use crate::time_limit::TimeLimit;

/// A registered environment: a versioned id and a constructor.
#[derive(Debug, Clone, Copy)]
pub struct EnvSpec {
    /// Versioned id, `name-vN` (e.g. `cartpole-v0`). A new version is added
    /// whenever results would change; old versions keep their behaviour.
    pub id: &'static str,
    /// One line for `harness list`.
    pub summary: &'static str,
    /// Episode length at which the time limit truncates.
    pub max_episode_steps: u64,
    make: fn(u64) -> Box<dyn Env>,
}

impl EnvSpec {
    /// A fresh copy of the env (not yet reset), with its time limit applied.
    pub fn make(&self) -> Box<dyn Env> {
        (self.make)(self.max_episode_steps)
    }

    /// The name without its version suffix (`cartpole`).
    pub fn short_name(&self) -> &'static str {
        split_version(self.id).0
    }
}

fn split_version(id: &str) -> (&str, Option<u32>) {
    match id.rsplit_once("-v") {
        Some((name, v)) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
            (name, v.parse().ok())
        }
        _ => (id, None),
    }
}

static REGISTRY: &[EnvSpec] = &[
    EnvSpec {
        id: "cartpole-v0",
        summary: "Balance a pole on a cart (Barto et al. 1983); Gymnasium CartPole-v1 dynamics",
        max_episode_steps: 500,
        make: |n| Box::new(TimeLimit::new(CartPole::new(), n)),
    },
    EnvSpec {
        id: "pendulum-v0",
        summary: "Swing up and hold an inverted pendulum; Gymnasium Pendulum-v1 dynamics",
        max_episode_steps: 200,
        make: |n| Box::new(TimeLimit::new(Pendulum::new(), n)),
    },
    EnvSpec {
        id: "swimmer-v0",
        summary: "Three links swimming in a viscous fluid (planar, rapier2d); MuJoCo's swimmer",
        max_episode_steps: 1000,
        make: |n| Box::new(TimeLimit::new(Swimmer::new(Config::swimmer()), n)),
    },
    EnvSpec {
        id: "swimmer-paper-v0",
        summary: "swimmer-v0 observing its absolute position: the TRPO paper's 10-dim state",
        max_episode_steps: 1000,
        make: |n| Box::new(TimeLimit::new(Swimmer::new(Config::swimmer().paper()), n)),
    },
    EnvSpec {
        id: "hopper-v0",
        summary: "One-legged hopper on flat ground (planar, rapier2d); MuJoCo's hopper",
        max_episode_steps: 1000,
        make: |n| Box::new(TimeLimit::new(Legged::hopper(Config::hopper()), n)),
    },
    EnvSpec {
        id: "hopper-paper-v0",
        summary: "hopper-v0 observing its absolute position: the TRPO paper's 12-dim state",
        max_episode_steps: 1000,
        make: |n| Box::new(TimeLimit::new(Legged::hopper(Config::hopper().paper()), n)),
    },
    EnvSpec {
        id: "walker-v0",
        summary: "Two-legged walker on flat ground (planar, rapier2d); MuJoCo's walker2d",
        max_episode_steps: 1000,
        make: |n| Box::new(TimeLimit::new(Legged::walker(Config::walker()), n)),
    },
    EnvSpec {
        id: "walker-paper-v0",
        summary: "walker-v0 observing its absolute position: the TRPO paper's 18-dim state",
        max_episode_steps: 1000,
        make: |n| Box::new(TimeLimit::new(Legged::walker(Config::walker().paper()), n)),
    },
    EnvSpec {
        id: "ant-v0",
        summary: "Four-legged ant on flat ground (3-D, rapier3d); MuJoCo's ant",
        max_episode_steps: 1000,
        make: |n| Box::new(TimeLimit::new(Ant::new(Config::ant()), n)),
    },
];

/// Every registered environment, in a stable order.
pub fn registry() -> &'static [EnvSpec] {
    REGISTRY
}

/// Find an env by exact id (`cartpole-v0`) or by short name (`cartpole`,
/// which means its latest version). The error names the valid ids.
pub fn resolve(name: &str) -> Result<&'static EnvSpec, String> {
    let name = name.trim().to_ascii_lowercase();
    if let Some(spec) = REGISTRY.iter().find(|s| s.id == name) {
        return Ok(spec);
    }
    REGISTRY
        .iter()
        .filter(|s| split_version(s.id).0 == name)
        .max_by_key(|s| split_version(s.id).1)
        .ok_or_else(|| {
            let ids: Vec<&str> = REGISTRY.iter().map(|s| s.id).collect();
            format!("unknown env '{name}'; valid envs: {}", ids.join(", "))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_resolve_to_the_latest_version() {
        assert_eq!(resolve("cartpole").unwrap().id, "cartpole-v0");
        assert_eq!(resolve("Pendulum-v0").unwrap().id, "pendulum-v0");
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
}
