//! NumPy arrays from Rust without the NumPy C API (which the stable ABI
//! cannot use): arrays are allocated by NumPy, and their data pointer is
//! read from `__array_interface__`, so the host writes observations
//! straight into NumPy-owned memory and reads actions where they lie. No
//! Python-level loop over elements, and no copy beyond the one write.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

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
}

/// The address of a C-contiguous array's first element.
fn data_pointer(array: &Bound<'_, PyAny>) -> PyResult<usize> {
    array
        .getattr("__array_interface__")?
        .get_item("data")?
        .get_item(0)?
        .extract()
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
    let array = py
        .import("numpy")?
        .call_method1("zeros", (shape.to_vec(), dtype.name()))?;
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
    let array = py
        .import("numpy")?
        .call_method1("ascontiguousarray", (value, "float64"))?;
    let size: usize = array.getattr("size")?.extract()?;
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
