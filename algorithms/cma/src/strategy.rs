//! CMA-ES's strategy parameters: every constant of the update, from the
//! dimension n and the population λ, as in Hansen's tutorial (2016, Table 1
//! and eqs. 49–58, with positive weights only).
//!
//! Why these values: they are the tutorial's defaults, tuned so the
//! algorithm is invariant to the problem and needs no per-task tuning; only
//! λ (more robustness, more evaluations) and σ₀ are left to the user.

/// The constants of one CMA-ES instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Strategy {
    /// λ, candidates per generation.
    pub lambda: usize,
    /// Recombination weights `w₁ ≥ … ≥ w_μ > 0`, summing to 1 (μ = ⌊λ/2⌋).
    pub weights: Vec<f64>,
    /// `μ_eff = 1 / Σ wᵢ²`, the variance-effective selection mass.
    pub mu_eff: f64,
    /// `c_σ`, the learning rate of the step-size path.
    pub c_sigma: f64,
    /// `d_σ`, the damping of the step-size update.
    pub d_sigma: f64,
    /// `c_c`, the learning rate of the covariance path.
    pub c_c: f64,
    /// `c₁`, the rank-one learning rate.
    pub c_1: f64,
    /// `c_μ`, the rank-μ learning rate.
    pub c_mu: f64,
    /// `E‖N(0, I)‖ ≈ √n (1 − 1/(4n) + 1/(21n²))`.
    pub chi_n: f64,
}

/// Hansen's default population, `λ = 4 + ⌊3 ln n⌋`.
pub fn default_population(n: usize) -> usize {
    4 + (3.0 * libm::log(n.max(1) as f64)).floor() as usize
}

impl Strategy {
    /// The constants for dimension `n` and population `λ ≥ 2`:
    ///
    /// - `w'ᵢ = ln((λ+1)/2) − ln i` for `i ≤ μ = ⌊λ/2⌋`, `wᵢ = w'ᵢ / Σⱼ w'ⱼ`;
    /// - `c_σ = (μ_eff + 2) / (n + μ_eff + 5)`,
    ///   `d_σ = 1 + 2 max(0, √((μ_eff − 1)/(n + 1)) − 1) + c_σ`;
    /// - `c_c = (4 + μ_eff/n) / (n + 4 + 2μ_eff/n)`;
    /// - `c₁ = 2 / ((n + 1.3)² + μ_eff)`,
    ///   `c_μ = min(1 − c₁, 2 (μ_eff − 2 + 1/μ_eff) / ((n + 2)² + μ_eff))`.
    ///
    /// `separable` (sep-CMA, Ros & Hansen 2008) multiplies `c₁` and the
    /// uncapped `c_μ` by `(n + 2)/3`: a diagonal matrix has n, not n²/2,
    /// free entries, so it can be learned that much faster.
    pub fn new(n: usize, lambda: usize, separable: bool) -> Strategy {
        assert!(lambda >= 2, "λ = {lambda} < 2");
        let nf = n as f64;
        let mu = lambda / 2;
        let raw: Vec<f64> = (1..=mu)
            .map(|i| libm::log((lambda as f64 + 1.0) / 2.0) - libm::log(i as f64))
            .collect();
        let total: f64 = raw.iter().sum();
        let weights: Vec<f64> = raw.iter().map(|w| w / total).collect();
        let mu_eff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
        let c_sigma = (mu_eff + 2.0) / (nf + mu_eff + 5.0);
        let d_sigma = 1.0 + 2.0 * (((mu_eff - 1.0) / (nf + 1.0)).sqrt() - 1.0).max(0.0) + c_sigma;
        let c_c = (4.0 + mu_eff / nf) / (nf + 4.0 + 2.0 * mu_eff / nf);
        let scale = if separable { (nf + 2.0) / 3.0 } else { 1.0 };
        let c_1 = scale * 2.0 / ((nf + 1.3).powi(2) + mu_eff);
        let c_mu = (scale * 2.0 * (mu_eff - 2.0 + 1.0 / mu_eff) / ((nf + 2.0).powi(2) + mu_eff))
            .min(1.0 - c_1);
        let chi_n = nf.sqrt() * (1.0 - 1.0 / (4.0 * nf) + 1.0 / (21.0 * nf * nf));
        Strategy {
            lambda,
            weights,
            mu_eff,
            c_sigma,
            d_sigma,
            c_c,
            c_1,
            c_mu,
            chi_n,
        }
    }

    /// μ, the number of parents.
    pub fn mu(&self) -> usize {
        self.weights.len()
    }

    /// Generations between eigendecompositions of C: the tutorial's
    /// `max(1, ⌊1 / (10 n (c₁ + c_μ))⌋`, which keeps the `O(n³)`
    /// decomposition at `O(n²)` per candidate while C drifts little between
    /// decompositions.
    pub fn eigen_interval(&self, n: usize) -> usize {
        ((1.0 / (10.0 * n as f64 * (self.c_1 + self.c_mu))).floor() as usize).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_tutorial_for_n_10() {
        // Reference values: the tutorial's formulas evaluated independently
        // (in Python) for n = λ = 10.
        assert_eq!(default_population(10), 10);
        let s = Strategy::new(10, 10, false);
        assert_eq!(s.mu(), 5);
        assert!((s.weights.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        close(s.mu_eff, 3.1672992814107);
        close(s.c_sigma, 0.2844285879464);
        close(s.d_sigma, 1.2844285879464);
        close(s.c_c, 0.2949903830356);
        close(s.c_1, 0.0152838245248);
        close(s.c_mu, 0.0201542827612);
        close(s.chi_n, 3.0847265651690);
    }

    #[test]
    fn separable_rates_are_scaled_and_capped() {
        let (full, sep) = (Strategy::new(100, 17, false), Strategy::new(100, 17, true));
        assert!((sep.c_1 / full.c_1 - 34.0).abs() < 1e-12);
        assert!((sep.c_mu / full.c_mu - 34.0).abs() < 1e-12);
        assert!(sep.c_1 + sep.c_mu <= 1.0);
        assert_eq!((sep.c_sigma, sep.c_c), (full.c_sigma, full.c_c));
    }
}
