//! The checks of an env provider, run in the child process like the
//! algorithm checks (a crash or a hang is the parent's FAIL). Each takes
//! one env id of the library; families (`gym:`) are skipped, having no
//! env to try until an id is chosen.

use super::{Outcome, Status};
use crate::provider::{Batch, ProviderLibrary};
use anyhow::{Result, bail};
use trustbench_envs::{Env, EnvConfig, Space, external};
use trustbench_plugin::abi::{self, tb_step_out};
use trustbench_plugin::rng::Rng;

/// Steps each trajectory of the determinism and snapshot checks takes.
const STEPS: usize = 300;

/// Entry and descriptors: loading checked the ABI version, struct sizes,
/// NULLs, UTF-8, ids and option lists; each env's defaults must create.
pub fn entry(library: &ProviderLibrary) -> Outcome {
    let ids: Vec<&str> = library.envs.iter().map(|e| e.id.as_str()).collect();
    if ids.is_empty() {
        return Outcome::new(Status::Fail, "the provider offers no env");
    }
    for id in ids.iter().filter(|id| !external::is_family(id)) {
        if let Err(e) = config(id) {
            return Outcome::new(Status::Fail, format!("{e:#}"));
        }
    }
    Outcome::new(
        Status::Pass,
        format!(
            "env ABI {}.{}; {} env(s) ({}), descriptors valid, default options create",
            library.abi.0,
            library.abi.1,
            ids.len(),
            ids.join(", ")
        ),
    )
}

/// The env `id` with its default options.
fn config(id: &str) -> Result<EnvConfig> {
    let spec = trustbench_envs::resolve_spec(id).map_err(anyhow::Error::msg)?;
    EnvConfig::new(spec, &[]).map_err(anyhow::Error::msg)
}

/// A skip for a family, else `None`.
fn family(id: &str) -> Option<Outcome> {
    external::is_family(id).then(|| {
        Outcome::new(
            Status::Skip,
            format!("'{id}' is a family: check one of its envs with --env"),
        )
    })
}

/// Spaces: valid kinds, finite bounds in order, observations within the
/// bounds for a while of random play (outside: a WARN).
pub fn spaces(library: &ProviderLibrary, id: &str) -> Result<Outcome> {
    if let Some(skip) = family(id) {
        return Ok(skip);
    }
    let batch = Batch::create(library, id, &defaults(id)?, &[1]).map_err(anyhow::Error::msg)?;
    for (name, space) in [
        ("observation", &batch.observation),
        ("action", &batch.action),
    ] {
        if let Space::Box { low, high, .. } = space
            && let Some(j) =
                (0..low.len()).find(|&j| low[j].is_nan() || high[j].is_nan() || low[j] > high[j])
        {
            bail!(
                "{name} space bound {j}: low {} is not <= high {}",
                low[j],
                high[j]
            );
        }
    }
    let mut env = config(id)?.make();
    let trace = play(env.as_mut(), 7, STEPS)?;
    let dim = env.observation_space().dim();
    let outside = match env.observation_space() {
        Space::Box { low, high, .. } => trace.observations.chunks_exact(dim).any(|o| {
            o.iter()
                .zip(low.iter().zip(high))
                .any(|(v, (l, h))| v < l || v > h)
        }),
        Space::Discrete { .. } => false,
    };
    let spaces = format!(
        "observation {}, action {}",
        batch.observation.describe(),
        batch.action.describe()
    );
    Ok(match outside {
        true => Outcome::new(
            Status::Warn,
            format!("{spaces}; an observation left its declared bounds"),
        ),
        false => Outcome::new(Status::Pass, spaces),
    })
}

/// Reset and step lengths: a batch of 2 writes exactly its rows (guard
/// values past them stay), refuses wrong lengths and copies out of range,
/// and each copy's rows equal a batch of one with the same seed.
pub fn lengths(library: &ProviderLibrary, id: &str) -> Result<Outcome> {
    if let Some(skip) = family(id) {
        return Ok(skip);
    }
    let options = defaults(id)?;
    let seeds = [11u64, 12];
    let two = Batch::create(library, id, &options, &seeds).map_err(anyhow::Error::msg)?;
    let (od, ad) = (two.observation.dim(), two.action.dim());
    let raw = two.raw();
    let (reset, step) = (raw.reset.expect("checked"), raw.step.expect("checked"));
    const GUARD: f64 = -12345.5;
    let mut obs = vec![GUARD; 2 * od + 1];
    // SAFETY: `obs` holds 2 * od + 1 values; the provider may write 2 * od.
    let status = unsafe { reset(raw, 0, 2, seeds.as_ptr(), obs.as_mut_ptr(), 2 * od) };
    if status != abi::TB_OK {
        bail!("{}", two.failure("reset of 2 copies", status));
    }
    if obs[2 * od] != GUARD {
        bail!("reset wrote past the {} values it was given", 2 * od);
    }
    // SAFETY: a length one short: the provider must refuse, not write.
    let short = unsafe { reset(raw, 0, 2, seeds.as_ptr(), obs.as_mut_ptr(), 2 * od - 1) };
    if short == abi::TB_OK {
        bail!(
            "reset accepted obs_len {} for 2 copies of {od} values",
            2 * od - 1
        );
    }
    // SAFETY: copy 2 of 2 is out of range: the provider must refuse.
    let outside = unsafe { reset(raw, 2, 1, std::ptr::null(), obs.as_mut_ptr(), od) };
    if outside == abi::TB_OK {
        bail!("reset accepted copy 2 of a batch of 2");
    }
    let actions = vec![0.0; 2 * ad];
    let (mut rewards, mut flags) = ([GUARD; 3], [[7u8; 3]; 2]);
    let mut fin = vec![GUARD; 2 * od + 1];
    let [terminated, truncated] = &mut flags;
    let out = tb_step_out {
        struct_size: std::mem::size_of::<tb_step_out>() as u32,
        observations: obs.as_mut_ptr(),
        final_observations: fin.as_mut_ptr(),
        rewards: rewards.as_mut_ptr(),
        terminated: terminated.as_mut_ptr(),
        truncated: truncated.as_mut_ptr(),
    };
    // SAFETY: every buffer holds one more entry than 2 copies need.
    let status = unsafe { step(raw, 0, 2, actions.as_ptr(), actions.len(), &out) };
    if status != abi::TB_OK {
        bail!("{}", two.failure("step of 2 copies", status));
    }
    if obs[2 * od] != GUARD || fin[2 * od] != GUARD || rewards[2] != GUARD {
        bail!("step wrote past the rows of the 2 copies it was given");
    }
    if terminated[2] != 7 || truncated[2] != 7 {
        bail!("step wrote past the 2 flags of each kind it was given");
    }
    // SAFETY: one action short: the provider must refuse.
    let short = unsafe { step(raw, 0, 2, actions.as_ptr(), actions.len() - 1, &out) };
    if short == abi::TB_OK {
        bail!(
            "step accepted {} action values for 2 copies of {ad}",
            actions.len() - 1
        );
    }
    Ok(Outcome::new(
        Status::Pass,
        "reset and step write exactly their rows and refuse wrong lengths and copies",
    ))
}

/// What one seeded episode stream gave: observations, rewards, flags.
#[derive(PartialEq)]
struct Trace {
    observations: Vec<f64>,
    rewards: Vec<f64>,
    flags: Vec<(bool, bool)>,
}

/// Reset `env` with `seed` and play `steps` seeded random actions (resets
/// after episode ends continue the env's stream), failing on the env's
/// failure.
fn play(env: &mut dyn Env, seed: u64, steps: usize) -> Result<Trace> {
    let mut obs = vec![0.0; env.observation_space().dim()];
    env.reset(Some(seed), &mut obs);
    let mut trace = continue_play(env, Rng::new(seed ^ 0x5eed), steps)?;
    trace.observations.splice(0..0, obs);
    Ok(trace)
}

/// [`play`] from the env's current state, without its reset.
fn continue_play(env: &mut dyn Env, mut rng: Rng, steps: usize) -> Result<Trace> {
    let action_space = env.action_space().clone();
    let mut action = vec![0.0; action_space.dim()];
    let mut obs = vec![0.0; env.observation_space().dim()];
    let mut trace = Trace {
        observations: Vec::new(),
        rewards: Vec::new(),
        flags: Vec::new(),
    };
    for _ in 0..steps {
        if let Some(why) = env.failure() {
            bail!("{why}");
        }
        random_action(&action_space, &mut rng, &mut action);
        let step = env.step(&action, &mut obs);
        trace.observations.extend_from_slice(&obs);
        trace.rewards.push(step.reward);
        trace.flags.push((step.terminated, step.truncated));
        if step.done() {
            env.reset(None, &mut obs);
            trace.observations.extend_from_slice(&obs);
        }
    }
    match env.failure() {
        Some(why) => bail!("{why}"),
        None => Ok(trace),
    }
}

fn random_action(space: &Space, rng: &mut Rng, out: &mut [f64]) {
    match space {
        Space::Discrete { n } => out[0] = rng.below(*n as u64) as f64,
        Space::Box { low, high, .. } => {
            for (j, a) in out.iter_mut().enumerate() {
                *a = rng.uniform_in(low[j].max(-1.0), high[j].min(1.0));
            }
        }
    }
}

/// Same seed, same episodes (in two fresh copies); another seed, others.
pub fn determinism(id: &str) -> Result<Outcome> {
    if let Some(skip) = family(id) {
        return Ok(skip);
    }
    let env = config(id)?;
    let a = play(env.make().as_mut(), 3, STEPS)?;
    let b = play(env.make().as_mut(), 3, STEPS)?;
    if a != b {
        bail!("two copies reset with seed 3 and given the same actions differ");
    }
    let c = play(env.make().as_mut(), 4, STEPS)?;
    if a.observations == c.observations {
        bail!("seeds 3 and 4 gave the same observations over {STEPS} steps");
    }
    let ends = a.flags.iter().filter(|(t, u)| *t || *u).count();
    Ok(Outcome::new(
        Status::Pass,
        format!(
            "{STEPS} steps with {ends} episode end(s): same seed same bits, another seed differs"
        ),
    ))
}

/// Snapshot/restore, when offered: a state saved mid-episode, loaded into
/// two fresh copies, replays the steps the original took from it, bit for
/// bit.
pub fn snapshot(id: &str) -> Result<Outcome> {
    if let Some(skip) = family(id) {
        return Ok(skip);
    }
    let config = config(id)?;
    let mut env = config.make();
    if let Some(why) = env.snapshot_refusal() {
        return Ok(Outcome::new(Status::Skip, why));
    }
    play(env.as_mut(), 5, 37)?;
    let saved = env.boxed_clone();
    let replay = |env: &mut dyn Env| continue_play(env, Rng::new(99), STEPS);
    let first = replay(env.as_mut())?;
    let second = replay(saved.boxed_clone().as_mut())?;
    let third = replay(saved.boxed_clone().as_mut())?;
    if first != second || first != third {
        bail!("a restored state did not replay the same {STEPS} steps bit for bit");
    }
    Ok(Outcome::new(
        Status::Pass,
        format!("restored states replay {STEPS} steps bit for bit"),
    ))
}

/// The default options of `id` as `create` takes them.
fn defaults(id: &str) -> Result<String> {
    Ok(crate::provider::options_json(config(id)?.options()))
}
