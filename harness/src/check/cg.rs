//! `harness check cg`: is a plugin's conjugate gradient solving the right
//! system, and how well after k iterations?
//!
//! The plugin (through the `trustbench.natural-gradient/1` extension)
//! collects one batch with its current policy and exposes g, the damped
//! Fisher-vector product v ↦ (F + λI) v and its own CG iterates. The harness
//! builds the dense matrix column by column from the products, solves
//! (F + λI) x* = g by Cholesky (faer), and compares every iterate x_k with
//! x*: relative error ‖x_k − x*‖/‖x*‖, cosine(x_k, x*), CG's residual and
//! gᵀx_k / gᵀx*. The cosine depends on the parameterisation (a direction
//! CG has not reached may matter little to the surrogate); the last does
//! not: with A = F + λI, CG's iterates satisfy x_kᵀAx_k = gᵀx_k (x_k
//! minimises ½xᵀAx − gᵀx over its Krylov space), so the first-order gain of
//! the step scaled to the KL boundary, β_k gᵀx_k with β_k = √(2δ / x_kᵀAx_k),
//! is √(gᵀx_k / gᵀx*) of the exact direction's: the ratio says what share
//! of the attainable improvement k iterations leave on the table.
//! Any plugin offering the extension can be checked; the math is the same
//! code the policy crate's own exact check uses.

use crate::plugin::AlgorithmRef;
use crate::results::{self, CgTable};
use crate::session::{Session, SessionSpec};
use anyhow::{Result, anyhow, bail};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::time::Instant;
use trustbench_envs::EnvConfig;
use trustbench_policy::exact::{ExactRow, dense_operator, solve_damped};
use trustbench_policy::vector::{cosine, distance, norm};

/// Largest parameter count for which the dense check is attempted
/// (an n×n matrix of f64 and n Fisher-vector products).
pub const MAX_DENSE_DIM: usize = 6_000;

/// What to check.
pub struct CgCheckRequest {
    /// The algorithm (must offer the extension).
    pub algorithm: AlgorithmRef,
    /// Its resolved config.
    pub config: Map<String, Value>,
    /// The env the batch is collected on.
    pub env: EnvConfig,
    /// Seed of the batch and the plugin.
    pub seed: u64,
    /// Env copies stepped together.
    pub num_envs: u32,
    /// Env-step cap for collecting the batch.
    pub steps: u64,
    /// CG iterations to compare (default: the parameter count, capped).
    pub iterations: Option<usize>,
    /// Where the table is written.
    pub out_dir: PathBuf,
    /// Saved parameters (a run's `policy.bin`) loaded before the batch is
    /// collected, to check CG on a trained policy; `None`: as initialised.
    pub policy: Option<Vec<u8>>,
}

/// The outcome: the table, and where it went.
pub struct CgCheckReport {
    /// Number of policy parameters.
    pub dim: usize,
    /// One row per CG iteration, iteration 1 first.
    pub table: CgTable,
    /// The Parquet file.
    pub path: PathBuf,
    /// ‖x*‖ (a zero gradient makes relative errors meaningless).
    pub solution_norm: f64,
    /// gᵀx_k / gᵀx* per row of `table` (module docs).
    pub gain_share: Vec<f64>,
    /// What the numbers depend on, as the plugin's config states it: λ,
    /// the Fisher's subsample and the network.
    pub settings: String,
}

/// λ, the Fisher subsample and the network of a natural-gradient config
/// (keys of TRPO and NPG; a key it lacks is shown as `?`).
fn settings(config: &Map<String, Value>, dim: usize) -> String {
    let key = |k: &str| config.get(k).map_or("?".into(), |v| v.to_string());
    let vine = config.get("sampling").and_then(Value::as_str) == Some("vine");
    let subsample = if vine {
        format!(
            "vine_fvp_fraction = {} of the vine's rows",
            key("vine_fvp_fraction")
        )
    } else {
        format!("fvp_fraction = {} of the batch", key("fvp_fraction"))
    };
    format!(
        "λ = cg_damping = {}; Fisher on {subsample}; network {} hidden_sizes = {} ({dim} \
         parameters)",
        key("cg_damping"),
        key("network"),
        key("hidden_sizes")
    )
}

/// Run the check.
pub fn check_cg(req: &CgCheckRequest) -> Result<CgCheckReport> {
    let mut session = Session::start(
        &SessionSpec {
            algorithm: &req.algorithm,
            config: &req.config,
            env: &req.env,
            seed: req.seed,
            num_envs: req.num_envs as usize,
            steps: req.steps,
            threads: crate::run::default_threads(),
        },
        Instant::now(),
    )?;
    let (host, instance) = session.parts();
    let id = &req.algorithm.info.id;
    if let Some(policy) = &req.policy {
        instance.load(policy)?;
    }
    let mut ng = instance.natural_gradient()?.ok_or_else(|| {
        anyhow!("algorithm '{id}' does not offer the trustbench.natural-gradient/1 extension")
    })?;
    let n = ng.dim();
    if n == 0 || n > MAX_DENSE_DIM {
        bail!(
            "algorithm '{id}' has {n} parameters; the dense check needs 1..={MAX_DENSE_DIM} (use a smaller policy)"
        );
    }
    ng.prepare()?;
    host.check(" while collecting the batch")?;
    let g = ng.gradient()?;
    let mut failure = None;
    let dense = dense_operator(n, |v, out| {
        if failure.is_none() {
            failure = ng.fisher_vector_product(v, out).err();
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    // The products already include the plugin's damping λ.
    let x_star = solve_damped(&dense, 0.0, &g)?;
    let iterations = req.iterations.unwrap_or(n.min(500));
    let (iterates, residuals) = ng.conjugate_gradient(iterations)?;
    let star_norm = norm(&x_star);
    let dot = |x: &[f64]| x.iter().zip(&g).map(|(a, b)| a * b).sum::<f64>();
    let star_gain = dot(&x_star);
    let gain_share = iterates.iter().map(|x| dot(x) / star_gain).collect();
    let rows: Vec<ExactRow> = iterates
        .iter()
        .zip(&residuals)
        .enumerate()
        .map(|(k, (x, &residual_norm))| ExactRow {
            iteration: k + 1,
            relative_error: distance(x, &x_star) / star_norm,
            cosine: cosine(x, &x_star),
            residual_norm,
        })
        .collect();
    let dir = req
        .out_dir
        .join(format!("check-cg-{id}-{}-s{}", req.env.id(), req.seed));
    std::fs::create_dir_all(&dir)?;
    let table = CgTable {
        algorithm_id: Some(id.clone()),
        env_id: Some(req.env.id().to_string()),
        seed: Some(req.seed),
        rows,
    };
    let path = results::write_check_cg(&dir, &table, n)?;
    Ok(CgCheckReport {
        dim: n,
        table,
        path,
        solution_norm: star_norm,
        gain_share,
        settings: settings(&req.config, n),
    })
}
