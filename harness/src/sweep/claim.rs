//! A run is claimed before it executes: whatever starts it (a local sweep,
//! a shard, a Slurm task, a lone `harness run`), it first creates
//! `RUN_DIR/.claim` exclusively, holding the holder's host, pid, process
//! start time and when it claimed. Any other would-be runner finds the
//! claim, skips the run and reports it as running elsewhere; so no run ever
//! executes twice at once, into one directory, whichever processes, shards
//! or nodes race for it.
//!
//! **Exclusive on NFS too.** `O_CREAT|O_EXCL` is not atomic on older NFS
//! clients, and a create whose reply was lost may be retried and then fail
//! though it succeeded. So the claim is written in full to a file of a name
//! no one else uses, then `link`ed to `.claim` (atomic on every NFS
//! version); whether the link succeeded is decided by the temp file's link
//! count (2: ours), not by the call's result. A claim is therefore never
//! seen half written.
//!
//! **Dead holders.** On the same host a holder is dead when its pid is gone
//! or now belongs to a process started at another time (the pid was
//! reused); its claim is taken over at once. A holder on another host cannot
//! be asked: while it lives it refreshes the claim's mtime every
//! [`HEARTBEAT`], and a claim untouched for [`STALE_AFTER`] is taken over.
//! Ages are measured on the file server's clock (the mtime of a file just
//! touched), so clock skew between nodes does not matter. Taking over is
//! itself exclusive (`.claim.takeover`, created the same way), so of two
//! runners finding one stale claim only one removes it.
//!
//! Every execution under a claim is appended to `RUN_DIR/.claim.log` (host,
//! pid, time): the history of who executed the run, one line per attempt
//! ([`Claim::log_execution`]; a runner that claims a run only to find it
//! finished meanwhile writes none).

use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

/// The claim's file name in a run directory.
pub const CLAIM_FILE: &str = ".claim";
/// The history of executions under a claim, one line each.
pub const CLAIM_LOG: &str = ".claim.log";
/// Exclusive while a stale claim is being removed.
const TAKEOVER_FILE: &str = ".claim.takeover";

/// How often a live holder refreshes its claim's mtime.
pub const HEARTBEAT: Duration = Duration::from_secs(30);

/// Age (by mtime) past which a claim held on another host is stale: ten
/// missed heartbeats. Why this long: NFS clients cache attributes for up to
/// 60 s by default (`acregmax`), so a reader may see an mtime a minute old;
/// a loaded node can miss a few beats (swapping, a stalled file server);
/// and taking over too early is the very failure claims exist to prevent —
/// a run executed twice — while taking over late only delays the rerun of a
/// run whose node died, by minutes against runs of hours.
pub const STALE_AFTER: Duration = Duration::from_secs(300);

/// Who holds a claim, as written in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: i32,
    /// The process's start time (clock ticks since boot, `/proc/PID/stat`),
    /// which tells a live holder from a reused pid.
    pub started: u64,
    /// When it claimed (RFC 3339, UTC).
    pub since: String,
    /// Unique per claim, so two claims never read the same.
    nonce: String,
}

impl Holder {
    fn me(nonce: String) -> Holder {
        let pid = std::process::id() as i32;
        Holder {
            host: hostname(),
            pid,
            started: process_start(pid).unwrap_or(0),
            since: now_rfc3339(),
            nonce,
        }
    }

    fn parse(text: &str) -> Option<Holder> {
        let mut words = text.split_whitespace();
        Some(Holder {
            host: words.next()?.to_string(),
            pid: words.next()?.parse().ok()?,
            started: words.next()?.parse().ok()?,
            since: words.next()?.to_string(),
            nonce: words.next()?.to_string(),
        })
    }

    fn text(&self) -> String {
        format!(
            "{} {} {} {} {}\n",
            self.host, self.pid, self.started, self.since, self.nonce
        )
    }

    /// Whether it is certainly gone: on this host, its pid no longer exists
    /// or belongs to a process started at another time.
    fn is_dead_here(&self) -> bool {
        self.host == hostname() && process_start(self.pid) != Some(self.started)
    }

    /// `pid P on host H since T`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "pid {} on host {} since {}",
            self.pid, self.host, self.since
        )
    }
}

/// A held claim. Dropping it stops the heartbeat and removes the claim.
#[derive(Debug)]
pub struct Claim {
    path: PathBuf,
    text: String,
    holder: Holder,
    stop: Option<mpsc::Sender<()>>,
    beat: Option<std::thread::JoinHandle<()>>,
}

/// The result of trying to claim a run.
#[derive(Debug)]
pub enum Attempt {
    /// Ours: execute the run, then drop the claim.
    Claimed(Claim),
    /// Someone else's, alive: skip the run.
    Held(Holder),
}

/// Claim the run whose directory is `run_dir` (created if missing).
pub fn take(run_dir: &Path) -> Result<Attempt> {
    std::fs::create_dir_all(run_dir).with_context(|| format!("creating {}", run_dir.display()))?;
    let path = run_dir.join(CLAIM_FILE);
    let temp = unique_sibling(&path);
    let me = Holder::me(temp.file_name().unwrap().to_string_lossy().into_owned());
    write_synced(&temp, &me.text())?;
    let result = (|| {
        for _ in 0..5 {
            if link_exclusively(&temp, &path)? {
                return Ok(None);
            }
            match live_holder(&path, &temp)? {
                Some(holder) => return Ok(Some(holder)),
                None => remove_stale(&path, &temp)?,
            }
        }
        anyhow::bail!(
            "could not claim {} (it keeps changing hands)",
            path.display()
        )
    })();
    let _ = std::fs::remove_file(&temp);
    match result? {
        Some(holder) => Ok(Attempt::Held(holder)),
        None => Ok(Attempt::Claimed(Claim::hold(path, me))),
    }
}

/// The live holder of the claim in `run_dir`, if any (for status views).
pub fn holder(run_dir: &Path) -> Option<Holder> {
    let path = run_dir.join(CLAIM_FILE);
    if !path.exists() {
        return None;
    }
    // Without write access (a colleague's sweep, say) there is no probe,
    // and ages are measured on this host's clock.
    let probe = unique_sibling(&path);
    let _ = write_synced(&probe, "");
    let holder = live_holder(&path, &probe).ok().flatten();
    let _ = std::fs::remove_file(&probe);
    holder
}

/// Whether `name` (a file in a run directory) belongs to the claim
/// machinery, which clearing a run's leftovers must keep.
pub fn is_claim_file(name: &str) -> bool {
    name.starts_with(CLAIM_FILE)
}

impl Claim {
    /// Record in the run's `.claim.log` that the holder executes the run now.
    pub fn log_execution(&self) -> Result<()> {
        let me = &self.holder;
        let line = format!(
            "executed from {} by pid {} on {}\n",
            me.since, me.pid, me.host
        );
        let log = self.path.with_file_name(CLAIM_LOG);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .with_context(|| format!("writing {}", log.display()))
    }

    /// Release the claim of a run that wrote nothing, and remove its
    /// directory when it holds nothing but the claim's files (the log
    /// included: nothing ran).
    pub fn forget(self) {
        let dir = self.path.parent().map(Path::to_path_buf);
        drop(self);
        let Some(dir) = dir else { return };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        let names: Vec<String> = entries
            .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
            .collect();
        if names.iter().all(|n| is_claim_file(n)) {
            names
                .iter()
                .for_each(|n| drop(std::fs::remove_file(dir.join(n))));
            let _ = std::fs::remove_dir(&dir);
        }
    }

    fn hold(path: PathBuf, holder: Holder) -> Claim {
        let text = holder.text();
        let (stop, stopped) = mpsc::channel::<()>();
        let beating = path.clone();
        let beat = std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(HEARTBEAT) {
                touch(&beating);
            }
        });
        Claim {
            path,
            text,
            holder,
            stop: Some(stop),
            beat: Some(beat),
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(beat) = self.beat.take() {
            let _ = beat.join();
        }
        // Only ours: a claim taken over (say after this process was
        // suspended for longer than the stale age) is its new holder's.
        if std::fs::read_to_string(&self.path).ok().as_deref() == Some(&self.text) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Link `temp` to `path`; true when `path` is now ours. The link count
/// decides, as the call's own result may be a retried request's.
fn link_exclusively(temp: &Path, path: &Path) -> Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let linked = std::fs::hard_link(temp, path);
    let ours = std::fs::metadata(temp)
        .with_context(|| format!("reading {}", temp.display()))?
        .nlink()
        == 2;
    match linked {
        Ok(()) => Ok(true),
        Err(_) if ours => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

/// The holder of the claim at `path` if it is alive, `None` if the claim is
/// stale or gone. `probe` is a file of ours beside it, touched now: its
/// mtime is the file server's "now" (this host's clock when it is missing).
fn live_holder(path: &Path, probe: &Path) -> Result<Option<Holder>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    touch(probe);
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified());
    let now = mtime(probe).unwrap_or_else(|_| SystemTime::now());
    let age = mtime(path).map_or(Duration::ZERO, |then| {
        now.duration_since(then).unwrap_or_default()
    });
    Ok(match Holder::parse(&text) {
        Some(h) if h.is_dead_here() => None,
        Some(h) if h.host == hostname() => Some(h),
        // Another host, or a claim we cannot read: the heartbeat decides.
        Some(h) if age <= STALE_AFTER => Some(h),
        None if age <= STALE_AFTER => Some(Holder {
            host: "?".into(),
            pid: 0,
            started: 0,
            since: format!("(unreadable claim {})", path.display()),
            nonce: String::new(),
        }),
        _ => None,
    })
}

/// Remove the stale claim at `path`, holding the takeover lock so that only
/// one runner removes it, and only while it is still the stale one.
fn remove_stale(path: &Path, probe: &Path) -> Result<()> {
    let Ok(stale) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let takeover = path.with_file_name(TAKEOVER_FILE);
    let mine = unique_sibling(&takeover);
    write_synced(&mine, "")?;
    let got = link_exclusively(&mine, &takeover);
    let _ = std::fs::remove_file(&mine);
    if got? {
        if std::fs::read_to_string(path).ok().as_deref() == Some(stale.as_str())
            && live_holder(path, probe)?.is_none()
        {
            let _ = std::fs::remove_file(path);
        }
        let _ = std::fs::remove_file(&takeover);
    } else {
        // Someone else is taking over; a takeover lock left by a runner
        // that died in those few instructions is cleared once stale.
        touch(probe);
        let age = std::fs::metadata(&takeover)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| {
                std::fs::metadata(probe)
                    .ok()?
                    .modified()
                    .ok()?
                    .duration_since(t)
                    .ok()
            });
        if age.is_some_and(|a| a > HEARTBEAT) {
            let _ = std::fs::remove_file(&takeover);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// `.NAME.HOST.PID.N`: a name no other process (here or on another host)
/// and no other call of this one uses.
fn unique_sibling(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().unwrap().to_string_lossy();
    path.with_file_name(format!(
        "{name}.{}.{}.{}",
        hostname(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

fn write_synced(path: &Path, text: &str) -> Result<()> {
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(path)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()
    };
    write().with_context(|| format!("writing {}", path.display()))
}

/// Set `path`'s mtime to now, on the file server's clock (`utimensat` with
/// no times: NFS sends "set to server time").
fn touch(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return;
    };
    // SAFETY: a NUL-terminated path and a null `times` (meaning "now").
    unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), std::ptr::null(), 0) };
}

/// The start time of process `pid` (clock ticks after boot, field 22 of
/// `/proc/PID/stat`), `None` when there is no such process.
fn process_start(pid: i32) -> Option<u64> {
    if pid <= 0 {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is parenthesised and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// This machine's host name.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is writable for its whole length, which is passed.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if rc != 0 || end == 0 {
        return "unknown-host".to_string();
    }
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The current time as RFC 3339 (UTC, seconds), without a date library:
/// days since the epoch to a civil date (Howard Hinnant's algorithm).
fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claimed(a: Attempt) -> Claim {
        match a {
            Attempt::Claimed(c) => c,
            Attempt::Held(h) => panic!("held by {h:?}"),
        }
    }

    fn held(a: Attempt) -> Holder {
        match a {
            Attempt::Held(h) => h,
            Attempt::Claimed(c) => panic!("claimed {c:?}"),
        }
    }

    /// Set `path`'s mtime `ago` in the past.
    fn age(path: &Path, ago: Duration) {
        let f = std::fs::File::options().write(true).open(path).unwrap();
        f.set_modified(SystemTime::now() - ago).unwrap();
    }

    #[test]
    fn a_claim_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        let claim = claimed(take(&run).unwrap());
        let h = held(take(&run).unwrap());
        assert_eq!(
            (h.pid, h.host.clone()),
            (std::process::id() as i32, hostname())
        );
        assert_eq!(holder(&run), Some(h));
        drop(claim);
        assert!(!run.join(CLAIM_FILE).exists());
        assert_eq!(holder(&run), None);
        let claim = claimed(take(&run).unwrap());
        claim.log_execution().unwrap();
        drop(claim);
        drop(claimed(take(&run).unwrap()));
        let log = std::fs::read_to_string(run.join(CLAIM_LOG)).unwrap();
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(log.contains(&format!("by pid {} on {}", std::process::id(), hostname())));
        // Nothing else is left behind.
        let names: Vec<String> = std::fs::read_dir(&run)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [CLAIM_LOG]);
    }

    #[test]
    fn dead_and_stale_holders_are_taken_over_live_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        std::fs::create_dir_all(&run).unwrap();
        let path = run.join(CLAIM_FILE);
        let me = std::process::id();
        let start = process_start(me as i32).unwrap();
        let host = hostname();
        // A pid that cannot exist; our pid with another start time (reused).
        for text in [
            format!("{host} 2147483646 1 2026-01-01T00:00:00Z x\n"),
            format!("{host} {me} {} 2026-01-01T00:00:00Z x\n", start + 1),
        ] {
            std::fs::write(&path, &text).unwrap();
            let c = claimed(take(&run).unwrap());
            assert!(
                std::fs::read_to_string(&path)
                    .unwrap()
                    .contains(&format!(" {me} "))
            );
            drop(c);
        }
        // Alive on this host: held, however old its heartbeat.
        std::fs::write(
            &path,
            format!("{host} {me} {start} 2026-01-01T00:00:00Z x\n"),
        )
        .unwrap();
        age(&path, STALE_AFTER * 2);
        assert_eq!(held(take(&run).unwrap()).pid, me as i32);
        // Another host: held while its heartbeat is fresh, stale after.
        std::fs::write(&path, "node7 12 34 2026-01-01T00:00:00Z x\n").unwrap();
        let h = held(take(&run).unwrap());
        assert_eq!(
            h.describe(),
            "pid 12 on host node7 since 2026-01-01T00:00:00Z"
        );
        age(&path, STALE_AFTER - Duration::from_secs(30));
        held(take(&run).unwrap());
        age(&path, STALE_AFTER + Duration::from_secs(30));
        drop(claimed(take(&run).unwrap()));
        // An unreadable claim is judged by its age alone.
        std::fs::write(&path, "garbage").unwrap();
        held(take(&run).unwrap());
        age(&path, STALE_AFTER * 2);
        drop(claimed(take(&run).unwrap()));
    }

    #[test]
    fn racing_threads_claim_a_run_once() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        // A stale claim to race over, too.
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(
            run.join(CLAIM_FILE),
            format!("{} 2147483646 1 2026-01-01T00:00:00Z x\n", hostname()),
        )
        .unwrap();
        let barrier = std::sync::Barrier::new(8);
        let claims: Vec<Claim> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        match take(&run).unwrap() {
                            Attempt::Claimed(c) => Some(c),
                            Attempt::Held(_) => None,
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().unwrap())
                .collect()
        });
        assert_eq!(claims.len(), 1);
    }

    #[test]
    fn civil_dates() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'), "{t}");
    }
}
