//! One CMA-ES generation (Hansen, "The CMA Evolution Strategy: A Tutorial",
//! 2016, the algorithm summary of Appendix A with `c_m = 1` and positive
//! weights), maximising a fitness the caller ranks.
//!
//! Sample: `zₖ ~ N(0, I)`, `yₖ = B D zₖ ~ N(0, C)`, `xₖ = m + σ yₖ`,
//! `k = 1..λ`. Then, with `i:λ` the i-th best candidate:
//!
//! - recombination: `⟨y⟩_w = Σᵢ₌₁^μ wᵢ y_{i:λ}`, `m ← m + σ ⟨y⟩_w`;
//! - step-size path (cumulative step-size adaptation):
//!   `p_σ ← (1 − c_σ) p_σ + √(c_σ (2 − c_σ) μ_eff) C^{-1/2} ⟨y⟩_w`,
//!   `σ ← σ · exp((c_σ/d_σ) (‖p_σ‖ / E‖N(0, I)‖ − 1))` — σ grows when
//!   consecutive steps point the same way (the path is longer than under
//!   random selection) and shrinks when they cancel;
//! - covariance path, stalled (`h_σ = 0`) while `‖p_σ‖` is large so C does
//!   not grow too fast when σ is too small:
//!   `h_σ = [‖p_σ‖ / √(1 − (1 − c_σ)^{2(g+1)}) < (1.4 + 2/(n+1)) E‖N(0, I)‖]`,
//!   `p_c ← (1 − c_c) p_c + h_σ √(c_c (2 − c_c) μ_eff) ⟨y⟩_w`;
//! - covariance, rank-one (the path: the direction of successive steps)
//!   plus rank-μ (this generation's selected steps):
//!   `C ← (1 + c₁ δ(h_σ) − c₁ − c_μ Σwⱼ) C + c₁ p_c p_cᵀ + c_μ Σᵢ wᵢ y_{i:λ} y_{i:λ}ᵀ`,
//!   `δ(h_σ) = (1 − h_σ) c_c (2 − c_c)`.

use crate::covariance::Covariance;
use crate::strategy::Strategy;
use trustbench_pg::search::SearchDistribution;
use trustbench_plugin::Host;
use trustbench_plugin::rng::Rng;

/// CMA-ES's state.
#[derive(Debug, Clone)]
pub struct CmaEs {
    strategy: Strategy,
    mean: Vec<f64>,
    sigma: f64,
    p_sigma: Vec<f64>,
    p_c: Vec<f64>,
    cov: Covariance,
    generation: u64,
    z: Vec<f64>,
    y: Vec<f64>,
    x: Vec<f64>,
}

impl CmaEs {
    /// Start at `mean` with step size `sigma`, `C = I`, `lambda` candidates
    /// per generation; `full` chooses a dense C over sep-CMA's diagonal one.
    pub fn new(mean: &[f64], sigma: f64, lambda: usize, full: bool) -> CmaEs {
        let n = mean.len();
        let strategy = Strategy::new(n, lambda, !full);
        let cov = Covariance::identity(n, full, strategy.eigen_interval(n));
        CmaEs {
            strategy,
            mean: mean.to_vec(),
            sigma,
            p_sigma: vec![0.0; n],
            p_c: vec![0.0; n],
            cov,
            generation: 0,
            z: Vec::new(),
            y: Vec::new(),
            x: Vec::new(),
        }
    }

    /// Update m, σ, the paths and C from the last [`SearchDistribution::sample`], given
    /// its candidate indices best first (see the module docs).
    pub fn update(&mut self, order: &[usize]) {
        let n = self.mean.len();
        let s = &self.strategy;
        let weighted = |v: &[f64]| -> Vec<f64> {
            let mut sum = vec![0.0; n];
            for (w, &k) in s.weights.iter().zip(order) {
                sum.iter_mut()
                    .zip(&v[k * n..(k + 1) * n])
                    .for_each(|(s, v)| *s += w * v);
            }
            sum
        };
        let (y_w, z_w) = (weighted(&self.y), weighted(&self.z));
        self.mean
            .iter_mut()
            .zip(&y_w)
            .for_each(|(m, y)| *m += self.sigma * y);

        let mut white = vec![0.0; n];
        self.cov.whiten(&z_w, &mut white);
        let cs = (s.c_sigma * (2.0 - s.c_sigma) * s.mu_eff).sqrt();
        self.p_sigma
            .iter_mut()
            .zip(&white)
            .for_each(|(p, w)| *p = (1.0 - s.c_sigma) * *p + cs * w);
        self.generation += 1;
        let ps_norm = self.p_sigma.iter().map(|p| p * p).sum::<f64>().sqrt();
        let unbias = (1.0 - libm::pow(1.0 - s.c_sigma, 2.0 * self.generation as f64)).sqrt();
        let h_sigma = ps_norm / unbias < (1.4 + 2.0 / (n as f64 + 1.0)) * s.chi_n;

        let cc = if h_sigma {
            (s.c_c * (2.0 - s.c_c) * s.mu_eff).sqrt()
        } else {
            0.0
        };
        self.p_c
            .iter_mut()
            .zip(&y_w)
            .for_each(|(p, y)| *p = (1.0 - s.c_c) * *p + cc * y);
        let delta = if h_sigma { 0.0 } else { s.c_c * (2.0 - s.c_c) };
        let weight_sum: f64 = s.weights.iter().sum();
        let keep = 1.0 + s.c_1 * delta - s.c_1 - s.c_mu * weight_sum;
        // M = [√c₁ p_c, √(c_μ wᵢ) y_{i:λ} …], so M Mᵀ is both updates at once.
        let mut m: Vec<f64> = self.p_c.iter().map(|p| s.c_1.sqrt() * p).collect();
        for (w, &k) in s.weights.iter().zip(order) {
            let scale = (s.c_mu * w).sqrt();
            m.extend(self.y[k * n..(k + 1) * n].iter().map(|y| scale * y));
        }
        self.cov.update(keep, &m);
        self.sigma *= libm::exp((s.c_sigma / s.d_sigma) * (ps_norm / s.chi_n - 1.0));
    }
}

/// The λ candidates are `xₖ = m + σ B D zₖ`; the update learns from the
/// best μ.
impl SearchDistribution for CmaEs {
    fn sample(&mut self, rng: &mut Rng) -> &[f64] {
        let (n, lambda) = (self.mean.len(), self.strategy.lambda);
        self.z.clear();
        self.z.extend((0..n * lambda).map(|_| rng.normal()));
        self.y.resize(n * lambda, 0.0);
        self.cov.transform(&self.z, lambda, &mut self.y);
        self.x.clear();
        for y in self.y.chunks_exact(n) {
            self.x
                .extend(self.mean.iter().zip(y).map(|(m, y)| m + self.sigma * y));
        }
        &self.x
    }

    fn elites(&self) -> usize {
        self.strategy.mu()
    }

    /// Updates, then logs σ (`train/step_size`), the mean per-weight σ
    /// (`train/sigma_mean`), C's axis ratio and whether C is diagonal
    /// (`train/separable`).
    fn advance(&mut self, order: &[usize], host: &mut Host) {
        self.update(order);
        host.log("train/step_size", self.sigma);
        host.log("train/sigma_mean", self.sigma * self.cov.sqrt_diag_mean());
        host.log("train/axis_ratio", self.cov.axis_ratio());
        host.log("train/separable", f64::from(u8::from(!self.cov.is_full())));
    }

    fn mean(&self) -> &[f64] {
        &self.mean
    }

    fn set_mean(&mut self, mean: &[f64]) {
        self.mean.copy_from_slice(mean);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::default_population;
    use trustbench_pg::search::rank;

    /// Run `generations` of CMA-ES maximising `fitness` from `start`.
    fn run(
        start: &[f64],
        full: bool,
        generations: usize,
        fitness: impl Fn(&[f64]) -> f64,
    ) -> CmaEs {
        let n = start.len();
        let mut es = CmaEs::new(start, 0.5, default_population(n), full);
        let mut rng = Rng::new(11);
        for _ in 0..generations {
            let f: Vec<f64> = es.sample(&mut rng).chunks_exact(n).map(&fitness).collect();
            es.update(&rank(&f));
        }
        es
    }

    fn distance_to_one(x: &[f64]) -> f64 {
        x.iter().map(|v| (v - 1.0) * (v - 1.0)).sum::<f64>().sqrt()
    }

    #[test]
    fn both_variants_converge_on_the_sphere() {
        for full in [true, false] {
            let es = run(&[0.0; 8], full, 250, |x| -distance_to_one(x));
            assert!(
                distance_to_one(es.mean()) < 1e-6,
                "full={full}: {:?}",
                es.mean()
            );
            assert!(
                es.sigma < 1e-5,
                "σ must shrink with the distance: {}",
                es.sigma
            );
        }
    }

    #[test]
    fn full_covariance_learns_a_rotated_ill_conditioned_quadratic() {
        // f(x) = −Σᵢ 10^{4i/(n−1)} (qᵢᵀ(x − 1))² with q the normalised
        // Hadamard-like rotation of pairs: condition 10⁴, axes not aligned.
        let n = 6;
        let rotate = |x: &[f64]| -> Vec<f64> {
            let s = std::f64::consts::FRAC_1_SQRT_2;
            (0..n)
                .map(|i| {
                    let (a, b) = (x[i & !1] - 1.0, x[i | 1] - 1.0);
                    if i % 2 == 0 { s * (a + b) } else { s * (a - b) }
                })
                .collect()
        };
        let f = |x: &[f64]| -> f64 {
            -rotate(x)
                .iter()
                .enumerate()
                .map(|(i, u)| 10f64.powf(4.0 * i as f64 / (n - 1) as f64) * u * u)
                .sum::<f64>()
        };
        let es = run(&vec![0.0; n], true, 400, f);
        assert!(distance_to_one(es.mean()) < 1e-4, "{:?}", es.mean());
        // The learned shape matches the problem's: axis ratio ≈ √10⁴ = 100.
        let ratio = es.cov.axis_ratio();
        assert!((30.0..300.0).contains(&ratio), "axis ratio {ratio}");
    }
}
