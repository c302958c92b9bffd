//! A `.py` plugin: executed once as a module, its `Algorithm` subclasses
//! read into descriptors, each with a constructor that builds instances.

use crate::errors::{describe, describe_import};
use crate::host::PyHost;
use crate::interpreter::protocol;
use crate::learner::PyLearner;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyModule};
use std::collections::HashSet;
use std::ffi::CString;
use trustbench_plugin::abi::{TB_SPACE_BOX, TB_SPACE_DISCRETE};
use trustbench_plugin::{
    AlgorithmEntry, AlgorithmInfo, CreateFn, Error, Space, Spaces, new_instance,
};

/// The file name of `path` without its extension.
pub fn stem(path: &str) -> String {
    std::path::Path::new(path)
        .file_stem()
        .map_or_else(|| path.to_string(), |s| s.to_string_lossy().into_owned())
}

/// Execute the script at `path` (canonical) and describe its algorithms.
pub fn load(path: &str) -> Result<Vec<AlgorithmEntry>, String> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    Python::attach(|py| {
        let module = import(py, path, &source).map_err(|e| describe_import(py, &e, path))?;
        let classes = protocol(py)
            .and_then(|p| p.call_method1("_algorithms", (&module,)))
            .and_then(|c| c.extract::<Vec<Bound<'_, PyAny>>>())
            .map_err(|e| describe(py, &e))?;
        if classes.is_empty() {
            return Err(format!(
                "{path}: defines no algorithm (a subclass of trustbench_plugin.Algorithm that sets `id`)"
            ));
        }
        let mut ids = HashSet::new();
        classes
            .into_iter()
            .map(|class| {
                let entry =
                    entry(py, class).map_err(|e| format!("{path}: {}", describe(py, &e)))?;
                if !ids.insert(entry.1.clone()) {
                    return Err(format!("{path}: two algorithms have the id '{}'", entry.1));
                }
                Ok(entry.0)
            })
            .collect()
    })
}

/// Run the script as module `trustbench_script_<stem>` (a name of its own,
/// so a script called `random.py` does not replace the standard library's),
/// with its folder on `sys.path` (so modules beside it import) and
/// `sys.argv` = `[path]`.
fn import<'py>(py: Python<'py>, path: &str, source: &str) -> PyResult<Bound<'py, PyModule>> {
    let sys = py.import("sys")?;
    sys.setattr("argv", vec![path])?;
    if let Some(folder) = std::path::Path::new(path).parent() {
        let folder = folder.display().to_string();
        let paths = sys.getattr("path")?;
        if !paths.contains(&folder)? {
            paths.call_method1("insert", (0, folder))?;
        }
    }
    let name: String = stem(path)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let nul = |s: String| {
        CString::new(s).map_err(|_| pyo3::exceptions::PyValueError::new_err("NUL in the script"))
    };
    PyModule::from_code(
        py,
        &nul(source.to_string())?,
        &nul(path.to_string())?,
        &nul(format!("trustbench_script_{name}"))?,
    )
}

/// A string the descriptor keeps for the life of the process (the library
/// of a slot is never unloaded, so neither are its descriptors).
fn forever(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The `TB_SPACE_*` mask of kind names.
fn mask(kinds: &[String]) -> u32 {
    kinds.iter().fold(0, |m, k| {
        m | match k.as_str() {
            "box" => TB_SPACE_BOX,
            "discrete" => TB_SPACE_DISCRETE,
            _ => 0, // refused by `_describe` already
        }
    })
}

/// The entry of one algorithm class, and its id.
fn entry(py: Python<'_>, class: Bound<'_, PyAny>) -> PyResult<(AlgorithmEntry, String)> {
    let d = protocol(py)?.call_method1("_describe", (&class,))?;
    let d = d.cast::<PyDict>()?;
    let text = |key: &str| -> PyResult<String> {
        d.get_item(key)?
            .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(key.to_string()))?
            .extract()
    };
    let kinds = |key: &str| -> PyResult<Vec<String>> {
        d.get_item(key)?
            .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(key.to_string()))?
            .extract()
    };
    let id = text("id")?;
    let info = AlgorithmInfo {
        id: forever(id.clone()),
        name: forever(text("name")?),
        version: forever(text("version")?),
        description: forever(text("description")?),
        observation_kinds: mask(&kinds("observation_kinds")?),
        action_kinds: mask(&kinds("action_kinds")?),
    };
    let class = class.unbind();
    let create: CreateFn = Box::new(move |config, spaces, host| {
        Python::attach(|py| {
            let fail = |e: PyErr| Error::new(describe(py, &e));
            let py_host = Bound::new(py, PyHost::new(&host, &spaces)).map_err(fail)?;
            let py_spaces = spaces_object(py, &spaces).map_err(fail)?;
            let config_json = if config.is_null() {
                String::new()
            } else {
                config.to_string()
            };
            let algorithm = protocol(py)
                .and_then(|p| {
                    p.call_method1(
                        "_create",
                        (class.bind(py), config_json, py_spaces, &py_host),
                    )
                })
                .map_err(fail)?;
            let learner = PyLearner::new(py, algorithm, py_host, &spaces)?;
            Ok(new_instance(learner, host, spaces))
        })
    });
    let default_config = text("default_config_json")?;
    Ok((AlgorithmEntry::dynamic(&info, &default_config, create), id))
}

/// `trustbench_plugin.Space` of `space`.
fn space_object<'py>(py: Python<'py>, space: &Space) -> PyResult<Bound<'py, PyAny>> {
    let class = protocol(py)?.getattr("Space")?;
    let numpy = py.import("numpy")?;
    match space {
        Space::Box { shape, low, high } => {
            let bound = |values: &Vec<f64>| -> PyResult<Bound<'py, PyAny>> {
                numpy
                    .call_method1("array", (values.clone(),))?
                    .call_method1("reshape", (shape.clone(),))
            };
            class.call1(("box", shape.clone(), bound(low)?, bound(high)?, py.None()))
        }
        Space::Discrete { n } => {
            class.call1(("discrete", Vec::<usize>::new(), py.None(), py.None(), *n))
        }
    }
}

/// `trustbench_plugin.Spaces` of `spaces`.
fn spaces_object<'py>(py: Python<'py>, spaces: &Spaces) -> PyResult<Bound<'py, PyAny>> {
    protocol(py)?.getattr("Spaces")?.call1((
        space_object(py, &spaces.observation)?,
        space_object(py, &spaces.action)?,
        spaces.num_envs,
    ))
}
