//! A provider's env as an [`Env`]: one batch of one copy behind the
//! provider ABI, so external envs go through every host path native envs
//! do (`VecEnv`, the world's budget and episode records, evaluation,
//! `render`, `env-stats`).
//!
//! Nothing the provider returns is trusted: a failed call, a non-finite
//! observation or reward, or a space that differs between copies makes the
//! env *failed* ([`Env::failure`], naming the provider), and the callers
//! stop the run with that text. No panic crosses the ABI in either
//! direction: the provider's functions are only called, never called back.

use super::ProviderLibrary;
use std::ffi::{CString, c_char};
use std::sync::{Arc, OnceLock};
use trustbench_envs::{Env, EnvOptions, EnvSpec, ExternalEnv, Space, Step};
use trustbench_plugin::abi::{self, TB_BYTE_OBSERVATION_SCALE, tb_byte_step_out, tb_step_out};
use trustbench_plugin::env_abi::{
    TB_ENV_EXT_BYTE_OBSERVATIONS, TB_ENV_EXT_RENDER_RGB, TB_ENV_EXT_SNAPSHOT, tb_env_batch,
    tb_env_byte_observations, tb_env_render_rgb, tb_env_snapshot,
};

/// Builds the copies of one provider env (registered as its
/// [`ExternalEnv`]).
pub struct ProviderMaker {
    /// The library that offers the env.
    pub library: Arc<ProviderLibrary>,
    /// The spaces of the first copy made: every later copy must match.
    spaces: OnceLock<(Space, Space)>,
}

impl ProviderMaker {
    /// A maker for an env of `library`.
    pub fn new(library: Arc<ProviderLibrary>) -> ProviderMaker {
        ProviderMaker {
            library,
            spaces: OnceLock::new(),
        }
    }

    /// A batch of one copy of env `id` with `options`, checked. Its seed
    /// does not matter: the harness resets every copy with a seed first.
    fn create(&self, id: &str, options: &EnvOptions) -> Result<Batch, String> {
        Batch::create(&self.library, id, &options_json(options), &[0])
    }
}

/// The options as `create` takes them: a JSON object of strings.
pub(crate) fn options_json(options: &EnvOptions) -> String {
    let object: serde_json::Map<String, serde_json::Value> = options
        .pairs()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    serde_json::Value::Object(object).to_string()
}

impl Batch {
    /// `seeds.len()` copies of env `id`, checked.
    pub(crate) fn create(
        library: &ProviderLibrary,
        id: &str,
        options_json: &str,
        seeds: &[u64],
    ) -> Result<Batch, String> {
        let culprit = library.culprit();
        let (c_id, c_options) = (cstring(id)?, cstring(options_json)?);
        let create = library.entry().create.expect("checked at load");
        let mut out: *const tb_env_batch = std::ptr::null();
        let mut err = vec![0 as c_char; 2048];
        let n = u32::try_from(seeds.len()).map_err(|_| "too many copies".to_string())?;
        // SAFETY: every pointer is ours and valid for the call; [any-thread].
        let status = unsafe {
            create(
                c_id.as_ptr(),
                c_options.as_ptr(),
                n,
                seeds.as_ptr(),
                &mut out,
                err.as_mut_ptr(),
                err.len(),
            )
        };
        if status != abi::TB_OK || out.is_null() {
            *err.last_mut().expect("non-empty") = 0;
            // SAFETY: NUL-terminated above.
            let text = unsafe { crate::plugin::plugin_str(err.as_ptr(), "error text") }
                .unwrap_or_else(|e| e.to_string());
            return Err(format!("{culprit} could not create env '{id}': {text}"));
        }
        // SAFETY: a non-null batch from create, alive until destroy.
        unsafe { Batch::checked(out, culprit, n) }
    }
}

impl ProviderMaker {
    /// A copy of env `id` with `options` (not yet reset).
    fn make_env(
        &'static self,
        id: &'static str,
        options: &EnvOptions,
    ) -> Result<ProviderEnv, String> {
        let batch = self.create(id, options)?;
        let spaces = (batch.observation.clone(), batch.action.clone());
        let first = self.spaces.get_or_init(|| spaces.clone());
        let failure = (*first != spaces).then(|| {
            format!(
                "{}: a copy of env '{}' has spaces {} / {}, the first had {} / {}",
                batch.culprit,
                id,
                spaces.0.describe(),
                spaces.1.describe(),
                first.0.describe(),
                first.1.describe()
            )
        });
        Ok(ProviderEnv {
            id,
            maker: self,
            options: options.clone(),
            bytes: batch.byte_observations.map(|_| Vec::new()),
            batch,
            pending: None,
            last: (Vec::new(), Vec::new()),
            failure,
        })
    }
}

impl ExternalEnv for ProviderMaker {
    fn make(&self, spec: &EnvSpec, options: &EnvOptions) -> Result<Box<dyn Env>, String> {
        // `self` is the spec's maker, which lives as long as the process:
        // recover it as such, so the copies can make copies of themselves.
        let maker: &'static ProviderMaker = spec
            .external_maker()
            .and_then(|m| m.as_any().downcast_ref())
            .ok_or_else(|| format!("env '{}' is not a provider env", spec.id))?;
        debug_assert!(std::ptr::eq(maker, self));
        Ok(Box::new(maker.make_env(spec.id, options)?))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A NUL-terminated copy of `s`.
fn cstring(s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("'{s}' contains a NUL byte"))
}

/// A provider's batch, checked, destroyed on drop.
pub(crate) struct Batch {
    raw: *const tb_env_batch,
    /// How errors name the provider.
    pub(crate) culprit: String,
    /// One copy's observation space.
    pub(crate) observation: Space,
    /// One copy's action space.
    pub(crate) action: Space,
    render: Option<tb_env_render_rgb>,
    /// The snapshot extension, when offered.
    pub(crate) snapshot: Option<tb_env_snapshot>,
    byte_observations: Option<tb_env_byte_observations>,
}

impl Batch {
    /// The batch `raw` with its struct size, functions, spaces and
    /// extensions checked; destroyed if a check fails.
    ///
    /// # Safety
    /// `raw` must be a non-null batch from `create` that has not been destroyed.
    unsafe fn checked(raw: *const tb_env_batch, culprit: String, n: u32) -> Result<Batch, String> {
        // SAFETY: the size is the first field of every version.
        let size = unsafe { (*raw).struct_size } as usize;
        if size < std::mem::size_of::<tb_env_batch>() {
            // Without its full struct there is no `destroy` to call safely: leak it.
            return Err(format!(
                "{culprit}: its batch struct is {size} bytes, smaller than ABI 1.0's {}",
                std::mem::size_of::<tb_env_batch>()
            ));
        }
        // SAFETY: the 1.0 struct is present.
        let b = unsafe { &*raw };
        if b.destroy.is_none() {
            return Err(format!("{culprit}: its batch has a NULL destroy"));
        }
        let mut batch = Batch {
            raw,
            culprit,
            observation: Space::Discrete { n: 1 },
            action: Space::Discrete { n: 1 },
            render: None,
            snapshot: None,
            byte_observations: None,
        };
        let (Some(_), Some(_), Some(_), Some(_)) = (b.reset, b.step, b.last_error, b.extension)
        else {
            return Err(format!("{}: its batch has a NULL function", batch.culprit));
        };
        if b.num_envs != n {
            return Err(format!(
                "{}: asked for {n} copies, its batch has {}",
                batch.culprit, b.num_envs
            ));
        }
        // SAFETY: the provider owns the bounds for the batch's life (ABI).
        let spaces = unsafe { (Space::from_raw(&b.observation), Space::from_raw(&b.action)) };
        match spaces {
            (Ok(o), Ok(a)) => (batch.observation, batch.action) = (o, a),
            (Err(e), _) | (_, Err(e)) => return Err(format!("{}: {e}", batch.culprit)),
        }
        // SAFETY: each extension is a struct of at least its struct_size (checked) that lives as long as the batch.
        unsafe {
            batch.render = batch.extension(TB_ENV_EXT_RENDER_RGB, |e: &tb_env_render_rgb| {
                e.render.is_some()
            })?;
            batch.snapshot = batch.extension(TB_ENV_EXT_SNAPSHOT, |e: &tb_env_snapshot| {
                e.save.is_some() && e.load.is_some()
            })?;
            batch.byte_observations = batch.extension(
                TB_ENV_EXT_BYTE_OBSERVATIONS,
                |e: &tb_env_byte_observations| e.reset.is_some() && e.step.is_some(),
            )?;
        }
        Ok(batch)
    }

    /// Extension `id` as a `T` (copied), checked by size and by `complete`.
    ///
    /// # Safety
    /// The provider must return NULL or a `T` of at least its `struct_size`.
    unsafe fn extension<T: Copy>(
        &self,
        id: &[u8],
        complete: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, String> {
        let get = self.raw().extension.expect("checked");
        // SAFETY: the id is NUL-terminated; [batch-thread].
        let p = unsafe { get(self.raw, id.as_ptr() as *const c_char) } as *const T;
        if p.is_null() {
            return Ok(None);
        }
        let name = crate::plugin::symbol_name(id);
        // SAFETY: every extension struct starts with its u32 size.
        let size = unsafe { *(p as *const u32) } as usize;
        // SAFETY: at least our size (checked first).
        if size < std::mem::size_of::<T>() || !complete(unsafe { &*p }) {
            return Err(format!(
                "{}: extension {name} is {size} bytes or has a NULL function",
                self.culprit
            ));
        }
        // SAFETY: as above.
        Ok(Some(unsafe { *p }))
    }

    /// The provider's struct (for raw calls: the validator's).
    pub(crate) fn raw(&self) -> &tb_env_batch {
        // SAFETY: checked in `checked`; alive until drop.
        unsafe { &*self.raw }
    }

    /// The provider's text for a failed `operation`.
    pub(crate) fn failure(&self, operation: &str, status: abi::tb_status) -> String {
        let mut buf = vec![0 as c_char; 2048];
        // SAFETY: our buffer; [batch-thread].
        let n = unsafe {
            (self.raw().last_error.expect("checked"))(self.raw, buf.as_mut_ptr(), buf.len())
        };
        *buf.last_mut().expect("non-empty") = 0;
        let text = match n {
            0 => format!("status {status}"),
            // SAFETY: NUL-terminated above.
            _ => unsafe { crate::plugin::plugin_str(buf.as_ptr(), "error text") }
                .unwrap_or_else(|e| e.to_string()),
        };
        format!("{} failed in {operation}: {text}", self.culprit)
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        // SAFETY: checked non-null; called once, last.
        unsafe { (self.raw().destroy.expect("checked"))(self.raw) }
    }
}

/// One copy of a provider env.
pub struct ProviderEnv {
    id: &'static str,
    maker: &'static ProviderMaker,
    options: EnvOptions,
    batch: Batch,
    /// The current observation as bytes, for providers that offer them.
    bytes: Option<Vec<u8>>,
    /// After a step that ended an episode: the next episode's first
    /// observation (values and bytes), which the provider already reset to
    /// and the next `reset(None)` hands out.
    pending: Option<(Vec<f64>, Vec<u8>)>,
    /// Where a step writes an ended episode's last observation.
    last: (Vec<f64>, Vec<u8>),
    failure: Option<String>,
}

// SAFETY: the batch is driven by one thread at a time (`&mut self` for
// every call that reaches it), which the ABI's [batch-thread] allows from
// any thread.
unsafe impl Send for ProviderEnv {}

/// The observation a failed env shows, and the end of its episode.
fn failed_step(obs: &mut [f64]) -> Step {
    obs.fill(0.0);
    Step {
        reward: 0.0,
        terminated: true,
        truncated: false,
    }
}

impl ProviderEnv {
    fn fail(&mut self, text: String) {
        self.failure.get_or_insert(text);
    }

    /// The non-finite value in `values`, if any, as an error text.
    fn non_finite(&self, what: &str, values: &[f64]) -> Option<String> {
        let i = values.iter().position(|v| !v.is_finite())?;
        Some(format!(
            "{}: env '{}' returned a non-finite {what} ({} at index {i})",
            self.batch.culprit, self.id, values[i]
        ))
    }

    /// Reset through the provider, writing values (and bytes) of the first observation.
    fn provider_reset(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<(), String> {
        let seeds = seed.map(|s| [s]);
        let seeds_ptr = seeds.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
        let b = self.batch.raw;
        let status = match (&mut self.bytes, self.batch.byte_observations) {
            (Some(bytes), Some(ext)) => {
                bytes.resize(obs.len(), 0);
                // SAFETY: buffers of the declared lengths; [batch-thread].
                let status = unsafe {
                    (ext.reset.expect("checked"))(
                        b,
                        0,
                        1,
                        seeds_ptr,
                        bytes.as_mut_ptr(),
                        bytes.len(),
                    )
                };
                values_of(bytes, obs);
                status
            }
            _ => {
                let reset = self.batch.raw().reset.expect("checked");
                // SAFETY: as above.
                unsafe { reset(b, 0, 1, seeds_ptr, obs.as_mut_ptr(), obs.len()) }
            }
        };
        if status != abi::TB_OK {
            return Err(self.batch.failure("reset", status));
        }
        self.non_finite("observation", obs).map_or(Ok(()), Err)
    }

    /// Step through the provider: `obs` gets the next observation (of the
    /// new episode after an end) and `last` the ended episode's last one.
    fn provider_step(
        &mut self,
        action: &[f64],
        obs: &mut [f64],
        last: &mut [f64],
        last_bytes: &mut Vec<u8>,
    ) -> Result<Step, String> {
        let (mut reward, mut terminated, mut truncated) = (0.0f64, 0u8, 0u8);
        let b = self.batch.raw;
        let status = match (&mut self.bytes, self.batch.byte_observations) {
            (Some(bytes), Some(ext)) => {
                bytes.resize(obs.len(), 0);
                last_bytes.resize(obs.len(), 0);
                let out = tb_byte_step_out {
                    struct_size: std::mem::size_of::<tb_byte_step_out>() as u32,
                    obs_len: bytes.len(),
                    observations: bytes.as_mut_ptr(),
                    final_observations: last_bytes.as_mut_ptr(),
                    rewards: &mut reward,
                    terminated: &mut terminated,
                    truncated: &mut truncated,
                };
                // SAFETY: buffers of the declared lengths for the call; [batch-thread].
                let status = unsafe {
                    (ext.step.expect("checked"))(b, 0, 1, action.as_ptr(), action.len(), &out)
                };
                values_of(bytes, obs);
                values_of(last_bytes, last);
                status
            }
            _ => {
                let out = tb_step_out {
                    struct_size: std::mem::size_of::<tb_step_out>() as u32,
                    observations: obs.as_mut_ptr(),
                    final_observations: last.as_mut_ptr(),
                    rewards: &mut reward,
                    terminated: &mut terminated,
                    truncated: &mut truncated,
                };
                let step = self.batch.raw().step.expect("checked");
                // SAFETY: as above.
                unsafe { step(b, 0, 1, action.as_ptr(), action.len(), &out) }
            }
        };
        if status != abi::TB_OK {
            return Err(self.batch.failure("step", status));
        }
        let step = Step {
            reward,
            terminated: terminated != 0,
            truncated: truncated != 0,
        };
        let checks = [
            self.non_finite("reward", &[reward]),
            self.non_finite("observation", obs),
            step.done()
                .then(|| self.non_finite("final observation", last))
                .flatten(),
        ];
        match checks.into_iter().flatten().next() {
            Some(why) => Err(why),
            None => Ok(step),
        }
    }

    /// The copy's state through the snapshot extension.
    fn save_state(&self, ext: tb_env_snapshot) -> Result<Vec<u8>, String> {
        let save = ext.save.expect("checked");
        let mut len = 0usize;
        // SAFETY: a zero-capacity query; [batch-thread].
        let status = unsafe { save(self.batch.raw, 0, std::ptr::null_mut(), 0, &mut len) };
        if status != abi::TB_BUFFER_TOO_SMALL && status != abi::TB_OK {
            return Err(self.batch.failure("snapshot save", status));
        }
        let mut buf = vec![0u8; len];
        let mut written = 0usize;
        // SAFETY: our buffer of `len` bytes.
        let status = unsafe { save(self.batch.raw, 0, buf.as_mut_ptr(), len, &mut written) };
        if status != abi::TB_OK || written != len {
            return Err(self.batch.failure("snapshot save", status));
        }
        Ok(buf)
    }

    /// A copy of this env through the snapshot extension: a new batch put
    /// into this one's state.
    fn try_clone(&self) -> Result<ProviderEnv, String> {
        let ext = self.batch.snapshot.ok_or_else(|| {
            self.snapshot_refusal()
                .unwrap_or_else(|| "no snapshot".into())
        })?;
        let state = self.save_state(ext)?;
        let mut copy = self.maker.make_env(self.id, &self.options)?;
        let load = copy
            .batch
            .snapshot
            .ok_or("the copy has no snapshot")?
            .load
            .expect("checked");
        // SAFETY: our buffer of `state.len()` bytes; [batch-thread].
        let status = unsafe { load(copy.batch.raw, 0, state.as_ptr(), state.len()) };
        if status != abi::TB_OK {
            return Err(copy.batch.failure("snapshot load", status));
        }
        copy.bytes.clone_from(&self.bytes);
        copy.pending.clone_from(&self.pending);
        copy.failure.clone_from(&self.failure);
        Ok(copy)
    }
}

/// The values byte observations stand for (`b · TB_BYTE_OBSERVATION_SCALE`).
fn values_of(bytes: &[u8], values: &mut [f64]) {
    for (v, &b) in values.iter_mut().zip(bytes) {
        *v = f64::from(b) * TB_BYTE_OBSERVATION_SCALE;
    }
}

impl Env for ProviderEnv {
    fn observation_space(&self) -> &Space {
        &self.batch.observation
    }

    fn action_space(&self) -> &Space {
        &self.batch.action
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f64]) {
        let pending = self.pending.take();
        if self.failure.is_some() {
            obs.fill(0.0);
            return;
        }
        if let (None, Some((values, bytes))) = (seed, pending) {
            // The provider reset itself when the episode ended (continuing
            // its stream): that first observation is this reset's.
            obs.copy_from_slice(&values);
            if let Some(b) = &mut self.bytes {
                *b = bytes;
            }
            return;
        }
        if let Err(why) = self.provider_reset(seed, obs) {
            self.fail(why);
            obs.fill(0.0);
        }
    }

    fn step(&mut self, action: &[f64], obs: &mut [f64]) -> Step {
        // A step without the reset after an ended episode continues the
        // episode the provider already started.
        self.pending = None;
        if self.failure.is_some() {
            return failed_step(obs);
        }
        let (mut last, mut last_bytes) = std::mem::take(&mut self.last);
        last.resize(obs.len(), 0.0);
        let result = self.provider_step(action, obs, &mut last, &mut last_bytes);
        let step = match result {
            Ok(step) if step.done() => {
                // The env contract: `obs` is the ended episode's last
                // observation; the next one waits for the reset.
                let next_bytes = match &mut self.bytes {
                    Some(b) => std::mem::replace(b, last_bytes.clone()),
                    None => Vec::new(),
                };
                self.pending = Some((obs.to_vec(), next_bytes));
                obs.copy_from_slice(&last);
                step
            }
            Ok(step) => step,
            Err(why) => {
                self.fail(why);
                failed_step(obs)
            }
        };
        self.last = (last, last_bytes);
        step
    }

    fn boxed_clone(&self) -> Box<dyn Env> {
        match self.try_clone() {
            Ok(copy) => Box::new(copy),
            Err(why) => {
                // Callers ask `snapshot_refusal` first; a clone that fails
                // anyway is a fresh copy that reports why.
                let mut fresh = self
                    .maker
                    .make_env(self.id, &self.options)
                    .unwrap_or_else(|e| panic!("{why}; and a fresh copy failed too: {e}"));
                fresh.fail(why);
                Box::new(fresh)
            }
        }
    }

    fn render(&self, width: usize, height: usize) -> Option<Vec<u8>> {
        let render = self.batch.render?.render.expect("checked");
        let mut rgb = vec![0u8; width * height * 3];
        let (w, h) = (u32::try_from(width).ok()?, u32::try_from(height).ok()?);
        // SAFETY: our buffer of the declared length; [batch-thread] (`Env`
        // is not `Sync`, so no other thread holds `self`).
        let status = unsafe { render(self.batch.raw, 0, w, h, rgb.as_mut_ptr(), rgb.len()) };
        (status == abi::TB_OK).then_some(rgb)
    }

    fn observation_bytes(&self) -> Option<&[u8]> {
        self.bytes.as_deref()
    }

    fn snapshot_refusal(&self) -> Option<String> {
        self.batch.snapshot.is_none().then(|| {
            format!(
                "{}: env '{}' does not offer exact snapshot/restore ({}), which the vine method needs",
                self.batch.culprit,
                self.id,
                crate::plugin::symbol_name(TB_ENV_EXT_SNAPSHOT)
            )
        })
    }

    fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }
}
