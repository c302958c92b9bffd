//! Published results on the standard benchmarks, as data, and the report
//! section that puts them beside our runs of the same envs.
//!
//! An [`Anchor`] is one published figure with everything that decides
//! whether it compares with ours: source, env version, budget, γ,
//! hyperparameter set, seeds and what the number measures. The section
//! states, per row and from these fields and the runs' own settings, where
//! the comparison is not like for like — it never hides a difference by
//! adjusting a number. The games' anchors are the TRPO paper's Table 1
//! ([`super::table1::PAPER_TABLE_1`]), set beside our ROM runs.

use super::claims::VINE_LABEL;
use super::data::Run;
use super::doc::{Block, Cell, Table, num};
use super::paper;
use super::table1::PAPER_TABLE_1;
use super::transfer::{GAME_PAIRS, LOCOMOTION_PAIRS};
use crate::stats::{mean, sample_variance};
use std::collections::BTreeMap;

/// What a published number measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// The mean return of the final policy's evaluation episodes, averaged
    /// over seeds (ours).
    Final,
    /// The best evaluation (mean over the seeds' test episodes) reached
    /// within the budget: higher than the final one whenever learning is
    /// not monotone.
    BestWithinBudget,
}

impl Measure {
    fn describe(self) -> &'static str {
        match self {
            Measure::Final => "final evaluation return",
            Measure::BestWithinBudget => "best evaluation return within the budget",
        }
    }
}

/// What a published `±` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// The standard deviation over seeds (ours, Tianshou's).
    StdDev,
    /// The standard error of the mean over seeds, σ/√n (the RL Zoo's
    /// tables): √n times smaller than the standard deviation.
    StdError,
}

/// How the evaluation episodes choose actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actions {
    /// The policy's mode (its Gaussian mean, its likeliest action): ours,
    /// for every algorithm, and the RL Zoo's on MuJoCo.
    Mode,
    /// Sampled from the policy, as in training: a Gaussian policy whose σ
    /// is still wide scores far below its mode on tasks where a stumble
    /// ends the episode (on our Walker2d-v5 finals, 2,222 against 3,101).
    Sampled,
}

/// How our runs' evaluations choose actions (`harness run`'s evaluation
/// plays the mode; `harness render --sample` replays the other way).
const OUR_ACTIONS: Actions = Actions::Mode;

/// How a source's trust region bounds the KL of a policy update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KlBound {
    /// `KL(π_old ‖ π) ≤ δ` of the whole action distribution: ours (`max_kl`),
    /// the paper's and Tianshou's (`Independent(Normal(…), 1)`).
    Joint(f64),
    /// The KL averaged over the action dimensions `≤ δ`: sb3-contrib's, whose
    /// diagonal Gaussian returns one KL per dimension and whose constraint
    /// takes their `.mean()`. For a product distribution the joint KL is the
    /// sum over dimensions, so the bound is a joint KL of `δ × actions`.
    PerActionDimension {
        /// Its `target_kl`.
        delta: f64,
        /// The env's action dimensions.
        actions: u32,
    },
}

impl KlBound {
    /// The bound as a joint KL.
    fn joint(self) -> f64 {
        match self {
            KlBound::Joint(delta) => delta,
            KlBound::PerActionDimension { delta, actions } => delta * f64::from(actions),
        }
    }
}

/// Where the per-dimension bound was measured (sb3-contrib's own objects'
/// KL against the joint one) and ours run at its radius: the cause of the
/// gap to its Walker2d figure.
const KL_CAUSE_LOG: &str = "benches/runs/2026-12-07/log.md";

/// One published result of an algorithm on a standard env.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchor {
    /// Who published it, and with what.
    pub source: &'static str,
    /// Where.
    pub url: &'static str,
    /// Our label it stands beside.
    pub label: &'static str,
    /// Our native task it is paired through (`hopper`: `gym:Hopper-v5`).
    pub task: &'static str,
    /// The env as the source ran it.
    pub env: &'static str,
    /// Env steps of training.
    pub steps: u64,
    /// Discount factor.
    pub gamma: f64,
    /// The hyperparameter set.
    pub hyperparameters: &'static str,
    /// Its trust region.
    pub kl_bound: KlBound,
    /// Seeds behind the figure.
    pub seeds: u32,
    /// What the figure measures.
    pub measure: Measure,
    /// Env steps between the source's evaluations, for a figure that is
    /// the best of them: the more points the maximum is taken over, the
    /// higher it lands on noisy curves, so a different spacing is said.
    pub eval_every: Option<u64>,
    /// How its evaluation chose actions.
    pub actions: Actions,
    /// Mean over seeds.
    pub mean: f64,
    /// Its `±`, as published.
    pub spread: f64,
    /// What that `±` is.
    pub spread_kind: Spread,
}

const SB3_SOURCE: &str = "sb3-contrib TRPO (its documentation's results, trained with the RL Zoo)";
const SB3_URL: &str = "https://sb3-contrib.readthedocs.io/en/master/modules/trpo.html#results";
const SB3_HYPERPARAMETERS: &str = "RL Zoo's tuned set per env (its hyperparams/trpo.yml)";
const TIANSHOU_SOURCE: &str = "Tianshou TRPO (its MuJoCo benchmark table)";
const TIANSHOU_URL: &str = "https://github.com/thu-ml/tianshou/tree/master/examples/mujoco";
const TIANSHOU_HYPERPARAMETERS: &str = "Tianshou's mujoco_trpo.py defaults, one set for every env";

/// The action dimensions of a paired locomotion task (MuJoCo's Swimmer,
/// Hopper and Walker2d: 2, 3 and 6 joint torques).
const fn action_dimensions(task: &str) -> u32 {
    match task.as_bytes() {
        b"swimmer" => 2,
        b"hopper" => 3,
        b"walker" => 6,
        _ => panic!("not a paired locomotion task"),
    }
}

/// sb3-contrib's figures: 3 seeds, the last of the RL Zoo's evaluations
/// (its `EvalCallback` plays the mode on non-Atari envs:
/// `deterministic_eval` in `rl_zoo3/exp_manager.py`), `mean ± standard
/// error` as its `scripts/all_plots.py` prints them.
const fn sb3(task: &'static str, env: &'static str, gamma: f64, mean: f64, se: f64) -> Anchor {
    Anchor {
        source: SB3_SOURCE,
        url: SB3_URL,
        label: "trpo",
        task,
        env,
        steps: 1_000_000,
        gamma,
        hyperparameters: SB3_HYPERPARAMETERS,
        // The RL Zoo's MuJoCo set keeps sb3-contrib's default target_kl.
        kl_bound: KlBound::PerActionDimension {
            delta: 0.01,
            actions: action_dimensions(task),
        },
        seeds: 3,
        measure: Measure::Final,
        eval_every: None,
        actions: Actions::Mode,
        mean,
        spread: se,
        spread_kind: Spread::StdError,
    }
}

/// Tianshou's figures: 10 seeds, the best evaluation point of their mean,
/// `± standard deviation` (its README's footnote 5). The TRPO table was
/// made at commit 5057b5c (2021-04-16), whose `PGPolicy.forward` always
/// returns `dist.sample()`: its test episodes sample actions
/// (`deterministic_eval` arrived on 2021-04-27, in #354, off by default).
const fn tianshou(task: &'static str, env: &'static str, mean: f64, std: f64) -> Anchor {
    Anchor {
        source: TIANSHOU_SOURCE,
        url: TIANSHOU_URL,
        label: "trpo",
        task,
        env,
        steps: 1_000_000,
        gamma: 0.99,
        hyperparameters: TIANSHOU_HYPERPARAMETERS,
        // mujoco_trpo.py's --max-kl.
        kl_bound: KlBound::Joint(0.01),
        seeds: 10,
        measure: Measure::BestWithinBudget,
        // mujoco_trpo.py: a test of 10 episodes after every epoch of
        // 30,000 steps.
        eval_every: Some(30_000),
        actions: Actions::Sampled,
        mean,
        spread: std,
        spread_kind: Spread::StdDev,
    }
}

const SB3_HERE_SOURCE: &str =
    "sb3-contrib 2.9.2 TRPO re-run on this project's 2-vCPU VM (MuJoCo 4.0.1, Gymnasium 1.2.2)";
/// A path in this repository, not a web address: the script is the record.
const SB3_HERE_SCRIPT: &str = "benches/anchors/sb3_trpo.py";
const SB3_HERE_HYPERPARAMETERS: &str = "the RL Zoo's MuJoCo set (2 envs × 1,024 steps a batch, \
    λ 0.95, the Fisher on the whole batch, 25 CG steps, 20 critic passes of minibatch 128, \
    VecNormalize of observations and rewards)";

/// sb3-contrib's TRPO with the RL Zoo's settings, run by
/// [`SB3_HERE_SCRIPT`] on the v5 envs our runs use: 3 seeds, the final
/// evaluation of the mode (10 episodes), `mean ± standard deviation`. Why:
/// the published figures are of MuJoCo v3 and 3 seeds; on the same envs,
/// machine and measure, the difference left is the implementation and
/// its settings.
const fn sb3_here(task: &'static str, env: &'static str, mean: f64, std: f64) -> Anchor {
    Anchor {
        source: SB3_HERE_SOURCE,
        url: SB3_HERE_SCRIPT,
        hyperparameters: SB3_HERE_HYPERPARAMETERS,
        spread_kind: Spread::StdDev,
        ..sb3(task, env, 0.99, mean, std)
    }
}

/// TRPO at 1M steps on MuJoCo, as sb3-contrib and Tianshou publish it
/// (issue 27's figures; MuJoCo v3 envs in both), and sb3-contrib re-run
/// here on v5 (`benches/runs/2026-12-07/log.md`).
pub const MUJOCO_TRPO: &[Anchor] = &[
    sb3("swimmer", "Swimmer-v3", 0.9999, 359.0, 2.0),
    sb3("hopper", "Hopper-v3", 0.99, 3372.0, 215.0),
    sb3("walker", "Walker2d-v3", 0.99, 4502.0, 234.0),
    sb3_here("hopper", "Hopper-v5", 1876.0, 1417.0),
    sb3_here("walker", "Walker2d-v5", 4839.0, 253.0),
    tianshou("swimmer", "Swimmer-v3", 40.9, 19.6),
    tianshou("hopper", "Hopper-v3", 2046.0, 1038.0),
    tianshou("walker", "Walker2d-v3", 3827.0, 783.0),
];

/// The finished runs by (env id without options, label): the standard
/// envs a report covers.
fn standard_runs(runs: &[Run]) -> BTreeMap<(&str, &str), Vec<&Run>> {
    let mut by: BTreeMap<(&str, &str), Vec<&Run>> = BTreeMap::new();
    for r in runs.iter().filter(|r| r.ok()) {
        let id = r.row.env_id.split(" [").next().unwrap_or_default();
        if LOCOMOTION_PAIRS
            .iter()
            .chain(GAME_PAIRS)
            .any(|(_, s)| *s == id)
        {
            by.entry((id, &r.label)).or_default().push(r);
        }
    }
    by
}

/// The runs' final returns.
fn finals(runs: &[&Run]) -> Vec<f64> {
    runs.iter().filter_map(|r| r.final_return()).collect()
}

/// Our runs measured as `measure` measures, each seed's value, and for
/// the best within the budget the env steps it was reached at.
///
/// The best is taken as Tianshou (and TD3's evaluation) take it: the
/// evaluation point where the mean over seeds is highest, `argmax_t (1/n)
/// Σ_s R_s(t)` over the points every seed evaluated at, then each seed's
/// return there — not each seed's own best, which would be higher still.
fn measured(measure: Measure, runs: &[&Run]) -> (Vec<f64>, Option<f64>) {
    match measure {
        Measure::Final => (finals(runs), None),
        Measure::BestWithinBudget => {
            let Some(first) = runs.first() else {
                return (Vec::new(), None);
            };
            let at = |r: &Run, step: f64| r.eval.iter().find(|(s, _)| *s == step).map(|e| e.1);
            first
                .eval
                .iter()
                .filter_map(|&(step, _)| {
                    let xs: Option<Vec<f64>> = runs.iter().map(|r| at(r, step)).collect();
                    xs.map(|xs| (step, xs))
                })
                .max_by(|a, b| mean(&a.1).total_cmp(&mean(&b.1)))
                .map_or((Vec::new(), None), |(step, xs)| (xs, Some(step)))
        }
    }
}

/// `mean ± std (n seeds)` of some finals, the std over seeds.
fn mean_std(xs: &[f64]) -> String {
    match xs.len() {
        0 => "—".into(),
        1 => format!("{} (1 seed)", num(xs[0])),
        n => format!(
            "{} ± {} ({n} seeds)",
            num(mean(xs)),
            num(sample_variance(xs).sqrt())
        ),
    }
}

/// Where our runs and `anchor` differ in what they measure or how they
/// were trained, in words; `runs` are ours on its env.
fn differences(anchor: &Anchor, ours_env: &str, runs: &[&Run]) -> Vec<String> {
    let mut out = Vec::new();
    if ours_env.strip_prefix("gym:") != Some(anchor.env) {
        out.push(format!("env {} vs ours {ours_env}", anchor.env));
    }
    let gammas: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.config.algorithm.get("gamma")?.as_f64())
        .collect();
    if let Some(&g) = gammas.first()
        && g != anchor.gamma
    {
        out.push(format!("γ {} vs ours {g}", anchor.gamma));
    }
    let budget = runs.iter().map(|r| r.row.step_budget).max().unwrap_or(0);
    if budget != anchor.steps {
        out.push(format!(
            "{} steps vs ours {}",
            paper::steps(anchor.steps),
            paper::steps(budget)
        ));
    }
    if anchor.seeds as usize != runs.len() {
        out.push(format!("{} seeds vs ours {}", anchor.seeds, runs.len()));
    }
    if anchor.actions != OUR_ACTIONS {
        out.push(
            "their evaluation samples actions from the policy, ours plays its mode \
             (`harness render --run DIR --episodes 10 --sample` replays ours their way)"
                .into(),
        );
    }
    if anchor.spread_kind == Spread::StdError {
        out.push(format!(
            "their ± is a standard error (a standard deviation of {})",
            num(anchor.spread * f64::from(anchor.seeds).sqrt())
        ));
    }
    let ours_every = runs.iter().map(|r| r.config.run.eval_every).max();
    if let (Some(theirs), Some(ours)) = (anchor.eval_every, ours_every)
        && theirs != ours
    {
        out.push(format!(
            "evaluated every {} steps vs ours every {} (the maximum taken over {} points vs {})",
            paper::steps(theirs),
            paper::steps(ours),
            anchor.steps / theirs.max(1),
            budget / ours.max(1)
        ));
    }
    let ours_kl = runs
        .iter()
        .find_map(|r| r.config.algorithm.get("max_kl")?.as_f64());
    if let Some(ours) = ours_kl
        && anchor.kl_bound.joint() != ours
    {
        let how = match anchor.kl_bound {
            KlBound::Joint(_) => String::new(),
            KlBound::PerActionDimension { delta, actions } => format!(
                " (their bound of {delta} is on the KL averaged over the {actions} action \
                 dimensions; measured, with ours at that radius, in {KL_CAUSE_LOG})"
            ),
        };
        out.push(format!(
            "trust region: a joint KL of {} vs ours {ours}{how}",
            anchor.kl_bound.joint()
        ));
    }
    out.push(format!(
        "hyperparameters: {} vs ours the algorithm's defaults (one set for every env)",
        anchor.hyperparameters
    ));
    out
}

/// The section, or nothing when the runs cover no standard env.
pub fn section(runs: &[Run]) -> Vec<Block> {
    let by = standard_runs(runs);
    if by.is_empty() {
        return Vec::new();
    }
    let mut blocks = vec![Block::Heading {
        level: 2,
        id: "published".into(),
        text: "Published results beside ours".into(),
    }];
    let mut rows = Vec::new();
    for anchor in MUJOCO_TRPO {
        let Some((_, env)) = LOCOMOTION_PAIRS.iter().find(|(t, _)| *t == anchor.task) else {
            continue;
        };
        let Some(ours) = by.get(&(*env, anchor.label)) else {
            continue;
        };
        let (xs, best_at) = measured(anchor.measure, ours);
        let reached = !xs.is_empty() && mean(&xs) >= anchor.mean;
        let at = best_at.map_or(String::new(), |s| {
            format!(", best at {}", paper::steps(s as u64))
        });
        rows.push(vec![
            Cell::plain(format!("{} on {env}", anchor.label)),
            Cell::plain(anchor.measure.describe()),
            Cell::plain(format!("{}{at}", mean_std(&xs))),
            Cell::plain(format!(
                "{} ± {}{}",
                anchor.mean,
                anchor.spread,
                match anchor.spread_kind {
                    Spread::StdDev => "",
                    Spread::StdError => " (s.e.)",
                }
            )),
            Cell::marked(if reached { "yes" } else { "no" }, reached),
            Cell::plain(format!("{} — {}", anchor.source, anchor.url)),
            Cell::plain(differences(anchor, env, ours).join("; ")),
        ]);
    }
    if !rows.is_empty() {
        blocks.push(Block::Table(
            Table::new(
                "Our TRPO on MuJoCo beside published TRPO at 1M steps and sb3-contrib's \
                 re-run on our envs and machine, ours measured as each source measures \
                 (mean ± standard deviation over seeds): the final evaluation return, or the best within the budget taken as Tianshou takes it (the \
                 evaluation point with the highest mean over seeds). Published figures keep \
                 their own ±: a standard deviation, or a standard error where marked (s.e.). \
                 \"reaches\" says whether our mean is at least the published mean. The last \
                 column lists, from the anchor's record and our runs' settings, every other \
                 way the two are not like for like.",
            )
            .texts(&["ours", "measure"])
            .nums(&["our value", "published"])
            .texts(&["reaches it", "source", "not like for like"])
            .rows(rows),
        ));
    }
    let mut games = Vec::new();
    for (game, rom) in GAME_PAIRS {
        let labels = ["random", "trpo", VINE_LABEL].map(|l| by.get(&(*rom, l)));
        let Some(any) = labels.iter().flatten().next() else {
            continue;
        };
        let paper = PAPER_TABLE_1
            .iter()
            .find(|p| p.game == *game)
            .expect("every game has a row of Table 1");
        let mut row = vec![Cell::plain(*rom)];
        row.extend(labels.iter().map(|rs| {
            Cell::plain(rs.map_or("—".to_string(), |rs| {
                let xs = finals(rs);
                format!("{} ({})", num(mean(&xs)), xs.len())
            }))
        }));
        // As published, every digit.
        row.extend(
            [paper.random, paper.single_path, paper.vine].map(|x| Cell::plain(x.to_string())),
        );
        row.push(Cell::plain(game_differences(any)));
        games.push(row);
    }
    if !games.is_empty() {
        blocks.push(Block::Table(
            Table::new(
                "Our runs on the Atari ROMs from pixels beside the TRPO paper's Table 1 \
                 (Schulman et al. 2015; one run per game; its random row from Mnih et al. 2013): \
                 mean final evaluation return over seeds (seeds in brackets).",
            )
            .text("ROM (ours)")
            .nums(&[
                "random",
                "TRPO single path",
                "TRPO vine",
                "paper: random",
                "paper: single path",
                "paper: vine",
            ])
            .text("not like for like")
            .rows(games),
        ));
    }
    blocks
}

/// Where our ROM runs differ from the paper's Table 1 runs.
fn game_differences(runs: &[&Run]) -> String {
    let budget = runs.iter().map(|r| r.row.step_budget).max().unwrap_or(0);
    let mut out = Vec::new();
    if budget < paper::GAME_STEPS {
        out.push(format!(
            "{} steps vs the paper's {}",
            paper::steps(budget),
            paper::steps(paper::GAME_STEPS)
        ));
    }
    let cap = runs.iter().find_map(|r| {
        r.config
            .env
            .as_ref()?
            .get("max_num_frames_per_episode")
            .cloned()
    });
    if let Some(frames) = cap {
        out.push(format!(
            "episodes capped at {frames} frames (the paper: whole games)"
        ));
    }
    if runs.len() > 1 {
        out.push(format!(
            "a mean of {} seeds vs the paper's one run",
            runs.len()
        ));
    }
    out.push("ALE v5 (ale-py) vs the paper's 2015 ALE".into());
    out.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil::finished_run;

    fn run(label: &str, env: &str, seed: u64, final_return: f64) -> Run {
        finished_run(
            label,
            env,
            seed,
            r#"{"gamma": 0.99, "max_kl": 0.01}"#,
            final_return,
            &[],
        )
    }

    #[test]
    fn every_anchor_names_a_paired_task_and_its_settings() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for a in MUJOCO_TRPO {
            assert!(LOCOMOTION_PAIRS.iter().any(|(t, _)| *t == a.task), "{a:?}");
            assert!(a.steps > 0 && a.spread >= 0.0 && a.seeds > 0);
            if a.source == SB3_HERE_SOURCE {
                assert!(repo.join(a.url).is_file(), "the re-run's script: {a:?}");
                assert!(a.env.ends_with("-v5"), "re-run on our envs: {a:?}");
            } else {
                assert!(a.url.starts_with("https://"), "{a:?}");
                assert!(a.env.ends_with("-v3"), "both sources ran MuJoCo v3: {a:?}");
            }
        }
        assert!(repo.join(KL_CAUSE_LOG).is_file());
        let swimmer = MUJOCO_TRPO.iter().find(|a| a.env == "Swimmer-v3").unwrap();
        assert_eq!(swimmer.gamma, 0.9999);
    }

    #[test]
    fn ours_beside_the_anchors_with_every_difference_said() {
        let runs: Vec<Run> = (0..3)
            .map(|s| run("trpo", "gym:Hopper-v5", s, 3000.0 + 100.0 * s as f64))
            .chain([run("trpo", "hopper-v0", 0, 9000.0)])
            .collect();
        let blocks = section(&runs);
        let Block::Table(table) = &blocks[1] else {
            panic!("{blocks:?}")
        };
        // Hopper only: sb3's, its re-run's and Tianshou's rows; native
        // hopper has none.
        assert_eq!(table.rows.len(), 3);
        let sb3 = &table.rows[0];
        assert_eq!(sb3[1].text, "final evaluation return");
        assert_eq!(sb3[2].text, "3100 ± 100.0 (3 seeds)");
        assert_eq!(sb3[3].text, "3372 ± 215 (s.e.)");
        assert_eq!(sb3[4].text, "no");
        assert!(sb3[6].text.contains("env Hopper-v3 vs ours gym:Hopper-v5"));
        assert!(
            sb3[6].text.contains("1M steps vs ours 1k"),
            "{}",
            sb3[6].text
        );
        // Three seeds as sb3's, both playing the mode; its s.e. is said.
        assert!(!sb3[6].text.contains("seeds") && !sb3[6].text.contains("samples"));
        assert!(
            sb3[6]
                .text
                .contains("their ± is a standard error (a standard deviation of 372.4)"),
            "{}",
            sb3[6].text
        );
        // sb3-contrib's KL is per action dimension: 3 on Hopper.
        assert!(
            sb3[6].text.contains(
                "trust region: a joint KL of 0.03 vs ours 0.01 (their bound of 0.01 is on the \
                 KL averaged over the 3 action dimensions"
            ),
            "{}",
            sb3[6].text
        );
        let here = &table.rows[1];
        let rerun = MUJOCO_TRPO
            .iter()
            .find(|a| a.source == SB3_HERE_SOURCE && a.task == "hopper")
            .unwrap();
        assert_eq!(here[3].text, format!("{} ± {}", rerun.mean, rerun.spread));
        assert!(here[5].text.ends_with(SB3_HERE_SCRIPT), "{}", here[5].text);
        // The same env, seeds, measure and actions: what differs is said.
        assert!(!here[6].text.contains("env "), "{}", here[6].text);
        assert!(!here[6].text.contains("seeds") && !here[6].text.contains("standard error"));
        assert!(
            here[6]
                .text
                .contains("hyperparameters: the RL Zoo's MuJoCo set")
        );
        let tianshou = &table.rows[2];
        assert_eq!(tianshou[1].text, "best evaluation return within the budget");
        // The seeds' mean is highest at the last evaluation here.
        assert_eq!(tianshou[2].text, "3100 ± 100.0 (3 seeds), best at 1k");
        assert_eq!(tianshou[4].text, "yes");
        assert!(tianshou[6].text.contains("10 seeds vs ours 3"));
        assert!(
            tianshou[6]
                .text
                .contains("their evaluation samples actions")
        );
        assert!(!tianshou[6].text.contains("standard error"));
        assert!(
            !tianshou[6].text.contains("trust region"),
            "the same joint bound"
        );
        // Ours evaluated every 500 steps (the test runs' spacing).
        assert!(
            tianshou[6]
                .text
                .contains("evaluated every 30k steps vs ours every 500 (the maximum taken over 33 points vs 2)"),
            "{}",
            tianshou[6].text
        );
        assert!(!sb3[6].text.contains("evaluated every"), "a final figure");
        assert!(
            !tianshou[6].text.contains("γ") && !tianshou[6].text.contains("best"),
            "same γ and measure: {}",
            tianshou[6].text
        );
        assert!(
            section(&runs[3..]).is_empty(),
            "no standard env, no section"
        );
    }

    #[test]
    fn the_best_within_budget_is_the_best_point_of_the_seeds_mean() {
        let curve = |seed: u64, xs: [f64; 3]| {
            let mut r = run("trpo", "gym:Walker2d-v5", seed, xs[2]);
            r.eval = vec![(1.0e5, xs[0]), (2.0e5, xs[1]), (3.0e5, xs[2])];
            r
        };
        // Seed 0 peaks at 100k, seed 1 at 300k; their mean peaks at 200k.
        let runs = [
            curve(0, [900.0, 800.0, 100.0]),
            curve(1, [100.0, 600.0, 1000.0]),
        ];
        let refs: Vec<&Run> = runs.iter().collect();
        let (xs, at) = measured(Measure::BestWithinBudget, &refs);
        assert_eq!((xs, at), (vec![800.0, 600.0], Some(2.0e5)));
        let (xs, at) = measured(Measure::Final, &refs);
        assert_eq!((xs, at), (vec![100.0, 1000.0], None));
    }

    #[test]
    fn rom_runs_stand_beside_table_1() {
        let runs = vec![
            run("random", "gym:ALE/Pong-v5 [view=pixels]", 0, -21.0),
            run("trpo", "gym:ALE/Pong-v5 [view=pixels]", 0, -15.0),
        ];
        let blocks = section(&runs);
        let Block::Table(table) = &blocks[1] else {
            panic!("{blocks:?}")
        };
        let cells: Vec<&str> = table.rows[0].iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            &cells[..7],
            [
                "gym:ALE/Pong-v5",
                "-21.00 (1)",
                "-15.00 (1)",
                "—",
                "-20.4",
                "20.9",
                "20.9"
            ]
        );
        assert!(
            cells[7].contains("1k steps vs the paper's 50M"),
            "{}",
            cells[7]
        );
    }
}
