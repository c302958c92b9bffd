//! Proximal Policy Optimization with the clipped surrogate (Schulman et al.
//! 2017), TRPO's first-order successor, as a trustbench plugin.
//!
//! Instead of a hard KL constraint, each of `epochs` passes over the batch
//! takes Adam steps on minibatches of
//! L_clip(θ) = mean(min(r·A, clip(r, 1 − ε, 1 + ε)·A)), r = π_θ(a|s)/π_old(a|s),
//! which removes the incentive to move r outside [1 − ε, 1 + ε]. Optionally
//! the epochs stop early once the approximate KL passes 1.5 × `target_kl`.
#![warn(missing_docs)]

use serde::{Deserialize, Serialize};
use trustbench_pg::{ActorCritic, PgConfig};
use trustbench_plugin::{
    Actor, Algorithm, AlgorithmInfo, Host, Learner, Result, Spaces, check_range, kinds,
};
use trustbench_policy::vector::norm;
use trustbench_policy::{
    Adam, ObservationBuffer, Observations, PolicyWorkspace, normalize_advantages,
};

/// PPO's hyperparameters (defaults as CleanRL's `ppo_continuous_action`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Sampling, discounting, networks, value baseline.
    #[serde(flatten)]
    pub pg: PgConfig,
    /// ε, the clip range of the probability ratio.
    pub clip: f64,
    /// Passes over each batch.
    pub epochs: usize,
    /// States per Adam step.
    pub minibatch: usize,
    /// Adam's step size.
    pub learning_rate: f64,
    /// Rescale each minibatch gradient to at most this norm (stability).
    pub max_grad_norm: f64,
    /// Stop the epochs once the approximate KL exceeds 1.5 × this; `null` never.
    pub target_kl: Option<f64>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            pg: PgConfig {
                steps_per_iteration: 2048,
                lambda: 0.95,
                hidden_sizes: vec![64, 64],
                vf_epochs: 10,
                vf_minibatch: 64,
                vf_learning_rate: 3e-4,
                ..PgConfig::default()
            },
            clip: 0.2,
            epochs: 10,
            minibatch: 64,
            learning_rate: 3e-4,
            max_grad_norm: 0.5,
            target_kl: None,
        }
    }
}

/// The PPO plugin.
pub struct Ppo {
    config: Config,
    ac: ActorCritic,
    adam: Adam,
    ws: PolicyWorkspace,
}

/// Rows `idx` of a row-major table with `width` columns, gathered.
/// Rows `idx` of `obs` (`width` values each), in that order.
fn gather_obs(obs: Observations<'_>, width: usize, idx: &[usize]) -> ObservationBuffer {
    let mut out = ObservationBuffer::new(matches!(obs, Observations::Bytes(_)));
    for &i in idx {
        out.extend(obs.slice(i * width, (i + 1) * width));
    }
    out
}

fn gather(table: &[f64], width: usize, idx: &[usize], out: &mut Vec<f64>) {
    out.clear();
    for &i in idx {
        out.extend_from_slice(&table[i * width..(i + 1) * width]);
    }
}

impl Ppo {
    /// One Adam step on minibatch `idx`; returns its mean approximate KL
    /// `mean(log π_old − log π)` and the fraction of clipped ratios.
    fn minibatch_step(
        &mut self,
        obs: Observations<'_>,
        actions: &[f64],
        adv: &[f64],
        old_logp: &[f64],
        idx: &[usize],
    ) -> (f64, f64) {
        let agent = &mut self.ac.agent;
        let family = agent.policy.distribution();
        let (d, a, o) = (family.dist_len(), family.action_len(), agent.obs_len());
        let mb_obs = gather_obs(obs, o, idx);
        let mut mb_act = Vec::new();
        gather(actions, a, idx, &mut mb_act);
        let m = idx.len() as f64;
        let dist = agent
            .policy
            .forward(&agent.params, mb_obs.view(), idx.len(), &mut self.ws)
            .to_vec();
        let mut d_dist = vec![0.0; dist.len()];
        let (mut kl, mut clipped) = (0.0, 0.0);
        for (k, &i) in idx.iter().enumerate() {
            let (dist_k, act_k) = (&dist[k * d..(k + 1) * d], &mb_act[k * a..(k + 1) * a]);
            let logp = family.log_prob(dist_k, act_k);
            let ratio = libm::exp(logp - old_logp[i]);
            kl += old_logp[i] - logp;
            let eps = self.config.clip;
            // ∂/∂d of −min(r·A, clip(r)·A): zero where the clipped term is the smaller (inactive gradient).
            let active =
                !((adv[i] > 0.0 && ratio > 1.0 + eps) || (adv[i] < 0.0 && ratio < 1.0 - eps));
            let g = &mut d_dist[k * d..(k + 1) * d];
            if active {
                family.log_prob_grad(dist_k, act_k, g);
                g.iter_mut().for_each(|x| *x *= -ratio * adv[i] / m);
            } else {
                clipped += 1.0;
            }
        }
        let mut grad = vec![0.0; agent.params.len()];
        agent.policy.vjp(
            &agent.params,
            mb_obs.view(),
            &mut self.ws,
            &d_dist,
            &mut grad,
        );
        let gn = norm(&grad);
        if gn > self.config.max_grad_norm {
            grad.iter_mut()
                .for_each(|x| *x *= self.config.max_grad_norm / gn);
        }
        self.adam.step(&mut agent.params, &grad);
        (kl / m, clipped / m)
    }
}

impl Algorithm for Ppo {
    type Config = Config;

    fn info() -> AlgorithmInfo {
        AlgorithmInfo {
            id: "ppo",
            name: "Proximal Policy Optimization (clipped)",
            version: "1.0.0",
            description: "Clipped surrogate, minibatch Adam epochs, optional KL early stop (Schulman et al. 2017)",
            observation_kinds: kinds::BOX,
            action_kinds: kinds::ANY,
        }
    }

    fn create(c: Config, spaces: &Spaces, host: &Host) -> Result<Self> {
        check_range("clip", c.clip, 1e-6, 10.0)?;
        check_range("epochs", c.epochs, 1, 10_000)?;
        check_range("minibatch", c.minibatch, 1, 100_000_000)?;
        check_range("learning_rate", c.learning_rate, 1e-9, 10.0)?;
        check_range("max_grad_norm", c.max_grad_norm, 1e-9, 1e9)?;
        if let Some(kl) = c.target_kl {
            check_range("target_kl", kl, 1e-9, 10.0)?;
        }
        let ac = ActorCritic::new(&c.pg, spaces, host)?;
        let adam = Adam::new(ac.agent.params.len(), c.learning_rate);
        Ok(Ppo {
            config: c,
            ac,
            adam,
            ws: PolicyWorkspace::new(),
        })
    }
}

impl Learner for Ppo {
    fn train_iteration(&mut self, host: &mut Host) -> Result<()> {
        // 1. Sample; advantages; freeze log π_old.
        let Some(rollout) = self.ac.rollout(host)? else {
            return Ok(());
        };
        let mut adv = rollout.advantages.clone();
        normalize_advantages(&mut adv);
        let (obs, actions) = (rollout.batch.obs.view(), &rollout.batch.actions);
        let n = adv.len();
        let agent = &mut self.ac.agent;
        agent.policy.forward(&agent.params, obs, n, &mut self.ws);
        let mut old_logp = vec![0.0; n];
        agent.policy.log_prob(&self.ws, actions, &mut old_logp);
        let entropy = agent.mean_entropy(obs);
        // 2. Epochs of shuffled minibatches on the clipped surrogate.
        let mut order: Vec<usize> = (0..n).collect();
        let (mut kl, mut clipfrac, mut epochs_done) = (0.0, 0.0, 0);
        'epochs: for _ in 0..self.config.epochs {
            for i in (1..n).rev() {
                order.swap(i, self.ac.rng.below(i as u64 + 1) as usize);
            }
            epochs_done += 1;
            for idx in order.chunks(self.config.minibatch) {
                (kl, clipfrac) = self.minibatch_step(obs, actions, &adv, &old_logp, idx);
                if self.config.target_kl.is_some_and(|t| kl > 1.5 * t) {
                    break 'epochs;
                }
            }
        }
        host.log("train/approx_kl", kl);
        host.log("train/clip_fraction", clipfrac);
        host.log("train/entropy", entropy);
        host.log("train/epochs", epochs_done as f64);
        // 3. Refit the baseline.
        self.ac.refit_baseline(&rollout, host);
        Ok(())
    }

    fn actor(&mut self) -> &mut dyn Actor {
        &mut self.ac
    }
}

trustbench_plugin::plugin_library!(pub fn plugin_entry, "trustbench-ppo", env!("CARGO_PKG_VERSION"), [Ppo]);
