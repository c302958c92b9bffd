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

fn configure(py: Python<'_>, setup: &serde_json::Value) -> PyResult<()> {
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
