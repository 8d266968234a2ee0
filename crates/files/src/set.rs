//! A mode's files written as one set: every file is complete (written and synced under a
//! temporary name) before any is renamed into place, and each carries the set's
//! [`Record`] in its sidecar, which lists every member by content hash, so a set that was
//! only partly replaced (a run killed between two renames, a file copied in from another
//! run) is told apart from a whole one by any consumer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::atomic::{AtomicFile, Overwrite};
use crate::error::{Error, Result};
use crate::numpy::{NpArray, write_npy_into, write_npz_into};
use crate::record::{Member, Record, content_hash, sidecar_path};

/// Whether two paths name the same existing file (hard links and symbolic links
/// included); `false` when either does not exist.
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Fails when `output` is one of `inputs` (the same file, however named): no run writes
/// over what it reads.
pub fn refuse_input(output: &Path, inputs: &[PathBuf]) -> Result<()> {
    match inputs.iter().find(|i| same_file(i, output)) {
        Some(input) => Err(Error::Record {
            path: output.to_path_buf(),
            reason: format!("that is {}, an input of this run; it is never written over", input.display()),
        }),
        None => Ok(()),
    }
}

/// The one output guard of every writer: `output` is never one of the run's `inputs`, and
/// an existing `output` is refused unless `overwrite` is [`Overwrite::Replace`] (`--force`).
/// Called before any work, so that a refused run costs nothing; the atomic write checks
/// again when it renames.
pub fn check_output(output: &Path, inputs: &[PathBuf], overwrite: Overwrite) -> Result<()> {
    refuse_input(output, inputs)?;
    if overwrite == Overwrite::Refuse && output.exists() {
        return Err(Error::Exists { path: output.to_path_buf() });
    }
    Ok(())
}

struct Pending {
    file: AtomicFile,
    role: String,
}

/// The files of one result set, written together; see the module documentation.
pub struct ResultSet {
    record: Record,
    overwrite: Overwrite,
    inputs: Vec<PathBuf>,
    pending: Vec<Pending>,
}

impl ResultSet {
    /// A set whose members replace existing files or refuse them, as `overwrite` says,
    /// and never write over one of `inputs`.
    pub fn new(record: Record, overwrite: Overwrite, inputs: &[PathBuf]) -> ResultSet {
        ResultSet { record, overwrite, inputs: inputs.to_vec(), pending: Vec::new() }
    }

    /// A member to write by hand (HDF5, text): write into the returned file.
    pub fn file(&mut self, target: impl AsRef<Path>, role: &str) -> Result<&mut AtomicFile> {
        let target = target.as_ref();
        refuse_input(target, &self.inputs)?;
        refuse_input(&sidecar_path(target), &self.inputs)?;
        if self.pending.iter().any(|p| p.file.target() == target) {
            return Err(Error::Record { path: target.to_path_buf(), reason: "named twice in one result set".into() });
        }
        let file = AtomicFile::new(target, self.overwrite)?;
        self.pending.push(Pending { file, role: role.to_string() });
        Ok(&mut self.pending.last_mut().expect("just pushed").file)
    }

    /// A bare `.npy` member; an empty array is refused (a result with no rows is never
    /// written in place of one).
    pub fn npy(&mut self, target: impl AsRef<Path>, role: &str, array: &NpArray) -> Result<()> {
        let target = target.as_ref();
        refuse_empty(target, array)?;
        let f = self.file(target, role)?;
        write_npy_into(target, f.file(), array)
    }

    /// An `.npz` member with named arrays; empty arrays are refused.
    pub fn npz(&mut self, target: impl AsRef<Path>, role: &str, arrays: &[(&str, NpArray)]) -> Result<()> {
        let target = target.as_ref();
        for (_, a) in arrays {
            refuse_empty(target, a)?;
        }
        let f = self.file(target, role)?;
        write_npz_into(target, f.file(), arrays)
    }

    /// The record as it stands (members are filled in at commit).
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// Moves every member into place with its record: first all contents are synced and
    /// hashed, then the sidecars are renamed, then the files. A run stopped between two
    /// renames leaves files whose contents their sidecars do not list, which
    /// [`Record::of_file`] refuses. Returns the members' paths.
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        let ResultSet { mut record, pending, .. } = self;
        for p in &pending {
            p.file.file_ref().sync_all().map_err(Error::io(p.file.target(), "sync the new contents of"))?;
            let name = file_name(p.file.target());
            record.members.insert(name, Member { role: p.role.clone(), hash: content_hash(p.file.path())? });
        }
        let json = serde_json::to_string_pretty(&record).map_err(|e| Error::Record {
            path: PathBuf::from("."),
            reason: format!("cannot encode the record: {e}"),
        })?;
        let mut sidecars: BTreeMap<PathBuf, AtomicFile> = BTreeMap::new();
        for p in &pending {
            let path = sidecar_path(p.file.target());
            if sidecars.contains_key(&path) {
                continue;
            }
            let mut f = AtomicFile::new(&path, Overwrite::Replace)?;
            std::io::Write::write_all(f.file(), json.as_bytes()).map_err(Error::io(&path, "write"))?;
            sidecars.insert(path, f);
        }
        for (_, f) in sidecars {
            f.commit()?;
        }
        let mut written = Vec::new();
        for p in pending {
            written.push(p.file.target().to_path_buf());
            p.file.commit()?;
        }
        Ok(written)
    }
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn refuse_empty(target: &Path, array: &NpArray) -> Result<()> {
    if array.shape().contains(&0) {
        return Err(Error::Record {
            path: target.to_path_buf(),
            reason: format!("the result is empty (shape {:?}): nothing was written", array.shape()),
        });
    }
    Ok(())
}
