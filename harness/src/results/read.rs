//! Reading results back from a run directory's Parquet files (the writer is
//! [`super::write`]): the `runs` row, some metrics' series, and the optional
//! `harness check cg` table. Sweeps read the status of finished runs;
//! reports read everything.

use super::rows::{CgTable, EnvProviderRecord, MetricRow, RunRow};
use super::{CHECK_CG_FILE, EPISODES_FILE, METRICS_FILE, RUNS_FILE, rows::Phase};
use anyhow::{Context, Result, anyhow};
use arrow_array::{
    Array, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray, UInt64Array,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;
use trustbench_policy::exact::ExactRow;

/// All record batches of a Parquet file. A damaged file is an error naming
/// it, even where the Parquet decoder would panic on it.
fn read_batches(path: &Path) -> Result<Vec<RecordBatch>> {
    let read = || -> Result<Vec<RecordBatch>> {
        let file = std::fs::File::open(path)?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)?.build()?;
        Ok(reader.collect::<Result<Vec<_>, _>>()?)
    };
    std::panic::catch_unwind(read)
        .unwrap_or_else(|_| Err(anyhow!("the file is damaged (the Parquet decoder gave up)")))
        .with_context(|| format!("reading {}", path.display()))
}

/// Column `name` of `batch` as array type `A`.
fn column<'a, A: Array + 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a A> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<A>())
        .ok_or_else(|| anyhow!("column '{name}' is missing or of another type"))
}

/// The `runs` row of the run in `dir`.
pub fn read_run(dir: &Path) -> Result<RunRow> {
    let path = dir.join(RUNS_FILE);
    let batches = read_batches(&path)?;
    let b = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| anyhow!("{} has no row", path.display()))?;
    let parse = || -> Result<RunRow> {
        let text = |name| column::<StringArray>(b, name).map(|c| c.value(0).to_string());
        let optional = |name| {
            column::<StringArray>(b, name).map(|c| (!c.is_null(0)).then(|| c.value(0).to_string()))
        };
        // Columns added after the first schema: absent in older files.
        let recorded_later = |name| match b.column_by_name(name) {
            None => Ok(None),
            Some(_) => optional(name),
        };
        let int = |name| column::<UInt64Array>(b, name).map(|c| c.value(0));
        let time = |name| column::<TimestampMicrosecondArray>(b, name).map(|c| c.value(0));
        Ok(RunRow {
            run_id: text("run_id")?,
            status: text("status")?.parse()?,
            error: optional("error")?,
            algorithm_id: text("algorithm_id")?,
            algorithm_version: text("algorithm_version")?,
            plugin_library: text("plugin_library")?,
            plugin_path: optional("plugin_path")?,
            abi_version: text("abi_version")?,
            env_id: text("env_id")?,
            env_provider: match recorded_later("env_provider")? {
                None => None,
                Some(library) => Some(EnvProviderRecord {
                    library,
                    version: recorded_later("env_provider_version")?.unwrap_or_default(),
                    path: recorded_later("env_provider_path")?.unwrap_or_default(),
                }),
            },
            seed: int("seed")?,
            num_envs: int("num_envs")?,
            step_budget: int("step_budget")?,
            env_steps: int("env_steps")?,
            iterations: int("iterations")?,
            config_json: text("config_json")?,
            harness_version: text("harness_version")?,
            cpu_model: recorded_later("cpu_model")?,
            cpu_features: recorded_later("cpu_features")?,
            plugin_runtime: recorded_later("plugin_runtime")?,
            start_time_us: time("start_time")?,
            end_time_us: time("end_time")?,
            wall_seconds: column::<Float64Array>(b, "wall_seconds")?.value(0),
        })
    };
    parse().with_context(|| format!("reading {}", path.display()))
}

/// The series of each metric in `names` in the run in `dir` (one pass over
/// the file), each in logging order.
pub fn read_metrics(dir: &Path, names: &[&str]) -> Result<Vec<Vec<MetricRow>>> {
    let path = dir.join(METRICS_FILE);
    let mut series = vec![Vec::new(); names.len()];
    for b in read_batches(&path)? {
        let mut parse = || -> Result<()> {
            let metric = column::<StringArray>(&b, "metric")?;
            let iteration = column::<UInt64Array>(&b, "iteration")?;
            let steps = column::<UInt64Array>(&b, "env_steps")?;
            let wall = column::<Float64Array>(&b, "wall_seconds")?;
            let value = column::<Float64Array>(&b, "value")?;
            for i in 0..b.num_rows() {
                let Some(k) = names.iter().position(|n| *n == metric.value(i)) else {
                    continue;
                };
                series[k].push(MetricRow {
                    iteration: iteration.value(i),
                    env_steps: steps.value(i),
                    wall_seconds: wall.value(i),
                    name: names[k].to_string(),
                    value: value.value(i),
                });
            }
            Ok(())
        };
        parse().with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(series)
}

/// `(env steps at its end, return)` of every training episode of the run
/// in `dir`, in the order they ended (what a report's training curves
/// draw when evaluations are few).
pub fn read_train_returns(dir: &Path) -> Result<Vec<(f64, f64)>> {
    let path = dir.join(EPISODES_FILE);
    let mut out = Vec::new();
    for b in read_batches(&path)? {
        let parse = || -> Result<Vec<(f64, f64)>> {
            let phase = column::<StringArray>(&b, "phase")?;
            let steps = column::<UInt64Array>(&b, "env_steps")?;
            let ret = column::<Float64Array>(&b, "episode_return")?;
            Ok((0..b.num_rows())
                .filter(|&i| phase.value(i) == Phase::Train.as_str())
                .map(|i| (steps.value(i) as f64, ret.value(i)))
                .collect())
        };
        out.extend(parse().with_context(|| format!("reading {}", path.display()))?);
    }
    Ok(out)
}

/// The CG check table in `dir`, or `None` when it has none. The columns
/// `iteration, relative_error, cosine, residual` are required;
/// `algorithm_id, env_id, seed` are read when present.
pub fn read_check_cg(dir: &Path) -> Result<Option<CgTable>> {
    let path = dir.join(CHECK_CG_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let mut table = CgTable {
        algorithm_id: None,
        env_id: None,
        seed: None,
        rows: Vec::new(),
    };
    for b in read_batches(&path)? {
        let mut parse = || -> Result<()> {
            if b.num_rows() > 0 {
                let text = |name| {
                    column::<StringArray>(&b, name)
                        .ok()
                        .filter(|c| !c.is_null(0))
                        .map(|c| c.value(0).to_string())
                };
                table.algorithm_id = table.algorithm_id.take().or_else(|| text("algorithm_id"));
                table.env_id = table.env_id.take().or_else(|| text("env_id"));
                table.seed = table.seed.or_else(|| {
                    column::<UInt64Array>(&b, "seed")
                        .ok()
                        .filter(|c| !c.is_null(0))
                        .map(|c| c.value(0))
                });
            }
            let iteration = column::<UInt64Array>(&b, "iteration")?;
            let error = column::<Float64Array>(&b, "relative_error")?;
            let cosine = column::<Float64Array>(&b, "cosine")?;
            let residual = column::<Float64Array>(&b, "residual")?;
            table.rows.extend((0..b.num_rows()).map(|i| ExactRow {
                iteration: iteration.value(i) as usize,
                relative_error: error.value(i),
                cosine: cosine.value(i),
                residual_norm: residual.value(i),
            }));
            Ok(())
        };
        parse().with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(Some(table))
}
