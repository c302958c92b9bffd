//! What a sweep runs: a grid of (algorithm or named variant) × env × seed,
//! given by flags or by a TOML file, resolved up front into the exact
//! [`RunRequest`]s — so a typo in an algorithm, env or config key fails the
//! sweep before any run starts, and the run ids (hence resumption) are fixed.
//!
//! The file form, for grids flags cannot express (per-env budgets,
//! per-algorithm configs, named variants), is [`SweepSpec`]; `docs/sweeps.md`
//! shows a complete file, and a test plans
//! that very example, so it cannot go stale.
//!
//! Paths in the file are relative to the current directory, as flags are.
//!
//! **Bounded**: a grid of more than [`MAX_RUNS`] runs (or `--max-runs`) is
//! refused before anything is built, naming the product that made it
//! large, so a typo such as `--seeds 100000000` costs nothing.

use crate::catalog::Catalog;
use crate::config;
use crate::plugin::AlgorithmRef;
use crate::run::{self, RunRequest};
use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use trustbench_envs::{EnvConfig, parse_assignment, resolve, resolve_spec};

/// Runs a sweep may plan unless told otherwise (`--max-runs`).
pub const MAX_RUNS: u64 = 100_000;

/// A sweep as written in its TOML file; the flags build the same struct.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// Algorithm ids, each run with its default config (plus `[config.ID]`).
    #[serde(default)]
    pub algos: Vec<String>,
    /// Envs (ids or short names).
    pub envs: Vec<String>,
    /// Which seeds.
    pub seeds: Seeds,
    /// Env-step budget of each run, unless `env_steps` names its env
    /// [default: each env's own, see `harness list`].
    #[serde(default)]
    pub steps: Option<u64>,
    /// Per-env budgets, keyed by env id or short name.
    #[serde(default)]
    pub env_steps: BTreeMap<String, u64>,
    /// Config per algorithm id, applied over its defaults.
    #[serde(default)]
    pub config: BTreeMap<String, toml::Table>,
    /// Named variants.
    #[serde(default)]
    pub variants: BTreeMap<String, Variant>,
    /// `KEY=VALUE` for every algorithm that has the key (flags only).
    #[serde(skip)]
    pub sets: Vec<String>,
    /// Env options `KEY=VALUE` applied to every env of the sweep (each env
    /// must accept them).
    #[serde(default)]
    pub env_set: Vec<String>,
    /// Env copies stepped together.
    #[serde(default = "default_num_envs")]
    pub num_envs: u32,
    /// Evaluate every N env steps [default: the run's budget / 20].
    #[serde(default)]
    pub eval_every: Option<u64>,
    /// Episodes per evaluation.
    #[serde(default = "default_eval_episodes")]
    pub eval_episodes: u32,
    /// Plugin libraries to load.
    #[serde(default)]
    pub plugins: Vec<PathBuf>,
    /// Output directory.
    #[serde(default)]
    pub out: Option<PathBuf>,
}

fn default_num_envs() -> u32 {
    run::DEFAULT_NUM_ENVS
}

fn default_eval_episodes() -> u32 {
    run::DEFAULT_EVAL_EPISODES
}

/// The seeds of a sweep.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Seeds {
    /// Seeds `0..n`.
    Count(u64),
    /// These seeds.
    List(Vec<u64>),
}

/// A named variant: an algorithm with its own config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// The algorithm it configures (its `[config.ID]` applies first).
    pub algo: String,
    /// Config over the algorithm's defaults and its `[config.ID]`.
    #[serde(default)]
    pub config: toml::Table,
}

/// One run of a sweep.
#[derive(Clone)]
pub struct PlannedRun {
    /// What reports call it: the variant name, else the algorithm id.
    pub label: String,
    /// The run, fully resolved (`quiet`: the sweep shows its own progress).
    pub request: RunRequest,
}

/// A resolved sweep.
pub struct Plan {
    /// Output directory; run `r` writes into `out/<run id of r>/`.
    pub out: PathBuf,
    /// The plugin libraries its algorithms were looked up in, in search
    /// order (a child process rebuilds the catalog from them).
    pub plugins: Vec<PathBuf>,
    /// Every run, seed-major (all of seed 0 first), so a sweep stopped
    /// halfway already has every algorithm on every env.
    pub runs: Vec<PlannedRun>,
}

/// An algorithm (or variant) of the grid with its resolved config.
struct Entry {
    label: String,
    algorithm: AlgorithmRef,
    config: Map<String, Value>,
}

impl SweepSpec {
    /// Read a sweep file.
    pub fn from_file(path: &Path) -> Result<SweepSpec> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("sweep file {}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow!("sweep file {}: {e}", path.display()))
    }

    /// Resolve every run. `out` (from `--out`) wins over the file's `out`;
    /// `extra_plugins` (from `--plugin`) are searched before the file's.
    pub fn plan(&self, out: Option<&Path>, extra_plugins: &[PathBuf]) -> Result<Plan> {
        self.plan_at_most(out, extra_plugins, MAX_RUNS)
    }

    /// [`SweepSpec::plan`], refusing grids of more than `max_runs` runs.
    pub fn plan_at_most(
        &self,
        out: Option<&Path>,
        extra_plugins: &[PathBuf],
        max_runs: u64,
    ) -> Result<Plan> {
        let out = out
            .or(self.out.as_deref())
            .ok_or_else(|| anyhow!("no output directory: give --out DIR"))?
            .to_path_buf();
        let plugins: Vec<PathBuf> = extra_plugins.iter().chain(&self.plugins).cloned().collect();
        let catalog = Catalog::new(&plugins)?;
        let entries = self.entries(&catalog)?;
        let budgets = self.budgets()?;
        self.check_size(entries.len(), budgets.len(), max_runs)?;
        let seeds = self.seed_list()?;
        if self.num_envs == 0 || self.eval_episodes == 0 {
            bail!("num_envs and eval_episodes must be at least 1");
        }
        let mut runs = Vec::with_capacity(seeds.len() * budgets.len() * entries.len());
        for &seed in &seeds {
            for (env, steps) in &budgets {
                let steps = *steps;
                for entry in &entries {
                    let request = RunRequest {
                        algorithm: entry.algorithm.clone(),
                        config: entry.config.clone(),
                        env: env.clone(),
                        seed,
                        steps,
                        num_envs: self.num_envs,
                        eval_every: self
                            .eval_every
                            .unwrap_or_else(|| run::default_eval_every(steps)),
                        eval_episodes: self.eval_episodes,
                        out_dir: out.clone(),
                        quiet: true,
                        threads: 1,
                    };
                    runs.push(PlannedRun {
                        label: entry.label.clone(),
                        request,
                    });
                }
            }
        }
        let mut seen = HashMap::new();
        for run in &runs {
            if let Some(other) = seen.insert(run.request.run_id(), &run.label) {
                bail!(
                    "variants '{other}' and '{}' are the same algorithm with the same config; \
                     give them different configs or drop one",
                    run.label
                );
            }
        }
        Ok(Plan { out, plugins, runs })
    }

    /// The algorithms and variants with their configs.
    fn entries(&self, catalog: &Catalog) -> Result<Vec<Entry>> {
        let mut entries = Vec::new();
        for id in &self.algos {
            if self.variants.contains_key(id) {
                bail!("'{id}' is both an algorithm in algos and a variant name");
            }
            entries.push(self.entry(catalog, id, id, &toml::Table::new())?);
        }
        for (name, variant) in &self.variants {
            entries.push(self.entry(catalog, name, &variant.algo, &variant.config)?);
        }
        if entries.is_empty() {
            bail!("the sweep has no algorithm: give --algos (or algos / [variants] in the file)");
        }
        for id in self.config.keys() {
            if !entries.iter().any(|e| &e.algorithm.info.id == id) {
                bail!("[config.{id}]: no algorithm '{id}' in this sweep");
            }
        }
        for assignment in &self.sets {
            let key = set_key(assignment);
            if !entries
                .iter()
                .any(|e| e.algorithm.info.default_config.contains_key(key))
            {
                bail!("--set '{assignment}': no algorithm of this sweep has config key '{key}'");
            }
        }
        Ok(entries)
    }

    /// One entry: the algorithm's defaults, then `[config.ID]`, then the
    /// variant's config, then the `--set`s whose key the algorithm has.
    fn entry(
        &self,
        catalog: &Catalog,
        label: &str,
        id: &str,
        variant: &toml::Table,
    ) -> Result<Entry> {
        let algorithm = catalog.find(id)?;
        let defaults = &algorithm.info.default_config;
        let mut sets = Vec::new();
        for table in self.config.get(id).into_iter().chain([variant]) {
            for (key, value) in table {
                // `--set` parses JSON first, so this carries the value exactly.
                sets.push(format!("{key}={}", serde_json::to_string(value)?));
            }
        }
        sets.extend(
            self.sets
                .iter()
                .filter(|s| defaults.contains_key(set_key(s)))
                .cloned(),
        );
        let config = config::resolve(id, defaults, None, &sets)
            .with_context(|| format!("config of '{label}'"))?;
        Ok(Entry {
            label: label.to_string(),
            algorithm,
            config,
        })
    }

    /// Each env, with the sweep's env options, and its budget.
    fn budgets(&self) -> Result<Vec<(EnvConfig, u64)>> {
        let options = self
            .env_set
            .iter()
            .map(|s| parse_assignment(s))
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| anyhow!("env_set: {e}"))?;
        let mut envs: Vec<EnvConfig> = Vec::new();
        for name in &self.envs {
            let spec = resolve_spec(name).map_err(anyhow::Error::msg)?;
            if !envs.iter().any(|e| e.id() == spec.id) {
                envs.push(EnvConfig::new(spec, &options).map_err(anyhow::Error::msg)?);
            }
        }
        if envs.is_empty() {
            bail!("the sweep has no env: give --envs");
        }
        let mut budgets: Vec<(EnvConfig, u64)> = envs
            .into_iter()
            .map(|e| {
                let steps = self.steps.unwrap_or(e.spec().default_steps);
                (e, steps)
            })
            .collect();
        for (name, &steps) in &self.env_steps {
            let env = resolve(name).map_err(|e| anyhow!("[env_steps]: {e}"))?;
            let slot = budgets
                .iter_mut()
                .find(|(e, _)| e.id() == env.id())
                .ok_or_else(|| anyhow!("[env_steps]: '{name}' is not among the sweep's envs"))?;
            slot.1 = steps;
        }
        if budgets.iter().any(|(_, steps)| *steps == 0) {
            bail!("step budgets must be at least 1");
        }
        Ok(budgets)
    }

    /// Refuse a grid of more than `max_runs` runs, naming its factors.
    fn check_size(&self, entries: usize, envs: usize, max_runs: u64) -> Result<()> {
        let seeds = match &self.seeds {
            Seeds::Count(n) => *n,
            Seeds::List(list) => list.len() as u64,
        };
        let runs = u128::from(seeds) * entries as u128 * envs as u128;
        if runs > u128::from(max_runs) {
            let plural =
                |n: u128, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
            bail!(
                "the sweep has {runs} runs ({} × {} × {}), more than the limit of {max_runs}: \
                 check the seeds, or raise the limit with --max-runs N",
                plural(seeds.into(), "seed", "seeds"),
                plural(
                    entries as u128,
                    "algorithm or variant",
                    "algorithms and variants"
                ),
                plural(envs as u128, "env", "envs"),
            );
        }
        Ok(())
    }

    fn seed_list(&self) -> Result<Vec<u64>> {
        let seeds: Vec<u64> = match &self.seeds {
            Seeds::Count(n) => (0..*n).collect(),
            Seeds::List(list) => list.clone(),
        };
        let mut unique = seeds.clone();
        unique.sort_unstable();
        unique.dedup();
        if seeds.is_empty() || unique.len() != seeds.len() {
            bail!("seeds must be a positive count or a list of distinct seeds");
        }
        Ok(seeds)
    }
}

/// The key of a `KEY=VALUE` assignment.
fn set_key(assignment: &str) -> &str {
    assignment
        .split_once('=')
        .map_or(assignment, |(k, _)| k)
        .trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> SweepSpec {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn grid_is_seed_major_with_per_env_budgets() {
        let s = spec(
            r#"algos = ["random"]
               envs = ["cartpole", "pendulum"]
               seeds = 2
               steps = 1000
               env_steps = { pendulum = 3000 }
               [config.random]
               steps_per_iteration = 500
               [variants.big-batches]
               algo = "random"
               config = { steps_per_iteration = 1000 }"#,
        );
        let plan = s.plan(Some(Path::new("out")), &[]).unwrap();
        let got: Vec<(String, &str, u64, u64, u64)> = plan
            .runs
            .iter()
            .map(|r| {
                let q = &r.request;
                let spi = q.config["steps_per_iteration"].as_u64().unwrap();
                (r.label.clone(), q.env.id(), q.seed, q.steps, spi)
            })
            .collect();
        assert_eq!(got.len(), 8);
        assert_eq!(got[0], ("random".into(), "cartpole-v0", 0, 1000, 500));
        assert_eq!(got[1], ("big-batches".into(), "cartpole-v0", 0, 1000, 1000));
        assert_eq!(got[3], ("big-batches".into(), "pendulum-v0", 0, 3000, 1000));
        assert_eq!(got[4].2, 1);
        assert!(plan.runs.iter().all(|r| r.request.quiet));
        assert_eq!(plan.runs[2].request.eval_every, 150);
    }

    #[test]
    fn mistakes_are_refused_before_any_run() {
        let base = r#"envs = ["cartpole"]
                      seeds = 1
                      steps = 100"#;
        let err = |extra: &str, sets: &[&str]| {
            let mut s = spec(&format!("{base}\n{extra}"));
            s.sets = sets.iter().map(|s| s.to_string()).collect();
            format!("{:#}", s.plan(Some(Path::new("o")), &[]).err().unwrap())
        };
        assert!(err(r#"algos = ["nope"]"#, &[]).contains("unknown algorithm 'nope'"));
        assert!(err("", &[]).contains("no algorithm"));
        assert!(
            err(r#"algos = ["random"]"#, &["delta=0.1"]).contains("no algorithm of this sweep")
        );
        let e = err(
            "algos = [\"random\"]\n[config.random]\nsteps_per_iteraton = 5",
            &[],
        );
        assert!(e.contains("'steps_per_iteraton'"), "{e}");
        let e = err("algos = [\"random\"]\n[env_steps]\npendulum = 5", &[]);
        assert!(e.contains("not among the sweep's envs"), "{e}");
        let e = err(
            "[variants.a]\nalgo = \"random\"\n[variants.b]\nalgo = \"random\"",
            &[],
        );
        assert!(e.contains("same config"), "{e}");
        assert!(toml::from_str::<SweepSpec>(&format!("{base}\nalgo = [\"x\"]")).is_err());
    }

    #[test]
    fn env_options_apply_to_every_env_of_the_sweep() {
        let mut s = spec(
            r#"algos = ["random"]
               envs = ["breakout", "pong"]
               seeds = 1
               steps = 100
               env_set = ["view=pixels"]"#,
        );
        s.env_set.push("frameskip=2".into());
        let plan = s.plan(Some(Path::new("o")), &[]).unwrap();
        assert_eq!(plan.runs.len(), 2);
        for r in &plan.runs {
            let o = r.request.env.options();
            assert_eq!((o.get("view"), o.get("frameskip")), ("pixels", "2"));
        }
        s.envs.push("cartpole".into());
        let e = format!("{:#}", s.plan(Some(Path::new("o")), &[]).err().unwrap());
        assert!(e.contains("cartpole-v0") && e.contains("'view'"), "{e}");
    }
}
