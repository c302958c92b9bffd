//! N copies of one env stepped together, with per-copy seeds and autoreset.

use crate::{Env, EnvConfig, Step};
use trustbench_plugin::Space;
use trustbench_plugin::rng::derive_seed;

/// N copies of an env. Copy `i` of a vector built with `(seed, stream)` is
/// first reset with `derive_seed(seed, stream, i)`; later episodes continue
/// that copy's own random stream, so copies are independent and the whole
/// vector is reproducible from one seed.
///
/// Autoreset rule: when a step ends an episode, the copy is reset at once;
/// `obs` receives the new episode's first observation and, if given,
/// `final_obs` the last observation of the episode that ended.
pub struct VecEnv {
    copies: Vec<Box<dyn Env>>,
    observation_space: Space,
    action_space: Space,
}

impl VecEnv {
    /// `n` copies of `env`, seeded from `(seed, stream)`.
    pub fn new(env: &EnvConfig, n: usize, seed: u64, stream: u64) -> VecEnv {
        let mut first = Some(env.make());
        let shape = first.as_deref().expect("made above");
        let observation_space = shape.observation_space().clone();
        let action_space = shape.action_space().clone();
        let mut scratch = vec![0.0; observation_space.dim()];
        let copies = (0..n)
            .map(|i| {
                let mut copy = first.take().unwrap_or_else(|| env.make());
                copy.reset(Some(derive_seed(seed, stream, i as u64)), &mut scratch);
                copy
            })
            .collect();
        VecEnv {
            copies,
            observation_space,
            action_space,
        }
    }

    /// Number of copies.
    pub fn len(&self) -> usize {
        self.copies.len()
    }

    /// Whether there are no copies.
    pub fn is_empty(&self) -> bool {
        self.copies.is_empty()
    }

    /// Observation space of one copy.
    pub fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    /// Action space of one copy.
    pub fn action_space(&self) -> &Space {
        &self.action_space
    }

    /// Start a new episode of copy `i` (continuing its random stream).
    pub fn reset(&mut self, i: usize, obs: &mut [f64]) {
        self.copies[i].reset(None, obs);
    }

    /// Start a new episode of copy `i` from `(seed, stream)`, exactly as
    /// copy `i` of `VecEnv::new(env, n, seed, stream)` starts its first one
    /// (Gymnasium's `reset(seed=...)`: the copy's random stream restarts).
    pub fn reset_seeded(&mut self, i: usize, seed: u64, stream: u64, obs: &mut [f64]) {
        self.copies[i].reset(Some(derive_seed(seed, stream, i as u64)), obs);
    }

    /// Step copy `i`; on episode end, reset it (see the type's docs).
    pub fn step(
        &mut self,
        i: usize,
        action: &[f64],
        obs: &mut [f64],
        final_obs: Option<&mut [f64]>,
    ) -> Step {
        VecEnv::step_copy(self.copies[i].as_mut(), action, obs, final_obs)
    }

    /// Copies `range`, each alone, so a caller can step them on several
    /// threads (with [`VecEnv::step_copy`]).
    pub fn copies_mut(&mut self, range: std::ops::Range<usize>) -> &mut [Box<dyn Env>] {
        &mut self.copies[range]
    }

    /// What [`VecEnv::step`] does to one copy: step it and, on episode end,
    /// keep the final observation and reset it.
    pub fn step_copy(
        env: &mut dyn Env,
        action: &[f64],
        obs: &mut [f64],
        final_obs: Option<&mut [f64]>,
    ) -> Step {
        VecEnv::step_copy_with(env, action, obs, |_, last| {
            if let Some(f) = final_obs {
                f.copy_from_slice(last);
            }
        })
    }

    /// [`VecEnv::step_copy`] with what to keep of an ended episode left to
    /// `on_end`, called with the env and its last observation before the
    /// reset (a caller handing on [`Env::observation_bytes`] keeps those).
    pub fn step_copy_with(
        env: &mut dyn Env,
        action: &[f64],
        obs: &mut [f64],
        on_end: impl FnOnce(&dyn Env, &[f64]),
    ) -> Step {
        let step = env.step(action, obs);
        if step.done() {
            on_end(env, obs);
            env.reset(None, obs);
        }
        step
    }

    /// Copy `i`'s current observation as bytes (see
    /// [`Env::observation_bytes`]).
    pub fn observation_bytes(&self, i: usize) -> Option<&[u8]> {
        self.copies[i].observation_bytes()
    }

    /// A complete copy of copy `i`'s state.
    pub fn snapshot(&self, i: usize) -> Box<dyn Env> {
        self.copies[i].boxed_clone()
    }

    /// Put copy `i` back into `snapshot`'s state exactly (the snapshot stays
    /// usable for further restores).
    pub fn restore(&mut self, i: usize, snapshot: &dyn Env) {
        self.copies[i] = snapshot.boxed_clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve;

    fn rollout(v: &mut VecEnv, steps: usize) -> Vec<f64> {
        let dim = v.observation_space().dim();
        let mut obs = vec![0.0; dim];
        let mut trace = Vec::new();
        for t in 0..steps {
            for i in 0..v.len() {
                let a = [((t + i) % 2) as f64];
                let s = v.step(i, &a, &mut obs, None);
                trace.extend_from_slice(&obs);
                trace.push(s.reward);
            }
        }
        trace
    }

    #[test]
    fn same_seed_same_trajectories_and_copies_differ() {
        let spec = resolve("cartpole").unwrap();
        let a = rollout(&mut VecEnv::new(&spec, 3, 5, 0), 300);
        let b = rollout(&mut VecEnv::new(&spec, 3, 5, 0), 300);
        assert_eq!(a, b);
        let c = rollout(&mut VecEnv::new(&spec, 3, 6, 0), 300);
        assert_ne!(a, c);
        let mut reseeded = VecEnv::new(&spec, 3, 6, 0);
        let mut obs = vec![0.0; 4];
        for i in 0..3 {
            reseeded.reset_seeded(i, 5, 0, &mut obs);
        }
        assert_eq!(
            rollout(&mut reseeded, 300),
            a,
            "reset_seeded is a new vector"
        );
        let mut v = VecEnv::new(&spec, 2, 5, 0);
        let (mut o0, mut o1) = (vec![0.0; 4], vec![0.0; 4]);
        v.reset(0, &mut o0);
        v.reset(1, &mut o1);
        assert_ne!(o0, o1, "copies get different seeds");
    }

    #[test]
    fn autoreset_reports_the_final_observation() {
        let spec = resolve("cartpole").unwrap();
        let mut v = VecEnv::new(&spec, 1, 0, 0);
        let (mut obs, mut fin) = (vec![0.0; 4], vec![f64::NAN; 4]);
        // Always pushing right topples the pole within a few dozen steps.
        for _ in 0..200 {
            let s = v.step(0, &[1.0], &mut obs, Some(&mut fin));
            if s.terminated {
                assert!(
                    fin[2].abs() > 0.2 || fin[0].abs() > 2.4,
                    "final obs is the terminal state: {fin:?}"
                );
                assert!(obs[2].abs() <= 0.05, "obs is a fresh start: {obs:?}");
                return;
            }
        }
        panic!("pole never fell");
    }

    #[test]
    fn byte_observations_are_the_bytes_of_the_values_through_episode_ends() {
        use trustbench_plugin::abi::TB_BYTE_OBSERVATION_SCALE;
        let options = [("view", "pixels"), ("preset", "2015"), ("max_frames", "60")];
        let options: Vec<(String, String)> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let spec = crate::resolve_spec("breakout").unwrap();
        let mut v = VecEnv::new(&EnvConfig::new(spec, &options).unwrap(), 1, 2, 0);
        let dim = v.observation_space().dim();
        let (mut obs, mut last) = (vec![0.0; dim], vec![0.0; dim]);
        let as_values = |bytes: &[u8]| -> Vec<f64> {
            let scaled = bytes
                .iter()
                .map(|&b| f64::from(b) * TB_BYTE_OBSERVATION_SCALE);
            scaled.collect()
        };
        let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<u64>>();
        let mut ends = 0;
        // 60 frames at frame skip 4: an episode ends (truncated) every 15 steps.
        for t in 0..40 {
            let copy = &mut v.copies_mut(0..1)[0];
            let mut final_bytes = None;
            let step =
                VecEnv::step_copy_with(copy.as_mut(), &[(t % 4) as f64], &mut obs, |e, l| {
                    final_bytes = e.observation_bytes().map(<[u8]>::to_vec);
                    last.copy_from_slice(l);
                });
            if step.done() {
                ends += 1;
                assert_eq!(bits(&as_values(&final_bytes.unwrap())), bits(&last), "{t}");
            }
            assert_eq!(
                bits(&as_values(v.observation_bytes(0).unwrap())),
                bits(&obs)
            );
        }
        assert_eq!(ends, 2);
        let compact = VecEnv::new(&resolve("breakout").unwrap(), 1, 2, 0);
        assert!(
            compact.observation_bytes(0).is_none(),
            "the compact view is reals"
        );
        let cartpole = VecEnv::new(&resolve("cartpole").unwrap(), 1, 2, 0);
        assert!(cartpole.observation_bytes(0).is_none());
    }

    #[test]
    fn restore_replays_bit_for_bit_and_can_be_reused() {
        for id in ["cartpole", "pendulum"] {
            let spec = resolve(id).unwrap();
            let mut v = VecEnv::new(&spec, 1, 9, 0);
            let dim = v.observation_space().dim();
            let mut obs = vec![0.0; dim];
            let act = |t: usize| {
                if id == "cartpole" {
                    [(t % 2) as f64]
                } else {
                    [((t as f64) * 0.7).sin() * 2.0]
                }
            };
            for t in 0..37 {
                v.step(0, &act(t), &mut obs, None);
            }
            let snap = v.snapshot(0);
            let run = |v: &mut VecEnv| {
                let mut obs = vec![0.0; dim];
                (0..600)
                    .flat_map(|t| {
                        let s = v.step(0, &act(t), &mut obs, None);
                        let mut row = obs.clone();
                        row.extend([
                            s.reward,
                            s.terminated as u8 as f64,
                            s.truncated as u8 as f64,
                        ]);
                        row
                    })
                    .collect::<Vec<f64>>()
            };
            let first = run(&mut v);
            v.restore(0, snap.as_ref());
            let second = run(&mut v);
            v.restore(0, snap.as_ref());
            let third = run(&mut v);
            assert_eq!(first, second, "{id}");
            assert_eq!(first, third, "{id}");
        }
    }
}
