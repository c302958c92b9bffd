//! SIGINT and SIGTERM as a request to stop: the handler only records the
//! signal, and the work polls [`requested`] at points where stopping leaves
//! consistent results (a run between two training iterations, a sweep
//! between two runs). SIGTERM is what Slurm sends at a time limit, at
//! preemption and on `scancel`; SIGINT is Ctrl-C.
//!
//! Inside an iteration, the host refuses every step once a stop is
//! requested (`TB_BUDGET_EXHAUSTED`), so a plugin that samples ends its
//! iteration promptly, however long it would have been. A plugin stuck
//! elsewhere never reaches such a point: in a sweep the parent process
//! covers that (SIGKILL after a grace period); for a lone `harness run`, a
//! second SIGINT exits at once.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Set by the first SIGINT or SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);
/// Which signal set [`STOP`] (0: none yet).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // Only async-signal-safe operations: atomics and `_exit`.
    if STOP.swap(true, Ordering::SeqCst) {
        if sig == libc::SIGINT {
            // SAFETY: `_exit` is async-signal-safe and takes no pointers.
            unsafe { libc::_exit(128 + sig) };
        }
        return;
    }
    SIGNAL.store(sig, Ordering::SeqCst);
}

/// Catch SIGINT and SIGTERM from now on (idempotent).
pub fn install() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed `sigaction` is a valid "no flags, empty mask"
        // value; the handler is an `extern "C" fn(c_int)` that only touches
        // atomics (and `_exit`), as a handler must.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// The flag the handlers set, for code that polls a flag (a sweep's children).
pub fn stop_flag() -> &'static AtomicBool {
    &STOP
}

/// The signal that asked us to stop, if one did.
pub fn requested() -> Option<i32> {
    STOP.load(Ordering::SeqCst)
        .then(|| SIGNAL.load(Ordering::SeqCst))
}

/// Work stopped by a signal. The exit code is `128 + signal`, the shell's
/// convention for "ended by that signal".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted {
    /// The signal.
    pub signal: i32,
}

impl Interrupted {
    /// The process exit code that reports it.
    pub fn exit_code(self) -> u8 {
        (128 + self.signal).clamp(0, 255) as u8
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted by {}", signal_name(self.signal))
    }
}

impl std::error::Error for Interrupted {}

/// The name of signal `sig` (`SIGSEGV`), or its number.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGHUP => "SIGHUP",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGXCPU => "SIGXCPU",
        _ => return format!("signal {sig}"),
    };
    name.to_string()
}
