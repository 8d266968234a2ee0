//! Files: the getY outputs (`.npz` with one f64 array `y`) and the report as `.npz`.

use std::fs::File;
use std::path::Path;

use ndarray::{Array1, Array2, arr0, arr1};
use ndarray_npy::{NpzReader, NpzWriter};

use super::{RelaxationVectors, SrbReport};
use crate::error::{Error, Result};

/// The array `y` of a getY output file, (rows, 3).
pub fn read_relaxation_file(path: &Path) -> Result<Array2<f64>> {
    let fail = |action: &'static str, reason: String| Error::File { path: path.to_path_buf(), action, reason };
    let file = File::open(path).map_err(|e| fail("open it", e.to_string()))?;
    let mut npz = NpzReader::new(file).map_err(|e| fail("read it as .npz", e.to_string()))?;
    let y: Array2<f64> =
        npz.by_name("y").map_err(|e| fail("read the f64 array `y` of shape (rows, 3)", e.to_string()))?;
    if y.ncols() != 3 {
        return Err(Error::Shape {
            what: format!("{}: y", path.display()),
            expected: "(rows, 3)".into(),
            found: y.shape().to_vec(),
        });
    }
    Ok(y)
}

/// Writes one array `y` (rows, 3), as getY does.
pub fn write_relaxation_file(path: &Path, y: &Array2<f64>) -> Result<()> {
    let fail = |e: String| Error::File { path: path.to_path_buf(), action: "write it", reason: e };
    let file = File::create(path).map_err(|e| fail(e.to_string()))?;
    let mut npz = NpzWriter::new(file);
    npz.add_array("y", y).map_err(|e| fail(e.to_string()))?;
    npz.finish().map_err(|e| fail(e.to_string()))?;
    Ok(())
}

impl RelaxationVectors {
    /// Reads the four getY outputs: y_st1, y_st2, y_st1_exits, y_st2_exits.
    pub fn read(st1: &Path, st2: &Path, st1_exits: &Path, st2_exits: &Path) -> Result<Self> {
        Ok(RelaxationVectors {
            st1: read_relaxation_file(st1)?,
            st2: read_relaxation_file(st2)?,
            st1_exits: read_relaxation_file(st1_exits)?,
            st2_exits: read_relaxation_file(st2_exits)?,
        })
    }
}

impl SrbReport {
    /// Writes `basis_labels` (i64), `theta`, `W`, `b`, `condition`, and per sample set
    /// `{train,val}_{L0,Ly,Lsrb}` (0-d arrays; the val entries only with validation samples).
    pub fn write_npz(&self, path: &Path) -> Result<()> {
        let fail = |e: String| Error::File { path: path.to_path_buf(), action: "write it", reason: e };
        let file = File::create(path).map_err(|e| fail(e.to_string()))?;
        let mut npz = NpzWriter::new(file);
        let labels: Array1<i64> = self.basis_labels.iter().map(|&l| l as i64).collect();
        let mut scalars = vec![("condition".to_string(), self.coefficients.condition)];
        let mut sets = vec![("train", self.train)];
        sets.extend(self.validation.map(|v| ("val", v)));
        for (name, set) in sets {
            for (key, value) in [("L0", set.l0), ("Ly", set.l_y), ("Lsrb", set.l_srb)] {
                scalars.push((format!("{name}_{key}"), value));
            }
        }
        let written = npz
            .add_array("basis_labels", &labels)
            .and_then(|_| npz.add_array("theta", &arr1(&self.coefficients.theta)))
            .and_then(|_| npz.add_array("W", &self.expansion.w))
            .and_then(|_| npz.add_array("b", &self.expansion.b))
            .and_then(|_| scalars.iter().try_for_each(|(name, x)| npz.add_array(name.as_str(), &arr0(*x))));
        written.map_err(|e| fail(e.to_string()))?;
        npz.finish().map_err(|e| fail(e.to_string()))?;
        Ok(())
    }
}
