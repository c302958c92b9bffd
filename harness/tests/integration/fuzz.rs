//! Fuzzing what people type and what the harness reads back, bounded to a
//! few seconds and seeded (a failure names its case and reproduces): `--set`
//! values, sweep files, env options, durations, sizes and shards, and the
//! Parquet readers behind `report` and `sweep --status` on truncated,
//! corrupted and wrong-schema files. Nothing may panic; a bad input gets an
//! error that names it, or is skipped with a note that names the file.

use harness::results::{self, ManifestRun, RunRow, RunStatus};
use harness::sweep::{SweepSpec, parse_duration};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// xorshift64*: a small seeded generator, so every case can be replayed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// A string of up to `max` characters, mostly from the characters that
    /// matter to the parsers (digits, units, separators, quotes, brackets),
    /// sometimes any Unicode scalar.
    fn text(&mut self, max: usize) -> String {
        const ALPHABET: &[char] = &[
            '0', '1', '9', '-', '+', '.', 'e', 'E', 's', 'm', 'h', 'd', 'K', 'M', 'G', 'T', '/',
            '=', ',', ' ', '"', '\'', '[', ']', '{', '}', '\n', '\\', '#', 'x', '_', 'n', 'a', 'u',
            'l', 't', 'r', 'f', ':', '\0',
        ];
        (0..self.below(max + 1))
            .map(|_| match self.below(10) {
                0 => char::from_u32(self.next() as u32 % 0x11_0000).unwrap_or('\u{fffd}'),
                _ => ALPHABET[self.below(ALPHABET.len())],
            })
            .collect()
    }
}

/// Run `f` on `cases` generated inputs; a panic fails the test naming the input.
fn never_panics<T: std::fmt::Debug>(
    seed: u64,
    cases: usize,
    mut make: impl FnMut(&mut Gen) -> T,
    mut f: impl FnMut(&T),
) {
    let mut g = Gen(seed);
    for case in 0..cases {
        let input = make(&mut g);
        if catch_unwind(AssertUnwindSafe(|| f(&input))).is_err() {
            panic!("case {case} (seed {seed}) panicked on {input:?}");
        }
    }
}

#[test]
fn set_values_never_panic_and_errors_name_the_assignment() {
    let catalog = harness::catalog::Catalog::new(&[]).unwrap();
    let algos: Vec<_> = ["trpo", "ppo", "cem", "random"]
        .iter()
        .map(|id| catalog.find(id).unwrap())
        .collect();
    let keys: Vec<Vec<String>> = algos
        .iter()
        .map(|a| a.info.default_config.keys().cloned().collect())
        .collect();
    never_panics(
        1,
        3000,
        |g| {
            let k = g.below(algos.len());
            let key = match g.below(4) {
                0 => g.text(8),
                _ => keys[k][g.below(keys[k].len())].clone(),
            };
            let value = match g.below(3) {
                0 => g
                    .pick(&[
                        "0", "-1", "1e400", "NaN", "inf", "[]", "{}", "null", "true", "\"\"",
                    ])
                    .to_string(),
                _ => g.text(12),
            };
            (k, format!("{key}={value}"))
        },
        |(k, set)| {
            let a = &algos[*k];
            if let Err(e) = harness::config::resolve(
                &a.info.id,
                &a.info.default_config,
                None,
                std::slice::from_ref(set),
            ) {
                let e = format!("{e:#}");
                let key = set.split_once('=').map_or(set.as_str(), |(k, _)| k).trim();
                assert!(e.contains(key), "{set:?} -> {e}");
            }
        },
    );
}

/// The sweep file of `docs/sweeps.md`, which random edits start from.
const SWEEP_FILE: &str = r#"algos = ["random", "trpo"]
envs = ["cartpole", "pendulum"]
seeds = 5
steps = 100000
env_steps = { pendulum = 200000 }
[config.trpo]
max_kl = 0.01
[variants.trpo-vine]
algo = "trpo"
config = { sampling = "vine" }
"#;

#[test]
fn sweep_files_never_panic() {
    let out = tempfile::tempdir().unwrap();
    let out = out.path().join("never-written");
    never_panics(
        2,
        1500,
        |g| {
            let mut text: Vec<char> = SWEEP_FILE.chars().collect();
            for _ in 0..1 + g.below(4) {
                let at = g.below(text.len());
                match g.below(3) {
                    0 => {
                        text.remove(at);
                    }
                    1 => text.insert(at, g.text(3).chars().next().unwrap_or('9')),
                    _ => text[at] = g.text(2).chars().next().unwrap_or('0'),
                }
            }
            text.into_iter().collect::<String>()
        },
        |text| {
            if let Ok(spec) = toml::from_str::<SweepSpec>(text)
                && let Err(e) = spec.plan(Some(&out), &[])
            {
                assert!(!format!("{e:#}").is_empty());
            }
        },
    );
    assert!(!out.exists(), "planning writes nothing");
    // The bound holds for every factor.
    let spec: SweepSpec =
        toml::from_str(&SWEEP_FILE.replace("seeds = 5", "seeds = 60000")).unwrap();
    let e = format!("{:#}", spec.plan(Some(&out), &[]).err().unwrap());
    assert!(
        e.contains("360000 runs (60000 seeds × 3 algorithms and variants × 2 envs)"),
        "{e}"
    );
    let e = format!(
        "{:#}",
        spec.plan_at_most(Some(&out), &[], 1000).err().unwrap()
    );
    assert!(
        e.contains("limit of 1000") && e.contains("--max-runs"),
        "{e}"
    );
}

#[test]
fn env_options_never_panic_and_errors_name_the_option() {
    let specs = trustbench_envs::registry();
    never_panics(
        3,
        2000,
        |g| {
            let spec = g.below(specs.len());
            let options = &specs[spec].options;
            let key = match (g.below(5), options.is_empty()) {
                (0, _) | (_, true) => g.text(6),
                _ => options[g.below(options.len())].key.to_string(),
            };
            let value = match g.below(3) {
                0 => g
                    .pick(&[
                        "0",
                        "-1",
                        "99999999999",
                        "",
                        "pixels",
                        "compact",
                        "2015",
                        "1.5",
                    ])
                    .into(),
                _ => g.text(8),
            };
            (spec, key, value)
        },
        |(spec, key, value)| {
            let options = [(key.clone(), value.clone())];
            if let Err(e) = trustbench_envs::EnvConfig::new(&specs[*spec], &options) {
                assert!(
                    e.contains(key.trim()) || e.contains(value.trim()),
                    "{key}={value}: {e}"
                );
            }
        },
    );
}

#[test]
fn durations_sizes_and_shards_never_panic() {
    never_panics(
        4,
        5000,
        |g| g.text(10),
        |text| {
            if let Ok(d) = parse_duration(text) {
                let again = harness::child::format_duration(d);
                assert_eq!(parse_duration(&again).unwrap(), d, "{text:?} -> {again}");
            } else {
                let e = parse_duration(text).unwrap_err().to_string();
                assert!(e.contains(&format!("'{text}'")), "{e}");
            }
            match text.parse::<harness::child::MemLimit>() {
                Ok(m) => assert_eq!(
                    m.to_string().parse::<harness::child::MemLimit>().unwrap(),
                    m
                ),
                Err(e) => assert!(e.to_string().contains(&format!("'{text}'")), "{e}"),
            }
            match text.parse::<harness::sweep::shard::Shard>() {
                Ok(s) => assert!(s.index < s.count),
                Err(e) => assert!(e.to_string().contains(&format!("'{text}'")), "{e}"),
            }
        },
    );
}

/// A plausible `runs` row.
fn row(run_id: &str) -> RunRow {
    RunRow {
        run_id: run_id.into(),
        status: RunStatus::Ok,
        error: None,
        algorithm_id: "random".into(),
        algorithm_version: "1".into(),
        plugin_library: "builtin".into(),
        plugin_path: None,
        abi_version: "1.0".into(),
        env_id: "cartpole-v0".into(),
        seed: 0,
        num_envs: 1,
        step_budget: 100,
        env_steps: 100,
        iterations: 1,
        config_json: "{}".into(),
        harness_version: "0".into(),
        cpu_model: None,
        cpu_features: None,
        plugin_runtime: None,
        env_provider: None,
        start_time_us: 0,
        end_time_us: 1,
        wall_seconds: 0.5,
    }
}

/// Each run directory of `out` damaged in its own way, from `good`'s bytes.
fn damage(g: &mut Gen, good: &[u8], metrics: &[u8]) -> Vec<u8> {
    let mut bytes = good.to_vec();
    match g.below(4) {
        0 => bytes.truncate(g.below(good.len())),
        1 => {
            for _ in 0..1 + g.below(8) {
                let at = g.below(bytes.len());
                bytes[at] = g.next() as u8;
            }
        }
        // Another table's schema where `runs` is expected.
        2 => bytes = metrics.to_vec(),
        _ => {
            let at = g.below(bytes.len());
            bytes.splice(at..at, (0..g.below(64)).map(|_| g.next() as u8));
        }
    }
    bytes
}

#[test]
fn damaged_parquet_files_are_errors_or_skips_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good_dir = dir.path().join("good");
    std::fs::create_dir_all(&good_dir).unwrap();
    results::write_runs(&good_dir, &row("good")).unwrap();
    results::write_metrics(&good_dir, "good", &[]).unwrap();
    let good = std::fs::read(good_dir.join(results::RUNS_FILE)).unwrap();
    let metrics = std::fs::read(good_dir.join(results::METRICS_FILE)).unwrap();
    let out = dir.path().join("sweep");
    let mut g = Gen(5);
    let mut planned = Vec::new();
    for case in 0..150 {
        let id = format!("random-cartpole-v0-s{case}-00000000");
        let run = out.join(&id);
        std::fs::create_dir_all(&run).unwrap();
        let bytes = damage(&mut g, &good, &metrics);
        std::fs::write(run.join(results::RUNS_FILE), &bytes).unwrap();
        std::fs::write(
            run.join(results::METRICS_FILE),
            damage(&mut g, &metrics, &good),
        )
        .unwrap();
        let read = catch_unwind(|| results::read_run(&run))
            .unwrap_or_else(|_| panic!("read_run panicked on case {case}"));
        if let Err(e) = read {
            assert!(format!("{e:#}").contains(&id), "case {case}: {e:#}");
        }
        let read = catch_unwind(|| results::read_metrics(&run, &[results::EVAL_RETURN_MEAN]))
            .unwrap_or_else(|_| panic!("read_metrics panicked on case {case}"));
        if let Err(e) = read {
            assert!(format!("{e:#}").contains(&id), "case {case}: {e:#}");
        }
        planned.push(ManifestRun {
            run_id: id,
            label: "random".into(),
            env_id: "cartpole-v0".into(),
        });
    }
    results::record_runs(&out, &planned).unwrap();
    // `sweep --status` counts every run, the unreadable ones with a warning each.
    let status = catch_unwind(|| harness::sweep::status::collect(&out))
        .expect("status collect panicked")
        .unwrap();
    let counted: usize = status.counts.values().flat_map(|c| c.values()).sum();
    assert_eq!(counted, planned.len());
    for w in &status.warnings {
        assert!(w.contains("random-cartpole-v0-s"), "{w}");
    }
    assert!(!status.warnings.is_empty());
    // The report skips what it cannot read, naming each directory.
    let loaded = catch_unwind(|| harness::report::data::load(std::slice::from_ref(&out)))
        .expect("report load panicked");
    if let Ok(loaded) = loaded {
        assert!(
            loaded
                .notes
                .iter()
                .all(|n| n.contains("random-cartpole-v0-s"))
        );
    }
}
