//! Raw ABI probes: the parts of the protocol that [`Instance`]'s checked
//! calls hide on purpose (they retry, truncate and format), called here
//! directly so the validator can see exactly what the plugin did.

use crate::plugin::{AlgorithmRef, Instance, RawCreate, raw_create};
use std::ffi::c_char;
use trustbench_plugin::abi::{self, tb_host, tb_instance, tb_spaces};

/// Bytes after the declared capacity that a plugin must leave alone.
const GUARD: usize = 16;
/// What the guard bytes are filled with.
const FILL: u8 = 0xA5;

/// What `create` answered.
pub struct Created {
    /// It returned an instance (destroyed again right away).
    pub accepted: bool,
    /// Its error text (empty when accepted or when it gave none).
    pub message: String,
    /// Its status.
    pub status: abi::tb_status,
}

/// Call the library's `create` and destroy any instance it returns.
///
/// # Safety
/// `spaces` and `host` must be valid for the call (the instance does not
/// outlive it).
pub unsafe fn try_create(
    algorithm: &AlgorithmRef,
    config_json: &str,
    spaces: *const tb_spaces,
    host: *const tb_host,
) -> Result<Created, String> {
    // SAFETY: per the caller; any instance is destroyed below.
    let RawCreate { status, out, err } =
        unsafe { raw_create(algorithm, config_json, spaces, host) }.map_err(|e| e.to_string())?;
    let bytes: Vec<u8> = err
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    let message = String::from_utf8(bytes).map_err(|_| "its error text is not UTF-8")?;
    if status != abi::TB_OK {
        return Ok(Created {
            accepted: false,
            message,
            status,
        });
    }
    if out.is_null() {
        return Err("create returned TB_OK but no instance".into());
    }
    // SAFETY: non-null; the size is read before the destroy pointer.
    let raw = unsafe { &*out };
    if (raw.struct_size as usize) < std::mem::size_of::<tb_instance>() {
        return Err(format!(
            "create returned an instance struct of {} bytes, smaller than ABI 1.0's {}",
            raw.struct_size,
            std::mem::size_of::<tb_instance>()
        ));
    }
    match raw.destroy {
        // SAFETY: the plugin's own destroy of the instance it just made.
        Some(destroy) => unsafe { destroy(out) },
        None => return Err("create returned an instance whose destroy is NULL".into()),
    }
    Ok(Created {
        accepted: true,
        message,
        status,
    })
}

/// The two-call buffer protocol of `save`: a capacity too small (0, then
/// one byte short) gives `TB_BUFFER_TOO_SMALL`, the exact length and no
/// write; the exact capacity gives `TB_OK` and the same length. Returns the
/// length.
pub fn save_protocol(instance: &Instance) -> Result<usize, String> {
    let raw = instance.as_raw();
    // SAFETY: `instance` validated the struct and its `save` at create.
    let save = unsafe { (*raw).save }.expect("checked at create");
    let mut len = usize::MAX;
    // SAFETY: NULL with capacity 0 asks for the size (as the harness does).
    let status = unsafe { save(raw, std::ptr::null_mut(), 0, &mut len) };
    if status == abi::TB_OK && len == 0 {
        return Ok(0);
    }
    if status != abi::TB_BUFFER_TOO_SMALL {
        return Err(format!(
            "save with capacity 0 returned status {status}, not TB_BUFFER_TOO_SMALL ({})",
            abi::TB_BUFFER_TOO_SMALL
        ));
    }
    if len == usize::MAX {
        return Err("save with capacity 0 did not report the length it needs".into());
    }
    if len == 0 {
        return Err(
            "save with capacity 0 returned TB_BUFFER_TOO_SMALL but reported needing 0 bytes".into(),
        );
    }
    let short = len - 1;
    let mut buf = vec![FILL; short + GUARD];
    let mut len_short = usize::MAX;
    // SAFETY: the buffer holds more than the capacity we declare.
    let status = unsafe { save(raw, buf.as_mut_ptr(), short, &mut len_short) };
    if status != abi::TB_BUFFER_TOO_SMALL {
        return Err(format!(
            "save with capacity {short} (one byte short of the {len} it asked for) returned status {status}, not TB_BUFFER_TOO_SMALL"
        ));
    }
    if len_short != len {
        return Err(format!(
            "save reported {len} bytes, then {len_short} with a short buffer"
        ));
    }
    if buf.iter().any(|&b| b != FILL) {
        return Err(format!(
            "save wrote into a buffer of capacity {short} while returning TB_BUFFER_TOO_SMALL"
        ));
    }
    let mut buf = vec![FILL; len + GUARD];
    let mut len_full = usize::MAX;
    // SAFETY: as above.
    let status = unsafe { save(raw, buf.as_mut_ptr(), len, &mut len_full) };
    if status != abi::TB_OK {
        return Err(format!(
            "save with the {len} bytes it asked for returned status {status}"
        ));
    }
    if len_full != len {
        return Err(format!("save asked for {len} bytes, then wrote {len_full}"));
    }
    if buf[len..].iter().any(|&b| b != FILL) {
        return Err(format!("save wrote past the capacity of {len} bytes"));
    }
    Ok(len)
}

/// The buffer protocol of `last_error` after a failure: the full length
/// with capacity 0 (nothing written), a NUL-terminated prefix in a small
/// buffer, and the whole text (UTF-8, NUL at the end) in a large enough
/// one. Returns the text.
pub fn last_error_protocol(instance: &Instance) -> Result<String, String> {
    let raw = instance.as_raw();
    // SAFETY: `instance` validated the struct and its `last_error` at create.
    let last_error = unsafe { (*raw).last_error }.expect("checked at create");
    let call = |cap: usize| {
        let mut buf = vec![FILL as c_char; cap + GUARD];
        // SAFETY: the buffer holds more than the capacity we declare.
        let n = unsafe { last_error(raw, buf.as_mut_ptr(), cap) };
        (n, buf.into_iter().map(|c| c as u8).collect::<Vec<u8>>())
    };
    let (n, buf) = call(0);
    if n == 0 {
        return Err("last_error is empty after a failed call".into());
    }
    if buf.iter().any(|&b| b != FILL) {
        return Err("last_error wrote into a buffer of capacity 0".into());
    }
    let small = 4;
    let (n_small, buf) = call(small);
    if n_small != n {
        return Err(format!(
            "last_error returned length {n} with capacity 0 but {n_small} with capacity {small}"
        ));
    }
    let prefix = n.min(small - 1);
    if buf[prefix] != 0 || buf[small..].iter().any(|&b| b != FILL) {
        return Err(format!(
            "last_error with capacity {small} did not write a NUL-terminated prefix within it"
        ));
    }
    let (n_full, buf) = call(n + 1);
    if n_full != n || buf[n] != 0 || buf[..n].contains(&0) {
        return Err(format!(
            "last_error with capacity {} did not write its {n} bytes and a NUL",
            n + 1
        ));
    }
    String::from_utf8(buf[..n].to_vec()).map_err(|_| "last_error's text is not UTF-8".into())
}

/// Whether `act` refuses a malformed call (an observation buffer one value
/// longer than `count` rows) with an error status.
pub fn act_refuses_bad_length(instance: &Instance, obs_dim: usize, act_dim: usize) -> bool {
    let raw = instance.as_raw();
    // SAFETY: `instance` validated the struct and its `act` at create.
    let act = unsafe { (*raw).act }.expect("checked at create");
    let obs = vec![0.0; obs_dim + 1];
    let mut actions = vec![0.0; act_dim];
    let mut written = 0usize;
    // SAFETY: the buffers hold what we declare (obs_len is the lie).
    let status = unsafe {
        act(
            raw,
            obs.as_ptr(),
            obs.len(),
            1,
            1,
            actions.as_mut_ptr(),
            actions.len(),
            &mut written,
        )
    };
    status != abi::TB_OK
}
