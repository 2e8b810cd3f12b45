//! One writer at a time: an exclusive lock on `DIR/LOCK`.
//!
//! The lock is the operating system's advisory file lock (`flock` on Unix,
//! `LockFileEx` on Windows, through `std::fs::File::try_lock`), so it is
//! released when the holder exits, however it exits: a killed writer never
//! leaves a stale lock behind. The holder writes who it is (process id,
//! host, start time) into the file, so that a second writer can say whom it
//! is waiting for. Readers take no lock: they read the last committed
//! manifest, which a writer replaces atomically.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// Name of the lock file inside an index folder.
pub const LOCK_FILE: &str = "LOCK";

/// What to do when another writer holds the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Fail at once, naming the holder.
    No,
    /// Retry until this much time has passed, then fail.
    Up(Duration),
}

/// The writer lock, held until dropped.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
    path: PathBuf,
}

impl WriterLock {
    /// Takes the lock of the index in `dir`.
    pub fn acquire(dir: &Path, wait: Wait) -> Result<WriterLock> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    let expired = match wait {
                        Wait::No => true,
                        Wait::Up(limit) => started.elapsed() >= limit,
                    };
                    if expired {
                        let mut holder = String::new();
                        let _ = file.read_to_string(&mut holder);
                        let holder = holder.trim();
                        return Err(Error::Index(format!(
                            "{} is being written by another neardup ({}); wait for it to \
                             finish or use --wait",
                            dir.display(),
                            if holder.is_empty() { "holder unknown" } else { holder }
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
            }
        }
        let who = format!(
            "pid {} on {}, since {}",
            std::process::id(),
            hostname(),
            jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ")
        );
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(who.as_bytes()))
            .and_then(|()| file.flush())
            .map_err(|e| Error::io(&path, e))?;
        Ok(WriterLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "this host".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holder_named() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriterLock::acquire(dir.path(), Wait::No).unwrap();
        let err = WriterLock::acquire(dir.path(), Wait::No).unwrap_err().to_string();
        assert!(err.contains(&format!("pid {}", std::process::id())), "{err}");
        let err = WriterLock::acquire(dir.path(), Wait::Up(Duration::from_millis(300)));
        assert!(err.is_err());
        drop(first);
        WriterLock::acquire(dir.path(), Wait::No).unwrap();
    }
}
