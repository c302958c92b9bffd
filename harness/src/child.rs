//! Work in a child process: the harness re-running itself, so a plugin that
//! crashes (a signal), exits, hangs or runs out of memory takes down only
//! its own child, and the parent records what happened.
//!
//! The parent polls the child: past its wall-clock limit, or when asked to
//! stop (SIGINT/SIGTERM reached the parent), it sends SIGTERM, then SIGKILL
//! after a grace period. The child leads a process group of its own, and
//! signals go to the whole group, so nothing it started outlives it; should
//! the parent itself be killed, the child gets SIGTERM (`PR_SET_PDEATHSIG`).
//! The child's stderr is kept (its tail, and apart from it the last
//! progress line), for the record of a run that did not end well.

use anyhow::{Context, Result};
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
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
    /// The last bytes of its stderr (lossy UTF-8), progress lines left out.
    pub stderr_tail: String,
    /// The last progress line it reported ([`report_progress`]), if any.
    pub progress: Option<String>,
    /// Its wall-clock time.
    pub wall: Duration,
}

/// Marks a progress line on a child's stderr: the parent keeps the last one
/// apart from the stderr tail, so a chatty plugin cannot push it out.
const PROGRESS_PREFIX: &str = "\u{1}trustbench-progress ";

/// Whether this process is a child that reports progress.
static REPORTING: AtomicBool = AtomicBool::new(false);

/// In a child: make [`report_progress`] write progress lines from now on.
pub fn enable_progress_reports() {
    REPORTING.store(true, Ordering::SeqCst);
}

/// In a child that enabled reports: tell the parent how far it got (one
/// short line on stderr; the parent reads it as [`Finished::progress`]).
/// Elsewhere a no-op.
pub fn report_progress(what: impl std::fmt::Display) {
    if REPORTING.load(Ordering::Relaxed) {
        eprintln!("{PROGRESS_PREFIX}{what}");
    }
}

/// What the parent keeps of a child's stderr: the last progress line and
/// the tail of everything else.
#[derive(Default)]
struct StderrRecord {
    tail: Vec<u8>,
    progress: Option<String>,
    partial: Vec<u8>,
}

impl StderrRecord {
    fn feed(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            self.line(&line);
        }
        // A line without end (no newline for a long time) is kept as text.
        if self.partial.len() > STDERR_TAIL {
            let text = std::mem::take(&mut self.partial);
            self.push_tail(&text);
        }
    }

    fn line(&mut self, line: &[u8]) {
        match line.strip_prefix(PROGRESS_PREFIX.as_bytes()) {
            Some(rest) => {
                self.progress = Some(String::from_utf8_lossy(rest).trim_end().to_string());
            }
            None => self.push_tail(line),
        }
    }

    fn push_tail(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > 2 * STDERR_TAIL {
            self.tail.drain(..self.tail.len() - STDERR_TAIL);
        }
    }

    fn finish(mut self) -> (String, Option<String>) {
        let rest = std::mem::take(&mut self.partial);
        self.line(&rest);
        let tail = &self.tail[self.tail.len().saturating_sub(STDERR_TAIL)..];
        (
            String::from_utf8_lossy(tail).trim().to_string(),
            self.progress,
        )
    }
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

/// Send `sig` to the process group led by our child `pid`.
fn signal_group(pid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: `kill` has no memory effects. The group is our child's own
    // (`process_group(0)`): its id stays taken while any member lives, and
    // once none does the call fails harmlessly with ESRCH.
    unsafe { libc::kill(-pid, sig) };
}

/// Run the harness executable as a child and wait for it, stopping it when
/// it overruns `spec.timeout` or when `stop` becomes true.
pub fn run_harness(spec: &ChildSpec, stop: &AtomicBool) -> Result<Finished> {
    let exe = std::env::current_exe().context("locating the harness executable")?;
    run(&exe, spec, stop)
}

/// Run `program` with `spec.args` as a child (see [`run_harness`]).
pub fn run(program: &Path, spec: &ChildSpec, stop: &AtomicBool) -> Result<Finished> {
    let started = Instant::now();
    let mut command = Command::new(program);
    command
        .args(&spec.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // Its own process group: signals go to everything it started too.
    command.process_group(0);
    // SAFETY: the closure runs in the forked child before `exec` and only
    // calls `prctl`, which is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            // No orphan: should the parent die without stopping it (SIGKILL),
            // the child is sent SIGTERM and records itself as interrupted.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let record = Arc::new(Mutex::new(StderrRecord::default()));
    let (done, eof) = mpsc::channel();
    {
        let record = Arc::clone(&record);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                record
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .feed(&buf[..n]);
            }
            let _ = done.send(());
        });
    }
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
                    signal_group(pid, libc::SIGTERM);
                    reason = Some((why, now));
                }
            }
            Some((_, since)) if now - since > spec.grace => {
                signal_group(pid, libc::SIGKILL);
            }
            Some(_) => {}
        }
        std::thread::sleep(POLL);
    };
    // Whatever the child started and left behind goes with it.
    signal_group(pid, libc::SIGKILL);
    // The pipe closes when the last process holding it is gone; a holder
    // that escaped the group must not keep us waiting.
    let _ = eof.recv_timeout(Duration::from_secs(1));
    let (stderr_tail, progress) =
        std::mem::take(&mut *record.lock().unwrap_or_else(|e| e.into_inner())).finish();
    let exit = match (reason, status.code(), status.signal()) {
        (Some((why, _)), _, _) => why,
        (None, Some(code), _) => Exit::Code(code),
        (None, None, Some(sig)) => Exit::Signal(sig),
        (None, None, None) => Exit::Code(-1),
    };
    Ok(Finished {
        exit,
        stderr_tail,
        progress,
        wall: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Option<Duration>, stop: &AtomicBool) -> Finished {
        let spec = ChildSpec {
            args: vec!["-c".into(), script.into()],
            timeout,
            grace: Duration::from_millis(300),
        };
        run(Path::new("/bin/sh"), &spec, stop).unwrap()
    }

    #[test]
    fn exit_codes_and_signals_are_told_apart() {
        let go = AtomicBool::new(false);
        assert_eq!(sh("exit 3", None, &go).exit, Exit::Code(3));
        assert_eq!(
            sh("kill -SEGV $$", None, &go).exit,
            Exit::Signal(libc::SIGSEGV)
        );
        assert_eq!(signal_name(libc::SIGSEGV), "SIGSEGV");
        assert_eq!(signal_name(77), "signal 77");
    }

    #[test]
    fn stderr_tail_and_progress_are_kept_apart() {
        let go = AtomicBool::new(false);
        let script = format!(
            "printf '{p}1\\nfirst\\n{p}2\\n' >&2; i=0; while [ $i -lt 500 ]; do echo noise-$i >&2; i=$((i+1)); done; echo last words >&2",
            p = PROGRESS_PREFIX.replace('\u{1}', "\\001")
        );
        let f = sh(&script, None, &go);
        assert_eq!(f.progress.as_deref(), Some("2"));
        assert!(f.stderr_tail.ends_with("last words"), "{}", f.stderr_tail);
        assert!(!f.stderr_tail.contains("first"), "only the tail is kept");
        assert!(f.stderr_tail.len() <= STDERR_TAIL);
        assert!(!f.stderr_tail.contains("trustbench-progress"));
    }

    #[test]
    fn a_child_past_its_limit_gets_term_then_kill() {
        let go = AtomicBool::new(false);
        let f = sh("sleep 30", Some(Duration::from_millis(100)), &go);
        assert_eq!(f.exit, Exit::TimedOut);
        assert!(f.wall < Duration::from_secs(5), "{:?}", f.wall);
        // One that ignores SIGTERM is killed after the grace period.
        let f = sh(
            "trap '' TERM; while :; do sleep 0.05; done",
            Some(Duration::from_millis(100)),
            &go,
        );
        assert_eq!(f.exit, Exit::TimedOut);
        assert!(f.wall >= Duration::from_millis(400), "{:?}", f.wall);
        assert!(f.wall < Duration::from_secs(5), "{:?}", f.wall);
    }

    #[test]
    fn the_stop_flag_stops_a_running_child() {
        let stop = AtomicBool::new(true);
        let f = sh("sleep 30", None, &stop);
        assert_eq!(f.exit, Exit::Stopped);
        assert!(f.wall < Duration::from_secs(5), "{:?}", f.wall);
    }
}
