//! The plugin-side view of the host vtable: safe methods over the raw
//! callbacks, with every buffer length derived from slices so a Rust plugin
//! cannot pass a wrong one.

use crate::abi::{self, tb_byte_observations, tb_byte_step_out, tb_host, tb_status, tb_step_out};
use crate::{Error, Result};
use std::ffi::{CString, c_char};

/// The harness's services, as seen by a plugin. Valid for the instance's life.
#[derive(Debug)]
pub struct Host {
    raw: tb_host,
    /// The host's `trustbench.byte-observations/1`, when offered whole.
    bytes: Option<tb_byte_observations>,
}

// SAFETY: the host's `ctx` is only used from the thread that drives the
// instance (the ABI's [during-train] rule); moving the handle between
// threads between calls is allowed by the contract.
unsafe impl Send for Host {}

/// Caller-owned buffers for one batched step of `rewards.len()` copies;
/// observations are values (`f64`, [`Host::step`]) or bytes (`u8`,
/// [`Host::step_bytes`]).
#[derive(Debug)]
pub struct StepBuffers<'a, O = f64> {
    /// `count * observation dim`: next observations (first of a new episode
    /// where one ended).
    pub observations: &'a mut [O],
    /// Optional `count * observation dim`: last observation of each ended
    /// episode, for bootstrapping on truncation.
    pub final_observations: Option<&'a mut [O]>,
    /// `count` rewards.
    pub rewards: &'a mut [f64],
    /// `count` flags: a true end (no bootstrap).
    pub terminated: &'a mut [u8],
    /// `count` flags: cut off by the time limit (bootstrap).
    pub truncated: &'a mut [u8],
}

/// What a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    /// The copies were stepped and the buffers written.
    Stepped,
    /// The budget cannot cover the step: nothing happened; end the iteration.
    BudgetExhausted,
}

fn check(status: tb_status, what: &str) -> Result<()> {
    match status {
        abi::TB_OK => Ok(()),
        s => Err(Error::new(format!("host {what} failed with status {s}"))),
    }
}

/// A step's status as its outcome.
fn outcome(status: tb_status, what: &str) -> Result<StepOutcome> {
    match status {
        abi::TB_BUDGET_EXHAUSTED => Ok(StepOutcome::BudgetExhausted),
        s => check(s, what).map(|_| StepOutcome::Stepped),
    }
}

impl<O> StepBuffers<'_, O> {
    /// The number of copies, once every buffer agrees on it.
    fn count(&self) -> Result<usize> {
        let count = self.rewards.len();
        if self.terminated.len() != count || self.truncated.len() != count {
            return Err(Error::new("step buffers disagree on the number of envs"));
        }
        Ok(count)
    }
}

/// Host extension `id` (NUL-terminated) as a `T`, a struct that starts
/// with its `u32` size: `None` when the host has no such extension or
/// declares it smaller than this SDK's `T` (an older revision).
fn host_extension<T: Copy>(raw: &tb_host, id: &[u8]) -> Option<T> {
    let extension = raw.extension?;
    // SAFETY: the callback comes from the host's vtable; the id is NUL-terminated.
    let ext = unsafe { extension(raw.ctx, id.as_ptr() as *const c_char) } as *const T;
    if ext.is_null() {
        return None;
    }
    // SAFETY: non-null; the host keeps it alive as long as itself. Its
    // leading u32 size is read first, the rest only when the size covers it.
    let size = unsafe { *(ext as *const u32) } as usize;
    // SAFETY: as just said.
    (size >= std::mem::size_of::<T>()).then(|| unsafe { *ext })
}

impl Host {
    /// Wrap a host vtable, checking its version and that every callback this
    /// SDK uses is present.
    ///
    /// # Safety
    /// `raw` must be NULL or point to a `tb_host` that outlives the instance.
    pub unsafe fn from_raw(raw: *const tb_host) -> Result<Host> {
        if raw.is_null() {
            return Err(Error::new("host is NULL"));
        }
        // SAFETY: non-null and valid per the caller.
        let raw = unsafe { *raw };
        if raw.abi_major != abi::TB_ABI_MAJOR {
            return Err(Error::new(format!(
                "host speaks ABI {}.x, plugin {}.x",
                raw.abi_major,
                abi::TB_ABI_MAJOR
            )));
        }
        if (raw.struct_size as usize) < std::mem::size_of::<tb_host>()
            || raw.reset.is_none()
            || raw.step.is_none()
            || raw.snapshot.is_none()
            || raw.restore.is_none()
            || raw.release_snapshot.is_none()
            || raw.log_metric.is_none()
            || raw.steps_remaining.is_none()
        {
            return Err(Error::new("host vtable is incomplete"));
        }
        let bytes =
            host_extension::<tb_byte_observations>(&raw, abi::TB_HOST_EXT_BYTE_OBSERVATIONS)
                .filter(|b| b.reset.is_some() && b.step.is_some());
        Ok(Host { raw, bytes })
    }

    /// Number of env copies (N).
    pub fn num_envs(&self) -> usize {
        self.raw.num_envs as usize
    }

    /// This plugin's seed (derived by the harness from the run's seed on a
    /// stream no harness stream meets); derive every random stream of the
    /// plugin from it.
    pub fn seed(&self) -> u64 {
        self.raw.seed
    }

    /// Threads this plugin's batch math may use, the calling thread
    /// included: the host's `trustbench.threads/1` extension, or 1 from a
    /// host without it (or one that reports 0). Results must not depend on
    /// it; see [`crate::parallel`].
    pub fn threads(&self) -> usize {
        host_extension::<abi::tb_threads>(&self.raw, abi::TB_HOST_EXT_THREADS)
            .map_or(1, |t| t.threads.max(1) as usize)
    }

    /// Whether observations can come as bytes ([`Host::reset_bytes`],
    /// [`Host::step_bytes`]): the host offers `trustbench.byte-observations/1`,
    /// which it does for envs whose observations are bytes. Byte `b` stands
    /// for `f64::from(b) * abi::TB_BYTE_OBSERVATION_SCALE`, bit for bit the
    /// value [`Host::reset`] and [`Host::step`] deliver.
    pub fn byte_observations(&self) -> bool {
        self.bytes.is_some()
    }

    /// The byte extension, or an error that says the host has none.
    fn bytes(&self) -> Result<tb_byte_observations> {
        self.bytes.ok_or_else(|| {
            Error::new("the host offers no trustbench.byte-observations/1 for this env")
        })
    }

    /// Reset copy `env` (or all with `None`), writing the first observation(s)
    /// into `obs` (`dim` or `N * dim` values).
    pub fn reset(&mut self, env: Option<usize>, obs: &mut [f64]) -> Result<()> {
        let env = env.map_or(abi::TB_ALL_ENVS, |e| e as u32);
        // SAFETY: checked non-null in from_raw; `obs` is a valid buffer of obs.len().
        let s =
            unsafe { (self.raw.reset.unwrap())(self.raw.ctx, env, obs.as_mut_ptr(), obs.len()) };
        check(s, "reset")
    }

    /// [`Host::reset`] with byte observations (see [`Host::byte_observations`]).
    pub fn reset_bytes(&mut self, env: Option<usize>, obs: &mut [u8]) -> Result<()> {
        let reset = self.bytes()?.reset.expect("checked in from_raw");
        let env = env.map_or(abi::TB_ALL_ENVS, |e| e as u32);
        // SAFETY: a checked extension's callback; `obs` is a valid buffer of obs.len().
        let s = unsafe { reset(self.raw.ctx, env, obs.as_mut_ptr(), obs.len()) };
        check(s, "byte reset")
    }

    /// Step copies `first .. first + out.rewards.len()` with `actions`.
    pub fn step(
        &mut self,
        first: usize,
        actions: &[f64],
        out: StepBuffers<'_>,
    ) -> Result<StepOutcome> {
        let count = out.count()?;
        let raw_out = tb_step_out {
            struct_size: std::mem::size_of::<tb_step_out>() as u32,
            observations: out.observations.as_mut_ptr(),
            final_observations: out
                .final_observations
                .map_or(std::ptr::null_mut(), |f| f.as_mut_ptr()),
            rewards: out.rewards.as_mut_ptr(),
            terminated: out.terminated.as_mut_ptr(),
            truncated: out.truncated.as_mut_ptr(),
        };
        // SAFETY: every pointer comes from a live slice; the host checks lengths against count.
        let s = unsafe {
            (self.raw.step.unwrap())(
                self.raw.ctx,
                first as u32,
                count as u32,
                actions.as_ptr(),
                actions.len(),
                &raw_out,
            )
        };
        outcome(s, "step")
    }

    /// [`Host::step`] with byte observations (see
    /// [`Host::byte_observations`]).
    pub fn step_bytes(
        &mut self,
        first: usize,
        actions: &[f64],
        out: StepBuffers<'_, u8>,
    ) -> Result<StepOutcome> {
        let step = self.bytes()?.step.expect("checked in from_raw");
        let count = out.count()?;
        let obs_len = out.observations.len();
        if out
            .final_observations
            .as_ref()
            .is_some_and(|f| f.len() != obs_len)
        {
            return Err(Error::new(
                "final observation buffer differs in length from the observation buffer",
            ));
        }
        let raw_out = tb_byte_step_out {
            struct_size: std::mem::size_of::<tb_byte_step_out>() as u32,
            obs_len,
            observations: out.observations.as_mut_ptr(),
            final_observations: out
                .final_observations
                .map_or(std::ptr::null_mut(), |f| f.as_mut_ptr()),
            rewards: out.rewards.as_mut_ptr(),
            terminated: out.terminated.as_mut_ptr(),
            truncated: out.truncated.as_mut_ptr(),
        };
        // SAFETY: a checked extension's callback; every pointer comes from a
        // live slice, the observations' length is passed and checked by the host.
        let s = unsafe {
            step(
                self.raw.ctx,
                first as u32,
                count as u32,
                actions.as_ptr(),
                actions.len(),
                &raw_out,
            )
        };
        outcome(s, "byte step")
    }

    /// Save the full state of copy `env`; returns the snapshot's id.
    pub fn snapshot(&mut self, env: usize) -> Result<u64> {
        let mut id = 0u64;
        // SAFETY: checked non-null in from_raw; `id` is a valid out-pointer.
        let s = unsafe { (self.raw.snapshot.unwrap())(self.raw.ctx, env as u32, &mut id) };
        check(s, "snapshot").map(|_| id)
    }

    /// Put copy `env` back into snapshot `id`, exactly.
    pub fn restore(&mut self, env: usize, id: u64) -> Result<()> {
        // SAFETY: checked non-null in from_raw.
        let s = unsafe { (self.raw.restore.unwrap())(self.raw.ctx, env as u32, id) };
        check(s, "restore")
    }

    /// Free snapshot `id`.
    pub fn release_snapshot(&mut self, id: u64) -> Result<()> {
        // SAFETY: checked non-null in from_raw.
        let s = unsafe { (self.raw.release_snapshot.unwrap())(self.raw.ctx, id) };
        check(s, "release_snapshot")
    }

    /// Record a metric for the current iteration (namespaced, e.g. `train/kl`).
    pub fn log(&mut self, name: &str, value: f64) {
        let name = CString::new(name.replace('\0', "")).expect("NULs removed");
        // SAFETY: checked non-null in from_raw; the name lives for the call.
        unsafe { (self.raw.log_metric.unwrap())(self.raw.ctx, name.as_ptr(), value) }
    }

    /// Env steps left in the run's budget.
    pub fn steps_remaining(&self) -> u64 {
        // SAFETY: checked non-null in from_raw.
        unsafe { (self.raw.steps_remaining.unwrap())(self.raw.ctx) }
    }
}

#[cfg(test)]
mod tests {
    use super::Host;
    use crate::abi::{self, tb_host, tb_host_extension_fn, tb_threads};
    use std::ffi::{CStr, c_char, c_void};

    /// A host whose only callback is `extension`, with `ctx` passed to it.
    fn host(extension: Option<tb_host_extension_fn>, ctx: *mut c_void) -> Host {
        Host {
            bytes: None,
            raw: tb_host {
                struct_size: std::mem::size_of::<tb_host>() as u32,
                abi_major: abi::TB_ABI_MAJOR,
                abi_minor: 0,
                num_envs: 1,
                seed: 0,
                ctx,
                reset: None,
                step: None,
                snapshot: None,
                restore: None,
                release_snapshot: None,
                log_metric: None,
                steps_remaining: None,
                extension,
            },
        }
    }

    /// The `tb_threads` behind `ctx` for the threads id, NULL otherwise.
    unsafe extern "C" fn threads_at_ctx(ctx: *mut c_void, id: *const c_char) -> *const c_void {
        // SAFETY: the SDK passes a NUL-terminated id.
        let id = unsafe { CStr::from_ptr(id) };
        if id.to_bytes_with_nul() == abi::TB_HOST_EXT_THREADS {
            ctx
        } else {
            std::ptr::null()
        }
    }

    unsafe extern "C" fn nothing(_: *mut c_void, _: *const c_char) -> *const c_void {
        std::ptr::null()
    }

    #[test]
    fn threads_come_from_the_extension_and_default_to_one() {
        let size = std::mem::size_of::<tb_threads>() as u32;
        let threads = |struct_size, threads| {
            let mut ext = tb_threads {
                struct_size,
                threads,
            };
            let ctx = &mut ext as *mut tb_threads as *mut c_void;
            host(Some(threads_at_ctx), ctx).threads()
        };
        assert_eq!(threads(size, 3), 3);
        assert_eq!(threads(size, 0), 1, "0 means 1");
        assert_eq!(threads(4, 3), 1, "too small a struct");
        // An ABI 1.0 host: no such extension, or no extension callback.
        let null = std::ptr::null_mut();
        assert_eq!(host(Some(nothing), null).threads(), 1);
        assert_eq!(host(None, null).threads(), 1);
    }

    #[test]
    fn byte_calls_without_the_extension_are_errors_that_name_it() {
        let mut old = host(Some(nothing), std::ptr::null_mut());
        assert!(!old.byte_observations());
        let e = old.reset_bytes(None, &mut [0; 4]).unwrap_err();
        assert!(
            e.to_string().contains("trustbench.byte-observations/1"),
            "{e}"
        );
    }
}
