//! `trustbench_plugin.Host`: the host vtable as a Python object, with
//! batches as NumPy arrays shaped `[num_envs, ...]`.

use crate::arrays::{Dtype, f64_values, zeros};
use crate::interpreter::protocol;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::sync::Mutex;
use std::thread::ThreadId;
use trustbench_plugin::{Host, Spaces, StepBuffers, StepOutcome};

/// The SDK host while a `train_iteration` (or a natural-gradient
/// `prepare`) runs, and the thread running it.
#[derive(Clone, Copy)]
struct Lease {
    host: *mut Host,
    thread: ThreadId,
}

// SAFETY: a lease is dereferenced only on the thread it names (checked in
// `PyHost::with_host`), which is the thread that holds the `&mut Host` it
// was made from, for the duration of that call.
unsafe impl Send for Lease {}

/// The harness's services, as Python sees them.
///
/// Host calls are valid only inside `train_iteration` (and a natural
/// gradient's `prepare`), on the thread that called it: the ABI's
/// `[during-train]` rule, enforced here with a clear error. Arrays returned
/// are fresh on every call (a plugin may keep them).
#[pyclass(name = "Host", module = "trustbench_plugin", frozen)]
pub struct PyHost {
    /// This plugin's seed, derived from the run's seed on a stream of its
    /// own: derive every random stream from it.
    #[pyo3(get)]
    seed: u64,
    /// The number of env copies N.
    #[pyo3(get)]
    num_envs: usize,
    /// Threads the plugin's own computation may use (results must not
    /// depend on it).
    #[pyo3(get)]
    threads: usize,
    /// Whether observations come as `uint8` (pixel envs: value = byte / 255).
    #[pyo3(get)]
    byte_observations: bool,
    /// The shape of one observation (`()` for a discrete one).
    observation_shape: Vec<usize>,
    /// Values per action.
    action_dim: usize,
    lease: Mutex<Option<Lease>>,
}

/// The shape of one value of `space` in a batch: a box's shape, `()` for
/// a discrete space (one integer).
pub fn item_shape(space: &trustbench_plugin::Space) -> Vec<usize> {
    match space {
        trustbench_plugin::Space::Box { shape, .. } => shape.clone(),
        trustbench_plugin::Space::Discrete { .. } => Vec::new(),
    }
}

/// `[count, *item]`.
pub fn batch_shape(count: usize, item: &[usize]) -> Vec<usize> {
    std::iter::once(count).chain(item.iter().copied()).collect()
}

impl PyHost {
    /// The Python view of `host` for an instance with these spaces.
    pub fn new(host: &Host, spaces: &Spaces) -> PyHost {
        PyHost {
            seed: host.seed(),
            num_envs: host.num_envs(),
            threads: host.threads(),
            byte_observations: host.byte_observations(),
            observation_shape: item_shape(&spaces.observation),
            action_dim: spaces.action.dim(),
            lease: Mutex::new(None),
        }
    }

    /// Whether observations reach the plugin as bytes.
    pub fn bytes(&self) -> bool {
        self.byte_observations
    }

    /// Lend `host` to Python for the duration of `f`.
    pub fn lend<T>(&self, host: &mut Host, f: impl FnOnce() -> T) -> T {
        let lease = Lease {
            host,
            thread: std::thread::current().id(),
        };
        *self.lease.lock().unwrap_or_else(|p| p.into_inner()) = Some(lease);
        /// Ends the lease even when `f` unwinds.
        struct End<'a>(&'a Mutex<Option<Lease>>);
        impl Drop for End<'_> {
            fn drop(&mut self) {
                *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
            }
        }
        let _end = End(&self.lease);
        f()
    }

    /// Run `f` on the leased host, or explain why there is none.
    fn with_host<T>(&self, what: &str, f: impl FnOnce(&mut Host) -> PyResult<T>) -> PyResult<T> {
        let lease = *self.lease.lock().unwrap_or_else(|p| p.into_inner());
        match lease {
            Some(l) if l.thread == std::thread::current().id() => {
                // SAFETY: the lease is live (set by `lend` around a call that
                // holds `&mut Host`) and this is its thread; that call is
                // suspended in Python until this synchronous call returns.
                f(unsafe { &mut *l.host })
            }
            Some(_) => Err(PyRuntimeError::new_err(format!(
                "host.{what} called from another thread than train_iteration's; \
                 threads a plugin starts must not call the host"
            ))),
            None => Err(PyRuntimeError::new_err(format!(
                "host.{what} is only valid inside train_iteration (and a natural gradient's prepare)"
            ))),
        }
    }

    /// The env index as the ABI takes it, or an error naming the range.
    fn env_index(&self, env: usize) -> PyResult<usize> {
        if env >= self.num_envs {
            return Err(PyValueError::new_err(format!(
                "env {env} does not exist; valid: 0..{}",
                self.num_envs
            )));
        }
        Ok(env)
    }
}

/// An observation element the host hands out: `f64`, or `u8` for byte
/// (pixel) observations, with the SDK calls that write it.
trait Element: Copy + Send + Sync + 'static {
    const DTYPE: Dtype;
    fn reset(
        host: &mut Host,
        env: Option<usize>,
        obs: &mut [Self],
    ) -> trustbench_plugin::Result<()>;
    fn step(
        host: &mut Host,
        first: usize,
        actions: &[f64],
        out: StepBuffers<'_, Self>,
    ) -> trustbench_plugin::Result<StepOutcome>;
}

impl Element for f64 {
    const DTYPE: Dtype = Dtype::F64;
    fn reset(
        host: &mut Host,
        env: Option<usize>,
        obs: &mut [f64],
    ) -> trustbench_plugin::Result<()> {
        host.reset(env, obs)
    }
    fn step(
        host: &mut Host,
        first: usize,
        actions: &[f64],
        out: StepBuffers<'_, f64>,
    ) -> trustbench_plugin::Result<StepOutcome> {
        host.step(first, actions, out)
    }
}

impl Element for u8 {
    const DTYPE: Dtype = Dtype::U8;
    fn reset(host: &mut Host, env: Option<usize>, obs: &mut [u8]) -> trustbench_plugin::Result<()> {
        host.reset_bytes(env, obs)
    }
    fn step(
        host: &mut Host,
        first: usize,
        actions: &[f64],
        out: StepBuffers<'_, u8>,
    ) -> trustbench_plugin::Result<StepOutcome> {
        host.step_bytes(first, actions, out)
    }
}

/// The protocol module's `StepResult` and `BudgetExhausted`, looked up once
/// (they are on the step path).
fn protocol_class<'py>(py: Python<'py>, name: &'static str) -> PyResult<&'py Bound<'py, PyAny>> {
    static STEP_RESULT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    static BUDGET_EXHAUSTED: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let cell = if name == "StepResult" {
        &STEP_RESULT
    } else {
        &BUDGET_EXHAUSTED
    };
    cell.get_or_try_init(py, || Ok::<_, PyErr>(protocol(py)?.getattr(name)?.unbind()))
        .map(|c| c.bind(py))
}

impl PyHost {
    /// `reset` with observations of element `O`.
    fn reset_as<'py, O: Element>(
        &self,
        py: Python<'py>,
        env: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let env = env.map(|e| self.env_index(e)).transpose()?;
        let shape = match env {
            Some(_) => self.observation_shape.clone(),
            None => batch_shape(self.num_envs, &self.observation_shape),
        };
        self.with_host("reset", |h| {
            let (array, obs) = zeros::<O>(py, &shape, O::DTYPE)?;
            py.detach(|| O::reset(h, env, obs)).map_err(host_error)?;
            Ok(array)
        })
    }

    /// `step` with observations of element `O`.
    fn step_as<'py, O: Element>(
        &self,
        py: Python<'py>,
        actions: &Bound<'py, PyAny>,
        first: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let count: usize = actions.len().map_err(|_| {
            PyValueError::new_err(
                "actions must be a batch: an array whose first axis is the copies",
            )
        })?;
        if count == 0 || first + count > self.num_envs {
            return Err(PyValueError::new_err(format!(
                "step of copies {first}..{} (len(actions) = {count}); valid copies: 0..{}",
                first + count,
                self.num_envs
            )));
        }
        let (_keep, values) = f64_values(actions, count * self.action_dim, "actions")?;
        let shape = batch_shape(count, &self.observation_shape);
        let (rewards_array, rewards) = zeros::<f64>(py, &[count], Dtype::F64)?;
        let (terminated_array, terminated) = zeros::<u8>(py, &[count], Dtype::Bool)?;
        let (truncated_array, truncated) = zeros::<u8>(py, &[count], Dtype::Bool)?;
        let (obs_array, observations) = zeros::<O>(py, &shape, O::DTYPE)?;
        let (final_array, finals) = zeros::<O>(py, &shape, O::DTYPE)?;
        let outcome = self.with_host("step", |h| {
            let out = StepBuffers {
                observations,
                final_observations: Some(finals),
                rewards,
                terminated,
                truncated,
            };
            py.detach(|| O::step(h, first, values, out))
                .map_err(host_error)
        })?;
        if outcome == StepOutcome::BudgetExhausted {
            return Err(PyErr::from_value(
                protocol_class(py, "BudgetExhausted")?.call0()?,
            ));
        }
        protocol_class(py, "StepResult")?.call1((
            obs_array,
            rewards_array,
            terminated_array,
            truncated_array,
            final_array,
        ))
    }
}

/// An SDK error as a Python exception.
fn host_error(e: trustbench_plugin::Error) -> PyErr {
    PyRuntimeError::new_err(e.0)
}

#[pymethods]
impl PyHost {
    /// Env steps left in the run's budget.
    #[getter]
    fn steps_remaining(&self) -> PyResult<u64> {
        self.with_host("steps_remaining", |h| Ok(h.steps_remaining()))
    }

    /// Reset copy `env` (every copy when None) and return its first
    /// observation(s): `[*obs_shape]` for one copy, `[num_envs, *obs_shape]`
    /// for all. Copies also reset themselves when an episode ends.
    #[pyo3(signature = (env=None))]
    fn reset<'py>(&self, py: Python<'py>, env: Option<usize>) -> PyResult<Bound<'py, PyAny>> {
        if self.byte_observations {
            self.reset_as::<u8>(py, env)
        } else {
            self.reset_as::<f64>(py, env)
        }
    }

    /// Step copies `first .. first + len(actions)` with `actions`
    /// (`[count, *action_shape]`, or `[count]` integers for a discrete
    /// space) and return `StepResult(observations, rewards, terminated,
    /// truncated, final_observations)`. Raises `BudgetExhausted` when the
    /// budget cannot cover the step (nothing was stepped).
    #[pyo3(signature = (actions, first=0))]
    fn step<'py>(
        &self,
        py: Python<'py>,
        actions: &Bound<'py, PyAny>,
        first: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        if self.byte_observations {
            self.step_as::<u8>(py, actions, first)
        } else {
            self.step_as::<f64>(py, actions, first)
        }
    }

    /// Save the full state of copy `env` (physics, time limit, the env's
    /// RNG, the episode bookkeeping); returns the snapshot's id.
    fn snapshot(&self, env: usize) -> PyResult<u64> {
        let env = self.env_index(env)?;
        self.with_host("snapshot", |h| h.snapshot(env).map_err(host_error))
    }

    /// Put copy `env` back into `snapshot`, exactly (it stays valid).
    fn restore(&self, env: usize, snapshot: u64) -> PyResult<()> {
        let env = self.env_index(env)?;
        self.with_host("restore", |h| h.restore(env, snapshot).map_err(host_error))
    }

    /// Free `snapshot`.
    fn release(&self, snapshot: u64) -> PyResult<()> {
        self.with_host("release", |h| {
            h.release_snapshot(snapshot).map_err(host_error)
        })
    }

    /// Record a scalar metric for this iteration (e.g. `"train/mean_kl"`).
    fn log(&self, name: &str, value: f64) -> PyResult<()> {
        self.with_host("log", |h| {
            h.log(name, value);
            Ok(())
        })
    }
}
