//! Result files written safely, for every crate of the workspace.
//!
//! - [`AtomicFile`]: a file is written next to its target under a temporary name and
//!   renamed over it only when complete and synced, so a killed run never leaves a
//!   half-written file in place of a result. [`Overwrite::Refuse`] fails on an existing
//!   target (checked at the start, before any work, and again at the rename).
//!   Permissions follow the umask, like any other file the user creates.
//! - [`remove_orphans`]: temporary files left by a killed writer are removed on the next
//!   start (their names carry the writer's process id).
//! - [`RunLock`]: an exclusive advisory lock on a directory for one run.
//! - [`Record`] and [`ResultSet`]: provenance. A mode's files are written as one set
//!   (all complete before any is renamed), each with a sidecar `{stem}.gcnet.json`
//!   naming the producer, the inputs by content hash, the settings and every member of
//!   the set by content hash; consumers check it with [`Expect`] and [`check_same_set`].
//! - [`numpy`]: `.npy` and `.npz` arrays through [`AtomicFile`], and a reader that
//!   accepts either form.
//!
//! ```
//! use gcnet_files::{AtomicFile, Overwrite};
//! use std::io::Write;
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("result.txt");
//! let mut f = AtomicFile::new(&path, Overwrite::Refuse).unwrap();
//! f.file().write_all(b"42\n").unwrap();
//! f.commit().unwrap();
//! assert!(AtomicFile::new(&path, Overwrite::Refuse).is_err()); // never replaced unasked
//! ```
#![forbid(unsafe_code)]

mod atomic;
mod error;
mod lock;
pub mod numpy;
mod python;
mod record;
mod set;

pub use atomic::{AtomicFile, Overwrite, TEMP_PREFIX, check_writable, remove_orphans, write_atomic};
pub use error::{Error, Result};
pub use lock::RunLock;
pub use python::py_float;
pub use record::{Expect, Input, Member, Record, SIDECAR_SUFFIX, check_same_set, content_hash, sidecar_path};
pub use set::{ResultSet, check_output, refuse_input, same_file};
