//! Files: the getY outputs (the published bare `.npy` arrays, or our `.npz` with the array
//! `y`; either is read) and the report as `.npz`, both through `gcnet-files`.

use std::path::Path;

use gcnet_files::numpy::{self, NpArray};
use gcnet_files::{Expect, Input, Overwrite, Record, check_same_set};
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

/// What the getY outputs must have been made for (checked against their gcnet records).
#[derive(Clone, Debug)]
pub struct YProvenance<'a> {
    /// The data set the correction reads, by content hash.
    pub data: &'a Input,
    /// The species set S (any order) and the vacancy label.
    pub species: &'a [usize],
    pub vacancy: usize,
}

/// The roles getY gives its four -aj outputs in their records.
const ROLES: [&str; 4] = ["y_st1", "y_st2", "y_st1_exits", "y_st2_exits"];

impl RelaxationVectors {
    /// Reads the four getY outputs: y_st1, y_st2, y_st1_exits, y_st2_exits. Files with
    /// gcnet records must be one getY -aj result set, each file in its own role (files
    /// without records, from the published code, are accepted here; [`SrbProblem`]
    /// checks their rows against each other).
    ///
    /// [`SrbProblem`]: super::SrbProblem
    pub fn read(st1: &Path, st2: &Path, st1_exits: &Path, st2_exits: &Path) -> Result<Self> {
        Self::read_checked([st1, st2, st1_exits, st2_exits], None)
    }

    /// [`RelaxationVectors::read`], and the records must also say that the files were
    /// made from `expected.data` for the species set and vacancy given.
    pub fn read_checked(paths: [&Path; 4], expected: Option<&YProvenance<'_>>) -> Result<Self> {
        let mut records = Vec::new();
        for (path, role) in paths.iter().zip(ROLES) {
            let record = Record::of_file(path).map_err(|e| file_error(path, "check the record of", e))?;
            if let Some((record, member)) = &record {
                let mut expect = Expect::new().producer("gcnet getY").role(role);
                if let Some(p) = expected {
                    let mut species: Vec<i64> = p.species.iter().map(|&l| l as i64).collect();
                    species.sort_unstable();
                    species.dedup();
                    expect = expect
                        .input("data", &p.data.hash, format!("the data set {}", p.data.path))
                        .setting("species", species)
                        .setting("vacancy", p.vacancy as i64)
                        .setting("permuted", false);
                }
                expect.check(path, record, member).map_err(|e| file_error(path, "use", e))?;
            }
            records.push(record.map(|(r, _)| r));
        }
        let set: Vec<(&Path, Option<&Record>)> =
            paths.iter().copied().zip(records.iter().map(|r| r.as_ref())).collect();
        check_same_set(&set).map_err(|e| file_error(paths[0], "combine the getY outputs of", e))?;
        Ok(RelaxationVectors {
            st1: read_relaxation_file(paths[0])?,
            st2: read_relaxation_file(paths[1])?,
            st1_exits: read_relaxation_file(paths[2])?,
            st2_exits: read_relaxation_file(paths[3])?,
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
