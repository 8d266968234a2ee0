//! The data set of a run (`-DP`), read once and checked once; every mode takes it from
//! here (the network's tables, the objective, the records).

use std::path::{Path, PathBuf};
use std::time::Instant;

use gcnet_crystal::CrystalData;
use gcnet_data::Dataset;
use gcnet_files::Input;

use super::elapsed;
use crate::error::{Context, Error, Result};

/// A data set read from its file and checked against the crystal of the run.
#[derive(Clone, Debug)]
pub struct CheckedData {
    pub data: Dataset,
    pub path: PathBuf,
    /// The file as read, by content hash (for the records of the results).
    pub input: Input,
    /// Sample order: the identity, or the file's `Permutation` with -prm.
    pub order: Vec<usize>,
    /// Whether the samples are in the file's `Permutation` order.
    pub permuted: bool,
}

/// How a data set is checked: `full` runs the checks of `gcnet check` (every sample one
/// KMC step of the crystal); without them (`--no-check`, the user's explicit choice) only
/// what the network needs not to read out of bounds is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataChecks {
    pub full: bool,
    /// -prm: take the samples in the order of the file's `Permutation` dataset.
    pub permuted: bool,
}

impl CheckedData {
    /// Reads `path` (its site and jump counts checked against `crystal` before the
    /// samples are read) and checks it once, as `checks` says; `vacancy` is -vSp.
    pub fn read(
        path: &Path,
        crystal: &CrystalData,
        crystal_path: &Path,
        vacancy: i8,
        checks: DataChecks,
    ) -> Result<CheckedData> {
        let (dp, cr) = (path.display(), crystal_path.display());
        let data = Dataset::read_checked(path, crystal)
            .with_context(|| format!("reading the data set given by -DP {dp} (crystal -cr {cr})"))?;
        let against = || format!("data set -DP {dp} against crystal -cr {cr}");
        check_vacancy_label(&data, vacancy).with_context(against)?;
        if checks.full {
            let options = gcnet_data::CheckOptions { vacancy_label: Some(vacancy as usize), ..Default::default() };
            let t = Instant::now();
            gcnet_data::require_valid(&data, crystal, &options, path, crystal_path)
                .with_context(|| format!("checking -DP {dp} against -cr {cr}"))?;
            eprintln!("gcnet: {} samples of {dp} checked in {}", data.len(), elapsed(t));
        } else {
            check_structure(&data, crystal, vacancy).with_context(against)?;
        }
        let order = match checks.permuted.then(|| read_sample_permutation(path, data.len())).transpose()? {
            Some(Some(order)) => order,
            Some(None) => {
                eprintln!("gcnet: -prm: {dp} has no `Permutation` dataset; samples stay in file order");
                (0..data.len()).collect()
            }
            None => (0..data.len()).collect(),
        };
        let input = Input::of(path).with_context(|| format!("-DP {dp}"))?;
        Ok(CheckedData { data, path: path.to_path_buf(), input, order, permuted: checks.permuted })
    }
}

fn mismatch(reason: String) -> Error {
    Error::DataMismatch(reason)
}

/// The vacancy label must be one of the data's labels.
fn check_vacancy_label(data: &Dataset, vacancy: i8) -> Result<()> {
    let nl = data.num_labels();
    if vacancy < 0 || vacancy as usize >= nl {
        return Err(mismatch(format!(
            "vacancy label {vacancy} is not one of the data's labels {} (SpecDisps has {nl})",
            gcnet_data::label_range(nl)
        )));
    }
    Ok(())
}

/// What the network needs of an unchecked data set: labels in range, the vacancy on site
/// 0 and jump indices in range (the full checks cover all of it).
fn check_structure(data: &Dataset, crystal: &CrystalData, vacancy: i8) -> Result<()> {
    let (nl, z) = (data.num_labels(), crystal.z());
    for (name, states) in [("InitStates", &data.init_states), ("FinStates", &data.fin_states)] {
        if let Some(bad) = states.iter().find(|&&l| l < 0 || l as usize >= nl) {
            return Err(mismatch(format!(
                "{name} holds label {bad}, not one of the labels {}",
                gcnet_data::label_range(nl)
            )));
        }
        if let Some(n) = states.outer_iter().position(|r| r[0] != vacancy) {
            return Err(mismatch(format!("{name}[{n}] does not have the vacancy (label {vacancy}) on site 0")));
        }
    }
    if let Some(bad) = data.jump_selects.iter().find(|&&j| j < 0 || j as usize >= z) {
        return Err(mismatch(format!(
            "JumpSelects holds jump {bad}, not one of the jumps 0..{} (z = {z})",
            z.saturating_sub(1)
        )));
    }
    Ok(())
}

/// The integer dataset `Permutation` of a data-set file, if it has one (`-prm`): the order
/// in which the samples are taken. It must be a permutation of `0..len`.
fn read_sample_permutation(path: &Path, len: usize) -> Result<Option<Vec<usize>>> {
    let bad = |reason: String| mismatch(format!("{}: dataset `Permutation`: {reason}", path.display()));
    let file = hdf5::File::open(path).map_err(|e| bad(format!("cannot open the file ({e})")))?;
    if !file.link_exists("Permutation") {
        return Ok(None);
    }
    let raw: Vec<i64> = file
        .dataset("Permutation")
        .and_then(|d| d.read_raw::<i64>())
        .map_err(|e| bad(format!("cannot read it ({e})")))?;
    if raw.len() != len {
        return Err(bad(format!("it has {} entries, the data set {len} samples", raw.len())));
    }
    let mut seen = vec![false; len];
    for &p in &raw {
        if p < 0 || p as usize >= len || std::mem::replace(&mut seen[p as usize], true) {
            return Err(bad(format!("entry {p} is out of range or repeated: not a permutation of 0..{len}")));
        }
    }
    Ok(Some(raw.into_iter().map(|p| p as usize).collect()))
}
