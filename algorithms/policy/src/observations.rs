//! A batch of observations as it is stored: `f64` values, or bytes.
//!
//! Why bytes: a pixel observation (4 × 50 × 38 grey levels) is 7,600 values;
//! stored as `f64` the paper's 100,000-step batch alone would be 6 GB, as
//! bytes it is 760 MB. A byte `b` stands for the value `b / 255` (the pixel
//! view's [0, 1] grey level, see [`BYTE_SCALE`]); it is converted, one chunk
//! of states at a time, into the element type the network runs in.

use crate::normalizer::Standardizer;
use crate::real::Real;

/// The value a byte observation stands for: `b · BYTE_SCALE`, i.e. `b / 255`
/// rounded once to `f64` (then once more to the network's `f32`, if so) —
/// the ABI's scale, so bytes from the host's byte-observation extension
/// stand for exactly the values its `f64` path delivers.
pub const BYTE_SCALE: f64 = trustbench_plugin::abi::TB_BYTE_OBSERVATION_SCALE;

/// A borrowed batch of observations, `d` values per state, state-major.
///
/// Methods take `impl Into<Observations>` (a `&[f64]`, `&[u8]` or their
/// `Vec`s) and pass it on at once to a private method that takes this type.
/// Why: a generic function is compiled in the crate that calls it, at that
/// crate's optimisation level, and so is everything it inlines. A debug
/// build compiles the callers (plugins, the harness) unoptimised, and PPO's
/// minibatch loop, calling [`crate::Policy::forward`] directly, ran 45× slower
/// (17.7 s an iteration instead of 0.40 s) while the network passes were
/// compiled in its crate. The work is compiled once, here.
#[derive(Clone, Copy, Debug)]
pub enum Observations<'a> {
    /// Real values as they are.
    Reals(&'a [f64]),
    /// Bytes standing for `b · BYTE_SCALE`.
    Bytes(&'a [u8]),
}

impl<'a> Observations<'a> {
    /// Number of values (states × `d`).
    pub fn len(&self) -> usize {
        match self {
            Observations::Reals(x) => x.len(),
            Observations::Bytes(x) => x.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values `start..end` (a range of whole states times `d`).
    pub fn slice(&self, start: usize, end: usize) -> Observations<'a> {
        match self {
            Observations::Reals(x) => Observations::Reals(&x[start..end]),
            Observations::Bytes(x) => Observations::Bytes(&x[start..end]),
        }
    }

    /// Every value converted to `T` into `dst` (resized to fit).
    pub fn write_to<T: Real>(&self, dst: &mut Vec<T>) {
        dst.resize(self.len(), T::ZERO);
        self.write_into(dst);
    }

    /// [`Observations::write_to`], bytes standardised by `by` when given
    /// (reals are already normalised where they were stored). The byte's
    /// value is standardised in `f64`, then rounded to `T`: the numbers the
    /// sampler acted on, whatever precision the network runs in.
    pub fn write_standardized_to<T: Real>(&self, dst: &mut Vec<T>, by: Option<&Standardizer>) {
        dst.resize(self.len(), T::ZERO);
        self.write_standardized_into(dst, by);
    }

    /// [`Observations::write_into`], bytes standardised by `by` when given.
    /// `self` starts at a state's first value (as every slice does).
    pub fn write_standardized_into<T: Real>(&self, dst: &mut [T], by: Option<&Standardizer>) {
        match (self, by) {
            (Observations::Bytes(x), Some(by)) => {
                assert_eq!(dst.len(), x.len(), "observations: destination length");
                let d = by.dim();
                for (out, state) in dst.chunks_mut(d).zip(x.chunks(d)) {
                    for (j, (o, &b)) in out.iter_mut().zip(state).enumerate() {
                        *o = T::from_f64(by.value(j, f64::from(b) * BYTE_SCALE));
                    }
                }
            }
            _ => self.write_into(dst),
        }
    }

    /// Every value converted to `T` into `dst`, which has exactly
    /// [`Observations::len`] values (a state's row inside a larger buffer).
    pub fn write_into<T: Real>(&self, dst: &mut [T]) {
        assert_eq!(dst.len(), self.len(), "observations: destination length");
        match self {
            Observations::Reals(x) => {
                for (d, s) in dst.iter_mut().zip(x.iter()) {
                    *d = T::from_f64(*s);
                }
            }
            Observations::Bytes(x) => {
                for (d, s) in dst.iter_mut().zip(x.iter()) {
                    *d = T::from_f64(f64::from(*s) * BYTE_SCALE);
                }
            }
        }
    }
}

impl<'a> From<&'a [f64]> for Observations<'a> {
    fn from(x: &'a [f64]) -> Observations<'a> {
        Observations::Reals(x)
    }
}

impl<'a> From<&'a Vec<f64>> for Observations<'a> {
    fn from(x: &'a Vec<f64>) -> Observations<'a> {
        Observations::Reals(x)
    }
}

impl<'a> From<&'a [u8]> for Observations<'a> {
    fn from(x: &'a [u8]) -> Observations<'a> {
        Observations::Bytes(x)
    }
}

impl<'a> From<&'a Vec<u8>> for Observations<'a> {
    fn from(x: &'a Vec<u8>) -> Observations<'a> {
        Observations::Bytes(x)
    }
}

/// An owned batch of observations, grown state by state.
#[derive(Clone, Debug, PartialEq)]
pub enum ObservationBuffer {
    /// Real values.
    Reals(Vec<f64>),
    /// Bytes standing for `b · BYTE_SCALE`.
    Bytes(Vec<u8>),
}

impl Default for ObservationBuffer {
    fn default() -> ObservationBuffer {
        ObservationBuffer::Reals(Vec::new())
    }
}

impl From<Vec<f64>> for ObservationBuffer {
    fn from(x: Vec<f64>) -> ObservationBuffer {
        ObservationBuffer::Reals(x)
    }
}

impl From<Vec<u8>> for ObservationBuffer {
    fn from(x: Vec<u8>) -> ObservationBuffer {
        ObservationBuffer::Bytes(x)
    }
}

impl ObservationBuffer {
    /// An empty buffer of bytes (`true`) or reals.
    pub fn new(bytes: bool) -> ObservationBuffer {
        if bytes {
            ObservationBuffer::Bytes(Vec::new())
        } else {
            ObservationBuffer::Reals(Vec::new())
        }
    }

    /// The contents, borrowed.
    pub fn view(&self) -> Observations<'_> {
        match self {
            ObservationBuffer::Reals(x) => Observations::Reals(x),
            ObservationBuffer::Bytes(x) => Observations::Bytes(x),
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.view().len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends real values; into a byte buffer each must be a byte's value
    /// `b · BYTE_SCALE` exactly (what a pixel env writes), else the error
    /// names the first that is not.
    pub fn push_reals(&mut self, x: &[f64]) -> Result<(), String> {
        match self {
            ObservationBuffer::Reals(b) => b.extend_from_slice(x),
            ObservationBuffer::Bytes(b) => {
                for &v in x {
                    let byte = (v * 255.0).round();
                    if !(0.0..=255.0).contains(&byte) || f64::from(byte as u8) * BYTE_SCALE != v {
                        return Err(format!(
                            "observation value {v} is not a byte's value b / 255 (b in 0 ..= 255)"
                        ));
                    }
                    b.push(byte as u8);
                }
            }
        }
        Ok(())
    }

    /// Appends `obs`, which must be of the buffer's kind.
    pub fn extend(&mut self, obs: Observations<'_>) {
        match (self, obs) {
            (ObservationBuffer::Reals(b), Observations::Reals(x)) => b.extend_from_slice(x),
            (ObservationBuffer::Bytes(b), Observations::Bytes(x)) => b.extend_from_slice(x),
            _ => panic!("ObservationBuffer::extend: reals and bytes mixed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_stand_for_their_value_over_255_in_either_precision() {
        let bytes: Vec<u8> = (0..=255).collect();
        let (mut wide, mut narrow) = (Vec::<f64>::new(), Vec::<f32>::new());
        Observations::from(&bytes).write_to(&mut wide);
        Observations::from(&bytes).write_to(&mut narrow);
        for (b, (w, n)) in bytes.iter().zip(wide.iter().zip(&narrow)) {
            assert!(
                (w - f64::from(*b) / 255.0).abs() <= f64::EPSILON,
                "{b}: {w}"
            );
            assert_eq!(*n, *w as f32, "{b}");
        }
        assert_eq!(wide[0], 0.0);
    }

    #[test]
    fn buffers_grow_and_slice_by_kind() {
        let mut buffer = ObservationBuffer::new(true);
        buffer.extend(Observations::Bytes(&[1, 2, 3]));
        buffer.extend(Observations::Bytes(&[4]));
        let mut out = Vec::<f64>::new();
        buffer.view().slice(1, 3).write_to(&mut out);
        assert_eq!(out, vec![2.0 / 255.0, 3.0 / 255.0]);
        let mut reals = ObservationBuffer::new(false);
        reals.extend(Observations::Reals(&[0.5, -1.0]));
        assert_eq!(reals.len(), 2);
        let mixed = std::panic::catch_unwind(move || {
            reals.extend(Observations::Bytes(&[1]));
        });
        assert!(mixed.is_err());
    }

    #[test]
    fn reals_pushed_into_bytes_round_trip_or_are_refused_by_value() {
        let values: Vec<f64> = (0..=255u8).map(|b| f64::from(b) * BYTE_SCALE).collect();
        let mut buffer = ObservationBuffer::new(true);
        buffer.push_reals(&values).unwrap();
        assert_eq!(buffer, ObservationBuffer::Bytes((0..=255).collect()));
        for bad in [0.5, -BYTE_SCALE, 2.0, f64::NAN] {
            let e = buffer.push_reals(&[bad]).unwrap_err();
            assert!(
                e.contains(&format!("{bad}")) && e.contains("0 ..= 255"),
                "{e}"
            );
        }
    }
}
