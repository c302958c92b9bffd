//! Python exceptions as the text a run's `error` column carries.

use pyo3::prelude::*;
use pyo3::types::PyString;

/// The full traceback of `err`, as Python prints it (`Traceback (most
/// recent call last): ...` down to `ValueError: ...`), so a failed run says
/// where in the plugin it failed.
pub fn describe(py: Python<'_>, err: &PyErr) -> String {
    let formatted = py.import("traceback").and_then(|tb| {
        let lines = tb.call_method1(
            "format_exception",
            (err.get_type(py), err.value(py), err.traceback(py)),
        )?;
        PyString::new(py, "")
            .call_method1("join", (lines,))?
            .extract::<String>()
    });
    match formatted {
        Ok(text) => text.trim_end().to_string(),
        Err(_) => err.to_string(),
    }
}

/// `file:line: Type: message` for an error raised while importing the
/// script at `path`: the line of the script where it happened (a syntax
/// error's own line, else the innermost traceback frame in the script),
/// then the traceback for context.
pub fn describe_import(py: Python<'_>, err: &PyErr, path: &str) -> String {
    let value = err.value(py);
    let kind = err
        .get_type(py)
        .name()
        .map_or_else(|_| "Error".to_string(), |n| n.to_string());
    let syntax_line = err
        .is_instance_of::<pyo3::exceptions::PySyntaxError>(py)
        .then(|| {
            value
                .getattr("lineno")
                .and_then(|l| l.extract::<u64>())
                .ok()
        })
        .flatten();
    let line = syntax_line.or_else(|| innermost_line_in(py, err, path));
    let message = value
        .str()
        .map_or_else(|_| String::new(), |m| m.to_string());
    let at = line.map_or_else(|| path.to_string(), |l| format!("{path}:{l}"));
    format!("{at}: {kind}: {message}\n{}", describe(py, err))
}

/// The line number of the innermost traceback frame whose file is `path`.
fn innermost_line_in(py: Python<'_>, err: &PyErr, path: &str) -> Option<u64> {
    let mut frame = err.traceback(py).map(|t| t.into_any());
    let mut found = None;
    while let Some(tb) = frame.filter(|t| !t.is_none()) {
        let file: Option<String> = tb
            .getattr("tb_frame")
            .and_then(|f| f.getattr("f_code"))
            .and_then(|c| c.getattr("co_filename"))
            .and_then(|f| f.extract())
            .ok();
        if file.as_deref() == Some(path) {
            found = tb.getattr("tb_lineno").and_then(|l| l.extract()).ok();
        }
        frame = tb.getattr("tb_next").ok();
    }
    found
}
