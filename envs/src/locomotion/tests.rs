//! Tests of the contract (determinism, snapshots, sizes) and of the physics
//! (falling, reward, stability) for every locomotion task.

use super::{Ant, LocomotionConfig};
use crate::{Env, Rng, resolve};

const TASKS: [&str; 4] = ["swimmer-v0", "hopper-v0", "walker-v0", "ant-v0"];

fn make(id: &str) -> Box<dyn Env> {
    resolve(id).unwrap().make()
}

/// Step `env` `steps` times with uniform random actions from `actions`,
/// resetting (continuing its stream) when an episode ends; every
/// observation, reward and end flag goes to `trace`.
fn rollout(env: &mut dyn Env, actions: &mut Rng, steps: usize, trace: &mut Vec<f64>) {
    let mut obs = vec![0.0; env.observation_space().dim()];
    let mut a = vec![0.0; env.action_space().dim()];
    for _ in 0..steps {
        a.iter_mut()
            .for_each(|x| *x = actions.uniform_in(-1.0, 1.0));
        let s = env.step(&a, &mut obs);
        trace.extend_from_slice(&obs);
        trace.extend([
            s.reward,
            s.terminated as u8 as f64,
            s.truncated as u8 as f64,
        ]);
        if s.done() {
            env.reset(None, &mut obs);
            trace.extend_from_slice(&obs);
        }
    }
}

fn seeded(id: &str, seed: u64) -> Box<dyn Env> {
    let mut env = make(id);
    let mut obs = vec![0.0; env.observation_space().dim()];
    env.reset(Some(seed), &mut obs);
    env
}

#[test]
fn same_seed_and_actions_give_identical_observations_after_1000_steps() {
    for id in TASKS {
        let run = |seed| {
            let mut trace = Vec::new();
            rollout(
                seeded(id, seed).as_mut(),
                &mut Rng::new(1),
                1000,
                &mut trace,
            );
            trace
        };
        let a = run(7);
        assert_eq!(a, run(7), "{id}");
        assert_ne!(a, run(8), "{id}: the seed matters");
    }
}

#[test]
fn a_clone_is_an_exact_snapshot() {
    for id in TASKS {
        let mut env = seeded(id, 3);
        rollout(env.as_mut(), &mut Rng::new(2), 37, &mut Vec::new());
        // The snapshot gets a fresh rapier pipeline; the original keeps its warm one.
        let snapshot = env.boxed_clone();
        let mut first = Vec::new();
        rollout(env.as_mut(), &mut Rng::new(4), 300, &mut first);
        for _ in 0..2 {
            let mut restored = snapshot.boxed_clone();
            let mut again = Vec::new();
            rollout(restored.as_mut(), &mut Rng::new(4), 300, &mut again);
            assert_eq!(first, again, "{id}");
        }
    }
}

#[test]
fn observation_and_action_sizes() {
    for (id, obs, act) in [
        ("swimmer-v0", 8, 2),
        ("swimmer-paper-v0", 10, 2),
        ("hopper-v0", 11, 3),
        ("hopper-paper-v0", 12, 3),
        ("walker-v0", 17, 6),
        ("walker-paper-v0", 18, 6),
        ("ant-v0", 27, 8),
    ] {
        let env = make(id);
        assert_eq!(env.observation_space().dim(), obs, "{id}");
        assert_eq!(env.action_space().dim(), act, "{id}");
        assert_eq!(resolve(id).unwrap().spec().max_episode_steps, 1000, "{id}");
    }
}

#[test]
fn a_hopper_without_torque_falls_and_terminates() {
    let mut env = seeded("hopper-v0", 0);
    let mut obs = [0.0; 11];
    for t in 1..=300 {
        let s = env.step(&[0.0; 3], &mut obs);
        if s.terminated {
            // Fell: too low or tilted past 0.2 rad.
            assert!(obs[0] <= 0.7 || obs[1].abs() >= 0.2, "{obs:?}");
            assert!(t > 10, "it stands a moment first ({t})");
            return;
        }
        assert!(!s.truncated);
    }
    panic!("a hopper without torque still stands after 300 steps");
}

/// With the paper's observation (x first), the forward term of the reward
/// is exactly how far the torso moved over the step's duration, which is
/// also what the odometer reads.
#[test]
fn reward_pays_the_torso_displacement_over_dt() {
    let ant: Box<dyn Env> = Box::new(Ant::new(LocomotionConfig::ant().paper()));
    for (id, mut env, dt, ctrl, alive) in [
        ("swimmer", make("swimmer-paper-v0"), 0.04, 1e-4, 0.0),
        ("hopper", make("hopper-paper-v0"), 0.008, 1e-3, 1.0),
        ("walker", make("walker-paper-v0"), 0.008, 1e-3, 1.0),
        ("ant", ant, 0.05, 0.5, 1.0),
    ] {
        let mut obs = vec![0.0; env.observation_space().dim()];
        env.reset(Some(5), &mut obs);
        let a = vec![0.5; env.action_space().dim()];
        let mut moved = 0.0;
        for _ in 0..5 {
            let x = obs[0];
            let s = env.step(&a, &mut obs);
            let expected = (obs[0] - x) / dt + alive - ctrl * 0.25 * a.len() as f64;
            // The walker's impact penalty is zero while its feet are in the air.
            let tolerance = 1e-6 * (1.0 + expected.abs()); // dt is an f32 in rapier
            assert!(
                (s.reward - expected).abs() < tolerance,
                "{id}: {} vs {expected}",
                s.reward
            );
            moved += (obs[0] - x).abs();
            // The odometer reads the same position and step duration.
            let odometer = env.odometer().expect("locomotion envs have an odometer");
            assert_eq!(odometer.position, obs[0], "{id}");
            assert!((odometer.step_seconds - dt).abs() < 1e-9, "{id}");
        }
        assert!(moved > 0.0, "{id} moved");
    }
}

#[test]
fn rendered_frames_have_the_requested_size_and_show_something() {
    for id in TASKS.iter().chain(&["cartpole-v0", "pendulum-v0"]) {
        let env = seeded(id, 0);
        let frame = env.render(64, 48).unwrap_or_else(|| panic!("{id} renders"));
        assert_eq!(frame.len(), 64 * 48 * 3, "{id}");
        let colours: std::collections::BTreeSet<&[u8]> = frame.chunks(3).collect();
        assert!(colours.len() > 3, "{id}: only {} colours", colours.len());
    }
}

/// 100,000 random steps (autoreset included) stay finite, with bounded
/// velocities: observations beyond 100 would mean the physics blew up.
/// Two copies of 50,000 steps run on two threads, to keep the suite short.
fn stays_finite_and_bounded(id: &str) {
    std::thread::scope(|s| {
        for seed in [11, 12] {
            s.spawn(move || stays_finite_and_bounded_from(id, seed, 50_000));
        }
    });
}

fn stays_finite_and_bounded_from(id: &str, seed: u64, steps: usize) {
    let mut env = seeded(id, seed);
    let mut obs = vec![0.0; env.observation_space().dim()];
    let mut a = vec![0.0; env.action_space().dim()];
    let mut rng = Rng::new(seed);
    for t in 0..steps {
        a.iter_mut().for_each(|x| *x = rng.uniform_in(-1.0, 1.0));
        let s = env.step(&a, &mut obs);
        assert!(s.reward.is_finite(), "{id} step {t}: reward {}", s.reward);
        assert!(
            obs.iter().all(|o| o.is_finite() && o.abs() < 100.0),
            "{id} step {t}: {obs:?}"
        );
        if s.done() {
            env.reset(None, &mut obs);
        }
    }
}

// One test per task, so that they run in parallel.
#[test]
fn swimmer_100k_random_steps_stay_finite_and_bounded() {
    stays_finite_and_bounded("swimmer-v0");
}

#[test]
fn hopper_100k_random_steps_stay_finite_and_bounded() {
    stays_finite_and_bounded("hopper-v0");
}

#[test]
fn walker_100k_random_steps_stay_finite_and_bounded() {
    stays_finite_and_bounded("walker-v0");
}

#[test]
fn ant_100k_random_steps_stay_finite_and_bounded() {
    stays_finite_and_bounded("ant-v0");
}
