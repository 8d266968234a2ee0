//! The single-step training file, assembled from the first two step files in the layout
//! of the published Cantor test data (SPEC section 8), and the merge of such files from
//! several shards (-idx/-bs ranges run as separate jobs).
//!
//! Datasets: InitStates, FinStates (int8; s2 translated so that the vacancy is on site 0
//! again), SpecDisps (Å), rates, AllJumpRates_Init, AllJumpRates_Fin (the rates out of the
//! final state, from step 2), AllJumpBarriers_Init/_Fin, NEB_ImageEnergies_Init/_Fin
//! (N,NI,z), JumpSelects (int8), RandNums, times, and the second step as
//! JumpSelects_step2, RandNums_step2, SpecDisps_step2, rates_step2, times_step2.

use std::path::{Path, PathBuf};

use gcnet_crystal::CrystalData;
use gcnet_data::{CheckOptions, DataFile, check_file};
use gcnet_files::{AtomicFile, Overwrite};
use hdf5::H5Type;
use hdf5::types::{FloatSize, IntSize, TypeDescriptor};
use ndarray::{Array1, Array2, ArrayD, Axis, IxDyn};

use crate::error::{Error, Result};
use crate::provenance::{DatasetRecord, Shard, StepRecord, read_attribute, write_attribute};
use crate::stepfile::{StepData, put};

/// Builds the training file from steps 1 and 2 of a run whose initial states are
/// `initial`, checks it with `gcnet check`'s rules (lattice parameter `a0`, vacancy label
/// 0) before it appears at `path`, and writes it.
pub fn assemble(
    step1: (&StepData, &StepRecord),
    step2: (&StepData, &StepRecord),
    initial: &Array2<u8>,
    crystal: &CrystalData,
    path: impl AsRef<Path>,
    overwrite: Overwrite,
) -> Result<()> {
    let path = path.as_ref();
    let (s1, r1) = step1;
    let (s2, r2) = step2;
    let bad = |reason: String| Error::Config(format!("cannot assemble {}: {reason}", path.display()));
    if r1.physics != r2.physics || r1.states != r2.states || r1.seed != r2.seed {
        return Err(bad("steps 1 and 2 come from different runs".into()));
    }
    let (n, sites) = initial.dim();
    if s1.len() != n || s2.len() != n || s1.final_states.ncols() != sites || crystal.num_sites() != sites {
        return Err(bad(format!(
            "the step files hold {} and {} states, the initial states {n} of {sites} sites, the crystal {} sites",
            s1.len(),
            s2.len(),
            crystal.num_sites()
        )));
    }
    // FinStates: s1 permuted by the jump taken (vacancy back on site 0), which must be
    // step 1's final state translated by -dx_j; step 2 must continue from that state.
    let mut fin = Array2::<u8>::zeros((n, sites));
    for r in 0..n {
        let j = s1.jump_selects[r] as usize;
        let perm = crystal.jump_permutation(j);
        let row: Vec<u8> = initial.row(r).to_vec();
        let translated = perm.apply(&row);
        for (s, &label) in translated.iter().enumerate() {
            if label != s1.final_states[[r, crystal.neighbour(s, j)]] {
                return Err(bad(format!(
                    "state {r}: step 1's final state is not the initial state after jump {j} (site {s})"
                )));
            }
        }
        fin.row_mut(r).assign(&ndarray::ArrayView1::from(&translated));
        let v = crystal.neighbour(0, j);
        let k = s2.jump_selects[r] as usize;
        let t = crystal.neighbour(v, k);
        let mut after: Vec<u8> = s1.final_states.row(r).to_vec();
        after[v] = after[t];
        after[t] = 0;
        if s2.final_states.row(r).as_slice() != Some(after.as_slice()) {
            return Err(bad(format!("state {r}: step 2 does not continue from step 1's final state")));
        }
    }
    let sum_rows = |a: &Array2<f64>| -> Array1<f64> { a.sum_axis(Axis(1)) };
    let record =
        DatasetRecord { physics: r1.physics.clone(), shards: vec![Shard { seed: r1.seed, states: r1.states.clone() }] };
    let tmp = AtomicFile::new(path, overwrite)?;
    {
        let file = hdf5::File::create(tmp.path()).map_err(Error::hdf5(path, "creating the data set"))?;
        let i8s = |a: &Array2<u8>| a.mapv(|x| x as i8);
        put(&file, path, "InitStates", &i8s(initial))?;
        put(&file, path, "FinStates", &i8s(&fin))?;
        put(&file, path, "SpecDisps", &s1.spec_disps)?;
        put(&file, path, "rates", &sum_rows(&s1.rates))?;
        put(&file, path, "AllJumpRates_Init", &s1.rates)?;
        put(&file, path, "AllJumpRates_Fin", &s2.rates)?;
        put(&file, path, "AllJumpBarriers_Init", &s1.barriers)?;
        put(&file, path, "AllJumpBarriers_Fin", &s2.barriers)?;
        put(&file, path, "NEB_ImageEnergies_Init", &s1.image_energies)?;
        put(&file, path, "NEB_ImageEnergies_Fin", &s2.image_energies)?;
        put(&file, path, "JumpSelects", &s1.jump_selects)?;
        put(&file, path, "RandNums", &s1.rand_nums)?;
        put(&file, path, "times", &s1.times)?;
        put(&file, path, "JumpSelects_step2", &s2.jump_selects)?;
        put(&file, path, "RandNums_step2", &s2.rand_nums)?;
        put(&file, path, "SpecDisps_step2", &s2.spec_disps)?;
        put(&file, path, "rates_step2", &sum_rows(&s2.rates))?;
        put(&file, path, "times_step2", &s2.times)?;
        write_attribute(&file, path, &record)?;
        file.close().map_err(Error::hdf5(path, "closing the data set"))?;
    }
    verify(tmp.path(), path, crystal, r1.physics.lattice_parameter)?;
    tmp.commit()?;
    Ok(())
}

/// Runs the data-set checks of `gcnet check` on the finished temporary file; the target
/// never appears if they fail.
fn verify(tmp: &Path, target: &Path, crystal: &CrystalData, a0: f64) -> Result<()> {
    let options = CheckOptions { vacancy_label: Some(0), lattice_parameter: Some(a0), ..CheckOptions::default() };
    let report = DataFile::open(tmp)
        .and_then(|f| check_file(&f, crystal, &options))
        .map_err(|e| Error::Config(format!("cannot check the new data set {}: {e}", target.display())))?;
    if !report.is_ok() {
        return Err(Error::Config(format!(
            "the new data set {} fails its checks, so it was not written:\n{report}",
            target.display()
        )));
    }
    Ok(())
}

/// What a merge wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeSummary {
    pub samples: usize,
    pub shards: Vec<Shard>,
}

/// Concatenates data sets of shards of one study (same crystal, potential, temperature and
/// NEB settings; states that do not overlap) into `output`, ordered by initial-state file
/// and first state.
pub fn merge(inputs: &[PathBuf], output: &Path, overwrite: Overwrite) -> Result<MergeSummary> {
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
    let record = DatasetRecord {
        physics: parts[0].1.physics.clone(),
        shards: parts.iter().flat_map(|(_, r, _, _)| r.shards.clone()).collect(),
    };
    let files: Vec<hdf5::File> = parts
        .iter()
        .map(|(p, ..)| hdf5::File::open(p).map_err(Error::hdf5(p, "opening the data set")))
        .collect::<Result<_>>()?;
    let paths: Vec<&Path> = parts.iter().map(|(p, ..)| p.as_path()).collect();
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
    tmp.commit()?;
    Ok(MergeSummary { samples: parts.iter().map(|p| p.3).sum(), shards: record.shards })
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
