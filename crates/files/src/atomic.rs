//! Atomic writes: a temporary file in the target's directory, synced, then renamed.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Every temporary file starts with this, then the writer's process id and a dot.
pub const TEMP_PREFIX: &str = ".gcnet-tmp.";

/// What to do when the target exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overwrite {
    /// Fail with [`Error::Exists`]: checked when the file is created and at the rename.
    Refuse,
    /// Replace the target atomically (readers see the old file or the new one, never a
    /// mixture).
    Replace,
}

impl Overwrite {
    /// `Replace` when `force` is set, else `Refuse`.
    pub fn force(force: bool) -> Self {
        if force { Overwrite::Replace } else { Overwrite::Refuse }
    }
}

/// A file being written; it appears at its target only through [`AtomicFile::commit`].
/// Dropped without a commit, it leaves nothing behind.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
    overwrite: Overwrite,
}

fn parent_dir(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

impl AtomicFile {
    /// Creates the temporary file next to `target`. With [`Overwrite::Refuse`] an existing
    /// target is an error here already, before any work is done.
    pub fn new(target: impl AsRef<Path>, overwrite: Overwrite) -> Result<AtomicFile> {
        let target = target.as_ref().to_path_buf();
        if overwrite == Overwrite::Refuse && target.symlink_metadata().is_ok() {
            return Err(Error::Exists { path: target });
        }
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let prefix = format!("{TEMP_PREFIX}{}.", std::process::id());
        // 0o666: the umask decides, as for any file the user's programs create
        // (tempfile's own default is owner-only).
        let tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(&format!(".{name}"))
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .tempfile_in(parent_dir(&target))
            .map_err(Error::io(&target, "create a temporary file next to"))?;
        Ok(AtomicFile { tmp, target, overwrite })
    }

    /// The temporary file's path, for writers that open files by name (HDF5, PNG).
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// The open temporary file, for reading its state.
    pub fn file_ref(&self) -> &File {
        self.tmp.as_file()
    }

    /// Where the file goes on commit.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The open temporary file.
    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// Syncs the data and moves the file to its target (refusing an existing one with
    /// [`Overwrite::Refuse`]), then syncs the directory so the rename survives a crash.
    pub fn commit(self) -> Result<()> {
        let AtomicFile { tmp, target, overwrite } = self;
        // fsync on any descriptor flushes the whole file, also what HDF5 wrote by name.
        tmp.as_file().sync_all().map_err(Error::io(&target, "sync the new contents of"))?;
        let persisted = match overwrite {
            Overwrite::Replace => tmp.persist(&target),
            Overwrite::Refuse => tmp.persist_noclobber(&target),
        };
        persisted.map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Exists { path: target.clone() }
            } else {
                Error::Io { path: target.clone(), action: "move the finished file to", source: e.error }
            }
        })?;
        if let Ok(dir) = File::open(parent_dir(&target)) {
            // Best effort: some file systems refuse fsync on directories.
            dir.sync_all().ok();
        }
        Ok(())
    }
}

/// Writes `target` in one go through an [`AtomicFile`].
pub fn write_atomic(
    target: impl AsRef<Path>,
    overwrite: Overwrite,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<()> {
    let mut f = AtomicFile::new(target, overwrite)?;
    let path = f.target().to_path_buf();
    write(f.file()).map_err(Error::io(path, "write"))?;
    f.commit()
}

/// Removes the temporary files in `dir` whose writer is no longer running (a killed run),
/// and returns their paths. Files of live processes are left alone.
pub fn remove_orphans(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    let dir = dir.as_ref();
    let mut removed = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(Error::io(dir, "list")(e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(TEMP_PREFIX).and_then(|r| r.split('.').next()?.parse::<u32>().ok()) else {
            continue;
        };
        if pid == std::process::id() || process_alive(pid) {
            continue;
        }
        let path = entry.path();
        std::fs::remove_file(&path).map_err(Error::io(&path, "remove the orphaned temporary file"))?;
        removed.push(path);
    }
    Ok(removed)
}

/// Whether a process with this id runs (Linux: /proc); where that cannot be told, assume
/// it does, so nothing of a live writer is ever removed.
fn process_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}

/// Checks that files can be created in `dir` (a temporary file, removed at once), so that a
/// long computation does not end in a write error.
pub fn check_writable(dir: impl AsRef<Path>) -> Result<()> {
    let dir = dir.as_ref();
    tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}.", std::process::id()))
        .tempfile_in(dir)
        .map(drop)
        .map_err(Error::io(dir, "create files in"))
}
