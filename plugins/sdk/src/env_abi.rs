//! The env-provider C ABI: a field-for-field mirror of
//! `plugins/include/trustbench_env.h`.
//!
//! The header is the source of truth (its comments hold the contract of
//! every function); this module restates it in Rust for the harness (which
//! loads providers) and for providers written in Rust. It reuses the
//! algorithm ABI's status codes, `tb_space`, `tb_step_out` and
//! `tb_byte_step_out` ([`crate::abi`]). A test compiles a C program that
//! prints `sizeof`/`offsetof` of every struct and compares them with
//! [`layout_table`].
#![allow(non_camel_case_types)]

use crate::abi::{tb_byte_step_out, tb_space, tb_status, tb_step_out};
use std::ffi::{c_char, c_void};

/// Major version of the env-provider ABI. A host refuses any other major.
pub const TB_ENV_ABI_MAJOR: u32 = 1;
/// Minor version of the env-provider ABI.
pub const TB_ENV_ABI_MINOR: u32 = 0;
/// Name of the exported entry function (with its NUL terminator).
pub const TB_ENV_ENTRY_SYMBOL: &[u8] = b"trustbench_env_provider_v1\0";

/// Descriptor flag: the id is a family prefix ending in `:` (`gym:`).
pub const TB_ENV_FAMILY: u32 = 1;
/// Descriptor flag: undeclared option keys are accepted and passed on.
pub const TB_ENV_OPEN_OPTIONS: u32 = 2;

/// Extension id: RGB rendering (with its NUL terminator).
pub const TB_ENV_EXT_RENDER_RGB: &[u8] = b"trustbench.env-render-rgb/1\0";
/// Extension id: exact state save/load as bytes.
pub const TB_ENV_EXT_SNAPSHOT: &[u8] = b"trustbench.env-snapshot/1\0";
/// Extension id: observations as bytes.
pub const TB_ENV_EXT_BYTE_OBSERVATIONS: &[u8] = b"trustbench.env-byte-observations/1\0";

/// One env or family a provider offers (`tb_env_descriptor`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tb_env_descriptor {
    /// `sizeof(tb_env_descriptor)` as the provider knows it.
    pub struct_size: u32,
    /// `TB_ENV_FAMILY | TB_ENV_OPEN_OPTIONS`, or 0.
    pub flags: u32,
    /// Versioned, case-sensitive id.
    pub id: *const c_char,
    /// One line.
    pub description: *const c_char,
    /// JSON array of `{"key", "default", "valid", "help"}`.
    pub options_json: *const c_char,
    /// Truncation length with the default options; 0: none.
    pub max_episode_steps: u64,
    /// Default training budget.
    pub default_steps: u64,
}

/// Batch `reset`.
pub type tb_env_reset_fn = unsafe extern "C" fn(
    this: *const tb_env_batch,
    first: u32,
    count: u32,
    seeds: *const u64,
    obs_out: *mut f64,
    obs_len: usize,
) -> tb_status;
/// Batch `step`.
pub type tb_env_step_fn = unsafe extern "C" fn(
    this: *const tb_env_batch,
    first: u32,
    count: u32,
    actions: *const f64,
    actions_len: usize,
    out: *const tb_step_out,
) -> tb_status;
/// Batch `last_error`.
pub type tb_env_last_error_fn =
    unsafe extern "C" fn(this: *const tb_env_batch, buf: *mut c_char, cap: usize) -> usize;
/// Batch `extension`.
pub type tb_env_extension_fn =
    unsafe extern "C" fn(this: *const tb_env_batch, id: *const c_char) -> *const c_void;
/// Batch `destroy`.
pub type tb_env_destroy_fn = unsafe extern "C" fn(this: *const tb_env_batch);

/// N copies of one env (`tb_env_batch`), owned by the provider.
#[repr(C)]
#[derive(Debug)]
pub struct tb_env_batch {
    /// `sizeof(tb_env_batch)` as the provider knows it.
    pub struct_size: u32,
    /// Number of copies.
    pub num_envs: u32,
    /// The provider's own state.
    pub provider_data: *mut c_void,
    /// Observation space of one copy.
    pub observation: tb_space,
    /// Action space of one copy.
    pub action: tb_space,
    /// Reset copies, optionally reseeding them.
    pub reset: Option<tb_env_reset_fn>,
    /// Step copies (autoreset, as `tb_step_out`).
    pub step: Option<tb_env_step_fn>,
    /// Text of the last failure.
    pub last_error: Option<tb_env_last_error_fn>,
    /// Optional capability by id.
    pub extension: Option<tb_env_extension_fn>,
    /// Free the batch.
    pub destroy: Option<tb_env_destroy_fn>,
}

/// `render` of [`tb_env_render_rgb`].
pub type tb_env_render_fn = unsafe extern "C" fn(
    this: *const tb_env_batch,
    env: u32,
    width: u32,
    height: u32,
    rgb_out: *mut u8,
    len: usize,
) -> tb_status;

/// Extension `trustbench.env-render-rgb/1`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tb_env_render_rgb {
    /// `sizeof(tb_env_render_rgb)` as the provider knows it.
    pub struct_size: u32,
    /// Draw one copy.
    pub render: Option<tb_env_render_fn>,
}

/// `save` of [`tb_env_snapshot`].
pub type tb_env_save_fn = unsafe extern "C" fn(
    this: *const tb_env_batch,
    env: u32,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> tb_status;
/// `load` of [`tb_env_snapshot`].
pub type tb_env_load_fn = unsafe extern "C" fn(
    this: *const tb_env_batch,
    env: u32,
    buf: *const u8,
    len: usize,
) -> tb_status;

/// Extension `trustbench.env-snapshot/1`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tb_env_snapshot {
    /// `sizeof(tb_env_snapshot)` as the provider knows it.
    pub struct_size: u32,
    /// A copy's state into a caller buffer.
    pub save: Option<tb_env_save_fn>,
    /// A copy put into a saved state.
    pub load: Option<tb_env_load_fn>,
}

/// `reset` of [`tb_env_byte_observations`].
pub type tb_env_byte_reset_fn = unsafe extern "C" fn(
    this: *const tb_env_batch,
    first: u32,
    count: u32,
    seeds: *const u64,
    obs_out: *mut u8,
    obs_len: usize,
) -> tb_status;
/// `step` of [`tb_env_byte_observations`].
pub type tb_env_byte_step_fn = unsafe extern "C" fn(
    this: *const tb_env_batch,
    first: u32,
    count: u32,
    actions: *const f64,
    actions_len: usize,
    out: *const tb_byte_step_out,
) -> tb_status;

/// Extension `trustbench.env-byte-observations/1`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tb_env_byte_observations {
    /// `sizeof(tb_env_byte_observations)` as the provider knows it.
    pub struct_size: u32,
    /// Reset writing bytes.
    pub reset: Option<tb_env_byte_reset_fn>,
    /// Step writing bytes.
    pub step: Option<tb_env_byte_step_fn>,
}

/// `create` of [`tb_env_provider`].
pub type tb_env_create_fn = unsafe extern "C" fn(
    env_id: *const c_char,
    options_json: *const c_char,
    num_envs: u32,
    seeds: *const u64,
    out: *mut *const tb_env_batch,
    err: *mut c_char,
    err_cap: usize,
) -> tb_status;

/// The provider library's static entry (`tb_env_provider`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tb_env_provider {
    /// `sizeof(tb_env_provider)` as the provider knows it.
    pub struct_size: u32,
    /// `TB_ENV_ABI_MAJOR` it was built against.
    pub abi_major: u32,
    /// `TB_ENV_ABI_MINOR` it was built against.
    pub abi_minor: u32,
    /// Library name.
    pub library_name: *const c_char,
    /// Library version.
    pub library_version: *const c_char,
    /// Number of envs offered.
    pub env_count: Option<unsafe extern "C" fn() -> u32>,
    /// Descriptor `i`.
    pub env: Option<unsafe extern "C" fn(index: u32) -> *const tb_env_descriptor>,
    /// Create a batch.
    pub create: Option<tb_env_create_fn>,
}

/// The exported entry function.
pub type tb_env_entry_fn = unsafe extern "C" fn() -> *const tb_env_provider;

/// One row per struct field, `(struct, field, offset)`, with `"sizeof"`
/// giving the size, compared with the C compiler's view of the header.
pub fn layout_table() -> Vec<(&'static str, &'static str, usize)> {
    let mut out = Vec::new();
    layout_rows!(out, tb_env_descriptor: struct_size, flags, id, description, options_json,
        max_episode_steps, default_steps);
    layout_rows!(out, tb_env_batch: struct_size, num_envs, provider_data, observation, action, reset, step,
        last_error, extension, destroy);
    layout_rows!(out, tb_env_render_rgb: struct_size, render);
    layout_rows!(out, tb_env_snapshot: struct_size, save, load);
    layout_rows!(out, tb_env_byte_observations: struct_size, reset, step);
    layout_rows!(out, tb_env_provider: struct_size, abi_major, abi_minor, library_name, library_version,
        env_count, env, create);
    out
}
