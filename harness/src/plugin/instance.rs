//! A live plugin instance, called only through checked wrappers.

use super::AlgorithmRef;
use super::library::plugin_str;
use anyhow::{Result, anyhow, bail};
use std::ffi::{CString, c_char};
use trustbench_plugin::Space;
use trustbench_plugin::abi::{self, tb_host, tb_instance, tb_spaces};

/// A plugin instance. Destroyed (by the plugin) on drop.
pub struct Instance {
    raw: *const tb_instance,
    algorithm: AlgorithmRef,
    observation_dim: usize,
    action_space: Space,
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
        let id = CString::new(algorithm.info.id.as_str())?;
        let config = CString::new(config_json)?;
        let mut out: *const tb_instance = std::ptr::null();
        let mut err = vec![0 as c_char; 1024];
        let create = algorithm
            .library
            .entry()
            .create
            .expect("checked when loaded");
        // SAFETY: all pointers valid for the call; spaces/host outlive the instance per the caller.
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
        let culprit = culprit(algorithm);
        if status != abi::TB_OK {
            *err.last_mut().expect("non-empty") = 0;
            // SAFETY: NUL-terminated above.
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
        anyhow!("{} failed in {operation}: {text}", culprit(&self.algorithm))
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
        let culprit = culprit(&self.algorithm);
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
                culprit(&self.algorithm)
            );
        }
        Ok(buf)
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

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(destroy) = self.raw().destroy {
            // SAFETY: called once, with the pointer the plugin gave us.
            unsafe { destroy(self.raw) }
        }
    }
}

/// How errors name a plugin: `plugin 'c-random' (./librandom.so)`.
fn culprit(a: &AlgorithmRef) -> String {
    format!("plugin '{}' ({})", a.info.id, a.library.source)
}
