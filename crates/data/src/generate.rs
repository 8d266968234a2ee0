//! A lattice-gas data set written to a file in one call, with a progress bar and the output
//! guard: what `gcnet latgas` does.

use std::fmt;
use std::path::PathBuf;

use gcnet_crystal::CrystalData;
use gcnet_files::Overwrite;

use crate::error::Result;
use crate::latgas::LatticeGas;

/// `samples` single steps of `gas` (seeded by `seed`) written to `output`.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerateFile {
    pub gas: LatticeGas,
    pub samples: usize,
    /// Seed of the arrangements and jump choices (default 0).
    pub seed: u64,
    pub output: PathBuf,
    /// An existing `output` is refused (default) or replaced.
    pub overwrite: Overwrite,
}

impl GenerateFile {
    /// Seed 0, an existing `output` refused.
    pub fn new(gas: LatticeGas, samples: usize, output: impl Into<PathBuf>) -> GenerateFile {
        GenerateFile { gas, samples, seed: 0, output: output.into(), overwrite: Overwrite::Refuse }
    }

    /// Refuses the output (an existing file, or the crystal file itself) before any work,
    /// then streams the samples into it block by block under a progress bar.
    pub fn run(&self, crystal: &CrystalData) -> Result<Generated> {
        let inputs: Vec<PathBuf> = crystal.path().map(PathBuf::from).into_iter().collect();
        gcnet_files::check_output(&self.output, &inputs, self.overwrite)?;
        let bar = gcnet_progress::bar(self.samples as u64, "samples");
        let force = self.overwrite == Overwrite::Replace;
        self.gas.generate_to_file(crystal, self.samples, self.seed, &self.output, force, &mut |n| {
            bar.set_position(n as u64)
        })?;
        bar.finish_and_clear();
        Ok(Generated {
            output: self.output.clone(),
            samples: self.samples,
            num_sites: crystal.num_sites(),
            num_labels: self.gas.num_labels(),
            vacancy_label: self.gas.vacancy_label(),
            z: crystal.z(),
        })
    }
}

/// What [`GenerateFile::run`] wrote; displayed as the one line `gcnet latgas` prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    pub output: PathBuf,
    pub samples: usize,
    pub num_sites: usize,
    pub num_labels: usize,
    pub vacancy_label: usize,
    pub z: usize,
}

impl fmt::Display for Generated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wrote {}: {} samples, {} sites, {} labels (vacancy {}), z = {}",
            self.output.display(),
            self.samples,
            self.num_sites,
            self.num_labels,
            self.vacancy_label,
            self.z
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Dataset;
    use gcnet_crystal::{CellKind, Crystal, LatticeKind};

    #[test]
    fn writes_the_samples_of_generate_and_guards_the_output() {
        let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 3).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let mut job = GenerateFile::new(LatticeGas::sr2(0.5), 40, dir.path().join("d.h5"));
        job.seed = 4;
        let written = job.run(&crystal).unwrap();
        assert_eq!(
            written.to_string(),
            format!("wrote {}: 40 samples, 27 sites, 3 labels (vacancy 2), z = 12", job.output.display())
        );
        assert_eq!(Dataset::read(&job.output).unwrap(), LatticeGas::sr2(0.5).generate(&crystal, 40, 4).unwrap());
        let e = job.run(&crystal).unwrap_err().to_string();
        assert!(e.contains("already exists") && e.contains("--force"), "{e}");
        job.overwrite = Overwrite::Replace;
        job.run(&crystal).unwrap();
    }
}
