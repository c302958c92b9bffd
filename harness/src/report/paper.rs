//! The TRPO paper's experimental settings (Schulman et al. 2015, Appendix E
//! and its Table 2), in one place: the reproduction's grid runs them at its
//! `paper` scale, and every claim row states its own settings beside them
//! (a verdict reached far below them says so).

/// Policy iterations of the locomotion experiments.
pub const ITERATIONS: u64 = 200;
/// Env steps of each arcade run, from pixels (the budget `reproduce` gives
/// the paper scale).
pub const GAME_STEPS: u64 = 50_000_000;
/// The view the paper's arcade policies saw.
pub const GAME_VIEW: &str = "pixels";
/// The vine's actions per state ("rollouts per state").
pub const VINE_ACTIONS: u64 = 4;
/// The vine's trunk per iteration: "num. rollouts for sampling" 16 × "len.
/// rollouts for sampling" 1000.
pub const VINE_TRUNK_TOTAL: u64 = 16 * 1000;

/// The paper's sizes for one locomotion task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locomotion {
    /// Single path's env steps per iteration.
    pub batch: u64,
    /// Hidden units of the policy's one hidden layer.
    pub hidden: u64,
    /// "Vine: Q-values per batch": one per (state, action).
    pub vine_q_values: u64,
    /// "Vine: rollout length".
    pub vine_rollout: u64,
}

impl Locomotion {
    /// Swimmer, hopper or walker (by short name); `None` for other envs.
    pub fn of(env: &str) -> Option<Locomotion> {
        match env {
            "swimmer" => Some(Locomotion {
                batch: 50_000,
                hidden: 30,
                vine_q_values: 500,
                vine_rollout: 50,
            }),
            "hopper" | "walker" => Some(Locomotion {
                batch: 1_000_000,
                hidden: 50,
                vine_q_values: 2500,
                vine_rollout: 100,
            }),
            _ => None,
        }
    }

    /// States the vine branches from per iteration.
    pub fn vine_states(&self) -> u64 {
        self.vine_q_values / VINE_ACTIONS
    }

    /// Env steps of one vine iteration: the trunk, then every branch at its
    /// full length.
    pub fn vine_steps_per_iteration(&self) -> u64 {
        VINE_TRUNK_TOTAL + self.vine_q_values * self.vine_rollout
    }
}

/// A step count as a reader scans it: `200k`, `1M`, `53.2M`.
pub fn steps(n: u64) -> String {
    let short = |x: f64, unit: &str| {
        let text = format!("{x:.1}");
        format!("{}{unit}", text.trim_end_matches(".0"))
    };
    match n {
        n if n >= 1_000_000 => short(n as f64 / 1e6, "M"),
        n if n >= 1_000 => short(n as f64 / 1e3, "k"),
        n => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_2_sizes_and_short_step_counts() {
        let hopper = Locomotion::of("hopper").unwrap();
        assert_eq!(hopper.vine_states(), 625);
        assert_eq!(hopper.vine_steps_per_iteration(), 266_000);
        assert_eq!(Locomotion::of("swimmer").unwrap().vine_states(), 125);
        assert_eq!(Locomotion::of("breakout"), None);
        assert_eq!(steps(200_000), "200k");
        assert_eq!(steps(50_000_000), "50M");
        assert_eq!(steps(53_200_000), "53.2M");
        assert_eq!(steps(999), "999");
    }
}
