//! One writer per sweep directory (per shard): `DIR/.sweep.lock` (or
//! `DIR/.sweep.lock.I-of-N` for shard I of N), created with `O_EXCL` and
//! holding `pid host start-time`. Two sweeps into one directory would
//! redo each other's runs from a clean directory; the second is refused,
//! naming the holder.
//!
//! A lock whose holder is dead (its pid is gone on this host, say after
//! `kill -9`) is stale and taken over. A lock held on another host cannot
//! be checked from here; the message says which file to delete if that
//! holder is known to be gone.

use super::shard::Shard;
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name prefix of the lock in a sweep directory.
pub const LOCK_FILE: &str = ".sweep.lock";

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct SweepLock {
    path: PathBuf,
}

/// Who holds a lock, as written in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Process id.
    pub pid: i32,
    /// Host name.
    pub host: String,
    /// When it took the lock (RFC 3339, UTC).
    pub since: String,
}

impl Holder {
    fn me() -> Holder {
        Holder {
            pid: std::process::id() as i32,
            host: hostname(),
            since: now_rfc3339(),
        }
    }

    fn parse(text: &str) -> Option<Holder> {
        let mut words = text.split_whitespace();
        Some(Holder {
            pid: words.next()?.parse().ok()?,
            host: words.next()?.to_string(),
            since: words.next()?.to_string(),
        })
    }

    fn text(&self) -> String {
        format!("{} {} {}\n", self.pid, self.host, self.since)
    }

    /// Whether it is certainly gone: a pid that no longer exists on this
    /// host. Holders on other hosts are presumed alive.
    pub fn is_dead(&self) -> bool {
        // SAFETY: `kill` with signal 0 only checks that the pid exists.
        self.host == hostname()
            && unsafe { libc::kill(self.pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
    }
}

/// The lock file of `shard` (or of the whole sweep) in `dir`.
pub fn lock_path(dir: &Path, shard: Option<Shard>) -> PathBuf {
    match shard {
        None => dir.join(LOCK_FILE),
        Some(s) => dir.join(format!("{LOCK_FILE}.{}-of-{}", s.index, s.count)),
    }
}

/// Every live holder of a lock in `dir` (any shard): a sweep is writing there.
pub fn live_holders(dir: &Path) -> Vec<Holder> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(LOCK_FILE))
        .filter_map(|e| Holder::parse(&std::fs::read_to_string(e.path()).ok()?))
        .filter(|h| !h.is_dead())
        .collect()
}

impl SweepLock {
    /// Take the lock of `shard` in `dir`, taking over a stale one.
    pub fn acquire(dir: &Path, shard: Option<Shard>) -> Result<SweepLock> {
        let path = lock_path(dir, shard);
        let me = Holder::me();
        for _ in 0..3 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    file.write_all(me.text().as_bytes())
                        .and_then(|()| file.sync_all())
                        .with_context(|| format!("writing {}", path.display()))?;
                    return Ok(SweepLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = Holder::parse(&text);
            match holder {
                Some(h) if !h.is_dead() => bail!(
                    "sweep directory {} is in use by pid {} on host {} since {} \
                     (lock file {}; delete it only if that process is gone)",
                    dir.display(),
                    h.pid,
                    h.host,
                    h.since,
                    path.display()
                ),
                // Dead, or unreadable because its writer died between
                // creating and filling it: stale. Move it aside under our
                // own name, so of two sweeps taking over one stale lock only
                // one removes it; put back what turns out not to be it.
                _ => {
                    let aside = path.with_extension(format!("stale-{}", me.pid));
                    if std::fs::rename(&path, &aside).is_ok() {
                        if std::fs::read_to_string(&aside).unwrap_or_default() == text {
                            let _ = std::fs::remove_file(&aside);
                        } else {
                            let _ = std::fs::rename(&aside, &path);
                        }
                    }
                }
            }
        }
        bail!(
            "could not take the lock {} (it keeps changing hands)",
            path.display()
        )
    }
}

impl Drop for SweepLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
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
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
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

    #[test]
    fn a_second_sweep_is_refused_and_a_stale_lock_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let lock = SweepLock::acquire(dir.path(), None).unwrap();
        let e = SweepLock::acquire(dir.path(), None)
            .unwrap_err()
            .to_string();
        let me = format!("pid {} on host {}", std::process::id(), hostname());
        assert!(e.contains("is in use by") && e.contains(&me), "{e}");
        // Shards lock separately.
        let shard = Shard { index: 1, count: 2 };
        drop(SweepLock::acquire(dir.path(), Some(shard)).unwrap());
        assert_eq!(live_holders(dir.path()).len(), 1);
        drop(lock);
        assert!(live_holders(dir.path()).is_empty());
        // A lock left by a dead process (a pid that cannot exist).
        let path = lock_path(dir.path(), None);
        std::fs::write(
            &path,
            format!("2147483646 {} 2026-01-01T00:00:00Z\n", hostname()),
        )
        .unwrap();
        assert!(live_holders(dir.path()).is_empty());
        let lock = SweepLock::acquire(dir.path(), None).unwrap();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .starts_with(&std::process::id().to_string())
        );
        drop(lock);
        // Another host's lock is respected.
        std::fs::write(&path, "12 elsewhere 2026-01-01T00:00:00Z\n").unwrap();
        let e = SweepLock::acquire(dir.path(), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("pid 12 on host elsewhere since 2026-01-01T00:00:00Z"),
            "{e}"
        );
    }

    #[test]
    fn civil_dates() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'), "{t}");
    }
}
