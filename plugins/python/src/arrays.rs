//! NumPy arrays from Rust without the NumPy C API (which the stable ABI
//! cannot use): arrays are allocated by NumPy, and their data pointer is
//! read through the buffer protocol (stable ABI from Python 3.11), so the
//! host writes observations straight into NumPy-owned memory and reads
//! actions where they lie. No Python-level loop over elements, and no copy
//! beyond the one write.
//!
//! This sits on the step path, once per array per `host.step`: the NumPy
//! functions are looked up once per process, and the pointer costs one
//! `PyObject_GetBuffer` (≈ 0.1 µs) where `__array_interface__` built a
//! dict (≈ 3 µs).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

/// NumPy dtypes the host hands out, with their Rust element type's size.
#[derive(Clone, Copy)]
pub enum Dtype {
    /// `float64` (`f64`).
    F64,
    /// `uint8` (`u8`): pixel observations.
    U8,
    /// `bool` (one byte, written as `u8` 0 or 1): episode-end flags.
    Bool,
}

impl Dtype {
    fn name(self) -> &'static str {
        match self {
            Dtype::F64 => "float64",
            Dtype::U8 => "uint8",
            Dtype::Bool => "bool",
        }
    }

    fn size(self) -> usize {
        match self {
            Dtype::F64 => 8,
            Dtype::U8 | Dtype::Bool => 1,
        }
    }

    /// The `numpy.dtype` object, made once.
    fn object(self, py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
        static DTYPES: [PyOnceLock<Py<PyAny>>; 3] =
            [PyOnceLock::new(), PyOnceLock::new(), PyOnceLock::new()];
        static DTYPE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        DTYPES[self as usize]
            .get_or_try_init(py, || {
                let dtype = DTYPE.import(py, "numpy", "dtype")?;
                Ok::<_, PyErr>(dtype.call1((self.name(),))?.unbind())
            })
            .map(|d| d.bind(py))
    }
}

/// The address of a C-contiguous array's first element, through the buffer
/// protocol. The view is released at once: the caller holds the array,
/// and a NumPy array's data does not move while it is referenced.
fn data_pointer(array: &Bound<'_, PyAny>) -> PyResult<*mut u8> {
    let mut view = std::mem::MaybeUninit::<pyo3::ffi::Py_buffer>::uninit();
    // SAFETY: a valid object and an out-pointer to uninitialised storage,
    // which PyObject_GetBuffer fills on success (0); released right after.
    unsafe {
        if pyo3::ffi::PyObject_GetBuffer(array.as_ptr(), view.as_mut_ptr(), pyo3::ffi::PyBUF_SIMPLE)
            != 0
        {
            return Err(PyErr::fetch(array.py()));
        }
        let pointer = (*view.as_ptr()).buf as *mut u8;
        pyo3::ffi::PyBuffer_Release(view.as_mut_ptr());
        Ok(pointer)
    }
}

/// A new zero-filled NumPy array of `shape` and `dtype`, and its
/// elements as a mutable slice.
///
/// Zeros rather than uninitialised memory: NumPy takes large zeroed blocks
/// from `calloc` (pages the kernel zeroes lazily), and a row the host leaves
/// untouched (a final observation of an episode that did not end) then holds
/// zeros rather than stale bytes.
///
/// `T` must be the element type of `dtype` (checked by size).
pub fn zeros<'py, T: Copy>(
    py: Python<'py>,
    shape: &[usize],
    dtype: Dtype,
) -> PyResult<(Bound<'py, PyAny>, &'py mut [T])> {
    assert_eq!(
        std::mem::size_of::<T>(),
        dtype.size(),
        "element type of {}",
        dtype.name()
    );
    static ZEROS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let array = ZEROS
        .import(py, "numpy", "zeros")?
        .call1((PyTuple::new(py, shape)?, dtype.object(py)?))?;
    let len: usize = shape.iter().product();
    let ptr = data_pointer(&array)? as *mut T;
    // SAFETY: NumPy allocated `len` contiguous, aligned elements of `T`'s
    // dtype for this new array, which nothing else references yet; the
    // slice's lifetime is tied to the GIL token, and the caller keeps the
    // array alive as long as it uses the slice.
    let slice = if len == 0 {
        &mut []
    } else {
        unsafe { std::slice::from_raw_parts_mut(ptr, len) }
    };
    Ok((array, slice))
}

/// `value` as a C-contiguous `float64` array of exactly `len` elements
/// (converted, and so copied, only when it is not one already), and its
/// elements. `what` names the value in the error for a wrong size.
pub fn f64_values<'py>(
    value: &Bound<'py, PyAny>,
    len: usize,
    what: &str,
) -> PyResult<(Bound<'py, PyAny>, &'py [f64])> {
    let py = value.py();
    static CONTIGUOUS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let array = CONTIGUOUS
        .import(py, "numpy", "ascontiguousarray")?
        .call1((value, Dtype::F64.object(py)?))?;
    let size: usize = array.getattr(pyo3::intern!(py, "size"))?.extract()?;
    if size != len {
        let shape = array.getattr("shape")?.str()?.to_string();
        return Err(PyValueError::new_err(format!(
            "{what} has shape {shape} ({size} values); {len} values expected"
        )));
    }
    let ptr = data_pointer(&array)? as *const f64;
    // SAFETY: a C-contiguous float64 array of `len` elements, kept alive by
    // the returned handle, which the caller holds while reading the slice.
    let slice = if len == 0 {
        &[]
    } else {
        unsafe { std::slice::from_raw_parts(ptr, len) }
    };
    Ok((array, slice))
}
