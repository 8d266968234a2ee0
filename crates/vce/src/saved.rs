//! Saved results that a later run reads back, with their provenance records
//! (gcnet-files): the expansion (`-svc`, `-svj`) and the normal equations W, b (`Wbar`,
//! `Bbar`, read back by `-nex`). A reused W and b must have been summed over the same
//! data set, species, vacancy, training states, jump set and expansion; anything else is
//! refused with the file and the field that differs.

use std::path::{Path, PathBuf};

use gcnet_files::numpy;
use gcnet_files::{Expect, Input, Overwrite, Record, ResultSet, check_same_set};
use ndarray::{Array2, Ix1, Ix2};

use crate::error::{Error, Result};
use crate::expansion::Expansion;
use crate::file::{Contents, write_expansion_into};
use crate::fit::NormalEquations;

const PRODUCER: &str = "gcnet vce";

/// The settings W and b depend on.
#[derive(Clone, Debug)]
pub struct NormalSettings<'a> {
    /// The data set, by content hash.
    pub data: &'a Input,
    pub species: usize,
    pub vacancy: usize,
    pub n_train: usize,
    pub all_jumps: bool,
    pub expansion: &'a Expansion,
}

impl NormalSettings<'_> {
    /// The record of W and b summed for these settings (the run's other results share
    /// it: write them in one [`ResultSet`] with roles `W` and `b`).
    pub fn record(&self) -> Record {
        let p = self.expansion.params();
        let c = self.expansion.counts();
        Record::new(PRODUCER, env!("CARGO_PKG_VERSION"))
            .input_hashed("data", self.data.clone())
            .setting("species", self.species)
            .setting("vacancy", self.vacancy)
            .setting("n_train", self.n_train)
            .setting("all_jumps", self.all_jumps)
            .setting("max_order", p.max_order)
            .setting("cutoff", p.cutoff)
            .setting("num_labels", p.num_labels)
            .setting("all_interactions", self.expansion.all_interactions())
            .setting("vector_groups", c.vector_groups)
            .setting("orbits", c.orbits)
            .setting("species_clusters", c.species_clusters)
    }

    fn expect(&self, role: &str) -> Expect {
        let record = self.record();
        let mut e = Expect::new().producer(PRODUCER).role(role).input(
            "data",
            &self.data.hash,
            format!("the data set {}", self.data.path),
        );
        for (name, value) in &record.settings {
            e = e.setting(name, value);
        }
        e
    }
}

/// Reads W and b back for `-nex`: they must be one set, made for `settings` (files
/// without records, from the published tool, are accepted on their shapes alone).
pub fn read_normal_equations(wbar: &Path, bbar: &Path, settings: &NormalSettings<'_>) -> Result<NormalEquations> {
    let bad = |path: &Path, reason: String| Error::ExpansionFile { path: path.to_path_buf(), reason };
    let mut records = Vec::new();
    for (path, role) in [(wbar, "W"), (bbar, "b")] {
        let record = Record::of_file(path)?;
        if let Some((r, m)) = &record {
            settings.expect(role).check(path, r, m).map_err(|e| {
                bad(
                    path,
                    format!(
                        "cannot be reused with -nex: {}",
                        e.to_string().trim_start_matches(&format!("{}: ", path.display()))
                    ),
                )
            })?;
        }
        records.push(record.map(|(r, _)| r));
    }
    check_same_set(&[(wbar, records[0].as_ref()), (bbar, records[1].as_ref())])?;
    let k = settings.expansion.num_vector_groups();
    let w = numpy::read::<f64>(wbar, "")?
        .into_dimensionality::<Ix2>()
        .map_err(|_| bad(wbar, "W must be a 2-d array".into()))?;
    let b = numpy::read::<f64>(bbar, "")?
        .into_dimensionality::<Ix1>()
        .map_err(|_| bad(bbar, "b must be a 1-d array".into()))?;
    if w.shape() != [k, k] || b.len() != k {
        return Err(bad(
            wbar,
            format!(
                "W is {:?} and {} has {} entries, but the expansion has {k} vector groups",
                w.shape(),
                bbar.display(),
                b.len()
            ),
        ));
    }
    let w: Array2<f64> = w;
    Ok(NormalEquations { w, b, num_states: settings.n_train, num_jumps: 0 })
}

/// Writes the expansion (`-svc`, `-svj`) with a record, so that a later run that reads it
/// back notices an edited file.
pub fn save_expansion(expansion: &Expansion, path: &Path, contents: Contents, inputs: &[PathBuf]) -> Result<()> {
    let p = expansion.params();
    let record = Record::new(PRODUCER, env!("CARGO_PKG_VERSION"))
        .setting("max_order", p.max_order)
        .setting("cutoff", p.cutoff)
        .setting("num_labels", p.num_labels)
        .setting("vacancy", p.vacancy)
        .setting("index_arrays", contents == Contents::WithIndexArrays);
    let mut set = ResultSet::new(record, Overwrite::Replace, inputs);
    let file = set.file(path, "expansion")?;
    write_expansion_into(expansion, path, file.path(), contents)?;
    set.commit()?;
    Ok(())
}

/// Checks a saved expansion against its record before it is read: a file changed since
/// gcnet wrote it is refused (one without a record, e.g. written before records existed,
/// is read as it is).
pub fn check_saved_expansion(path: &Path) -> Result<()> {
    if let Some((record, member)) = Record::of_file(path)? {
        Expect::new().producer(PRODUCER).role("expansion").check(path, &record, &member)?;
    }
    Ok(())
}
