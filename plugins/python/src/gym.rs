//! The Gymnasium env provider (`--env gym:ID`): the env-provider ABI over
//! any Gymnasium env, with the Gymnasium side in `trustbench_gym.py`.
//!
//! One family descriptor, `gym:`, takes every id after the prefix as a
//! Gymnasium id (case kept) and every `--env-set key=value` as a keyword
//! argument of `gymnasium.make`. Each copy is one Gymnasium env; the batch
//! steps them in turn, holding the interpreter lock for the whole call.
//! Snapshots are offered only where they are exact: MuJoCo envs (the
//! integration state, the env's random generator and the time limit's
//! count) and Atari envs (ALE `cloneState` with its RNG, and the pixel
//! pipeline); elsewhere the vine refuses these envs by name. uint8 image
//! observations travel as bytes (byte b stands for b / 255), and envs that
//! draw `rgb_array` frames render (for `eval.gif` and `harness render`).
//!
//! The batch calls Python once per `reset`/`step`, with NumPy arrays that
//! view the caller's buffers (memoryviews): each copy's result is written
//! once, where the harness reads it.

use crate::errors::describe;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyModule};
use std::ffi::{CStr, CString, c_char, c_void};
use std::sync::{Mutex, OnceLock};
use trustbench_plugin::abi::{
    TB_BUFFER_TOO_SMALL, TB_ERROR, TB_INVALID_ARGUMENT, TB_MAX_RANK, TB_OK, TB_SPACE_BOX,
    TB_SPACE_DISCRETE, tb_byte_step_out, tb_space, tb_status, tb_step_out,
};
use trustbench_plugin::copy_to_c_buffer;
use trustbench_plugin::env_abi::{
    TB_ENV_ABI_MAJOR, TB_ENV_ABI_MINOR, TB_ENV_EXT_BYTE_OBSERVATIONS, TB_ENV_EXT_RENDER_RGB,
    TB_ENV_EXT_SNAPSHOT, TB_ENV_FAMILY, TB_ENV_OPEN_OPTIONS, tb_env_batch,
    tb_env_byte_observations, tb_env_descriptor, tb_env_provider, tb_env_render_rgb,
    tb_env_snapshot,
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
    let (versions, options) = Python::attach(|py| -> PyResult<(String, String)> {
        let module = module(py)?;
        let options = py
            .import("json")?
            .call_method1("dumps", (module.getattr("PIXEL_OPTIONS")?,))?;
        Ok((
            module.call_method0("versions")?.extract()?,
            options.extract()?,
        ))
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
                "any Gymnasium env (Box and Discrete spaces): gym:CartPole-v1, gym:Hopper-v5, \
                 gym:ALE/Pong-v5 (view=pixels: the TRPO paper's frames); other --env-set \
                 key=value go to gymnasium.make",
            ),
            options_json: leak(&options),
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
    /// A box's (low, high), element by element.
    bounds: Option<(Vec<f64>, Vec<f64>)>,
}

impl OwnedSpace {
    /// The shape of one value (a discrete value is one number).
    fn shape(&self) -> Vec<usize> {
        self.space.shape[..self.space.rank as usize]
            .iter()
            .map(|&d| d as usize)
            .collect()
    }
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
            bounds: None,
        });
    }
    let low: Vec<f64> = description.get_item("low")?.extract()?;
    let high: Vec<f64> = description.get_item("high")?.extract()?;
    space.kind = TB_SPACE_BOX;
    space.low = low.as_ptr();
    space.high = high.as_ptr();
    Ok(OwnedSpace {
        space,
        bounds: Some((low, high)),
    })
}

/// A batch's own state (`provider_data`).
struct GymBatch {
    /// The `trustbench_gym.Batch` holding the copies.
    batch: Py<PyAny>,
    num_envs: usize,
    observation: OwnedSpace,
    action: OwnedSpace,
    /// Whether every copy can save and load its state exactly.
    snapshots: bool,
    /// Whether observations are bytes (uint8 images; value = byte / 255).
    bytes: bool,
    /// Whether copies draw RGB frames.
    renders: bool,
    last_error: Mutex<String>,
    /// The last arrays made over the caller's buffers (see [`GymBatch::view`]).
    views: Mutex<Vec<View>>,
    /// Box actions clipped to their bounds (reused: the same buffer, the same view).
    clipped: Mutex<Vec<f64>>,
}

/// A NumPy array over a caller's buffer, by address, shape and type.
struct View {
    address: usize,
    shape: Vec<usize>,
    dtype: &'static str,
    writable: bool,
    array: Py<PyAny>,
}

/// How many views a batch keeps: a step's seven and a reset's two, twice over.
const KEPT_VIEWS: usize = 24;

impl GymBatch {
    fn fail(&self, message: String) -> tb_status {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = message;
        TB_ERROR
    }

    fn dims(&self) -> (usize, usize) {
        (
            self.observation.space.dim as usize,
            self.action.space.dim as usize,
        )
    }

    /// `[n, *observation shape]`.
    fn observation_rows(&self, n: usize) -> Vec<usize> {
        std::iter::once(n).chain(self.observation.shape()).collect()
    }

    /// A NumPy array of `shape` over the caller's buffer at `ptr`, made
    /// once per (address, shape, type) and reused: the harness steps into
    /// the same buffers every time, and making an array over memory costs
    /// about as much as a MuJoCo step's own Python overhead.
    ///
    /// # Safety
    /// As [`view`]: `ptr` valid for the shape's elements during the Python
    /// call the array is passed to, which does not keep it. A kept array
    /// names only an address and a length, so reusing it for the same
    /// address and shape is the same as making it again.
    unsafe fn view<'py, T: Element>(
        &self,
        py: Python<'py>,
        ptr: *const T,
        shape: &[usize],
        writable: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut views = self.views.lock().unwrap_or_else(|e| e.into_inner());
        let found = views.iter().find(|v| {
            v.address == ptr as usize
                && v.shape == shape
                && v.dtype == T::DTYPE
                && v.writable == writable
        });
        if let Some(v) = found {
            return Ok(v.array.bind(py).clone());
        }
        // SAFETY: per this function's contract.
        let array = unsafe { view(py, ptr, shape, writable)? };
        if views.len() == KEPT_VIEWS {
            views.remove(0);
        }
        views.push(View {
            address: ptr as usize,
            shape: shape.to_vec(),
            dtype: T::DTYPE,
            writable,
            array: array.clone().unbind(),
        });
        Ok(array)
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
                let batch =
                    module(py)?
                        .getattr("Batch")?
                        .call1((gym_id, options, seeds.to_vec()))?;
                Ok(GymBatch {
                    num_envs: seeds.len(),
                    snapshots: batch.getattr("snapshots")?.extract()?,
                    bytes: batch.getattr("bytes")?.extract()?,
                    renders: batch.getattr("renders")?.extract()?,
                    observation: read_space(&batch.getattr("observation")?)?,
                    action: read_space(&batch.getattr("action")?)?,
                    batch: batch.unbind(),
                    last_error: Mutex::new(String::new()),
                    views: Mutex::new(Vec::new()),
                    clipped: Mutex::new(Vec::new()),
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
                reset: Some(reset::<f64>),
                step: Some(step::<tb_step_out>),
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

/// Check that copies `[first, first + count)` exist.
fn check_range(batch: &GymBatch, first: u32, count: u32) -> Result<(), String> {
    let (first, count) = (first as usize, count as usize);
    if count == 0 || first + count > batch.num_envs {
        return Err(format!(
            "copies {first}..{} asked of a batch of {}",
            first + count,
            batch.num_envs
        ));
    }
    Ok(())
}

/// A NumPy element type of the caller's buffers.
trait Element {
    /// Its NumPy dtype name.
    const DTYPE: &'static str;
}

impl Element for f64 {
    const DTYPE: &'static str = "float64";
}

impl Element for u8 {
    const DTYPE: &'static str = "uint8";
}

/// A NumPy array of `shape` over the caller's buffer at `ptr` (no copy):
/// a memoryview of the memory, read by `numpy.frombuffer`. The Python side
/// writes each result once, straight where the harness reads it.
///
/// # Safety
/// `ptr` must be valid (and writable when `writable`) for the shape's
/// elements until the Python call that receives the array returns, and
/// nothing may keep the array beyond that call (`trustbench_gym.Batch`
/// does not).
unsafe fn view<'py, T: Element>(
    py: Python<'py>,
    ptr: *const T,
    shape: &[usize],
    writable: bool,
) -> PyResult<Bound<'py, PyAny>> {
    static FROMBUFFER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let elements: usize = shape.iter().product();
    let bytes = (elements * std::mem::size_of::<T>()) as pyo3::ffi::Py_ssize_t;
    let flags = if writable {
        pyo3::ffi::PyBUF_WRITE
    } else {
        pyo3::ffi::PyBUF_READ
    };
    // SAFETY: memory valid for `bytes` bytes per the contract; the
    // memoryview does not own it.
    let memory = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            pyo3::ffi::PyMemoryView_FromMemory(ptr as *mut c_char, bytes, flags),
        )?
    };
    FROMBUFFER
        .import(py, "numpy", "frombuffer")?
        .call1((memory, T::DTYPE))?
        .call_method1(
            pyo3::intern!(py, "reshape"),
            (pyo3::types::PyTuple::new(py, shape)?,),
        )
}

/// Run `f` with the interpreter, turning errors and panics into the
/// batch's last error.
fn guarded(
    this: *const tb_env_batch,
    f: impl FnOnce(&GymBatch, Python<'_>) -> PyResult<()>,
) -> tb_status {
    if this.is_null() {
        return TB_INVALID_ARGUMENT;
    }
    // SAFETY: a live batch of ours per the ABI.
    let batch = unsafe { state(this) };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Python::attach(|py| f(batch, py).map_err(|e| describe(py, &e)))
    }));
    match result {
        Ok(Ok(())) => TB_OK,
        Ok(Err(message)) => batch.fail(message),
        Err(_) => batch.fail("the Gymnasium provider panicked".to_string()),
    }
}

/// A caller's mistake (sizes, NULLs) as the batch's error.
fn misuse(message: String) -> PyErr {
    pyo3::exceptions::PyValueError::new_err(message)
}

/// Reset copies `first..first + count` into `obs_out`: `batch->reset`
/// (`T = f64`) and the byte extension's (`T = u8`).
unsafe extern "C" fn reset<T: Element>(
    this: *const tb_env_batch,
    first: u32,
    count: u32,
    seeds: *const u64,
    obs_out: *mut T,
    obs_len: usize,
) -> tb_status {
    guarded(this, |batch, py| {
        check_range(batch, first, count).map_err(misuse)?;
        let (dim, _) = batch.dims();
        let n = count as usize;
        if obs_out.is_null() || obs_len != n * dim {
            return Err(misuse(format!(
                "reset: obs_len {obs_len}, expected {}",
                n * dim
            )));
        }
        // SAFETY: obs_len elements per the ABI (checked); seeds NULL or
        // `count` seeds; both outlive this call.
        let (out, seeds) = unsafe {
            (
                batch.view(py, obs_out as *const T, &batch.observation_rows(n), true)?,
                (!seeds.is_null())
                    .then(|| batch.view(py, seeds, &[n], false))
                    .transpose()?,
            )
        };
        batch
            .batch
            .bind(py)
            .call_method1(pyo3::intern!(py, "reset"), (first, seeds, out))?;
        Ok(())
    })
}

impl Element for u64 {
    const DTYPE: &'static str = "uint64";
}

/// The step-out buffers as raw parts, whatever the observation element.
struct Outs<T> {
    observations: *mut T,
    final_observations: *mut T,
    rewards: *mut f64,
    terminated: *mut u8,
    truncated: *mut u8,
}

/// Step copies `first..first + count` into `out`.
fn step_into<T: Element>(
    this: *const tb_env_batch,
    first: u32,
    count: u32,
    actions: *const f64,
    actions_len: usize,
    out: Option<Outs<T>>,
) -> tb_status {
    guarded(this, |batch, py| {
        check_range(batch, first, count).map_err(misuse)?;
        let act = batch.dims().1;
        let n = count as usize;
        let Some(out) = out.filter(|_| !actions.is_null() && actions_len == n * act) else {
            return Err(misuse(format!(
                "step: actions_len {actions_len}, expected {}, or NULL buffers",
                n * act
            )));
        };
        if out.observations.is_null()
            || out.rewards.is_null()
            || out.terminated.is_null()
            || out.truncated.is_null()
        {
            return Err(misuse("step: NULL output buffers".to_string()));
        }
        // SAFETY: `actions_len` doubles per the ABI (checked above).
        let actions = unsafe { std::slice::from_raw_parts(actions, actions_len) };
        let mut clipped = batch.clipped.lock().unwrap_or_else(|e| e.into_inner());
        let actions = match &batch.action.bounds {
            // Within the box, as the env's own checks expect (NaN stays NaN).
            Some((low, high)) => {
                clipped.clear();
                clipped.extend(actions.iter().enumerate().map(|(i, &a)| {
                    let j = i % act;
                    a.max(low[j]).min(high[j])
                }));
                clipped.as_slice()
            }
            None => actions,
        };
        let rows = batch.observation_rows(n);
        // SAFETY: the ABI sizes every buffer by `count` rows (actions
        // checked above), and they outlive this call.
        let args = unsafe {
            (
                first,
                batch.view(py, actions.as_ptr(), &[n, act], false)?,
                batch.view(py, out.observations as *const T, &rows, true)?,
                batch.view(py, out.rewards as *const f64, &[n], true)?,
                batch.view(py, out.terminated as *const u8, &[n], true)?,
                batch.view(py, out.truncated as *const u8, &[n], true)?,
                (!out.final_observations.is_null())
                    .then(|| batch.view(py, out.final_observations as *const T, &rows, true))
                    .transpose()?,
            )
        };
        batch
            .batch
            .bind(py)
            .call_method1(pyo3::intern!(py, "step"), args)?;
        Ok(())
    })
}

/// What a step-out struct of the ABI holds, for observations of `Obs`.
trait StepOut {
    /// The observation element: `f64`, or `u8` for byte observations.
    type Obs: Element;
    /// The struct's buffers.
    fn outs(&self) -> Outs<Self::Obs>;
}

/// The two step-out structs hold the same buffers, for their own
/// observation type.
macro_rules! step_out {
    ($out:ty, $obs:ty) => {
        impl StepOut for $out {
            type Obs = $obs;
            fn outs(&self) -> Outs<$obs> {
                Outs {
                    observations: self.observations,
                    final_observations: self.final_observations,
                    rewards: self.rewards,
                    terminated: self.terminated,
                    truncated: self.truncated,
                }
            }
        }
    };
}

step_out!(tb_step_out, f64);
step_out!(tb_byte_step_out, u8);

/// `batch->step` (`S = tb_step_out`) and the byte extension's.
unsafe extern "C" fn step<S: StepOut>(
    this: *const tb_env_batch,
    first: u32,
    count: u32,
    actions: *const f64,
    actions_len: usize,
    out: *const S,
) -> tb_status {
    // SAFETY: `out` is NULL or a valid step-out struct per the ABI.
    let out = unsafe { out.as_ref() }.map(S::outs);
    step_into(this, first, count, actions, actions_len, out)
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

/// The snapshot extension (offered by MuJoCo and ALE batches only).
static SNAPSHOT: tb_env_snapshot = tb_env_snapshot {
    struct_size: std::mem::size_of::<tb_env_snapshot>() as u32,
    save: Some(save),
    load: Some(load),
};

/// The byte-observation extension (offered when observations are uint8 images).
static BYTE_OBSERVATIONS: tb_env_byte_observations = tb_env_byte_observations {
    struct_size: std::mem::size_of::<tb_env_byte_observations>() as u32,
    reset: Some(reset::<u8>),
    step: Some(step::<tb_byte_step_out>),
};

/// The render extension (offered when copies draw RGB frames).
static RENDER: tb_env_render_rgb = tb_env_render_rgb {
    struct_size: std::mem::size_of::<tb_env_render_rgb>() as u32,
    render: Some(render),
};

unsafe extern "C" fn extension(this: *const tb_env_batch, id: *const c_char) -> *const c_void {
    if this.is_null() || id.is_null() {
        return std::ptr::null();
    }
    // SAFETY: a live batch of ours; `id` NUL-terminated per the ABI.
    let (batch, id) = unsafe { (state(this), CStr::from_ptr(id).to_bytes_with_nul()) };
    if batch.snapshots && id == TB_ENV_EXT_SNAPSHOT {
        return &SNAPSHOT as *const tb_env_snapshot as *const c_void;
    }
    if batch.bytes && id == TB_ENV_EXT_BYTE_OBSERVATIONS {
        return &BYTE_OBSERVATIONS as *const tb_env_byte_observations as *const c_void;
    }
    if batch.renders && id == TB_ENV_EXT_RENDER_RGB {
        return &RENDER as *const tb_env_render_rgb as *const c_void;
    }
    std::ptr::null()
}

/// Copy `env` of `batch`, or an error naming the batch's size.
fn copy<'py>(batch: &GymBatch, py: Python<'py>, env: u32) -> PyResult<Bound<'py, PyAny>> {
    if env as usize >= batch.num_envs {
        return Err(misuse(format!(
            "copy {env} asked of a batch of {}",
            batch.num_envs
        )));
    }
    batch
        .batch
        .bind(py)
        .getattr(pyo3::intern!(py, "copies"))?
        .get_item(env)
}

unsafe extern "C" fn render(
    this: *const tb_env_batch,
    env: u32,
    width: u32,
    height: u32,
    rgb_out: *mut u8,
    len: usize,
) -> tb_status {
    guarded(this, |batch, py| {
        let (w, h) = (width as usize, height as usize);
        if rgb_out.is_null() || w == 0 || h == 0 || len != w * h * 3 {
            return Err(misuse(format!("render: len {len}, expected {}", w * h * 3)));
        }
        if env as usize >= batch.num_envs {
            return Err(misuse(format!("render: copy {env} of {}", batch.num_envs)));
        }
        // SAFETY: `len` writable bytes per the ABI (checked above).
        let out = unsafe { batch.view(py, rgb_out as *const u8, &[h, w * 3], true)? };
        batch
            .batch
            .bind(py)
            .call_method1("render", (env, width, out))?;
        Ok(())
    })
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
        let state = copy(batch, py, env)?.call_method0("save")?;
        let bytes = state.cast::<PyBytes>()?.as_bytes();
        if len.is_null() {
            return Err(misuse("save: len is NULL".to_string()));
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
            return Err(misuse("load: NULL state".to_string()));
        }
        // SAFETY: `len` readable bytes per the ABI.
        let state = PyBytes::new(py, unsafe { std::slice::from_raw_parts(buf, len) });
        copy(batch, py, env)?.call_method1("load", (state,))?;
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
