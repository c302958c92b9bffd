//! Small dense-vector helpers shared by CG, the trust-region step and the
//! exact check. Plain loops in a fixed order, so results are reproducible bit
//! for bit.

/// `aᵀb`.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "dot: length mismatch");
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Euclidean norm `‖a‖₂`.
pub fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `y ← y + α x`.
pub fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    assert_eq!(x.len(), y.len(), "axpy: length mismatch");
    for (y, x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// `‖a − b‖₂`.
pub fn distance(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "distance: length mismatch");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Cosine of the angle between `a` and `b`, `aᵀb / (‖a‖ ‖b‖)`; 0 when either
/// is the zero vector (no direction to compare).
pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let denom = norm(a) * norm(b);
    if denom == 0.0 { 0.0 } else { dot(a, b) / denom }
}

/// Grows `buffer` to at least `len` elements (zero-filled); never shrinks, so
/// a reused buffer allocates only when a larger batch first arrives.
pub(crate) fn grow<T: Copy + Default>(buffer: &mut Vec<T>, len: usize) {
    if buffer.len() < len {
        buffer.resize(len, T::default());
    }
}
