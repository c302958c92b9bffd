//! Running observation normalisation: `x ↦ clip((x − μ) / √(σ² + ε), ±c)`
//! with `μ, σ²` the mean and variance of every observation seen so far.
//!
//! Why: locomotion observations mix positions, velocities and contact
//! forces on very different scales; normalising them keeps the first layer's
//! pre-activations in tanh's useful range. The statistics are part of the
//! policy — the same network is meaningless under another normalisation — so
//! they are saved with the parameters ([`RunningNormalizer::state`]).
//!
//! Statistics are merged batch by batch with Chan et al.'s parallel form of
//! Welford's update (numerically stable, and order-deterministic):
//! `n = nₐ + n_b`, `δ = μ_b − μₐ`, `μ = μₐ + δ n_b/n`,
//! `M₂ = M₂ₐ + M₂_b + δ² nₐ n_b / n`, `σ² = M₂ / n`.

/// `ε` added to the variance so constant features do not divide by zero.
const VARIANCE_EPSILON: f64 = 1e-8;

/// A saved state that does not fit the observation size or is not a valid
/// normaliser state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalizerStateError(pub String);

impl std::fmt::Display for NormalizerStateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NormalizerStateError {}

/// Per-feature running mean and variance with clipping.
#[derive(Clone, Debug, PartialEq)]
pub struct RunningNormalizer {
    count: f64,
    clip: f64,
    epsilon: f64,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

/// `clip((x − μ) / s, ±c)`: the one formula of the live normaliser and of
/// its frozen form, so the two give the same bits.
fn standardize(x: f64, mean: f64, scale: f64, clip: f64) -> f64 {
    ((x - mean) / scale).clamp(-clip, clip)
}

/// Frozen statistics as a map `x_j ↦ clip((x_j − μ_j) / s_j, ±c)` with
/// `s_j = √(σ_j² + ε)`: what [`RunningNormalizer::normalize`] computes,
/// taken once so that many batches of states (a pixel batch's bytes,
/// converted wherever a network reads them) see the same numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    mean: Vec<f64>,
    scale: Vec<f64>,
    clip: f64,
}

impl Standardizer {
    /// Features per observation.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Feature `j`'s value `x`, standardised.
    pub fn value(&self, j: usize, x: f64) -> f64 {
        standardize(x, self.mean[j], self.scale[j], self.clip)
    }

    /// Standardises whole observations in place.
    pub fn apply(&self, obs: &mut [f64]) {
        for row in obs.chunks_exact_mut(self.dim()) {
            for (j, x) in row.iter_mut().enumerate() {
                *x = self.value(j, *x);
            }
        }
    }
}

impl RunningNormalizer {
    /// A normaliser for `dim` features that clips to `±clip` (e.g. 10); no
    /// statistics yet (it is the identity, then clipped, until updated).
    pub fn new(dim: usize, clip: f64) -> RunningNormalizer {
        assert!(clip > 0.0, "normaliser clip {clip} must be positive");
        RunningNormalizer {
            count: 0.0,
            clip,
            epsilon: VARIANCE_EPSILON,
            mean: vec![0.0; dim],
            m2: vec![0.0; dim],
        }
    }

    /// The same with `ε` (added to each variance) set to `epsilon`: a floor
    /// `√ε` under the standard deviation a feature is divided by. Not part
    /// of [`RunningNormalizer::state`]: the owner knows its inputs' kind.
    pub fn with_epsilon(self, epsilon: f64) -> RunningNormalizer {
        assert!(
            epsilon > 0.0,
            "normaliser epsilon {epsilon} must be positive"
        );
        RunningNormalizer { epsilon, ..self }
    }

    /// What feature `j` is divided by: `√(σ² + ε)`.
    fn scale(&self, j: usize) -> f64 {
        (self.variance(j) + self.epsilon).sqrt()
    }

    /// The current statistics, frozen (see [`Standardizer`]).
    pub fn standardizer(&self) -> Standardizer {
        Standardizer {
            mean: self.mean.clone(),
            scale: (0..self.dim()).map(|j| self.scale(j)).collect(),
            clip: self.clip,
        }
    }

    /// Features per observation.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Observations seen.
    pub fn count(&self) -> f64 {
        self.count
    }

    /// Running mean.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Running (population) variance of feature `j`; 1 before any data.
    pub fn variance(&self, j: usize) -> f64 {
        if self.count > 0.0 {
            self.m2[j] / self.count
        } else {
            1.0
        }
    }

    /// Merges `n` observations (`dim × n`, observation-contiguous).
    pub fn update(&mut self, obs: &[f64], n: usize) {
        let d = self.dim();
        assert_eq!(obs.len(), d * n, "normaliser update: observation length");
        if n == 0 {
            return;
        }
        let (na, nb) = (self.count, n as f64);
        let total = na + nb;
        for j in 0..d {
            let column = obs.iter().skip(j).step_by(d);
            let mean_b = column.clone().sum::<f64>() / nb;
            let m2_b: f64 = column.map(|x| (x - mean_b) * (x - mean_b)).sum();
            let delta = mean_b - self.mean[j];
            self.mean[j] += delta * nb / total;
            self.m2[j] += m2_b + delta * delta * na * nb / total;
        }
        self.count = total;
    }

    /// Normalises observations in place.
    pub fn normalize(&self, obs: &mut [f64]) {
        let d = self.dim();
        assert_eq!(
            obs.len() % d.max(1),
            0,
            "normalise: not a whole number of observations"
        );
        for row in obs.chunks_exact_mut(d) {
            for (j, x) in row.iter_mut().enumerate() {
                *x = standardize(*x, self.mean[j], self.scale(j), self.clip);
            }
        }
    }

    /// The whole state as `[count, clip, mean…, M₂…]` (`2 + 2·dim` values),
    /// for saving with the policy parameters.
    pub fn state(&self) -> Vec<f64> {
        let mut state = vec![self.count, self.clip];
        state.extend_from_slice(&self.mean);
        state.extend_from_slice(&self.m2);
        state
    }

    /// Restores a state written by [`RunningNormalizer::state`].
    pub fn from_state(
        dim: usize,
        state: &[f64],
    ) -> Result<RunningNormalizer, NormalizerStateError> {
        if state.len() != 2 + 2 * dim {
            return Err(NormalizerStateError(format!(
                "normaliser state has {} values, expected {} for {dim} features",
                state.len(),
                2 + 2 * dim
            )));
        }
        let (count, clip) = (state[0], state[1]);
        let valid = count >= 0.0
            && count.is_finite()
            && clip > 0.0
            && state.iter().all(|v| !v.is_nan())
            && state[2 + dim..].iter().all(|m2| *m2 >= 0.0);
        if !valid {
            return Err(NormalizerStateError(
                "normaliser state is invalid (negative count or M₂, non-positive clip, or NaN)"
                    .into(),
            ));
        }
        Ok(RunningNormalizer {
            count,
            clip,
            epsilon: VARIANCE_EPSILON,
            mean: state[2..2 + dim].to_vec(),
            m2: state[2 + dim..].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use trustbench_plugin::rng::Rng;

    use super::*;

    #[test]
    fn the_standardizer_computes_what_normalize_does() {
        let obs = [0.0, 1.0, 0.2, 1.0, 0.4, 1.0, 0.9, 1.0];
        let norm = {
            let mut n = RunningNormalizer::new(2, 3.0).with_epsilon(4e-4);
            n.update(&obs[..6], 3);
            n
        };
        let (mut a, mut b) = (obs.to_vec(), obs.to_vec());
        norm.normalize(&mut a);
        norm.standardizer().apply(&mut b);
        assert_eq!(a, b);
        // A constant feature: divided by the floor √ε = 0.02, then clipped.
        assert_eq!(a[1], 0.0);
        assert!((norm.standardizer().value(1, 0.99) + 0.5).abs() < 1e-9);
        assert_eq!(norm.standardizer().value(1, 0.5), -3.0);
    }

    #[test]
    fn batched_updates_match_two_pass_statistics() {
        let mut rng = Rng::new(1);
        let d = 3;
        let obs: Vec<f64> = (0..d * 300)
            .map(|k| 1e4 + (k % d) as f64 * 5.0 + rng.normal() * (k % d + 1) as f64)
            .collect();
        let mut norm = RunningNormalizer::new(d, 10.0);
        for (start, end) in [(0, 1), (1, 100), (100, 300)] {
            norm.update(&obs[start * d..end * d], end - start);
        }
        assert_eq!(norm.count(), 300.0);
        for j in 0..d {
            let column: Vec<f64> = obs.iter().skip(j).step_by(d).copied().collect();
            let mean = column.iter().sum::<f64>() / 300.0;
            let var = column.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 300.0;
            assert!((norm.mean()[j] - mean).abs() < 1e-9 * mean.abs());
            assert!((norm.variance(j) - var).abs() < 1e-9 * var);
        }
    }

    #[test]
    fn normalises_and_clips() {
        let mut norm = RunningNormalizer::new(1, 2.0);
        let mut fresh = [5.0];
        norm.normalize(&mut fresh);
        assert_eq!(fresh, [2.0], "identity then clip before any data");
        norm.update(&[1.0, 3.0], 2); // mean 2, variance 1
        let mut x = [2.0, 3.0, 100.0, -100.0];
        norm.normalize(&mut x);
        assert!(x[0].abs() < 1e-12 && (x[1] - 1.0).abs() < 1e-7);
        assert_eq!(&x[2..], &[2.0, -2.0]);
    }

    #[test]
    fn state_round_trips_and_bad_states_are_refused() {
        let mut norm = RunningNormalizer::new(2, 5.0);
        norm.update(&[1.0, 2.0, 3.0, 5.0, -1.0, 0.0], 3);
        let state = norm.state();
        assert_eq!(state.len(), 6);
        assert_eq!(RunningNormalizer::from_state(2, &state).unwrap(), norm);
        assert!(RunningNormalizer::from_state(3, &state).is_err());
        let mut bad = state.clone();
        bad[5] = -1.0;
        assert!(
            RunningNormalizer::from_state(2, &bad)
                .unwrap_err()
                .0
                .contains("invalid")
        );
        bad = state;
        bad[2] = f64::NAN;
        assert!(RunningNormalizer::from_state(2, &bad).is_err());
    }
}
