//! The rapier world of one env copy, in 2-D ([`dim2`]) and 3-D ([`dim3`]).
//!
//! Both are written once (a macro over the `rapier2d` / `rapier3d` crates,
//! whose APIs are the same) so that the snapshot rule lives in one place:
//! every set rapier steps — bodies, colliders, joints, islands, broad and
//! narrow phase (which hold the contact manifolds and their warm-start
//! impulses), CCD, soft bodies — and the integration parameters are part of
//! the value and cloned. Only the [`PhysicsPipeline`](rapier2d::pipeline::PhysicsPipeline)
//! is not: rapier documents it as scratch space, so a clone gets a fresh one
//! (tests check that a clone steps bit-identically to its original).
//!
//! Robots are *multibodies* (reduced coordinates, exact joints), and the
//! helpers here manage their per-DoF armature and damping — see the
//! module docs of [`crate::locomotion`] for why.

macro_rules! physics_world {
    ($rapier:ident) => {
        use $rapier::prelude::*;

        /// Robot parts collide with the ground only, never with each other
        /// (as in MuJoCo's walker and ant, whose limbs have `conaffinity` 0).
        pub(crate) const ROBOT: InteractionGroups =
            InteractionGroups::new(Group::GROUP_2, Group::GROUP_1, InteractionTestMode::And);
        const GROUND: InteractionGroups =
            InteractionGroups::new(Group::GROUP_1, Group::GROUP_2, InteractionTestMode::And);

        /// One rapier world (see the module docs). Fields are public to the
        /// crate so that models can build into it and envs can read it.
        pub(crate) struct Physics {
            /// Gravity, m/s².
            pub gravity: Vector,
            /// Time step and solver settings.
            pub params: IntegrationParameters,
            /// Rigid bodies.
            pub bodies: RigidBodySet,
            /// Collision shapes.
            pub colliders: ColliderSet,
            /// Impulse joints (unused by our robots, but stepped by rapier).
            pub impulse_joints: ImpulseJointSet,
            /// The robots' joints.
            pub multibody_joints: MultibodyJointSet,
            islands: IslandManager,
            broad_phase: BroadPhaseBvh,
            /// Contacts (read for contact forces).
            pub narrow_phase: NarrowPhase,
            soft_bodies: SoftBodySet,
            ccd: CCDSolver,
            pipeline: PhysicsPipeline,
        }

        impl Clone for Physics {
            fn clone(&self) -> Self {
                Physics {
                    gravity: self.gravity,
                    params: self.params,
                    bodies: self.bodies.clone(),
                    colliders: self.colliders.clone(),
                    impulse_joints: self.impulse_joints.clone(),
                    multibody_joints: self.multibody_joints.clone(),
                    islands: self.islands.clone(),
                    broad_phase: self.broad_phase.clone(),
                    narrow_phase: self.narrow_phase.clone(),
                    soft_bodies: self.soft_bodies.clone(),
                    ccd: self.ccd.clone(),
                    pipeline: PhysicsPipeline::new(),
                }
            }
        }

        impl Physics {
            /// An empty world stepping `dt` seconds per [`Physics::step`],
            /// split by rapier into `substeps` solver substeps. CCD is off:
            /// limbs move far less than their thickness per substep.
            pub fn new(gravity: Vector, dt: Real, substeps: usize) -> Physics {
                let mut params = IntegrationParameters::default();
                params.dt = dt;
                params.num_solver_iterations = substeps;
                params.max_ccd_substeps = 0;
                Physics {
                    gravity,
                    params,
                    bodies: RigidBodySet::new(),
                    colliders: ColliderSet::new(),
                    impulse_joints: ImpulseJointSet::new(),
                    multibody_joints: MultibodyJointSet::new(),
                    islands: IslandManager::new(),
                    broad_phase: BroadPhaseBvh::new(),
                    narrow_phase: NarrowPhase::new(),
                    soft_bodies: SoftBodySet::new(),
                    ccd: CCDSolver::new(),
                    pipeline: PhysicsPipeline::new(),
                }
            }

            /// Add flat ground through the origin, facing `up`, with the
            /// given friction; returns its collider.
            pub fn add_ground(&mut self, up: Vector, friction: Real) -> ColliderHandle {
                let body = self.bodies.insert(RigidBodyBuilder::fixed());
                let shape = ColliderBuilder::halfspace($rapier::na::Unit::new_unchecked(up))
                    .friction(friction)
                    .collision_groups(GROUND);
                self.colliders
                    .insert_with_parent(shape, body, &mut self.bodies)
            }

            /// Advance by `params.dt`.
            pub fn step(&mut self) {
                self.pipeline.step(
                    self.gravity,
                    &self.params,
                    &mut self.islands,
                    &mut self.broad_phase,
                    &mut self.narrow_phase,
                    &mut self.bodies,
                    &mut self.colliders,
                    &mut self.impulse_joints,
                    &mut self.multibody_joints,
                    &mut self.soft_bodies,
                    &mut self.ccd,
                    &(),
                    &(),
                );
            }

            /// The multibody whose root link is `root`.
            pub fn multibody(&self, root: RigidBodyHandle) -> &Multibody {
                let link = self
                    .multibody_joints
                    .rigid_body_link(root)
                    .expect("a robot link");
                self.multibody_joints
                    .get_multibody(link.multibody)
                    .expect("a live multibody")
            }

            fn multibody_mut(&mut self, root: RigidBodyHandle) -> &mut Multibody {
                self.bodies_and_multibody(root).1
            }

            /// The rigid bodies and, borrowed alongside, the multibody whose
            /// root link is `root` (kinematics updates need both at once).
            fn bodies_and_multibody(
                &mut self,
                root: RigidBodyHandle,
            ) -> (&mut RigidBodySet, &mut Multibody) {
                let Physics {
                    bodies,
                    multibody_joints,
                    ..
                } = self;
                let link = *multibody_joints
                    .rigid_body_link(root)
                    .expect("a robot link");
                let mb = multibody_joints
                    .get_multibody_mut(link.multibody)
                    .expect("a live multibody");
                (bodies, mb)
            }

            /// Finish a robot built from `root`: settle its degrees of freedom
            /// (rapier adds the root's free joint on the first forward
            /// kinematics) and give DoF `root_dofs + k` — hinge k, in the
            /// order the hinges were inserted — its MuJoCo `armature[k]`
            /// (reflected rotor inertia, kg·m²) and `damping[k]` (N·m·s/rad).
            /// The root's own DoFs get neither.
            pub fn set_hinge_dynamics(
                &mut self,
                root: RigidBodyHandle,
                armature: &[Real],
                damping: &[Real],
            ) {
                let (bodies, mb) = self.bodies_and_multibody(root);
                mb.forward_kinematics(bodies, true);
                let root_dofs = mb.ndofs() - armature.len();
                assert_eq!(
                    root_dofs,
                    mb.link(0).expect("a root").joint().ndofs(),
                    "one DoF per hinge"
                );
                mb.armature_mut().fill(0.0);
                mb.damping_mut().fill(0.0);
                for (k, (&a, &d)) in armature.iter().zip(damping).enumerate() {
                    mb.armature_mut()[root_dofs + k] = a;
                    mb.damping_mut()[root_dofs + k] = d;
                }
            }

            /// Move the robot at `root` by `dq` in generalized coordinates and
            /// add `dv` to its generalized velocities (the reset noise), then
            /// bring the rigid bodies' poses and velocities up to date so
            /// that they can be observed before the next step.
            pub fn perturb(&mut self, root: RigidBodyHandle, dq: &[Real], dv: &[Real]) {
                let mb = self.multibody_mut(root);
                mb.apply_displacements(dq);
                for (v, d) in mb.generalized_velocity_mut().iter_mut().zip(dv) {
                    *v += d;
                }
                let (bodies, mb) = self.bodies_and_multibody(root);
                mb.forward_kinematics(bodies, false);
                mb.update_rigid_bodies(bodies, true);
                for i in 0..mb.num_links() {
                    let link = mb.link(i).expect("a link");
                    let v = mb.body_jacobian(i) * mb.generalized_velocity();
                    bodies[link.rigid_body_handle()]
                        .set_vels(RigidBodyVelocity::from_slice(v.as_slice()), false);
                }
            }
        }
    };
}

/// The world of the planar robots (x forward, y up; or the swimmer's
/// horizontal plane).
pub(crate) mod dim2 {
    physics_world!(rapier2d);
}

/// The world of the ant (x forward, z up).
pub(crate) mod dim3 {
    physics_world!(rapier3d);
}
