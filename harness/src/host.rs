//! The host vtable: the only window a plugin has on the environments.
//!
//! The harness owns the world. Every env step goes through [`World::step`],
//! which counts it against the budget (so no plugin can overrun it or skip
//! counting), checks the plugin's actions, records finished episodes and
//! writes into the plugin's buffers. A plugin's misuse (wrong lengths, NaN
//! actions, unknown snapshot) is recorded as a *fault* that fails the run,
//! whatever status the plugin then returns.

use crate::results::{EpisodeRow, MetricRow, Phase, RunLog};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::{CStr, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;
use trustbench_envs::{Env, Space, Step, VecEnv};
use trustbench_plugin::abi::{self, tb_host, tb_spaces, tb_status, tb_step_out, tb_threads};
use trustbench_plugin::parallel;

/// Most snapshots a plugin may hold at once (a leak guard, not a tuning knob).
const MAX_LIVE_SNAPSHOTS: usize = 100_000;

/// Return and length of the episode in progress on one copy.
#[derive(Debug, Clone, Copy, Default)]
struct EpisodeProgress {
    ret: f64,
    len: u64,
}

/// The training envs, the budget and the record of what happened.
pub struct World {
    envs: VecEnv,
    action_space: Space,
    obs_dim: usize,
    budget: u64,
    used: u64,
    /// A step was refused because it did not fit in what is left of the
    /// budget (a step of 8 copies with 4 steps left, say).
    refused: bool,
    /// Step calls refused for the budget: a plugin should stop after the
    /// first (`harness check plugin` counts them).
    refused_calls: u64,
    iteration: u64,
    start: Instant,
    progress: Vec<EpisodeProgress>,
    snapshots: BTreeMap<u64, (Box<dyn Env>, EpisodeProgress)>,
    next_snapshot: u64,
    /// One (empty) worker per thread a batched step may use.
    workers: Vec<()>,
    /// Everything recorded so far.
    pub log: RunLog,
}

/// One copy's share of a batched step: its env, action and output rows.
struct CopyStep<'a> {
    env: &'a mut Box<dyn Env>,
    action: &'a [f64],
    observation: &'a mut [f64],
    final_observation: Option<&'a mut [f64]>,
    step: Option<Step>,
}

impl World {
    /// A world over `envs` with a budget of `budget` env steps; a batched
    /// step runs its copies on up to `threads` threads.
    pub fn new(envs: VecEnv, budget: u64, start: Instant, threads: usize) -> World {
        World {
            action_space: envs.action_space().clone(),
            obs_dim: envs.observation_space().dim(),
            progress: vec![EpisodeProgress::default(); envs.len()],
            envs,
            budget,
            used: 0,
            refused: false,
            refused_calls: 0,
            iteration: 0,
            start,
            snapshots: BTreeMap::new(),
            next_snapshot: 1,
            workers: vec![(); threads.max(1)],
            log: RunLog::default(),
        }
    }

    /// Threads a batched step (and the plugin, through the
    /// `trustbench.threads/1` extension) may use.
    pub fn threads(&self) -> usize {
        self.workers.len()
    }

    /// Env steps spent so far.
    pub fn steps_used(&self) -> u64 {
        self.used
    }

    /// Whether the budget is spent: used up, or too little left for a step
    /// the plugin asked for (a budget that is not a multiple of the number
    /// of copies ends the run there, not in an error).
    pub fn budget_spent(&self) -> bool {
        self.used >= self.budget || self.refused
    }

    /// Step calls refused so far because the budget could not cover them.
    pub fn refused_step_calls(&self) -> u64 {
        self.refused_calls
    }

    /// Seconds since the run started.
    pub fn wall_seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Start iteration `i` (metrics logged from now on carry it).
    pub fn begin_iteration(&mut self, i: u64) {
        self.iteration = i;
    }

    /// Record a metric at the current iteration and step count.
    pub fn log_metric(&mut self, name: &str, value: f64) {
        self.log.metrics.push(MetricRow {
            iteration: self.iteration,
            env_steps: self.used,
            wall_seconds: self.wall_seconds(),
            name: name.to_owned(),
            value,
        });
    }

    fn reset(&mut self, env: u32, obs: &mut [f64]) -> Result<(), String> {
        let n = self.envs.len();
        let range = if env == abi::TB_ALL_ENVS {
            0..n
        } else {
            env as usize..env as usize + 1
        };
        if range.end > n {
            return Err(format!("reset of env {env}, but there are {n} envs"));
        }
        if obs.len() != range.len() * self.obs_dim {
            return Err(format!(
                "reset with an observation buffer of {} values; expected {}",
                obs.len(),
                range.len() * self.obs_dim
            ));
        }
        for (row, i) in obs.chunks_exact_mut(self.obs_dim).zip(range) {
            self.envs.reset(i, row);
            self.progress[i] = EpisodeProgress::default();
        }
        Ok(())
    }

    /// Step copies `first..first+count`. `Ok(false)`: budget exhausted.
    fn step(
        &mut self,
        first: u32,
        count: u32,
        actions: &[f64],
        out: &mut StepOut<'_>,
    ) -> Result<bool, String> {
        let (first, count, n) = (first as usize, count as usize, self.envs.len());
        if count == 0 || first + count > n {
            return Err(format!(
                "step of envs {first}..{}, but there are {n} envs",
                first + count
            ));
        }
        let act_dim = self.action_space.dim();
        if actions.len() != count * act_dim {
            return Err(format!(
                "step with {} action values for {count} envs; expected {} ({count} × {act_dim})",
                actions.len(),
                count * act_dim
            ));
        }
        if self.used + count as u64 > self.budget {
            self.refused = true;
            self.refused_calls += 1;
            return Ok(false);
        }
        for (k, action) in actions.chunks_exact(act_dim).enumerate() {
            if let Some(why) = self.action_space.invalid_action(action) {
                return Err(format!("invalid action for env {}: {why}", first + k));
            }
        }
        // The copies are stepped on the world's threads, each writing only
        // its own rows; the counting and episode bookkeeping then run in copy
        // order, so nothing recorded depends on the number of threads.
        let d = self.obs_dim;
        let mut finals = out
            .final_observations
            .as_deref_mut()
            .map(|f| f.chunks_exact_mut(d));
        let mut copies: Vec<CopyStep<'_>> = self
            .envs
            .copies_mut(first..first + count)
            .iter_mut()
            .zip(actions.chunks_exact(act_dim))
            .zip(out.observations.chunks_exact_mut(d))
            .map(|((env, action), observation)| CopyStep {
                env,
                action,
                observation,
                final_observation: finals.as_mut().and_then(|f| f.next()),
                step: None,
            })
            .collect();
        parallel::split(&mut copies, &mut self.workers, |_, _, c| {
            c.step = Some(VecEnv::step_copy(
                c.env.as_mut(),
                c.action,
                c.observation,
                c.final_observation.as_deref_mut(),
            ));
        });
        let steps: Vec<Step> = copies.iter().filter_map(|c| c.step).collect();
        drop(copies);
        for (k, step) in steps.into_iter().enumerate() {
            let i = first + k;
            self.used += 1;
            out.rewards[k] = step.reward;
            out.terminated[k] = step.terminated as u8;
            out.truncated[k] = step.truncated as u8;
            let p = &mut self.progress[i];
            p.ret += step.reward;
            p.len += 1;
            if step.done() {
                let p = std::mem::take(p);
                let wall_seconds = self.wall_seconds();
                self.log.episodes.push(EpisodeRow {
                    phase: Phase::Train,
                    env_steps: self.used,
                    wall_seconds,
                    episode_return: p.ret,
                    length: p.len,
                    terminated: step.terminated,
                    truncated: step.truncated,
                });
            }
        }
        Ok(true)
    }

    fn snapshot(&mut self, env: u32) -> Result<u64, String> {
        let i = env as usize;
        if i >= self.envs.len() {
            return Err(format!(
                "snapshot of env {env}, but there are {} envs",
                self.envs.len()
            ));
        }
        if self.snapshots.len() >= MAX_LIVE_SNAPSHOTS {
            return Err(format!(
                "more than {MAX_LIVE_SNAPSHOTS} live snapshots; release them when done"
            ));
        }
        let id = self.next_snapshot;
        self.next_snapshot += 1;
        self.snapshots
            .insert(id, (self.envs.snapshot(i), self.progress[i]));
        Ok(id)
    }

    fn restore(&mut self, env: u32, id: u64) -> Result<(), String> {
        let i = env as usize;
        if i >= self.envs.len() {
            return Err(format!(
                "restore of env {env}, but there are {} envs",
                self.envs.len()
            ));
        }
        let (state, progress) = self
            .snapshots
            .get(&id)
            .ok_or_else(|| format!("restore of unknown snapshot {id}"))?;
        self.envs.restore(i, state.as_ref());
        self.progress[i] = *progress;
        Ok(())
    }
}

/// The plugin's step output buffers, checked and sliced.
struct StepOut<'a> {
    observations: &'a mut [f64],
    final_observations: Option<&'a mut [f64]>,
    rewards: &'a mut [f64],
    terminated: &'a mut [u8],
    truncated: &'a mut [u8],
}

/// The world plus the C structs that point into it. Boxed so their
/// addresses stay fixed while a plugin instance holds them.
pub struct HostBox {
    raw: tb_host,
    spaces: tb_spaces,
    world: RefCell<World>,
    fault: RefCell<Option<String>>,
    /// What the `trustbench.threads/1` extension points at.
    threads: tb_threads,
    observation_space: Space,
    action_space: Space,
}

impl HostBox {
    /// Wrap `world` for a plugin; `seed` is the run's seed.
    pub fn new(world: World, seed: u64) -> Box<HostBox> {
        let observation_space = world.envs.observation_space().clone();
        let action_space = world.action_space.clone();
        let num_envs = world.envs.len() as u32;
        let threads = tb_threads {
            struct_size: std::mem::size_of::<tb_threads>() as u32,
            threads: world.threads() as u32,
        };
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

/// Run `f` on the world behind `ctx`; panics and misuse become faults.
fn with_world<T>(ctx: *mut c_void, fail: T, f: impl FnOnce(&mut World) -> Result<T, String>) -> T {
    if ctx.is_null() {
        return fail;
    }
    // SAFETY: ctx is the HostBox we handed out, alive while the instance is.
    let host = unsafe { &*(ctx as *const HostBox) };
    let result = catch_unwind(AssertUnwindSafe(|| match host.world.try_borrow_mut() {
        Ok(mut world) => f(&mut world),
        Err(_) => Err("host called outside train_iteration (or re-entrantly)".to_string()),
    }));
    match result {
        Ok(Ok(v)) => v,
        Ok(Err(text)) => {
            host.record_fault(text);
            fail
        }
        Err(_) => {
            host.record_fault("the harness panicked inside a host callback".to_string());
            fail
        }
    }
}

/// A plugin-owned buffer of `len` values, or an error for NULL.
///
/// # Safety
/// `p` must be NULL or valid for `len` values for the call.
unsafe fn buffer<'a, T>(p: *mut T, len: usize, what: &str) -> Result<&'a mut [T], String> {
    if p.is_null() {
        return Err(format!("{what} buffer is NULL"));
    }
    // SAFETY: per the caller.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, len) })
}

unsafe extern "C" fn host_reset(
    ctx: *mut c_void,
    env: u32,
    obs: *mut f64,
    obs_len: usize,
) -> tb_status {
    with_world(ctx, abi::TB_INVALID_ARGUMENT, |w| {
        // SAFETY: the plugin promises obs_len writable values.
        let obs = unsafe { buffer(obs, obs_len, "observation")? };
        w.reset(env, obs).map(|_| abi::TB_OK)
    })
}

unsafe extern "C" fn host_step(
    ctx: *mut c_void,
    first: u32,
    count: u32,
    actions: *const f64,
    actions_len: usize,
    out: *const tb_step_out,
) -> tb_status {
    with_world(ctx, abi::TB_INVALID_ARGUMENT, |w| {
        if out.is_null() {
            return Err("step output struct is NULL".to_string());
        }
        // SAFETY: non-null; size checked before the fields are used.
        let raw = unsafe { &*out };
        if (raw.struct_size as usize) < std::mem::size_of::<tb_step_out>() {
            return Err(format!(
                "tb_step_out of {} bytes is smaller than ABI 1.0's",
                raw.struct_size
            ));
        }
        let (c, d) = (count as usize, w.obs_dim);
        // SAFETY: the plugin promises buffers of these sizes (ABI step contract).
        let mut out = unsafe {
            StepOut {
                observations: buffer(raw.observations, c * d, "observations")?,
                final_observations: if raw.final_observations.is_null() {
                    None
                } else {
                    Some(buffer(raw.final_observations, c * d, "final observations")?)
                },
                rewards: buffer(raw.rewards, c, "rewards")?,
                terminated: buffer(raw.terminated, c, "terminated")?,
                truncated: buffer(raw.truncated, c, "truncated")?,
            }
        };
        // SAFETY: the plugin promises `actions_len` readable values for the
        // call; the slice is only read, despite `buffer`'s `&mut`.
        let actions = unsafe { buffer(actions as *mut f64, actions_len, "actions")? };
        w.step(first, count, actions, &mut out).map(|stepped| {
            if stepped {
                abi::TB_OK
            } else {
                abi::TB_BUDGET_EXHAUSTED
            }
        })
    })
}

unsafe extern "C" fn host_snapshot(ctx: *mut c_void, env: u32, out: *mut u64) -> tb_status {
    with_world(ctx, abi::TB_INVALID_ARGUMENT, |w| {
        // SAFETY: the plugin promises one writable `u64` for the call.
        let out = unsafe { buffer(out, 1, "snapshot id")? };
        out[0] = w.snapshot(env)?;
        Ok(abi::TB_OK)
    })
}

unsafe extern "C" fn host_restore(ctx: *mut c_void, env: u32, id: u64) -> tb_status {
    with_world(ctx, abi::TB_NOT_FOUND, |w| {
        w.restore(env, id).map(|_| abi::TB_OK)
    })
}

unsafe extern "C" fn host_release(ctx: *mut c_void, id: u64) -> tb_status {
    with_world(ctx, abi::TB_NOT_FOUND, |w| {
        w.snapshots
            .remove(&id)
            .map(|_| abi::TB_OK)
            .ok_or_else(|| format!("release of unknown snapshot {id}"))
    })
}

unsafe extern "C" fn host_log_metric(ctx: *mut c_void, name: *const c_char, value: f64) {
    with_world(ctx, (), |w| {
        if name.is_null() {
            return Err("log_metric with a NULL name".to_string());
        }
        // SAFETY: non-null NUL-terminated string for the call.
        let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
        w.log_metric(&name, value);
        Ok(())
    })
}

unsafe extern "C" fn host_steps_remaining(ctx: *mut c_void) -> u64 {
    with_world(ctx, 0, |w| Ok(w.budget - w.used.min(w.budget)))
}

unsafe extern "C" fn host_extension(ctx: *mut c_void, id: *const c_char) -> *const c_void {
    if ctx.is_null() || id.is_null() {
        return std::ptr::null();
    }
    // SAFETY: ctx is the HostBox we handed out, alive while the instance is;
    // `id` is a NUL-terminated string for the call. Only immutable fields
    // are read, so this is safe from any thread, as the ABI promises.
    let (host, id) = unsafe { (&*(ctx as *const HostBox), CStr::from_ptr(id)) };
    if id.to_bytes_with_nul() == abi::TB_HOST_EXT_THREADS {
        &host.threads as *const tb_threads as *const c_void
    } else {
        std::ptr::null()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
