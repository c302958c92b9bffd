//! Python plugins (`--plugin algo.py`): the user's interpreter found and
//! probed, its shared library loaded, then the Python host library, whose
//! entry for the script is an ordinary plugin entry.
//!
//! The harness never links libpython: all of this happens only when a `.py`
//! plugin is asked for, so every other command works on a machine without
//! Python. The interpreter is the one the user would run: `TRUSTBENCH_PYTHON`,
//! else the active virtual environment's (`$VIRTUAL_ENV/bin/python`), else
//! `python3` on the `PATH`; the embedded interpreter gets its `sys.path`, so
//! the user's packages import.

use super::library::{PluginLibrary, Source};
use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use std::ffi::{CString, c_char};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use trustbench_plugin::abi::tb_plugin_entry;
use trustbench_plugin::env_abi::tb_env_provider;

/// The Python host library's entry: the script's path and the interpreter
/// set-up (JSON) in, the script's plugin entry (or NULL and an error) out.
type PythonEntryFn = unsafe extern "C" fn(
    script: *const c_char,
    setup_json: *const c_char,
    err: *mut c_char,
    err_cap: usize,
) -> *const tb_plugin_entry;

/// The host library's exported entry symbol (major version in the name).
const PYTHON_ENTRY_SYMBOL: &[u8] = b"trustbench_python_entry_v1\0";

/// The host library's Gymnasium env provider: the interpreter set-up in,
/// the provider entry (or NULL and an error) out.
type GymEntryFn = unsafe extern "C" fn(
    setup_json: *const c_char,
    err: *mut c_char,
    err_cap: usize,
) -> *const tb_env_provider;

/// Its exported symbol.
const GYM_ENTRY_SYMBOL: &[u8] = b"trustbench_python_env_provider_v1\0";

/// The host library's file name.
const HOST_LIBRARY: &str = if cfg!(target_os = "macos") {
    "libtrustbench_python.dylib"
} else {
    "libtrustbench_python.so"
};

/// What to do when the host library is missing.
const BUILD_HOST: &str = "build it with `cargo build --release -p trustbench-python` (it is written \
    next to the harness binary), or point TRUSTBENCH_PYTHON_HOST at it";

/// Whether `path` names a Python plugin.
pub fn is_python(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "py")
}

/// What the probe of the user's interpreter found.
#[derive(Debug, Clone, Deserialize)]
struct Probe {
    version: String,
    /// At least the oldest Python the host library supports (3.11).
    supported: bool,
    executable: String,
    base_prefix: String,
    virtual_env: Option<String>,
    sys_path: Vec<String>,
    libpython: Option<String>,
    numpy: Option<String>,
    script_sha256: Option<String>,
}

/// Run in the user's interpreter: its facts as one JSON line. The script's
/// hash is taken here too (by `hashlib`), so `runs` can record it without
/// the harness carrying a hash implementation of its own.
const PROBE: &str = r#"
import hashlib, importlib.util, json, os, platform, sys, sysconfig
v = sysconfig.get_config_var
lib = None
if v("Py_ENABLE_SHARED"):
    for name in (v("INSTSONAME"), v("LDLIBRARY")):
        for folder in (v("LIBDIR"), os.path.join(v("LIBDIR") or "", v("MULTIARCH") or "")):
            if name and folder and os.path.isfile(os.path.join(folder, name)):
                lib = lib or os.path.join(folder, name)
numpy = importlib.util.find_spec("numpy")
print(json.dumps({
    "version": platform.python_version(),
    "supported": sys.version_info >= (3, 11),
    "executable": sys.executable,
    "base_prefix": sys.base_prefix,
    "virtual_env": sys.prefix if sys.prefix != sys.base_prefix else None,
    "sys_path": [p for p in sys.path if p],
    "libpython": lib,
    "numpy": numpy.origin if numpy else None,
    "script_sha256": hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest() if len(sys.argv) > 1 else None,
}))
"#;

/// The interpreter to probe, and why it was chosen (for error messages).
fn interpreter() -> (PathBuf, &'static str) {
    if let Some(p) = std::env::var_os("TRUSTBENCH_PYTHON") {
        return (PathBuf::from(p), "TRUSTBENCH_PYTHON");
    }
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        let python = Path::new(&venv).join("bin").join("python");
        if python.exists() {
            return (python, "the active virtual environment (VIRTUAL_ENV)");
        }
    }
    (PathBuf::from("python3"), "python3 on the PATH")
}

/// Probe the user's interpreter (hashing `script` when given).
fn probe(script: Option<&Path>) -> Result<Probe> {
    let (python, why) = interpreter();
    let output = Command::new(&python)
        .arg("-c")
        .arg(PROBE)
        .args(script)
        .output()
        .map_err(|e| {
            anyhow!(
                "Python plugins need a Python 3 interpreter ({}, from {why}, could not be run: {e}); \
                 install Python >= 3.11 with its shared library and NumPy, or set TRUSTBENCH_PYTHON",
                python.display()
            )
        })?;
    if !output.status.success() {
        bail!(
            "the Python interpreter {} (from {why}) failed to describe itself: {}",
            python.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let probe: Probe = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("reading the probe of {}", python.display()))?;
    if !probe.supported {
        bail!(
            "the Python interpreter {} (from {why}) is Python {}; Python plugins need 3.11 or \
             newer (the host library reads NumPy arrays through the buffer protocol, in the stable \
             ABI from 3.11): install a newer Python, or point TRUSTBENCH_PYTHON or VIRTUAL_ENV at one",
            probe.executable,
            probe.version
        );
    }
    if probe.libpython.is_none() {
        bail!(
            "the Python interpreter {} (from {why}, Python {}) has no shared library (libpython), \
             which embedding needs; use a Python built with --enable-shared (Debian: \
             `apt-get install libpython3-dev`; pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared)",
            probe.executable,
            probe.version
        );
    }
    if probe.numpy.is_none() {
        bail!(
            "Python plugins need NumPy, which {} (from {why}) cannot import: `{} -m pip install numpy`",
            probe.executable,
            probe.executable
        );
    }
    Ok(probe)
}

/// Where the Python host library is: `TRUSTBENCH_PYTHON_HOST`, else the
/// newest of those beside the running binary, in its `deps/` (where cargo
/// puts it when it is built for the tests) and one folder up (test binaries
/// live in `deps/`): the newest, because cargo leaves an older build in one
/// place when a later one went to another.
fn host_library() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("TRUSTBENCH_PYTHON_HOST") {
        let p = PathBuf::from(p);
        if !p.exists() {
            bail!("TRUSTBENCH_PYTHON_HOST = {}: no such file", p.display());
        }
        return Ok(p);
    }
    let exe = std::env::current_exe().context("locating the harness binary")?;
    let folder = exe.parent();
    let beside = folder.map(|d| d.join(HOST_LIBRARY));
    let deps = folder.map(|d| d.join("deps").join(HOST_LIBRARY));
    let above = folder.and_then(Path::parent).map(|d| d.join(HOST_LIBRARY));
    [beside, deps, above]
        .into_iter()
        .flatten()
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .max_by_key(|(modified, _)| *modified)
        .map(|(_, p)| p)
        .ok_or_else(|| {
            anyhow!(
                "Python plugins need the Python host library {HOST_LIBRARY}, which is not built: {BUILD_HOST}"
            )
        })
}

/// The loaded interpreter and host library (once per process: CPython
/// cannot be unloaded, so neither is either library).
struct Loaded {
    entry: PythonEntryFn,
    gym: Option<GymEntryFn>,
    host: PathBuf,
}

static LOADED: OnceLock<std::result::Result<Loaded, String>> = OnceLock::new();

fn load(probe: &Probe) -> Result<&'static Loaded> {
    LOADED
        .get_or_init(|| load_once(probe).map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("{e}"))
}

fn load_once(probe: &Probe) -> Result<Loaded> {
    let host = host_library()?;
    let libpython = probe.libpython.as_deref().expect("checked by probe");
    // SAFETY: loading runs the library's initialisers; it is the user's
    // interpreter's own libpython. RTLD_GLOBAL makes its symbols visible to
    // the host library (which does not link it) and to the C extensions
    // Python imports (NumPy), as in a `python` process.
    let python = unsafe {
        libloading::os::unix::Library::open(
            Some(libpython),
            libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_GLOBAL,
        )
    }
    .map_err(|e| anyhow!("loading {libpython}: {e}"))?;
    // SAFETY: as above; the host library's initialisers are Rust statics.
    let library = unsafe { libloading::Library::new(&host) }
        .map_err(|e| anyhow!("loading the Python host library {}: {e}", host.display()))?;
    // SAFETY: the symbol's type is the host library's documented entry.
    let entry: PythonEntryFn = unsafe {
        *library.get::<PythonEntryFn>(PYTHON_ENTRY_SYMBOL).map_err(|_| {
            anyhow!(
                "{} is not the Python host library (no trustbench_python_entry_v1); {BUILD_HOST}",
                host.display()
            )
        })?
    };
    // SAFETY: as above (absent in host libraries older than the provider).
    let gym = unsafe { library.get::<GymEntryFn>(GYM_ENTRY_SYMBOL) }
        .ok()
        .map(|f| *f);
    // Never unloaded (see `Loaded`).
    std::mem::forget(python);
    std::mem::forget(library);
    Ok(Loaded { entry, gym, host })
}

/// Load the Python plugin at `path`.
pub fn open(path: &Path) -> Result<PluginLibrary> {
    let shown = path.display();
    if !path.exists() {
        bail!("plugin {shown}: no such file");
    }
    let load = || -> Result<(Probe, &'static Loaded)> {
        let probe = probe(Some(path))?;
        let loaded = load(&probe)?;
        Ok((probe, loaded))
    };
    let (probe, loaded) = load().with_context(|| format!("plugin {shown}"))?;
    let script = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| anyhow!("plugin {shown}: path contains a NUL"))?;
    let entry = call_host(&probe, |setup, err, cap| {
        // SAFETY: NUL-terminated inputs; `err` is writable for `cap` bytes.
        unsafe { (loaded.entry)(script.as_ptr(), setup, err, cap) }
    })
    .with_context(|| format!("plugin {shown}"))?;
    let runtime = serde_json::json!({
        "python": probe.version,
        "executable": probe.executable,
        "virtual_env": probe.virtual_env,
        "script_sha256": probe.script_sha256,
        "host_library": loaded.host.display().to_string(),
    });
    let mut library = PluginLibrary::from_entry(entry, Source::File(path.to_path_buf()), None)
        .with_context(|| format!("plugin {shown}"))?;
    library.runtime = Some(runtime.to_string());
    Ok(library)
}

/// Call an entry function of the host library with the interpreter set-up
/// of `probe` (and an error buffer), under the interpreter's `PYTHONHOME`:
/// its result, or the error it wrote when it returned NULL.
fn call_host<T>(
    probe: &Probe,
    call: impl FnOnce(*const c_char, *mut c_char, usize) -> *const T,
) -> Result<*const T> {
    let setup = serde_json::json!({
        "sys_path": probe.sys_path,
        "executable": probe.executable,
    })
    .to_string();
    let setup = CString::new(setup).expect("JSON has no NUL");
    let mut err = vec![0u8; 64 * 1024];
    let ptr = with_python_home(&probe.base_prefix, || {
        call(setup.as_ptr(), err.as_mut_ptr() as *mut c_char, err.len())
    });
    if ptr.is_null() {
        let end = err.iter().position(|&b| b == 0).unwrap_or(err.len());
        bail!("{}", String::from_utf8_lossy(&err[..end]).trim_end());
    }
    Ok(ptr)
}

/// The Gymnasium env provider of the host library (`--env gym:ID`), in the
/// user's interpreter: its entry, and the host library's path.
pub fn gym_provider() -> Result<(*const tb_env_provider, PathBuf)> {
    let probe = probe(None)?;
    let loaded = load(&probe)?;
    let gym = loaded.gym.ok_or_else(|| {
        anyhow!(
            "the Python host library {} has no Gymnasium provider (it predates it); {BUILD_HOST}",
            loaded.host.display()
        )
    })?;
    // SAFETY: NUL-terminated set-up; `err` is writable for `cap` bytes.
    let entry = call_host(&probe, |setup, err, cap| unsafe { gym(setup, err, cap) })?;
    Ok((entry, loaded.host.clone()))
}

/// The environment a job elsewhere (a Slurm task) needs to run the Python
/// plugins among `plugins`, and `gym:` envs when `gym`, as this process
/// would: the interpreter this process would use (`TRUSTBENCH_PYTHON`,
/// absolute), its virtual environment (`VIRTUAL_ENV`, with its `bin` first
/// on `PATH`) and the host library (`TRUSTBENCH_PYTHON_HOST`). Empty when
/// neither a plugin is a `.py` nor `gym` is set.
pub fn job_environment(plugins: &[PathBuf], gym: bool) -> Result<Vec<(String, String)>> {
    let script = plugins.iter().find(|p| is_python(p));
    if script.is_none() && !gym {
        return Ok(Vec::new());
    }
    let probe = match script {
        Some(script) => {
            probe(Some(script)).with_context(|| format!("plugin {}", script.display()))?
        }
        None => probe(None).context("`gym:` envs")?,
    };
    let mut environment = vec![
        ("TRUSTBENCH_PYTHON".to_string(), probe.executable.clone()),
        (
            "TRUSTBENCH_PYTHON_HOST".to_string(),
            host_library()?.display().to_string(),
        ),
    ];
    if let Some(venv) = &probe.virtual_env {
        environment.push(("VIRTUAL_ENV".to_string(), venv.clone()));
        let path = std::env::var("PATH").unwrap_or_default();
        environment.push(("PATH".to_string(), format!("{venv}/bin:{path}")));
    }
    Ok(environment)
}

/// Run `f` with `PYTHONHOME` set to the interpreter's base prefix, so the
/// embedded interpreter finds its standard library wherever it is installed
/// (the compiled-in prefix may not be where a relocated Python lives), then
/// restore the variable, so child processes see the environment unchanged.
fn with_python_home<T>(home: &str, f: impl FnOnce() -> T) -> T {
    let before = std::env::var_os("PYTHONHOME");
    // SAFETY: plugins are loaded while the harness resolves its catalog, on
    // the main thread before a run's worker threads exist; nothing reads the
    // environment concurrently.
    unsafe { std::env::set_var("PYTHONHOME", home) };
    let out = f();
    match before {
        // SAFETY: as above.
        Some(v) => unsafe { std::env::set_var("PYTHONHOME", v) },
        // SAFETY: as above.
        None => unsafe { std::env::remove_var("PYTHONHOME") },
    }
    out
}
