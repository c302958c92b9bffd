//! The checks themselves, run in the child process: each returns an
//! [`Outcome`], and an error (the plugin refused or misbehaved where it
//! must not) becomes a FAIL with the error's text.

use super::probe::{self, Created};
use super::trial::{self, Subject, Trial};
use super::{Outcome, Status};
use crate::host::{HostBox, World};
use crate::plugin::{AlgorithmRef, PluginLibrary};
use crate::session::Session;
use crate::streams;
use anyhow::{Result, anyhow};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::time::Instant;
use trustbench_envs::VecEnv;
use trustbench_plugin::Space;
use trustbench_plugin::abi::{self, tb_spaces};

/// The key no algorithm has: `create` must refuse it by name.
pub const UNKNOWN_KEY: &str = "trustbench_check_unknown_key";

fn pass(reason: impl Into<String>) -> Outcome {
    Outcome::new(Status::Pass, reason)
}

fn fail(reason: impl Into<String>) -> Outcome {
    Outcome::new(Status::Fail, reason)
}

/// Entry and descriptors: loading validated the ABI version, struct sizes,
/// NULLs, UTF-8, ids and default configs (JSON objects); here the ids must
/// also be unique, and `create` must accept each default config.
pub fn entry(libraries: &[Arc<PluginLibrary>], subjects: &[Result<Subject, String>]) -> Outcome {
    let ids: Vec<&str> = libraries
        .iter()
        .flat_map(|l| l.algorithms.iter().map(|a| a.id.as_str()))
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    if unique.len() != ids.len() {
        let dup = ids
            .iter()
            .find(|id| ids.iter().filter(|x| x == id).count() > 1)
            .expect("a duplicate");
        return fail(format!("algorithm id '{dup}' is offered twice"));
    }
    if ids.is_empty() {
        return fail("the library offers no algorithm");
    }
    for subject in subjects.iter().flatten() {
        let created = with_host(subject, |spaces, host| {
            // SAFETY: the spaces and host live for the call.
            unsafe { probe::try_create(&subject.algorithm, &config_json(subject), spaces, host) }
        });
        match created {
            Err(e) => return fail(format!("{}: {e}", subject.algorithm.info.id)),
            Ok(c) if !c.accepted => {
                return fail(format!(
                    "{}: create refused its own default config on {}: {}",
                    subject.algorithm.info.id,
                    subject.env.id(),
                    shown(&c)
                ));
            }
            Ok(_) => {}
        }
    }
    let (major, minor) = libraries.first().map_or((0, 0), |l| l.abi);
    pass(format!(
        "ABI {major}.{minor}; {} algorithm(s) ({}), descriptors valid, default configs accepted by create",
        ids.len(),
        ids.join(", ")
    ))
}

fn config_json(subject: &Subject) -> String {
    Value::Object(subject.config.clone()).to_string()
}

/// A refusal's text, or its bare status when it gave none.
fn shown(c: &Created) -> String {
    if c.message.is_empty() {
        format!("status {} and no message", c.status)
    } else {
        c.message.clone()
    }
}

/// Run `f` with the subject env's spaces and a host (no budget) that live
/// for the call.
fn with_host<T>(
    subject: &Subject,
    f: impl FnOnce(*const tb_spaces, *const abi::tb_host) -> T,
) -> T {
    let host = bare_host(subject);
    f(host.spaces(), host.raw())
}

fn bare_host(subject: &Subject) -> Box<HostBox> {
    let envs = VecEnv::new(&subject.env, trial::NUM_ENVS, 0, streams::TRAIN_ENVS);
    HostBox::new(
        World::new(envs, 0, Instant::now(), 1),
        streams::plugin_seed(0),
    )
}

/// `create` with the default config plus `key = value`.
fn create_with(subject: &Subject, key: &str, value: Value) -> Result<Created> {
    let mut config = subject.config.clone();
    config.insert(key.to_string(), value);
    let json = Value::Object(config).to_string();
    with_host(subject, |spaces, host| {
        // SAFETY: the spaces and host live for the call.
        unsafe { probe::try_create(&subject.algorithm, &json, spaces, host) }
    })
    .map_err(|e| anyhow!(e))
}

/// An unknown key is refused, with an error that names it.
pub fn config_unknown_key(subject: &Subject) -> Result<Outcome> {
    let c = create_with(subject, UNKNOWN_KEY, Value::from(1))?;
    Ok(if c.accepted {
        fail(format!(
            "create accepted the unknown config key '{UNKNOWN_KEY}'"
        ))
    } else if !c.message.contains(UNKNOWN_KEY) {
        fail(format!(
            "create refused the unknown key '{UNKNOWN_KEY}' without naming it: {}",
            shown(&c)
        ))
    } else {
        pass(format!("refused by name: {}", c.message))
    })
}

/// Out-of-range numbers are refused by name. The ABI has no field for
/// ranges: a plugin declares one by refusing values outside it at `create`
/// (the SDK's `check_range`). So every numeric key is set to extremes of
/// its own JSON type (±1e308 for reals, 2^53 for integers); a refusal must
/// name the key, an acceptance means the key declares no such bound.
pub fn config_range(subject: &Subject) -> Result<Outcome> {
    let mut bounded = Vec::new();
    for (key, default) in &subject.config {
        let extremes: Vec<Value> = if default.is_u64() || default.is_i64() {
            vec![Value::from(1u64 << 53)]
        } else if default.is_f64() {
            vec![Value::from(1e308), Value::from(-1e308)]
        } else {
            continue;
        };
        for value in extremes {
            let c = create_with(subject, key, value.clone())?;
            if c.accepted {
                continue;
            }
            if !c.message.contains(key.as_str()) {
                return Ok(fail(format!(
                    "create refused {key} = {value} without naming the key: {}",
                    shown(&c)
                )));
            }
            bounded.push(key.as_str());
            break;
        }
    }
    Ok(if bounded.is_empty() {
        Outcome::new(
            Status::Skip,
            "no numeric key declares a range (none refused ±1e308 or 2^53)",
        )
    } else {
        pass(format!(
            "out-of-range values refused by name: {}",
            bounded.join(", ")
        ))
    })
}

/// `create` on every combination of box and discrete spaces: a claimed
/// kind works or is refused with a message; an unclaimed kind is refused.
pub fn spaces(subject: &Subject) -> Result<Outcome> {
    let info = &subject.algorithm.info;
    let host = bare_host(subject);
    let observations = [Space::uniform_box(3, -1.0, 1.0), Space::Discrete { n: 4 }];
    let actions = [Space::uniform_box(2, -1.0, 1.0), Space::Discrete { n: 3 }];
    let (mut worked, mut refused) = (Vec::new(), Vec::new());
    for obs in &observations {
        for act in &actions {
            let spaces = tb_spaces {
                struct_size: std::mem::size_of::<tb_spaces>() as u32,
                num_envs: trial::NUM_ENVS as u32,
                observation: obs.to_raw(),
                action: act.to_raw(),
            };
            let claimed =
                obs.kind() & info.observation_kinds != 0 && act.kind() & info.action_kinds != 0;
            let pair = format!("{} → {}", obs.kind_name(), act.kind_name());
            // SAFETY: `spaces` (and the spaces its bounds point into) and the host live for the call.
            let c = unsafe {
                probe::try_create(
                    &subject.algorithm,
                    &config_json(subject),
                    &spaces,
                    host.raw(),
                )
            }
            .map_err(|e| anyhow!("{pair}: {e}"))?;
            match (claimed, c.accepted) {
                (false, true) => {
                    return Ok(fail(format!(
                        "create accepted {pair}, which the descriptor does not claim"
                    )));
                }
                (_, false) if c.message.is_empty() => {
                    return Ok(fail(format!(
                        "create refused {pair} with status {} and no message",
                        c.status
                    )));
                }
                (true, true) => worked.push(pair),
                (_, false) => refused.push(pair),
            }
        }
    }
    Ok(pass(format!(
        "works on {}; refuses {}",
        list_or_none(&worked),
        list_or_none(&refused)
    )))
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// Two trials with the same seed are identical; another seed differs.
pub fn determinism(subject: &Subject) -> Result<Outcome> {
    let a = subject.train(0, None)?;
    let b = subject.train(0, None)?;
    if let Some(diff) = a.fingerprint.difference(&b.fingerprint) {
        return Ok(fail(format!("two runs with seed 0 differ: {diff}")));
    }
    let c = subject.train(1, None)?;
    if a.fingerprint == c.fingerprint {
        return Ok(fail(
            "seeds 0 and 1 give identical metrics, episodes, saved bytes and actions",
        ));
    }
    Ok(pass(format!(
        "same seed: identical metrics, episodes, saved bytes and actions ({} iterations); another seed differs",
        a.training.iteration_seconds.len()
    )))
}

/// `save` → a fresh instance → `load` → the same actions; `save` follows
/// the two-call buffer protocol.
pub fn save_load(subject: &Subject) -> Result<Outcome> {
    let mut trained = subject.session(0, trial::STEPS)?;
    trial::train_to_end(&mut trained)?;
    let len = probe::save_protocol(trained.instance()).map_err(|e| anyhow!(e))?;
    let bytes = trained.instance().save()?;
    let mut fresh = subject.session(1, 0)?;
    fresh.instance().load(&bytes)?;
    let probes = trial::probe_observations(&subject.env);
    let a = act_one_by_one(&mut trained, &probes)?;
    let b = act_one_by_one(&mut fresh, &probes)?;
    if let Some(i) = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x.to_bits() != y.to_bits())
    {
        return Ok(fail(format!(
            "after save → load into a fresh instance, action value {i} on the probe observations differs: {} vs {}",
            a[i], b[i]
        )));
    }
    Ok(pass(format!(
        "{len} bytes; TB_BUFFER_TOO_SMALL then the exact length; a fresh instance that loads them acts identically"
    )))
}

/// Deterministic actions for each observation row, one `act` call each.
fn act_one_by_one(session: &mut Session, obs: &[f64]) -> Result<Vec<f64>> {
    let obs_dim = session.host().observation_space().dim().max(1);
    let act_dim = session.host().action_space().dim().max(1);
    let mut actions = vec![0.0; obs.len() / obs_dim * act_dim];
    for (o, a) in obs
        .chunks_exact(obs_dim)
        .zip(actions.chunks_exact_mut(act_dim))
    {
        session.instance().act(o, true, a)?;
    }
    Ok(actions)
}

/// Lengths and finiteness of batched actions (checked by
/// [`crate::plugin::Instance::act`]), and whether an observation's action
/// depends on the rest of its batch: the same first row in two batches of
/// the same size, the instance's state restored in between.
pub fn acting(subject: &Subject) -> Result<Outcome> {
    let mut session = subject.session(0, 0)?;
    let probes = trial::probe_observations(&subject.env);
    let obs_dim = session.host().observation_space().dim().max(1);
    let act_dim = session.host().action_space().dim().max(1);
    let mut sampled = vec![0.0; trial::PROBES * act_dim];
    session.instance().act(&probes, false, &mut sampled)?;
    let state = session.instance().save()?;
    let mut first = vec![0.0; trial::PROBES * act_dim];
    session.instance().act(&probes, true, &mut first)?;
    session.instance().load(&state)?;
    let mut again = vec![0.0; trial::PROBES * act_dim];
    session.instance().act(&probes, true, &mut again)?;
    let valid = format!(
        "batches of {} observations: lengths, finiteness and ranges valid (sampled and deterministic)",
        trial::PROBES
    );
    if bits(&again) != bits(&first) {
        return Ok(pass(format!(
            "{valid}; batch independence not judged: the same batch acts differently after loading the saved state (see save-load)"
        )));
    }
    // Same first row, the others replaced by their mirror images.
    let mut other = probes.clone();
    for (i, v) in other.iter_mut().enumerate().skip(obs_dim) {
        *v = -*v * 1.5 + (i % 3) as f64 * 0.01;
    }
    session.instance().load(&state)?;
    let mut second = vec![0.0; trial::PROBES * act_dim];
    session.instance().act(&other, true, &mut second)?;
    let gap = first[..act_dim]
        .iter()
        .zip(&second[..act_dim])
        .map(|(a, b)| (a - b).abs() / a.abs().max(b.abs()).max(1e-300))
        .fold(0.0, f64::max);
    Ok(if gap > 1e-9 {
        Outcome::new(
            Status::Warn,
            format!(
                "the action for one observation depends on the rest of its batch ({:?} vs {:?})",
                &first[..act_dim],
                &second[..act_dim]
            ),
        )
    } else {
        pass(format!(
            "{valid}; each action independent of its batch{}",
            if gap > 0.0 { " up to rounding" } else { "" }
        ))
    })
}

fn bits(xs: &[f64]) -> Vec<u64> {
    xs.iter().map(|x| x.to_bits()).collect()
}

/// After `TB_BUDGET_EXHAUSTED` the plugin stops stepping: at most one
/// refused `step` call per iteration, counted by the host.
pub fn budget(subject: &Subject) -> Result<Outcome> {
    let run = subject.train(0, None)?;
    Ok(if run.training.most_refused_steps > 1 {
        fail(format!(
            "called step {} times in one iteration after TB_BUDGET_EXHAUSTED, instead of returning",
            run.training.most_refused_steps - 1
        ))
    } else {
        pass(format!(
            "returned after TB_BUDGET_EXHAUSTED ({} env steps, {} iterations)",
            trial::STEPS,
            run.training.iteration_seconds.len()
        ))
    })
}

/// After a failure (a load of garbage, else a malformed `act`),
/// `last_error` is non-empty and follows the buffer protocol.
pub fn errors(subject: &Subject) -> Result<Outcome> {
    let mut session = subject.session(0, 0)?;
    let garbage = [0xFFu8, 0x00, 0x7F];
    let how = if session.instance().load(&garbage).is_err() {
        "a load of 3 garbage bytes"
    } else {
        let obs_dim = session.host().observation_space().dim();
        let act_dim = session.host().action_space().dim();
        if !probe::act_refuses_bad_length(session.instance(), obs_dim, act_dim) {
            return Ok(fail(
                "no failure could be provoked: load accepted 3 garbage bytes, act accepted an observation buffer of the wrong length",
            ));
        }
        "an act with an observation buffer of the wrong length"
    };
    let text =
        probe::last_error_protocol(session.instance()).map_err(|e| anyhow!("after {how}: {e}"))?;
    Ok(pass(format!("after {how}: \"{text}\"")))
}

/// Two instances trained at once on two threads give what each gives
/// alone (unsynchronised global state shows up here).
pub fn threads(subject: &Subject) -> Result<Outcome> {
    let alone = [subject.train(1, None)?, subject.train(2, None)?];
    let barrier = Barrier::new(2);
    let together: Vec<Result<Trial>> = std::thread::scope(|s| {
        let handles: Vec<_> = [1, 2]
            .map(|seed| {
                let barrier = &barrier;
                s.spawn(move || subject.train(seed, Some(barrier)))
            })
            .into_iter()
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("a training thread panicked")))
            })
            .collect()
    });
    for ((seed, alone), together) in [1, 2].iter().zip(&alone).zip(together) {
        let together =
            together.map_err(|e| anyhow!("seed {seed} on a thread beside another: {e:#}"))?;
        if let Some(diff) = alone.fingerprint.difference(&together.fingerprint) {
            return Ok(fail(format!(
                "seed {seed} trained beside another instance differs from seed {seed} alone ({diff}): unsynchronised global state?"
            )));
        }
    }
    Ok(pass(
        "two instances trained at once on two threads = each alone",
    ))
}

/// Informational: time per iteration and per state acted on.
pub fn speed(subject: &Subject) -> Result<Outcome> {
    let run = subject.train(0, None)?;
    let iterations = run.training.iteration_seconds.len().max(1);
    let per_iteration = run.training.iteration_seconds.iter().sum::<f64>() / iterations as f64;
    let mut session = subject.session(0, 0)?;
    let probes = trial::probe_observations(&subject.env);
    let obs_dim = session.host().observation_space().dim().max(1);
    let rounds = 50;
    let t = Instant::now();
    for _ in 0..rounds {
        act_one_by_one(&mut session, &probes)?;
    }
    let per_state = t.elapsed().as_secs_f64() / (rounds * (probes.len() / obs_dim)) as f64;
    Ok(pass(format!(
        "{:.2} ms per iteration ({} iterations of {} env steps in all); act {:.1} µs per state",
        per_iteration * 1e3,
        run.training.iteration_seconds.len(),
        trial::STEPS,
        per_state * 1e6
    )))
}

/// The algorithm's default config and the env its checks train on: the one
/// given, else the cheapest built-in task of a kind it claims (CartPole for
/// discrete actions, Pendulum for box actions).
pub fn subject(algorithm: AlgorithmRef, env: Option<&str>) -> Result<Subject, String> {
    let info = &algorithm.info;
    let name = match env {
        Some(name) => name,
        None if info.observation_kinds & abi::TB_SPACE_BOX == 0 => {
            return Err("it claims no box observations, and every built-in env has them".into());
        }
        None if info.action_kinds & abi::TB_SPACE_DISCRETE != 0 => "cartpole",
        None if info.action_kinds & abi::TB_SPACE_BOX != 0 => "pendulum",
        None => return Err("it claims neither box nor discrete actions".into()),
    };
    let env = trustbench_envs::resolve(name).map_err(|e| e.to_string())?;
    Ok(Subject {
        config: info.default_config.clone(),
        algorithm,
        env,
    })
}
