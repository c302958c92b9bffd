//! Locomotion on rapier: the TRPO paper's swimmer, hopper and walker
//! (planar, on rapier2d, as MuJoCo's are) and a 3-D ant (rapier3d).
//!
//! The key design decision: the robots are MuJoCo's models — the same
//! limbs, masses, joint ranges, gears, and joint *armature* and *damping* —
//! simulated as rapier **multibodies** (reduced coordinates) driven by
//! joint torques, so that what a policy learns here means what it means on
//! Gymnasium's tasks, at a fraction of the cost.
//!
//! # Joint torques: external torques on impulse joints vs multibodies
//! Rapier has no joint-torque actuator; its motors track a target velocity
//! or angle. A torque τ on hinge k is applied instead as +τ on the child
//! limb and −τ on the parent (reset every step: rapier keeps external
//! torques), which is exactly a generalized force τ on that hinge's degree
//! of freedom and on nothing else. Both ways of joining limbs were measured
//! on the hopper (random actions, 8 ms steps, this machine, CPU time):
//!
//! | joints | env steps per CPU-s | mean random episode | worst joint-limit overshoot |
//! |---|---|---|---|
//! | impulse joints, 2 substeps | ≈ 123,000 | 5.9 steps | 0.28 rad |
//! | impulse joints, 4 substeps | ≈ 110,000 | 5.7 steps | 0.09 rad |
//! | multibody, 1 substep | ≈ 99,000 | 22 steps | 0.055 rad |
//! | multibody, 2 substeps | ≈ 78,000 | 22 steps | 0.031 rad |
//! | multibody, 4 substeps | ≈ 49,000 | 22 steps | 0.017 rad |
//!
//! Impulse joints are faster but cannot model MuJoCo's armature (1 kg·m² of
//! rotor inertia per hopper hinge, far more than a limb's own ≈ 0.07): 200
//! N·m then whips the light limbs around, random episodes end after six
//! steps instead of Gymnasium's ≈ 20, and the iterative joint solver lets
//! limbs overshoot their limits by up to 16°. Multibodies keep joints exact,
//! take armature and damping per degree of freedom, and reproduce
//! Gymnasium's random-episode length; they cost a small dense mass matrix
//! per solver substep. We use multibodies.
//!
//! # Determinism and snapshots
//! rapier is built with `enhanced-determinism` (IEEE-exact, libm
//! transcendental functions: identical results on every machine), no
//! parallelism, and one world per env copy. Every piece of state —
//! the rapier sets and parameters (`physics.rs`), the env's `Rng`, its last
//! observed state — lives in the env value, so `boxed_clone` is an exact
//! snapshot. Resets clone a rest pose built once per env (shared by the
//! copies through an `Arc`) and add seeded noise in generalized coordinates.
//!
//! # Configuration
//! Each env takes a [`LocomotionConfig`] (reward weights, reset noise and
//! whether to observe the absolute position). The registry offers each
//! task's defaults as `name-v0` and the paper's observation as
//! `name-paper-v0`; any other config is a different task and needs its own
//! id.

mod ant;
mod config;
mod hopper;
mod legged;
mod physics;
mod planar;
mod swimmer;
#[cfg(test)]
mod tests;
mod walker;

pub use ant::Ant;
pub use config::LocomotionConfig;
pub use legged::Legged;
pub use swimmer::Swimmer;
