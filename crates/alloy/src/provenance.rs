//! What a result was made from, stored as a JSON string attribute (`gcnet_neb`) on every
//! step file and data set: the physics settings (crystal, a0, elements, potential,
//! temperature, NEB settings, threshold), which compare exactly on resume and merge, and
//! where the states came from.

use std::path::Path;

use gcnet_crystal::CrystalData;
use hdf5::types::VarLenUnicode;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fingerprint::{fnv1a, hex};
use crate::neb::NebSettings;

/// Name of the HDF5 attribute on the file's root group.
pub const ATTRIBUTE: &str = "gcnet_neb";

/// Everything the numbers of a step depend on. Two runs whose `Physics` are equal compute
/// the same barriers for the same states.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Physics {
    /// FNV-1a hash of the crystal's site positions, neighbour table and jump vectors.
    pub crystal_hash: String,
    pub num_sites: usize,
    pub z: usize,
    /// Å.
    pub lattice_parameter: f64,
    pub units: usize,
    pub primitive: bool,
    /// The element of label 1, 2, ...
    pub elements: Vec<String>,
    /// FNV-1a hash of library.meam and params.meam.
    pub potential_hash: String,
    /// K.
    pub temperature: f64,
    pub neb: NebSettings,
    /// Å: an end state whose atoms move farther than this when relaxed is off-lattice.
    pub threshold: f64,
}

impl Physics {
    /// The first setting in which `self` and `other` differ, as "name: a vs b".
    pub fn difference(&self, other: &Physics) -> Option<String> {
        difference(self, other)
    }
}

/// The first field in which two records differ, as "name: a vs b" (dotted names for
/// nested fields).
pub fn difference<T: Serialize>(a: &T, b: &T) -> Option<String> {
    let a = serde_json::to_value(a).ok()?;
    let b = serde_json::to_value(b).ok()?;
    first_difference("", &a, &b)
}

/// Every field in which two records differ, as "name: a vs b", by name.
pub fn differences<T: Serialize>(a: &T, b: &T) -> Vec<String> {
    fn walk(prefix: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
        match (a, b) {
            (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
                for (k, va) in x {
                    let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    match y.get(k) {
                        Some(vb) => walk(&name, va, vb, out),
                        None => out.push(format!("{name}: {va} vs (absent)")),
                    }
                }
                for k in y.keys().filter(|k| !x.contains_key(*k)) {
                    out.push(format!("{k}: (absent) vs {}", y[k]));
                }
            }
            _ if a == b => {}
            _ => out.push(format!("{prefix}: {a} vs {b}")),
        }
    }
    let mut out = Vec::new();
    if let (Ok(a), Ok(b)) = (serde_json::to_value(a), serde_json::to_value(b)) {
        walk("", &a, &b, &mut out);
    }
    out
}

fn first_difference(prefix: &str, a: &serde_json::Value, b: &serde_json::Value) -> Option<String> {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            for (k, va) in x {
                let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                match y.get(k) {
                    Some(vb) => {
                        if let Some(d) = first_difference(&name, va, vb) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{name}: {va} vs (absent)")),
                }
            }
            y.keys().find(|k| !x.contains_key(*k)).map(|k| format!("{k}: (absent) vs {}", y[k]))
        }
        _ if a == b => None,
        _ => Some(format!("{prefix}: {a} vs {b}")),
    }
}

/// Which states of which initial-state file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatesOrigin {
    /// The initial-state file as given.
    pub file: String,
    /// FNV-1a hash of the whole file.
    pub file_hash: String,
    /// Index of the first state in the file (-idx).
    pub start: usize,
    pub count: usize,
    /// FNV-1a hash of the selected states' labels.
    pub states_hash: String,
}

impl StatesOrigin {
    pub fn end(&self) -> usize {
        self.start + self.count
    }
}

/// The record of a step file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub physics: Physics,
    pub seed: u64,
    pub states: StatesOrigin,
    pub step: usize,
    pub lammps_version: String,
    pub gcnet_version: String,
}

/// The record of a data set: its shards in sample order (one for a data set assembled by
/// one run; several after a merge).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetRecord {
    pub physics: Physics,
    pub shards: Vec<Shard>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shard {
    pub seed: u64,
    pub states: StatesOrigin,
}

/// Fingerprint of the parts of a crystal file a NEB run uses.
pub fn crystal_hash(crystal: &CrystalData) -> Result<String> {
    let mut bytes = Vec::new();
    for x in crystal.site_positions()?.iter().chain(crystal.jump_vectors().iter()) {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    for x in crystal.nn_sites().iter().chain(crystal.superlattice().iter()) {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    Ok(hex(fnv1a(&bytes)))
}

/// Writes `record` as the JSON attribute of an open file.
pub(crate) fn write_attribute<T: Serialize>(file: &hdf5::File, path: &Path, record: &T) -> Result<()> {
    let json =
        serde_json::to_string(record).map_err(|e| Error::Config(format!("cannot encode the run record: {e}")))?;
    let value: VarLenUnicode =
        json.parse().map_err(|e| Error::Config(format!("cannot store the run record as a string: {e:?}")))?;
    file.new_attr::<VarLenUnicode>()
        .shape(())
        .create(ATTRIBUTE)
        .and_then(|a| a.write_scalar(&value))
        .map_err(Error::hdf5(path, format!("writing attribute `{ATTRIBUTE}`")))
}

/// Reads the JSON attribute of an open file; `None` if the file has none (a file not
/// written by gcnet, e.g. one of the published scripts).
pub(crate) fn read_attribute<T: for<'de> Deserialize<'de>>(file: &hdf5::File, path: &Path) -> Result<Option<T>> {
    if !file.attr_names().map_err(Error::hdf5(path, "listing attributes"))?.iter().any(|n| n == ATTRIBUTE) {
        return Ok(None);
    }
    let value: VarLenUnicode = file
        .attr(ATTRIBUTE)
        .and_then(|a| a.read_scalar())
        .map_err(Error::hdf5(path, format!("reading attribute `{ATTRIBUTE}`")))?;
    serde_json::from_str(value.as_str()).map(Some).map_err(|e| Error::Dataset {
        path: path.to_path_buf(),
        dataset: format!("attribute {ATTRIBUTE}"),
        reason: format!("not a gcnet run record: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_the_setting() {
        let neb = NebSettings::default();
        let a = Physics {
            crystal_hash: "x".into(),
            num_sites: 108,
            z: 12,
            lattice_parameter: 3.595,
            units: 3,
            primitive: false,
            elements: vec!["Ni".into()],
            potential_hash: "p".into(),
            temperature: 1000.0,
            neb: neb.clone(),
            threshold: 1.0,
        };
        assert_eq!(a.difference(&a.clone()), None);
        let b = Physics { temperature: 1100.0, ..a.clone() };
        assert_eq!(a.difference(&b).unwrap(), "temperature: 1000.0 vs 1100.0");
        let c = Physics { neb: NebSettings { images: 5, ..neb }, ..a.clone() };
        assert_eq!(a.difference(&c).unwrap(), "neb.images: 11 vs 5");
    }
}
