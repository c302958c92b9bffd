//! The raw C ABI: a field-for-field mirror of `plugins/include/trustbench_plugin.h`.
//!
//! The header is the source of truth; this module only restates it in Rust so
//! both the SDK (plugin side) and the harness (host side) use one definition.
//! A test compiles a C program that prints `sizeof`/`offsetof` of every struct
//! and compares them with [`layout_table`].
//!
//! Function pointers are `Option<...>` because a pointer coming from the other
//! side of the boundary may be NULL; the reader checks before calling.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void};

/// Major version of the ABI described here. A host refuses any other major.
pub const TB_ABI_MAJOR: u32 = 1;
/// Minor version of the ABI described here. Any minor of the same major works.
pub const TB_ABI_MINOR: u32 = 0;
/// Name of the exported entry function (with its NUL terminator).
pub const TB_ENTRY_SYMBOL: &[u8] = b"trustbench_plugin_entry_v1\0";

/// Status code returned across the boundary.
pub type tb_status = i32;
/// Success: out-parameters are written.
pub const TB_OK: tb_status = 0;
/// Generic failure; `last_error` says why.
pub const TB_ERROR: tb_status = 1;
/// A caller buffer was too small; the needed length was reported.
pub const TB_BUFFER_TOO_SMALL: tb_status = 2;
/// A malformed argument (wrong length, NaN, out of range, NULL).
pub const TB_INVALID_ARGUMENT: tb_status = 3;
/// Host only: the run's step budget is spent.
pub const TB_BUDGET_EXHAUSTED: tb_status = 4;
/// Host only: unknown env index or snapshot id.
pub const TB_NOT_FOUND: tb_status = 5;

/// A box of reals.
pub const TB_SPACE_BOX: u32 = 1;
/// One integer in `[0, n)`.
pub const TB_SPACE_DISCRETE: u32 = 2;
/// Maximum rank of a box shape.
pub const TB_MAX_RANK: usize = 4;
/// `env` argument of `reset` meaning every copy.
pub const TB_ALL_ENVS: u32 = u32::MAX;

/// One observation or action space (`tb_space`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tb_space {
    /// `TB_SPACE_BOX` or `TB_SPACE_DISCRETE`.
    pub kind: u32,
    /// Number of used entries of `shape`.
    pub rank: u32,
    /// Box shape; `{1}` for discrete.
    pub shape: [u32; TB_MAX_RANK],
    /// Doubles per env: product of the shape (1 for discrete).
    pub dim: u64,
    /// Discrete: number of choices; box: 0.
    pub n: u64,
    /// Box: `dim` lower bounds; discrete: NULL.
    pub low: *const f64,
    /// Box: `dim` upper bounds; discrete: NULL.
    pub high: *const f64,
}

/// The spaces an instance is created for (`tb_spaces`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tb_spaces {
    /// `sizeof(tb_spaces)` as the host knows it.
    pub struct_size: u32,
    /// Number of env copies stepped together.
    pub num_envs: u32,
    /// Observation space.
    pub observation: tb_space,
    /// Action space.
    pub action: tb_space,
}

/// Caller-owned output buffers of a batched step (`tb_step_out`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tb_step_out {
    /// `sizeof(tb_step_out)` as the plugin knows it.
    pub struct_size: u32,
    /// `count * observation.dim` doubles.
    pub observations: *mut f64,
    /// NULL, or `count * observation.dim` doubles (rows of ended episodes only).
    pub final_observations: *mut f64,
    /// `count` rewards.
    pub rewards: *mut f64,
    /// `count` flags.
    pub terminated: *mut u8,
    /// `count` flags.
    pub truncated: *mut u8,
}

/// `reset` callback.
pub type tb_reset_fn = unsafe extern "C" fn(
    ctx: *mut c_void,
    env: u32,
    obs_out: *mut f64,
    obs_len: usize,
) -> tb_status;
/// `step` callback.
pub type tb_step_fn = unsafe extern "C" fn(
    ctx: *mut c_void,
    first: u32,
    count: u32,
    actions: *const f64,
    actions_len: usize,
    out: *const tb_step_out,
) -> tb_status;
/// `snapshot` callback.
pub type tb_snapshot_fn =
    unsafe extern "C" fn(ctx: *mut c_void, env: u32, snapshot_out: *mut u64) -> tb_status;
/// `restore` callback.
pub type tb_restore_fn =
    unsafe extern "C" fn(ctx: *mut c_void, env: u32, snapshot: u64) -> tb_status;
/// `release_snapshot` callback.
pub type tb_release_fn = unsafe extern "C" fn(ctx: *mut c_void, snapshot: u64) -> tb_status;
/// `log_metric` callback.
pub type tb_log_metric_fn = unsafe extern "C" fn(ctx: *mut c_void, name: *const c_char, value: f64);
/// `steps_remaining` callback.
pub type tb_steps_remaining_fn = unsafe extern "C" fn(ctx: *mut c_void) -> u64;
/// Host `extension` callback.
pub type tb_host_extension_fn =
    unsafe extern "C" fn(ctx: *mut c_void, id: *const c_char) -> *const c_void;

/// The harness's services (`tb_host`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tb_host {
    /// `sizeof(tb_host)` as the host knows it.
    pub struct_size: u32,
    /// ABI major of the host.
    pub abi_major: u32,
    /// ABI minor of the host.
    pub abi_minor: u32,
    /// Number of env copies.
    pub num_envs: u32,
    /// This plugin's seed: the harness derives it from the run's seed on a
    /// stream of its own, so streams the plugin derives never meet the
    /// harness's (env copies, evaluation episodes).
    pub seed: u64,
    /// Opaque context passed back to every callback.
    pub ctx: *mut c_void,
    /// Reset one copy or all.
    pub reset: Option<tb_reset_fn>,
    /// Batched step of a range of copies.
    pub step: Option<tb_step_fn>,
    /// Save the full state of one copy.
    pub snapshot: Option<tb_snapshot_fn>,
    /// Restore one copy exactly.
    pub restore: Option<tb_restore_fn>,
    /// Free a snapshot.
    pub release_snapshot: Option<tb_release_fn>,
    /// Record a scalar metric.
    pub log_metric: Option<tb_log_metric_fn>,
    /// Steps left in the budget.
    pub steps_remaining: Option<tb_steps_remaining_fn>,
    /// Optional host capability by id.
    pub extension: Option<tb_host_extension_fn>,
}

/// A plugin instance (`tb_instance`), allocated and freed by the plugin.
#[repr(C)]
#[derive(Debug)]
pub struct tb_instance {
    /// `sizeof(tb_instance)` as the plugin knows it.
    pub struct_size: u32,
    /// The plugin's own state.
    pub plugin_data: *mut c_void,
    /// One iteration of learning.
    pub train_iteration: Option<unsafe extern "C" fn(this: *const tb_instance) -> tb_status>,
    /// Batched actions.
    pub act: Option<
        unsafe extern "C" fn(
            this: *const tb_instance,
            obs: *const f64,
            obs_len: usize,
            count: u32,
            deterministic: i32,
            actions_out: *mut f64,
            actions_cap: usize,
            actions_written: *mut usize,
        ) -> tb_status,
    >,
    /// Serialise parameters.
    pub save: Option<
        unsafe extern "C" fn(
            this: *const tb_instance,
            buf: *mut u8,
            cap: usize,
            len: *mut usize,
        ) -> tb_status,
    >,
    /// Load parameters.
    pub load: Option<
        unsafe extern "C" fn(this: *const tb_instance, buf: *const u8, len: usize) -> tb_status,
    >,
    /// Copy the last error text.
    pub last_error: Option<
        unsafe extern "C" fn(this: *const tb_instance, buf: *mut c_char, cap: usize) -> usize,
    >,
    /// Optional capability by id.
    pub extension:
        Option<unsafe extern "C" fn(this: *const tb_instance, id: *const c_char) -> *const c_void>,
    /// Free the instance.
    pub destroy: Option<unsafe extern "C" fn(this: *const tb_instance)>,
}

/// Id of the host's thread-count extension (with its NUL terminator).
pub const TB_HOST_EXT_THREADS: &[u8] = b"trustbench.threads/1\0";

/// The host's thread-count extension (`tb_threads`): how many threads the
/// plugin's own batch math may use in this run.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tb_threads {
    /// `sizeof(tb_threads)` as the host knows it.
    pub struct_size: u32,
    /// Threads the plugin may use, the calling thread included (≥ 1).
    pub threads: u32,
}

/// Id of the host's byte-observation extension (with its NUL terminator).
pub const TB_HOST_EXT_BYTE_OBSERVATIONS: &[u8] = b"trustbench.byte-observations/1\0";

/// The value a byte observation stands for: `f64::from(b) * TB_BYTE_OBSERVATION_SCALE`,
/// a product with the `f64` nearest 1/255 (not a division by 255, which
/// differs in the last bit for 24 of the 256 bytes) — the very value the
/// `f64` path delivers.
pub const TB_BYTE_OBSERVATION_SCALE: f64 = 1.0 / 255.0;

/// Output buffers of a byte step (`tb_byte_step_out`): `tb_step_out` with
/// byte observations and their length.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tb_byte_step_out {
    /// `sizeof(tb_byte_step_out)` as the plugin knows it.
    pub struct_size: u32,
    /// Bytes in `observations` (and `final_observations`): `count * dim`.
    pub obs_len: usize,
    /// `obs_len` bytes.
    pub observations: *mut u8,
    /// NULL, or `obs_len` bytes (rows of ended episodes only).
    pub final_observations: *mut u8,
    /// `count` rewards.
    pub rewards: *mut f64,
    /// `count` flags.
    pub terminated: *mut u8,
    /// `count` flags.
    pub truncated: *mut u8,
}

/// Byte `reset` callback.
pub type tb_byte_reset_fn =
    unsafe extern "C" fn(ctx: *mut c_void, env: u32, obs_out: *mut u8, obs_len: usize) -> tb_status;
/// Byte `step` callback.
pub type tb_byte_step_fn = unsafe extern "C" fn(
    ctx: *mut c_void,
    first: u32,
    count: u32,
    actions: *const f64,
    actions_len: usize,
    out: *const tb_byte_step_out,
) -> tb_status;

/// The host's byte-observation extension (`tb_byte_observations`): reset
/// and step that write the env's bytes instead of `f64` values.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tb_byte_observations {
    /// `sizeof(tb_byte_observations)` as the host knows it.
    pub struct_size: u32,
    /// `reset` with byte observations.
    pub reset: Option<tb_byte_reset_fn>,
    /// `step` with byte observations.
    pub step: Option<tb_byte_step_fn>,
}

/// Id of the natural-gradient extension (with its NUL terminator).
pub const TB_EXT_NATURAL_GRADIENT: &[u8] = b"trustbench.natural-gradient/1\0";

/// The natural-gradient extension (`tb_ext_natural_gradient`).
#[repr(C)]
#[derive(Debug)]
pub struct tb_ext_natural_gradient {
    /// `sizeof(tb_ext_natural_gradient)` as the plugin knows it.
    pub struct_size: u32,
    /// Number of policy parameters.
    pub dim: Option<unsafe extern "C" fn(this: *const tb_instance) -> u64>,
    /// Collect a batch and fix g and F at the current parameters.
    pub prepare: Option<unsafe extern "C" fn(this: *const tb_instance) -> tb_status>,
    /// Write g.
    pub gradient: Option<
        unsafe extern "C" fn(this: *const tb_instance, g_out: *mut f64, g_len: usize) -> tb_status,
    >,
    /// Write (F + λI) v.
    pub fisher_vector_product: Option<
        unsafe extern "C" fn(
            this: *const tb_instance,
            v: *const f64,
            out: *mut f64,
            len: usize,
        ) -> tb_status,
    >,
    /// Run the plugin's CG, writing every iterate and residual.
    pub conjugate_gradient: Option<
        unsafe extern "C" fn(
            this: *const tb_instance,
            iterations: u32,
            iterates_out: *mut f64,
            iterates_cap: usize,
            residuals_out: *mut f64,
            iterations_done: *mut u32,
        ) -> tb_status,
    >,
}

/// Static description of one algorithm (`tb_algorithm_descriptor`).
#[repr(C)]
#[derive(Debug)]
pub struct tb_algorithm_descriptor {
    /// `sizeof(tb_algorithm_descriptor)` as the plugin knows it.
    pub struct_size: u32,
    /// Bit mask of accepted observation kinds.
    pub observation_kinds: u32,
    /// Bit mask of accepted action kinds.
    pub action_kinds: u32,
    /// What `--algo` takes (`"trpo"`); unique among loaded algorithms, or
    /// the first in search order wins.
    pub id: *const c_char,
    /// For people (`"Trust Region Policy Optimization"`), shown by `list`.
    pub name: *const c_char,
    /// The algorithm's own version, recorded with each run and hashed into
    /// its id: bump it when results would change.
    pub version: *const c_char,
    /// One sentence for `harness list`: the idea and its source.
    pub description: *const c_char,
    /// JSON object with every config key and its default.
    pub default_config_json: *const c_char,
}

/// `create` of the factory.
pub type tb_create_fn = unsafe extern "C" fn(
    algorithm_id: *const c_char,
    config_json: *const c_char,
    spaces: *const tb_spaces,
    host: *const tb_host,
    out: *mut *const tb_instance,
    err: *mut c_char,
    err_cap: usize,
) -> tb_status;

/// The library's static descriptor (`tb_plugin_entry`).
#[repr(C)]
#[derive(Debug)]
pub struct tb_plugin_entry {
    /// `sizeof(tb_plugin_entry)` as the plugin knows it.
    pub struct_size: u32,
    /// ABI major the plugin was built against.
    pub abi_major: u32,
    /// ABI minor the plugin was built against.
    pub abi_minor: u32,
    /// Recorded with each run (`plugin_library`) and hashed into its id.
    pub library_name: *const c_char,
    /// The library's version, independent of its algorithms' versions.
    pub library_version: *const c_char,
    /// How many descriptors `algorithm` offers (indices `0..count`).
    pub algorithm_count: Option<unsafe extern "C" fn() -> u32>,
    /// Descriptor of algorithm `index`.
    pub algorithm: Option<unsafe extern "C" fn(index: u32) -> *const tb_algorithm_descriptor>,
    /// Create an instance.
    pub create: Option<tb_create_fn>,
}

/// Type of the exported entry function.
pub type tb_entry_fn = unsafe extern "C" fn() -> *const tb_plugin_entry;

/// One row of the layout table: `(struct, field, offset)`, with the field
/// `"sizeof"` giving the struct's size. Compared against the C compiler's view
/// of the header by a test.
pub fn layout_table() -> Vec<(&'static str, &'static str, usize)> {
    let mut out = Vec::new();
    layout_rows!(out, tb_space: kind, rank, shape, dim, n, low, high);
    layout_rows!(out, tb_spaces: struct_size, num_envs, observation, action);
    layout_rows!(out, tb_step_out: struct_size, observations, final_observations, rewards, terminated, truncated);
    layout_rows!(out, tb_host: struct_size, abi_major, abi_minor, num_envs, seed, ctx, reset, step, snapshot,
        restore, release_snapshot, log_metric, steps_remaining, extension);
    layout_rows!(out, tb_instance: struct_size, plugin_data, train_iteration, act, save, load, last_error,
        extension, destroy);
    layout_rows!(out, tb_ext_natural_gradient: struct_size, dim, prepare, gradient, fisher_vector_product,
        conjugate_gradient);
    layout_rows!(out, tb_threads: struct_size, threads);
    layout_rows!(out, tb_byte_step_out: struct_size, obs_len, observations, final_observations, rewards,
        terminated, truncated);
    layout_rows!(out, tb_byte_observations: struct_size, reset, step);
    layout_rows!(out, tb_algorithm_descriptor: struct_size, observation_kinds, action_kinds, id, name, version,
        description, default_config_json);
    layout_rows!(out, tb_plugin_entry: struct_size, abi_major, abi_minor, library_name, library_version,
        algorithm_count, algorithm, create);
    out
}
