//! The Gymnasium env provider (`--env gym:ID`): the env-provider ABI over
//! any Gymnasium env, with the Gymnasium side in `trustbench_gym.py`.
//!
//! One family descriptor, `gym:`, takes every id after the prefix as a
//! Gymnasium id (case kept) and every `--env-set key=value` as a keyword
//! argument of `gymnasium.make`. Each copy is one Gymnasium env; the batch
//! steps them in turn, holding the interpreter lock for the whole call.
//! Snapshots are offered only where they are exact, for MuJoCo envs (the
//! integration state, the env's random generator and the time limit's
//! count); elsewhere the vine refuses these envs by name. Byte
//! observations are not offered: observations travel as doubles.

use crate::errors::describe;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyModule};
use std::ffi::{CStr, CString, c_char, c_void};
use std::sync::{Mutex, OnceLock};
use trustbench_plugin::abi::{
    TB_BUFFER_TOO_SMALL, TB_ERROR, TB_INVALID_ARGUMENT, TB_MAX_RANK, TB_OK, TB_SPACE_BOX,
    TB_SPACE_DISCRETE, tb_space, tb_status, tb_step_out,
};
use trustbench_plugin::copy_to_c_buffer;
use trustbench_plugin::env_abi::{
    TB_ENV_ABI_MAJOR, TB_ENV_ABI_MINOR, TB_ENV_EXT_SNAPSHOT, TB_ENV_FAMILY, TB_ENV_OPEN_OPTIONS,
    tb_env_batch, tb_env_descriptor, tb_env_provider, tb_env_snapshot,
};

/// The Gymnasium side's source, embedded like the protocol module.
const GYM_SOURCE: &str = include_str!("../trustbench_gym.py");

/// The family prefix of every id this provider serves.
const PREFIX: &str = "gym:";

/// Training budget of a `gym:` run unless told otherwise (MuJoCo's usual 1M).
const DEFAULT_STEPS: u64 = 1_000_000;

/// The static entry and descriptor (made once: the library version carries
/// the installed Gymnasium, MuJoCo and ale-py versions).
struct Statics {
    entry: tb_env_provider,
    descriptor: tb_env_descriptor,
}

// SAFETY: the pointers inside point to leaked, immutable C strings.
unsafe impl Send for Statics {}
// SAFETY: as for Send.
unsafe impl Sync for Statics {}

static STATICS: OnceLock<Statics> = OnceLock::new();

fn leak(text: &str) -> *const c_char {
    CString::new(text.replace('\0', " "))
        .expect("NUL replaced")
        .into_raw()
}

/// The provider entry (the interpreter must be started).
pub fn entry() -> Result<*const tb_env_provider, String> {
    let versions = Python::attach(|py| -> PyResult<String> {
        module(py)?.call_method0("versions")?.extract()
    })
    .map_err(|e| Python::attach(|py| describe(py, &e)))?;
    let statics = STATICS.get_or_init(|| Statics {
        entry: tb_env_provider {
            struct_size: std::mem::size_of::<tb_env_provider>() as u32,
            abi_major: TB_ENV_ABI_MAJOR,
            abi_minor: TB_ENV_ABI_MINOR,
            library_name: leak("trustbench-gymnasium"),
            library_version: leak(&format!("{} ({versions})", env!("CARGO_PKG_VERSION"))),
            env_count: Some(env_count),
            env: Some(env_descriptor),
            create: Some(create),
        },
        descriptor: tb_env_descriptor {
            struct_size: std::mem::size_of::<tb_env_descriptor>() as u32,
            flags: TB_ENV_FAMILY | TB_ENV_OPEN_OPTIONS,
            id: leak(PREFIX),
            description: leak(
                "any Gymnasium env (Box and Discrete spaces): gym:CartPole-v1, gym:Hopper-v5; \
                 --env-set key=value goes to gymnasium.make",
            ),
            options_json: leak("[]"),
            max_episode_steps: 0,
            default_steps: DEFAULT_STEPS,
        },
    });
    Ok(&statics.entry)
}

/// The embedded `trustbench_gym` module, made once.
fn module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    static MODULE: OnceLock<Py<PyModule>> = OnceLock::new();
    if let Some(m) = MODULE.get() {
        return Ok(m.bind(py).clone());
    }
    let source = CString::new(GYM_SOURCE).expect("no NUL in the source");
    let module = PyModule::from_code(
        py,
        &source,
        c"<trustbench>/trustbench_gym.py",
        c"trustbench_gym",
    )?;
    let _ = MODULE.set(module.clone().unbind());
    Ok(module)
}

unsafe extern "C" fn env_count() -> u32 {
    1
}

unsafe extern "C" fn env_descriptor(index: u32) -> *const tb_env_descriptor {
    match (index, STATICS.get()) {
        (0, Some(s)) => &s.descriptor,
        _ => std::ptr::null(),
    }
}

/// One space as the ABI holds it, its bounds owned here.
struct OwnedSpace {
    space: tb_space,
    _bounds: Option<(Vec<f64>, Vec<f64>)>,
}

fn read_space(description: &Bound<'_, PyAny>) -> PyResult<OwnedSpace> {
    let kind: String = description.get_item("kind")?.extract()?;
    let shape: Vec<u32> = description.get_item("shape")?.extract()?;
    let mut dims = [0u32; TB_MAX_RANK];
    dims[..shape.len()].copy_from_slice(&shape);
    let dim = shape.iter().map(|&d| d as u64).product();
    let mut space = tb_space {
        kind: TB_SPACE_DISCRETE,
        rank: shape.len() as u32,
        shape: dims,
        dim,
        n: 0,
        low: std::ptr::null(),
        high: std::ptr::null(),
    };
    if kind == "discrete" {
        space.n = description.get_item("n")?.extract()?;
        return Ok(OwnedSpace {
            space,
            _bounds: None,
        });
    }
    let low: Vec<f64> = description.get_item("low")?.extract()?;
    let high: Vec<f64> = description.get_item("high")?.extract()?;
    space.kind = TB_SPACE_BOX;
    space.low = low.as_ptr();
    space.high = high.as_ptr();
    Ok(OwnedSpace {
        space,
        _bounds: Some((low, high)),
    })
}

/// A batch's own state (`provider_data`).
struct GymBatch {
    copies: Vec<Py<PyAny>>,
    observation: OwnedSpace,
    action: OwnedSpace,
    /// Whether every copy can save and load its state exactly.
    snapshots: bool,
    last_error: Mutex<String>,
}

impl GymBatch {
    fn fail(&self, message: String) -> tb_status {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = message;
        TB_ERROR
    }
}

/// The batch's state behind `this`.
///
/// # Safety
/// `this` must be a batch made by [`create`] and not destroyed.
unsafe fn state<'a>(this: *const tb_env_batch) -> &'a GymBatch {
    // SAFETY: per the contract; provider_data is a leaked Box<GymBatch>.
    unsafe { &*((*this).provider_data as *const GymBatch) }
}

fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, String> {
    if p.is_null() {
        return Err(format!("{what} is NULL"));
    }
    // SAFETY: non-null, NUL-terminated per the ABI.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| format!("{what} is not UTF-8"))
}

unsafe extern "C" fn create(
    env_id: *const c_char,
    options_json: *const c_char,
    num_envs: u32,
    seeds: *const u64,
    out: *mut *const tb_env_batch,
    err: *mut c_char,
    err_cap: usize,
) -> tb_status {
    let result = std::panic::catch_unwind(|| -> Result<*const tb_env_batch, String> {
        let id = str_arg(env_id, "env id")?;
        let options = str_arg(options_json, "options")?;
        let gym_id = id
            .strip_prefix(PREFIX)
            .filter(|g| !g.is_empty())
            .ok_or_else(|| format!("env id '{id}' does not name a Gymnasium env (gym:ID)"))?;
        if num_envs == 0 || seeds.is_null() || out.is_null() {
            return Err("create: no copies, or NULL seeds or out".to_string());
        }
        // SAFETY: `seeds` holds num_envs seeds per the ABI.
        let seeds = unsafe { std::slice::from_raw_parts(seeds, num_envs as usize) };
        Python::attach(|py| {
            let made = || -> PyResult<GymBatch> {
                let class = module(py)?.getattr("Copy")?;
                let copies = seeds
                    .iter()
                    .map(|&s| class.call1((gym_id, options, s)).map(Bound::unbind))
                    .collect::<PyResult<Vec<_>>>()?;
                let first = copies[0].bind(py);
                let snapshots = first.getattr("snapshots")?.extract()?;
                Ok(GymBatch {
                    snapshots,
                    observation: read_space(&first.getattr("observation")?)?,
                    action: read_space(&first.getattr("action")?)?,
                    copies,
                    last_error: Mutex::new(String::new()),
                })
            };
            let batch = made().map_err(|e| short_error(py, &e))?;
            let (observation, action) = (batch.observation.space, batch.action.space);
            let batch = Box::new(tb_env_batch {
                struct_size: std::mem::size_of::<tb_env_batch>() as u32,
                num_envs,
                provider_data: Box::into_raw(Box::new(batch)) as *mut c_void,
                observation,
                action,
                reset: Some(reset),
                step: Some(step),
                last_error: Some(last_error),
                extension: Some(extension),
                destroy: Some(destroy),
            });
            Ok(Box::into_raw(batch) as *const tb_env_batch)
        })
    });
    let message = match result {
        Ok(Ok(batch)) => {
            // SAFETY: checked non-null above.
            unsafe { *out = batch };
            return TB_OK;
        }
        Ok(Err(message)) => message,
        Err(_) => "the Gymnasium provider panicked in create".to_string(),
    };
    // SAFETY: `err` is NULL or writable for err_cap bytes per the ABI.
    unsafe { copy_to_c_buffer(&message, err, err_cap) };
    TB_INVALID_ARGUMENT
}

/// A user-facing error (`RuntimeError` raised by `trustbench_gym`) as its
/// message alone; anything else with its traceback.
fn short_error(py: Python<'_>, err: &PyErr) -> String {
    if err.is_instance_of::<pyo3::exceptions::PyRuntimeError>(py)
        && let Ok(text) = err.value(py).str()
    {
        return text.to_string();
    }
    describe(py, err)
}

/// Copies `[first, first + count)` of `batch`, or an error when out of range.
fn range(batch: &GymBatch, first: u32, count: u32) -> Result<std::ops::Range<usize>, String> {
    let (first, count) = (first as usize, count as usize);
    if first + count > batch.copies.len() {
        return Err(format!(
            "copies {first}..{} asked of a batch of {}",
            first + count,
            batch.copies.len()
        ));
    }
    Ok(first..first + count)
}

/// Copy a float64 NumPy vector into `out` (its length checked).
fn write_doubles(array: &Bound<'_, PyAny>, out: &mut [f64]) -> PyResult<()> {
    let bytes = array.call_method0("tobytes")?;
    let bytes = bytes.cast::<PyBytes>()?.as_bytes();
    if bytes.len() != out.len() * 8 {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "observation has {} values, the space says {}",
            bytes.len() / 8,
            out.len()
        )));
    }
    for (o, chunk) in out.iter_mut().zip(bytes.chunks_exact(8)) {
        *o = f64::from_ne_bytes(chunk.try_into().expect("8 bytes"));
    }
    Ok(())
}

/// Run `f` with the interpreter, turning errors and panics into the
/// batch's last error.
fn guarded(
    this: *const tb_env_batch,
    f: impl FnOnce(&GymBatch, Python<'_>) -> Result<(), String>,
) -> tb_status {
    if this.is_null() {
        return TB_INVALID_ARGUMENT;
    }
    // SAFETY: a live batch of ours per the ABI.
    let batch = unsafe { state(this) };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Python::attach(|py| f(batch, py))
    }));
    match result {
        Ok(Ok(())) => TB_OK,
        Ok(Err(message)) => batch.fail(message),
        Err(_) => batch.fail("the Gymnasium provider panicked".to_string()),
    }
}

unsafe extern "C" fn reset(
    this: *const tb_env_batch,
    first: u32,
    count: u32,
    seeds: *const u64,
    obs_out: *mut f64,
    obs_len: usize,
) -> tb_status {
    guarded(this, |batch, py| {
        let copies = range(batch, first, count)?;
        let dim = batch.observation.space.dim as usize;
        if obs_out.is_null() || obs_len != count as usize * dim {
            return Err(format!(
                "reset: obs_len {obs_len}, expected {}",
                count as usize * dim
            ));
        }
        // SAFETY: obs_len doubles per the ABI; seeds NULL or `count` seeds.
        let obs = unsafe { std::slice::from_raw_parts_mut(obs_out, obs_len) };
        let seeds = (!seeds.is_null())
            // SAFETY: as above.
            .then(|| unsafe { std::slice::from_raw_parts(seeds, count as usize) });
        for (k, i) in copies.enumerate() {
            let seed = seeds.map(|s| s[k]);
            let mut run = || -> PyResult<()> {
                let first_obs = batch.copies[i].bind(py).call_method1("reset", (seed,))?;
                write_doubles(&first_obs, &mut obs[k * dim..(k + 1) * dim])
            };
            run().map_err(|e| describe(py, &e))?;
        }
        Ok(())
    })
}

unsafe extern "C" fn step(
    this: *const tb_env_batch,
    first: u32,
    count: u32,
    actions: *const f64,
    actions_len: usize,
    out: *const tb_step_out,
) -> tb_status {
    guarded(this, |batch, py| {
        let copies = range(batch, first, count)?;
        let (dim, act) = (
            batch.observation.space.dim as usize,
            batch.action.space.dim as usize,
        );
        let n = count as usize;
        if actions.is_null() || actions_len != n * act || out.is_null() {
            return Err(format!(
                "step: actions_len {actions_len}, expected {}",
                n * act
            ));
        }
        // SAFETY: sizes per the ABI (checked where given).
        let (actions, out) = unsafe { (std::slice::from_raw_parts(actions, actions_len), &*out) };
        // SAFETY: the step-out buffers hold n rows per the ABI.
        let (obs, rewards, terminated, truncated) = unsafe {
            (
                std::slice::from_raw_parts_mut(out.observations, n * dim),
                std::slice::from_raw_parts_mut(out.rewards, n),
                std::slice::from_raw_parts_mut(out.terminated, n),
                std::slice::from_raw_parts_mut(out.truncated, n),
            )
        };
        let numpy = py.import("numpy").map_err(|e| describe(py, &e))?;
        for (k, i) in copies.enumerate() {
            let mut run = || -> PyResult<()> {
                let action =
                    numpy.call_method1("array", (actions[k * act..(k + 1) * act].to_vec(),))?;
                let result = batch.copies[i].bind(py).call_method1("step", (action,))?;
                let (next, reward, term, trunc, last): (
                    Bound<'_, PyAny>,
                    f64,
                    bool,
                    bool,
                    Bound<'_, PyAny>,
                ) = result.extract()?;
                write_doubles(&next, &mut obs[k * dim..(k + 1) * dim])?;
                rewards[k] = reward;
                terminated[k] = term as u8;
                truncated[k] = trunc as u8;
                if !last.is_none() && !out.final_observations.is_null() {
                    // SAFETY: final_observations holds n rows when not NULL.
                    let finals =
                        unsafe { std::slice::from_raw_parts_mut(out.final_observations, n * dim) };
                    write_doubles(&last, &mut finals[k * dim..(k + 1) * dim])?;
                }
                Ok(())
            };
            run().map_err(|e| describe(py, &e))?;
        }
        Ok(())
    })
}

unsafe extern "C" fn last_error(this: *const tb_env_batch, buf: *mut c_char, cap: usize) -> usize {
    if this.is_null() {
        return 0;
    }
    // SAFETY: a live batch of ours per the ABI.
    let batch = unsafe { state(this) };
    let text = batch
        .last_error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    // SAFETY: buf writable for cap bytes per the ABI.
    unsafe { copy_to_c_buffer(&text, buf, cap) }
}

/// The snapshot extension (offered by batches of MuJoCo envs only).
static SNAPSHOT: tb_env_snapshot = tb_env_snapshot {
    struct_size: std::mem::size_of::<tb_env_snapshot>() as u32,
    save: Some(save),
    load: Some(load),
};

unsafe extern "C" fn extension(this: *const tb_env_batch, id: *const c_char) -> *const c_void {
    if this.is_null() || id.is_null() {
        return std::ptr::null();
    }
    // SAFETY: a live batch of ours; `id` NUL-terminated per the ABI.
    let (batch, id) = unsafe { (state(this), CStr::from_ptr(id)) };
    if batch.snapshots && id.to_bytes_with_nul() == TB_ENV_EXT_SNAPSHOT {
        return &SNAPSHOT as *const tb_env_snapshot as *const c_void;
    }
    std::ptr::null()
}

/// The copy `env` of `batch`, or an error naming the batch's size.
fn copy<'py>(batch: &GymBatch, py: Python<'py>, env: u32) -> Result<Bound<'py, PyAny>, String> {
    batch
        .copies
        .get(env as usize)
        .map(|c| c.bind(py).clone())
        .ok_or_else(|| format!("copy {env} asked of a batch of {}", batch.copies.len()))
}

unsafe extern "C" fn save(
    this: *const tb_env_batch,
    env: u32,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> tb_status {
    let mut too_small = false;
    let status = guarded(this, |batch, py| {
        let state = copy(batch, py, env)?
            .call_method0("save")
            .map_err(|e| describe(py, &e))?;
        let bytes = state
            .cast::<PyBytes>()
            .map_err(|e| e.to_string())?
            .as_bytes();
        if len.is_null() {
            return Err("save: len is NULL".to_string());
        }
        // SAFETY: `len` is writable per the ABI.
        unsafe { *len = bytes.len() };
        if cap < bytes.len() || buf.is_null() {
            too_small = true;
            return Ok(());
        }
        // SAFETY: `buf` is writable for `cap` >= bytes.len() bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len()) };
        Ok(())
    });
    if status == TB_OK && too_small {
        TB_BUFFER_TOO_SMALL
    } else {
        status
    }
}

unsafe extern "C" fn load(
    this: *const tb_env_batch,
    env: u32,
    buf: *const u8,
    len: usize,
) -> tb_status {
    guarded(this, |batch, py| {
        if buf.is_null() {
            return Err("load: NULL state".to_string());
        }
        // SAFETY: `len` readable bytes per the ABI.
        let state = PyBytes::new(py, unsafe { std::slice::from_raw_parts(buf, len) });
        copy(batch, py, env)?
            .call_method1("load", (state,))
            .map_err(|e| describe(py, &e))?;
        Ok(())
    })
}

unsafe extern "C" fn destroy(this: *const tb_env_batch) {
    if this.is_null() {
        return;
    }
    // SAFETY: made by `create` with Box::into_raw, destroyed once per the ABI.
    let batch = unsafe { Box::from_raw(this as *mut tb_env_batch) };
    // SAFETY: as above, for provider_data.
    let state = unsafe { Box::from_raw(batch.provider_data as *mut GymBatch) };
    // Python objects are released with the interpreter lock held.
    Python::attach(|_| drop(state));
}
