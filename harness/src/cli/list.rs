//! `harness list`: every algorithm the catalog offers and every env, with
//! the env options.

use super::args::PluginArgs;
use super::emit;
use crate::catalog::Catalog;
use crate::text::table;
use anyhow::Result;
use clap::Args;
use trustbench_envs::{EnvSpec, Space, external, registry};
use trustbench_plugin::kinds;

/// `harness list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    plugins: PluginArgs,
}

impl ListArgs {
    /// The catalog to list.
    pub fn resolve(&self) -> Result<Catalog> {
        self.plugins.catalog()
    }
}

fn kinds_name(mask: u32) -> &'static str {
    match mask & kinds::ANY {
        kinds::ANY => "box,discrete",
        kinds::BOX => "box",
        kinds::DISCRETE => "discrete",
        _ => "none",
    }
}

/// Print the tables.
pub fn execute(args: &ListArgs) -> Result<()> {
    let catalog = args.resolve()?;
    let mut out = String::from("Algorithms:\n");
    let rows: Vec<[String; 6]> = catalog
        .algorithms()
        .map(|a| {
            [
                a.info.id.clone(),
                a.info.version.clone(),
                format!("{}.{}", a.library.abi.0, a.library.abi.1),
                format!(
                    "{} / {}",
                    kinds_name(a.info.observation_kinds),
                    kinds_name(a.info.action_kinds)
                ),
                a.library.source.to_string(),
                a.info.name.clone(),
            ]
        })
        .collect();
    out += &table(
        &["ID", "VERSION", "ABI", "OBS / ACTION", "SOURCE", "NAME"],
        &rows,
    );
    out += "\nEnvironments:\n";
    // The harness's own envs, then those of the providers loaded.
    let specs: Vec<&'static EnvSpec> = registry().iter().chain(external::specs()).collect();
    let rows: Vec<[String; 5]> = specs
        .iter()
        .map(|spec| {
            let space = |s: &Space| s.describe();
            let (observation, action) = match spec.make_with(&[]) {
                Ok(env) => (space(env.observation_space()), space(env.action_space())),
                // A family (`gym:`) has no spaces until an id is chosen.
                Err(_) if external::is_family(spec.id) => ("(per id)".into(), "(per id)".into()),
                Err(e) => (format!("(error: {e})"), String::new()),
            };
            let summary = match crate::provider::provider_of_spec(spec) {
                Some(p) => format!("{} [{}]", spec.summary, p.culprit()),
                None => spec.summary.to_string(),
            };
            [
                spec.id.to_string(),
                observation,
                action,
                spec.default_steps.to_string(),
                summary,
            ]
        })
        .collect();
    out += &table(
        &[
            "ID",
            "OBSERVATION",
            "ACTION",
            "DEFAULT STEPS",
            "DESCRIPTION",
        ],
        &rows,
    );
    // The Gymnasium family loads on first use, so it is listed only once
    // loaded; name it anyway: it is how any standard env is reached.
    if !specs.iter().any(|s| s.id == crate::provider::GYM_PREFIX) {
        out += &format!(
            "  {}<ID>  any Gymnasium env (e.g. gym:Hopper-v5, gym:ALE/Pong-v5), through the \
             Python provider, loaded on first use: needs Python ≥ 3.11 with gymnasium \
             (docs/envs.md)\n",
            crate::provider::GYM_PREFIX
        );
    }
    // Options, once per distinct set (the arcade games share theirs).
    let mut seen: Vec<&'static [trustbench_envs::EnvOption]> = Vec::new();
    for spec in specs.iter().filter(|s| !s.options.is_empty()) {
        if seen.contains(&spec.options) {
            continue;
        }
        seen.push(spec.options);
        let ids: Vec<&str> = specs
            .iter()
            .filter(|s| s.options == spec.options)
            .map(|s| s.short_name())
            .collect();
        out += &format!("\nOptions of {} (--env-set KEY=VALUE):\n", ids.join(", "));
        let rows: Vec<[String; 4]> = spec
            .options
            .iter()
            .map(|o| {
                [
                    o.key.to_string(),
                    o.default.to_string(),
                    o.valid.to_string(),
                    o.help.to_string(),
                ]
            })
            .collect();
        out += &table(&["KEY", "DEFAULT", "VALID", "WHAT"], &rows);
    }
    emit(&out);
    Ok(())
}
