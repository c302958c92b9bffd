//! The plugin's buffers as the host sees them: observation rows of either
//! kind ([`ObsOut`]: `f64` values, or bytes for a byte env), a step's
//! output ([`StepOut`]), and the checks that turn raw pointers into slices
//! (NULL, struct sizes).

use trustbench_envs::Env;

/// A plugin's observation rows: values, or bytes for a byte env.
pub(super) enum ObsOut<'a> {
    Reals(&'a mut [f64]),
    Bytes(&'a mut [u8]),
}

impl<'a> ObsOut<'a> {
    pub(super) fn len(&self) -> usize {
        match self {
            ObsOut::Reals(x) => x.len(),
            ObsOut::Bytes(x) => x.len(),
        }
    }

    /// Rows of `d` values each.
    pub(super) fn rows(self, d: usize) -> Vec<ObsOut<'a>> {
        match self {
            ObsOut::Reals(x) => x.chunks_exact_mut(d).map(ObsOut::Reals).collect(),
            ObsOut::Bytes(x) => x.chunks_exact_mut(d).map(ObsOut::Bytes).collect(),
        }
    }

    /// Where the env writes this row's values: the row itself, or (for
    /// bytes) the start of `scratch`, as long as the row.
    pub(super) fn values<'s>(&'s mut self, scratch: &'s mut [f64]) -> &'s mut [f64] {
        match self {
            ObsOut::Reals(x) => x,
            ObsOut::Bytes(x) => &mut scratch[..x.len()],
        }
    }

    /// After the env wrote its observation through [`ObsOut::values`]: a
    /// byte row takes the env's bytes (a row of values already holds them).
    pub(super) fn take_bytes(&mut self, env: &dyn Env) {
        if let ObsOut::Bytes(row) = self {
            row.copy_from_slice(env.observation_bytes().expect(BYTE_ENVS_ONLY));
        }
    }

    /// A copy of the observation whose values are `values` (an ended
    /// episode's last one).
    pub(super) fn take(&mut self, values: &[f64], env: &dyn Env) {
        match self {
            ObsOut::Reals(row) => row.copy_from_slice(values),
            ObsOut::Bytes(_) => self.take_bytes(env),
        }
    }
}

/// Why a byte row always finds the env's bytes.
const BYTE_ENVS_ONLY: &str = "byte observations are offered for byte envs only";

/// The plugin's step output buffers, checked and sliced.
pub(super) struct StepOut<'a> {
    pub(super) observations: ObsOut<'a>,
    pub(super) final_observations: Option<ObsOut<'a>>,
    pub(super) rewards: &'a mut [f64],
    pub(super) terminated: &'a mut [u8],
    pub(super) truncated: &'a mut [u8],
}

/// A plugin-owned buffer of `len` values, or an error for NULL.
///
/// # Safety
/// `p` must be NULL or valid for `len` values for the call.
pub(super) unsafe fn buffer<'a, T>(
    p: *mut T,
    len: usize,
    what: &str,
) -> Result<&'a mut [T], String> {
    if p.is_null() {
        return Err(format!("{what} buffer is NULL"));
    }
    // SAFETY: per the caller.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, len) })
}

/// The plugin's output struct `p` (a `T` that starts with its
/// `struct_size`), checked to be non-NULL and at least as large as ours.
///
/// # Safety
/// `p` must be NULL or point to a readable struct that starts with a `u32`
/// size and is valid for the size it declares, for the call.
pub(super) unsafe fn output_struct<'a, T>(p: *const T, name: &str) -> Result<&'a T, String> {
    if p.is_null() {
        return Err(format!("{name} is NULL"));
    }
    // SAFETY: non-null; every ABI struct starts with its u32 size, read
    // before any other field.
    let size = unsafe { *(p as *const u32) } as usize;
    if size < std::mem::size_of::<T>() {
        return Err(format!(
            "{name} of {size} bytes is smaller than the {} this host knows",
            std::mem::size_of::<T>()
        ));
    }
    // SAFETY: the plugin declares at least our size.
    Ok(unsafe { &*p })
}

impl<'a> StepOut<'a> {
    /// The plugin's buffers for `c` copies of `d` observation values each,
    /// `make` turning an observation pointer into rows of its kind.
    ///
    /// # Safety
    /// Every non-NULL pointer must be valid for the ABI step contract's
    /// length (`c * d` observation values, `c` of the rest) for the call.
    pub(super) unsafe fn new<T>(
        (c, d): (usize, usize),
        observations: *mut T,
        final_observations: *mut T,
        make: fn(&'a mut [T]) -> ObsOut<'a>,
        (rewards, terminated, truncated): (*mut f64, *mut u8, *mut u8),
    ) -> Result<StepOut<'a>, String> {
        // SAFETY: per the caller.
        unsafe {
            Ok(StepOut {
                observations: make(buffer(observations, c * d, "observations")?),
                final_observations: match final_observations.is_null() {
                    true => None,
                    false => Some(make(buffer(
                        final_observations,
                        c * d,
                        "final observations",
                    )?)),
                },
                rewards: buffer(rewards, c, "rewards")?,
                terminated: buffer(terminated, c, "terminated")?,
                truncated: buffer(truncated, c, "truncated")?,
            })
        }
    }
}
