//! The single-step training file, assembled from the first two step files in the layout
//! of the published Cantor test data (SPEC section 8); merge.rs joins such files from
//! several shards.
//!
//! Datasets: InitStates, FinStates (int8; s2 translated so that the vacancy is on site 0
//! again), SpecDisps (Å), rates, AllJumpRates_Init, AllJumpRates_Fin (the rates out of the
//! final state, from step 2), AllJumpBarriers_Init/_Fin, NEB_ImageEnergies_Init/_Fin
//! (N,NI,z), JumpSelects (int8), RandNums, times, and the second step as
//! JumpSelects_step2, RandNums_step2, SpecDisps_step2, rates_step2, times_step2.

use std::path::Path;

use gcnet_crystal::CrystalData;
use gcnet_data::{CheckOptions, DataFile, check_file};
use gcnet_files::{AtomicFile, Overwrite};
use ndarray::{Array1, Array2, Axis};

use crate::error::{Error, Result};
use crate::provenance::{DatasetRecord, Shard, StepRecord, write_attribute};
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
pub(crate) fn verify(tmp: &Path, target: &Path, crystal: &CrystalData, a0: f64) -> Result<()> {
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
