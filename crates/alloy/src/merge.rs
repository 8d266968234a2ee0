//! The merge of the training files of several shards of one study (-idx/-bs ranges run
//! as separate jobs) into one data set. A merge refuses shards made with other settings,
//! shards that overlap, and any initial state that two shards share (compared state by
//! state); the merged file is checked with `gcnet check`'s rules before it is renamed
//! into place, so a refused merge leaves nothing behind.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use gcnet_crystal::CrystalData;
use gcnet_files::{AtomicFile, Overwrite};
use hdf5::H5Type;
use hdf5::types::{FloatSize, IntSize, TypeDescriptor};
use ndarray::{Array2, ArrayD, Axis, IxDyn};

use crate::dataset::verify;
use crate::error::{Error, Result, Within};
use crate::mc::fcc_cell;
use crate::provenance::{DatasetRecord, Physics, Shard, crystal_hash, read_attribute, write_attribute};
use crate::stepfile::put;

/// What `gcnet neb-merge` takes.
#[derive(Clone, Debug)]
pub struct MergeConfig {
    /// Data sets from `gcnet neb --dataset` (at least two).
    pub inputs: Vec<PathBuf>,
    pub output: PathBuf,
    /// [-cr] The crystal file of the runs, for the check of the merged file; default: the
    /// FCC cell of the shards' -u and -pr, when that is the one they used.
    pub crystal: Option<PathBuf>,
    /// Whether an existing output is replaced (never one of the inputs); default refused.
    pub overwrite: Overwrite,
}

impl MergeConfig {
    /// Checks the output, reads the crystal file and merges (see [`merge`]).
    pub fn run(&self) -> Result<MergeSummary> {
        // The shards are refused as the output by `merge`, which names the shard.
        gcnet_files::check_output(&self.output, self.crystal.as_slice(), self.overwrite)?;
        let crystal = match &self.crystal {
            Some(c) => Some(CrystalData::read(c).within_lazy(|| format!("-cr {}", c.display()))?),
            None => None,
        };
        merge(&self.inputs, &self.output, crystal.as_ref(), self.overwrite)
            .within_lazy(|| format!("merging into {}", self.output.display()))
    }
}

/// What a merge wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeSummary {
    pub output: PathBuf,
    pub samples: usize,
    pub shards: Vec<Shard>,
}

impl fmt::Display for MergeSummary {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "wrote {}: {} samples from {} shards", self.output.display(), self.samples, self.shards.len())?;
        for s in &self.shards {
            write!(f, "\n  states {}..{} of {} (seed {})", s.states.start, s.states.end(), s.states.file, s.seed)?;
        }
        Ok(())
    }
}

/// Concatenates data sets of shards of one study (same crystal, potential, temperature and
/// NEB settings; no initial state twice) into `output`, ordered by initial-state file and
/// first state. `crystal` is the crystal file the shards were made with; without it, the
/// FCC cell of the shards' settings (`gcnet crystal --lattice fcc`), which must be the
/// one they were made with. The output is checked against it before it appears.
pub fn merge(
    inputs: &[PathBuf],
    output: &Path,
    crystal: Option<&CrystalData>,
    overwrite: Overwrite,
) -> Result<MergeSummary> {
    if inputs.len() < 2 {
        return Err(Error::Config("a merge needs at least two data sets".into()));
    }
    let out_canon = output.canonicalize().ok();
    let mut parts = Vec::new();
    for p in inputs {
        if out_canon.is_some() && p.canonicalize().ok() == out_canon {
            return Err(Error::Merge {
                path: p.clone(),
                reason: "is an input; the merged file must be a new one".into(),
            });
        }
        let file = hdf5::File::open(p).map_err(Error::hdf5(p, "opening the data set"))?;
        let record: DatasetRecord = read_attribute(&file, p)?.ok_or_else(|| Error::Merge {
            path: p.clone(),
            reason: "has no gcnet run record (it was not assembled by `gcnet neb --dataset`)".into(),
        })?;
        let names = dataset_names(&file, p)?;
        let n = file
            .dataset("InitStates")
            .map(|d| d.shape().first().copied().unwrap_or(0))
            .map_err(Error::hdf5(p, "opening dataset `InitStates`"))?;
        let counted: usize = record.shards.iter().map(|s| s.states.count).sum();
        if counted != n {
            return Err(Error::Merge {
                path: p.clone(),
                reason: format!("holds {n} samples but its record lists {counted} states"),
            });
        }
        parts.push((p.clone(), record, names, n));
    }
    for (p, r, names, _) in &parts[1..] {
        let (first_path, first, first_names, _) = &parts[0];
        if let Some(d) = r.physics.difference(&first.physics) {
            return Err(Error::Merge {
                path: p.clone(),
                reason: format!("was made with other settings than {} ({d})", first_path.display()),
            });
        }
        if names != first_names {
            return Err(Error::Merge {
                path: p.clone(),
                reason: format!("holds other datasets than {} ({names:?} vs {first_names:?})", first_path.display()),
            });
        }
    }
    parts.sort_by(|a, b| {
        let key = |r: &DatasetRecord| (r.shards[0].states.file_hash.clone(), r.shards[0].states.start);
        key(&a.1).cmp(&key(&b.1))
    });
    let all: Vec<(&PathBuf, &Shard)> =
        parts.iter().flat_map(|(p, r, _, _)| r.shards.iter().map(move |s| (p, s))).collect();
    for (i, (pa, a)) in all.iter().enumerate() {
        for (pb, b) in &all[i + 1..] {
            let same_file = a.states.file_hash == b.states.file_hash;
            let overlap = a.states.start < b.states.end() && b.states.start < a.states.end();
            if (same_file && overlap) || a.states.states_hash == b.states.states_hash {
                return Err(Error::Merge {
                    path: (*pb).clone(),
                    reason: format!(
                        "its states {}..{} of {} overlap states {}..{} of {} in {}",
                        b.states.start,
                        b.states.end(),
                        b.states.file,
                        a.states.start,
                        a.states.end(),
                        a.states.file,
                        pa.display()
                    ),
                });
            }
        }
    }
    let physics = &parts[0].1.physics;
    let crystal = crystal_of(physics, crystal, &parts[0].0)?;
    let paths: Vec<&Path> = parts.iter().map(|(p, ..)| p.as_path()).collect();
    no_shared_states(&paths)?;
    let record = DatasetRecord {
        physics: parts[0].1.physics.clone(),
        shards: parts.iter().flat_map(|(_, r, _, _)| r.shards.clone()).collect(),
    };
    let files: Vec<hdf5::File> = parts
        .iter()
        .map(|(p, ..)| hdf5::File::open(p).map_err(Error::hdf5(p, "opening the data set")))
        .collect::<Result<_>>()?;
    let names = parts[0].2.clone();
    let tmp = AtomicFile::new(output, overwrite)?;
    {
        let out = hdf5::File::create(tmp.path()).map_err(Error::hdf5(output, "creating the merged data set"))?;
        for name in &names {
            concatenate(&files, &paths, name, &out, output)?;
        }
        write_attribute(&out, output, &record)?;
        out.close().map_err(Error::hdf5(output, "closing the merged data set"))?;
    }
    // Checked before the rename: a merged file that fails never appears.
    verify(tmp.path(), output, &crystal, physics.lattice_parameter)?;
    tmp.commit()?;
    Ok(MergeSummary { output: output.to_path_buf(), samples: parts.iter().map(|p| p.3).sum(), shards: record.shards })
}

/// The crystal the shards were made with: `given` (checked against the shards' record),
/// or the FCC cell of their settings when it is that one.
fn crystal_of(physics: &Physics, given: Option<&CrystalData>, first: &Path) -> Result<CrystalData> {
    let mismatch = |what: String| Error::Merge { path: first.to_path_buf(), reason: what };
    match given {
        Some(c) => {
            if crystal_hash(c)? != physics.crystal_hash {
                return Err(mismatch(format!(
                    "was made with another crystal than {} (its fingerprint differs)",
                    c.path().map_or_else(|| c.source_name().to_string(), |p| p.display().to_string())
                )));
            }
            Ok(c.clone())
        }
        None => {
            let c = fcc_cell(physics.units, physics.primitive)?;
            if crystal_hash(&c)? != physics.crystal_hash {
                return Err(mismatch(
                    "was made with a crystal file other than the FCC cell of its settings: name it (the crystal \
                     file of the gcnet neb runs) so that the merged data set can be checked"
                        .into(),
                ));
            }
            Ok(c)
        }
    }
}

/// Refuses an initial state (the labels of `InitStates`) that two of the files share:
/// shards with other state files, or overlapping ranges of copies, would otherwise put the
/// same state into the data set twice (and into both training and validation).
fn no_shared_states(paths: &[&Path]) -> Result<()> {
    let mut states: Vec<Array2<i8>> = Vec::with_capacity(paths.len());
    for p in paths {
        let file = hdf5::File::open(p).map_err(Error::hdf5(*p, "opening the data set"))?;
        let s = file
            .dataset("InitStates")
            .and_then(|d| d.read_2d::<i8>())
            .map_err(Error::hdf5(*p, "reading dataset `InitStates`"))?;
        states.push(s);
    }
    let mut seen: HashMap<&[i8], (usize, usize)> = HashMap::new();
    for (f, s) in states.iter().enumerate() {
        for (row, labels) in s.rows().into_iter().enumerate() {
            let labels = labels.to_slice().expect("a read array is in standard layout");
            match seen.get(labels) {
                Some(&(g, other)) if g != f => {
                    return Err(Error::Merge {
                        path: paths[f].to_path_buf(),
                        reason: format!(
                            "its initial state {row} is initial state {other} of {} (a state may be in the data \
                             set once)",
                            paths[g].display()
                        ),
                    });
                }
                Some(_) => {}
                None => {
                    seen.insert(labels, (f, row));
                }
            }
        }
    }
    Ok(())
}

fn dataset_names(file: &hdf5::File, path: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = file
        .datasets()
        .map_err(Error::hdf5(path, "listing the datasets"))?
        .iter()
        .map(|d| d.name().trim_start_matches('/').to_string())
        .collect();
    names.sort();
    Ok(names)
}

fn concatenate(files: &[hdf5::File], paths: &[&Path], name: &str, out: &hdf5::File, out_path: &Path) -> Result<()> {
    let desc = files[0]
        .dataset(name)
        .and_then(|d| d.dtype())
        .and_then(|t| t.to_descriptor())
        .map_err(Error::hdf5(paths[0], format!("reading the type of `{name}`")))?;
    match desc {
        TypeDescriptor::Float(FloatSize::U8) => typed::<f64>(files, paths, name, out, out_path),
        TypeDescriptor::Integer(IntSize::U1) => typed::<i8>(files, paths, name, out, out_path),
        TypeDescriptor::Integer(IntSize::U8) => typed::<i64>(files, paths, name, out, out_path),
        other => Err(Error::Merge {
            path: paths[0].to_path_buf(),
            reason: format!("dataset `{name}` has type {other}, which merge does not handle"),
        }),
    }
}

fn typed<T: H5Type + Clone>(
    files: &[hdf5::File],
    paths: &[&Path],
    name: &str,
    out: &hdf5::File,
    out_path: &Path,
) -> Result<()> {
    let arrays: Vec<ArrayD<T>> = files
        .iter()
        .zip(paths)
        .map(|(f, p)| {
            f.dataset(name)
                .and_then(|d| d.read::<T, IxDyn>())
                .map_err(Error::hdf5(*p, format!("reading dataset `{name}`")))
        })
        .collect::<Result<_>>()?;
    for (a, p) in arrays.iter().zip(paths) {
        if a.ndim() == 0 || a.shape()[1..] != arrays[0].shape()[1..] {
            return Err(Error::Merge {
                path: p.to_path_buf(),
                reason: format!(
                    "dataset `{name}` has shape {:?}, the first data set's {:?}",
                    a.shape(),
                    arrays[0].shape()
                ),
            });
        }
    }
    let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
    let joined = ndarray::concatenate(Axis(0), &views).map_err(|e| Error::Merge {
        path: out_path.to_path_buf(),
        reason: format!("cannot join dataset `{name}`: {e}"),
    })?;
    put(out, out_path, name, &joined)
}
