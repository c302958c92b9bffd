//! The search distribution N(μ, diag σ²) and its refit to the elites.
//!
//! One generation, with `K` candidates and `m` elites:
//!
//! - sample `xₖ = μ + σ ⊙ εₖ`, `εₖ ~ N(0, I)`, `k = 1..K`;
//! - keep the `m` best `x₍₁₎ … x₍ₘ₎` (by fitness, from the caller);
//! - refit by maximum likelihood to them, plus extra variance:
//!   `μ ← (1/m) Σᵢ x₍ᵢ₎`, `σ²ⱼ ← (1/m) Σᵢ (x₍ᵢ₎ⱼ − μⱼ)² + Zₜ`.
//!
//! Why the `Zₜ` (Szita & Lőrincz 2006): the maximum-likelihood refit
//! shrinks σ every generation, faster than the mean moves, so plain CEM
//! freezes before reaching the optimum. Adding `Zₜ` keeps it searching;
//! letting `Zₜ = Z₀ · max(0, 1 − t/T)` decay linearly to 0 over `T`
//! generations lets it settle at the end (their "decreasing noise").

use crate::Config;
use trustbench_pg::search::SearchDistribution;
use trustbench_plugin::Host;
use trustbench_plugin::rng::Rng;

/// CEM's state: the distribution, its settings, and the last samples.
#[derive(Debug, Clone)]
pub struct CrossEntropy {
    mean: Vec<f64>,
    variance: Vec<f64>,
    population: usize,
    elites: usize,
    extra_noise: f64,
    noise_decay: usize,
    generation: usize,
    samples: Vec<f64>,
}

impl CrossEntropy {
    /// Start at `mean` with `σ = initial_std` on every coordinate.
    pub fn new(mean: &[f64], config: &Config) -> CrossEntropy {
        let k = config.population;
        let elites = ((config.elite_fraction * k as f64).ceil() as usize).clamp(1, k);
        CrossEntropy {
            mean: mean.to_vec(),
            variance: vec![config.initial_std * config.initial_std; mean.len()],
            population: k,
            elites,
            extra_noise: config.extra_noise,
            noise_decay: config.noise_decay_iterations,
            generation: 0,
            samples: Vec::new(),
        }
    }

    /// Mean of σⱼ over coordinates.
    pub fn sigma_mean(&self) -> f64 {
        self.variance.iter().map(|v| v.sqrt()).sum::<f64>() / self.variance.len().max(1) as f64
    }

    /// `Zₜ` for the current generation `t`: `Z₀ · max(0, 1 − t/T)`, or `Z₀`
    /// when `T = 0`.
    pub fn noise(&self) -> f64 {
        if self.noise_decay == 0 {
            return self.extra_noise;
        }
        self.extra_noise * (1.0 - self.generation as f64 / self.noise_decay as f64).max(0.0)
    }

    /// Refit μ and σ² to the elites: the first `m` of `order` (candidate
    /// indices best first) among the last [`SearchDistribution::sample`].
    pub fn refit(&mut self, order: &[usize]) {
        let n = self.mean.len();
        let elites: Vec<&[f64]> = order[..self.elites]
            .iter()
            .map(|&k| &self.samples[k * n..(k + 1) * n])
            .collect();
        let m = self.elites as f64;
        let noise = self.noise();
        for j in 0..n {
            let mu = elites.iter().map(|x| x[j]).sum::<f64>() / m;
            let var = elites
                .iter()
                .map(|x| (x[j] - mu) * (x[j] - mu))
                .sum::<f64>()
                / m;
            self.mean[j] = mu;
            self.variance[j] = var + noise;
        }
        self.generation += 1;
    }
}

/// The `K` candidates are drawn `xₖ = μ + σ ⊙ εₖ`; the elites are `m`.
impl SearchDistribution for CrossEntropy {
    fn sample(&mut self, rng: &mut Rng) -> &[f64] {
        let n = self.mean.len();
        self.samples.resize(self.population * n, 0.0);
        for x in self.samples.chunks_exact_mut(n) {
            for ((x, m), v) in x.iter_mut().zip(&self.mean).zip(&self.variance) {
                *x = m + v.sqrt() * rng.normal();
            }
        }
        &self.samples
    }

    fn elites(&self) -> usize {
        self.elites
    }

    /// Logs the generation's `Zₜ` (`train/extra_noise`), refits, then logs
    /// the new mean σ (`train/sigma_mean`).
    fn advance(&mut self, order: &[usize], host: &mut Host) {
        host.log("train/extra_noise", self.noise());
        self.refit(order);
        host.log("train/sigma_mean", self.sigma_mean());
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
    use trustbench_pg::search::rank;

    /// Maximise `−‖x − 1‖²` in 6 dimensions from 0.
    fn solve(config: &Config, generations: usize) -> (CrossEntropy, Rng) {
        let mut cem = CrossEntropy::new(&[0.0; 6], config);
        let mut rng = Rng::new(3);
        for _ in 0..generations {
            let samples = cem.sample(&mut rng).to_vec();
            let fitness: Vec<f64> = samples
                .chunks_exact(6)
                .map(|x| -x.iter().map(|v| (v - 1.0) * (v - 1.0)).sum::<f64>())
                .collect();
            cem.refit(&rank(&fitness));
        }
        (cem, rng)
    }

    #[test]
    fn converges_on_a_quadratic_and_noise_decays_to_zero() {
        let config = Config {
            population: 32,
            extra_noise: 0.1,
            noise_decay_iterations: 30,
            ..Config::default()
        };
        let (cem, _) = solve(&config, 60);
        assert_eq!(cem.noise(), 0.0);
        for m in cem.mean() {
            assert!((m - 1.0).abs() < 0.05, "{:?}", cem.mean());
        }
        assert!(
            cem.sigma_mean() < 0.05,
            "σ should shrink once the noise is gone: {}",
            cem.sigma_mean()
        );
    }

    #[test]
    fn constant_noise_keeps_the_variance_above_it() {
        let config = Config {
            extra_noise: 0.04,
            noise_decay_iterations: 0,
            ..Config::default()
        };
        let (cem, _) = solve(&config, 40);
        assert_eq!(cem.noise(), 0.04);
        assert!(cem.variance.iter().all(|&v| v >= 0.04));
    }

    #[test]
    fn elites_round_up_and_stay_in_range() {
        let at = |fraction, population| {
            CrossEntropy::new(
                &[0.0],
                &Config {
                    elite_fraction: fraction,
                    population,
                    ..Config::default()
                },
            )
            .elites()
        };
        assert_eq!(at(0.2, 16), 4);
        assert_eq!(at(0.01, 16), 1);
        assert_eq!(at(1.0, 16), 16);
    }
}
