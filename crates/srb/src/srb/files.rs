//! Files: the getY outputs (the published bare `.npy` arrays, or our `.npz` with the array
//! `y`; either is read) and the report as `.npz`, both through `gcnet-files`.

use std::path::Path;

use gcnet_files::Overwrite;
use gcnet_files::numpy::{self, NpArray};
use ndarray::{Array1, Array2, Ix2, arr0, arr1};

use super::{RelaxationVectors, SrbReport};
use crate::error::{Error, Result};

fn file_error(path: &Path, action: &'static str, e: impl std::fmt::Display) -> Error {
    Error::File { path: path.to_path_buf(), action, reason: e.to_string() }
}

/// The relaxation vectors of a getY output file, (rows, 3): a `.npy` array as the published
/// code writes it, or the array `y` of a `.npz` archive (the form is told by the file's
/// contents).
pub fn read_relaxation_file(path: &Path) -> Result<Array2<f64>> {
    let y = numpy::read::<f64>(path, "y")
        .map_err(|e| file_error(path, "read the f64 relaxation vectors (rows, 3)", e))?
        .into_dimensionality::<Ix2>()
        .map_err(|_| file_error(path, "read the f64 relaxation vectors", "the array is not 2-d (rows, 3)"))?;
    if y.ncols() != 3 {
        return Err(Error::Shape {
            what: format!("{}: y", path.display()),
            expected: "(rows, 3)".into(),
            found: y.shape().to_vec(),
        });
    }
    Ok(y)
}

/// Writes one array `y` (rows, 3) as an `.npz` archive, as getY does beside its `.npy`.
pub fn write_relaxation_file(path: &Path, y: &Array2<f64>, overwrite: Overwrite) -> Result<()> {
    numpy::write_npz(path, &[("y", y.clone().into())], overwrite).map_err(|e| file_error(path, "write it", e))
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
    /// `{train,val}_{L0,Ly,Lsrb}` (0-d arrays; the val entries only with validation
    /// samples), atomically; an existing file is replaced only with [`Overwrite::Replace`].
    pub fn write_npz(&self, path: &Path, overwrite: Overwrite) -> Result<()> {
        let labels: Array1<i64> = self.basis_labels.iter().map(|&l| l as i64).collect();
        let mut arrays: Vec<(String, NpArray)> = vec![
            ("basis_labels".into(), labels.into()),
            ("theta".into(), arr1(&self.coefficients.theta).into()),
            ("W".into(), self.expansion.w.clone().into()),
            ("b".into(), self.expansion.b.clone().into()),
            ("condition".into(), arr0(self.coefficients.condition).into()),
        ];
        let mut sets = vec![("train", self.train)];
        sets.extend(self.validation.map(|v| ("val", v)));
        for (name, set) in sets {
            for (key, value) in [("L0", set.l0), ("Ly", set.l_y), ("Lsrb", set.l_srb)] {
                arrays.push((format!("{name}_{key}"), arr0(value).into()));
            }
        }
        let named: Vec<(&str, NpArray)> = arrays.iter().map(|(n, a)| (n.as_str(), a.clone())).collect();
        numpy::write_npz(path, &named, overwrite).map_err(|e| file_error(path, "write it", e))
    }
}
