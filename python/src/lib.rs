//! `trustbench._core`: the `envs` crate's vector env, seen from Python.
//!
//! A thin layer: every env, its options and their validation, the seed
//! derivation, autoreset and the threads that step the copies are the Rust
//! code the harness runs; this module only moves numbers between that code
//! and NumPy buffers. The Python package (`trustbench`) wraps it into
//! Gymnasium's vector and single-env APIs.
//!
//! Buffers: the caller (the package's own Python code, never a user) passes
//! the address of each NumPy buffer it wants written, C-contiguous, with the
//! dtype and length stated on each method, and keeps the array alive for the
//! call. That is what lets observations go straight into NumPy-owned memory
//! under the stable ABI, where the buffer protocol is out of reach before
//! CPython 3.11.
#![warn(missing_docs)]

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::sync::Mutex;
use trustbench_envs::{
    Env, EnvConfig, Step, VecEnv, resolve_spec,
    streams::{TRAIN_ENVS, plugin_seed},
};
use trustbench_plugin::{Space, parallel};

/// How a copy whose episode ended is started again (Gymnasium 1.x's
/// `AutoresetMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Autoreset {
    /// The step after the end resets the copy (its action is ignored, its
    /// reward is 0): Gymnasium's default.
    NextStep,
    /// The ending step resets the copy at once and hands on the final
    /// observation separately: what the harness does.
    SameStep,
    /// Never: the caller resets ended copies with a mask.
    Disabled,
}

impl Autoreset {
    fn parse(name: &str) -> PyResult<Autoreset> {
        match name {
            "NextStep" => Ok(Autoreset::NextStep),
            "SameStep" => Ok(Autoreset::SameStep),
            "Disabled" => Ok(Autoreset::Disabled),
            _ => Err(PyValueError::new_err(format!(
                "autoreset mode '{name}' is not valid (valid: NextStep, SameStep, Disabled)"
            ))),
        }
    }
}

/// A mutable slice at an address handed over from Python.
///
/// # Safety
/// `address` must point to `len` writable, aligned `T`s that nothing else
/// touches during the call (the package passes freshly allocated or
/// private NumPy buffers of exactly that size).
unsafe fn slice_at<'a, T>(address: usize, len: usize) -> &'a mut [T] {
    if len == 0 {
        return &mut [];
    }
    unsafe { std::slice::from_raw_parts_mut(address as *mut T, len) }
}

/// The running return and length of one copy's current episode, summed in
/// step order as the harness sums them (so the figures agree bit for bit).
#[derive(Debug, Clone, Copy, Default)]
struct Episode {
    ret: f64,
    len: u64,
}

/// What one step did to one copy (the thread-parallel part's output).
struct CopyStep<'a> {
    env: &'a mut Box<dyn Env>,
    action: &'a [f64],
    /// The copy's observation row, as values (real observations) or bytes.
    values: &'a mut [f64],
    bytes: Option<&'a mut [u8]>,
    /// Where the final observation of an episode ended by this step goes.
    final_values: &'a mut [f64],
    final_bytes: Option<&'a mut [u8]>,
    /// The copy's episode had ended and it is reset instead of stepped.
    reset_first: bool,
    mode: Autoreset,
    step: Step,
}

impl CopyStep<'_> {
    fn run(&mut self) {
        let env = self.env.as_mut();
        if self.reset_first {
            env.reset(None, self.values);
            self.step = Step {
                reward: 0.0,
                terminated: false,
                truncated: false,
            };
        } else if self.mode == Autoreset::SameStep {
            let (final_values, final_bytes) = (&mut *self.final_values, &mut self.final_bytes);
            self.step = VecEnv::step_copy_with(env, self.action, self.values, |e, last| {
                final_values.copy_from_slice(last);
                if let (Some(out), Some(bytes)) = (final_bytes, e.observation_bytes()) {
                    out.copy_from_slice(bytes);
                }
            });
        } else {
            self.step = env.step(self.action, self.values);
        }
        if let (Some(out), Some(bytes)) = (&mut self.bytes, self.env.observation_bytes()) {
            out.copy_from_slice(bytes);
        }
    }
}

/// The mutable part of a [`VecCore`].
struct State {
    envs: VecEnv,
    /// One (empty) worker per thread a step may use.
    workers: Vec<()>,
    episodes: Vec<Episode>,
    /// Copies whose episode ended and that were not reset yet (NextStep and
    /// Disabled modes).
    ended: Vec<bool>,
    /// Observation values of every copy: where byte observations are
    /// computed before their bytes are copied out, and where real ones go
    /// when a step's caller wants them elsewhere.
    values: Vec<f64>,
    /// The final observations of the episodes the last step ended
    /// (SameStep mode), as values and, for byte observations, bytes.
    final_values: Vec<f64>,
    final_bytes: Vec<u8>,
    /// Per copy: whether the last step ended its episode, and its figures.
    last_ended: Vec<bool>,
    last_episode: Vec<Episode>,
}

/// N copies of one trustbench env, stepped in Rust with the GIL released.
#[pyclass(frozen, module = "trustbench._core")]
struct VecCore {
    state: Mutex<State>,
    config: EnvConfig,
    mode: Autoreset,
    num_envs: usize,
    obs_dim: usize,
    /// Whether observations are bytes (`uint8`, the arcade pixel view).
    byte_obs: bool,
    observation_space: Space,
    action_space: Space,
}

/// A space as plain Python values: `("discrete", n)` or
/// `("box", shape, low, high)`.
fn describe(space: &Space) -> (String, Vec<usize>, Vec<f64>, Vec<f64>) {
    match space {
        Space::Discrete { n } => ("discrete".into(), vec![*n], vec![], vec![]),
        Space::Box { shape, low, high } => ("box".into(), shape.clone(), low.clone(), high.clone()),
    }
}

impl VecCore {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Copy every copy's current observation into the buffer at `obs`.
    fn write_rows(&self, state: &State, obs: usize) {
        let d = self.obs_dim;
        if self.byte_obs {
            let out = unsafe { slice_at::<u8>(obs, self.num_envs * d) };
            for (i, row) in out.chunks_exact_mut(d.max(1)).enumerate() {
                row.copy_from_slice(state.envs.observation_bytes(i).expect("byte observations"));
            }
        } else {
            let out = unsafe { slice_at::<f64>(obs, self.num_envs * d) };
            out.copy_from_slice(&state.values);
        }
    }
}

#[pymethods]
impl VecCore {
    /// `num_envs` copies of `env_id` (an id or short name, as `--env`)
    /// with `options` (as `--env-set KEY=VALUE`), copy `i` reset from
    /// `derive_seed(seed, TRAIN_ENVS, i)`, exactly as a harness run seeded
    /// `seed` builds its training envs.
    #[new]
    fn new(
        env_id: &str,
        num_envs: usize,
        seed: u64,
        options: Vec<(String, String)>,
        autoreset_mode: &str,
        num_threads: usize,
    ) -> PyResult<VecCore> {
        let err = PyValueError::new_err::<String>;
        for (key, value) in [("num_envs", num_envs), ("num_threads", num_threads)] {
            if value == 0 {
                return Err(err(format!("{key} = 0 is not valid (valid: 1 or more)")));
            }
        }
        let mode = Autoreset::parse(autoreset_mode)?;
        let spec = resolve_spec(env_id).map_err(err)?;
        let config = EnvConfig::new(spec, &options).map_err(err)?;
        let envs = VecEnv::new(&config, num_envs, seed, TRAIN_ENVS);
        let observation_space = envs.observation_space().clone();
        let action_space = envs.action_space().clone();
        let obs_dim = observation_space.dim();
        let byte_obs = envs.observation_bytes(0).is_some();
        let mut state = State {
            workers: vec![(); num_threads],
            episodes: vec![Episode::default(); num_envs],
            ended: vec![false; num_envs],
            values: vec![0.0; num_envs * obs_dim],
            final_values: vec![0.0; num_envs * obs_dim],
            final_bytes: vec![0; if byte_obs { num_envs * obs_dim } else { 0 }],
            last_ended: vec![false; num_envs],
            last_episode: vec![Episode::default(); num_envs],
            envs,
        };
        // `VecEnv::new` keeps no observations: the same seeded resets again
        // give its copies' states and their first observations.
        for i in 0..num_envs {
            let row = &mut state.values[i * obs_dim..(i + 1) * obs_dim];
            state.envs.reset_seeded(i, seed, TRAIN_ENVS, row);
        }
        let core = VecCore {
            state: Mutex::new(state),
            config,
            mode,
            num_envs,
            obs_dim,
            byte_obs,
            observation_space,
            action_space,
        };
        Ok(core)
    }

    /// The versioned id (`hopper-v0`).
    #[getter]
    fn env_id(&self) -> &'static str {
        self.config.id()
    }

    /// Every option with its resolved value, as a run records them.
    #[getter]
    fn options(&self) -> Vec<(String, String)> {
        let pairs = self.config.options().pairs();
        pairs.map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// Episode length at which the episode is truncated (default options).
    #[getter]
    fn max_episode_steps(&self) -> u64 {
        self.config.spec().max_episode_steps
    }

    /// Whether observations are bytes (`uint8`) rather than `float64`.
    #[getter]
    fn byte_observations(&self) -> bool {
        self.byte_obs
    }

    /// `("box", shape, low, high)` of one copy's observations.
    #[getter]
    fn observation_space(&self) -> (String, Vec<usize>, Vec<f64>, Vec<f64>) {
        describe(&self.observation_space)
    }

    /// `("discrete", [n], [], [])` or `("box", shape, low, high)` of one
    /// copy's actions.
    #[getter]
    fn action_space(&self) -> (String, Vec<usize>, Vec<f64>, Vec<f64>) {
        describe(&self.action_space)
    }

    /// Start new episodes of the copies where `mask` is true (all if
    /// `None`) and write every copy's current observation (reset or not)
    /// into `obs`
    /// (`num_envs × dim` of `float64`, or `uint8` for byte observations).
    /// `seeds[i]`: copy `i` restarts from `derive_seed(seeds[i], TRAIN_ENVS,
    /// i)`, as copy `i` of a vector made with that seed; `None` continues
    /// its stream. `fresh`: the vector was just made and its copies already
    /// reset (`VecEnv::new`), so they are not reset again unless seeded;
    /// that keeps the first episode of a vector made with seed `s` the
    /// harness's first episode with seed `s`.
    #[pyo3(signature = (obs, seeds, mask, fresh))]
    fn reset(
        &self,
        py: Python<'_>,
        obs: usize,
        seeds: Option<Vec<Option<u64>>>,
        mask: Option<Vec<bool>>,
        fresh: bool,
    ) -> PyResult<()> {
        let n = self.num_envs;
        for (what, len) in [
            ("seeds", seeds.as_ref().map(Vec::len)),
            ("reset_mask", mask.as_ref().map(Vec::len)),
        ] {
            if let Some(len) = len.filter(|&l| l != n) {
                return Err(PyValueError::new_err(format!(
                    "{what} has {len} entries; expected one per env ({n})"
                )));
            }
        }
        let chosen: Vec<usize> = (0..n)
            .filter(|&i| mask.as_ref().is_none_or(|m| m[i]))
            .collect();
        // The lock is taken and dropped without the GIL: a thread waiting
        // for it while holding the GIL would deadlock with its holder.
        py.detach(|| {
            let mut state = self.lock();
            let s = &mut *state;
            let d = self.obs_dim;
            for &i in &chosen {
                let row = &mut s.values[i * d..(i + 1) * d];
                match seeds.as_ref().and_then(|s| s[i]) {
                    Some(seed) => s.envs.reset_seeded(i, seed, TRAIN_ENVS, row),
                    None if fresh => {}
                    None => s.envs.reset(i, row),
                }
                s.episodes[i] = Episode::default();
                s.ended[i] = false;
            }
            self.write_rows(s, obs);
        });
        Ok(())
    }

    /// Step every copy with the actions at `actions` (`num_envs × dim`
    /// `float64`), writing observations to `obs` (as in `reset`), rewards to
    /// `rewards` (`num_envs` `float64`) and terminated / truncated flags to
    /// `flags` (`2 × num_envs` bytes, 0 or 1). Returns whether an episode
    /// ended (its figures and final observations are then in
    /// [`VecCore::ended`]). Bad actions raise `ValueError` with the
    /// harness's message, before any copy moves.
    fn step(
        &self,
        py: Python<'_>,
        actions: usize,
        obs: usize,
        rewards: usize,
        flags: usize,
    ) -> PyResult<bool> {
        let (n, d) = (self.num_envs, self.obs_dim);
        let act_dim = self.action_space.dim();
        let actions = unsafe { slice_at::<f64>(actions, n * act_dim) };
        let rewards = unsafe { slice_at::<f64>(rewards, n) };
        let flags = unsafe { slice_at::<u8>(flags, 2 * n) };
        let byte_out = self.byte_obs.then(|| unsafe { slice_at::<u8>(obs, n * d) });
        let real_out = (!self.byte_obs).then(|| unsafe { slice_at::<f64>(obs, n * d) });
        let mode = self.mode;
        let any_ended = py.detach(move || {
            let mut state = self.lock();
            let s = &mut *state;
            for (i, action) in actions.chunks_exact(act_dim).enumerate() {
                if mode == Autoreset::Disabled && s.ended[i] {
                    return Err(format!(
                        "env {i}'s episode has ended: reset it first \
                         (autoreset mode Disabled: reset(options={{'reset_mask': mask}}))"
                    ));
                }
                if mode == Autoreset::NextStep && s.ended[i] {
                    continue; // reset this step; its action is ignored
                }
                if let Some(why) = self.action_space.invalid_action(action) {
                    return Err(format!("invalid action for env {i}: {why}"));
                }
            }
            // Real observations are computed in `values` too, so a masked
            // reset can hand back the rows it does not reset.
            let mut final_bytes = s.final_bytes.chunks_exact_mut(d.max(1));
            let mut byte_rows = byte_out.map(|b| b.chunks_exact_mut(d.max(1)));
            let mut copies: Vec<CopyStep<'_>> = s
                .envs
                .copies_mut(0..n)
                .iter_mut()
                .zip(actions.chunks_exact(act_dim))
                .zip(s.values.chunks_exact_mut(d.max(1)))
                .zip(s.final_values.chunks_exact_mut(d.max(1)))
                .zip(&s.ended)
                .map(
                    |((((env, action), values), final_values), &ended)| CopyStep {
                        env,
                        action,
                        values,
                        bytes: byte_rows.as_mut().and_then(|r| r.next()),
                        final_values,
                        final_bytes: final_bytes.next(),
                        reset_first: ended && mode == Autoreset::NextStep,
                        mode,
                        step: Step {
                            reward: 0.0,
                            terminated: false,
                            truncated: false,
                        },
                    },
                )
                .collect();
            parallel::split(&mut copies, &mut s.workers, |_, _, c| c.run());
            let steps: Vec<(Step, bool)> = copies.iter().map(|c| (c.step, c.reset_first)).collect();
            drop(copies);
            if let Some(out) = real_out {
                out.copy_from_slice(&s.values);
            }
            let mut any = false;
            for (i, (step, was_reset)) in steps.into_iter().enumerate() {
                rewards[i] = step.reward;
                flags[i] = step.terminated as u8;
                flags[n + i] = step.truncated as u8;
                s.last_ended[i] = false;
                if was_reset {
                    s.ended[i] = false;
                    continue;
                }
                let e = &mut s.episodes[i];
                e.ret += step.reward;
                e.len += 1;
                if step.done() {
                    s.last_episode[i] = std::mem::take(e);
                    s.last_ended[i] = true;
                    s.ended[i] = mode != Autoreset::SameStep;
                    any = true;
                }
            }
            Ok(any)
        });
        any_ended.map_err(PyValueError::new_err)
    }

    /// The episodes the last step ended: writes their returns (`float64`)
    /// and lengths (`int64`) into `returns` and `lengths` (`num_envs` each,
    /// 0 for copies whose episode did not end) and, if `final_obs` is not
    /// 0 (SameStep mode), their final observations into its rows (as in
    /// `reset`; other rows untouched). Returns the mask of ended copies.
    fn ended(&self, returns: usize, lengths: usize, final_obs: usize) -> Vec<bool> {
        let (n, d) = (self.num_envs, self.obs_dim);
        let state = self.lock();
        let returns = unsafe { slice_at::<f64>(returns, n) };
        let lengths = unsafe { slice_at::<i64>(lengths, n) };
        for i in 0..n {
            let (r, l) = if state.last_ended[i] {
                let e = state.last_episode[i];
                (e.ret, e.len as i64)
            } else {
                (0.0, 0)
            };
            returns[i] = r;
            lengths[i] = l;
        }
        if final_obs != 0 && self.mode == Autoreset::SameStep {
            let rows = (0..n).filter(|&i| state.last_ended[i]);
            if self.byte_obs {
                let out = unsafe { slice_at::<u8>(final_obs, n * d) };
                for i in rows {
                    let row = i * d..(i + 1) * d;
                    out[row.clone()].copy_from_slice(&state.final_bytes[row]);
                }
            } else {
                let out = unsafe { slice_at::<f64>(final_obs, n * d) };
                for i in rows {
                    let row = i * d..(i + 1) * d;
                    out[row.clone()].copy_from_slice(&state.final_values[row]);
                }
            }
        }
        state.last_ended.clone()
    }

    /// Every copy's current picture, `width × height` RGB, row after row,
    /// into `frames` (`num_envs × height × width × 3` bytes). Raises
    /// `ValueError` for an env that cannot draw itself.
    fn render(&self, py: Python<'_>, frames: usize, width: usize, height: usize) -> PyResult<()> {
        let size = width * height * 3;
        let out = unsafe { slice_at::<u8>(frames, self.num_envs * size) };
        py.detach(|| {
            let mut state = self.lock();
            let copies = state.envs.copies_mut(0..self.num_envs);
            for (row, copy) in out.chunks_exact_mut(size.max(1)).zip(copies) {
                match copy.render(width, height) {
                    Some(rgb) => row.copy_from_slice(&rgb),
                    None => return Err(format!("env {} cannot render", self.config.id())),
                }
            }
            Ok(())
        })
        .map_err(PyValueError::new_err)
    }
}

/// The actions `harness run --algo random --seed SEED --num-envs N` takes,
/// batch after batch (with `--eval-every 0`, so no evaluation draws from the
/// same stream): `batches × num_envs × dim` `float64` values written to
/// `out`. Drawn by the random plugin's own [`trustbench_random::Sampler`]
/// seeded as the harness seeds it ([`plugin_seed`]), so a replay cannot
/// drift from the harness.
#[pyfunction]
fn harness_random_actions(
    env_id: &str,
    options: Vec<(String, String)>,
    num_envs: usize,
    seed: u64,
    batches: usize,
    out: usize,
) -> PyResult<()> {
    let spec = resolve_spec(env_id).map_err(PyValueError::new_err)?;
    let config = EnvConfig::new(spec, &options).map_err(PyValueError::new_err)?;
    let space = config.make().action_space().clone();
    let per_batch = num_envs * space.dim();
    let out = unsafe { slice_at::<f64>(out, batches * per_batch) };
    let mut sampler = trustbench_random::Sampler::new(plugin_seed(seed), &space);
    for batch in out.chunks_exact_mut(per_batch.max(1)) {
        sampler.sample(num_envs, batch);
    }
    Ok(())
}

/// Every registered env: `(id, summary)`, in the registry's order.
#[pyfunction]
fn registry() -> Vec<(&'static str, &'static str)> {
    let specs = trustbench_envs::registry().iter();
    specs.map(|s| (s.id, s.summary)).collect()
}

/// The extension module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<VecCore>()?;
    m.add_function(wrap_pyfunction!(harness_random_actions, m)?)?;
    m.add_function(wrap_pyfunction!(registry, m)?)?;
    Ok(())
}
