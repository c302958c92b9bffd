//! The Python plugin host: algorithms written in Python, run behind the
//! trustbench plugin C ABI.
//!
//! The key design decision: Python is a *library of algorithms*, not a
//! second kind of plugin. This crate embeds CPython and turns a `.py` file's
//! [`trustbench_plugin.Algorithm`](../trustbench_plugin.py) subclasses into an
//! ordinary `tb_plugin_entry` (descriptors built with
//! [`AlgorithmEntry::dynamic`], instances with [`trustbench_plugin::new_instance`]),
//! so the harness runs, sweeps, validates and reports them through the one
//! code path every algorithm takes.
//!
//! Linking: the library uses CPython's stable ABI (abi3, ≥ 3.11) and does not
//! link libpython. The harness loads the interpreter's shared library with
//! `RTLD_GLOBAL` first, only when a Python plugin is asked for, then this
//! library, then calls [`trustbench_python_entry_v1`] with the script's path.
//! So `harness` never depends on Python, and this crate builds without it.
//!
//! Each script gets its own entry (one of [`slots::SLOTS`]), because the
//! ABI's factory functions take no context argument.
#![warn(missing_docs)]

mod arrays;
mod errors;
mod gym;
mod host;
mod interpreter;
mod learner;
mod script;
mod slots;

use std::ffi::{CStr, c_char};
use trustbench_plugin::abi::tb_plugin_entry;
use trustbench_plugin::copy_to_c_buffer;
use trustbench_plugin::env_abi::tb_env_provider;

/// Load the Python plugin at `script` and return its library entry: the
/// Python host's counterpart of `trustbench_plugin_entry_v1`, which takes
/// the script (and the interpreter set-up) it serves.
///
/// `setup_json` is a JSON object from the harness's probe of the user's
/// interpreter: `{"sys_path": [...], "executable": "..."}` (so the embedded
/// interpreter imports what that interpreter, or its virtual environment,
/// would). On failure returns NULL with the reason (for a script that does
/// not import: the file, line and Python error) copied into `err`
/// (capacity `err_cap`, NUL-terminated, truncated). Loading the same path
/// twice returns the same entry. [any-thread]
///
/// # Safety
/// `script` and `setup_json` must be NUL-terminated strings; `err` NULL or
/// writable for `err_cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn trustbench_python_entry_v1(
    script: *const c_char,
    setup_json: *const c_char,
    err: *mut c_char,
    err_cap: usize,
) -> *const tb_plugin_entry {
    let result = std::panic::catch_unwind(|| {
        if script.is_null() || setup_json.is_null() {
            return Err("trustbench_python_entry_v1: NULL argument".to_string());
        }
        // SAFETY: non-null, NUL-terminated per this function's contract.
        let (script, setup) = unsafe { (CStr::from_ptr(script), CStr::from_ptr(setup_json)) };
        let script = script.to_str().map_err(|_| "script path is not UTF-8")?;
        let setup = setup.to_str().map_err(|_| "set-up is not UTF-8")?;
        interpreter::start(setup)?;
        slots::load(script)
    });
    let message = match result {
        Ok(Ok(entry)) => return entry,
        Ok(Err(message)) => message,
        Err(_) => "the Python host panicked while loading the script".to_string(),
    };
    // SAFETY: `err` is NULL or writable for `err_cap` bytes per the contract.
    unsafe { copy_to_c_buffer(&message, err, err_cap) };
    std::ptr::null()
}

/// The Gymnasium env provider (`--env gym:ID`): the env-provider entry of
/// this library, served by the interpreter `setup_json` describes (as for
/// [`trustbench_python_entry_v1`]). On failure returns NULL with the reason
/// in `err` (capacity `err_cap`, NUL-terminated, truncated). [any-thread]
///
/// # Safety
/// `setup_json` must be a NUL-terminated string; `err` NULL or writable for
/// `err_cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn trustbench_python_env_provider_v1(
    setup_json: *const c_char,
    err: *mut c_char,
    err_cap: usize,
) -> *const tb_env_provider {
    let result = std::panic::catch_unwind(|| {
        if setup_json.is_null() {
            return Err("trustbench_python_env_provider_v1: NULL argument".to_string());
        }
        // SAFETY: non-null, NUL-terminated per this function's contract.
        let setup = unsafe { CStr::from_ptr(setup_json) };
        let setup = setup.to_str().map_err(|_| "set-up is not UTF-8")?;
        interpreter::start(setup)?;
        gym::entry()
    });
    let message = match result {
        Ok(Ok(entry)) => return entry,
        Ok(Err(message)) => message,
        Err(_) => "the Python host panicked while starting the Gymnasium provider".to_string(),
    };
    // SAFETY: `err` is NULL or writable for `err_cap` bytes per the contract.
    unsafe { copy_to_c_buffer(&message, err, err_cap) };
    std::ptr::null()
}
