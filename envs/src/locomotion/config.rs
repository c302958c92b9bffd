//! Reward coefficients and the observation choice of a locomotion env.

/// How a locomotion env observes and rewards. Each task has its defaults
/// ([`LocomotionConfig::swimmer`], …), which its registered id uses;
/// [`LocomotionConfig::paper`] gives the `*-paper-v0` variants. Building an
/// env from a changed config gives a different task: register it under a
/// new id rather than reusing one.
///
/// The reward of every task has the same form (each env's docs say which
/// terms it uses):
///
/// r = `forward_weight`·Δx/Δt − `ctrl_cost`·‖a‖² + `alive_bonus`·[healthy]
///     − `impact_cost`·Σ_feet min(F/(M g), 10)²
///
/// where Δx is how far the torso moved forward during the env step of Δt
/// seconds, a the action clipped to [−1, 1] (so the control cost does not
/// depend on the gears), F a foot's normal contact force and M g the robot's
/// weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocomotionConfig {
    /// Observe the absolute position too (x, and y for the swimmer and the
    /// ant): the TRPO paper's observation. Off by default, as in Gymnasium,
    /// because the tasks are translation invariant and the position grows
    /// without bound.
    pub paper_observation: bool,
    /// Weight of the forward velocity.
    pub forward_weight: f64,
    /// Weight of the squared action.
    pub ctrl_cost: f64,
    /// Paid for every step that ends healthy (0: no health check applies).
    pub alive_bonus: f64,
    /// Weight of the squared foot impact forces (in body weights).
    pub impact_cost: f64,
    /// Half-width of the uniform noise added to every generalized position
    /// and velocity at reset.
    pub reset_noise: f64,
}

impl LocomotionConfig {
    /// `swimmer-v0`: Gymnasium Swimmer's weights (ctrl 1e-4, reset noise 0.1).
    pub fn swimmer() -> Self {
        LocomotionConfig {
            paper_observation: false,
            forward_weight: 1.0,
            ctrl_cost: 1e-4,
            alive_bonus: 0.0,
            impact_cost: 0.0,
            reset_noise: 0.1,
        }
    }

    /// `hopper-v0`: Gymnasium Hopper's weights (ctrl 1e-3, alive 1, reset
    /// noise 5e-3).
    pub fn hopper() -> Self {
        LocomotionConfig {
            paper_observation: false,
            forward_weight: 1.0,
            ctrl_cost: 1e-3,
            alive_bonus: 1.0,
            impact_cost: 0.0,
            reset_noise: 5e-3,
        }
    }

    /// `walker-v0`: as the hopper, plus the paper's impact penalty (1e-2).
    pub fn walker() -> Self {
        LocomotionConfig {
            impact_cost: 1e-2,
            ..Self::hopper()
        }
    }

    /// `ant-v0`: Gymnasium Ant's weights (ctrl 0.5, alive 1, reset noise
    /// 0.1; no contact cost).
    pub fn ant() -> Self {
        LocomotionConfig {
            paper_observation: false,
            forward_weight: 1.0,
            ctrl_cost: 0.5,
            alive_bonus: 1.0,
            impact_cost: 0.0,
            reset_noise: 0.1,
        }
    }

    /// The same with the paper's observation (absolute position included).
    pub fn paper(self) -> Self {
        LocomotionConfig {
            paper_observation: true,
            ..self
        }
    }

    /// The control cost of `action` (clipped to [−1, 1]).
    pub(crate) fn control_cost(&self, action: &[f64]) -> f64 {
        self.ctrl_cost
            * action
                .iter()
                .map(|a| a.clamp(-1.0, 1.0).powi(2))
                .sum::<f64>()
    }
}
