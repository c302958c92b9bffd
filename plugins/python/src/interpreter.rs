//! The embedded interpreter: started once per process, set up to import
//! what the user's own interpreter (or virtual environment) would.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyModule};
use std::ffi::CString;
use std::sync::OnceLock;

/// The protocol module's source (`trustbench_plugin`), embedded so the
/// host needs no file beside it; the same file is importable on disk.
const PROTOCOL_SOURCE: &str = include_str!("../trustbench_plugin.py");

/// The protocol module's name, as plugins import it.
pub const PROTOCOL_MODULE: &str = "trustbench_plugin";

/// The outcome of the one start-up (errors are kept, so every later load
/// reports the same cause).
static STARTED: OnceLock<Result<(), String>> = OnceLock::new();

/// Start the interpreter and install the protocol module, once.
///
/// `setup` is the harness's JSON: `sys_path` (the user's interpreter's
/// `sys.path`, virtual environment included) and `executable`. The
/// interpreter is initialised without Python's signal handlers
/// (`Py_InitializeEx(0)`), so SIGINT and SIGTERM stay the harness's: a stop
/// request is honoured between iterations, as for native plugins.
pub fn start(setup: &str) -> Result<(), String> {
    STARTED
        .get_or_init(|| {
            let setup: serde_json::Value =
                serde_json::from_str(setup).map_err(|e| format!("bad interpreter set-up: {e}"))?;
            Python::initialize();
            Python::attach(|py| configure(py, &setup).map_err(|e| crate::errors::describe(py, &e)))
        })
        .clone()
}

/// Thread-pool variables of the numerical libraries a plugin may import
/// (OpenBLAS under NumPy, MKL, OpenMP, numexpr), set to one thread unless
/// the user set them. The harness owns the cores: its own pool steps the
/// envs, and a BLAS pool of the machine's size beside it spins against it
/// (NumPy REINFORCE on CartPole: 17–20 s with OpenBLAS's default threads,
/// 2.0 s with one, 2 cores). One thread also keeps a plugin's results from
/// depending on the machine's core count through BLAS's reduction order.
const ONE_THREAD: [&str; 5] = [
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OMP_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
];

fn configure(py: Python<'_>, setup: &serde_json::Value) -> PyResult<()> {
    let environ = py.import("os")?.getattr("environ")?;
    for name in ONE_THREAD {
        // Before any plugin imports NumPy: the libraries read them when loaded.
        environ.call_method1("setdefault", (name, "1"))?;
    }
    let sys = py.import("sys")?;
    if let Some(paths) = setup["sys_path"].as_array() {
        let paths: Vec<&str> = paths.iter().filter_map(|p| p.as_str()).collect();
        sys.setattr("path", PyList::new(py, paths)?)?;
    }
    if let Some(executable) = setup["executable"].as_str() {
        sys.setattr("executable", executable)?;
    }
    let source = CString::new(PROTOCOL_SOURCE).expect("no NUL in the protocol source");
    let name = CString::new(PROTOCOL_MODULE).expect("no NUL");
    let file = CString::new(format!("<trustbench>/{PROTOCOL_MODULE}.py")).expect("no NUL");
    let module = PyModule::from_code(py, &source, &file, &name)?;
    module.add_class::<crate::host::PyHost>()?;
    sys.getattr("modules")?.set_item(PROTOCOL_MODULE, module)?;
    Ok(())
}

/// The protocol module (installed by [`start`]).
pub fn protocol(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    py.import(PROTOCOL_MODULE)
}
