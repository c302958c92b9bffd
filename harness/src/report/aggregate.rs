//! Aggregates across envs on normalised scores, with the measures and
//! intervals of Agarwal et al. 2021: IQM with stratified-bootstrap CIs,
//! performance profiles with bands, and the probability of improvement of
//! each pair. Tasks are the envs with a reference score and a random
//! baseline; algorithms are the labels run on every such task (the
//! measures compare algorithms on the same tasks).

use super::data::Run;
use super::references::lookup;
use crate::results::stable_hash;
use crate::stats::bootstrap::{Bootstrap, Sample};
use crate::stats::mean;
use crate::stats::rliable::{iqm, performance_profile, probability_of_improvement};
use std::collections::BTreeMap;

/// Bootstrap replicates of every aggregate interval.
pub const AGGREGATE_REPS: usize = 5000;
/// The algorithm id whose runs give the random baseline.
pub const RANDOM_ALGORITHM: &str = "random";
/// Thresholds on a performance profile.
const PROFILE_POINTS: usize = 101;

/// An estimate with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Point estimate.
    pub value: f64,
    /// Lower end of the 95 % interval.
    pub lo: f64,
    /// Upper end of the 95 % interval.
    pub hi: f64,
}

/// One env's normalisation.
#[derive(Debug, Clone)]
pub struct Task {
    /// Env id.
    pub env_id: String,
    /// Score normalised to 0.
    pub random: f64,
    /// Where `random` comes from.
    pub random_source: String,
    /// Score normalised to 1.
    pub reference: f64,
    /// Where `reference` comes from.
    pub reference_source: &'static str,
}

/// The across-env aggregates of Agarwal et al. (2021) on normalised scores.
#[derive(Debug, Clone)]
pub struct Aggregates {
    /// The envs aggregated over.
    pub tasks: Vec<Task>,
    /// The algorithms compared.
    pub labels: Vec<String>,
    /// Runs per label (over all tasks).
    pub runs: Vec<usize>,
    /// IQM of normalised scores per label.
    pub iqm: Vec<Estimate>,
    /// Thresholds `τ` of the performance profiles.
    pub taus: Vec<f64>,
    /// Per label, the fraction of runs scoring above each `τ`.
    pub profiles: Vec<Vec<Estimate>>,
    /// `improvement[x][y]` = P(label x > label y); `None` on the diagonal.
    pub improvement: Vec<Vec<Option<Estimate>>>,
    /// What was left out and why.
    pub notes: Vec<String>,
}

/// The aggregates of the finished runs, or why there are none.
pub fn aggregate(runs: &[Run]) -> Result<Aggregates, Vec<String>> {
    let mut finals: BTreeMap<&str, BTreeMap<&str, Vec<f64>>> = BTreeMap::new();
    let mut random: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for run in runs.iter().filter(|r| r.ok()) {
        let score = run.final_return().expect("ok runs have evaluations");
        let env = run.row.env_id.as_str();
        finals
            .entry(env)
            .or_default()
            .entry(&run.label)
            .or_default()
            .push(score);
        if run.row.algorithm_id == RANDOM_ALGORITHM {
            random.entry(env).or_default().push(score);
        }
    }
    let mut notes = Vec::new();
    let tasks: Vec<Task> = finals
        .keys()
        .filter_map(|&env| {
            let task = task(env, random.get(env));
            if let Err(why) = &task {
                notes.push(why.clone());
            }
            task.ok()
        })
        .collect();
    if tasks.is_empty() {
        return Err(notes);
    }
    let mut labels: Vec<&str> = finals.values().flat_map(|m| m.keys().copied()).collect();
    labels.sort_unstable();
    labels.dedup();
    let mut samples: Vec<(String, Sample)> = Vec::new();
    for label in labels {
        let sample: Option<Sample> = tasks
            .iter()
            .map(|t| {
                let xs = finals[t.env_id.as_str()].get(label)?;
                Some(xs.iter().map(|x| t.normalise(*x)).collect())
            })
            .collect();
        match sample {
            Some(s) => samples.push((label.to_string(), s)),
            None => notes.push(format!(
                "{label} is left out: it was not run on every normalised env"
            )),
        }
    }
    if samples.is_empty() {
        notes.push("no algorithm was run on every normalised env".to_string());
        return Err(notes);
    }
    Ok(measure(tasks, samples, notes))
}

impl Task {
    /// `(score − random) / (reference − random)`.
    pub fn normalise(&self, score: f64) -> f64 {
        (score - self.random) / (self.reference - self.random)
    }
}

fn task(env: &str, random_runs: Option<&Vec<f64>>) -> Result<Task, String> {
    let r = lookup(env).ok_or_else(|| format!("{env} is left out: no reference score is known"))?;
    let (random, random_source) = match (r.random, random_runs) {
        (Some(x), _) => (x, "published random score".to_string()),
        (None, Some(xs)) => (
            mean(xs),
            format!(
                "mean final return of {RANDOM_ALGORITHM} ({} runs)",
                xs.len()
            ),
        ),
        (None, None) => {
            return Err(format!(
                "{env} is left out: no runs of the {RANDOM_ALGORITHM} algorithm to normalise \
                 with (add it to the sweep)"
            ));
        }
    };
    if random == r.reference {
        return Err(format!("{env} is left out: random scores the reference"));
    }
    Ok(Task {
        env_id: env.to_string(),
        random,
        random_source,
        reference: r.reference,
        reference_source: r.source,
    })
}

/// The measures and their stratified-bootstrap intervals. Each interval has
/// its own stream, seeded from the labels involved, so adding an algorithm
/// to a report leaves the others' intervals unchanged.
fn measure(tasks: Vec<Task>, samples: Vec<(String, Sample)>, notes: Vec<String>) -> Aggregates {
    let boot = |key: String| Bootstrap {
        reps: AGGREGATE_REPS,
        level: 0.95,
        seed: stable_hash(key.as_bytes()),
    };
    let estimate = |value: f64, (lo, hi): (f64, f64)| Estimate { value, lo, hi };
    let all: Vec<f64> = samples.iter().flat_map(|(_, s)| s.concat()).collect();
    // From below every score to above every score (the profile starts at 1
    // and ends at 0), covering random (0) and reference (1).
    let lo = all.iter().copied().fold(0.0, f64::min);
    let hi = all.iter().copied().fold(1.0, f64::max);
    let (lo, hi) = (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo));
    let taus: Vec<f64> = (0..PROFILE_POINTS)
        .map(|i| lo + (hi - lo) * i as f64 / (PROFILE_POINTS - 1) as f64)
        .collect();
    let iqm_of = |s: &[Sample]| vec![iqm(&s[0].concat())];
    let iqms = samples
        .iter()
        .map(|(label, s)| {
            let ci = boot(format!("iqm\0{label}")).intervals(std::slice::from_ref(s), iqm_of);
            estimate(iqm(&s.concat()), ci[0])
        })
        .collect();
    let profiles = samples
        .iter()
        .map(|(label, s)| {
            let cis = boot(format!("profile\0{label}")).intervals(std::slice::from_ref(s), |r| {
                performance_profile(&r[0], &taus)
            });
            performance_profile(s, &taus)
                .into_iter()
                .zip(cis)
                .map(|(v, ci)| estimate(v, ci))
                .collect()
        })
        .collect();
    let improvement = samples
        .iter()
        .map(|(x, sx)| {
            samples
                .iter()
                .map(|(y, sy)| {
                    (x != y).then(|| {
                        let ci = boot(format!("poi\0{x}\0{y}"))
                            .intervals(&[sx.clone(), sy.clone()], |r| {
                                vec![probability_of_improvement(&r[0], &r[1])]
                            });
                        estimate(probability_of_improvement(sx, sy), ci[0])
                    })
                })
                .collect()
        })
        .collect();
    Aggregates {
        tasks,
        runs: samples.iter().map(|(_, s)| s.concat().len()).collect(),
        labels: samples.into_iter().map(|(l, _)| l).collect(),
        iqm: iqms,
        taus,
        profiles,
        improvement,
        notes,
    }
}
