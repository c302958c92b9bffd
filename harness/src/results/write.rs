//! Writing a run's tables. Every file is written atomically: to a
//! temporary name in the same directory, flushed and synced, then renamed.
//! A reader (or a resumed sweep) sees a complete file or none.

use super::rows::{CgTable, EnvProviderRecord, EpisodeRow, MetricRow, RunRow};
use super::*;
use anyhow::{Context, Result};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn u64s(values: impl Iterator<Item = u64>) -> ArrayRef {
    Arc::new(UInt64Array::from_iter_values(values))
}

fn f64s(values: impl Iterator<Item = f64>) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values(values))
}

fn field(name: &str, data_type: DataType, nullable: bool) -> Field {
    Field::new(name, data_type, nullable)
}

/// Write the `runs` table (one row).
pub fn write_runs(dir: &Path, row: &RunRow) -> Result<()> {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let schema = Schema::new(vec![
        field("run_id", DataType::Utf8, false),
        field("status", DataType::Utf8, false),
        field("error", DataType::Utf8, true),
        field("algorithm_id", DataType::Utf8, false),
        field("algorithm_version", DataType::Utf8, false),
        field("plugin_library", DataType::Utf8, false),
        field("plugin_path", DataType::Utf8, true),
        field("abi_version", DataType::Utf8, false),
        field("env_id", DataType::Utf8, false),
        field("env_provider", DataType::Utf8, true),
        field("env_provider_version", DataType::Utf8, true),
        field("env_provider_path", DataType::Utf8, true),
        field("seed", DataType::UInt64, false),
        field("num_envs", DataType::UInt64, false),
        field("step_budget", DataType::UInt64, false),
        field("env_steps", DataType::UInt64, false),
        field("iterations", DataType::UInt64, false),
        field("config_json", DataType::Utf8, false),
        field("harness_version", DataType::Utf8, false),
        field("cpu_model", DataType::Utf8, true),
        field("cpu_features", DataType::Utf8, true),
        field("plugin_runtime", DataType::Utf8, true),
        field("start_time", ts.clone(), false),
        field("end_time", ts, false),
        field("wall_seconds", DataType::Float64, false),
    ]);
    let one = |s: &str| strings(std::iter::once(s));
    let timestamp = |us: i64| -> ArrayRef {
        Arc::new(TimestampMicrosecondArray::from(vec![us]).with_timezone("UTC"))
    };
    let columns: Vec<ArrayRef> = vec![
        one(&row.run_id),
        one(row.status.as_str()),
        Arc::new(StringArray::from(vec![row.error.as_deref()])),
        one(&row.algorithm_id),
        one(&row.algorithm_version),
        one(&row.plugin_library),
        Arc::new(StringArray::from(vec![row.plugin_path.as_deref()])),
        one(&row.abi_version),
        one(&row.env_id),
        provider_column(row, |p| &p.library),
        provider_column(row, |p| &p.version),
        provider_column(row, |p| &p.path),
        u64s(std::iter::once(row.seed)),
        u64s(std::iter::once(row.num_envs)),
        u64s(std::iter::once(row.step_budget)),
        u64s(std::iter::once(row.env_steps)),
        u64s(std::iter::once(row.iterations)),
        one(&row.config_json),
        one(&row.harness_version),
        Arc::new(StringArray::from(vec![row.cpu_model.as_deref()])),
        Arc::new(StringArray::from(vec![row.cpu_features.as_deref()])),
        Arc::new(StringArray::from(vec![row.plugin_runtime.as_deref()])),
        timestamp(row.start_time_us),
        timestamp(row.end_time_us),
        f64s(std::iter::once(row.wall_seconds)),
    ];
    write_atomically(&dir.join(RUNS_FILE), schema, columns)
}

/// One of the env provider's columns: null for the harness's own envs.
fn provider_column(row: &RunRow, part: impl Fn(&EnvProviderRecord) -> &String) -> ArrayRef {
    let value = row.env_provider.as_ref().map(|p| part(p).as_str());
    Arc::new(StringArray::from(vec![value]))
}

/// Write the `metrics` table (long format: one row per metric value).
pub fn write_metrics(dir: &Path, run_id: &str, rows: &[MetricRow]) -> Result<()> {
    let schema = Schema::new(vec![
        field("run_id", DataType::Utf8, false),
        field("iteration", DataType::UInt64, false),
        field("env_steps", DataType::UInt64, false),
        field("wall_seconds", DataType::Float64, false),
        field("metric", DataType::Utf8, false),
        field("value", DataType::Float64, false),
    ]);
    let columns = vec![
        strings(rows.iter().map(|_| run_id)),
        u64s(rows.iter().map(|r| r.iteration)),
        u64s(rows.iter().map(|r| r.env_steps)),
        f64s(rows.iter().map(|r| r.wall_seconds)),
        strings(rows.iter().map(|r| r.name.as_str())),
        f64s(rows.iter().map(|r| r.value)),
    ];
    write_atomically(&dir.join(METRICS_FILE), schema, columns)
}

/// Write the `episodes` table.
pub fn write_episodes(dir: &Path, run_id: &str, rows: &[EpisodeRow]) -> Result<()> {
    let schema = Schema::new(vec![
        field("run_id", DataType::Utf8, false),
        field("phase", DataType::Utf8, false),
        field("env_steps", DataType::UInt64, false),
        field("wall_seconds", DataType::Float64, false),
        field("episode_return", DataType::Float64, false),
        field("length", DataType::UInt64, false),
        field("terminated", DataType::Boolean, false),
        field("truncated", DataType::Boolean, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        strings(rows.iter().map(|_| run_id)),
        strings(rows.iter().map(|r| r.phase.as_str())),
        u64s(rows.iter().map(|r| r.env_steps)),
        f64s(rows.iter().map(|r| r.wall_seconds)),
        f64s(rows.iter().map(|r| r.episode_return)),
        u64s(rows.iter().map(|r| r.length)),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.terminated)),
        )),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.truncated)),
        )),
    ];
    write_atomically(&dir.join(EPISODES_FILE), schema, columns)
}

/// Write the `harness check cg` table (one row per CG iteration) into
/// `dir` and return its path. `dim` is the number of policy parameters.
pub fn write_check_cg(dir: &Path, table: &CgTable, dim: usize) -> Result<std::path::PathBuf> {
    let schema = Schema::new(vec![
        field("algorithm_id", DataType::Utf8, true),
        field("env_id", DataType::Utf8, true),
        field("seed", DataType::UInt64, true),
        field("dim", DataType::UInt64, false),
        field("iteration", DataType::UInt64, false),
        field("relative_error", DataType::Float64, false),
        field("cosine", DataType::Float64, false),
        field("residual", DataType::Float64, false),
    ]);
    let rows = &table.rows;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter(
            rows.iter().map(|_| table.algorithm_id.as_deref()),
        )),
        Arc::new(StringArray::from_iter(
            rows.iter().map(|_| table.env_id.as_deref()),
        )),
        Arc::new(UInt64Array::from_iter(rows.iter().map(|_| table.seed))),
        u64s(rows.iter().map(|_| dim as u64)),
        u64s(rows.iter().map(|r| r.iteration as u64)),
        f64s(rows.iter().map(|r| r.relative_error)),
        f64s(rows.iter().map(|r| r.cosine)),
        f64s(rows.iter().map(|r| r.residual_norm)),
    ];
    let path = dir.join(CHECK_CG_FILE);
    write_atomically(&path, schema, columns)?;
    Ok(path)
}

/// Write bytes to `path` atomically (temp file in the same directory, sync,
/// rename).
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    commit(path, |file| file.write_all(bytes).map_err(Into::into))
}

fn write_atomically(path: &Path, schema: Schema, columns: Vec<ArrayRef>) -> Result<()> {
    // In the Arrow schema too, so pyarrow/pandas show it in `schema.metadata`.
    let version = [(SCHEMA_VERSION_KEY.to_string(), SCHEMA_VERSION.to_string())];
    let schema = Arc::new(schema.with_metadata(std::collections::HashMap::from(version)));
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            SCHEMA_VERSION_KEY.to_string(),
            SCHEMA_VERSION.to_string(),
        )]))
        .build();
    commit(path, |file| {
        let mut writer = ArrowWriter::try_new(file.try_clone()?, schema, Some(props))?;
        writer.write(&batch)?;
        writer.close()?;
        Ok(())
    })
}

/// Create `path` through a temporary sibling filled by `fill`.
fn commit(path: &Path, fill: impl FnOnce(&mut std::fs::File) -> Result<()>) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        fill(&mut file)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}
