//! The vine sampling scheme (Schulman et al. 2015, Section 5.2).
//!
//! 1. **Trunk**: roll every env copy `vine_trunk_steps` steps with π_old,
//!    snapshotting (through the host) `vine_states` visited states chosen
//!    uniformly at random. The observation normaliser is **frozen** for the
//!    whole iteration: roots, branches and the update see the statistics of
//!    before the trunk, and the trunk's states are added to them only after
//!    the branches (so a root and the branches from it are normalised
//!    alike). The trunk **continues across iterations**: each
//!    copy resumes where the previous iteration's trunk left it (restored
//!    from a snapshot, since the branches reuse the copies), and resets only
//!    when its episode ends. So over iterations the rollout set covers whole
//!    episodes in proportion to how often π visits each part of them, as the
//!    paper's whole-trajectory trunks do — not only the first
//!    `vine_trunk_steps` of every episode.
//! 2. **Branches**: from each chosen state sₙ take K = `vine_actions`
//!    actions aₙ,ₖ — continuous: sampled from π_old (q = π_old); discrete:
//!    K distinct actions drawn uniformly (q uniform, as the paper's Atari
//!    runs), or every action when K ≥ |A| — and follow
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
//!    self-normalised estimator with q uniform, Lₙ(θ) = Σₖ π_θ(aₖ|sₙ) Q̂ₖ /
//!    Σₖ π_θ(aₖ|sₙ) (the weights π_θ/q, q's constant cancelling; with every
//!    action, the denominator is 1 and it is the paper's Σₐ π_θ(a|sₙ)
//!    Q̂(sₙ, a)), written as a ratio surrogate over the K rows with
//!    Aₙ,ₖ = K · pₖ/P · (Q̂ₖ − Σⱼ pⱼ Q̂ⱼ / P), pₖ = π_old(aₖ|sₙ), P = Σₖ pₖ:
//!    its gradient at θ_old is exactly ∇Lₙ ([`discrete_advantages`]).
//! 4. **Fisher**: the natural step's Fisher-vector products use
//!    `vine_fvp_fraction` of the rows (default every row; single path's
//!    `fvp_fraction` does not apply): at the paper's 2,500 rows they cost
//!    little beside the 266k env steps of an iteration, and a 10 %
//!    subsample (62 states) let the damping dominate xᵀ(F + λI)x, so the
//!    step β = √(2δ / xᵀ(F + λI)x) fell short of the KL bound.
//!
//! Paper settings (Table 2; `harness reproduce` runs them from the quick
//! scale up): 625 states (125 on Swimmer) × 4 actions, rollouts of 100
//! (Swimmer: 50) steps, trunks of 16 × 1000 steps. The defaults here are
//! smaller (100 states, 200 trunk steps per copy) so a vine run is quick.

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
    /// K, actions per state (paper: 4): sampled from π_old for continuous
    /// actions; for discrete ones, K distinct actions drawn uniformly, or
    /// every action when K ≥ their number.
    pub vine_actions: usize,
    /// Steps of each branch rollout (paper: 50 Swimmer, 100 Hopper/Walker).
    pub vine_rollout_length: usize,
    /// Share of the vine's rows in the Fisher-vector products (module docs,
    /// step 4).
    pub vine_fvp_fraction: f64,
}

impl Default for VineConfig {
    fn default() -> VineConfig {
        VineConfig {
            vine_trunk_steps: 200,
            vine_states: 100,
            vine_actions: 4,
            vine_rollout_length: 100,
            vine_fvp_fraction: 1.0,
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
        )?;
        check_range("vine_fvp_fraction", self.vine_fvp_fraction, 1e-6, 1.0)
    }
}

/// The states a trunk visited and the roots chosen among them.
struct Trunk {
    /// Raw observations, `n` copies per step, added to the normaliser
    /// once the iteration's branches are done.
    visited: Vec<f64>,
    roots: Vec<Root>,
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
        let trunk = self.trunk(host, agent, &mut choice)?;
        let batch = branch(
            host,
            agent,
            &self.config,
            trunk.roots,
            gamma,
            iteration,
            &mut choice,
        )?;
        let row = host.num_envs() * agent.obs_len();
        for step in trunk.visited.chunks(row) {
            agent.update_statistics(step, host.num_envs());
        }
        agent.begin_batch();
        Ok(batch)
    }

    /// Step 1: the trunk, resumed from the last iteration's end, returning
    /// the snapshotted roots.
    fn trunk(&mut self, host: &mut Host, agent: &mut Agent, choice: &mut Rng) -> Result<Trunk> {
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
        let mut visited = Vec::with_capacity(t_max * n * d);
        for t in 0..t_max {
            visited.extend_from_slice(&raw);
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
        Ok(Trunk { visited, roots })
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
    choice: &mut Rng,
) -> Result<Option<VineBatch>> {
    let discrete = match agent.policy.distribution() {
        trustbench_policy::ActionDistribution::Categorical { actions } => Some(actions),
        trustbench_policy::ActionDistribution::DiagGaussian { .. } => None,
    };
    let k = discrete.map_or(config.vine_actions, |m| m.min(config.vine_actions));
    let branched = Branched {
        actions: branch_actions(agent, &roots, k, discrete, choice),
        k,
    };
    let rollout = BranchRollout {
        length: config.vine_rollout_length,
        gamma,
        iteration,
    };
    let q = rollouts(host, agent, &roots, &branched, &rollout)?;
    for root in &roots {
        host.release_snapshot(root.snapshot)?;
    }
    Ok(rows(agent, &roots, &branched, &q, discrete.is_some()))
}

/// The K actions branched from each root, root after root (`k · a` values
/// each).
struct Branched {
    actions: Vec<f64>,
    k: usize,
}

/// How a branch is rolled out: its length, the discount, and the
/// iteration (part of each branch's seed).
struct BranchRollout {
    length: usize,
    gamma: f64,
    iteration: u64,
}

/// The branch actions of every root: for `discrete` actions (`m` of them)
/// every action in order when `k == m`, else `k` distinct ones drawn
/// uniformly by `choice` (a partial Fisher–Yates shuffle); for continuous
/// actions `k` samples of the policy.
fn branch_actions(
    agent: &mut Agent,
    roots: &[Root],
    k: usize,
    discrete: Option<usize>,
    choice: &mut Rng,
) -> Vec<f64> {
    let a = agent.policy.distribution().action_len();
    let mut branch_actions = vec![0.0; roots.len() * k * a];
    let mut all: Vec<usize> = (0..discrete.unwrap_or(0)).collect();
    for (r, root) in roots.iter().enumerate() {
        let out = &mut branch_actions[r * k * a..(r + 1) * k * a];
        match discrete {
            // Every action, in order.
            Some(m) if k == m => out.iter_mut().enumerate().for_each(|(j, x)| *x = j as f64),
            // K distinct actions, uniformly (a partial Fisher–Yates shuffle).
            Some(m) => {
                for j in 0..k {
                    let pick = j + choice.below((m - j) as u64) as usize;
                    all.swap(j, pick);
                    out[j] = all[j] as f64;
                }
            }
            None => {
                for j in 0..k {
                    agent.act_normalized(&root.obs, false, &mut out[j * a..(j + 1) * a]);
                }
            }
        }
    }
    branch_actions
}

/// Q̂ of every branch (root-major), rolled out up to `n` at a time (one
/// env copy each) with common random numbers; NaN for the branches the
/// budget left unfinished.
fn rollouts(
    host: &mut Host,
    agent: &mut Agent,
    roots: &[Root],
    branched: &Branched,
    rollout: &BranchRollout,
) -> Result<Vec<f64>> {
    let (n, d) = (host.num_envs(), agent.obs_len());
    let a = agent.policy.distribution().action_len();
    let k = branched.k;
    let branches: Vec<(usize, usize)> = (0..roots.len())
        .flat_map(|r| (0..k).map(move |j| (r, j)))
        .collect();
    let mut q = vec![f64::NAN; branches.len()];
    let (mut obs, mut rewards, mut term, mut trunc) =
        (vec![0.0; n * d], vec![0.0; n], vec![0u8; n], vec![0u8; n]);
    let mut actions = vec![0.0; n * a];
    for (c, chunk) in branches.chunks(n).enumerate() {
        let m = chunk.len();
        let mut rngs = Vec::with_capacity(m);
        for (i, &(r, j)) in chunk.iter().enumerate() {
            host.restore(i, roots[r].snapshot)?;
            obs[i * d..(i + 1) * d].copy_from_slice(&roots[r].obs);
            actions[i * a..(i + 1) * a]
                .copy_from_slice(&branched.actions[(r * k + j) * a..(r * k + j + 1) * a]);
            rngs.push(Rng::new(derive_seed(
                host.seed(),
                streams::VINE_BRANCH,
                rollout.iteration << 32 | r as u64,
            )));
        }
        let (mut ret, mut discount, mut live) = (vec![0.0; m], 1.0, vec![true; m]);
        for t in 0..rollout.length {
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
                return Ok(q);
            }
            for i in 0..m {
                if live[i] {
                    ret[i] += discount * rewards[i];
                    live[i] = term[i] == 0 && trunc[i] == 0;
                }
            }
            discount *= rollout.gamma;
        }
        q[c * n..c * n + m].copy_from_slice(&ret);
    }
    Ok(q)
}

/// The estimator's rows: each root whose K branches all finished, its K
/// actions and their advantages (the self-normalised estimator for
/// `discrete` actions, Q̂ minus the mean Q̂ for continuous ones).
fn rows(
    agent: &mut Agent,
    roots: &[Root],
    branched: &Branched,
    q: &[f64],
    discrete: bool,
) -> Option<VineBatch> {
    let a = agent.policy.distribution().action_len();
    let k = branched.k;
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
        let acts = &branched.actions[r * k * a..(r + 1) * k * a];
        let repeated: Vec<f64> = (0..k).flat_map(|_| root.obs.iter().copied()).collect();
        if discrete {
            agent.log_prob(&repeated, acts, &mut old_p);
            old_p.iter_mut().for_each(|l| *l = libm::exp(*l));
            batch.advantages.extend(discrete_advantages(&old_p, qs));
        } else {
            let mean = qs.iter().sum::<f64>() / k as f64;
            batch.advantages.extend(qs.iter().map(|q| q - mean));
        }
        batch.obs.extend_from_slice(&repeated);
        batch.actions.extend_from_slice(acts);
    }
    (!batch.advantages.is_empty()).then_some(batch)
}

/// The discrete estimator's advantages (module docs, step 3) for one state:
/// `p` are π_old of its K branched actions, `q` their Q̂. With every action
/// (Σ p = 1) this is K · pₖ · (Q̂ₖ − Σⱼ pⱼ Q̂ⱼ).
pub fn discrete_advantages(p: &[f64], q: &[f64]) -> Vec<f64> {
    let k = p.len() as f64;
    let total: f64 = p.iter().sum();
    let baseline = p.iter().zip(q).map(|(p, q)| p * q).sum::<f64>() / total;
    p.iter()
        .zip(q)
        .map(|(p, q)| k * p / total * (q - baseline))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// π_z = softmax(z).
    fn softmax(z: &[f64]) -> Vec<f64> {
        let m = z.iter().copied().fold(f64::MIN, f64::max);
        let e: Vec<f64> = z.iter().map(|x| (x - m).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|x| x / s).collect()
    }

    /// The ratio surrogate's gradient at θ_old is the gradient of the
    /// paper's self-normalised estimator Σₖ π(aₖ) Q̂ₖ / Σₖ π(aₖ), by central
    /// differences in the logits, for a subset of actions and for all.
    #[test]
    fn discrete_advantages_give_the_self_normalised_estimators_gradient() {
        let z_old = [0.3, -1.2, 0.8, 0.1, -0.4, 1.5];
        let q_all = [2.0, -1.0, 0.5, 3.0, 1.0, -2.5];
        for chosen in [vec![1usize, 4, 0, 3], (0..6).collect()] {
            let p_old = softmax(&z_old);
            let p: Vec<f64> = chosen.iter().map(|&i| p_old[i]).collect();
            let q: Vec<f64> = chosen.iter().map(|&i| q_all[i]).collect();
            let adv = discrete_advantages(&p, &q);
            let k = chosen.len() as f64;
            // Surrogate over the state's K rows: mean of π_z(aₖ)/pₖ · Aₖ.
            let surrogate = |z: &[f64]| {
                let pz = softmax(z);
                chosen
                    .iter()
                    .zip(&p)
                    .zip(&adv)
                    .map(|((&i, pk), ak)| pz[i] / pk * ak)
                    .sum::<f64>()
                    / k
            };
            let estimator = |z: &[f64]| {
                let pz = softmax(z);
                let num: f64 = chosen.iter().map(|&i| pz[i] * q_all[i]).sum();
                let den: f64 = chosen.iter().map(|&i| pz[i]).sum();
                num / den
            };
            let h = 1e-6;
            for j in 0..z_old.len() {
                let diff = |f: &dyn Fn(&[f64]) -> f64| {
                    let (mut up, mut down) = (z_old.to_vec(), z_old.to_vec());
                    up[j] += h;
                    down[j] -= h;
                    (f(&up) - f(&down)) / (2.0 * h)
                };
                let (gs, ge) = (diff(&surrogate), diff(&estimator));
                assert!((gs - ge).abs() < 1e-8, "logit {j}: {gs} vs {ge}");
            }
        }
        // Every action: the paper's Σₐ π(a) Q̂(a); baseline Σₐ π(a) Q̂(a) = 2, so
        // K p (Q̂ − 2) = 3 · (0.5 · −1, 0.25 · 0, 0.25 · 2).
        let p = [0.5, 0.25, 0.25];
        let adv = discrete_advantages(&p, &[1.0, 2.0, 4.0]);
        assert_eq!(adv, vec![-1.5, 0.0, 1.5]);
    }
}
