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
//! [`Report`] of each kind: how far it got, its result), for the record of
//! a run that did not end well. [`Report`] is the one channel from a child
//! to its parent, for sweep runs and validator checks alike.
//!
//! A [`MemLimit`] caps the child's address space (`RLIMIT_AS`, set in the
//! child before `exec`): past it, allocations fail, so a leaking plugin
//! stops itself instead of drawing the kernel's OOM killer onto whatever
//! process it picks. The parent samples the child's peak address space
//! (`VmPeak`) while it runs, to tell a child that died at the cap.

use crate::signals;
use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
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
    /// Cap on the child's address space.
    pub mem_limit: Option<MemLimit>,
}

/// A memory cap, e.g. `512M` or `4G` (binary units, as Slurm's `--mem`).
///
/// Enforced as `RLIMIT_AS`, a cap on the address space, not on resident
/// memory: this is what works unprivileged on every Linux (cgroup v2's
/// `memory.max` needs a delegated memory controller, absent on many hosts,
/// this project's CI included). Address space counts reservations a process
/// never touches (thread stacks, allocator arenas), so leave headroom: the
/// harness with one run thread reserves about 100 MB before its first step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemLimit {
    bytes: u64,
}

/// The smallest cap accepted: below it the harness cannot even start.
const MIN_MEM_LIMIT: u64 = 64 << 20;

impl MemLimit {
    /// The cap in bytes.
    pub fn bytes(self) -> u64 {
        self.bytes
    }

    /// Whether `peak` bytes of address space is at the cap: within an
    /// eighth of it (the parent samples the peak every [`POLL`], and a
    /// leak grows between samples; no failing allocation ever shows in it).
    pub fn reached_by(self, peak: u64) -> bool {
        peak >= self.bytes - self.bytes / 8
    }

    /// Cap the calling process (`harness run --mem-limit`).
    pub fn apply_to_self(self) -> Result<()> {
        let limit = libc::rlimit {
            rlim_cur: self.bytes,
            rlim_max: self.bytes,
        };
        // SAFETY: a plain syscall on a struct we own.
        if unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) } != 0 {
            bail!(
                "setting --mem-limit {self}: {}",
                std::io::Error::last_os_error()
            );
        }
        Ok(())
    }
}

impl std::str::FromStr for MemLimit {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<MemLimit> {
        let bad = || {
            anyhow!(
                "--mem-limit '{text}': expected a size such as 512M, 4G or 1T \
                 (a whole number with unit K, M, G or T, binary; at least 64M)"
            )
        };
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (number, unit) = t.split_at(split);
        let shift = match unit.to_ascii_uppercase().trim_end_matches(['B', 'I']) {
            "K" => 10,
            "M" => 20,
            "G" => 30,
            "T" => 40,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        let bytes = n.checked_mul(1 << shift).ok_or_else(bad)?;
        if bytes < MIN_MEM_LIMIT {
            return Err(bad());
        }
        Ok(MemLimit { bytes })
    }
}

impl std::fmt::Display for MemLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (n, unit) = [(40, "T"), (30, "G"), (20, "M"), (10, "K")]
            .into_iter()
            .find(|(shift, _)| self.bytes.is_multiple_of(1 << shift))
            .map_or((self.bytes, ""), |(shift, u)| (self.bytes >> shift, u));
        write!(f, "{n}{unit}")
    }
}

/// Whether a child's stderr says an allocation failed: Rust's allocator
/// ("memory allocation of N bytes failed"), C's `strerror(ENOMEM)` and
/// bash's "cannot allocate", C++, Python, or a plugin's own "out of memory".
pub fn tells_of_allocation_failure(stderr: &str) -> bool {
    let lower = stderr.to_ascii_lowercase();
    [
        "memory allocation of",
        "cannot allocate",
        "out of memory",
        "bad_alloc",
        "memoryerror",
    ]
    .iter()
    .any(|m| lower.contains(m))
}

/// What the parent learns of a capped child's memory while it lives: its
/// peak address space, and how much of it was never resident.
#[derive(Debug, Default, Clone, Copy)]
struct MemorySample {
    /// `VmPeak`, bytes.
    peak: u64,
    /// `VmPeak − VmHWM`: reserved, never touched (stacks, arenas, unread
    /// file pages), bytes.
    untouched: u64,
}

impl MemorySample {
    /// Process `pid`'s, from `/proc/PID/status` (None once it is gone).
    fn of(pid: libc::pid_t) -> Option<MemorySample> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| -> Option<u64> {
            let line = status.lines().find(|l| l.starts_with(name))?;
            Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
        };
        let (peak, hwm) = (field("VmPeak:")?, field("VmHWM:")?);
        Some(MemorySample {
            peak,
            untouched: peak.saturating_sub(hwm),
        })
    }

    /// The peak address space of a child that is gone, from its peak
    /// resident memory (`ru_maxrss`, exact) plus what it had reserved
    /// without touching at the last sample: a leak between two samples
    /// shows in the resident peak even when no sample caught it.
    fn at_exit(self, max_resident: u64) -> u64 {
        self.peak.max(max_resident + self.untouched)
    }
}

/// Reap child `pid` if it has ended: its wait status and peak resident
/// memory in bytes (`wait4`'s `ru_maxrss`).
fn try_reap(pid: libc::pid_t) -> std::io::Result<Option<(ExitStatus, u64)>> {
    let mut status = 0;
    // SAFETY: `rusage` is plain old data; zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet reaped; both pointers are
    // valid for writes.
    match unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) } {
        0 => Ok(None),
        r if r == pid => Ok(Some((
            ExitStatus::from_raw(status),
            usage.ru_maxrss.max(0) as u64 * 1024,
        ))),
        _ => Err(std::io::Error::last_os_error()),
    }
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

impl Exit {
    /// How the child ended, in the words every record of a child uses
    /// (sweeps and the validator): `killed by SIGSEGV`, `exited with code
    /// 3`, `timed out (limit 1m30s)` (its limit: `timeout`), `interrupted by
    /// SIGINT`.
    pub fn describe(self, timeout: Option<Duration>) -> String {
        match self {
            Exit::Code(code) => format!("exited with code {code}"),
            Exit::Signal(sig) => format!("killed by {}", signals::signal_name(sig)),
            Exit::TimedOut => match timeout {
                Some(t) => format!("timed out (limit {})", format_duration(t)),
                None => "timed out".into(),
            },
            Exit::Stopped => format!(
                "interrupted by {}",
                signals::requested().map_or("a signal".into(), signals::signal_name)
            ),
        }
    }
}

/// A duration as people write it and `sweep::parse_duration` reads it back
/// (`1h30m`, `90s` → `1m30s`; `500ms`, and `1s500ms` for a fraction).
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    let ms = d.subsec_millis();
    let parts = [(s / 3600, "h"), (s % 3600 / 60, "m"), (s % 60, "s")];
    let text: String = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    if text.is_empty() || ms > 0 {
        format!("{text}{ms}ms")
    } else {
        text
    }
}

/// A finished child.
#[derive(Debug, Clone)]
pub struct Finished {
    /// How it ended.
    pub exit: Exit,
    /// The last bytes of its stderr (lossy UTF-8), report lines left out.
    pub stderr_tail: String,
    /// The last progress it reported ([`Report::Progress`]), if any.
    pub progress: Option<Progress>,
    /// The result it reported ([`Report::Result`]), if any.
    pub result: Option<serde_json::Value>,
    /// Its wall-clock time.
    pub wall: Duration,
    /// Its peak address space in bytes, estimated (see
    /// `MemorySample::at_exit`); sampled only under a [`MemLimit`].
    pub peak_address_space: Option<u64>,
}

/// What a child tells its parent: one line on stderr, after a marker
/// (`REPORT_PREFIX`), as JSON. The parent keeps the last report of each kind
/// apart from the stderr tail, so a chatty plugin cannot push it out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    /// How far a run got (sent after every iteration).
    Progress(Progress),
    /// What the child was asked to find out (a validator check's outcome).
    Result(serde_json::Value),
}

/// How far a run got: the numbers a record of a dead child states.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Env steps used.
    pub env_steps: u64,
    /// Iterations begun.
    pub iterations: u64,
}

/// Marks a [`Report`] line on a child's stderr.
const REPORT_PREFIX: &str = "\u{1}trustbench-report ";

/// Whether this process is a child that reports to its parent.
static REPORTING: AtomicBool = AtomicBool::new(false);

/// In a child: make [`report`] write report lines from now on.
pub fn enable_reports() {
    REPORTING.store(true, Ordering::SeqCst);
}

/// In a child that enabled reports: tell the parent `what` (one line on
/// stderr; the parent reads it as [`Finished::progress`] or
/// [`Finished::result`]). Elsewhere a no-op.
pub fn report(what: &Report) {
    if REPORTING.load(Ordering::Relaxed) {
        eprintln!("{}", report_line(what));
    }
}

/// The line [`report`] writes.
fn report_line(what: &Report) -> String {
    let json = serde_json::to_string(what).expect("a report serialises");
    format!("{REPORT_PREFIX}{json}")
}

/// What the parent keeps of a child's stderr: its last reports and the
/// tail of everything else.
#[derive(Default)]
struct StderrRecord {
    tail: Vec<u8>,
    progress: Option<Progress>,
    result: Option<serde_json::Value>,
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
        let Some(rest) = line.strip_prefix(REPORT_PREFIX.as_bytes()) else {
            return self.push_tail(line);
        };
        // A report line cut short (the child died mid-write) is dropped.
        match serde_json::from_slice(rest) {
            Ok(Report::Progress(p)) => self.progress = Some(p),
            Ok(Report::Result(r)) => self.result = Some(r),
            Err(_) => {}
        }
    }

    fn push_tail(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > 2 * STDERR_TAIL {
            self.tail.drain(..self.tail.len() - STDERR_TAIL);
        }
    }

    /// The stderr tail, the last progress and the result.
    fn finish(mut self) -> (String, Option<Progress>, Option<serde_json::Value>) {
        let rest = std::mem::take(&mut self.partial);
        self.line(&rest);
        let tail = &self.tail[self.tail.len().saturating_sub(STDERR_TAIL)..];
        (
            String::from_utf8_lossy(tail).trim().to_string(),
            self.progress,
            self.result,
        )
    }
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
    run(&this_executable()?, spec, stop)
}

/// The file that runs this very build again. On Linux, `/proc/self/exe`:
/// the child is forked from us (`spawn` has a `pre_exec`), so at its `exec`
/// the link still names our image, even when the file we were started from
/// has since been deleted or replaced (a `cargo build` during a long sweep).
/// Every run of a sweep thus runs the build that planned it and computed its
/// id, where the path (`current_exe`, then "… (deleted)") would fail each
/// later run with "No such file". Elsewhere, that path.
fn this_executable() -> Result<PathBuf> {
    let image = Path::new("/proc/self/exe");
    if image.exists() {
        return Ok(image.to_path_buf());
    }
    std::env::current_exe().context("locating the harness executable")
}

/// Run `program` with `spec.args` as a child (see [`run_harness`]).
pub fn run(program: &Path, spec: &ChildSpec, stop: &AtomicBool) -> Result<Finished> {
    let started = Instant::now();
    let mut child = spawn(program, spec)?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let (record, eof) = read_stderr(stderr);
    let pid = child.id() as libc::pid_t;
    let watched = watch(pid, spec, stop, started)?;
    // Whatever the child started and left behind goes with it.
    signal_group(pid, libc::SIGKILL);
    // The pipe closes when the last process holding it is gone; a holder
    // that escaped the group must not keep us waiting.
    let _ = eof.recv_timeout(Duration::from_secs(1));
    let (stderr_tail, progress, result) =
        std::mem::take(&mut *record.lock().unwrap_or_else(|e| e.into_inner())).finish();
    let status = watched.status;
    let exit = match (watched.reason, status.code(), status.signal()) {
        (Some(why), _, _) => why,
        (None, Some(code), _) => Exit::Code(code),
        (None, None, Some(sig)) => Exit::Signal(sig),
        (None, None, None) => Exit::Code(-1),
    };
    Ok(Finished {
        exit,
        stderr_tail,
        progress,
        result,
        wall: started.elapsed(),
        peak_address_space: watched.memory.map(|m| m.at_exit(watched.max_resident)),
    })
}

/// Start `program` in a process group of its own, stderr piped, with the
/// parent-death signal and the memory cap set before `exec`.
fn spawn(program: &Path, spec: &ChildSpec) -> Result<std::process::Child> {
    let mut command = Command::new(program);
    command
        .args(&spec.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // Its own process group: signals go to everything it started too.
    command.process_group(0);
    let limit = spec.mem_limit.map(|m| libc::rlimit {
        rlim_cur: m.bytes,
        rlim_max: m.bytes,
    });
    // SAFETY: the closure runs in the forked child before `exec` and only
    // calls `prctl` and `setrlimit`, which are async-signal-safe; it
    // allocates nothing.
    unsafe {
        command.pre_exec(move || {
            // No orphan: should the parent die without stopping it (SIGKILL),
            // the child is sent SIGTERM and records itself as interrupted.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            if let Some(limit) = &limit
                && libc::setrlimit(libc::RLIMIT_AS, limit) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command
        .spawn()
        .with_context(|| format!("starting {}", program.display()))
}

/// Read the child's stderr on a thread of its own into a record; the
/// receiver hears when the pipe closes.
fn read_stderr(
    mut stderr: std::process::ChildStderr,
) -> (Arc<Mutex<StderrRecord>>, mpsc::Receiver<()>) {
    let record = Arc::new(Mutex::new(StderrRecord::default()));
    let (done, eof) = mpsc::channel();
    let writer = Arc::clone(&record);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            writer
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .feed(&buf[..n]);
        }
        let _ = done.send(());
    });
    (record, eof)
}

/// What watching a child until it ended saw.
struct Watched {
    status: ExitStatus,
    max_resident: u64,
    /// Why we stopped it, if we did.
    reason: Option<Exit>,
    /// Its last memory sample (under a memory cap).
    memory: Option<MemorySample>,
}

/// Poll child `pid` until it ends: past its time limit, or when `stop`
/// is raised, send SIGTERM, then SIGKILL after the grace period. Reaped
/// here rather than by `Child::try_wait`, for `wait4`'s usage.
fn watch(
    pid: libc::pid_t,
    spec: &ChildSpec,
    stop: &AtomicBool,
    started: Instant,
) -> Result<Watched> {
    let mut reason: Option<(Exit, Instant)> = None;
    let mut memory: Option<MemorySample> = None;
    let (status, max_resident) = loop {
        if spec.mem_limit.is_some() {
            memory = MemorySample::of(pid).or(memory);
        }
        if let Some(ended) = try_reap(pid)? {
            break ended;
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
    Ok(Watched {
        status,
        max_resident,
        reason: reason.map(|(why, _)| why),
        memory,
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
            mem_limit: None,
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
        assert_eq!(signals::signal_name(libc::SIGSEGV), "SIGSEGV");
        assert_eq!(signals::signal_name(77), "signal 77");
    }

    #[test]
    fn stderr_tail_and_progress_are_kept_apart() {
        let go = AtomicBool::new(false);
        let line = |r: Report| report_line(&r).replace('\u{1}', "\\001");
        let at = |env_steps| {
            Report::Progress(Progress {
                env_steps,
                iterations: 1,
            })
        };
        let script = format!(
            "printf '{}\\nfirst\\n{}\\n{}\\n' >&2; i=0; while [ $i -lt 500 ]; do echo noise-$i >&2; i=$((i+1)); done; echo last words >&2",
            line(at(1)),
            line(Report::Result(serde_json::json!({"a": [1]}))),
            line(at(2)),
        );
        let f = sh(&script, None, &go);
        assert_eq!(f.progress.map(|p| p.env_steps), Some(2));
        assert_eq!(f.result, Some(serde_json::json!({"a": [1]})));
        assert!(f.stderr_tail.ends_with("last words"), "{}", f.stderr_tail);
        assert!(!f.stderr_tail.contains("first"), "only the tail is kept");
        assert!(f.stderr_tail.len() <= STDERR_TAIL);
        assert!(!f.stderr_tail.contains("trustbench-report"));
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

#[cfg(test)]
mod mem_limit_tests {
    use super::*;

    #[test]
    fn sizes_parse_print_and_refuse_with_the_valid_form() {
        for (text, bytes) in [
            ("512M", 512u64 << 20),
            ("4G", 4 << 30),
            ("4g", 4 << 30),
            ("4GiB", 4 << 30),
            ("65536K", 64 << 20),
            ("1T", 1 << 40),
        ] {
            let m: MemLimit = text.parse().unwrap();
            assert_eq!(m.bytes(), bytes, "{text}");
            assert_eq!(m.to_string().parse::<MemLimit>().unwrap(), m);
        }
        assert_eq!("1536M".parse::<MemLimit>().unwrap().to_string(), "1536M");
        for bad in ["", "512", "G", "1.5G", "-1G", "4X", "1M", "99999999999T"] {
            let e = bad.parse::<MemLimit>().unwrap_err().to_string();
            assert!(e.contains(&format!("'{bad}'")) && e.contains("512M"), "{e}");
        }
    }

    #[test]
    fn a_child_is_capped_and_its_peak_sampled() {
        let go = AtomicBool::new(false);
        let limit: MemLimit = "256M".parse().unwrap();
        // Python would need a package; the shell cannot allocate on demand:
        // `head -c` into a variable grows the shell's heap.
        let spec = ChildSpec {
            args: vec![
                "-c".into(),
                "x=$(head -c 400000000 /dev/zero | tr '\\0' a); echo survived".into(),
            ],
            timeout: None,
            grace: Duration::from_millis(300),
            mem_limit: Some(limit),
        };
        let f = run(Path::new("/bin/bash"), &spec, &go).unwrap();
        assert_ne!(f.exit, Exit::Code(0), "{f:?}");
        assert!(tells_of_allocation_failure(&f.stderr_tail), "{f:?}");
        assert!(f.peak_address_space.is_some(), "{f:?}");
    }
}
