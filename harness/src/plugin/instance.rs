//! A live plugin instance, called only through checked wrappers.

use super::AlgorithmRef;
use super::library::plugin_str;
use anyhow::{Result, anyhow, bail};
use std::ffi::{CString, c_char};
use trustbench_plugin::Space;
use trustbench_plugin::abi::{self, tb_ext_natural_gradient, tb_host, tb_instance, tb_spaces};

/// A plugin instance. Destroyed (by the plugin) on drop.
pub struct Instance {
    raw: *const tb_instance,
    algorithm: AlgorithmRef,
    observation_dim: usize,
    action_space: Space,
}

/// What the library's `create` returned, unchecked.
pub(crate) struct RawCreate {
    /// Its status.
    pub status: abi::tb_status,
    /// The instance (NULL unless it succeeded, if the plugin keeps to the ABI).
    pub out: *const tb_instance,
    /// Its error text buffer, NUL-terminated (its last byte forced to 0).
    pub err: Vec<c_char>,
}

/// Call `algorithm`'s `create` with `config_json`, as it is: the one place
/// the harness calls it ([`Instance::create`] checks the answer; the
/// validator's probe looks at it raw).
///
/// # Safety
/// `spaces` and `host` must be valid for the call, and for the life of the
/// instance it may return.
pub(crate) unsafe fn raw_create(
    algorithm: &AlgorithmRef,
    config_json: &str,
    spaces: *const tb_spaces,
    host: *const tb_host,
) -> std::result::Result<RawCreate, std::ffi::NulError> {
    let id = CString::new(algorithm.info.id.as_str())?;
    let config = CString::new(config_json)?;
    let mut out: *const tb_instance = std::ptr::null();
    let mut err = vec![0 as c_char; 1024];
    let create = algorithm
        .library
        .entry()
        .create
        .expect("checked when loaded");
    // SAFETY: every pointer is valid for the call (spaces/host per the caller).
    let status = unsafe {
        create(
            id.as_ptr(),
            config.as_ptr(),
            spaces,
            host,
            &mut out,
            err.as_mut_ptr(),
            err.len(),
        )
    };
    *err.last_mut().expect("non-empty") = 0;
    Ok(RawCreate { status, out, err })
}

impl Instance {
    /// Create an instance of `algorithm`.
    ///
    /// # Safety
    /// `spaces` and `host` (and everything they point to) must outlive the
    /// returned instance.
    pub unsafe fn create(
        algorithm: &AlgorithmRef,
        config_json: &str,
        spaces: *const tb_spaces,
        host: *const tb_host,
        observation: &Space,
        action: &Space,
    ) -> Result<Instance> {
        // SAFETY: spaces/host outlive the instance per the caller.
        let RawCreate { status, out, err } =
            unsafe { raw_create(algorithm, config_json, spaces, host) }?;
        let culprit = algorithm.culprit();
        if status != abi::TB_OK {
            // SAFETY: `raw_create` NUL-terminates it.
            let text = unsafe { plugin_str(err.as_ptr(), "error") }.unwrap_or_default();
            bail!(
                "{culprit} refused to start: {}",
                if text.is_empty() {
                    format!("status {status}")
                } else {
                    text
                }
            );
        }
        if out.is_null() {
            bail!("{culprit} reported success but returned no instance");
        }
        let instance = Instance {
            raw: out,
            algorithm: algorithm.clone(),
            observation_dim: observation.dim(),
            action_space: action.clone(),
        };
        // SAFETY: non-null; struct_size is read before any later field.
        let raw = unsafe { &*out };
        if (raw.struct_size as usize) < std::mem::size_of::<tb_instance>()
            || raw.train_iteration.is_none()
            || raw.act.is_none()
            || raw.save.is_none()
            || raw.load.is_none()
            || raw.last_error.is_none()
        {
            // Leak rather than call a destroy we cannot trust.
            std::mem::forget(instance);
            bail!(
                "{culprit} returned an incomplete instance (struct too small or a NULL function)"
            );
        }
        Ok(instance)
    }

    /// The plugin's instance struct, for probes of the ABI's raw protocol
    /// (`harness check plugin`: buffer sizes, `last_error`) that the
    /// checked calls here deliberately hide. Valid until `self` drops.
    pub fn as_raw(&self) -> *const tb_instance {
        self.raw
    }

    fn raw(&self) -> &tb_instance {
        // SAFETY: validated in create; alive until drop.
        unsafe { &*self.raw }
    }

    /// The plugin's text for its last failure, or the bare status.
    fn failure(&self, operation: &str, status: abi::tb_status) -> anyhow::Error {
        let mut buf = vec![0 as c_char; 2048];
        // SAFETY: checked non-null in create; the buffer is ours.
        let n = unsafe {
            (self.raw().last_error.expect("checked"))(self.raw, buf.as_mut_ptr(), buf.len())
        };
        *buf.last_mut().expect("non-empty") = 0;
        let text = if n == 0 {
            format!("status {status}")
        } else {
            // SAFETY: NUL-terminated above.
            unsafe { plugin_str(buf.as_ptr(), "error text") }.unwrap_or_else(|e| e.to_string())
        };
        anyhow!("{} failed in {operation}: {text}", self.algorithm.culprit())
    }

    /// One iteration of learning.
    pub fn train_iteration(&mut self) -> Result<()> {
        // SAFETY: checked non-null in create.
        let status = unsafe { (self.raw().train_iteration.expect("checked"))(self.raw) };
        if status == abi::TB_OK {
            Ok(())
        } else {
            Err(self.failure("train_iteration", status))
        }
    }

    /// Actions for `obs` (whole rows of the observation dim) into `actions`,
    /// which must hold one row of the action dim per observation. The
    /// plugin's answer is checked: length, finiteness, discrete range.
    pub fn act(&mut self, obs: &[f64], deterministic: bool, actions: &mut [f64]) -> Result<()> {
        let count = obs.len() / self.observation_dim.max(1);
        let act_dim = self.action_space.dim();
        debug_assert_eq!(actions.len(), count * act_dim);
        let mut written = usize::MAX;
        // SAFETY: checked non-null in create; buffers are ours for the call.
        let status = unsafe {
            (self.raw().act.expect("checked"))(
                self.raw,
                obs.as_ptr(),
                obs.len(),
                count as u32,
                deterministic as i32,
                actions.as_mut_ptr(),
                actions.len(),
                &mut written,
            )
        };
        if status != abi::TB_OK {
            return Err(self.failure("act", status));
        }
        let culprit = self.algorithm.culprit();
        if written != actions.len() {
            bail!(
                "{culprit} returned {written} action values for {count} observations; expected {} ({count} × {act_dim})",
                actions.len()
            );
        }
        for (i, row) in actions.chunks_exact(act_dim.max(1)).enumerate() {
            if let Some(why) = self.action_space.invalid_action(row) {
                bail!("{culprit} returned an invalid action for observation {i}: {why}");
            }
        }
        Ok(())
    }

    /// The learned parameters (two calls: size, then bytes).
    pub fn save(&mut self) -> Result<Vec<u8>> {
        let save = self.raw().save.expect("checked");
        let mut len = 0usize;
        // SAFETY: a NULL buffer with capacity 0 asks for the size.
        let status = unsafe { save(self.raw, std::ptr::null_mut(), 0, &mut len) };
        if status != abi::TB_BUFFER_TOO_SMALL && status != abi::TB_OK {
            return Err(self.failure("save", status));
        }
        let mut buf = vec![0u8; len];
        let mut len2 = 0usize;
        // SAFETY: the buffer holds `len` bytes.
        let status = unsafe { save(self.raw, buf.as_mut_ptr(), buf.len(), &mut len2) };
        if status != abi::TB_OK {
            return Err(self.failure("save", status));
        }
        if len2 != len {
            bail!(
                "{} changed its saved size between calls ({len} then {len2} bytes)",
                self.algorithm.culprit()
            );
        }
        Ok(buf)
    }

    /// The natural-gradient extension, if the plugin offers it.
    pub fn natural_gradient(&mut self) -> Result<Option<NaturalGradient<'_>>> {
        let Some(lookup) = self.raw().extension else {
            return Ok(None);
        };
        let id = abi::TB_EXT_NATURAL_GRADIENT.as_ptr() as *const c_char;
        // SAFETY: checked non-null; the id is NUL-terminated.
        let ptr = unsafe { lookup(self.raw, id) } as *const tb_ext_natural_gradient;
        if ptr.is_null() {
            return Ok(None);
        }
        // SAFETY: non-null; the size is read before any other field and lives as long as the instance.
        let vtable = unsafe { &*ptr };
        let culprit = self.algorithm.culprit();
        if (vtable.struct_size as usize) < std::mem::size_of::<tb_ext_natural_gradient>()
            || vtable.dim.is_none()
            || vtable.prepare.is_none()
            || vtable.gradient.is_none()
            || vtable.fisher_vector_product.is_none()
            || vtable.conjugate_gradient.is_none()
        {
            bail!("{culprit} offers an incomplete natural-gradient extension");
        }
        // SAFETY: checked non-null.
        let dim = unsafe { (vtable.dim.expect("checked"))(self.raw) } as usize;
        Ok(Some(NaturalGradient {
            instance: self,
            vtable,
            dim,
        }))
    }

    /// Replace the learned parameters.
    pub fn load(&mut self, bytes: &[u8]) -> Result<()> {
        // SAFETY: checked non-null in create; the bytes are ours for the call.
        let status =
            unsafe { (self.raw().load.expect("checked"))(self.raw, bytes.as_ptr(), bytes.len()) };
        if status == abi::TB_OK {
            Ok(())
        } else {
            Err(self.failure("load", status))
        }
    }
}

/// The checked view of a plugin's `trustbench.natural-gradient/1` extension.
pub struct NaturalGradient<'a> {
    instance: &'a mut Instance,
    vtable: &'a tb_ext_natural_gradient,
    dim: usize,
}

/// Every value finite, or an error naming the plugin and the quantity.
fn all_finite(values: &[f64], what: &str, culprit: &str) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => bail!(
            "{culprit} returned a non-finite {what} (element {i} is {})",
            values[i]
        ),
    }
}

impl NaturalGradient<'_> {
    /// Number of policy parameters.
    pub fn dim(&self) -> usize {
        self.dim
    }

    fn status(&self, operation: &str, status: abi::tb_status) -> Result<()> {
        if status == abi::TB_OK {
            Ok(())
        } else {
            Err(self.instance.failure(operation, status))
        }
    }

    /// Collect a batch and fix g and F at the current parameters.
    pub fn prepare(&mut self) -> Result<()> {
        // SAFETY: checked non-null when the extension was looked up.
        let status = unsafe { (self.vtable.prepare.expect("checked"))(self.instance.raw) };
        self.status("natural-gradient prepare", status)
    }

    /// The surrogate gradient g.
    pub fn gradient(&mut self) -> Result<Vec<f64>> {
        let mut g = vec![0.0; self.dim];
        // SAFETY: the buffer holds dim values.
        let status = unsafe {
            (self.vtable.gradient.expect("checked"))(self.instance.raw, g.as_mut_ptr(), g.len())
        };
        self.status("natural-gradient gradient", status)?;
        all_finite(&g, "gradient", &self.instance.algorithm.culprit())?;
        Ok(g)
    }

    /// `(F + λI) v` into `out`.
    pub fn fisher_vector_product(&mut self, v: &[f64], out: &mut [f64]) -> Result<()> {
        assert_eq!((v.len(), out.len()), (self.dim, self.dim));
        // SAFETY: both buffers hold dim values.
        let status = unsafe {
            (self.vtable.fisher_vector_product.expect("checked"))(
                self.instance.raw,
                v.as_ptr(),
                out.as_mut_ptr(),
                v.len(),
            )
        };
        self.status("natural-gradient fisher_vector_product", status)?;
        all_finite(
            out,
            "Fisher-vector product",
            &self.instance.algorithm.culprit(),
        )
    }

    /// The plugin's own CG for up to `iterations` iterations: the iterates
    /// `x_1, x_2, …` and their residual norms.
    pub fn conjugate_gradient(&mut self, iterations: usize) -> Result<(Vec<Vec<f64>>, Vec<f64>)> {
        let n = self.dim;
        let mut iterates = vec![0.0; iterations * n];
        let mut residuals = vec![0.0; iterations];
        let mut done = u32::MAX;
        // SAFETY: the buffers hold what we declare.
        let status = unsafe {
            (self.vtable.conjugate_gradient.expect("checked"))(
                self.instance.raw,
                iterations as u32,
                iterates.as_mut_ptr(),
                iterates.len(),
                residuals.as_mut_ptr(),
                &mut done,
            )
        };
        self.status("natural-gradient conjugate_gradient", status)?;
        let culprit = self.instance.algorithm.culprit();
        let done = done as usize;
        if done > iterations {
            bail!("{culprit} reported {done} CG iterations when at most {iterations} were asked");
        }
        iterates.truncate(done * n);
        residuals.truncate(done);
        all_finite(&iterates, "CG iterate", &culprit)?;
        all_finite(&residuals, "CG residual", &culprit)?;
        Ok((
            iterates
                .chunks_exact(n.max(1))
                .map(<[f64]>::to_vec)
                .collect(),
            residuals,
        ))
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(destroy) = self.raw().destroy {
            // SAFETY: called once, with the pointer the plugin gave us.
            unsafe { destroy(self.raw) }
        }
    }
}
