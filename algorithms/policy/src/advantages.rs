//! Generalised advantage estimation (Schulman et al. 2016) with
//! Gymnasium's terminated/truncated distinction, and advantage
//! normalisation.
//!
//! Per step `t`, with `V(s')` the value of the next state:
//!
//! `δₜ = rₜ + γ (1 − terminatedₜ) V(s') − V(sₜ)`
//! `Aₜ = δₜ + γλ (1 − endₜ) Aₜ₊₁`,   `endₜ = terminatedₜ ∨ truncatedₜ ∨ (t = T−1)`
//! `Rₜ = Aₜ + V(sₜ)` (the λ-return: the value-function target).
//!
//! A *terminated* step is a true end: nothing follows, no bootstrap. A
//! *truncated* step (time limit) and the last step of the batch (the cut) did
//! not end the task, so `V(s')` of their real next observation is added —
//! the caller evaluates it (for truncation, on the final observation, not on
//! the reset one). With `λ = 1`, `Rₜ` is the plain discounted return
//! bootstrapped at truncations and at the cut; with `λ = 0`, `Aₜ = δₜ`.

/// GAE over a time-major batch of `n_envs` parallel streams: step `t` of
/// stream `e` is index `t · n_envs + e`, `T = rewards.len() / n_envs` steps.
///
/// - `values[i]` = `V(sᵢ)`;
/// - `bootstrap_values[i]` = `V(s')` of step `i`'s next observation, read
///   only where the step was truncated or is the last of its stream (other
///   entries are ignored; there `V(s')` is `values` of the next step);
/// - `advantages` and `returns` (same length) are overwritten with `Aᵢ`, `Rᵢ`.
#[allow(clippy::too_many_arguments)]
pub fn gae(
    rewards: &[f64],
    values: &[f64],
    bootstrap_values: &[f64],
    terminated: &[bool],
    truncated: &[bool],
    n_envs: usize,
    gamma: f64,
    lambda: f64,
    advantages: &mut [f64],
    returns: &mut [f64],
) {
    let len = rewards.len();
    for other in [
        values.len(),
        bootstrap_values.len(),
        terminated.len(),
        truncated.len(),
    ] {
        assert_eq!(other, len, "GAE: every per-step slice needs {len} entries");
    }
    assert_eq!(advantages.len(), len, "GAE: advantages length");
    assert_eq!(returns.len(), len, "GAE: returns length");
    assert!(
        n_envs > 0 && len.is_multiple_of(n_envs),
        "GAE: {len} steps do not split into {n_envs} streams"
    );
    let steps = len / n_envs;
    for e in 0..n_envs {
        let mut next_advantage = 0.0;
        for t in (0..steps).rev() {
            let i = t * n_envs + e;
            let cut = t + 1 == steps;
            let next_value = if terminated[i] {
                0.0
            } else if truncated[i] || cut {
                bootstrap_values[i]
            } else {
                values[i + n_envs]
            };
            let delta = rewards[i] + gamma * next_value - values[i];
            let ended = terminated[i] || truncated[i] || cut;
            let advantage = delta
                + if ended {
                    0.0
                } else {
                    gamma * lambda * next_advantage
                };
            advantages[i] = advantage;
            returns[i] = advantage + values[i];
            next_advantage = advantage;
        }
    }
}

/// `A ← (A − mean) / (std + 1e-8)` (population std): makes the policy step's
/// size independent of the reward scale. Leaves an empty slice alone.
pub fn normalize_advantages(advantages: &mut [f64]) {
    if advantages.is_empty() {
        return;
    }
    let n = advantages.len() as f64;
    let mean = advantages.iter().sum::<f64>() / n;
    let var = advantages
        .iter()
        .map(|a| (a - mean) * (a - mean))
        .sum::<f64>()
        / n;
    let inv = 1.0 / (var.sqrt() + 1e-8);
    for a in advantages {
        *a = (*a - mean) * inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IGNORED: f64 = 1e9;

    /// Five steps: an episode terminated at t = 1, one truncated at t = 3
    /// (V of its final observation: 0.8), and the batch cut at t = 4
    /// (V of the next observation: 1.5).
    fn example(lambda: f64) -> (Vec<f64>, Vec<f64>) {
        let rewards = [1.0, 2.0, 0.5, 1.0, 3.0];
        let values = [0.5, 1.0, 0.2, 0.4, 0.6];
        let bootstrap = [IGNORED, IGNORED, IGNORED, 0.8, 1.5];
        let terminated = [false, true, false, false, false];
        let truncated = [false, false, false, true, false];
        let (mut adv, mut ret) = (vec![0.0; 5], vec![0.0; 5]);
        gae(
            &rewards,
            &values,
            &bootstrap,
            &terminated,
            &truncated,
            1,
            0.9,
            lambda,
            &mut adv,
            &mut ret,
        );
        (adv, ret)
    }

    fn assert_close(got: &[f64], want: &[f64]) {
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn gae_matches_a_hand_computed_example() {
        // γ = 0.9, λ = 0.8, γλ = 0.72:
        // t=4 (cut):        δ = 3 + 0.9·1.5 − 0.6 = 3.75,           A = 3.75
        // t=3 (truncated):  δ = 1 + 0.9·0.8 − 0.4 = 1.32,           A = 1.32
        // t=2:              δ = 0.5 + 0.9·0.4 − 0.2 = 0.66,         A = 0.66 + 0.72·1.32 = 1.6104
        // t=1 (terminated): δ = 2 + 0 − 1 = 1,                      A = 1
        // t=0:              δ = 1 + 0.9·1 − 0.5 = 1.4,              A = 1.4 + 0.72·1 = 2.12
        let (adv, ret) = example(0.8);
        assert_close(&adv, &[2.12, 1.0, 1.6104, 1.32, 3.75]);
        assert_close(&ret, &[2.62, 2.0, 1.8104, 1.72, 4.35]);
    }

    #[test]
    fn lambda_one_gives_bootstrapped_discounted_returns() {
        // R₄ = 3 + 0.9·1.5, R₃ = 1 + 0.9·0.8, R₂ = 0.5 + 0.9·R₃, R₁ = 2, R₀ = 1 + 0.9·R₁.
        let (_, ret) = example(1.0);
        assert_close(&ret, &[2.8, 2.0, 0.5 + 0.9 * 1.72, 1.72, 4.35]);
        let (adv, _) = example(0.0);
        assert_close(&adv, &[1.4, 1.0, 0.66, 1.32, 3.75]);
    }

    #[test]
    fn parallel_streams_are_independent() {
        // Stream 0 is the example; stream 1 a single never-ending episode.
        let rewards = [1.0, 7.0, 2.0, 7.0, 0.5, 7.0, 1.0, 7.0, 3.0, 7.0];
        let values = [0.5, 1.0, 1.0, 1.0, 0.2, 1.0, 0.4, 1.0, 0.6, 1.0];
        let bootstrap = [
            IGNORED, IGNORED, IGNORED, IGNORED, IGNORED, IGNORED, 0.8, IGNORED, 1.5, 2.0,
        ];
        let terminated = [
            false, false, true, false, false, false, false, false, false, false,
        ];
        let truncated = [
            false, false, false, false, false, false, true, false, false, false,
        ];
        let (mut adv, mut ret) = (vec![0.0; 10], vec![0.0; 10]);
        gae(
            &rewards,
            &values,
            &bootstrap,
            &terminated,
            &truncated,
            2,
            0.9,
            0.8,
            &mut adv,
            &mut ret,
        );
        let stream0: Vec<f64> = adv.iter().step_by(2).copied().collect();
        assert_close(&stream0, &example(0.8).0);
        // Stream 1: δ = 7 + 0.9·1 − 1 = 6.9 everywhere but the cut (7 + 0.9·2 − 1 = 7.8).
        let mut want = vec![0.0; 5];
        let mut next = 0.0;
        for t in (0..5).rev() {
            let delta = if t == 4 { 7.8 } else { 6.9 };
            next = delta + if t == 4 { 0.0 } else { 0.72 * next };
            want[t] = next;
        }
        let stream1: Vec<f64> = adv.iter().skip(1).step_by(2).copied().collect();
        assert_close(&stream1, &want);
    }

    #[test]
    fn normalised_advantages_have_zero_mean_and_unit_std() {
        let mut adv = vec![1.0, 2.0, 3.0, 10.0];
        normalize_advantages(&mut adv);
        let mean = adv.iter().sum::<f64>() / 4.0;
        let var = adv.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / 4.0;
        assert!(mean.abs() < 1e-15 && (var - 1.0).abs() < 1e-7);
        normalize_advantages(&mut []);
    }
}
