//! Observation and action spaces: the vocabulary shared by the ABI, the
//! environments and the algorithms (one definition, so they cannot drift).

use crate::abi::{self, tb_space};
use crate::{Error, Result};

/// A space of observations or actions, as in Gymnasium.
#[derive(Debug, Clone, PartialEq)]
pub enum Space {
    /// A box of reals with per-element bounds (which may be infinite).
    Box {
        /// Shape, e.g. `[4]` or `[4, 84, 84]` (at most [`abi::TB_MAX_RANK`] axes).
        shape: Vec<usize>,
        /// Lower bound per element, `dim()` values.
        low: Vec<f64>,
        /// Upper bound per element, `dim()` values.
        high: Vec<f64>,
    },
    /// One integer in `[0, n)`, carried as a single `f64`.
    Discrete {
        /// Number of choices.
        n: usize,
    },
}

impl Space {
    /// A flat box with the same bounds for every element.
    pub fn uniform_box(dim: usize, low: f64, high: f64) -> Space {
        Space::Box {
            shape: vec![dim],
            low: vec![low; dim],
            high: vec![high; dim],
        }
    }

    /// Number of `f64` values per env (product of the shape; 1 for discrete).
    pub fn dim(&self) -> usize {
        match self {
            Space::Box { shape, .. } => shape.iter().product(),
            Space::Discrete { .. } => 1,
        }
    }

    /// The `TB_SPACE_*` kind bit.
    pub fn kind(&self) -> u32 {
        match self {
            Space::Box { .. } => abi::TB_SPACE_BOX,
            Space::Discrete { .. } => abi::TB_SPACE_DISCRETE,
        }
    }

    /// `"box"` or `"discrete"`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Space::Box { .. } => "box",
            Space::Discrete { .. } => "discrete",
        }
    }

    /// Why `value` (one env's `dim()` values) is not a valid action of this
    /// space, or `None` if it is. Box values must be finite (bounds are
    /// enforced by clipping in the env); discrete values must be an integer
    /// in `[0, n)`.
    pub fn invalid_action(&self, value: &[f64]) -> Option<String> {
        if value.len() != self.dim() {
            return Some(format!(
                "{} values where {} were expected",
                value.len(),
                self.dim()
            ));
        }
        match self {
            Space::Box { .. } => value
                .iter()
                .position(|v| !v.is_finite())
                .map(|i| format!("element {i} is {}", value[i])),
            Space::Discrete { n } => {
                let a = value[0];
                (!(a.fract() == 0.0 && a >= 0.0 && a < *n as f64))
                    .then(|| format!("{a} is not an integer in [0, {n})"))
            }
        }
    }

    /// Short human form: `box[4]`, `discrete(2)`.
    pub fn describe(&self) -> String {
        match self {
            Space::Box { shape, .. } => {
                let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
                format!("box[{}]", dims.join("x"))
            }
            Space::Discrete { n } => format!("discrete({n})"),
        }
    }

    /// The C view of this space. The returned struct borrows `self`'s bounds:
    /// keep `self` alive (and unmoved in memory) as long as it is used.
    pub fn to_raw(&self) -> tb_space {
        let mut raw = tb_space {
            kind: self.kind(),
            rank: 1,
            shape: [1, 0, 0, 0],
            dim: self.dim() as u64,
            n: 0,
            low: std::ptr::null(),
            high: std::ptr::null(),
        };
        match self {
            Space::Box { shape, low, high } => {
                assert!(
                    shape.len() <= abi::TB_MAX_RANK,
                    "box rank {} exceeds the ABI's maximum",
                    shape.len()
                );
                raw.rank = shape.len() as u32;
                for (slot, d) in raw.shape.iter_mut().zip(shape) {
                    *slot = *d as u32;
                }
                raw.low = low.as_ptr();
                raw.high = high.as_ptr();
            }
            Space::Discrete { n } => raw.n = *n as u64,
        }
        raw
    }

    /// Read a space from its C view, checking every field.
    ///
    /// # Safety
    /// For a box, `raw.low` and `raw.high` must point to `raw.dim` readable doubles.
    pub unsafe fn from_raw(raw: &tb_space) -> Result<Space> {
        match raw.kind {
            abi::TB_SPACE_DISCRETE => {
                if raw.n == 0 {
                    return Err(Error::new("discrete space with n = 0"));
                }
                Ok(Space::Discrete { n: raw.n as usize })
            }
            abi::TB_SPACE_BOX => {
                let rank = raw.rank as usize;
                if rank == 0 || rank > abi::TB_MAX_RANK {
                    return Err(Error::new(format!("box space with rank {rank}")));
                }
                let shape: Vec<usize> = raw.shape[..rank].iter().map(|&d| d as usize).collect();
                let dim: usize = shape.iter().product();
                if dim as u64 != raw.dim || raw.low.is_null() || raw.high.is_null() {
                    return Err(Error::new(
                        "box space with inconsistent dim or missing bounds",
                    ));
                }
                // SAFETY: the caller guarantees `dim` readable doubles behind each pointer.
                let (low, high) = unsafe {
                    (
                        std::slice::from_raw_parts(raw.low, dim).to_vec(),
                        std::slice::from_raw_parts(raw.high, dim).to_vec(),
                    )
                };
                Ok(Space::Box { shape, low, high })
            }
            k => Err(Error::new(format!("unknown space kind {k}"))),
        }
    }
}

/// The spaces an instance works with, and how many env copies step together.
#[derive(Debug, Clone, PartialEq)]
pub struct Spaces {
    /// Number of env copies (N).
    pub num_envs: usize,
    /// Observation space of one copy.
    pub observation: Space,
    /// Action space of one copy.
    pub action: Space,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_round_trip_keeps_every_field() {
        for space in [
            Space::Discrete { n: 6 },
            Space::Box {
                shape: vec![2, 3],
                low: vec![-1.0; 6],
                high: vec![f64::INFINITY; 6],
            },
        ] {
            let raw = space.to_raw();
            let back = unsafe { Space::from_raw(&raw) }.unwrap();
            assert_eq!(back, space);
        }
    }

    #[test]
    fn invalid_actions_are_named() {
        let d = Space::Discrete { n: 2 };
        assert!(d.invalid_action(&[1.0]).is_none());
        assert!(d.invalid_action(&[2.0]).unwrap().contains("[0, 2)"));
        assert!(d.invalid_action(&[0.5]).is_some());
        assert!(d.invalid_action(&[f64::NAN]).is_some());
        let b = Space::uniform_box(2, -1.0, 1.0);
        assert!(
            b.invalid_action(&[5.0, -5.0]).is_none(),
            "out-of-bound box actions are clipped by the env"
        );
        assert!(
            b.invalid_action(&[0.0, f64::NAN])
                .unwrap()
                .contains("element 1")
        );
        assert!(b.invalid_action(&[0.0]).is_some());
    }
}
