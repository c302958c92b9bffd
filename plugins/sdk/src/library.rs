//! A plugin library: the static `tb_plugin_entry` and its factory, built by
//! [`crate::plugin_library!`] from a list of [`Algorithm`] types.

use crate::abi::{
    self, tb_algorithm_descriptor, tb_host, tb_instance, tb_plugin_entry, tb_spaces, tb_status,
};
use crate::ffi::{copy_to_c_buffer, new_instance, panic_message};
use crate::{Algorithm, Error, Host, Result, Space, Spaces};
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

type CreateFn = fn(&serde_json::Value, Spaces, Host) -> Result<*const tb_instance>;

/// One algorithm of a library: its C descriptor (pointing into owned
/// strings) and a type-erased constructor.
pub struct AlgorithmEntry {
    descriptor: tb_algorithm_descriptor,
    _strings: Vec<CString>,
    id: &'static str,
    create: CreateFn,
}

fn c_string(s: &str) -> CString {
    CString::new(s).expect("descriptor strings contain no NUL")
}

impl AlgorithmEntry {
    /// The entry for algorithm type `A`.
    pub fn of<A: Algorithm>() -> Self {
        let info = A::info();
        let strings = vec![
            c_string(info.id),
            c_string(info.name),
            c_string(info.version),
            c_string(info.description),
            c_string(&A::default_config().to_string()),
        ];
        let descriptor = tb_algorithm_descriptor {
            struct_size: std::mem::size_of::<tb_algorithm_descriptor>() as u32,
            observation_kinds: info.observation_kinds,
            action_kinds: info.action_kinds,
            id: strings[0].as_ptr(),
            name: strings[1].as_ptr(),
            version: strings[2].as_ptr(),
            description: strings[3].as_ptr(),
            default_config_json: strings[4].as_ptr(),
        };
        fn create<A: Algorithm>(
            config: &serde_json::Value,
            spaces: Spaces,
            host: Host,
        ) -> Result<*const tb_instance> {
            let info = A::info();
            for (what, space, mask) in [
                ("observation", &spaces.observation, info.observation_kinds),
                ("action", &spaces.action, info.action_kinds),
            ] {
                if space.kind() & mask == 0 {
                    return Err(Error::new(format!(
                        "{} does not support {} {what} spaces",
                        info.id,
                        space.kind_name()
                    )));
                }
            }
            let algorithm = A::create(config, &spaces, &host)?;
            Ok(new_instance(algorithm, host, spaces))
        }
        AlgorithmEntry {
            descriptor,
            _strings: strings,
            id: info.id,
            create: create::<A>,
        }
    }
}

/// The static state behind a library's entry.
pub struct Library {
    entry: tb_plugin_entry,
    _strings: [CString; 2],
    algorithms: Vec<AlgorithmEntry>,
}

// SAFETY: all raw pointers point into heap data owned by the Library itself,
// which is immutable after construction.
unsafe impl Send for Library {}
unsafe impl Sync for Library {}

impl Library {
    /// Assemble a library; used by [`crate::plugin_library!`].
    pub fn new(
        name: &str,
        version: &str,
        algorithms: Vec<AlgorithmEntry>,
        count: unsafe extern "C" fn() -> u32,
        algorithm: unsafe extern "C" fn(u32) -> *const tb_algorithm_descriptor,
        create: abi::tb_create_fn,
    ) -> Self {
        let strings = [c_string(name), c_string(version)];
        let entry = tb_plugin_entry {
            struct_size: std::mem::size_of::<tb_plugin_entry>() as u32,
            abi_major: abi::TB_ABI_MAJOR,
            abi_minor: abi::TB_ABI_MINOR,
            library_name: strings[0].as_ptr(),
            library_version: strings[1].as_ptr(),
            algorithm_count: Some(count),
            algorithm: Some(algorithm),
            create: Some(create),
        };
        Library {
            entry,
            _strings: strings,
            algorithms,
        }
    }

    /// The C entry (static for the library's life).
    pub fn entry(&self) -> *const tb_plugin_entry {
        &self.entry
    }

    /// `algorithm_count` body.
    pub fn guarded_count(lib: Option<&Library>) -> u32 {
        lib.map_or(0, |l| l.algorithms.len() as u32)
    }

    /// `algorithm` body.
    pub fn guarded_descriptor(lib: Option<&Library>, index: u32) -> *const tb_algorithm_descriptor {
        lib.and_then(|l| l.algorithms.get(index as usize))
            .map_or(std::ptr::null(), |a| &a.descriptor)
    }

    /// `create` body: parse and check every argument, build, never unwind.
    ///
    /// # Safety
    /// Arguments as in the ABI's `create`.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn guarded_create(
        lib: Option<&Library>,
        id: *const c_char,
        config: *const c_char,
        spaces: *const tb_spaces,
        host: *const tb_host,
        out: *mut *const tb_instance,
        err: *mut c_char,
        err_cap: usize,
    ) -> tb_status {
        let result = catch_unwind(AssertUnwindSafe(|| -> Result<*const tb_instance> {
            let lib = lib.ok_or_else(|| Error::new("library not initialised"))?;
            if id.is_null() || spaces.is_null() || out.is_null() {
                return Err(Error::new("create: NULL argument"));
            }
            // SAFETY: non-null NUL-terminated strings and structs, valid for this call.
            let id = unsafe { CStr::from_ptr(id) }
                .to_str()
                .map_err(|_| Error::new("id is not UTF-8"))?;
            let entry = lib
                .algorithms
                .iter()
                .find(|a| a.id == id)
                .ok_or_else(|| Error::new(format!("this library has no algorithm '{id}'")))?;
            let config: serde_json::Value = if config.is_null() {
                serde_json::Value::Null
            } else {
                let text = unsafe { CStr::from_ptr(config) }
                    .to_str()
                    .map_err(|_| Error::new("config is not UTF-8"))?;
                serde_json::from_str(text)
                    .map_err(|e| Error::new(format!("config is not valid JSON: {e}")))?
            };
            let raw_spaces = unsafe { &*spaces };
            let spaces = Spaces {
                num_envs: raw_spaces.num_envs as usize,
                observation: unsafe { Space::from_raw(&raw_spaces.observation) }?,
                action: unsafe { Space::from_raw(&raw_spaces.action) }?,
            };
            let host = unsafe { Host::from_raw(host) }?;
            (entry.create)(&config, spaces, host)
        }));
        let error = match result {
            Ok(Ok(instance)) => {
                // SAFETY: `out` checked non-null above.
                unsafe { *out = instance };
                return abi::TB_OK;
            }
            Ok(Err(e)) => e.0,
            Err(payload) => panic_message(payload.as_ref()),
        };
        // SAFETY: the caller provides `err_cap` writable bytes.
        unsafe { copy_to_c_buffer(&error, err, err_cap) };
        abi::TB_ERROR
    }
}
