//! The crystal a user asks for by name (lattice, cell, supercell shape), built and written
//! as a crystal data file in one call: what `gcnet crystal` does.

use std::path::Path;

use gcnet_files::Overwrite;

use crate::crystal::Crystal;
use crate::crystal_data::CrystalData;
use crate::error::Result;
use crate::lattice::{CellKind, Lattice, LatticeKind};
use crate::supercell::Supercell;

/// How the cell is repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SupercellShape {
    /// N x N x N cells.
    Cube(usize),
    /// A general supercell: columns are the supercell vectors in units of the cell vectors.
    Matrix([[i64; 3]; 3]),
}

/// A periodic supercell of a cubic lattice, lattice parameter 1. The default is the
/// published 8x8x8 primitive FCC cell (`CrysDat_FCC/CrystData.h5`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrystalSpec {
    pub lattice: LatticeKind,
    pub cell: CellKind,
    pub shape: SupercellShape,
}

impl Default for CrystalSpec {
    fn default() -> Self {
        CrystalSpec { lattice: LatticeKind::Fcc, cell: CellKind::Primitive, shape: SupercellShape::Cube(8) }
    }
}

impl CrystalSpec {
    /// The supercell (checked: a non-singular matrix, at least one cell).
    pub fn supercell(&self) -> Result<Supercell> {
        let lattice = Lattice::new(self.lattice, self.cell, 1.0);
        match self.shape {
            SupercellShape::Cube(n) => Supercell::cube(lattice, n),
            SupercellShape::Matrix(m) => Supercell::new(lattice, m),
        }
    }

    /// The crystal data: the supercell with its point group and jump network.
    pub fn build(&self) -> Result<CrystalData> {
        Ok(CrystalData::from_crystal(&Crystal::from_supercell(self.supercell()?)?))
    }

    /// Builds the crystal data and writes it to `path` (atomically), refusing an existing
    /// file unless `overwrite` is [`Overwrite::Replace`]; the refusal comes before any work.
    pub fn write(&self, path: impl AsRef<Path>, overwrite: Overwrite) -> Result<CrystalData> {
        let path = path.as_ref();
        let supercell = self.supercell()?;
        gcnet_files::check_output(path, &[], overwrite)?;
        let data = CrystalData::from_crystal(&Crystal::from_supercell(supercell)?);
        data.write(path)?;
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_published_cell_and_files_are_guarded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.h5");
        let data = CrystalSpec::default().write(&path, Overwrite::Refuse).unwrap();
        assert_eq!((data.num_sites(), data.z(), data.num_group_ops()), (512, 12, 48));
        let bcc = CrystalSpec { lattice: LatticeKind::Bcc, shape: SupercellShape::Cube(3), ..Default::default() };
        let e = bcc.write(&path, Overwrite::Refuse).unwrap_err().to_string();
        assert!(e.contains("already exists"), "{e}");
        assert_eq!(bcc.write(&path, Overwrite::Replace).unwrap().num_sites(), 27);
        let flat = CrystalSpec { shape: SupercellShape::Matrix([[1, 0, 0], [0, 1, 0], [0, 0, 0]]), ..bcc };
        assert!(flat.build().is_err());
    }
}
