//! Planar robots — capsule limbs joined by motorised hinges — described as
//! data ([`PlanarModel`]) and built into a rapier2d multibody
//! ([`PlanarRobot`]). The swimmer, hopper and walker are three such models.
//!
//! Coordinates: the world's x axis points forward and y up (the swimmer's y
//! is sideways instead: its plane is horizontal); angles are
//! counter-clockwise. A hinge angle is the child's angle minus the parent's,
//! which is MuJoCo's sign for the hopper and walker joints (axis −y) and the
//! swimmer's (axis +z).

use super::physics::dim2::{Physics, ROBOT};
use crate::Rng;
use crate::render::{Canvas, Rgb, View};
use rapier2d::prelude::*;

/// One rigid limb: a capsule between two points of the model's rest pose.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limb {
    /// One end, m (world coordinates of the rest pose).
    pub from: [f32; 2],
    /// The other end, m.
    pub to: [f32; 2],
    /// Capsule radius, m.
    pub radius: f32,
    /// Coulomb friction (combined with the ground's by taking the larger, as MuJoCo does).
    pub friction: f32,
    /// Colour in rendered frames.
    pub color: Rgb,
}

/// A motorised hinge between two limbs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hinge {
    /// Index of the parent limb (closer to the root, limb 0).
    pub parent: usize,
    /// Index of the child limb; hinges are listed parents first.
    pub child: usize,
    /// The pivot, m (world coordinates of the rest pose).
    pub at: [f32; 2],
    /// Allowed range of the hinge angle, degrees.
    pub range_deg: [f32; 2],
    /// N·m of torque per unit of action.
    pub gear: f32,
    /// Reflected rotor inertia added to the hinge's DoF, kg·m² (MuJoCo's `armature`).
    pub armature: f32,
    /// Viscous damping of the hinge, N·m·s/rad.
    pub damping: f32,
}

/// A planar robot and the world it lives in.
#[derive(Debug)]
pub(crate) struct PlanarModel {
    /// Limb 0 is the root (the torso), free to move in the plane.
    pub limbs: &'static [Limb],
    /// One per actuator, in action order.
    pub hinges: &'static [Hinge],
    /// Limb mass = density × the volume of the 3-D capsule, kg/m³ (MuJoCo's
    /// default 1000: the same masses as MuJoCo's models).
    pub density: f32,
    /// Downward acceleration, m/s² (0 for the swimmer).
    pub gravity: f32,
    /// Friction of a flat ground at y = 0, or no ground.
    pub ground_friction: Option<f32>,
    /// Seconds per physics step.
    pub dt: f32,
    /// Solver substeps per physics step.
    pub substeps: usize,
}

impl Limb {
    pub fn length(&self) -> f32 {
        ((self.to[0] - self.from[0]).powi(2) + (self.to[1] - self.from[1]).powi(2)).sqrt()
    }

    /// Mass of the 3-D capsule: density × (π r² ℓ + 4/3 π r³).
    fn mass(&self, density: f32) -> f32 {
        let r = self.radius;
        density * std::f32::consts::PI * r * r * (self.length() + 4.0 / 3.0 * r)
    }

    fn center(&self) -> Vector {
        Vector::new(
            (self.from[0] + self.to[0]) / 2.0,
            (self.from[1] + self.to[1]) / 2.0,
        )
    }
}

/// A built [`PlanarModel`]: its world and the handles into it.
#[derive(Clone)]
pub(crate) struct PlanarRobot {
    physics: Physics,
    model: &'static PlanarModel,
    limbs: Vec<RigidBodyHandle>,
    colliders: Vec<ColliderHandle>,
    ground: Option<ColliderHandle>,
}

impl PlanarRobot {
    /// Build `model` in its rest pose, at rest.
    pub fn build(model: &'static PlanarModel) -> PlanarRobot {
        let mut physics = Physics::new(Vector::new(0.0, -model.gravity), model.dt, model.substeps);
        let ground = model
            .ground_friction
            .map(|friction| physics.add_ground(Vector::Y, friction));
        let (mut limbs, mut colliders) = (Vec::new(), Vec::new());
        for limb in model.limbs {
            let c = limb.center();
            let body = physics
                .bodies
                .insert(RigidBodyBuilder::dynamic().translation(c).can_sleep(false));
            let shape = ColliderBuilder::capsule_from_endpoints(
                Vector::from(limb.from) - c,
                Vector::from(limb.to) - c,
                limb.radius,
            )
            .mass(limb.mass(model.density))
            .friction(limb.friction)
            .friction_combine_rule(CoefficientCombineRule::Max)
            .collision_groups(ROBOT);
            let Physics {
                bodies,
                colliders: set,
                ..
            } = &mut physics;
            colliders.push(set.insert_with_parent(shape, body, bodies));
            limbs.push(body);
        }
        for h in model.hinges {
            let at = Vector::from(h.at);
            let joint = RevoluteJointBuilder::new()
                .local_anchor1(at - model.limbs[h.parent].center())
                .local_anchor2(at - model.limbs[h.child].center())
                .limits([h.range_deg[0].to_radians(), h.range_deg[1].to_radians()])
                .contacts_enabled(false);
            physics
                .multibody_joints
                .insert(limbs[h.parent], limbs[h.child], joint, true)
                .expect("hinges form a tree rooted at limb 0");
        }
        let armature: Vec<f32> = model.hinges.iter().map(|h| h.armature).collect();
        let damping: Vec<f32> = model.hinges.iter().map(|h| h.damping).collect();
        physics.set_hinge_dynamics(limbs[0], &armature, &damping);
        PlanarRobot {
            physics,
            model,
            limbs,
            colliders,
            ground,
        }
    }

    /// Degrees of freedom: x, y and angle of the root, then one per hinge.
    pub fn dofs(&self) -> usize {
        3 + self.model.hinges.len()
    }

    /// Seconds per physics step.
    pub fn dt(&self) -> f64 {
        self.model.dt as f64
    }

    /// Total mass, kg.
    pub fn mass(&self) -> f64 {
        self.model
            .limbs
            .iter()
            .map(|l| l.mass(self.model.density) as f64)
            .sum()
    }

    /// Generalized positions `[x, y, θ, q₁ … qₙ]` (root position and angle,
    /// hinge angles) and velocities, written into `qpos` and `qvel`.
    pub fn state(&self, qpos: &mut [f64], qvel: &mut [f64]) {
        let mb = self.physics.multibody(self.limbs[0]);
        let root = mb.link(0).expect("a root").joint();
        let (c, rot) = (root.coords(), root.joint_rot());
        qpos[0] = c[0] as f64;
        qpos[1] = c[1] as f64;
        qpos[2] = rapier2d::math::RealField::atan2(rot.sin() as f64, rot.cos() as f64);
        for (k, q) in qpos[3..].iter_mut().enumerate() {
            *q = mb.link(k + 1).expect("a hinge link").joint().coords()[2] as f64;
        }
        for (v, &g) in qvel.iter_mut().zip(mb.generalized_velocity().iter()) {
            *v = g as f64;
        }
    }

    /// Apply `action` (clipped to [−1, 1]) as hinge torques τₖ = gearₖ·aₖ:
    /// +τₖ on the child and −τₖ on the parent, which is exactly the
    /// generalized force τₖ on hinge k and nothing else. Clears every other
    /// external force and torque first (rapier keeps them until reset).
    pub fn actuate(&mut self, action: &[f64]) {
        for &body in &self.limbs {
            let rb = &mut self.physics.bodies[body];
            rb.reset_forces(false);
            rb.reset_torques(false);
        }
        for (h, &a) in self.model.hinges.iter().zip(action) {
            let tau = h.gear * a.clamp(-1.0, 1.0) as f32;
            self.physics.bodies[self.limbs[h.child]].add_torque(tau, false);
            self.physics.bodies[self.limbs[h.parent]].add_torque(-tau, false);
        }
    }

    /// Advance one physics step.
    pub fn step(&mut self) {
        self.physics.step();
    }

    /// Add uniform noise in [−scale, scale] to every generalized position
    /// and velocity (the reset noise).
    pub fn perturb(&mut self, rng: &mut Rng, scale: f64) {
        let mut noise = || rng.uniform_in(-scale, scale) as f32;
        let dq: Vec<f32> = (0..self.dofs()).map(|_| noise()).collect();
        let dv: Vec<f32> = (0..self.dofs()).map(|_| noise()).collect();
        self.physics.perturb(self.limbs[0], &dq, &dv);
    }

    /// Limb `i`'s rigid body.
    pub fn limb(&self, i: usize) -> &RigidBody {
        &self.physics.bodies[self.limbs[i]]
    }

    /// Limb `i`'s rigid body, to apply forces to.
    pub fn limb_mut(&mut self, i: usize) -> &mut RigidBody {
        &mut self.physics.bodies[self.limbs[i]]
    }

    /// Normal force of the ground on limb `i` during the last step, N: the
    /// contact solver's normal impulse divided by the step's duration.
    pub fn ground_force(&self, i: usize) -> f64 {
        let pair = self
            .ground
            .and_then(|g| self.physics.narrow_phase.contact_pair(self.colliders[i], g));
        pair.map_or(0.0, |p| {
            (p.total_impulse_magnitude() / self.model.dt) as f64
        })
    }

    /// World endpoints of limb `i`'s capsule axis.
    pub fn limb_ends(&self, i: usize) -> [[f64; 2]; 2] {
        let (limb, pose) = (&self.model.limbs[i], self.limb(i).position());
        let c = limb.center();
        [limb.from, limb.to].map(|p| {
            let w = pose.transform_point(Vector::from(p) - c);
            [w.x as f64, w.y as f64]
        })
    }

    /// Draw every limb (root last, on top) and a dot at each hinge.
    pub fn draw(&self, canvas: &mut Canvas, view: &View) {
        for i in (0..self.limbs.len()).rev() {
            let [a, b] = self.limb_ends(i);
            let l = &self.model.limbs[i];
            view.capsule(canvas, a, b, l.radius as f64, l.color);
        }
        for h in self.model.hinges {
            let pose = self.limb(h.child).position();
            let p = pose.transform_point(Vector::from(h.at) - self.model.limbs[h.child].center());
            let r = 0.6 * self.model.limbs[h.child].radius as f64;
            view.disc(
                canvas,
                [p.x as f64, p.y as f64],
                r,
                crate::render::palette::JOINT,
            );
        }
    }
}
