//! Sampling a batch through the host: whole steps of every env copy,
//! episodes continuing across batches.

use crate::Agent;
use trustbench_plugin::{Error, Host, Result, StepBuffers, StepOutcome};
use trustbench_policy::{BYTE_SCALE, ObservationBuffer, Observations};

/// `T` steps of `N` env copies, time-major: row `t·N + e` is copy `e` at
/// time `t` — the layout [`trustbench_policy::gae`] expects.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// N, the env copies: row `t·N + e` is copy `e` at time `t`.
    pub n_envs: usize,
    /// Normalised observations `sₜ`; bytes for a pixel policy (see
    /// [`Agent::byte_observations`]), a quarter of `f32` and an eighth of
    /// `f64`.
    pub obs: ObservationBuffer,
    /// Actions taken, sampled (never the mode), as the host received them.
    pub actions: Vec<f64>,
    /// Rewards as the env gave them (unscaled, undiscounted).
    pub rewards: Vec<f64>,
    /// True ends: no bootstrap.
    pub terminated: Vec<bool>,
    /// Time-limit cuts: bootstrap from `V(s')`.
    pub truncated: Vec<bool>,
    /// Rows whose `s'` is kept: truncated, or the last of their stream (the
    /// batch cut), in row order. Only these rows' `V(s')` is read by GAE
    /// (unless also terminated), so the rest is not stored.
    pub bootstrap_rows: Vec<usize>,
    /// Normalised `s'` of each row of `bootstrap_rows`, in that order.
    pub bootstrap_obs: ObservationBuffer,
}

impl Batch {
    /// Number of states (T·N).
    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    /// Whether no step was collected.
    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }
}

/// Every copy's current, next and (at an episode's end) final observation,
/// as the host delivers them.
#[derive(Debug, Default)]
struct Frames<T> {
    current: Vec<T>,
    next: Vec<T>,
    finals: Vec<T>,
}

/// How observations come in: `f64` values, or — for an agent that stores
/// bytes, from a host with `trustbench.byte-observations/1` — the env's
/// bytes, 8× less to copy across the ABI and stored as they come. Both
/// give the policy and the batch the same values, bit for bit.
#[derive(Debug)]
enum Intake {
    Reals(Frames<f64>),
    Bytes(Frames<u8>),
}

/// An observation element as the host delivers it (`f64` or a byte).
trait Delivered: Copy + Default + std::fmt::Debug {
    /// Reset every copy, writing their first observations into `obs`.
    fn reset(host: &mut Host, obs: &mut [Self]) -> Result<()>;

    /// Step every copy.
    fn step(host: &mut Host, actions: &[f64], out: StepBuffers<'_, Self>) -> Result<StepOutcome>;

    /// Update the agent's observation statistics with `n` states.
    fn observe(agent: &mut Agent, obs: &[Self], n: usize);

    /// `obs` as the policy sees it (normalised values) into `out`.
    fn normalized(agent: &Agent, obs: &[Self], out: &mut [f64]);

    /// Append states `obs`, normalised `normalized`, to `buffer`.
    fn store(buffer: &mut ObservationBuffer, obs: &[Self], normalized: &[f64]) -> Result<()>;
}

impl Delivered for f64 {
    fn reset(host: &mut Host, obs: &mut [f64]) -> Result<()> {
        host.reset(None, obs)
    }

    fn step(host: &mut Host, actions: &[f64], out: StepBuffers<'_>) -> Result<StepOutcome> {
        host.step(0, actions, out)
    }

    fn observe(agent: &mut Agent, obs: &[f64], n: usize) {
        agent.update_statistics(obs, n);
    }

    fn normalized(agent: &Agent, obs: &[f64], out: &mut [f64]) {
        out.copy_from_slice(obs);
        agent.normalize(out);
    }

    fn store(buffer: &mut ObservationBuffer, obs: &[f64], normalized: &[f64]) -> Result<()> {
        let invalid = |e: String| Error::new(format!("env observation: {e}"));
        // A byte buffer keeps the grey levels as delivered: they are
        // standardised where a network reads them, as bytes are.
        let values = match buffer {
            ObservationBuffer::Bytes(_) => obs,
            ObservationBuffer::Reals(_) => normalized,
        };
        buffer.push_reals(values).map_err(invalid)
    }
}

/// Bytes come only to an agent that keeps bytes (see
/// [`Agent::byte_observations`]): byte `b` is the value `b · BYTE_SCALE`,
/// normalised with the batch's frozen statistics.
impl Delivered for u8 {
    fn reset(host: &mut Host, obs: &mut [u8]) -> Result<()> {
        host.reset_bytes(None, obs)
    }

    fn step(host: &mut Host, actions: &[f64], out: StepBuffers<'_, u8>) -> Result<StepOutcome> {
        host.step_bytes(0, actions, out)
    }

    fn observe(agent: &mut Agent, obs: &[u8], n: usize) {
        agent.update_statistics_bytes(obs, n);
    }

    fn normalized(agent: &Agent, obs: &[u8], out: &mut [f64]) {
        for (o, &b) in out.iter_mut().zip(obs) {
            *o = f64::from(b) * BYTE_SCALE;
        }
        agent.normalize(out);
    }

    fn store(buffer: &mut ObservationBuffer, obs: &[u8], _: &[f64]) -> Result<()> {
        buffer.extend(Observations::Bytes(obs));
        Ok(())
    }
}

/// Keeps the current observation of every copy between batches, so
/// episodes continue across iterations as the host's autoreset intends.
#[derive(Debug, Default)]
pub struct Sampler {
    /// `None` until the first batch resets the envs.
    intake: Option<Intake>,
    rewards: Vec<f64>,
    terminated: Vec<u8>,
    truncated: Vec<u8>,
    actions: Vec<f64>,
    normalized: Vec<f64>,
    /// One state's normalised values (an `s'` kept for bootstrapping).
    row: Vec<f64>,
}

impl Sampler {
    /// Collect up to `steps_per_env` steps of every copy with the agent's
    /// sampled actions, updating its observation statistics on the way.
    /// Shorter (possibly empty) when the budget runs out.
    pub fn collect(
        &mut self,
        host: &mut Host,
        agent: &mut Agent,
        steps_per_env: usize,
    ) -> Result<Batch> {
        agent.begin_batch();
        let (n, d) = (host.num_envs(), agent.obs_len());
        let mut intake = match self.intake.take() {
            Some(intake) => intake,
            None if agent.byte_observations() && host.byte_observations() => {
                Intake::Bytes(Sampler::start(host, n * d)?)
            }
            None => Intake::Reals(Sampler::start(host, n * d)?),
        };
        let batch = match &mut intake {
            Intake::Reals(frames) => self.collect_from(frames, host, agent, steps_per_env),
            Intake::Bytes(frames) => self.collect_from(frames, host, agent, steps_per_env),
        };
        self.intake = Some(intake);
        batch
    }

    /// Frames of `len` values, every copy reset into `current`.
    fn start<T: Delivered>(host: &mut Host, len: usize) -> Result<Frames<T>> {
        let mut frames = Frames {
            current: vec![T::default(); len],
            next: vec![T::default(); len],
            finals: vec![T::default(); len],
        };
        T::reset(host, &mut frames.current)?;
        Ok(frames)
    }

    /// [`Sampler::collect`] with observations delivered as `T`.
    fn collect_from<T: Delivered>(
        &mut self,
        frames: &mut Frames<T>,
        host: &mut Host,
        agent: &mut Agent,
        steps_per_env: usize,
    ) -> Result<Batch> {
        let (n, d) = (host.num_envs(), agent.obs_len());
        let a = agent.policy.distribution().action_len();
        self.normalized.resize(n * d, 0.0);
        self.row.resize(d, 0.0);
        self.rewards.resize(n, 0.0);
        self.terminated.resize(n, 0);
        self.truncated.resize(n, 0);
        self.actions.resize(n * a, 0.0);
        let fresh = || ObservationBuffer::new(agent.byte_observations());
        let mut batch = Batch {
            n_envs: n,
            obs: fresh(),
            bootstrap_obs: fresh(),
            ..Batch::default()
        };
        for _ in 0..steps_per_env {
            T::observe(agent, &frames.current, n);
            T::normalized(agent, &frames.current, &mut self.normalized);
            agent.act_normalized(&self.normalized, false, &mut self.actions);
            let outcome = T::step(
                host,
                &self.actions,
                StepBuffers {
                    observations: &mut frames.next,
                    final_observations: Some(&mut frames.finals),
                    rewards: &mut self.rewards,
                    terminated: &mut self.terminated,
                    truncated: &mut self.truncated,
                },
            )?;
            if outcome == StepOutcome::BudgetExhausted {
                break;
            }
            T::store(&mut batch.obs, &frames.current, &self.normalized)?;
            batch.actions.extend_from_slice(&self.actions);
            batch.rewards.extend_from_slice(&self.rewards);
            batch
                .terminated
                .extend(self.terminated.iter().map(|&t| t != 0));
            batch
                .truncated
                .extend(self.truncated.iter().map(|&t| t != 0));
            let start = batch.len() - n;
            for e in 0..n {
                if self.truncated[e] != 0 {
                    let last = &frames.finals[e * d..(e + 1) * d];
                    T::normalized(agent, last, &mut self.row);
                    batch.bootstrap_rows.push(start + e);
                    T::store(&mut batch.bootstrap_obs, last, &self.row)?;
                }
            }
            std::mem::swap(&mut frames.current, &mut frames.next);
        }
        // The batch cut: the last row of every stream that did not end bootstraps from the current state.
        if !batch.is_empty() {
            let last = batch.len() - n;
            for e in 0..n {
                if !batch.terminated[last + e] && !batch.truncated[last + e] {
                    let state = &frames.current[e * d..(e + 1) * d];
                    T::normalized(agent, state, &mut self.row);
                    batch.bootstrap_rows.push(last + e);
                    T::store(&mut batch.bootstrap_obs, state, &self.row)?;
                }
            }
        }
        Ok(batch)
    }
}
