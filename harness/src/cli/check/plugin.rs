//! `harness check plugin`: the conformance validator's command line, and
//! the hidden `harness check plugin-one` that runs one check in a child.

use crate::check::plugin::{self as validate, Check, Request, Row, Status};
use crate::cli::emit;
use crate::text::table;
use anyhow::{Result, anyhow, bail};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

/// `harness check plugin`.
#[derive(Debug, Args)]
pub struct PluginCheckArgs {
    /// The plugin library to validate [default: the built-in algorithms].
    #[arg(long, value_name = "PATH")]
    plugin: Option<PathBuf>,
    /// Only this algorithm of the library [default: every one].
    #[arg(long, value_name = "ID")]
    algo: Option<String>,
    /// Train on this env [default: cartpole for discrete actions, else pendulum]; for a
    /// library that offers envs, check only this one of them.
    #[arg(long)]
    env: Option<String>,
    /// Print JSON (schema in docs/plugins.md) instead of a table.
    #[arg(long)]
    json: bool,
    /// Wall-clock limit of each check, e.g. `60s`, `2m`, `500ms`.
    #[arg(long, default_value = "60s", value_name = "DUR", value_parser = parse_duration)]
    timeout: Duration,
}

/// `harness check plugin-one`: one check, in this process; the outcome is
/// the last line on stderr. Run by `harness check plugin` in a child.
#[derive(Debug, Args)]
pub struct PluginOneArgs {
    #[arg(long)]
    plugin: Option<PathBuf>,
    #[arg(long)]
    algo: Option<String>,
    #[arg(long)]
    check: String,
    #[arg(long)]
    env: Option<String>,
}

/// `60`, `60s`, `2m`, `500ms`: a positive duration.
fn parse_duration(text: &str) -> Result<Duration> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && (v * scale).is_finite() => Ok(Duration::from_secs_f64(v * scale)),
        _ => bail!("'{text}' is not a positive duration (valid: e.g. 60s, 2m, 500ms, 90)"),
    }
}

impl PluginCheckArgs {
    /// The request, with the env name checked.
    pub fn resolve(&self) -> Result<Request> {
        // A plugin's own envs are known only once it is loaded, which
        // only the checks' child processes do.
        if let (Some(env), None) = (&self.env, &self.plugin) {
            trustbench_envs::resolve_spec(env).map_err(anyhow::Error::msg)?;
        }
        if let Some(p) = &self.plugin
            && !p.exists()
        {
            bail!("plugin {}: no such file", p.display());
        }
        Ok(Request {
            plugin: self.plugin.clone(),
            algo: self.algo.clone(),
            env: self.env.clone(),
            timeout: self.timeout,
        })
    }
}

impl PluginOneArgs {
    /// The check named by `--check`.
    pub fn resolve(&self) -> Result<Check> {
        Check::parse(&self.check)
    }
}

/// Run the battery, print a table (or JSON); an error if any check FAILed.
pub fn execute(args: &PluginCheckArgs) -> Result<()> {
    let req = args.resolve()?;
    let rows = validate::validate(&req, |row| {
        eprintln!(
            "{} {} {}",
            row.outcome.status.as_str(),
            row.algorithm,
            row.check.name()
        );
    })?;
    let count = |s: Status| rows.iter().filter(|r| r.outcome.status == s).count();
    let failed = count(Status::Fail);
    if args.json {
        let body = json!({
            "plugin": req.plugin.as_ref().map(|p| p.display().to_string()),
            "checks": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
            "summary": {
                "pass": count(Status::Pass),
                "fail": failed,
                "warn": count(Status::Warn),
                "skip": count(Status::Skip),
            },
        });
        emit(&format!("{}\n", serde_json::to_string_pretty(&body)?));
    } else {
        let cells: Vec<[String; 4]> = rows
            .iter()
            .map(|r| {
                [
                    r.algorithm.clone(),
                    r.check.name().to_string(),
                    r.outcome.status.as_str().to_string(),
                    r.outcome.reason.clone(),
                ]
            })
            .collect();
        let mut out = table(&["ALGORITHM", "CHECK", "STATUS", "REASON"], &cells);
        out += &format!(
            "{} checks: {} PASS, {failed} FAIL, {} WARN, {} SKIP\n",
            rows.len(),
            count(Status::Pass),
            count(Status::Warn),
            count(Status::Skip)
        );
        emit(&out);
    }
    if failed > 0 {
        return Err(anyhow!("{failed} check(s) failed"));
    }
    Ok(())
}

/// Run one check here and report its outcome to the parent.
pub fn execute_one(args: &PluginOneArgs) -> Result<()> {
    let check = args.resolve()?;
    let (outcome, ids) = validate::run_in_child(
        args.plugin.as_deref(),
        args.algo.as_deref(),
        check,
        args.env.as_deref(),
    );
    validate::report(&outcome, &ids);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_bad_ones_say_what_is_valid() {
        assert_eq!(parse_duration("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        let e = parse_duration("-1s").unwrap_err().to_string();
        assert!(e.contains("'-1s'") && e.contains("60s"), "{e}");
    }
}
