//! # Hopper (`hopper-v0`, `hopper-paper-v0`)
//!
//! ## Description
//! A one-legged robot in the vertical plane — torso, thigh, leg and foot
//! joined by three motorised hinges — must hop forward as fast as it can
//! without falling (Erez, Tassa & Todorov 2011; the TRPO paper's Hopper).
//! Dimensions, masses, joint ranges, gears, armature and damping are those of
//! MuJoCo's `hopper.xml` (Gymnasium Hopper-v5): capsules of radius 0.05,
//! 0.05, 0.04, 0.06 m; torso 1.05–1.45 m, thigh 0.6–1.05 m, leg 0.1–0.6 m
//! above the ground and a foot from 0.13 m behind to 0.26 m ahead of the
//! ankle; masses 3.67, 4.06, 2.78, 5.32 kg (15.8 kg in all). Simulated on
//! rapier2d at 125 Hz (0.008 s per env step, as Gymnasium's Hopper), one
//! physics step and one solver substep per env step: the return of a fixed
//! open-loop gait is within 1% of that with 8 substeps, and it is what
//! makes the hopper fast (see the module docs of
//! [`locomotion`](crate::locomotion)).
//!
//! ## Action Space
//! `box[3]` in [−1, 1] (clipped): thigh, leg and foot torques of
//! 200 N·m per unit.
//!
//! ## Observation Space
//! `box[11]` (`hopper-v0`): torso height z (m, its centre), torso pitch
//! (rad, > 0 leaning forward), thigh, leg and foot hinge angles (rad), then
//! the velocities ẋ, ż, pitch rate and the three hinge rates, each clipped to
//! [−10, 10]. `hopper-paper-v0` puts the torso's x first: `box[12]`, the
//! paper's size. Hinge angles are 0 standing straight; the thigh and leg
//! bend backwards (negative angles), as MuJoCo's.
//!
//! ## Rewards
//! Δx/Δt of the torso + 1 if the step ends healthy − 10⁻³‖a‖² (see
//! [`LocomotionConfig`](crate::locomotion::LocomotionConfig); the
//! coefficients are Gymnasium's).
//!
//! ## Starting State
//! Standing straight with the foot 4 cm above the ground, plus uniform
//! noise in [−0.005, 0.005] on every generalized position and velocity
//! (torso x, z and pitch, hinge angles).
//!
//! ## Episode End
//! Terminated when unhealthy: torso height ≤ 0.7 m, |pitch| ≥ 0.2 rad, or
//! any angle or velocity ≥ 100 in magnitude (Gymnasium's ranges). Truncated
//! after 1000 steps.
//!
//! ## Arguments
//! None through the registry; `Legged::hopper(config)` takes a
//! [`LocomotionConfig`](crate::locomotion::LocomotionConfig).
//!
//! ## Version History
//! - v0: first version.

use super::LocomotionConfig;
use super::legged::{Legged, LeggedSpec};
use super::planar::{Hinge, Limb, PlanarModel};
use crate::render::palette::BODY;

const fn limb(from: [f32; 2], to: [f32; 2], radius: f32, friction: f32) -> Limb {
    Limb {
        from,
        to,
        radius,
        friction,
        color: BODY,
    }
}

const fn hinge(parent: usize, at: [f32; 2], range_deg: [f32; 2]) -> Hinge {
    Hinge {
        parent,
        child: parent + 1,
        at,
        range_deg,
        gear: 200.0,
        armature: 1.0,
        damping: 1.0,
    }
}

static HOPPER: LeggedSpec = LeggedSpec {
    model: PlanarModel {
        limbs: &[
            limb([0.0, 1.45], [0.0, 1.05], 0.05, 0.9),
            limb([0.0, 1.05], [0.0, 0.6], 0.05, 0.9),
            limb([0.0, 0.6], [0.0, 0.1], 0.04, 0.9),
            limb([-0.13, 0.1], [0.26, 0.1], 0.06, 2.0),
        ],
        hinges: &[
            hinge(0, [0.0, 1.05], [-150.0, 0.0]),
            hinge(1, [0.0, 0.6], [-150.0, 0.0]),
            hinge(2, [0.0, 0.1], [-45.0, 45.0]),
        ],
        density: 1000.0,
        gravity: 9.81,
        ground_friction: Some(1.0),
        dt: 0.008,
        substeps: 1,
    },
    healthy_height: (0.7, f64::INFINITY),
    healthy_pitch: (-0.2, 0.2),
    healthy_state: 100.0,
    feet: &[3],
};

impl Legged {
    /// The hopper (see the module docs).
    pub fn hopper(config: LocomotionConfig) -> Legged {
        Legged::new(&HOPPER, config)
    }
}
