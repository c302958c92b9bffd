//! The experimental claims of the TRPO paper (Schulman et al. 2015), as
//! data, each checked against the runs a report covers.
//!
//! A claim is one entry of [`TRPO_2015`]: its sentence and the evidence that
//! tests it — comparisons of two labels on some envs (judged per env by
//! [`super::verdict`]), or the KL of every accepted TRPO step. Adding a
//! claim is adding an entry.
//!
//! Every row states the settings it was judged at beside the paper's
//! ([`super::paper`]): budget (or iterations), view and vine sizes. A
//! verdict reached below them is labelled so, "contradicted at 200k steps
//! (paper: 50M)": it says what our runs showed, not that the paper erred.
//! Labels are the names `harness reproduce trpo2015` gives its runs (the
//! algorithm id, or the variant `trpo-vine`); envs are short names, so a
//! claim covers whatever version and options of the env were run.

use super::aggregate::RANDOM_ALGORITHM;
use super::curves::interpolate;
use super::data::Run;
use super::doc::{Block, Cell, Table, num};
use super::paper::{self, Locomotion};
use super::verdict::{
    CLOSE_FRACTION, Direction, Judgement, MARGIN, VERDICT_REPS, Verdict, judge, judge_gain,
};
use crate::results::stable_hash;
use crate::stats::mean;
use std::collections::BTreeMap;
use trustbench_envs::arcade::GAMES;

/// Label of TRPO with vine sampling in the reproduction's grid.
pub const VINE_LABEL: &str = "trpo-vine";
/// Labels of TRPO with 20 and 50 CG iterations (the paper's: 10).
pub const CG_LABELS: [&str; 2] = ["trpo-cg20", "trpo-cg50"];

/// One claim of a paper.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    /// Short stable name (anchors, bootstrap seeds).
    pub id: &'static str,
    /// The claim as the paper makes it.
    pub sentence: &'static str,
    /// What tests it.
    pub evidence: Evidence,
}

/// What tests a claim.
#[derive(Debug, Clone, Copy)]
pub enum Evidence {
    /// Every comparison on every one of its envs.
    Compare(&'static [Comparison]),
    /// No step the line search of `algorithm` accepted has a mean KL above
    /// the run's `max_kl` (δ).
    KlBound {
        /// Algorithm id whose runs are checked.
        algorithm: &'static str,
    },
}

/// "`a` `direction` `b` on each of `envs`, compared along `axis`".
#[derive(Debug, Clone, Copy)]
pub struct Comparison {
    /// Label of A.
    pub a: &'static str,
    /// Label of B.
    pub b: &'static str,
    /// Env short names, each judged on its own.
    pub envs: &'static [&'static str],
    /// What the claim says about `P(A > B)`.
    pub direction: Direction,
    /// Which scores are compared.
    pub axis: Axis,
}

/// At which point of training two labels are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Final evaluation return: runs of one env share the step budget.
    EqualSamples,
    /// Evaluation return at the last iteration every run of both labels
    /// reached (linear interpolation between evaluations), as the paper
    /// plots its locomotion curves.
    EqualIterations,
}

const LOCOMOTION: &[&str] = &["swimmer", "hopper", "walker"];
const HOPPER_WALKER: &[&str] = &["hopper", "walker"];

const fn better(a: &'static str, b: &'static str, envs: &'static [&'static str]) -> Comparison {
    Comparison {
        a,
        b,
        envs,
        direction: Direction::Better,
        axis: Axis::EqualSamples,
    }
}

/// The TRPO paper's experimental claims (Section 8, Figures 4–5, Table 1,
/// Appendix C).
pub const TRPO_2015: &[Claim] = &[
    Claim {
        id: "trpo-vs-npg",
        sentence: "TRPO beats the natural policy gradient with a fixed step size on hopper and \
                   walker (Figure 4).",
        evidence: Evidence::Compare(&[better("trpo", "npg", HOPPER_WALKER)]),
    },
    Claim {
        id: "cem-cma",
        sentence: "CEM and CMA do well on swimmer but fall behind TRPO on hopper and walker \
                   (Figure 4).",
        evidence: Evidence::Compare(&[
            Comparison {
                a: "cem",
                b: "trpo",
                envs: &["swimmer"],
                direction: Direction::Close,
                axis: Axis::EqualSamples,
            },
            Comparison {
                a: "cma",
                b: "trpo",
                envs: &["swimmer"],
                direction: Direction::Close,
                axis: Axis::EqualSamples,
            },
            better("trpo", "cem", HOPPER_WALKER),
            better("trpo", "cma", HOPPER_WALKER),
        ]),
    },
    Claim {
        id: "vine-per-iteration",
        sentence: "The vine method is at least as good as single path per iteration \
                   (Figure 4 compares the two at equal iterations).",
        evidence: Evidence::Compare(&[Comparison {
            a: VINE_LABEL,
            b: "trpo",
            envs: LOCOMOTION,
            direction: Direction::AtLeast,
            axis: Axis::EqualIterations,
        }]),
    },
    Claim {
        id: "vine-per-sample",
        sentence: "The vine method is at least as good as single path per sample (not claimed \
                   by the paper: the vine spends many more env steps per iteration).",
        evidence: Evidence::Compare(&[Comparison {
            a: VINE_LABEL,
            b: "trpo",
            envs: LOCOMOTION,
            direction: Direction::AtLeast,
            axis: Axis::EqualSamples,
        }]),
    },
    Claim {
        id: "games-vs-random",
        sentence: "TRPO (single path and vine) beats a random policy on all seven games \
                   (Table 1).",
        evidence: Evidence::Compare(&[
            better("trpo", "random", GAMES),
            better(VINE_LABEL, "random", GAMES),
        ]),
    },
    Claim {
        id: "games-single-vs-vine",
        sentence: "Single path and vine reach similar scores on the games (Table 1).",
        evidence: Evidence::Compare(&[Comparison {
            a: "trpo",
            b: VINE_LABEL,
            envs: GAMES,
            direction: Direction::Similar,
            axis: Axis::EqualSamples,
        }]),
    },
    Claim {
        id: "cg-iterations",
        sentence: "10 CG iterations are enough: more do not speed up policy improvement \
                   (Appendix C; judged per iteration against 20 and 50).",
        evidence: Evidence::Compare(&[
            Comparison {
                a: "trpo",
                b: CG_LABELS[0],
                envs: LOCOMOTION,
                direction: Direction::AtLeast,
                axis: Axis::EqualIterations,
            },
            Comparison {
                a: "trpo",
                b: CG_LABELS[1],
                envs: LOCOMOTION,
                direction: Direction::AtLeast,
                axis: Axis::EqualIterations,
            },
        ]),
    },
    Claim {
        id: "kl-bound",
        sentence: "No step TRPO accepts exceeds the KL bound δ (the line search enforces the \
                   constraint, Section 6).",
        evidence: Evidence::KlBound { algorithm: "trpo" },
    },
];

/// One row of evidence: one comparison on one env, one check, or one
/// label's steps on one env.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceRow {
    /// What is compared, e.g. `trpo > npg on hopper-v0`.
    pub what: String,
    /// Runs or checks behind it, e.g. `3 vs 3 seeds`.
    pub sample: String,
    /// The measure, e.g. `final return (1000000 steps)`.
    pub measure: String,
    /// The effect with its interval, or the checked quantity.
    pub effect: String,
    /// The raw numbers behind it, e.g. the two means.
    pub detail: String,
    /// This row's verdict.
    pub verdict: Verdict,
    /// For an inconclusive row: what would decide it.
    pub to_decide: String,
    /// The settings it was judged at, beside the paper's.
    pub settings: Settings,
}

/// The settings a row was judged at, beside the paper's.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    /// Ours, e.g. `1M steps; view compact`.
    pub ours: String,
    /// The paper's, in the same form.
    pub paper: String,
    /// Only the parts where ours fall short of the paper's: `(ours,
    /// paper's)`, e.g. `("200k steps, view compact", "50M steps, view
    /// pixels")`; empty when ours reach the paper's.
    pub short_of: Option<(String, String)>,
    /// False for a check that holds or fails at any settings (the KL bound).
    pub matters: bool,
}

impl Settings {
    /// One part per setting: `(ours, paper's, ours reach the paper's)`.
    fn from_parts(parts: &[(String, String, bool)]) -> Settings {
        // The ours (or paper's) side of every part, or of those short of it.
        let join = |paper: bool, only_short: bool| {
            parts
                .iter()
                .filter(|p| !only_short || !p.2)
                .map(|p| if paper { p.1.as_str() } else { p.0.as_str() })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let short = parts.iter().any(|p| !p.2);
        Settings {
            ours: join(false, false),
            paper: join(true, false),
            short_of: short.then(|| (join(false, true), join(true, true))),
            matters: true,
        }
    }

    /// Whether the row was judged at the paper's settings (or at any).
    pub fn at_paper(&self) -> bool {
        self.short_of.is_none()
    }

    /// The verdict as the report prints it: `contradicted at 200k steps
    /// (paper: 50M steps)` when judged short of the paper's settings.
    pub fn label(&self, verdict: Verdict) -> String {
        match &self.short_of {
            Some((ours, paper)) => format!("{} at {ours} (paper: {paper})", verdict.as_str()),
            None => verdict.as_str().to_string(),
        }
    }
}

/// The settings of comparison `c` on `env` (short name) with the runs of
/// both sides, compared at `iteration` when per iteration.
fn settings(c: &Comparison, env: &str, runs: &[&Run], iteration: Option<u64>) -> Settings {
    let mut parts = Vec::new();
    let budget = runs.iter().map(|r| r.row.step_budget).max().unwrap_or(0);
    let vine = [c.a, c.b].contains(&VINE_LABEL);
    if let Some(it) = iteration {
        parts.push((
            format!("iteration {it}"),
            format!("iteration {}", paper::ITERATIONS),
            it >= paper::ITERATIONS,
        ));
    } else if GAMES.contains(&env) {
        parts.push(steps_part(budget, paper::GAME_STEPS));
    } else if let Some(sizes) = Locomotion::of(env) {
        let per_iteration = if vine {
            sizes.vine_steps_per_iteration()
        } else {
            sizes.batch
        };
        parts.push(steps_part(budget, paper::ITERATIONS * per_iteration));
    }
    if GAMES.contains(&env) {
        let view = runs
            .iter()
            .find_map(|r| r.config.env.as_ref()?.get("view").cloned())
            .unwrap_or_else(|| "?".into());
        parts.push((
            format!("view {view}"),
            format!("view {}", paper::GAME_VIEW),
            view == paper::GAME_VIEW,
        ));
    }
    if let (true, Some(sizes)) = (vine, Locomotion::of(env))
        && let Some(r) = runs.iter().find(|r| r.label == VINE_LABEL)
    {
        let key = |k: &str| {
            r.config
                .algorithm
                .get(k)
                .and_then(|v| v.as_u64())
                .unwrap_or(0)
        };
        let (states, actions, rollout) = (
            key("vine_states"),
            key("vine_actions"),
            key("vine_rollout_length"),
        );
        let trunk = key("vine_trunk_steps") * r.row.num_envs;
        parts.push((
            format!("vine {states} states × {actions} actions × {rollout} steps, trunk {trunk}"),
            format!(
                "vine {} states × {} actions × {} steps, trunk {}",
                sizes.vine_states(),
                paper::VINE_ACTIONS,
                sizes.vine_rollout,
                paper::VINE_TRUNK_TOTAL
            ),
            states >= sizes.vine_states()
                && actions >= paper::VINE_ACTIONS
                && rollout >= sizes.vine_rollout
                && trunk >= paper::VINE_TRUNK_TOTAL,
        ));
    }
    Settings::from_parts(&parts)
}

/// A budget part of [`Settings`].
fn steps_part(ours: u64, paper: u64) -> (String, String, bool) {
    (
        format!("{} steps", paper::steps(ours)),
        format!("{} steps", paper::steps(paper)),
        ours >= paper,
    )
}

/// A claim checked against the data.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// The claim.
    pub claim: Claim,
    /// `None` when no data for it was run; else every part's verdict
    /// combined ([`Verdict::all`]).
    pub verdict: Option<Verdict>,
    /// The evidence, one row per part with data.
    pub rows: Vec<EvidenceRow>,
    /// Parts without data (`trpo-vine vs trpo on walker: not run`).
    pub missing: Vec<String>,
}

/// Check each claim against `runs`.
pub fn assess(claims: &[Claim], runs: &[Run]) -> Vec<Assessment> {
    assess_on(claims, runs, &short_name)
}

/// A claim's env (short name) that an env, as the report names it, stands
/// for: its own short name, or the native task a standard env is paired
/// with (`report::transfer`).
pub type Task<'a> = &'a dyn Fn(&str) -> Option<&'static str>;

/// Check each claim against `runs`, whose envs stand for the claims' envs
/// as `task` says: so the same claims judge a suite of standard envs.
pub fn assess_on(claims: &[Claim], runs: &[Run], task: Task) -> Vec<Assessment> {
    claims
        .iter()
        .map(|claim| {
            let (rows, missing) = match claim.evidence {
                Evidence::Compare(comparisons) => compare_rows(claim.id, comparisons, runs, task),
                Evidence::KlBound { algorithm } => (kl_rows(runs, algorithm), Vec::new()),
            };
            let verdict = (!rows.is_empty()).then(|| {
                // A part not run cannot support the claim.
                let unrun = (!missing.is_empty()).then_some(Verdict::Inconclusive);
                Verdict::all(rows.iter().map(|r| r.verdict).chain(unrun))
            });
            Assessment {
                claim: *claim,
                verdict,
                rows,
                missing,
            }
        })
        .collect()
}

/// The env short name of an env as the report names it
/// (`breakout-v0 [view=pixels]` → `breakout`).
pub(super) fn short_name(env_id: &str) -> Option<&'static str> {
    let id = env_id.split(" [").next().unwrap_or(env_id);
    trustbench_envs::resolve_spec(id)
        .ok()
        .map(|s| s.short_name())
}

/// Finished runs by env (as the report names it), then label.
fn finished(runs: &[Run]) -> BTreeMap<&str, BTreeMap<&str, Vec<&Run>>> {
    let mut by: BTreeMap<&str, BTreeMap<&str, Vec<&Run>>> = BTreeMap::new();
    for r in runs.iter().filter(|r| r.ok()) {
        by.entry(&r.row.env_id)
            .or_default()
            .entry(&r.label)
            .or_default()
            .push(r);
    }
    by
}

fn compare_rows(
    claim: &str,
    comparisons: &[Comparison],
    runs: &[Run],
    task: Task,
) -> (Vec<EvidenceRow>, Vec<String>) {
    let by_env = finished(runs);
    let (mut rows, mut missing) = (Vec::new(), Vec::new());
    for c in comparisons {
        for &env in c.envs {
            let mut found = false;
            for (env_id, labels) in by_env.iter().filter(|(e, _)| task(e) == Some(env)) {
                let (Some(a), Some(b)) = (labels.get(c.a), labels.get(c.b)) else {
                    continue;
                };
                found = true;
                let zero = labels.get(RANDOM_ALGORITHM).map(Vec::as_slice);
                rows.push(compare_row(claim, c, env_id, a, b, zero, task));
            }
            if !found {
                missing.push(format!("{} vs {} on {env}: not run", c.a, c.b));
            }
        }
    }
    (rows, missing)
}

/// One comparison on one env; `zero` are the random policy's runs there
/// (what [`Direction::Close`] measures gains from).
fn compare_row(
    claim: &str,
    c: &Comparison,
    env_id: &str,
    a: &[&Run],
    b: &[&Run],
    zero: Option<&[&Run]>,
    task: Task,
) -> EvidenceRow {
    // `None` when the two sides have no returns at a common point.
    let (data, measure, iteration) = match c.axis {
        Axis::EqualSamples => {
            let finals =
                |rs: &[&Run]| -> Vec<f64> { rs.iter().filter_map(|r| r.final_return()).collect() };
            let budget = a.iter().chain(b).map(|r| r.row.step_budget).max();
            (
                Some((finals(a), finals(b))),
                format!(
                    "final evaluation return ({} env steps)",
                    budget.unwrap_or(0)
                ),
                None,
            )
        }
        Axis::EqualIterations => {
            // The last iteration every run of both labels reached.
            let reached = a
                .iter()
                .chain(b)
                .filter_map(|r| r.eval_at.last().map(|&(i, _)| i))
                .min()
                .unwrap_or(0);
            match at_iteration(a, b, reached) {
                Some((xs, ys, measure)) => (Some((xs, ys)), measure, Some(reached)),
                None => (
                    None,
                    format!("return at iteration {reached}"),
                    Some(reached),
                ),
            }
        }
    };
    let both: Vec<&Run> = a.iter().chain(b).copied().collect();
    let settings = settings(c, task(env_id).unwrap_or(""), &both, iteration);
    let seed = stable_hash(format!("claim\0{claim}\0{}\0{}\0{env_id}", c.a, c.b).as_bytes());
    let what = format!("{} {} {} on {env_id}", c.a, c.direction.symbol(), c.b);
    let Some((xs, ys)) = data else {
        return EvidenceRow {
            what,
            sample: format!("{} vs {} seeds", a.len(), b.len()),
            measure,
            effect: "—".into(),
            detail: "no data".into(),
            verdict: Verdict::Inconclusive,
            to_decide: "neither an evaluation nor a training return at this iteration on \
                        every run: evaluate both sides at the same iterations (eval_every)"
                .into(),
            settings,
        };
    };
    let sample = format!("{} vs {} seeds", xs.len(), ys.len());
    let detail = format!("means {} vs {}", num(mean(&xs)), num(mean(&ys)));
    if c.direction == Direction::Close {
        let zs = random_returns(zero);
        if zs.is_empty() || c.axis != Axis::EqualSamples {
            return EvidenceRow {
                what,
                sample,
                measure,
                effect: "—".into(),
                detail,
                verdict: Verdict::Inconclusive,
                to_decide: format!(
                    "needs final returns of {RANDOM_ALGORITHM} on this env to measure gains from \
                     (add it to the sweep)"
                ),
                settings,
            };
        }
        let j = judge_gain(&xs, &ys, &zs, seed);
        return EvidenceRow {
            what,
            sample: format!("{sample}, {} of {RANDOM_ALGORITHM}", zs.len()),
            measure,
            effect: j.effect.map_or("—".into(), |(r, lo, hi)| {
                format!("gain ratio = {r:.2} [{lo:.2}, {hi:.2}]")
            }),
            detail: format!("{detail}; {RANDOM_ALGORITHM} {}", num(mean(&zs))),
            verdict: j.verdict,
            to_decide: to_decide(&j),
            settings,
        };
    }
    let j = judge(&xs, &ys, c.direction, seed);
    let effect = j.effect.map_or("—".into(), |(p, lo, hi)| {
        format!("P(A > B) = {p:.2} [{lo:.2}, {hi:.2}]")
    });
    // "At least as good" also holds when A reaches nearly all of B's gain
    // over random: two nearly deterministic learners that end 0.2 % apart
    // have P(A > B) = 0 (module docs of `verdict`).
    let zs = random_returns(zero);
    if c.direction == Direction::AtLeast && j.verdict != Verdict::Supported && !zs.is_empty() {
        let g = judge_gain(&xs, &ys, &zs, seed);
        if g.verdict == Verdict::Supported {
            let (r, lo, hi) = g.effect.expect("a decided gain ratio has an interval");
            return EvidenceRow {
                what,
                sample: format!("{sample}, {} of {RANDOM_ALGORITHM}", zs.len()),
                measure,
                effect: format!("{effect}; gain ratio = {r:.2} [{lo:.2}, {hi:.2}]"),
                detail: format!("{detail}; {RANDOM_ALGORITHM} {}", num(mean(&zs))),
                verdict: Verdict::Supported,
                to_decide: String::new(),
                settings,
            };
        }
    }
    EvidenceRow {
        what,
        sample,
        measure,
        effect,
        detail,
        verdict: j.verdict,
        to_decide: to_decide(&j),
        settings,
    }
}

/// The random policy's final returns among `zero` (none when absent).
fn random_returns(zero: Option<&[&Run]>) -> Vec<f64> {
    zero.unwrap_or_default()
        .iter()
        .filter_map(|r| r.final_return())
        .collect()
}

/// What would decide an inconclusive judgement.
fn to_decide(j: &Judgement) -> String {
    match (j.seeds_needed, j.note.is_empty()) {
        (Some(n), true) => format!("≈ {n} seeds per side"),
        _ => j.note.clone(),
    }
}

/// Both sides' returns at `iteration`, and what they measure: the
/// evaluation return when every run was evaluated at or around it, else
/// the training return of that very iteration when every run finished an
/// episode in it, else `None`. Never a return from another iteration: a
/// run first evaluated at iteration 20 says nothing about iteration 4.
fn at_iteration(a: &[&Run], b: &[&Run], iteration: u64) -> Option<(Vec<f64>, Vec<f64>, String)> {
    let side = |rs: &[&Run], f: fn(&Run, u64) -> Option<f64>| -> Option<Vec<f64>> {
        rs.iter().map(|r| f(r, iteration)).collect()
    };
    if let (Some(xs), Some(ys)) = (side(a, eval_at_iteration), side(b, eval_at_iteration)) {
        return Some((
            xs,
            ys,
            format!("evaluation return at iteration {iteration}"),
        ));
    }
    let (xs, ys) = (side(a, train_at_iteration)?, side(b, train_at_iteration)?);
    Some((
        xs,
        ys,
        format!(
            "training return at iteration {iteration} (not every run was evaluated at or \
             around it)"
        ),
    ))
}

/// A run's evaluation return at `iteration`, interpolated between the
/// evaluations around it; `None` outside its first and last evaluation.
fn eval_at_iteration(run: &Run, iteration: u64) -> Option<f64> {
    let first = run.eval_at.first()?.0;
    let last = run.eval_at.last()?.0;
    if !(first..=last).contains(&iteration) {
        return None;
    }
    let points: Vec<(f64, f64)> = run
        .eval_at
        .iter()
        .zip(&run.eval)
        .map(|(&(i, _), &(_, ret))| (i as f64, ret))
        .collect();
    Some(interpolate(&points, iteration as f64))
}

/// The mean return of the training episodes a run finished in
/// `iteration`, if it finished any.
fn train_at_iteration(run: &Run, iteration: u64) -> Option<f64> {
    run.train_at
        .iter()
        .find(|&&(i, _)| i == iteration)
        .map(|&(_, ret)| ret)
}

fn kl_rows(runs: &[Run], algorithm: &str) -> Vec<EvidenceRow> {
    let mut rows = Vec::new();
    for (env_id, labels) in finished(runs) {
        for (label, rs) in labels {
            let rs: Vec<&&Run> = rs
                .iter()
                .filter(|r| r.row.algorithm_id == algorithm)
                .collect();
            if rs.is_empty() {
                continue;
            }
            let (mut steps, mut above, mut worst, mut sum) = (0usize, 0usize, 0.0f64, 0.0);
            for r in &rs {
                let Some(delta) = r.config.algorithm.get("max_kl").and_then(|v| v.as_f64()) else {
                    continue;
                };
                for &kl in &r.accepted_kl {
                    steps += 1;
                    above += usize::from(kl > delta);
                    worst = worst.max(kl / delta);
                    sum += kl / delta;
                }
            }
            let verdict = match (steps, above) {
                (0, _) => Verdict::Inconclusive,
                (_, 0) => Verdict::Supported,
                _ => Verdict::Contradicted,
            };
            rows.push(EvidenceRow {
                what: format!("{label} on {env_id}"),
                sample: format!("{} runs, {steps} accepted steps", rs.len()),
                measure: "mean KL(π_old ‖ π_new) of each accepted step, over δ".into(),
                // The mean says whether steps reach the bound at all: a
                // damped quadratic that overstates the KL stops them short.
                effect: format!(
                    "max KL/δ = {worst:.4}, mean {:.3}",
                    sum / steps.max(1) as f64
                ),
                detail: format!("{above} step(s) above δ"),
                verdict,
                to_decide: if steps == 0 {
                    format!("no accepted step was logged ({})", super::data::KL_METRIC)
                } else {
                    String::new()
                },
                settings: Settings {
                    ours: "any budget".into(),
                    paper: "any budget".into(),
                    short_of: None,
                    matters: false,
                },
            });
        }
    }
    rows
}

/// Whether any claim was judged at the paper's settings: the first thing a
/// reader of verdicts needs to know.
fn headline(assessed: &[Assessment]) -> String {
    let judged: Vec<&Assessment> = assessed
        .iter()
        .filter(|a| a.verdict.is_some() && a.rows.iter().any(|r| r.settings.matters))
        .collect();
    let at_paper = judged
        .iter()
        .filter(|a| a.rows.iter().all(|r| r.settings.at_paper()))
        .count();
    let what = "budget (or iterations), view and vine sizes";
    match at_paper {
        0 => format!(
            "No claim was judged at the paper's settings: every verdict below rests on a \
             smaller {what} than the paper's, and says so (\"contradicted at 200k steps \
             (paper: 50M steps)\"). Such a verdict is about these runs, not yet about the paper."
        ),
        n => format!(
            "{n} of {} claims were judged at the paper's {what}; the others' verdicts say \
             how far below the paper's settings they were reached.",
            judged.len()
        ),
    }
}

/// The settings of a claim's rows, each distinct one once.
fn judged_at(a: &Assessment) -> String {
    let mut seen: Vec<String> = Vec::new();
    for r in &a.rows {
        let text = format!("{} ({})", r.settings.ours, r.settings.paper);
        if !seen.contains(&text) {
            seen.push(text);
        }
    }
    seen.join("; ")
}

/// The claims section: only when some claim has data, so reports of other
/// experiments are not cluttered with claims they never tested.
pub fn section(assessed: &[Assessment]) -> Vec<Block> {
    if assessed.iter().all(|a| a.verdict.is_none()) {
        return Vec::new();
    }
    let mut blocks = vec![
        Block::Heading {
            level: 2,
            id: "claims".into(),
            text: "Claims of the TRPO paper (Schulman et al. 2015)".into(),
        },
        Block::Paragraph(method()),
        Block::Paragraph(headline(assessed)),
        Block::Table(summary_table(assessed)),
        evidence_block(assessed),
    ];
    blocks.extend(not_tested(assessed));
    blocks
}

/// How verdicts are reached, for the section's opening paragraph.
fn method() -> String {
    format!(
        "Each claim, then its verdict from the runs below. Comparisons use the probability \
         of improvement P(A > B) (a random run of A beats a random run of B; ties half) per \
         env, with a 95 % percentile-bootstrap interval ({VERDICT_REPS} resamples of each \
         side's seeds). \"A > B\" is supported when the interval lies above 0.5 and \
         contradicted when it lies below; \"A ≥ B\" and \"A ≈ B\" are judged with a margin \
         of {MARGIN} (P(A > B) above {} for ≥; within [{}, {}] for ≈). \"A ≳ B\" (A does \
         well next to B) is judged on the gain ratio (Ā − R̄) / (B̄ − R̄), the share of B's \
         gain over the random policy R that A reaches, with a bootstrap interval over all \
         three sides' seeds: supported when it lies at or above {CLOSE_FRACTION}, \
         contradicted when below (P(A > B) cannot say this: two nearly deterministic \
         learners 5 % apart have P = 0); for the same reason \"A ≥ B\" is also supported \
         when that gain ratio's interval lies at or above {CLOSE_FRACTION} (given random \
         runs on the env). A claim is supported when every part is, \
         contradicted when any part is. An inconclusive part says about how many seeds per \
         side would decide it, extrapolating the interval's width as 1/√n.",
        0.5 - MARGIN,
        0.5 - MARGIN,
        0.5 + MARGIN
    )
}

/// One row per claim with data, and its verdict. Only claims with data are
/// listed; the others are folded below, so a report of one experiment
/// opens with what it tested.
fn summary_table(assessed: &[Assessment]) -> Table {
    let summary = assessed
        .iter()
        .filter_map(|a| Some((a, a.verdict?)))
        .map(|(a, verdict)| {
            let short = a.rows.iter().any(|r| !r.settings.at_paper());
            vec![
                Cell::plain(a.claim.sentence),
                Cell::marked(
                    if short {
                        format!("{} below the paper's settings", verdict.as_str())
                    } else {
                        verdict.as_str().to_string()
                    },
                    verdict == Verdict::Supported,
                ),
                Cell::plain(judged_at(a)),
                Cell::plain(format!(
                    "{} part(s) with data{}",
                    a.rows.len(),
                    if a.missing.is_empty() {
                        String::new()
                    } else {
                        format!("; {} not run", a.missing.len())
                    }
                )),
            ]
        })
        .collect();
    Table::new("The paper's claims and their verdicts (evidence below).")
        .texts(&["claim", "verdict", "judged at (paper's)", "evidence"])
        .rows(summary)
}

/// Every row of every claim, folded in HTML: with every env and label it
/// runs to dozens of rows, which would push the rest of the report far down.
fn evidence_block(assessed: &[Assessment]) -> Block {
    let evidence: Vec<Vec<Cell>> = assessed
        .iter()
        .flat_map(|a| {
            a.rows.iter().map(|r| {
                vec![
                    Cell::plain(a.claim.id),
                    Cell::plain(&r.what),
                    Cell::plain(&r.sample),
                    Cell::plain(&r.measure),
                    Cell::plain(&r.effect),
                    Cell::plain(&r.detail),
                    Cell::marked(r.settings.label(r.verdict), r.verdict == Verdict::Supported),
                    Cell::plain(format!("{} (paper: {})", r.settings.ours, r.settings.paper)),
                    Cell::plain(&r.to_decide),
                ]
            })
        })
        .collect();
    let rows = evidence.len();
    let table = Table::new(
        "Evidence per claim: one row per comparison and env, or per TRPO label and \
         env, with the settings it was judged at beside the paper's.",
    )
    .texts(&[
        "claim",
        "comparison",
        "sample",
        "measure",
        "effect [95 % CI]",
        "numbers",
        "verdict",
        "settings",
        "to decide",
    ])
    .rows(evidence);
    Block::Folded {
        summary: format!("Evidence per claim ({rows} rows)"),
        blocks: vec![Block::Table(table)],
    }
}

/// Folded lists of what the runs leave open: the claims they do not test,
/// and the parts not run of those they do.
fn not_tested(assessed: &[Assessment]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let untested: Vec<String> = assessed
        .iter()
        .filter(|a| a.verdict.is_none())
        .map(|a| a.claim.sentence.to_string())
        .collect();
    if !untested.is_empty() {
        blocks.push(Block::Folded {
            summary: format!("Claims these runs do not test ({})", untested.len()),
            blocks: vec![Block::List(untested)],
        });
    }
    let missing: Vec<String> = assessed
        .iter()
        .filter(|a| a.verdict.is_some())
        .flat_map(|a| {
            a.missing
                .iter()
                .map(move |m| format!("{}: {m}", a.claim.id))
        })
        .collect();
    if !missing.is_empty() {
        blocks.push(Block::Folded {
            summary: format!("Parts not run ({})", missing.len()),
            blocks: vec![Block::List(missing)],
        });
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil::finished_run;

    fn run(label: &str, env: &str, seed: u64, final_return: f64, accepted_kl: &[f64]) -> Run {
        let max_kl = r#"{"max_kl": 0.01}"#;
        finished_run(label, env, seed, max_kl, final_return, accepted_kl)
    }

    fn by_id<'a>(assessed: &'a [Assessment], id: &str) -> &'a Assessment {
        assessed.iter().find(|a| a.claim.id == id).unwrap()
    }

    #[test]
    fn doing_well_on_swimmer_is_measured_from_random_and_needs_its_runs() {
        let mut runs = Vec::new();
        for seed in 0..4 {
            let s = seed as f64 / 4.0;
            runs.push(run("trpo", "swimmer-v0", seed, 416.0 + s, &[]));
            runs.push(run("cem", "swimmer-v0", seed, 396.0 + s, &[]));
            runs.push(run("cma", "swimmer-v0", seed, 250.0 + s, &[]));
        }
        let rows = |runs: &[Run]| by_id(&assess(TRPO_2015, runs), "cem-cma").rows.clone();
        // Without random runs there is no gain to take a share of.
        let without = rows(&runs);
        assert_eq!(without[0].what, "cem ≳ trpo on swimmer-v0");
        assert_eq!(without[0].verdict, Verdict::Inconclusive);
        assert!(
            without[0].to_decide.contains("random"),
            "{}",
            without[0].to_decide
        );
        for seed in 0..4 {
            runs.push(run(
                "random",
                "swimmer-v0",
                seed,
                -8.0 + seed as f64 / 4.0,
                &[],
            ));
        }
        let with = rows(&runs);
        // cem: (396 + 8) / (416 + 8) ≈ 0.95 of TRPO's gain; cma ≈ 0.61.
        assert_eq!(with[0].verdict, Verdict::Supported, "{:?}", with[0]);
        assert!(
            with[0].effect.starts_with("gain ratio = 0.95"),
            "{}",
            with[0].effect
        );
        assert_eq!(with[1].verdict, Verdict::Contradicted, "{:?}", with[1]);
    }

    #[test]
    fn claims_are_judged_from_runs_and_checks() {
        let mut runs = Vec::new();
        for seed in 0..4 {
            let s = seed as f64;
            runs.push(run("trpo", "hopper-v0", seed, 2000.0 + s, &[0.009, 0.01]));
            runs.push(run("npg", "hopper-v0", seed, 500.0 + s, &[]));
            runs.push(run("trpo", "walker-v0", seed, 3000.0 + s, &[0.011]));
            runs.push(run("npg", "walker-v0", seed, 900.0 + s, &[]));
            runs.push(run(CG_LABELS[0], "hopper-v0", seed, 1000.0 + s, &[]));
        }
        let assessed = assess(TRPO_2015, &runs);
        let npg = by_id(&assessed, "trpo-vs-npg");
        assert_eq!(npg.verdict, Some(Verdict::Supported));
        assert_eq!(npg.rows.len(), 2);
        assert!(npg.rows[0].what.contains("trpo > npg on hopper-v0"));
        // Not run at all: no verdict; partly run: inconclusive at best.
        assert_eq!(by_id(&assessed, "games-vs-random").verdict, None);
        let cem = by_id(&assessed, "cem-cma");
        assert_eq!(cem.verdict, None);
        // Ten CG iterations do at least as well as 20 per iteration on
        // hopper (50 and the other envs not run), judged far below the
        // paper's 200 iterations and labelled so.
        let cg = by_id(&assessed, "cg-iterations");
        assert_eq!(cg.verdict, Some(Verdict::Inconclusive));
        assert_eq!(cg.rows.len(), 1);
        assert_eq!(cg.rows[0].what, "trpo ≥ trpo-cg20 on hopper-v0");
        assert_eq!(cg.rows[0].verdict, Verdict::Supported);
        assert_eq!(
            cg.rows[0].settings.label(cg.rows[0].verdict),
            "supported at iteration 4 (paper: iteration 200)"
        );
        assert_eq!(
            npg.rows[0].settings.label(npg.rows[0].verdict),
            "supported at 1k steps (paper: 200M steps)"
        );
        // One walker step above δ = 0.01 contradicts the bound.
        let kl = by_id(&assessed, "kl-bound");
        assert_eq!(kl.verdict, Some(Verdict::Contradicted));
        let hopper = kl.rows.iter().find(|r| r.what.contains("hopper")).unwrap();
        assert_eq!(hopper.verdict, Verdict::Supported);
        assert!(
            hopper.sample.contains("8 accepted steps"),
            "{}",
            hopper.sample
        );
        let section = section(&assessed);
        assert!(matches!(&section[0], Block::Heading { id, .. } if id == "claims"));
        // The KL bound holds or fails at any budget: it does not count.
        assert!(
            matches!(&section[2], Block::Paragraph(p) if p.starts_with("No claim was judged at the paper's settings")),
            "{:?}",
            section[2]
        );
        // Untested claims are folded, not listed with the verdicts.
        let Block::Table(summary) = &section[3] else {
            panic!("{:?}", section[3])
        };
        assert_eq!(
            summary.rows.len(),
            3,
            "trpo-vs-npg, cg-iterations, kl-bound"
        );
        assert!(
            section.iter().any(|b| matches!(b,
            Block::Folded { summary, .. } if summary.starts_with("Claims these runs do not test")))
        );
    }

    #[test]
    fn partly_run_claims_stay_inconclusive_and_no_data_means_no_section() {
        let runs: Vec<Run> = (0..4)
            .flat_map(|seed| {
                [
                    run("trpo", "hopper-v0", seed, 2000.0, &[]),
                    run("npg", "hopper-v0", seed, 100.0, &[]),
                ]
            })
            .collect();
        let assessed = assess(TRPO_2015, &runs);
        let npg = by_id(&assessed, "trpo-vs-npg");
        assert_eq!(npg.rows[0].verdict, Verdict::Supported);
        assert_eq!(npg.verdict, Some(Verdict::Inconclusive));
        assert_eq!(npg.missing, vec!["trpo vs npg on walker: not run"]);
        let cartpole: Vec<Run> = vec![run("random", "cartpole-v0", 0, 20.0, &[])];
        assert!(section(&assess(TRPO_2015, &cartpole)).is_empty());
    }

    /// The vine against single path on hopper, per iteration.
    const VINE_VS_SINGLE: Comparison = Comparison {
        a: VINE_LABEL,
        b: "trpo",
        envs: &["hopper"],
        direction: Direction::AtLeast,
        axis: Axis::EqualIterations,
    };

    /// A vine run on hopper evaluated at iterations 1 and 2 (100, then 800).
    fn vine_to_iteration_2() -> Run {
        let mut vine = run(VINE_LABEL, "hopper-v0", 0, 800.0, &[]);
        vine.eval_at = vec![(1, 0.5), (2, 1.0)];
        vine.eval = vec![(500.0, 100.0), (1000.0, 800.0)];
        vine
    }

    #[test]
    fn equal_iterations_compare_at_the_last_common_iteration() {
        let vine = vine_to_iteration_2();
        let single = run("trpo", "hopper-v0", 0, 2000.0, &[]);
        // Single path at iteration 2 (of 4): its first evaluation, 1000.
        assert_eq!(eval_at_iteration(&single, 2), Some(1000.0));
        let c = VINE_VS_SINGLE;
        let row = compare_row(
            "x",
            &c,
            "hopper-v0",
            &[&vine],
            &[&single],
            None,
            &short_name,
        );
        assert_eq!(row.measure, "evaluation return at iteration 2");
        assert_eq!(row.detail, "means 800.0 vs 1000");
        assert_eq!(row.verdict, Verdict::Inconclusive, "one seed");
    }

    #[test]
    fn equal_iterations_never_borrow_a_return_from_another_iteration() {
        // The vine ends at iteration 2; single path is first evaluated at
        // iteration 4, so its evaluations say nothing about iteration 2.
        let mut vine = vine_to_iteration_2();
        let mut single = run("trpo", "hopper-v0", 0, 2000.0, &[]);
        single.eval_at = vec![(4, 1.0)];
        single.eval = vec![(1000.0, 2000.0)];
        assert_eq!(eval_at_iteration(&single, 2), None);
        let c = VINE_VS_SINGLE;
        let row = |vine: &Run, single: &Run| {
            compare_row("x", &c, "hopper-v0", &[vine], &[single], None, &short_name)
        };
        // Without a training return at iteration 2 there is no data.
        let none = row(&vine, &single);
        assert_eq!(none.detail, "no data");
        assert_eq!(none.verdict, Verdict::Inconclusive);
        assert!(none.to_decide.contains("eval_every"), "{}", none.to_decide);
        // With one on both sides, the training returns of iteration 2.
        vine.train_at = vec![(1, 30.0), (2, 45.0)];
        single.train_at = vec![(1, 50.0), (2, 66.0), (3, 900.0)];
        let trained = row(&vine, &single);
        assert!(
            trained
                .measure
                .starts_with("training return at iteration 2"),
            "{}",
            trained.measure
        );
        assert_eq!(trained.detail, "means 45.00 vs 66.00");
    }

    fn refs(rs: &[Run]) -> Vec<&Run> {
        rs.iter().collect()
    }

    #[test]
    fn at_least_as_good_holds_for_a_negligible_deficit_given_random_runs() {
        // Ten CG iterations end 1.0 below twenty on every seed (≈ swimmer).
        let (ten, twenty, random): (Vec<Run>, Vec<Run>, Vec<Run>) = (
            (0..4)
                .map(|s| run("trpo", "swimmer-v0", s, 416.7 + s as f64 / 100.0, &[]))
                .collect(),
            (0..4)
                .map(|s| run("trpo-cg20", "swimmer-v0", s, 417.7 + s as f64 / 100.0, &[]))
                .collect(),
            (0..4)
                .map(|s| run("random", "swimmer-v0", s, -5.6 + s as f64, &[]))
                .collect(),
        );
        let c = Comparison {
            a: "trpo",
            b: "trpo-cg20",
            envs: &["swimmer"],
            direction: Direction::AtLeast,
            axis: Axis::EqualSamples,
        };
        let row = |zero: Option<&[&Run]>, a: &[&Run]| {
            compare_row("x", &c, "swimmer-v0", a, &refs(&twenty), zero, &short_name)
        };
        // Without random runs, P(A > B) = 0 decides.
        assert_eq!(row(None, &refs(&ten)).verdict, Verdict::Contradicted);
        // With them, ten reach 99.8 % of twenty's gain.
        let zero = refs(&random);
        let near = row(Some(&zero), &refs(&ten));
        assert_eq!(near.verdict, Verdict::Supported, "{near:?}");
        assert!(near.effect.contains("gain ratio = 1.00"), "{}", near.effect);
        // A real deficit (half the gain) stays contradicted.
        let half: Vec<Run> = (0..4)
            .map(|s| run("trpo", "swimmer-v0", s, 200.0 + s as f64, &[]))
            .collect();
        assert_eq!(
            row(Some(&zero), &refs(&half)).verdict,
            Verdict::Contradicted
        );
    }
}
