//! One run per directory: an exclusive advisory lock held for the run's lifetime.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Held while a run writes into a directory; released when dropped (or when the process
/// ends, however it ends: the kernel drops advisory locks with the descriptor).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    path: PathBuf,
}

impl RunLock {
    /// Name of the lock file inside the directory.
    pub const FILE_NAME: &'static str = ".gcnet.lock";

    /// Takes the lock on `dir` (which must exist) or fails at once with
    /// [`Error::Locked`], naming the process that holds it.
    pub fn acquire(dir: impl AsRef<Path>, what: &str) -> Result<RunLock> {
        let dir = dir.as_ref();
        let path = dir.join(Self::FILE_NAME);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(Error::io(&path, "open the lock file"))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                file.read_to_string(&mut holder).ok();
                let holder = holder.trim();
                let holder = if holder.is_empty() { "a process that has not yet written its name" } else { holder };
                return Err(Error::Locked { dir: dir.to_path_buf(), holder: holder.to_string() });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, "lock")(e)),
        }
        let note = format!("process {} ({what})\n", std::process::id());
        file.set_len(0).and_then(|_| file.rewind()).and_then(|_| file.write_all(note.as_bytes())).ok();
        Ok(RunLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
