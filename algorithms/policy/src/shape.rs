//! The error of a network or layer shape that cannot work, shared by every
//! layer kind and the network that chains them.

/// A network or layer shape that cannot work (zero sizes, mismatched
/// dimensions). The message names the offending layer and sizes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError(pub String);

impl std::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ShapeError {}
