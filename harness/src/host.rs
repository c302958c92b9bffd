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

use crate::results::{EpisodeRow, MetricRow, Phase, RunLog};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::{CStr, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;
use trustbench_envs::{Env, Space, Step, VecEnv};
use trustbench_plugin::abi::{
    self, tb_byte_observations, tb_byte_step_out, tb_host, tb_spaces, tb_status, tb_step_out,
    tb_threads,
};
use trustbench_plugin::parallel;

/// Most snapshots a plugin may hold at once (a leak guard, not a tuning knob).
const MAX_LIVE_SNAPSHOTS: usize = 100_000;

/// Host extensions to withhold, by id, comma-separated: the run then looks
/// to a plugin as if its host predated them (tests compare a plugin's
/// fallback with its use of the extension). Read in [`HostBox::new`] only.
pub const HIDE_EXTENSIONS_VAR: &str = "TRUSTBENCH_HIDE_HOST_EXTENSIONS";

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
    /// Where the envs write the values of observations handed on as bytes
    /// (`obs_dim` per copy); empty until the first byte reset or step.
    scratch: Vec<f64>,
    /// Everything recorded so far.
    pub log: RunLog,
}

/// A plugin's observation rows: values, or bytes for a byte env.
enum ObsOut<'a> {
    Reals(&'a mut [f64]),
    Bytes(&'a mut [u8]),
}

impl<'a> ObsOut<'a> {
    fn len(&self) -> usize {
        match self {
            ObsOut::Reals(x) => x.len(),
            ObsOut::Bytes(x) => x.len(),
        }
    }

    /// Rows of `d` values each.
    fn rows(self, d: usize) -> Vec<ObsOut<'a>> {
        match self {
            ObsOut::Reals(x) => x.chunks_exact_mut(d).map(ObsOut::Reals).collect(),
            ObsOut::Bytes(x) => x.chunks_exact_mut(d).map(ObsOut::Bytes).collect(),
        }
    }

    /// Where the env writes this row's values: the row itself, or (for
    /// bytes) the start of `scratch`, as long as the row.
    fn values<'s>(&'s mut self, scratch: &'s mut [f64]) -> &'s mut [f64] {
        match self {
            ObsOut::Reals(x) => x,
            ObsOut::Bytes(x) => &mut scratch[..x.len()],
        }
    }

    /// After the env wrote its observation through [`ObsOut::values`]: a
    /// byte row takes the env's bytes (a row of values already holds them).
    fn take_bytes(&mut self, env: &dyn Env) {
        if let ObsOut::Bytes(row) = self {
            row.copy_from_slice(env.observation_bytes().expect(BYTE_ENVS_ONLY));
        }
    }

    /// A copy of the observation whose values are `values` (an ended
    /// episode's last one).
    fn take(&mut self, values: &[f64], env: &dyn Env) {
        match self {
            ObsOut::Reals(row) => row.copy_from_slice(values),
            ObsOut::Bytes(_) => self.take_bytes(env),
        }
    }
}

/// Why a byte row always finds the env's bytes.
const BYTE_ENVS_ONLY: &str = "byte observations are offered for byte envs only";

/// One copy's share of a batched step: its env, action and output rows.
struct CopyStep<'a> {
    env: &'a mut Box<dyn Env>,
    action: &'a [f64],
    observation: ObsOut<'a>,
    final_observation: Option<ObsOut<'a>>,
    scratch: &'a mut [f64],
    step: Option<Step>,
}

impl CopyStep<'_> {
    /// [`VecEnv::step_copy`] into the plugin's rows, of either kind.
    fn run(&mut self) {
        let env = self.env.as_mut();
        let values = self.observation.values(self.scratch);
        let last = &mut self.final_observation;
        self.step = Some(VecEnv::step_copy_with(env, self.action, values, |e, l| {
            if let Some(row) = last {
                row.take(l, e);
            }
        }));
        self.observation.take_bytes(self.env.as_ref());
    }
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
            scratch: Vec::new(),
            log: RunLog::default(),
        }
    }

    /// Whether the envs' observations are bytes (see
    /// [`trustbench_envs::Env::observation_bytes`]), so they can be handed on
    /// as such.
    pub fn byte_observations(&self) -> bool {
        !self.envs.is_empty() && self.envs.observation_bytes(0).is_some()
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

    fn reset(&mut self, env: u32, obs: ObsOut<'_>) -> Result<(), String> {
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
        if let ObsOut::Bytes(_) = obs {
            self.scratch
                .resize(self.scratch.len().max(self.obs_dim), 0.0);
        }
        for (mut row, i) in obs.rows(self.obs_dim).into_iter().zip(range) {
            self.envs.reset(i, row.values(&mut self.scratch));
            let env = self.envs.copies_mut(i..i + 1)[0].as_ref();
            env_failed(env)?;
            row.take_bytes(env);
            self.progress[i] = EpisodeProgress::default();
        }
        Ok(())
    }

    /// Step copies `first..first+count`. `Ok(false)`: budget exhausted (or
    /// a stop requested).
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
        if crate::signals::requested().is_some() {
            // A stop was requested: end the plugin's iteration as if the
            // budget were spent, so the run stops at the next iteration
            // boundary (recorded `interrupted`) even when one iteration
            // would sample for a long time. Not counted as refused: the
            // budget is not what ended it.
            return Ok(false);
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
        let mut finals = out.final_observations.take().map(|f| f.rows(d).into_iter());
        let observations = std::mem::replace(&mut out.observations, ObsOut::Reals(&mut []));
        // Rows of values are written in place; byte rows need the values somewhere.
        let scratch: Box<dyn Iterator<Item = &mut [f64]>> = match observations {
            ObsOut::Reals(_) => Box::new(std::iter::repeat_with(|| &mut [][..])),
            ObsOut::Bytes(_) => {
                self.scratch.resize(count * d, 0.0);
                Box::new(self.scratch.chunks_exact_mut(d))
            }
        };
        let mut copies: Vec<CopyStep<'_>> = self
            .envs
            .copies_mut(first..first + count)
            .iter_mut()
            .zip(actions.chunks_exact(act_dim))
            .zip(observations.rows(d))
            .zip(scratch)
            .map(|(((env, action), observation), scratch)| CopyStep {
                env,
                action,
                observation,
                final_observation: finals.as_mut().and_then(|f| f.next()),
                scratch,
                step: None,
            })
            .collect();
        parallel::split(&mut copies, &mut self.workers, |_, _, c| c.run());
        let steps: Vec<Step> = copies.iter().filter_map(|c| c.step).collect();
        drop(copies);
        for env in self.envs.copies_mut(first..first + count).iter() {
            env_failed(env.as_ref())?;
        }
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
        if let Some(why) = self.envs.copies_mut(i..i + 1)[0].snapshot_refusal() {
            return Err(why);
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

/// An env's failure (an env of a provider library that returned an error
/// or a non-finite value) as a fault; the text names the provider.
fn env_failed(env: &dyn Env) -> Result<(), String> {
    match env.failure() {
        Some(why) => Err(format!("{ENV_FAILURE}{why}")),
        None => Ok(()),
    }
}

/// How a fault that is the env's failure, not the plugin's misuse, starts:
/// the run reports it as the env's ([`env_failure`]).
const ENV_FAILURE: &str = "env failed: ";

/// The env's failure within a fault, if that is what the fault is.
pub fn env_failure(fault: &str) -> Option<&str> {
    fault.strip_prefix(ENV_FAILURE)
}

/// The plugin's step output buffers, checked and sliced.
struct StepOut<'a> {
    observations: ObsOut<'a>,
    final_observations: Option<ObsOut<'a>>,
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
        let observation_space = world.envs.observation_space().clone();
        let action_space = world.action_space.clone();
        let num_envs = world.envs.len() as u32;
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

/// The plugin's output struct `p` (a `T` that starts with its
/// `struct_size`), checked to be non-NULL and at least as large as ours.
///
/// # Safety
/// `p` must be NULL or point to a readable struct that starts with a `u32`
/// size and is valid for the size it declares, for the call.
unsafe fn output_struct<'a, T>(p: *const T, name: &str) -> Result<&'a T, String> {
    if p.is_null() {
        return Err(format!("{name} is NULL"));
    }
    // SAFETY: non-null; every ABI struct starts with its u32 size, read
    // before any other field.
    let size = unsafe { *(p as *const u32) } as usize;
    if size < std::mem::size_of::<T>() {
        return Err(format!(
            "{name} of {size} bytes is smaller than the {} this host knows",
            std::mem::size_of::<T>()
        ));
    }
    // SAFETY: the plugin declares at least our size.
    Ok(unsafe { &*p })
}

impl<'a> StepOut<'a> {
    /// The plugin's buffers for `c` copies of `d` observation values each,
    /// `make` turning an observation pointer into rows of its kind.
    ///
    /// # Safety
    /// Every non-NULL pointer must be valid for the ABI step contract's
    /// length (`c * d` observation values, `c` of the rest) for the call.
    unsafe fn new<T>(
        (c, d): (usize, usize),
        observations: *mut T,
        final_observations: *mut T,
        make: fn(&'a mut [T]) -> ObsOut<'a>,
        (rewards, terminated, truncated): (*mut f64, *mut u8, *mut u8),
    ) -> Result<StepOut<'a>, String> {
        // SAFETY: per the caller.
        unsafe {
            Ok(StepOut {
                observations: make(buffer(observations, c * d, "observations")?),
                final_observations: match final_observations.is_null() {
                    true => None,
                    false => Some(make(buffer(
                        final_observations,
                        c * d,
                        "final observations",
                    )?)),
                },
                rewards: buffer(rewards, c, "rewards")?,
                terminated: buffer(terminated, c, "terminated")?,
                truncated: buffer(truncated, c, "truncated")?,
            })
        }
    }
}

/// A batched step into the output `out` builds from `(count, obs_dim)`:
/// the part `step` and the byte extension's step share.
fn step_into<'a>(
    ctx: *mut c_void,
    (first, count): (u32, u32),
    (actions, actions_len): (*const f64, usize),
    out: impl FnOnce((usize, usize)) -> Result<StepOut<'a>, String>,
) -> tb_status {
    with_world(ctx, abi::TB_INVALID_ARGUMENT, |w| {
        let mut out = out((count as usize, w.obs_dim))?;
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

unsafe extern "C" fn host_reset(
    ctx: *mut c_void,
    env: u32,
    obs: *mut f64,
    obs_len: usize,
) -> tb_status {
    with_world(ctx, abi::TB_INVALID_ARGUMENT, |w| {
        // SAFETY: the plugin promises obs_len writable values.
        let obs = unsafe { buffer(obs, obs_len, "observation")? };
        w.reset(env, ObsOut::Reals(obs)).map(|_| abi::TB_OK)
    })
}

unsafe extern "C" fn host_reset_bytes(
    ctx: *mut c_void,
    env: u32,
    obs: *mut u8,
    obs_len: usize,
) -> tb_status {
    with_world(ctx, abi::TB_INVALID_ARGUMENT, |w| {
        // SAFETY: the plugin promises obs_len writable bytes.
        let obs = unsafe { buffer(obs, obs_len, "observation")? };
        w.reset(env, ObsOut::Bytes(obs)).map(|_| abi::TB_OK)
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
    step_into(ctx, (first, count), (actions, actions_len), |shape| {
        // SAFETY: the plugin passes its struct for the call.
        let raw = unsafe { output_struct(out, "tb_step_out")? };
        let flags = (raw.rewards, raw.terminated, raw.truncated);
        // SAFETY: the plugin promises buffers of these sizes (ABI step contract).
        unsafe {
            StepOut::new(
                shape,
                raw.observations,
                raw.final_observations,
                ObsOut::Reals,
                flags,
            )
        }
    })
}

unsafe extern "C" fn host_step_bytes(
    ctx: *mut c_void,
    first: u32,
    count: u32,
    actions: *const f64,
    actions_len: usize,
    out: *const tb_byte_step_out,
) -> tb_status {
    step_into(ctx, (first, count), (actions, actions_len), |(c, d)| {
        // SAFETY: the plugin passes its struct for the call.
        let raw = unsafe { output_struct(out, "tb_byte_step_out")? };
        if raw.obs_len != c * d {
            return Err(format!(
                "byte step with obs_len {} for {c} envs; expected {} ({c} × {d})",
                raw.obs_len,
                c * d
            ));
        }
        let flags = (raw.rewards, raw.terminated, raw.truncated);
        // SAFETY: obs_len bytes, as declared and checked; the rest per the
        // ABI step contract.
        unsafe {
            StepOut::new(
                (c, d),
                raw.observations,
                raw.final_observations,
                ObsOut::Bytes,
                flags,
            )
        }
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

/// What an extension id returns: the struct, or NULL when not offered.
fn pointer<T>(ext: &Option<T>) -> *const c_void {
    ext.as_ref()
        .map_or(std::ptr::null(), |e| e as *const T as *const c_void)
}

unsafe extern "C" fn host_extension(ctx: *mut c_void, id: *const c_char) -> *const c_void {
    if ctx.is_null() || id.is_null() {
        return std::ptr::null();
    }
    // SAFETY: ctx is the HostBox we handed out, alive while the instance is;
    // `id` is a NUL-terminated string for the call. Only immutable fields
    // are read, so this is safe from any thread, as the ABI promises.
    let (host, id) = unsafe { (&*(ctx as *const HostBox), CStr::from_ptr(id)) };
    match id.to_bytes_with_nul() {
        abi::TB_HOST_EXT_THREADS => pointer(&host.threads),
        abi::TB_HOST_EXT_BYTE_OBSERVATIONS => pointer(&host.byte_observations),
        _ => std::ptr::null(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trustbench_envs::EnvConfig;

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
