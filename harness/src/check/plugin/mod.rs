//! `harness check plugin`: a conformance validator that a plugin author
//! runs before users find the bugs (after clap-validator for audio plugins).
//!
//! The parent plans the checks (the library's entry, then each algorithm ×
//! check) and runs every one in a child process (the harness re-running
//! itself, [`crate::child`]), so a plugin that crashes or hangs gives a FAIL
//! naming the signal or the timeout, never a crashed validator. The child
//! runs one check in-process ([`run_in_child`]) and reports its [`Outcome`]
//! to the parent as a [`child::Report::Result`] ([`report`]), the channel
//! a sweep's runs report their progress on.

mod checks;
mod env_checks;
mod probe;
mod trial;

use crate::child::{self, ChildSpec, Exit};
use crate::plugin::{AlgorithmRef, PluginLibrary};
use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Longest reason kept: a reason is one cell of the validator's table.
const MAX_REASON: usize = 600;
/// The `algorithm` of the library-wide entry check's row.
pub const LIBRARY_ROW: &str = "*";
/// How the rows of env checks start: `env PointMass-v0`, `env *`.
pub const ENV_ROW: &str = "env ";

/// How a check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The plugin follows the rule.
    Pass,
    /// It breaks the rule (the exit code is 1).
    Fail,
    /// Allowed, but likely a mistake.
    Warn,
    /// The check does not apply (the reason says why).
    Skip,
}

impl Status {
    /// `PASS`, `FAIL`, `WARN` or `SKIP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Skip => "SKIP",
        }
    }

    fn parse(s: &str) -> Option<Status> {
        [Status::Pass, Status::Fail, Status::Warn, Status::Skip]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A status and its one-line reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// How it went.
    pub status: Status,
    /// Why, in one line.
    pub reason: String,
}

impl Outcome {
    /// An outcome; the reason is kept to one line of at most `MAX_REASON` characters.
    pub fn new(status: Status, reason: impl Into<String>) -> Outcome {
        let reason: String = reason.into().replace('\n', " ");
        let reason = match reason.char_indices().nth(MAX_REASON) {
            Some((cut, _)) => format!("{}…", &reason[..cut]),
            None => reason,
        };
        Outcome { status, reason }
    }
}

/// The checks, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// ABI version, struct sizes, ids, UTF-8, default configs accepted.
    Entry,
    /// An unknown config key is refused by name.
    ConfigUnknownKey,
    /// An out-of-range number is refused by name.
    ConfigRange,
    /// `create` on every kind of space: claimed ones work or refuse, others refuse.
    Spaces,
    /// Same seed, same results; another seed, other results.
    Determinism,
    /// save → fresh instance → load → same actions; the save buffer protocol.
    SaveLoad,
    /// Action lengths, finiteness, independence of the batch.
    Acting,
    /// No stepping after `TB_BUDGET_EXHAUSTED`.
    Budget,
    /// `last_error` after a failure.
    Errors,
    /// Two instances on two threads = each alone.
    Threads,
    /// Iteration time and act latency (informational).
    Speed,
    /// An env provider's entry and descriptors; each env's defaults create.
    EnvEntry,
    /// An env's spaces, and observations within their bounds.
    EnvSpaces,
    /// Reset/step write exactly their rows and refuse wrong lengths.
    EnvLengths,
    /// Same seed, same episodes; another seed, others.
    EnvDeterminism,
    /// Snapshot/restore replays bit for bit (when offered).
    EnvSnapshot,
}

impl Check {
    /// Every check; `Entry` is library-wide, the others per algorithm.
    pub const ALL: [Check; 11] = [
        Check::Entry,
        Check::ConfigUnknownKey,
        Check::ConfigRange,
        Check::Spaces,
        Check::Determinism,
        Check::SaveLoad,
        Check::Acting,
        Check::Budget,
        Check::Errors,
        Check::Threads,
        Check::Speed,
    ];

    /// The checks of an env provider: `EnvEntry` library-wide, the others per env.
    pub const ENV: [Check; 5] = [
        Check::EnvEntry,
        Check::EnvSpaces,
        Check::EnvLengths,
        Check::EnvDeterminism,
        Check::EnvSnapshot,
    ];

    /// Its name on the command line and in the output.
    pub fn name(self) -> &'static str {
        match self {
            Check::Entry => "entry",
            Check::ConfigUnknownKey => "config-unknown-key",
            Check::ConfigRange => "config-range",
            Check::Spaces => "spaces",
            Check::Determinism => "determinism",
            Check::SaveLoad => "save-load",
            Check::Acting => "acting",
            Check::Budget => "budget",
            Check::Errors => "errors",
            Check::Threads => "threads",
            Check::Speed => "speed",
            Check::EnvEntry => "env-entry",
            Check::EnvSpaces => "env-spaces",
            Check::EnvLengths => "env-lengths",
            Check::EnvDeterminism => "env-determinism",
            Check::EnvSnapshot => "env-snapshot",
        }
    }

    /// The check called `name`; the error lists the valid names.
    pub fn parse(name: &str) -> Result<Check> {
        let every = || Check::ALL.into_iter().chain(Check::ENV);
        every().find(|c| c.name() == name).ok_or_else(|| {
            let names: Vec<&str> = every().map(|c| c.name()).collect();
            anyhow!("unknown check '{name}'; valid checks: {}", names.join(", "))
        })
    }
}

/// What to validate.
#[derive(Debug, Clone)]
pub struct Request {
    /// The library (None: the built-in algorithms).
    pub plugin: Option<PathBuf>,
    /// Only this algorithm (None: every one in the library).
    pub algo: Option<String>,
    /// Train on this env (None: per algorithm, CartPole or Pendulum).
    pub env: Option<String>,
    /// Wall-clock limit of each check.
    pub timeout: Duration,
}

/// One row of the result.
#[derive(Debug, Clone)]
pub struct Row {
    /// Algorithm id ([`LIBRARY_ROW`] for the library-wide entry check).
    pub algorithm: String,
    /// The check.
    pub check: Check,
    /// How it went.
    pub outcome: Outcome,
    /// Its wall-clock seconds (child process included).
    pub seconds: f64,
}

impl Row {
    /// The row as JSON (the schema is in docs/plugins.md).
    pub fn to_json(&self) -> Value {
        json!({
            "algorithm": self.algorithm,
            "check": self.check.name(),
            "status": self.outcome.status.as_str(),
            "reason": self.outcome.reason,
            "seconds": self.seconds,
        })
    }
}

/// The algorithm libraries named by `plugin` (None: the built-ins; a
/// library that offers envs only: none).
fn libraries(plugin: Option<&Path>) -> Result<Vec<PluginLibrary>> {
    match plugin {
        Some(path) => Ok(crate::provider::load_plugin(path)?.into_iter().collect()),
        None => trustbench_bundle::BUILTIN
            .iter()
            .map(|entry| PluginLibrary::builtin(*entry))
            .collect(),
    }
}

/// Run check `check` in this process (the child's side) and return its
/// outcome, with the algorithm ids of the library for the entry check.
pub fn run_in_child(
    plugin: Option<&Path>,
    algo: Option<&str>,
    check: Check,
    env: Option<&str>,
) -> (Outcome, Vec<String>) {
    if Check::ENV.contains(&check) {
        return run_env_check(plugin, check, env);
    }
    let libraries = match libraries(plugin) {
        Ok(l) => l,
        Err(e) => return (Outcome::new(Status::Fail, format!("{e:#}")), Vec::new()),
    };
    let libraries: Vec<Arc<PluginLibrary>> = libraries.into_iter().map(Arc::new).collect();
    let algorithms: Vec<AlgorithmRef> = libraries
        .iter()
        .flat_map(|lib| {
            lib.algorithms.iter().map(|info| AlgorithmRef {
                library: lib.clone(),
                info: info.clone(),
            })
        })
        .collect();
    let ids: Vec<String> = algorithms.iter().map(|a| a.info.id.clone()).collect();
    if check == Check::Entry && libraries.is_empty() {
        let reason = "the library exports no algorithm entry (it offers envs only)";
        return (Outcome::new(Status::Skip, reason), ids);
    }
    if check == Check::Entry {
        let subjects: Vec<_> = algorithms
            .iter()
            .map(|a| checks::subject(a.clone(), env))
            .collect();
        return (checks::entry(&libraries, &subjects), ids);
    }
    let Some(algorithm) = algorithms
        .into_iter()
        .find(|a| Some(a.info.id.as_str()) == algo)
    else {
        let reason = format!(
            "unknown algorithm '{}'; the library offers: {}",
            algo.unwrap_or(""),
            ids.join(", ")
        );
        return (Outcome::new(Status::Fail, reason), ids);
    };
    let subject = match checks::subject(algorithm, env) {
        Ok(s) => s,
        Err(why) => return (Outcome::new(Status::Skip, why), ids),
    };
    let result = match check {
        Check::Entry => unreachable!("handled above"),
        Check::ConfigUnknownKey => checks::config_unknown_key(&subject),
        Check::ConfigRange => checks::config_range(&subject),
        Check::Spaces => checks::spaces(&subject),
        Check::Determinism => checks::determinism(&subject),
        Check::SaveLoad => checks::save_load(&subject),
        Check::Acting => checks::acting(&subject),
        Check::Budget => checks::budget(&subject),
        Check::Errors => checks::errors(&subject),
        Check::Threads => checks::threads(&subject),
        Check::Speed => checks::speed(&subject),
        _ => unreachable!("env checks are run by run_env_check"),
    };
    let outcome = result.unwrap_or_else(|e| Outcome::new(Status::Fail, format!("{e:#}")));
    (outcome, ids)
}

/// Env check `check` of the provider in `plugin` on env `env` (the
/// child's side), with the provider's env ids for the entry check.
fn run_env_check(plugin: Option<&Path>, check: Check, env: Option<&str>) -> (Outcome, Vec<String>) {
    let Some(path) = plugin else {
        let reason = "the built-in libraries offer no env provider";
        return (Outcome::new(Status::Skip, reason), Vec::new());
    };
    let library = match crate::provider::load_provider(path) {
        Ok(Some(l)) => l,
        Ok(None) => {
            let reason = "the library exports no env-provider entry";
            return (Outcome::new(Status::Skip, reason), Vec::new());
        }
        Err(e) => return (Outcome::new(Status::Fail, format!("{e:#}")), Vec::new()),
    };
    let ids: Vec<String> = library.envs.iter().map(|e| e.id.clone()).collect();
    let id = env.unwrap_or_default();
    let result = match check {
        Check::EnvEntry => Ok(env_checks::entry(&library)),
        Check::EnvSpaces => env_checks::spaces(&library, id),
        Check::EnvLengths => env_checks::lengths(&library, id),
        Check::EnvDeterminism => env_checks::determinism(id),
        Check::EnvSnapshot => env_checks::snapshot(id),
        _ => unreachable!("algorithm checks are run by run_in_child"),
    };
    let outcome = result.unwrap_or_else(|e| Outcome::new(Status::Fail, format!("{e:#}")));
    (outcome, ids)
}

/// The result a child reports: its outcome and the ids of the library's
/// algorithms (or envs).
fn result_of(outcome: &Outcome, algorithms: &[String]) -> Value {
    json!({
        "status": outcome.status.as_str(),
        "reason": outcome.reason,
        "algorithms": algorithms,
    })
}

/// In the child: report `outcome` to the parent.
pub fn report(outcome: &Outcome, algorithms: &[String]) {
    child::enable_reports();
    child::report(&child::Report::Result(result_of(outcome, algorithms)));
}

/// The outcome and ids a child's result states, if it is one.
fn parse_result(v: &Value) -> Option<(Outcome, Vec<String>)> {
    let status = Status::parse(v["status"].as_str()?)?;
    let reason = v["reason"].as_str()?.to_string();
    let ids = v["algorithms"]
        .as_array()?
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect();
    Some((Outcome { status, reason }, ids))
}

/// A finished child's outcome: its reported result, or what ended it.
fn outcome_of(finished: &child::Finished, timeout: Duration) -> (Outcome, Vec<String>) {
    let last_line = || {
        finished
            .stderr_tail
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| format!(" (stderr: {})", l.trim()))
            .unwrap_or_default()
    };
    let fail = |reason: String| (Outcome::new(Status::Fail, reason), Vec::new());
    let ending = finished.exit.describe(Some(timeout));
    match finished.exit {
        Exit::Signal(_) => fail(format!("{ending}{}", last_line())),
        Exit::TimedOut | Exit::Stopped => fail(ending),
        Exit::Code(code) => match finished.result.as_ref().and_then(parse_result) {
            Some(r) if code == 0 => r,
            _ => fail(format!(
                "the check's process {ending} without a result{}",
                last_line()
            )),
        },
    }
}

/// One check in a child process: of algorithm `algo`, or for an env
/// check, of the env `algo` names.
fn run_child(req: &Request, algo: Option<&str>, check: Check) -> Result<(Row, Vec<String>)> {
    let env_check = Check::ENV.contains(&check);
    let mut args: Vec<OsString> = ["check", "plugin-one", "--check", check.name()]
        .map(OsString::from)
        .to_vec();
    if let Some(p) = &req.plugin {
        args.extend([OsString::from("--plugin"), p.clone().into_os_string()]);
    }
    match (env_check, algo) {
        (true, Some(id)) => args.extend([OsString::from("--env"), id.into()]),
        (false, Some(a)) => args.extend([OsString::from("--algo"), a.into()]),
        (_, None) => {}
    }
    if let (false, Some(e)) = (env_check, &req.env) {
        args.extend([OsString::from("--env"), e.into()]);
    }
    let spec = ChildSpec {
        args,
        timeout: Some(req.timeout),
        grace: Duration::from_secs(1),
        mem_limit: None,
    };
    let finished = child::run_harness(&spec, &AtomicBool::new(false))?;
    let (outcome, ids) = outcome_of(&finished, req.timeout);
    Ok((
        Row {
            algorithm: match (env_check, algo) {
                (true, Some(id)) => format!("{ENV_ROW}{id}"),
                (true, None) => format!("{ENV_ROW}{LIBRARY_ROW}"),
                (false, a) => a.unwrap_or(LIBRARY_ROW).to_string(),
            },
            check,
            outcome,
            seconds: finished.wall.as_secs_f64(),
        },
        ids,
    ))
}

/// Run the battery; `on_row` sees each row as it finishes (progress).
pub fn validate(req: &Request, mut on_row: impl FnMut(&Row)) -> Result<Vec<Row>> {
    let (entry, ids) = run_child(req, None, Check::Entry)?;
    on_row(&entry);
    let mut rows = vec![entry];
    if rows[0].outcome.status == Status::Fail && ids.is_empty() {
        return Ok(rows);
    }
    let algos: Vec<String> = match &req.algo {
        Some(a) if ids.contains(a) => vec![a.clone()],
        Some(a) => bail!(
            "unknown algorithm '{a}'; the library offers: {}",
            ids.join(", ")
        ),
        None => ids,
    };
    for algo in &algos {
        for check in Check::ALL.into_iter().skip(1) {
            let (row, _) = run_child(req, Some(algo), check)?;
            on_row(&row);
            rows.push(row);
        }
    }
    if req.plugin.is_some() {
        validate_envs(req, &mut on_row, &mut rows)?;
    }
    Ok(rows)
}

/// The env-provider checks of `req.plugin`: its entry, then each env (the
/// one `req.env` names, when it is one of them or of a family of theirs).
fn validate_envs(req: &Request, on_row: &mut impl FnMut(&Row), rows: &mut Vec<Row>) -> Result<()> {
    let (entry, ids) = run_child(req, None, Check::EnvEntry)?;
    on_row(&entry);
    if entry.outcome.status == Status::Skip {
        // An algorithm library without envs: nothing to check.
        return Ok(());
    }
    rows.push(entry);
    let chosen = req.env.as_deref().filter(|e| {
        ids.iter().any(|id| {
            id == e || (trustbench_envs::external::is_family(id) && e.starts_with(id.as_str()))
        })
    });
    let envs: Vec<&str> = match chosen {
        Some(e) => vec![e],
        None => ids.iter().map(String::as_str).collect(),
    };
    for id in envs {
        for check in Check::ENV.into_iter().skip(1) {
            let (row, _) = run_child(req, Some(id), check)?;
            on_row(&row);
            rows.push(row);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_round_trip_and_unknown_ones_list_the_valid() {
        for c in Check::ALL.into_iter().chain(Check::ENV) {
            assert_eq!(Check::parse(c.name()).unwrap(), c);
        }
        let e = Check::parse("speedy").unwrap_err().to_string();
        assert!(e.contains("'speedy'") && e.contains("save-load"), "{e}");
    }

    #[test]
    fn reasons_are_one_bounded_line() {
        let o = Outcome::new(Status::Warn, format!("a\nb{}", "x".repeat(2 * MAX_REASON)));
        assert!(!o.reason.contains('\n'));
        assert_eq!(o.reason.chars().count(), MAX_REASON + 1);
    }

    #[test]
    fn a_child_is_judged_by_its_result_or_by_how_it_ended() {
        let finished = |exit, tail: &str, result| child::Finished {
            exit,
            stderr_tail: tail.to_string(),
            progress: None,
            result,
            wall: Duration::ZERO,
            peak_address_space: None,
        };
        let t = Duration::from_secs(60);
        let result = result_of(&Outcome::new(Status::Warn, "why"), &["a".into()]);
        let (o, ids) = outcome_of(&finished(Exit::Code(0), "noise", Some(result)), t);
        assert_eq!(
            (o.status, o.reason.as_str(), ids),
            (Status::Warn, "why", vec!["a".into()])
        );
        let (o, _) = outcome_of(&finished(Exit::Signal(libc::SIGSEGV), "boom", None), t);
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.reason.starts_with("killed by SIGSEGV") && o.reason.contains("boom"),
            "{}",
            o.reason
        );
        let (o, _) = outcome_of(&finished(Exit::TimedOut, "", None), t);
        assert_eq!(o.reason, "timed out (limit 1m)");
        let (o, _) = outcome_of(&finished(Exit::Code(0), "no result", None), t);
        assert!(o.reason.contains("without a result"), "{}", o.reason);
    }
}
