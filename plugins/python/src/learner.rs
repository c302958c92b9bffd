//! A Python algorithm instance as an SDK [`Learner`]: each ABI call becomes
//! a method call on the Python object, each Python exception an error whose
//! text is the traceback (so the run fails with it, never the harness).

use crate::arrays::{Dtype, f64_values, zeros};
use crate::errors::describe;
use crate::host::{PyHost, batch_shape, item_shape};
use crate::interpreter::protocol;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use trustbench_plugin::{Actor, Error, Host, Learner, NaturalGradient, Result, Spaces};

/// A created Python algorithm.
pub struct PyLearner {
    algorithm: Py<PyAny>,
    host: Py<PyHost>,
    /// The shape of one observation, for `act`'s batch.
    observation_shape: Vec<usize>,
    /// Observations reach the plugin as `uint8` (so `act` converts the
    /// ABI's doubles back: the byte extension's values are `b / 255`).
    byte_observations: bool,
    natural: Option<PyNatural>,
}

/// A Python exception as an SDK error carrying its traceback.
fn failed(py: Python<'_>, e: &PyErr) -> Error {
    Error::new(describe(py, e))
}

impl PyLearner {
    /// Wrap a new instance; `natural_gradient()`, when the class defines it
    /// and it returns an object, is the natural-gradient capability.
    pub fn new(
        py: Python<'_>,
        algorithm: Bound<'_, PyAny>,
        host: Bound<'_, PyHost>,
        spaces: &Spaces,
    ) -> Result<PyLearner> {
        let byte_observations = host.get().bytes();
        let natural = match algorithm
            .getattr_opt("natural_gradient")
            .map_err(|e| failed(py, &e))?
        {
            Some(method) => {
                let ng = method.call0().map_err(|e| failed(py, &e))?;
                (!ng.is_none())
                    .then(|| PyNatural::new(ng, host.clone().unbind()))
                    .transpose()
                    .map_err(|e| failed(py, &e))?
            }
            None => None,
        };
        Ok(PyLearner {
            algorithm: algorithm.unbind(),
            host: host.unbind(),
            observation_shape: item_shape(&spaces.observation),
            byte_observations,
            natural,
        })
    }
}

/// Call `method` on `object` with the host lent to Python; a
/// `BudgetExhausted` that escapes ends the call normally.
fn call_with_host(
    object: &Py<PyAny>,
    host: &Py<PyHost>,
    sdk: &mut Host,
    method: &str,
) -> Result<()> {
    Python::attach(|py| {
        let result = host
            .get()
            .lend(sdk, || object.bind(py).call_method0(method));
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let exhausted = protocol(py)
                    .and_then(|p| p.getattr("BudgetExhausted"))
                    .is_ok_and(|kind| e.matches(py, kind).unwrap_or(false));
                if exhausted {
                    Ok(())
                } else {
                    Err(failed(py, &e))
                }
            }
        }
    })
}

impl Learner for PyLearner {
    fn train_iteration(&mut self, host: &mut Host) -> Result<()> {
        call_with_host(&self.algorithm, &self.host, host, "train_iteration")
    }

    fn actor(&mut self) -> &mut dyn Actor {
        self
    }

    fn natural_gradient(&mut self) -> Option<&mut dyn NaturalGradient> {
        self.natural.as_mut().map(|n| n as &mut dyn NaturalGradient)
    }
}

impl Actor for PyLearner {
    fn act(&mut self, obs: &[f64], deterministic: bool, actions: &mut [f64]) -> Result<()> {
        Python::attach(|py| {
            let item: usize = self.observation_shape.iter().product();
            let count = obs.len() / item.max(1);
            let shape = batch_shape(count, &self.observation_shape);
            let batch = if self.byte_observations {
                // The ABI's doubles are b · (1/255) exactly, so b comes back
                // by rounding: the same bytes the plugin saw while training.
                let (array, out) =
                    zeros::<u8>(py, &shape, Dtype::U8).map_err(|e| failed(py, &e))?;
                for (o, &v) in out.iter_mut().zip(obs) {
                    *o = (v * 255.0).round() as u8;
                }
                array
            } else {
                let (array, out) =
                    zeros::<f64>(py, &shape, Dtype::F64).map_err(|e| failed(py, &e))?;
                out.copy_from_slice(obs);
                array
            };
            let result = self
                .algorithm
                .bind(py)
                .call_method1("act", (batch, deterministic))
                .map_err(|e| failed(py, &e))?;
            let (_keep, values) =
                f64_values(&result, actions.len(), "act's result").map_err(|e| failed(py, &e))?;
            actions.copy_from_slice(values);
            Ok(())
        })
    }

    fn save(&self) -> Result<Vec<u8>> {
        Python::attach(|py| {
            let data = self
                .algorithm
                .bind(py)
                .call_method0("save")
                .map_err(|e| failed(py, &e))?;
            // Any bytes-like object (bytes, bytearray, memoryview) is accepted.
            py.import("builtins")
                .and_then(|b| b.getattr("bytes"))
                .and_then(|bytes| bytes.call1((data,)))
                .and_then(|b| Ok(b.cast_into::<PyBytes>()?.as_bytes().to_vec()))
                .map_err(|e| failed(py, &e))
        })
    }

    fn load(&mut self, bytes: &[u8]) -> Result<()> {
        Python::attach(|py| {
            self.algorithm
                .bind(py)
                .call_method1("load", (PyBytes::new(py, bytes),))
                .map(drop)
                .map_err(|e| failed(py, &e))
        })
    }
}

/// The natural-gradient capability a Python algorithm offers: an object
/// with `dim()`, `prepare()`, `gradient()`, `fisher_vector_product(v)` and
/// `conjugate_gradient(iterations) -> (iterates, residuals)`.
pub struct PyNatural {
    object: Py<PyAny>,
    host: Py<PyHost>,
    dim: usize,
}

impl PyNatural {
    fn new(object: Bound<'_, PyAny>, host: Py<PyHost>) -> PyResult<PyNatural> {
        let dim = object.call_method0("dim")?.extract()?;
        Ok(PyNatural {
            object: object.unbind(),
            host,
            dim,
        })
    }

    /// Call `method(args)` and copy its result (`len` values) into `out`.
    fn call_into(
        &self,
        method: &str,
        args: impl for<'py> FnOnce(Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>>,
        out: &mut [f64],
    ) -> Result<()> {
        Python::attach(|py| {
            let run = || -> PyResult<()> {
                let args = pyo3::types::PyTuple::new(py, args(py)?)?;
                let result = self.object.bind(py).call_method1(method, args)?;
                let (_keep, values) = f64_values(&result, out.len(), method)?;
                out.copy_from_slice(values);
                Ok(())
            };
            run().map_err(|e| failed(py, &e))
        })
    }
}

/// A new `float64` array holding `values`.
fn array_of<'py>(py: Python<'py>, values: &[f64]) -> PyResult<Bound<'py, PyAny>> {
    let (array, out) = zeros::<f64>(py, &[values.len()], Dtype::F64)?;
    out.copy_from_slice(values);
    Ok(array)
}

impl NaturalGradient for PyNatural {
    fn dim(&self) -> usize {
        self.dim
    }

    fn prepare(&mut self, host: &mut Host) -> Result<()> {
        call_with_host(&self.object, &self.host, host, "prepare")
    }

    fn gradient(&mut self, g: &mut [f64]) -> Result<()> {
        self.call_into("gradient", |_| Ok(Vec::new()), g)
    }

    fn fisher_vector_product(&mut self, v: &[f64], out: &mut [f64]) -> Result<()> {
        self.call_into(
            "fisher_vector_product",
            |py| Ok(vec![array_of(py, v)?]),
            out,
        )
    }

    fn conjugate_gradient(&mut self, iterates: &mut [f64], residuals: &mut [f64]) -> Result<usize> {
        let (k, n) = (residuals.len(), self.dim);
        Python::attach(|py| {
            let mut run = || -> PyResult<usize> {
                let result = self
                    .object
                    .bind(py)
                    .call_method1("conjugate_gradient", (k,))?;
                let (xs, rs): (Bound<'_, PyAny>, Bound<'_, PyAny>) = result.extract()?;
                let done: usize = rs.len()?;
                if done > k {
                    return Err(pyo3::exceptions::PyValueError::new_err(format!(
                        "conjugate_gradient({k}) returned {done} iterations"
                    )));
                }
                let (_a, xs) = f64_values(&xs, done * n, "conjugate_gradient's iterates")?;
                let (_b, rs) = f64_values(&rs, done, "conjugate_gradient's residuals")?;
                iterates[..done * n].copy_from_slice(xs);
                residuals[..done].copy_from_slice(rs);
                Ok(done)
            };
            run().map_err(|e| failed(py, &e))
        })
    }
}
