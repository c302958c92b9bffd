//! The vine method's foundation: a snapshot restored through the host
//! replays bit for bit — the same branch action gives the identical rollout,
//! in the same copy or in another one.

use harness::catalog::Catalog;
use harness::plugin::PluginLibrary;
use harness::run::{self, RunRequest};
use trustbench_plugin::{
    Actor, Algorithm, AlgorithmInfo, Error, Host, Learner, Result, Spaces, StepBuffers, kinds,
};

/// A plugin whose only iteration checks snapshot/restore and fails on any difference.
struct Brancher {
    obs_dim: usize,
}

impl Brancher {
    /// Roll copy `env` for 300 steps with a fixed action pattern; observations and rewards.
    fn rollout(&self, host: &mut Host, env: usize) -> Result<Vec<f64>> {
        let d = self.obs_dim;
        let (mut obs, mut r, mut te, mut tr) = (vec![0.0; d], [0.0], [0u8], [0u8]);
        let mut trace = Vec::new();
        for t in 0..300 {
            let action = [(t as f64 * 0.37).sin() * 2.0];
            host.step(
                env,
                &action,
                StepBuffers {
                    observations: &mut obs,
                    final_observations: None,
                    rewards: &mut r,
                    terminated: &mut te,
                    truncated: &mut tr,
                },
            )?;
            trace.extend_from_slice(&obs);
            trace.extend([r[0], te[0] as f64, tr[0] as f64]);
        }
        Ok(trace)
    }
}

impl Algorithm for Brancher {
    type Config = crate::common::NoKeys;
    fn info() -> AlgorithmInfo {
        AlgorithmInfo {
            id: "brancher",
            name: "Snapshot checker",
            version: "0",
            description: "restores and replays",
            observation_kinds: kinds::BOX,
            action_kinds: kinds::BOX,
        }
    }
    fn create(_: Self::Config, spaces: &Spaces, _: &Host) -> Result<Self> {
        Ok(Brancher {
            obs_dim: spaces.observation.dim(),
        })
    }
}

impl Learner for Brancher {
    fn train_iteration(&mut self, host: &mut Host) -> Result<()> {
        self.rollout(host, 0)?; // move away from the start state
        let id = host.snapshot(0)?;
        let first = self.rollout(host, 0)?;
        host.restore(0, id)?;
        let again = self.rollout(host, 0)?;
        host.restore(1, id)?;
        let elsewhere = self.rollout(host, 1)?;
        host.release_snapshot(id)?;
        if first != again || first != elsewhere {
            return Err(Error::new("a restored snapshot did not replay bit for bit"));
        }
        host.log("check/replayed", 1.0);
        Ok(())
    }

    fn actor(&mut self) -> &mut dyn Actor {
        self
    }
}

impl Actor for Brancher {
    fn act(&mut self, _: &[f64], _: bool, actions: &mut [f64]) -> Result<()> {
        actions.fill(0.0);
        Ok(())
    }
    fn save(&self) -> Result<Vec<u8>> {
        Ok(Vec::new())
    }
    fn load(&mut self, _: &[u8]) -> Result<()> {
        Ok(())
    }
}

trustbench_plugin::plugin_library!(fn brancher_entry, "test-brancher", "0", [Brancher]);

#[test]
fn restored_snapshots_replay_bit_for_bit_in_any_copy() {
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = Catalog::new(&[]).unwrap();
    catalog.prepend(PluginLibrary::builtin(brancher_entry).unwrap());
    let algorithm = catalog.find("brancher").unwrap();
    let req = RunRequest {
        config: algorithm.info.default_config.clone(),
        algorithm,
        env: trustbench_envs::resolve("pendulum").unwrap(),
        seed: 3,
        steps: 1_200,
        num_envs: 2,
        eval_every: 0,
        eval_episodes: 1,
        out_dir: dir.path().to_path_buf(),
        quiet: true,
        threads: 1,
    };
    let summary = run::execute(&req).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(summary.env_steps, 1_200, "four 300-step rollouts");
}
