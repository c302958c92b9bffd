//! A plugin instance together with the host it samples through: the one
//! place that creates an instance (the C ABI's `create`), so `run`, `check`
//! and `render` share the lifetime rule below instead of each restating it.

use crate::host::{HostBox, World};
use crate::plugin::{AlgorithmRef, Instance};
use crate::streams;
use anyhow::{Result, bail};
use serde_json::{Map, Value};
use std::time::Instant;
use trustbench_envs::{EnvConfig, VecEnv};

/// A live instance and its host.
///
/// The instance holds raw pointers into the host (the vtable, the spaces, the
/// world behind `ctx`), so the host must outlive it. Fields drop in
/// declaration order: `instance` first, then `host`.
pub struct Session {
    instance: Instance,
    host: Box<HostBox>,
    /// `plugin 'trpo' (built-in)`: how errors name the plugin.
    plugin: String,
}

/// A session's host while its instance is lent out ([`Session::parts`]):
/// the [`HostBox`], and the plugin's name for its faults.
pub struct SessionHost<'a> {
    host: &'a HostBox,
    plugin: &'a str,
}

impl SessionHost<'_> {
    /// Fail if the plugin misused the host since the last look (a fault the
    /// host callbacks recorded), naming the plugin and `when` it happened
    /// (`" during act"`, or `""`). An env provider's failure is no misuse:
    /// it is reported as itself.
    pub fn check(&self, when: &str) -> Result<()> {
        let Some(fault) = self.host.take_fault() else {
            return Ok(());
        };
        if let Some(failure) = crate::host::env_failure(&fault) {
            bail!("{failure}");
        }
        bail!("{} misused the host{when}: {fault}", self.plugin)
    }
}

impl std::ops::Deref for SessionHost<'_> {
    type Target = HostBox;

    fn deref(&self) -> &HostBox {
        self.host
    }
}

/// What a session samples from: `num_envs` copies of `env`, seeded from the
/// run seed on the training stream, with a budget of `steps` env steps.
pub struct SessionSpec<'a> {
    /// The algorithm and its resolved config.
    pub algorithm: &'a AlgorithmRef,
    /// Its resolved config (sent to `create` as JSON).
    pub config: &'a Map<String, Value>,
    /// The env and its options.
    pub env: &'a EnvConfig,
    /// The run seed (the plugin gets [`streams::plugin_seed`] of it).
    pub seed: u64,
    /// Env copies stepped together.
    pub num_envs: usize,
    /// Env-step budget (0 for a session that only acts).
    pub steps: u64,
    /// Threads for env stepping and, through the `trustbench.threads/1`
    /// extension, the plugin's batch math (results do not depend on it).
    pub threads: usize,
}

impl Session {
    /// Build the envs and the host, then `create` the instance.
    pub fn start(spec: &SessionSpec, started: Instant) -> Result<Session> {
        let envs = VecEnv::new(spec.env, spec.num_envs, spec.seed, streams::TRAIN_ENVS);
        let host = HostBox::new(
            World::new(envs, spec.steps, started, spec.threads),
            streams::plugin_seed(spec.seed),
        );
        let config = Value::Object(spec.config.clone()).to_string();
        // SAFETY: `create` requires the host's vtable, spaces and context to
        // stay valid for the instance's whole life. They live in the heap box
        // `host`, whose address never changes, and the returned `Session`
        // owns both with `instance` declared first, so the instance is
        // destroyed before the box is freed.
        let instance = unsafe {
            Instance::create(
                spec.algorithm,
                &config,
                host.spaces(),
                host.raw(),
                host.observation_space(),
                host.action_space(),
            )
        }?;
        let plugin = spec.algorithm.culprit();
        Ok(Session {
            instance,
            host,
            plugin,
        })
    }

    /// `plugin 'trpo' (built-in)`: the plugin, as errors name it.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    /// Fail if the plugin misused the host since the last look (see
    /// [`SessionHost::check`]).
    pub fn check_host(&self, when: &str) -> Result<()> {
        self.host_view().check(when)
    }

    fn host_view(&self) -> SessionHost<'_> {
        SessionHost {
            host: &self.host,
            plugin: &self.plugin,
        }
    }

    /// The host, and the instance to call.
    pub fn parts(&mut self) -> (SessionHost<'_>, &mut Instance) {
        let host = SessionHost {
            host: &self.host,
            plugin: &self.plugin,
        };
        (host, &mut self.instance)
    }

    /// The host (its world, faults and spaces).
    pub fn host(&self) -> &HostBox {
        &self.host
    }

    /// The instance.
    pub fn instance(&mut self) -> &mut Instance {
        &mut self.instance
    }
}
