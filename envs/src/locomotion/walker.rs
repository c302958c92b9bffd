//! # Walker (`walker-v0`, `walker-paper-v0`)
//!
//! ## Description
//! A two-legged robot in the vertical plane — a torso and two legs of thigh,
//! leg and foot, six motorised hinges — must walk forward as fast as it can
//! without falling (the TRPO paper's Walker). Dimensions, masses, joint
//! ranges, gears, armature and damping are those of MuJoCo's `walker2d.xml`
//! (Gymnasium Walker2d-v5): the hopper's torso, thighs and legs, and feet of
//! 0.2 m pointing forward from the ankle (radius 0.06 m); masses 3.67 kg
//! (torso), 4.06, 2.78 and 3.17 kg per leg (23.7 kg in all). Both legs have
//! the same friction, 0.9 (MuJoCo's left foot has 1.9, a quirk not copied).
//! Simulated on rapier2d at 125 Hz (0.008 s per env step), 2 solver
//! substeps: the contact forces behind the impact penalty need them more
//! than the hopper's motion does.
//!
//! ## Action Space
//! `box[6]` in [−1, 1] (clipped): right thigh, leg, foot, left thigh, leg,
//! foot torques of 100 N·m per unit.
//!
//! ## Observation Space
//! `box[17]` (`walker-v0`): torso height z (m), torso pitch (rad, > 0
//! leaning forward), the right thigh, leg, foot and left thigh, leg, foot
//! hinge angles, then the velocities ẋ, ż, pitch rate and the six hinge
//! rates, each clipped to [−10, 10]. `walker-paper-v0` puts the torso's x
//! first: `box[18]`, the paper's size.
//!
//! ## Rewards
//! Δx/Δt of the torso + 1 if the step ends healthy − 10⁻³‖a‖²
//! − 10⁻²·Σ_feet min(F/(M g), 10)², the last term being the paper's penalty
//! for strong impacts of the feet (F a foot's normal ground force, M g the
//! walker's weight: standing still costs about 0.005 per step, a landing
//! at four body weights on one foot 0.16, and the 4 cm drop onto the
//! ground after each reset about 1, once: rapier's contacts are stiffer
//! than MuJoCo's and stop the fall within one step). See
//! [`LocomotionConfig`](crate::locomotion::LocomotionConfig).
//!
//! ## Starting State
//! Standing straight with both feet 4 cm above the ground, plus uniform
//! noise in [−0.005, 0.005] on every generalized position and velocity.
//!
//! ## Episode End
//! Terminated when unhealthy: torso height outside (0.8, 2.0) m or pitch
//! outside (−1, 1) rad (Gymnasium's ranges). Truncated after 1000 steps.
//!
//! ## Arguments
//! None through the registry; `Legged::walker(config)` takes a
//! [`LocomotionConfig`](crate::locomotion::LocomotionConfig).
//!
//! ## Version History
//! - v0: first version.

use super::LocomotionConfig;
use super::legged::{Legged, LeggedSpec};
use super::planar::{Hinge, Limb, PlanarModel};
use crate::render::Rgb;
use crate::render::palette::{BODY, BODY_ALT};

const fn limb(from: [f32; 2], to: [f32; 2], radius: f32, color: Rgb) -> Limb {
    Limb {
        from,
        to,
        radius,
        friction: 0.9,
        color,
    }
}

const fn hinge(parent: usize, child: usize, at: [f32; 2], range_deg: [f32; 2]) -> Hinge {
    Hinge {
        parent,
        child,
        at,
        range_deg,
        gear: 100.0,
        armature: 0.01,
        damping: 0.1,
    }
}

static WALKER: LeggedSpec = LeggedSpec {
    model: PlanarModel {
        limbs: &[
            limb([0.0, 1.45], [0.0, 1.05], 0.05, BODY),
            limb([0.0, 1.05], [0.0, 0.6], 0.05, BODY),
            limb([0.0, 0.6], [0.0, 0.1], 0.04, BODY),
            limb([0.0, 0.1], [0.2, 0.1], 0.06, BODY),
            limb([0.0, 1.05], [0.0, 0.6], 0.05, BODY_ALT),
            limb([0.0, 0.6], [0.0, 0.1], 0.04, BODY_ALT),
            limb([0.0, 0.1], [0.2, 0.1], 0.06, BODY_ALT),
        ],
        hinges: &[
            hinge(0, 1, [0.0, 1.05], [-150.0, 0.0]),
            hinge(1, 2, [0.0, 0.6], [-150.0, 0.0]),
            hinge(2, 3, [0.0, 0.1], [-45.0, 45.0]),
            hinge(0, 4, [0.0, 1.05], [-150.0, 0.0]),
            hinge(4, 5, [0.0, 0.6], [-150.0, 0.0]),
            hinge(5, 6, [0.0, 0.1], [-45.0, 45.0]),
        ],
        density: 1000.0,
        gravity: 9.81,
        ground_friction: Some(0.7),
        dt: 0.008,
        substeps: 2,
    },
    healthy_height: (0.8, 2.0),
    healthy_pitch: (-1.0, 1.0),
    healthy_state: f64::INFINITY,
    feet: &[3, 6],
};

impl Legged {
    /// The walker (see the module docs).
    pub fn walker(config: LocomotionConfig) -> Legged {
        Legged::new(&WALKER, config)
    }
}
