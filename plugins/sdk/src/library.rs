//! A plugin library: the static `tb_plugin_entry` and its factory, built by
//! [`crate::plugin_library!`] from a list of [`Algorithm`] types.

use crate::abi::{
    self, tb_algorithm_descriptor, tb_host, tb_instance, tb_plugin_entry, tb_spaces, tb_status,
};
use crate::ffi::{copy_to_c_buffer, panic_message};
use crate::{Algorithm, AlgorithmInfo, Error, Host, Result, Space, Spaces, parse_config};
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// An algorithm's constructor, type-erased: the config as given (JSON),
/// the spaces (already checked against the descriptor's kinds) and the host
/// → a new instance (see [`crate::new_instance`]).
pub type CreateFn =
    Box<dyn Fn(&serde_json::Value, Spaces, Host) -> Result<*const tb_instance> + Send + Sync>;

/// One algorithm of a library: its C descriptor (pointing into owned
/// strings) and a type-erased constructor.
pub struct AlgorithmEntry {
    descriptor: tb_algorithm_descriptor,
    _strings: Vec<CString>,
    id: String,
    create: CreateFn,
}

/// `A::Config::default()` as JSON text: the descriptor's default config.
/// Through a `Value`, whose keys are sorted, so the text does not depend on
/// the order of the struct's (and its flattened blocks') fields.
fn default_config<A: Algorithm>() -> String {
    serde_json::to_value(A::Config::default())
        .expect("a config serialises to JSON")
        .to_string()
}

fn c_string(s: &str) -> CString {
    CString::new(s).expect("descriptor strings contain no NUL")
}

impl AlgorithmEntry {
    /// The entry for algorithm type `A`.
    pub fn of<A: Algorithm>() -> Self {
        let create: CreateFn = Box::new(|config, spaces, host| {
            let algorithm = A::create(parse_config(config)?, &spaces, &host)?;
            Ok(crate::new_instance(algorithm, host, spaces))
        });
        Self::dynamic(&A::info(), &default_config::<A>(), create)
    }

    /// An entry described at run time: `info`'s facts, the default config
    /// (a JSON object's text) and the constructor. For libraries whose
    /// algorithms are not Rust types (the Python host reads them from a
    /// script); [`AlgorithmEntry::of`] builds its entries the same way.
    pub fn dynamic(info: &AlgorithmInfo, default_config_json: &str, create: CreateFn) -> Self {
        let strings = vec![
            c_string(info.id),
            c_string(info.name),
            c_string(info.version),
            c_string(info.description),
            c_string(default_config_json),
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
        AlgorithmEntry {
            descriptor,
            _strings: strings,
            id: info.id.to_string(),
            create,
        }
    }

    /// Refuse spaces whose kinds the descriptor does not accept, naming them.
    fn check_kinds(&self, spaces: &Spaces) -> Result<()> {
        let d = &self.descriptor;
        for (what, space, mask) in [
            ("observation", &spaces.observation, d.observation_kinds),
            ("action", &spaces.action, d.action_kinds),
        ] {
            if space.kind() & mask == 0 {
                return Err(Error::new(format!(
                    "{} does not support {} {what} spaces",
                    self.id,
                    space.kind_name()
                )));
            }
        }
        Ok(())
    }
}

/// The static state behind a library's entry.
pub struct Library {
    entry: tb_plugin_entry,
    _strings: [CString; 2],
    algorithms: Vec<AlgorithmEntry>,
}

// SAFETY: the raw pointers (in `entry` and each descriptor) point into
// `CString`s the Library owns, whose heap buffers do not move when the
// Library does, and nothing is mutated after construction; so moving it to
// another thread leaves every pointer valid.
unsafe impl Send for Library {}
// SAFETY: as for `Send`: immutable after construction, so shared reads from
// several threads (the ABI lets any thread read the descriptors) cannot race.
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
    /// Arguments as in the ABI's `create`: `id` a NUL-terminated string,
    /// `config` NULL or one, `spaces` a valid `tb_spaces` (box bounds
    /// readable for `dim` doubles), `host` NULL or a `tb_host` that outlives
    /// the instance, `out` writable, `err` NULL or writable for `err_cap`
    /// bytes; all valid for the duration of the call.
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
            // SAFETY: `id` is non-null (checked above) and NUL-terminated per
            // the ABI, readable for this call.
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
                // SAFETY: non-null here; a NUL-terminated string per the ABI.
                let text = unsafe { CStr::from_ptr(config) }
                    .to_str()
                    .map_err(|_| Error::new("config is not UTF-8"))?;
                serde_json::from_str(text)
                    .map_err(|e| Error::new(format!("config is not valid JSON: {e}")))?
            };
            // SAFETY: `spaces` is non-null (checked above) and points to a
            // `tb_spaces` per the ABI; we only read it during this call.
            let raw_spaces = unsafe { &*spaces };
            // SAFETY (both spaces): per the ABI a box space's `low`/`high`
            // hold `dim` doubles; `from_raw` copies them and checks the rest.
            let spaces = Spaces {
                num_envs: raw_spaces.num_envs as usize,
                observation: unsafe { Space::from_raw(&raw_spaces.observation) }?,
                action: unsafe { Space::from_raw(&raw_spaces.action) }?,
            };
            // SAFETY: per the ABI `host` is NULL (refused by `from_raw`) or
            // outlives the instance, which is what `Host` relies on.
            let host = unsafe { Host::from_raw(host) }?;
            entry.check_kinds(&spaces)?;
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
