//! The vine sampling scheme (Schulman et al. 2015, Section 5.2).
//!
//! 1. **Trunk**: roll every env copy `vine_trunk_steps` steps with π_old,
//!    snapshotting (through the host) `vine_states` visited states chosen
//!    uniformly at random. The trunk **continues across iterations**: each
//!    copy resumes where the previous iteration's trunk left it (restored
//!    from a snapshot, since the branches reuse the copies), and resets only
//!    when its episode ends. So over iterations the rollout set covers whole
//!    episodes in proportion to how often π visits each part of them, as the
//!    paper's whole-trajectory trunks do — not only the first
//!    `vine_trunk_steps` of every episode.
//! 2. **Branches**: from each chosen state sₙ take K actions aₙ,ₖ —
//!    continuous: sampled from π_old; discrete: every action — and follow
//!    each with a rollout of `vine_rollout_length` steps of π_old. The state
//!    is restored exactly (physics *and* env RNG) before every branch, and
//!    the policy's sampling stream after the branch action is the same for
//!    all K branches of a state: **common random numbers**, so the K returns
//!    differ only because of the branched action. Q̂(sₙ, aₙ,ₖ) is the
//!    discounted return of the branch (cut at the rollout length or at the
//!    episode's end).
//! 3. **Estimator**: continuous — advantages Aₙ,ₖ = Q̂ₙ,ₖ − mean_k Q̂ₙ,ₖ,
//!    whose ratio surrogate has, at θ_old, the gradient of the paper's
//!    self-normalised estimator Σₖ wₖQ̂ₖ / Σₖ wₖ (wₖ = π_θ/π_old); the line
//!    search evaluates the unnormalised ratio form. Discrete — the paper's
//!    Σₐ π_θ(a|sₙ) Q̂(sₙ, a), written as a ratio surrogate over all actions with
//!    Aₙ,ₐ = K · π_old(a|sₙ) · (Q̂ₙ,ₐ − Σₐ' π_old(a'|sₙ) Q̂ₙ,ₐ').
//!
//! Paper settings: rollouts of 50 (Swimmer) / 100 (Hopper, Walker) steps,
//! 4 actions per state.

use serde::{Deserialize, Serialize};
use trustbench_pg::{Agent, streams};
use trustbench_plugin::rng::{Rng, derive_seed};
use trustbench_plugin::{Error, Host, Result, StepBuffers, StepOutcome, check_range};

/// The vine's hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VineConfig {
    /// Trunk length per env copy and iteration.
    pub vine_trunk_steps: usize,
    /// States branched from per iteration (the rollout set).
    pub vine_states: usize,
    /// K, actions per state for continuous actions (paper: 4); discrete
    /// action spaces always branch on every action.
    pub vine_actions: usize,
    /// Steps of each branch rollout (paper: 50 Swimmer, 100 Hopper/Walker).
    pub vine_rollout_length: usize,
}

impl Default for VineConfig {
    fn default() -> VineConfig {
        VineConfig {
            vine_trunk_steps: 200,
            vine_states: 100,
            vine_actions: 4,
            vine_rollout_length: 100,
        }
    }
}

impl VineConfig {
    /// Check ranges.
    pub fn validate(&self) -> Result<()> {
        check_range("vine_trunk_steps", self.vine_trunk_steps, 1, 1_000_000)?;
        check_range("vine_states", self.vine_states, 1, 1_000_000)?;
        check_range("vine_actions", self.vine_actions, 2, 1000)?;
        check_range(
            "vine_rollout_length",
            self.vine_rollout_length,
            1,
            1_000_000,
        )
    }
}

/// Where every env copy's trunk stopped, to resume it next iteration.
struct TrunkEnd {
    /// One snapshot per copy.
    snapshots: Vec<u64>,
    /// The copies' next (raw) observations.
    raw: Vec<f64>,
}

/// The vine sampler: its settings and the trunk carried between iterations.
pub struct Vine {
    config: VineConfig,
    trunk_end: Option<TrunkEnd>,
}

/// One branched-from state.
struct Root {
    obs: Vec<f64>,
    snapshot: u64,
}

/// The samples of one vine iteration, ready for the natural update.
pub struct VineBatch {
    /// Normalised states, one row per (state, action).
    pub obs: Vec<f64>,
    /// The branched actions.
    pub actions: Vec<f64>,
    /// The advantage estimates of the module docs.
    pub advantages: Vec<f64>,
}

/// Step copies `0..count` (all of `out`'s rows) once; false when the budget is spent.
fn step(
    host: &mut Host,
    actions: &[f64],
    obs: &mut [f64],
    rewards: &mut [f64],
    term: &mut [u8],
    trunc: &mut [u8],
) -> Result<bool> {
    let outcome = host.step(
        0,
        actions,
        StepBuffers {
            observations: obs,
            final_observations: None,
            rewards,
            terminated: term,
            truncated: trunc,
        },
    )?;
    Ok(outcome == StepOutcome::Stepped)
}

impl Vine {
    /// A sampler whose first trunk starts from fresh episodes.
    pub fn new(config: VineConfig) -> Vine {
        Vine {
            config,
            trunk_end: None,
        }
    }

    /// Run one vine iteration's sampling (steps 1–2 and the estimator).
    pub fn sample(
        &mut self,
        host: &mut Host,
        agent: &mut Agent,
        gamma: f64,
        iteration: u64,
    ) -> Result<Option<VineBatch>> {
        let mut choice = Rng::new(derive_seed(host.seed(), streams::VINE_CHOICE, iteration));
        let roots = self.trunk(host, agent, &mut choice)?;
        branch(host, agent, &self.config, roots, gamma, iteration)
    }

    /// Step 1: the trunk, resumed from the last iteration's end, returning
    /// the snapshotted roots.
    fn trunk(&mut self, host: &mut Host, agent: &mut Agent, choice: &mut Rng) -> Result<Vec<Root>> {
        let (n, d) = (host.num_envs(), agent.obs_len());
        let a = agent.policy.distribution().action_len();
        let t_max = self.config.vine_trunk_steps;
        // Which (time, copy) pairs become roots: `vine_states` distinct draws.
        let total = t_max * n;
        let wanted = self.config.vine_states.min(total);
        let mut picks: Vec<usize> = (0..total).collect();
        for i in 0..wanted {
            let j = i + choice.below((total - i) as u64) as usize;
            picks.swap(i, j);
        }
        let mut chosen = vec![false; total];
        picks[..wanted].iter().for_each(|&p| chosen[p] = true);

        let mut raw = vec![0.0; n * d];
        match self.trunk_end.take() {
            Some(end) => {
                for (e, &snapshot) in end.snapshots.iter().enumerate() {
                    host.restore(e, snapshot)?;
                    host.release_snapshot(snapshot)?;
                }
                raw = end.raw;
            }
            None => host.reset(None, &mut raw)?,
        }
        let (mut norm, mut actions) = (vec![0.0; n * d], vec![0.0; n * a]);
        let (mut rewards, mut term, mut trunc) = (vec![0.0; n], vec![0u8; n], vec![0u8; n]);
        let mut roots = Vec::with_capacity(wanted);
        for t in 0..t_max {
            if let Some(s) = &mut agent.normalizer {
                s.update(&raw, n);
            }
            norm.copy_from_slice(&raw);
            agent.normalize(&mut norm);
            for e in 0..n {
                if chosen[t * n + e] {
                    let snapshot = host.snapshot(e)?;
                    roots.push(Root {
                        obs: norm[e * d..(e + 1) * d].to_vec(),
                        snapshot,
                    });
                }
            }
            agent.act_normalized(&norm, false, &mut actions);
            if !step(
                host,
                &actions,
                &mut raw,
                &mut rewards,
                &mut term,
                &mut trunc,
            )? {
                break;
            }
        }
        if roots.is_empty() && host.steps_remaining() > 0 {
            return Err(Error::new("vine: no state was chosen from the trunk"));
        }
        let snapshots = (0..n).map(|e| host.snapshot(e)).collect::<Result<_>>()?;
        self.trunk_end = Some(TrunkEnd { snapshots, raw });
        Ok(roots)
    }
}

/// Step 2 and the estimator: branch from every root, then build the rows.
fn branch(
    host: &mut Host,
    agent: &mut Agent,
    config: &VineConfig,
    roots: Vec<Root>,
    gamma: f64,
    iteration: u64,
) -> Result<Option<VineBatch>> {
    let (n, d) = (host.num_envs(), agent.obs_len());
    let a = agent.policy.distribution().action_len();
    let discrete = match agent.policy.distribution() {
        trustbench_policy::ActionDistribution::Categorical { actions } => Some(actions),
        trustbench_policy::ActionDistribution::DiagGaussian { .. } => None,
    };
    let k = discrete.unwrap_or(config.vine_actions);
    // The branch actions of every root.
    let mut branch_actions = vec![0.0; roots.len() * k * a];
    for (r, root) in roots.iter().enumerate() {
        for j in 0..k {
            let out = &mut branch_actions[(r * k + j) * a..(r * k + j + 1) * a];
            match discrete {
                Some(_) => out[0] = j as f64,
                None => agent.act_normalized(&root.obs, false, out),
            }
        }
    }
    // Branch rollouts, up to n at a time (one env copy each).
    let branches: Vec<(usize, usize)> = (0..roots.len())
        .flat_map(|r| (0..k).map(move |j| (r, j)))
        .collect();
    let mut q = vec![f64::NAN; branches.len()];
    let (mut obs, mut rewards, mut term, mut trunc) =
        (vec![0.0; n * d], vec![0.0; n], vec![0u8; n], vec![0u8; n]);
    let mut actions = vec![0.0; n * a];
    'chunks: for (c, chunk) in branches.chunks(n).enumerate() {
        let m = chunk.len();
        let mut rngs = Vec::with_capacity(m);
        for (i, &(r, j)) in chunk.iter().enumerate() {
            host.restore(i, roots[r].snapshot)?;
            obs[i * d..(i + 1) * d].copy_from_slice(&roots[r].obs);
            actions[i * a..(i + 1) * a]
                .copy_from_slice(&branch_actions[(r * k + j) * a..(r * k + j + 1) * a]);
            rngs.push(Rng::new(derive_seed(
                host.seed(),
                streams::VINE_BRANCH,
                iteration << 32 | r as u64,
            )));
        }
        let (mut ret, mut discount, mut live) = (vec![0.0; m], 1.0, vec![true; m]);
        for t in 0..config.vine_rollout_length {
            if t > 0 {
                agent.normalize(&mut obs[..m * d]);
                agent.sample_with(&obs[..m * d], &mut rngs, &mut actions[..m * a]);
            }
            if !step(
                host,
                &actions[..m * a],
                &mut obs[..m * d],
                &mut rewards[..m],
                &mut term[..m],
                &mut trunc[..m],
            )? {
                break 'chunks;
            }
            for i in 0..m {
                if live[i] {
                    ret[i] += discount * rewards[i];
                    live[i] = term[i] == 0 && trunc[i] == 0;
                }
            }
            discount *= gamma;
        }
        q[c * n..c * n + m].copy_from_slice(&ret);
    }
    for root in &roots {
        host.release_snapshot(root.snapshot)?;
    }
    // Keep roots whose K branches all finished; build the estimator's rows.
    let mut batch = VineBatch {
        obs: Vec::new(),
        actions: Vec::new(),
        advantages: Vec::new(),
    };
    let mut old_p = vec![0.0; k];
    for (r, root) in roots.iter().enumerate() {
        let qs = &q[r * k..(r + 1) * k];
        if qs.iter().any(|v| v.is_nan()) {
            continue;
        }
        let acts = &branch_actions[r * k * a..(r + 1) * k * a];
        let repeated: Vec<f64> = (0..k).flat_map(|_| root.obs.iter().copied()).collect();
        match discrete {
            Some(_) => {
                agent.log_prob(&repeated, acts, &mut old_p);
                old_p.iter_mut().for_each(|l| *l = libm::exp(*l));
                let baseline: f64 = old_p.iter().zip(qs).map(|(p, q)| p * q).sum();
                batch.advantages.extend(
                    old_p
                        .iter()
                        .zip(qs)
                        .map(|(p, q)| k as f64 * p * (q - baseline)),
                );
            }
            None => {
                let mean = qs.iter().sum::<f64>() / k as f64;
                batch.advantages.extend(qs.iter().map(|q| q - mean));
            }
        }
        batch.obs.extend_from_slice(&repeated);
        batch.actions.extend_from_slice(acts);
    }
    Ok((!batch.advantages.is_empty()).then_some(batch))
}
