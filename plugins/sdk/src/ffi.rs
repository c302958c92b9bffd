//! The generic `extern "C"` functions behind every Rust plugin instance.
//!
//! Each body runs inside [`guard`]: `catch_unwind` turns a panic into
//! `TB_ERROR` with the panic message as the last error, and a `RefCell`
//! turns an illegal re-entrant call into an error instead of aliasing.

use crate::abi::{self, tb_ext_natural_gradient, tb_instance, tb_status};
use crate::{Error, Host, Learner, NaturalGradient, Result, Spaces};
use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The allocation behind a `*const tb_instance`: the C struct first, so the
/// pointer to it is also a pointer to the whole.
#[repr(C)]
struct Instance<A> {
    raw: tb_instance,
    /// The natural-gradient extension's vtable, handed out by `extension`.
    natural_gradient: tb_ext_natural_gradient,
    state: RefCell<State<A>>,
    last_error: RefCell<String>,
}

struct State<A> {
    algorithm: A,
    host: Host,
    spaces: Spaces,
}

/// Copy `text` into a C buffer of capacity `cap` (NUL-terminated, truncated
/// on a UTF-8 boundary) and return the full length of `text`.
///
/// # Safety
/// `buf` must be NULL or writable for `cap` bytes.
pub unsafe fn copy_to_c_buffer(text: &str, buf: *mut c_char, cap: usize) -> usize {
    if !buf.is_null() && cap > 0 {
        let mut n = text.len().min(cap - 1);
        while !text.is_char_boundary(n) {
            n -= 1;
        }
        // SAFETY: `buf` holds `cap` > n bytes per the caller.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf as *mut u8, n);
            *buf.add(n) = 0;
        }
    }
    text.len()
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        format!("panicked: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("panicked: {s}")
    } else {
        "panicked".to_string()
    }
}

/// A `tb_instance` (allocated here, freed by its own `destroy`) whose
/// functions drive `algorithm`, each call guarded: what `create` hands back.
pub fn new_instance<A: Learner>(algorithm: A, host: Host, spaces: Spaces) -> *const tb_instance {
    let instance = Box::new(Instance {
        raw: tb_instance {
            struct_size: std::mem::size_of::<tb_instance>() as u32,
            plugin_data: std::ptr::null_mut(),
            train_iteration: Some(train_iteration::<A>),
            act: Some(act::<A>),
            save: Some(save::<A>),
            load: Some(load::<A>),
            last_error: Some(last_error::<A>),
            extension: Some(extension::<A>),
            destroy: Some(destroy::<A>),
        },
        natural_gradient: tb_ext_natural_gradient {
            struct_size: std::mem::size_of::<tb_ext_natural_gradient>() as u32,
            dim: Some(ng_dim::<A>),
            prepare: Some(ng_prepare::<A>),
            gradient: Some(ng_gradient::<A>),
            fisher_vector_product: Some(ng_fisher_vector_product::<A>),
            conjugate_gradient: Some(ng_conjugate_gradient::<A>),
        },
        state: RefCell::new(State {
            algorithm,
            host,
            spaces,
        }),
        last_error: RefCell::new(String::new()),
    });
    Box::into_raw(instance) as *const tb_instance
}

/// Run `f` on the instance's state; errors and panics become `TB_ERROR`.
fn guard<A: Learner>(
    this: *const tb_instance,
    f: impl FnOnce(&mut State<A>) -> Result<tb_status>,
) -> tb_status {
    if this.is_null() {
        return abi::TB_INVALID_ARGUMENT;
    }
    // SAFETY: a non-null `this` was produced by `new_instance::<A>` and not yet destroyed.
    let instance = unsafe { &*(this as *const Instance<A>) };
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut state = instance
            .state
            .try_borrow_mut()
            .map_err(|_| Error::new("re-entrant call into the plugin instance"))?;
        f(&mut state)
    }));
    let error = match result {
        Ok(Ok(status)) => return status,
        Ok(Err(e)) => e.0,
        Err(payload) => panic_message(payload.as_ref()),
    };
    if let Ok(mut slot) = instance.last_error.try_borrow_mut() {
        *slot = error;
    }
    abi::TB_ERROR
}

unsafe extern "C" fn train_iteration<A: Learner>(this: *const tb_instance) -> tb_status {
    guard::<A>(this, |s| {
        let State {
            algorithm, host, ..
        } = s;
        algorithm.train_iteration(host).map(|_| abi::TB_OK)
    })
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn act<A: Learner>(
    this: *const tb_instance,
    obs: *const f64,
    obs_len: usize,
    count: u32,
    deterministic: i32,
    actions_out: *mut f64,
    actions_cap: usize,
    actions_written: *mut usize,
) -> tb_status {
    guard::<A>(this, |s| {
        let count = count as usize;
        let obs_dim = s.spaces.observation.dim();
        let act_dim = s.spaces.action.dim();
        if obs.is_null() || actions_out.is_null() || obs_len != count * obs_dim {
            return Err(Error::new(format!(
                "act: {obs_len} observation values for {count} observations of dim {obs_dim}"
            )));
        }
        let needed = count * act_dim;
        if !actions_written.is_null() {
            // SAFETY: non-null out-pointer from the caller.
            unsafe { *actions_written = needed };
        }
        if actions_cap < needed {
            return Ok(abi::TB_BUFFER_TOO_SMALL);
        }
        // SAFETY: lengths checked above; buffers are the caller's for this call.
        let (obs, actions) = unsafe {
            (
                std::slice::from_raw_parts(obs, obs_len),
                std::slice::from_raw_parts_mut(actions_out, needed),
            )
        };
        s.algorithm
            .actor()
            .act(obs, deterministic != 0, actions)
            .map(|_| abi::TB_OK)
    })
}

unsafe extern "C" fn save<A: Learner>(
    this: *const tb_instance,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> tb_status {
    guard::<A>(this, |s| {
        let bytes = s.algorithm.actor().save()?;
        if !len.is_null() {
            // SAFETY: non-null out-pointer from the caller.
            unsafe { *len = bytes.len() };
        }
        if bytes.is_empty() {
            // Nothing to write: any capacity (NULL and 0 included) suffices.
            return Ok(abi::TB_OK);
        }
        if buf.is_null() || cap < bytes.len() {
            return Ok(abi::TB_BUFFER_TOO_SMALL);
        }
        // SAFETY: `buf` is writable for `cap` >= bytes.len() bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len()) };
        Ok(abi::TB_OK)
    })
}

unsafe extern "C" fn load<A: Learner>(
    this: *const tb_instance,
    buf: *const u8,
    len: usize,
) -> tb_status {
    guard::<A>(this, |s| {
        if buf.is_null() && len > 0 {
            return Err(Error::new("load: NULL buffer"));
        }
        let bytes = if len == 0 {
            &[][..]
        } else {
            // SAFETY: `buf` is non-null (checked above) and, per the ABI,
            // readable for `len` bytes during this call; the slice does not
            // outlive the call.
            unsafe { std::slice::from_raw_parts(buf, len) }
        };
        s.algorithm.actor().load(bytes).map(|_| abi::TB_OK)
    })
}

unsafe extern "C" fn last_error<A: Learner>(
    this: *const tb_instance,
    buf: *mut c_char,
    cap: usize,
) -> usize {
    if this.is_null() {
        return 0;
    }
    // SAFETY: as in `guard`: a non-null `this` came from
    // `new_instance::<A>` and is not yet destroyed.
    let instance = unsafe { &*(this as *const Instance<A>) };
    catch_unwind(AssertUnwindSafe(|| {
        let text = instance.last_error.borrow();
        // SAFETY: the caller provides `cap` writable bytes.
        unsafe { copy_to_c_buffer(&text, buf, cap) }
    }))
    .unwrap_or(0)
}

unsafe extern "C" fn extension<A: Learner>(
    this: *const tb_instance,
    id: *const c_char,
) -> *const c_void {
    if this.is_null() || id.is_null() {
        return std::ptr::null();
    }
    // SAFETY: as in `guard`: a non-null `this` came from
    // `new_instance::<A>` and is not yet destroyed.
    let instance = unsafe { &*(this as *const Instance<A>) };
    // SAFETY: `id` is non-null (checked above) and, per the ABI, a
    // NUL-terminated string readable for this call.
    let id = unsafe { CStr::from_ptr(id) };
    let wanted = CStr::from_bytes_with_nul(abi::TB_EXT_NATURAL_GRADIENT).expect("NUL-terminated");
    let offered = id == wanted
        && catch_unwind(AssertUnwindSafe(|| {
            instance
                .state
                .try_borrow_mut()
                .is_ok_and(|mut s| s.algorithm.natural_gradient().is_some())
        }))
        .unwrap_or(false);
    if offered {
        &instance.natural_gradient as *const tb_ext_natural_gradient as *const c_void
    } else {
        std::ptr::null()
    }
}

/// Run `f` on the algorithm's natural-gradient capability under [`guard`].
fn with_natural_gradient<A: Learner>(
    this: *const tb_instance,
    f: impl FnOnce(&mut dyn NaturalGradient, &mut Host) -> Result<tb_status>,
) -> tb_status {
    guard::<A>(this, |s| {
        let State {
            algorithm, host, ..
        } = s;
        let ng = algorithm
            .natural_gradient()
            .ok_or_else(|| Error::new("this algorithm has no natural-gradient capability"))?;
        f(ng, host)
    })
}

/// A caller buffer of exactly `len` values, or an error.
///
/// # Safety
/// `p` must be NULL or valid for `len` values during the call.
unsafe fn exact_buffer<'a>(
    p: *mut f64,
    len: usize,
    expected: usize,
    what: &str,
) -> Result<&'a mut [f64]> {
    if p.is_null() || len != expected {
        return Err(Error::new(format!(
            "{what}: {len} values given, {expected} expected"
        )));
    }
    // SAFETY: `p` is non-null (checked above) and valid for `len` values
    // during the call, per this function's contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, len) })
}

unsafe extern "C" fn ng_dim<A: Learner>(this: *const tb_instance) -> u64 {
    let mut n = 0u64;
    with_natural_gradient::<A>(this, |ng, _| {
        n = ng.dim() as u64;
        Ok(abi::TB_OK)
    });
    n
}

unsafe extern "C" fn ng_prepare<A: Learner>(this: *const tb_instance) -> tb_status {
    with_natural_gradient::<A>(this, |ng, host| ng.prepare(host).map(|_| abi::TB_OK))
}

unsafe extern "C" fn ng_gradient<A: Learner>(
    this: *const tb_instance,
    g: *mut f64,
    len: usize,
) -> tb_status {
    with_natural_gradient::<A>(this, |ng, _| {
        // SAFETY: the caller provides `len` writable values.
        let g = unsafe { exact_buffer(g, len, ng.dim(), "gradient")? };
        ng.gradient(g).map(|_| abi::TB_OK)
    })
}

unsafe extern "C" fn ng_fisher_vector_product<A: Learner>(
    this: *const tb_instance,
    v: *const f64,
    out: *mut f64,
    len: usize,
) -> tb_status {
    with_natural_gradient::<A>(this, |ng, _| {
        let n = ng.dim();
        // SAFETY: the caller provides `len` values in each buffer; `v` is
        // only read (the cast to `*mut` is for the shared helper).
        let v = unsafe { exact_buffer(v as *mut f64, len, n, "fisher_vector_product input")? };
        // SAFETY: `out` holds `len` writable values per the caller, and does
        // not overlap `v` (the ABI's caller-owned, distinct buffers).
        let out = unsafe { exact_buffer(out, len, n, "fisher_vector_product output")? };
        ng.fisher_vector_product(v, out).map(|_| abi::TB_OK)
    })
}

unsafe extern "C" fn ng_conjugate_gradient<A: Learner>(
    this: *const tb_instance,
    iterations: u32,
    iterates: *mut f64,
    iterates_cap: usize,
    residuals: *mut f64,
    done: *mut u32,
) -> tb_status {
    with_natural_gradient::<A>(this, |ng, _| {
        let (k, n) = (iterations as usize, ng.dim());
        if iterates_cap < k * n || done.is_null() {
            return Err(Error::new(format!(
                "conjugate_gradient: room for {iterates_cap} values, {} needed",
                k * n
            )));
        }
        // SAFETY: `iterates` holds `iterates_cap` ≥ k·n writable values
        // (checked above) per the caller.
        let iterates = unsafe { exact_buffer(iterates, k * n, k * n, "iterates")? };
        // SAFETY: per the ABI `residuals` holds `iterations` = k writable
        // values, distinct from `iterates`.
        let residuals = unsafe { exact_buffer(residuals, k, k, "residuals")? };
        let count = ng.conjugate_gradient(iterates, residuals)?;
        // SAFETY: `done` is non-null (checked above), a caller out-pointer.
        unsafe { *done = count as u32 };
        Ok(abi::TB_OK)
    })
}

unsafe extern "C" fn destroy<A: Learner>(this: *const tb_instance) {
    if this.is_null() {
        return;
    }
    // SAFETY: `this` came from Box::into_raw in `new_instance::<A>`; destroy is called once.
    let instance = unsafe { Box::from_raw(this as *mut Instance<A>) };
    // A panicking Drop must not unwind into the host.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(instance)));
}
