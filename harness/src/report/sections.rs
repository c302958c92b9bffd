//! The results sections: per env (learning curves, final performance), the
//! aggregate over envs, and the conjugate-gradient checks.

use super::aggregate::{AGGREGATE_REPS, Aggregates, aggregate};
use super::curves::{Axis, CURVE_REPS, GRID_POINTS, TRAIN_WINDOW, curve, final_train_return};
use super::data::{LabelledCgTable, Run};
use super::doc::{Block, Cell, Table, interval, num};
use super::finals::{ALPHA, final_table};
use super::plots::{self, Axes, Banded};
use anyhow::Result;
use plotters::prelude::SeriesLabelPosition;
use std::collections::BTreeMap;
use trustbench_policy::exact::ExactRow;

/// Label → colour index, fixed for the whole report.
pub type Colors = BTreeMap<String, usize>;

/// Runs grouped by env, then label.
pub type ByEnv<'a> = BTreeMap<&'a str, BTreeMap<&'a str, Vec<&'a Run>>>;

/// Group `runs` by env and label.
pub fn by_env(runs: &[Run]) -> ByEnv<'_> {
    let mut groups: ByEnv = BTreeMap::new();
    for run in runs {
        groups
            .entry(&run.row.env_id)
            .or_default()
            .entry(&run.label)
            .or_default()
            .push(run);
    }
    groups
}

/// One section per env: the learning curves and the final-performance
/// table.
pub fn envs(groups: &ByEnv, colors: &Colors) -> Result<Vec<Block>> {
    let mut blocks = vec![Block::Heading {
        level: 2,
        id: "envs".into(),
        text: "Learning curves and final performance".into(),
    }];
    for (i, (env, labels)) in groups.iter().enumerate() {
        blocks.push(Block::Heading {
            level: 3,
            id: format!("env-{i}"),
            text: env.to_string(),
        });
        let ok: Vec<(&str, Vec<&Run>)> = labels
            .iter()
            .map(|(l, runs)| (*l, runs.iter().copied().filter(|r| r.ok()).collect()))
            .filter(|(_, runs): &(&str, Vec<&Run>)| !runs.is_empty())
            .collect();
        let failed: Vec<String> = labels
            .iter()
            .filter_map(|(l, runs)| {
                let n = runs.iter().filter(|r| !r.ok()).count();
                (n > 0).then(|| format!("{l}: {n} of {} runs failed (see Runs)", runs.len()))
            })
            .collect();
        if ok.is_empty() {
            blocks.push(Block::Paragraph("No run finished on this env.".into()));
        } else {
            blocks.push(curves_figure(env, &ok, colors)?);
            blocks.push(Block::Table(finals(env, &ok)));
        }
        if !failed.is_empty() {
            blocks.push(Block::List(failed));
        }
    }
    Ok(blocks)
}

/// Fewer evaluations than this in every run make evaluation curves sparse:
/// the training curve is then the figure.
pub const DENSE_EVALUATIONS: usize = 3;

/// Return against env steps, and beside it against wall seconds: sample
/// efficiency and what it costs on this machine; then the training
/// episodes' return against env steps. When every run was evaluated fewer
/// than [`DENSE_EVALUATIONS`] times, only the training curve is drawn.
fn curves_figure(env: &str, ok: &[(&str, Vec<&Run>)], colors: &Colors) -> Result<Block> {
    let trained: Vec<(&str, Vec<&Run>)> = ok
        .iter()
        .map(|(l, runs)| {
            (
                *l,
                runs.iter()
                    .copied()
                    .filter(|r| !r.train.is_empty())
                    .collect(),
            )
        })
        .filter(|(_, runs): &(&str, Vec<&Run>)| !runs.is_empty())
        .collect();
    let sparse = ok
        .iter()
        .all(|(_, runs)| runs.iter().all(|r| r.eval.len() < DENSE_EVALUATIONS));
    let band = format!(
        "Line: mean over seeds; band: 95 % percentile-bootstrap interval over seeds \
         ({CURVE_REPS} resamples of whole curves). Runs are interpolated linearly onto a common \
         grid of {GRID_POINTS} points, within the range every seed covers."
    );
    let train_caption = format!(
        "training return on {env}: each training episode's return (the stochastic policy \
         that learns), smoothed per run as the mean over the episodes that ended in the last \
         {:.0} % of its step budget, against training env steps",
        TRAIN_WINDOW * 100.0
    );
    let (mut svg, mut caption) = (String::new(), String::new());
    let mut seeds = Vec::new();
    if !sparse || trained.is_empty() {
        let (steps, s) = curves_svg(env, ok, colors, Axis::Steps)?;
        let (wall, _) = curves_svg(env, ok, colors, Axis::WallSeconds)?;
        (svg, seeds) = (steps + &wall, s);
        caption = format!(
            "Evaluation return (mean over each evaluation's episodes, deterministic policy, \
             the same start states every time) on {env}, against training env steps (first) \
             and against wall-clock seconds since the run started (second; evaluations \
             included, on whatever machine ran it, sharing its cores with the sweep's other \
             jobs)"
        );
    }
    if !trained.is_empty() {
        let (train, s) = curves_svg(env, &trained, colors, Axis::TrainSteps)?;
        svg.push_str(&train);
        if sparse {
            seeds = s;
            caption = format!(
                "The runs were evaluated fewer than {DENSE_EVALUATIONS} times each, too few \
                 for an evaluation curve: the {train_caption}"
            );
        } else {
            caption.push_str(&format!("; and the {train_caption} (last)"));
        }
    }
    Ok(Block::Figure {
        svg,
        caption: format!("{caption}. {band} Seeds: {}.", seeds.join(", ")),
    })
}

/// One panel of [`curves_figure`], and the seeds per label.
fn curves_svg(
    env: &str,
    ok: &[(&str, Vec<&Run>)],
    colors: &Colors,
    axis: Axis,
) -> Result<(String, Vec<String>)> {
    let max_x = ok
        .iter()
        .flat_map(|(_, runs)| {
            runs.iter()
                .filter_map(|r| axis.points(r).last().map(|p| p.0))
        })
        .fold(0.0, f64::max);
    let curves: Vec<_> = ok
        .iter()
        .map(|(label, runs)| curve(label, env, runs, axis, max_x))
        .collect();
    let series: Vec<Banded> = curves
        .iter()
        .map(|c| Banded {
            label: &c.label,
            color: plots::color(colors[&c.label]),
            points: c.points.iter().map(|p| (p.x, p.mean, p.lo, p.hi)).collect(),
        })
        .collect();
    let svg = plots::banded_lines(
        Axes {
            title: env,
            x_desc: match axis {
                Axis::Steps | Axis::TrainSteps => "training env steps",
                Axis::WallSeconds => "wall-clock seconds",
            },
            y_desc: match axis {
                Axis::TrainSteps => "training return (smoothed)",
                _ => "evaluation return",
            },
            y_range: None,
            legend: SeriesLabelPosition::UpperLeft,
        },
        &series,
    )?;
    let seeds = curves
        .iter()
        .map(|c| format!("{} {}", c.label, c.seeds))
        .collect();
    Ok((svg, seeds))
}

fn finals(env: &str, ok: &[(&str, Vec<&Run>)]) -> Table {
    let groups: Vec<(String, Vec<f64>)> = ok
        .iter()
        .map(|(label, runs)| {
            let xs = runs.iter().filter_map(|r| r.final_return()).collect();
            (label.to_string(), xs)
        })
        .collect();
    let rows = final_table(&groups)
        .into_iter()
        .zip(ok)
        .map(|(r, (_, runs))| {
            let train: Vec<f64> = runs.iter().filter_map(|r| final_train_return(r)).collect();
            vec![
                Cell::marked(&r.label, r.bold),
                Cell::plain(r.n.to_string()),
                Cell::marked(num(r.mean), r.bold),
                Cell::plain(r.ci.map_or("—".into(), |(lo, hi)| interval(lo, hi))),
                Cell::plain(r.p_vs_best.map_or("—".into(), |p| format!("{p:.3}"))),
                Cell::plain(if train.is_empty() {
                    "—".into()
                } else {
                    num(crate::stats::mean(&train))
                }),
            ]
        })
        .collect();
    Table::new(format!(
        "Final performance on {env}: the last evaluation's mean return, averaged over \
         seeds; 95 % Student-t interval of the mean. Bold: the best mean and those not \
         significantly different from it (Welch's t-test, p ≥ {ALPHA}; no test with one \
         seed). Training return: the mean return of the training episodes that ended in the \
         last {:.0} % of each run's budget, averaged over seeds.",
        TRAIN_WINDOW * 100.0
    ))
    .text("algorithm")
    .nums(&["seeds", "mean", "95 % CI", "p vs best", "training return"])
    .rows(rows)
}

/// The aggregate section (or why there is none).
pub fn aggregates(runs: &[Run], colors: &Colors) -> Result<Vec<Block>> {
    let mut blocks = vec![Block::Heading {
        level: 2,
        id: "aggregate".into(),
        text: "Aggregate over envs (normalised scores)".into(),
    }];
    let a = match aggregate(runs) {
        Ok(a) => a,
        Err(reasons) => {
            blocks.push(Block::Paragraph(
                "No aggregate: it needs an env with a reference score and a random baseline, \
                 and an algorithm run on every such env."
                    .into(),
            ));
            blocks.push(Block::List(reasons));
            return Ok(blocks);
        }
    };
    blocks.push(Block::Paragraph(format!(
        "Each run's final return is normalised per env as (score − random) / (reference − \
         random): the random policy scores 0 and the reference 1. Measures and intervals follow \
         Agarwal et al. (2021): 95 % stratified-bootstrap intervals ({AGGREGATE_REPS} \
         resamples; runs are resampled within each env)."
    )));
    blocks.push(Block::Table(normalisation(&a)));
    blocks.push(Block::Table(iqm_table(&a)));
    let rows: Vec<_> = a
        .labels
        .iter()
        .zip(&a.iqm)
        .map(|(l, e)| (l.as_str(), plots::color(colors[l]), *e))
        .collect();
    blocks.push(Block::Figure {
        svg: plots::intervals("IQM of normalised scores", "normalised score", &rows)?,
        caption: "Interquartile mean (tick) and its 95 % stratified-bootstrap interval (bar); \
                  grey lines: random (0) and reference (1)."
            .into(),
    });
    blocks.push(profile_figure(&a, colors)?);
    if a.labels.len() > 1 {
        blocks.push(Block::Table(improvement_table(&a)));
    } else {
        blocks.push(Block::Paragraph(
            "Probability of improvement needs at least two algorithms.".into(),
        ));
    }
    if !a.notes.is_empty() {
        blocks.push(Block::List(a.notes.clone()));
    }
    Ok(blocks)
}

fn normalisation(a: &Aggregates) -> Table {
    Table::new("Normalisation per env.")
        .text("env")
        .num("random (0)")
        .text("from")
        .num("reference (1)")
        .text("from")
        .rows(
            a.tasks
                .iter()
                .map(|t| {
                    vec![
                        Cell::plain(&t.env_id),
                        Cell::plain(num(t.random)),
                        Cell::plain(&t.random_source),
                        Cell::plain(num(t.reference)),
                        Cell::plain(&t.reference_source),
                    ]
                })
                .collect(),
        )
}

fn iqm_table(a: &Aggregates) -> Table {
    Table::new(format!(
        "Interquartile mean (IQM) of normalised final scores over all runs of {} env(s): \
         the mean of the middle 50 % of runs.",
        a.tasks.len()
    ))
    .text("algorithm")
    .nums(&["runs", "IQM", "95 % CI"])
    .rows(
        a.labels
            .iter()
            .zip(&a.iqm)
            .zip(&a.runs)
            .map(|((l, e), n)| {
                vec![
                    Cell::plain(l),
                    Cell::plain(n.to_string()),
                    Cell::plain(num(e.value)),
                    Cell::plain(interval(e.lo, e.hi)),
                ]
            })
            .collect(),
    )
}

fn profile_figure(a: &Aggregates, colors: &Colors) -> Result<Block> {
    let series: Vec<Banded> = a
        .labels
        .iter()
        .zip(&a.profiles)
        .map(|(l, profile)| Banded {
            label: l,
            color: plots::color(colors[l]),
            points: a
                .taus
                .iter()
                .zip(profile)
                .map(|(&t, e)| (t, e.value, e.lo, e.hi))
                .collect(),
        })
        .collect();
    let svg = plots::banded_lines(
        Axes {
            title: "Performance profile",
            x_desc: "normalised score τ",
            y_desc: "fraction of runs with score > τ",
            y_range: Some((0.0, 1.02)),
            legend: SeriesLabelPosition::UpperRight,
        },
        &series,
    )?;
    Ok(Block::Figure {
        svg,
        caption: "Performance profiles: the fraction of runs whose normalised score exceeds τ \
                  (each env weighted equally), with 95 % stratified-bootstrap bands. A curve \
                  above another everywhere dominates it stochastically."
            .into(),
    })
}

fn improvement_table(a: &Aggregates) -> Table {
    let rows = a
        .labels
        .iter()
        .zip(&a.improvement)
        .map(|(x, row)| {
            let mut cells = vec![Cell::plain(x)];
            cells.extend(row.iter().map(|e| match e {
                Some(e) => Cell::marked(
                    format!("{} {}", num(e.value), interval(e.lo, e.hi)),
                    e.lo > 0.5,
                ),
                None => Cell::plain("—"),
            }));
            cells
        })
        .collect();
    let labels: Vec<&str> = a.labels.iter().map(String::as_str).collect();
    Table::new(
        "Probability of improvement: the chance that a random run of the row's \
         algorithm scores higher than a random run of the column's on the same env \
         (ties count half), averaged over envs, with its 95 % interval. Bold: the \
         interval lies above 0.5.",
    )
    .text("P(row > column)")
    .nums(&labels)
    .rows(rows)
}

/// The CG-check section, when there are checks: per env, relative error
/// against CG iteration (one line per check) and each check's last row.
pub fn cg_checks(checks: &[LabelledCgTable], colors: &Colors) -> Result<Vec<Block>> {
    let mut by_env: BTreeMap<&str, BTreeMap<&str, Vec<&LabelledCgTable>>> = BTreeMap::new();
    for c in checks {
        by_env
            .entry(&c.env_id)
            .or_default()
            .entry(&c.label)
            .or_default()
            .push(c);
    }
    let mut blocks = Vec::new();
    for (env, labels) in &by_env {
        let series: Vec<_> = labels
            .iter()
            .map(|(l, checks)| {
                let lines = checks
                    .iter()
                    .map(|c| {
                        let mut rows: Vec<&ExactRow> = c.table.rows.iter().collect();
                        rows.sort_by_key(|r| r.iteration);
                        rows.iter()
                            .map(|r| (r.iteration as f64, r.relative_error))
                            .collect()
                    })
                    .collect();
                (*l, plots::color(colors[*l]), lines)
            })
            .collect();
        blocks.push(Block::Figure {
            svg: plots::log_lines(&format!("CG check: {env}"), "relative error", &series)?,
            caption: format!(
                "Conjugate-gradient check on {env}: relative error ‖x_k − x*‖/‖x*‖ of the \
                 plugin's CG iterate against the exact dense solve, per CG iteration k (log \
                 scale); one line per check."
            ),
        });
        blocks.push(Block::Table(cg_table(env, labels)));
    }
    if !blocks.is_empty() {
        blocks.insert(
            0,
            Block::Heading {
                level: 2,
                id: "cg".into(),
                text: "Conjugate-gradient checks".into(),
            },
        );
    }
    Ok(blocks)
}

fn cg_table(env: &str, labels: &BTreeMap<&str, Vec<&LabelledCgTable>>) -> Table {
    let rows = labels
        .values()
        .flatten()
        .filter_map(|c| {
            let last = c.table.rows.iter().max_by_key(|r| r.iteration)?;
            Some(vec![
                Cell::plain(&c.label),
                Cell::plain(c.table.seed.map_or("—".into(), |s| s.to_string())),
                Cell::plain(last.iteration.to_string()),
                Cell::plain(format!("{:.3e}", last.relative_error)),
                Cell::plain(format!("{:.6}", last.cosine)),
                Cell::plain(format!("{:.3e}", last.residual_norm)),
            ])
        })
        .collect();
    Table::new(format!(
        "CG check on {env}: the last iteration of each check."
    ))
    .text("algorithm")
    .nums(&["seed", "iteration", "relative error", "cosine", "residual"])
    .rows(rows)
}
