//! The host vtable: the only window a plugin has on the environments.
//!
//! The harness owns the world. Every env step goes through [`World::step`],
//! which counts it against the budget (so no plugin can overrun it or skip
//! counting), checks the plugin's actions, records finished episodes and
//! writes into the plugin's buffers. A plugin's misuse (wrong lengths, NaN
//! actions, unknown snapshot) is recorded as a *fault* that fails the run,
//! whatever status the plugin then returns.
//!
//! Observations reach the plugin as `f64` values (`reset`, `step`) or, for
//! envs whose observations are bytes, as those bytes (the
//! `trustbench.byte-observations/1` extension: 8× less to copy and store);
//! both paths share every check, the budget and the bookkeeping below.

mod buffers;
mod callbacks;
mod world;

pub use world::World;

use callbacks::{
    host_extension, host_log_metric, host_release, host_reset, host_reset_bytes, host_restore,
    host_snapshot, host_step, host_step_bytes, host_steps_remaining,
};
use std::cell::RefCell;
use std::ffi::c_void;
use trustbench_envs::Space;
use trustbench_plugin::abi::{self, tb_byte_observations, tb_host, tb_spaces, tb_threads};

/// Host extensions to withhold, by id, comma-separated: the run then looks
/// to a plugin as if its host predated them (tests compare a plugin's
/// fallback with its use of the extension). Read in [`HostBox::new`] only.
pub const HIDE_EXTENSIONS_VAR: &str = "TRUSTBENCH_HIDE_HOST_EXTENSIONS";

/// How a fault that is the env's failure, not the plugin's misuse, starts:
/// the run reports it as the env's ([`env_failure`]).
const ENV_FAILURE: &str = "env failed: ";

/// The env's failure within a fault, if that is what the fault is.
pub fn env_failure(fault: &str) -> Option<&str> {
    fault.strip_prefix(ENV_FAILURE)
}

/// The world plus the C structs that point into it. Boxed so their
/// addresses stay fixed while a plugin instance holds them.
pub struct HostBox {
    raw: tb_host,
    spaces: tb_spaces,
    world: RefCell<World>,
    fault: RefCell<Option<String>>,
    /// What the `trustbench.threads/1` extension points at.
    threads: Option<tb_threads>,
    /// What `trustbench.byte-observations/1` points at: offered for envs
    /// whose observations are bytes.
    byte_observations: Option<tb_byte_observations>,
    observation_space: Space,
    action_space: Space,
}

impl HostBox {
    /// Wrap `world` for a plugin; `seed` is the run's seed.
    pub fn new(world: World, seed: u64) -> Box<HostBox> {
        let observation_space = world.envs().observation_space().clone();
        let action_space = world.envs().action_space().clone();
        let num_envs = world.envs().len() as u32;
        let hidden = std::env::var(HIDE_EXTENSIONS_VAR).unwrap_or_default();
        let offered = |id: &[u8]| {
            let id = std::str::from_utf8(&id[..id.len() - 1]).expect("ids are ASCII");
            !hidden.split(',').any(|h| h.trim() == id)
        };
        let threads = offered(abi::TB_HOST_EXT_THREADS).then_some(tb_threads {
            struct_size: std::mem::size_of::<tb_threads>() as u32,
            threads: world.threads() as u32,
        });
        let byte_observations = (world.byte_observations()
            && offered(abi::TB_HOST_EXT_BYTE_OBSERVATIONS))
        .then_some(tb_byte_observations {
            struct_size: std::mem::size_of::<tb_byte_observations>() as u32,
            reset: Some(host_reset_bytes),
            step: Some(host_step_bytes),
        });
        let mut host = Box::new(HostBox {
            raw: tb_host {
                struct_size: std::mem::size_of::<tb_host>() as u32,
                abi_major: abi::TB_ABI_MAJOR,
                abi_minor: abi::TB_ABI_MINOR,
                num_envs,
                seed,
                ctx: std::ptr::null_mut(),
                reset: Some(host_reset),
                step: Some(host_step),
                snapshot: Some(host_snapshot),
                restore: Some(host_restore),
                release_snapshot: Some(host_release),
                log_metric: Some(host_log_metric),
                steps_remaining: Some(host_steps_remaining),
                extension: Some(host_extension),
            },
            spaces: tb_spaces {
                struct_size: std::mem::size_of::<tb_spaces>() as u32,
                num_envs,
                observation: observation_space.to_raw(),
                action: action_space.to_raw(),
            },
            world: RefCell::new(world),
            fault: RefCell::new(None),
            threads,
            byte_observations,
            observation_space,
            action_space,
        });
        // The spaces' bounds now live inside the box: point at them there.
        host.spaces.observation = host.observation_space.to_raw();
        host.spaces.action = host.action_space.to_raw();
        host.raw.ctx = &*host as *const HostBox as *mut c_void;
        host
    }

    /// The vtable to hand to `create`.
    pub fn raw(&self) -> *const tb_host {
        &self.raw
    }

    /// The spaces to hand to `create`.
    pub fn spaces(&self) -> *const tb_spaces {
        &self.spaces
    }

    /// Observation space of one copy.
    pub fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    /// Action space of one copy.
    pub fn action_space(&self) -> &Space {
        &self.action_space
    }

    /// The world, between plugin calls.
    pub fn world(&self) -> std::cell::RefMut<'_, World> {
        self.world.borrow_mut()
    }

    /// The first misuse recorded since the last call, if any.
    pub fn take_fault(&self) -> Option<String> {
        self.fault.borrow_mut().take()
    }

    fn record_fault(&self, text: String) {
        let mut slot = self.fault.borrow_mut();
        if slot.is_none() {
            *slot = Some(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use trustbench_envs::{EnvConfig, VecEnv};
    use trustbench_plugin::abi::tb_byte_step_out;

    /// A host over 2 copies of breakout with env options `options`.
    fn breakout(options: &[(&str, &str)]) -> Box<HostBox> {
        let options: Vec<(String, String)> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let spec = trustbench_envs::resolve_spec("breakout").unwrap();
        let envs = VecEnv::new(&EnvConfig::new(spec, &options).unwrap(), 2, 5, 0);
        HostBox::new(World::new(envs, 10_000, Instant::now(), 2), 0)
    }

    /// The plugin's view of `host`.
    fn view(host: &HostBox) -> trustbench_plugin::Host {
        // SAFETY: the vtable lives in `host`, which outlives the view.
        unsafe { trustbench_plugin::Host::from_raw(host.raw()) }.unwrap()
    }

    const PIXELS: [(&str, &str); 3] =
        [("view", "pixels"), ("preset", "2015"), ("max_frames", "40")];

    #[test]
    fn byte_observations_are_offered_for_byte_envs_only() {
        assert!(view(&breakout(&PIXELS)).byte_observations());
        assert!(
            !view(&breakout(&[])).byte_observations(),
            "the compact view"
        );
        let mut hidden = breakout(&PIXELS);
        hidden.byte_observations = None;
        assert!(!view(&hidden).byte_observations());
    }

    #[test]
    fn the_pg_sampler_collects_the_same_batches_from_bytes_as_from_values() {
        use trustbench_pg::{Agent, NetworkConfig, NetworkKind, Sampler};
        let collect = |offered: bool| {
            let mut host = breakout(&PIXELS);
            if !offered {
                host.byte_observations = None;
            }
            let spaces = trustbench_plugin::Spaces {
                num_envs: 2,
                observation: host.observation_space().clone(),
                action: host.action_space().clone(),
            };
            let network = NetworkConfig {
                hidden_sizes: vec![],
                activation: trustbench_policy::network::Activation::Tanh,
                kind: NetworkKind::Atari,
            };
            let rng = trustbench_plugin::rng::Rng::new(3);
            let mut agent = Agent::new(&spaces, &network, false, rng).unwrap();
            assert!(agent.byte_observations());
            let (mut plugin, mut sampler) = (view(&host), Sampler::default());
            // Two batches: the second continues the first's episodes; 40
            // frames (10 steps) per episode, so both contain episode ends.
            let batches: Vec<_> = (0..2)
                .map(|_| sampler.collect(&mut plugin, &mut agent, 12).unwrap())
                .collect();
            let took_bytes = !host.world().scratch.is_empty();
            (batches, took_bytes)
        };
        let ((bytes, took_bytes), (values, took_values)) = (collect(true), collect(false));
        assert!(took_bytes && !took_values, "which path each sampler took");
        for (b, v) in bytes.iter().zip(&values) {
            assert!(b.truncated.iter().any(|&t| t), "episodes end in the batch");
            assert_eq!(b.obs, v.obs);
            assert_eq!(b.bootstrap_rows, v.bootstrap_rows);
            assert_eq!(b.bootstrap_obs, v.bootstrap_obs);
            assert_eq!((&b.actions, &b.rewards), (&v.actions, &v.rewards));
            assert_eq!((&b.terminated, &b.truncated), (&v.terminated, &v.truncated));
        }
    }

    #[test]
    fn misused_byte_calls_are_faults_that_name_the_bad_value() {
        let host = breakout(&PIXELS);
        let ext = host.byte_observations.unwrap();
        let (reset, step) = (ext.reset.unwrap(), ext.step.unwrap());
        let ctx = host.raw.ctx;
        let dim = host.observation_space().dim();
        let mut obs = vec![0u8; 2 * dim];
        let (mut rewards, mut flags) = ([0.0; 2], [[0u8; 2]; 2]);
        let [terminated, truncated] = &mut flags;
        let mut out = |obs: &mut Vec<u8>, obs_len| tb_byte_step_out {
            struct_size: std::mem::size_of::<tb_byte_step_out>() as u32,
            obs_len,
            observations: obs.as_mut_ptr(),
            final_observations: std::ptr::null_mut(),
            rewards: rewards.as_mut_ptr(),
            terminated: terminated.as_mut_ptr(),
            truncated: truncated.as_mut_ptr(),
        };
        let actions = [0.0; 2];
        // SAFETY: every buffer is as long as the length passed with it.
        unsafe {
            let too_short = reset(ctx, abi::TB_ALL_ENVS, obs.as_mut_ptr(), dim);
            assert_eq!(too_short, abi::TB_INVALID_ARGUMENT);
            let fault = host.take_fault().unwrap();
            assert!(
                fault.contains(&format!("{dim} values; expected {}", 2 * dim)),
                "{fault}"
            );

            let wrong = out(&mut obs, dim);
            assert_eq!(
                step(ctx, 0, 2, actions.as_ptr(), 2, &wrong),
                abi::TB_INVALID_ARGUMENT
            );
            let fault = host.take_fault().unwrap();
            assert!(
                fault.contains(&format!("obs_len {dim} for 2 envs")),
                "{fault}"
            );

            let mut small = out(&mut obs, 2 * dim);
            small.struct_size = 8;
            assert_eq!(
                step(ctx, 0, 2, actions.as_ptr(), 2, &small),
                abi::TB_INVALID_ARGUMENT
            );
            assert!(
                host.take_fault()
                    .unwrap()
                    .contains("tb_byte_step_out of 8 bytes")
            );
            assert_eq!(
                step(ctx, 0, 2, actions.as_ptr(), 2, std::ptr::null()),
                abi::TB_INVALID_ARGUMENT
            );
            assert!(host.take_fault().unwrap().contains("is NULL"));

            let right = out(&mut obs, 2 * dim);
            assert_eq!(step(ctx, 0, 2, actions.as_ptr(), 2, &right), abi::TB_OK);
            assert!(host.take_fault().is_none());
            assert!(obs.iter().any(|&b| b > 0), "the frame was written");
        }
    }

    #[test]
    fn the_threads_extension_reports_the_worlds_threads() {
        let env = trustbench_envs::resolve("cartpole").unwrap();
        for threads in [1, 3] {
            let envs = VecEnv::new(&env, 2, 0, 0);
            let host = HostBox::new(World::new(envs, 10, Instant::now(), threads), 0);
            // SAFETY: the vtable lives in `host`, which outlives `view`.
            let view = unsafe { trustbench_plugin::Host::from_raw(host.raw()) }.unwrap();
            assert_eq!(view.threads(), threads);
        }
    }
}
