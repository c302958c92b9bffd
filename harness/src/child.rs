//! Work in a child process: the harness re-running itself, so a plugin that
//! crashes (a signal), exits, hangs or runs out of memory takes down only
//! its own child, and the parent records what happened.
//!
//! The parent polls the child: past its wall-clock limit, or when asked to
//! stop (SIGINT/SIGTERM reached the parent), it sends SIGTERM, then SIGKILL
//! after a grace period. The child's stderr is kept (its tail), for the
//! error text of a run that did not end well.

use anyhow::{Context, Result};
use std::ffi::OsString;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often the parent looks at a running child.
const POLL: Duration = Duration::from_millis(20);
/// Bytes of the child's stderr kept for the record.
const STDERR_TAIL: usize = 2_000;

/// What to run: the harness executable with `args`.
pub struct ChildSpec {
    /// Arguments after the executable.
    pub args: Vec<OsString>,
    /// Wall-clock limit (None: no limit).
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL.
    pub grace: Duration,
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited by itself with this code.
    Code(i32),
    /// It was killed by this signal, not sent by us.
    Signal(i32),
    /// It outlived its time limit and was stopped.
    TimedOut,
    /// The parent was asked to stop, and stopped it.
    Stopped,
}

/// A finished child.
#[derive(Debug, Clone)]
pub struct Finished {
    /// How it ended.
    pub exit: Exit,
    /// The last bytes of its stderr (lossy UTF-8).
    pub stderr_tail: String,
    /// Its wall-clock time.
    pub wall: Duration,
}

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

/// Run the harness executable as a child and wait for it, stopping it when
/// it overruns `spec.timeout` or when `stop` becomes true.
pub fn run_harness(spec: &ChildSpec, stop: &AtomicBool) -> Result<Finished> {
    let exe = std::env::current_exe().context("locating the harness executable")?;
    let started = Instant::now();
    let mut child = Command::new(&exe)
        .args(&spec.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut tail = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            tail.extend_from_slice(&buf[..n]);
            if tail.len() > 2 * STDERR_TAIL {
                tail.drain(..tail.len() - STDERR_TAIL);
            }
        }
        tail
    });
    let pid = child.id() as libc::pid_t;
    let mut reason: Option<(Exit, Instant)> = None;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        let now = Instant::now();
        match reason {
            None => {
                let why = if stop.load(Ordering::SeqCst) {
                    Some(Exit::Stopped)
                } else if spec.timeout.is_some_and(|t| now - started > t) {
                    Some(Exit::TimedOut)
                } else {
                    None
                };
                if let Some(why) = why {
                    // SAFETY: `kill` has no memory effects; `pid` is our own
                    // child, not yet reaped (try_wait said it is running).
                    unsafe { libc::kill(pid, libc::SIGTERM) };
                    reason = Some((why, now));
                }
            }
            Some((_, since)) if now - since > spec.grace => {
                let _ = child.kill();
            }
            Some(_) => {}
        }
        std::thread::sleep(POLL);
    };
    let tail = reader.join().unwrap_or_default();
    let tail = &tail[tail.len().saturating_sub(STDERR_TAIL)..];
    use std::os::unix::process::ExitStatusExt;
    let exit = match (reason, status.code(), status.signal()) {
        (Some((why, _)), _, _) => why,
        (None, Some(code), _) => Exit::Code(code),
        (None, None, Some(sig)) => Exit::Signal(sig),
        (None, None, None) => Exit::Code(-1),
    };
    Ok(Finished {
        exit,
        stderr_tail: String::from_utf8_lossy(tail).trim().to_string(),
        wall: started.elapsed(),
    })
}
