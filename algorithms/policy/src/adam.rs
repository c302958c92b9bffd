//! Adam (Kingma & Ba 2015) over a flat parameter vector, minimising.
//!
//! `m ← β₁ m + (1 − β₁) g`, `v ← β₂ v + (1 − β₂) g²`,
//! `θ ← θ − α · m̂ / (√v̂ + ε)` with the bias corrections
//! `m̂ = m / (1 − β₁ᵗ)`, `v̂ = v / (1 − β₂ᵗ)`.
//! Per-coordinate step sizes make it robust to badly scaled parameters
//! (value-function targets, VPG/PPO policies) without tuning.

/// Adam state for one parameter vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    /// Step size `α`.
    pub learning_rate: f64,
    /// First-moment decay `β₁`.
    pub beta1: f64,
    /// Second-moment decay `β₂`.
    pub beta2: f64,
    /// `ε`, guarding the division.
    pub epsilon: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    t: u64,
}

impl Adam {
    /// Adam for `dim` parameters with the usual `β₁ = 0.9`, `β₂ = 0.999`,
    /// `ε = 1e-8`.
    pub fn new(dim: usize, learning_rate: f64) -> Adam {
        Adam {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            m: vec![0.0; dim],
            v: vec![0.0; dim],
            t: 0,
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// One descent step on `params` with gradient `grad` (of the loss to
    /// minimise).
    pub fn step(&mut self, params: &mut [f64], grad: &[f64]) {
        assert_eq!(params.len(), self.m.len(), "Adam: parameter length");
        assert_eq!(grad.len(), self.m.len(), "Adam: gradient length");
        self.t += 1;
        let t = self.t as i32;
        let c1 = 1.0 / (1.0 - self.beta1.powi(t));
        let c2 = 1.0 / (1.0 - self.beta2.powi(t));
        for (((p, g), m), v) in params
            .iter_mut()
            .zip(grad)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            *m = self.beta1 * *m + (1.0 - self.beta1) * g;
            *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
            *p -= self.learning_rate * (*m * c1) / ((*v * c2).sqrt() + self.epsilon);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_has_the_learning_rate_and_it_minimises_a_quadratic() {
        let target = [3.0, -1.0, 0.5];
        let mut x = [0.0; 3];
        let mut adam = Adam::new(3, 0.1);
        let grad =
            |x: &[f64]| -> Vec<f64> { x.iter().zip(&target).map(|(x, t)| 2.0 * (x - t)).collect() };
        let g = grad(&x);
        adam.step(&mut x, &g);
        // Bias correction makes the first step α·sign(g).
        for (x, t) in x.iter().zip(&target) {
            assert!((x - 0.1 * t.signum()).abs() < 1e-6, "{x}");
        }
        for _ in 0..2000 {
            let g = grad(&x);
            adam.step(&mut x, &g);
        }
        assert_eq!(adam.steps(), 2001);
        for (x, t) in x.iter().zip(&target) {
            assert!((x - t).abs() < 1e-3, "{x} vs {t}");
        }
    }
}
