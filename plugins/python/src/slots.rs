//! One `tb_plugin_entry` per loaded script.
//!
//! The ABI's factory functions (`algorithm_count`, `algorithm`, `create`)
//! take no context argument, so each script needs functions of its own that
//! know which script they serve. They are generated here for a fixed number
//! of slots: a process loads a handful of Python plugins at most (one per
//! `--plugin` flag), and a script loaded twice reuses its slot.

use crate::script;
use std::ffi::c_char;
use std::sync::{Mutex, OnceLock};
use trustbench_plugin::Library;
use trustbench_plugin::abi::{
    tb_algorithm_descriptor, tb_host, tb_instance, tb_plugin_entry, tb_spaces, tb_status,
};

/// How many distinct scripts one process can load.
pub const SLOTS: usize = 16;

/// The library of each used slot, set once.
static LIBRARIES: [OnceLock<Library>; SLOTS] = [const { OnceLock::new() }; SLOTS];

/// The scripts loaded so far (canonical path per slot, in slot order).
static LOADED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The entry functions of slot `$i`.
macro_rules! slot_functions {
    ($($i:literal),+) => {
        /// `(algorithm_count, algorithm, create)` of each slot.
        const FUNCTIONS: [(
            unsafe extern "C" fn() -> u32,
            unsafe extern "C" fn(u32) -> *const tb_algorithm_descriptor,
            trustbench_plugin::abi::tb_create_fn,
        ); SLOTS] = [$(
            {
                unsafe extern "C" fn count() -> u32 {
                    Library::guarded_count(LIBRARIES[$i].get())
                }
                unsafe extern "C" fn algorithm(index: u32) -> *const tb_algorithm_descriptor {
                    Library::guarded_descriptor(LIBRARIES[$i].get(), index)
                }
                unsafe extern "C" fn create(
                    id: *const c_char,
                    config: *const c_char,
                    spaces: *const tb_spaces,
                    host: *const tb_host,
                    out: *mut *const tb_instance,
                    err: *mut c_char,
                    err_cap: usize,
                ) -> tb_status {
                    // SAFETY: forwarded unchanged from the caller, who upholds the ABI contract.
                    unsafe {
                        Library::guarded_create(LIBRARIES[$i].get(), id, config, spaces, host, out, err, err_cap)
                    }
                }
                (count, algorithm, create)
            }
        ),+];
    };
}

slot_functions!(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

/// The entry serving `path`: its slot's, loading the script into a free
/// slot the first time.
pub fn load(path: &str) -> Result<*const tb_plugin_entry, String> {
    let canonical = std::fs::canonicalize(path)
        .map_err(|e| format!("{path}: {e}"))?
        .display()
        .to_string();
    let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(slot) = loaded.iter().position(|p| *p == canonical) {
        return Ok(LIBRARIES[slot]
            .get()
            .expect("a loaded slot has its library")
            .entry());
    }
    let slot = loaded.len();
    if slot == SLOTS {
        return Err(format!(
            "{path}: this process has already loaded {SLOTS} Python plugins, the most it can"
        ));
    }
    let algorithms = script::load(&canonical)?;
    let (count, algorithm, create) = FUNCTIONS[slot];
    let library = Library::new(
        &format!("python:{}", script::stem(&canonical)),
        env!("CARGO_PKG_VERSION"),
        algorithms,
        count,
        algorithm,
        create,
    );
    let entry = LIBRARIES[slot].get_or_init(|| library).entry();
    loaded.push(canonical);
    Ok(entry)
}
