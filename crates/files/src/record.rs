//! Provenance: every result a later command reads carries a record of what made it.
//!
//! A [`Record`] names the producer, the inputs by content hash, the settings the numbers
//! depend on, and every member file of the result set written with it (by content hash
//! and role). It lives in a sidecar beside each member, `{stem}.gcnet.json` (`stem` is the
//! file name without its extension, so `y.npy` and `y.npz` share one), written by
//! [`ResultSet`] together with the files. A consumer reads a file with
//! [`Record::of_file`] and checks it against what it expects with [`Expect`]; a file
//! without a sidecar (made by the published Python code) has no record, and the consumer
//! checks what can be checked from the data.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The sidecar's suffix, after the file's stem.
pub const SIDECAR_SUFFIX: &str = ".gcnet.json";

/// Content hash of a file: XXH3-128 of its bytes, as 32 hex digits (a fingerprint that
/// tells files apart, not a cryptographic signature).
pub fn content_hash(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    let mut file = File::open(path).map_err(Error::io(path, "open"))?;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(Error::io(path, "read"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:032x}", hasher.digest128()))
}

/// The sidecar path of a result file: `dir/stem.gcnet.json`.
pub fn sidecar_path(path: impl AsRef<Path>) -> PathBuf {
    let path = path.as_ref();
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!("{stem}{SIDECAR_SUFFIX}"))
}

/// An input file of a result, by content hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// As given on the command line (for messages only; the hash is what is compared).
    pub path: String,
    pub hash: String,
}

impl Input {
    /// Hashes the file at `path` now.
    pub fn of(path: impl AsRef<Path>) -> Result<Input> {
        let path = path.as_ref();
        Ok(Input { path: path.display().to_string(), hash: content_hash(path)? })
    }
}

/// A member of a result set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// What the file holds within the set ("y_st1", "W", "checkpoint", ...).
    pub role: String,
    pub hash: String,
}

/// What made a result set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The command or mode that wrote the set ("gcnet getY", "gcnet vce", ...).
    pub producer: String,
    pub gcnet_version: String,
    /// Input files by role ("data", "crystal", "checkpoint", ...).
    pub inputs: BTreeMap<String, Input>,
    /// The settings the numbers depend on, by name.
    pub settings: BTreeMap<String, serde_json::Value>,
    /// Every file of the set by file name (filled in by [`ResultSet::commit`]).
    pub members: BTreeMap<String, Member>,
}

impl Record {
    /// A record of `producer` (the crate version is the caller's: pass
    /// `env!("CARGO_PKG_VERSION")`).
    pub fn new(producer: impl Into<String>, gcnet_version: impl Into<String>) -> Record {
        Record {
            producer: producer.into(),
            gcnet_version: gcnet_version.into(),
            inputs: BTreeMap::new(),
            settings: BTreeMap::new(),
            members: BTreeMap::new(),
        }
    }

    /// Adds an input file, hashed now.
    pub fn input(mut self, role: &str, path: impl AsRef<Path>) -> Result<Record> {
        self.inputs.insert(role.to_string(), Input::of(path)?);
        Ok(self)
    }

    /// Adds an input already hashed (e.g. a file this run read and hashed once).
    pub fn input_hashed(mut self, role: &str, input: Input) -> Record {
        self.inputs.insert(role.to_string(), input);
        self
    }

    /// Adds a setting.
    pub fn setting(mut self, name: &str, value: impl Serialize) -> Record {
        let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.settings.insert(name.to_string(), value);
        self
    }

    /// The record of the file at `path`, checked against the file: `Ok(None)` when it has
    /// no sidecar (a file from the published code, or one copied without it); an error
    /// when the sidecar is unreadable, does not list the file's contents, or the file
    /// changed since it was written. Returns the record and the file's member entry.
    pub fn of_file(path: impl AsRef<Path>) -> Result<Option<(Record, Member)>> {
        let path = path.as_ref();
        let sidecar = sidecar_path(path);
        let text = match std::fs::read_to_string(&sidecar) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&sidecar, "read the record")(e)),
        };
        let record: Record = serde_json::from_str(&text).map_err(|e| Error::Record {
            path: path.to_path_buf(),
            reason: format!("its record {} is not a gcnet record ({e})", sidecar.display()),
        })?;
        let hash = content_hash(path)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let member = record
            .members
            .get(&name)
            .filter(|m| m.hash == hash)
            .or_else(|| record.members.values().find(|m| m.hash == hash))
            .cloned();
        match member {
            Some(m) => Ok(Some((record, m))),
            None => Err(Error::Record {
                path: path.to_path_buf(),
                reason: format!(
                    "the file changed after {} wrote it: its contents match no file of its record {} \
                     (a partly replaced result set, or a file from elsewhere; remove the record if the file is \
                     meant to stand alone)",
                    record.producer,
                    sidecar.display()
                ),
            }),
        }
    }
}

fn show(v: Option<&serde_json::Value>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "(not recorded)".into())
}

/// What a consumer expects of a file's record; [`Expect::check`] names the file and the
/// first field that differs.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    producers: Vec<String>,
    role: Option<String>,
    inputs: Vec<(String, String, String)>,
    settings: Vec<(String, serde_json::Value)>,
}

impl Expect {
    pub fn new() -> Expect {
        Expect::default()
    }

    /// The file must come from one of these producers.
    pub fn producer(mut self, producer: &str) -> Expect {
        self.producers.push(producer.to_string());
        self
    }

    /// The file must hold this role within its set.
    pub fn role(mut self, role: &str) -> Expect {
        self.role = Some(role.to_string());
        self
    }

    /// The input `role` must have had the content hash `hash` (the file the consumer
    /// reads now, described as `what` in messages).
    pub fn input(mut self, role: &str, hash: &str, what: impl Into<String>) -> Expect {
        self.inputs.push((role.to_string(), hash.to_string(), what.into()));
        self
    }

    /// The setting `name` must equal `value`.
    pub fn setting(mut self, name: &str, value: impl Serialize) -> Expect {
        self.settings.push((name.to_string(), serde_json::to_value(value).unwrap_or(serde_json::Value::Null)));
        self
    }

    /// Checks `path`'s record (as returned by [`Record::of_file`]).
    pub fn check(&self, path: &Path, record: &Record, member: &Member) -> Result<()> {
        let fail = |reason: String| Err(Error::Record { path: path.to_path_buf(), reason });
        if !self.producers.is_empty() && !self.producers.contains(&record.producer) {
            return fail(format!("was written by {}, not by {}", record.producer, self.producers.join(" or ")));
        }
        if let Some(role) = &self.role
            && &member.role != role
        {
            return fail(format!("holds {} (its record says), where {role} is expected", member.role));
        }
        for (role, hash, what) in &self.inputs {
            match record.inputs.get(role) {
                None => return fail(format!("its record names no {role} input")),
                Some(i) if &i.hash != hash => {
                    return fail(format!(
                        "was made from {role} {} (content {}), not from {what} (content {}): the files do not belong together",
                        i.path,
                        &i.hash[..12.min(i.hash.len())],
                        &hash[..12.min(hash.len())]
                    ));
                }
                Some(_) => {}
            }
        }
        for (name, value) in &self.settings {
            let recorded = record.settings.get(name);
            if recorded != Some(value) {
                return fail(format!("was made with {name} = {}, this run has {name} = {value}", show(recorded)));
            }
        }
        Ok(())
    }
}

/// Checks that files read together come from one result set: every one that has a
/// record has the same set of members, and either all have records or none has.
/// `files` pairs each path with what [`Record::of_file`] returned for it.
pub fn check_same_set(files: &[(&Path, Option<&Record>)]) -> Result<()> {
    let with: Vec<_> = files.iter().filter_map(|(p, r)| r.map(|r| (*p, r))).collect();
    let Some((first_path, first)) = with.first() else { return Ok(()) };
    if let Some((p, _)) = files.iter().find(|(_, r)| r.is_none()) {
        return Err(Error::Record {
            path: p.to_path_buf(),
            reason: format!(
                "has no gcnet record, but {} was written by {} with one: files of different runs do not combine",
                first_path.display(),
                first.producer
            ),
        });
    }
    for (p, r) in &with[1..] {
        if r.members != first.members {
            return Err(Error::Record {
                path: p.to_path_buf(),
                reason: format!(
                    "was written together with other files than {} was (another run's result set): the files do not \
                     belong together",
                    first_path.display()
                ),
            });
        }
    }
    Ok(())
}
