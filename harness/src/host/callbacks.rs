//! The C callback table a plugin calls (`tb_host`'s functions and the
//! extensions'): each turns raw pointers into checked buffers
//! ([`super::buffers`]) and calls the [`World`] behind `ctx`; a panic or a
//! misuse becomes the host's fault, never an unwind across the ABI.

use super::HostBox;
use super::buffers::{ObsOut, StepOut, buffer, output_struct};
use super::world::World;
use std::ffi::{CStr, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use trustbench_plugin::abi::{self, tb_byte_step_out, tb_status, tb_step_out};

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

/// A batched step into the output `out` builds from `(count, obs_dim)`:
/// the part `step` and the byte extension's step share.
fn step_into<'a>(
    ctx: *mut c_void,
    (first, count): (u32, u32),
    (actions, actions_len): (*const f64, usize),
    out: impl FnOnce((usize, usize)) -> Result<StepOut<'a>, String>,
) -> tb_status {
    with_world(ctx, abi::TB_INVALID_ARGUMENT, |w| {
        let mut out = out((count as usize, w.obs_dim()))?;
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

pub(super) unsafe extern "C" fn host_reset(
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

pub(super) unsafe extern "C" fn host_reset_bytes(
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

pub(super) unsafe extern "C" fn host_step(
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

pub(super) unsafe extern "C" fn host_step_bytes(
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

pub(super) unsafe extern "C" fn host_snapshot(
    ctx: *mut c_void,
    env: u32,
    out: *mut u64,
) -> tb_status {
    with_world(ctx, abi::TB_INVALID_ARGUMENT, |w| {
        // SAFETY: the plugin promises one writable `u64` for the call.
        let out = unsafe { buffer(out, 1, "snapshot id")? };
        out[0] = w.snapshot(env)?;
        Ok(abi::TB_OK)
    })
}

pub(super) unsafe extern "C" fn host_restore(ctx: *mut c_void, env: u32, id: u64) -> tb_status {
    with_world(ctx, abi::TB_NOT_FOUND, |w| {
        w.restore(env, id).map(|_| abi::TB_OK)
    })
}

pub(super) unsafe extern "C" fn host_release(ctx: *mut c_void, id: u64) -> tb_status {
    with_world(ctx, abi::TB_NOT_FOUND, |w| {
        w.release(id).map(|_| abi::TB_OK)
    })
}

pub(super) unsafe extern "C" fn host_log_metric(ctx: *mut c_void, name: *const c_char, value: f64) {
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

pub(super) unsafe extern "C" fn host_steps_remaining(ctx: *mut c_void) -> u64 {
    with_world(ctx, 0, |w| Ok(w.steps_remaining()))
}

/// What an extension id returns: the struct, or NULL when not offered.
fn pointer<T>(ext: &Option<T>) -> *const c_void {
    ext.as_ref()
        .map_or(std::ptr::null(), |e| e as *const T as *const c_void)
}

pub(super) unsafe extern "C" fn host_extension(
    ctx: *mut c_void,
    id: *const c_char,
) -> *const c_void {
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
