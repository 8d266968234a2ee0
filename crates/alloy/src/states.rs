//! The initial states (the published -if file): a NumPy `.npy` array of integer labels,
//! (N, Nsites), label 0 the vacancy, 1.. the elements. Every state must hold exactly one
//! vacancy, on site 0, and only labels the element list knows.

use std::path::{Path, PathBuf};

use ndarray::{Array2, ArrayD, Ix2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fingerprint::{fnv1a, hex};
use crate::provenance::StatesOrigin;

/// The integer type of the state file; the step files' `FinalStates` keep it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LabelType {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
}

/// The selected states of a state file.
#[derive(Clone, Debug)]
pub struct InitialStates {
    path: PathBuf,
    /// (count, Nsites) labels.
    labels: Array2<u8>,
    dtype: LabelType,
    origin: StatesOrigin,
}

impl InitialStates {
    /// Reads states `start..start + count` of `path` (fewer if the file ends first) and
    /// checks them against a crystal of `num_sites` sites and labels `0..num_labels`.
    pub fn load(
        path: impl AsRef<Path>,
        start: usize,
        count: usize,
        num_sites: usize,
        num_labels: usize,
    ) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(Error::io(path, "read the initial states"))?;
        let bad = |reason: String| Error::States { path: path.to_path_buf(), reason };
        let dtype = npy_dtype(&bytes).map_err(&bad)?;
        let all: Array2<i64> = read_as_i64(path, dtype)?;
        let (total, sites) = all.dim();
        if sites != num_sites {
            return Err(bad(format!("has {sites} sites per state, the crystal file {num_sites}")));
        }
        if count == 0 {
            return Err(Error::Config("the number of states to load must be at least 1".into()));
        }
        if start >= total {
            return Err(bad(format!("holds {total} states; the first state asked for is {start}")));
        }
        let end = (start + count).min(total);
        let mut labels = Array2::<u8>::zeros((end - start, sites));
        for (n, row) in all.rows().into_iter().enumerate().take(end).skip(start) {
            for (s, &l) in row.iter().enumerate() {
                if l < 0 || l >= num_labels as i64 {
                    return Err(Error::State {
                        path: path.to_path_buf(),
                        state: n,
                        reason: format!(
                            "label {l} on site {s} lies outside 0..{} (0 is the vacancy, 1..{} the elements)",
                            num_labels - 1,
                            num_labels - 1
                        ),
                    });
                }
                labels[[n - start, s]] = l as u8;
            }
            let vacancies: Vec<usize> = row.iter().enumerate().filter(|(_, l)| **l == 0).map(|(s, _)| s).collect();
            let reason = match vacancies.as_slice() {
                [0] => None,
                [] => Some("holds no vacancy (label 0)".to_string()),
                [v] => Some(format!("its vacancy is on site {v}; initial states need it on site 0")),
                many => Some(format!(
                    "holds {} vacancies (label 0 on sites {}); exactly one is allowed",
                    many.len(),
                    many.iter().take(6).map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
                )),
            };
            if let Some(reason) = reason {
                return Err(Error::State { path: path.to_path_buf(), state: n, reason });
            }
        }
        let origin = StatesOrigin {
            file: path.display().to_string(),
            file_hash: hex(fnv1a(&bytes)),
            start,
            count: end - start,
            states_hash: hex(fnv1a(labels.as_slice().expect("standard layout"))),
        };
        Ok(InitialStates { path: path.to_path_buf(), labels, dtype, origin })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// (count, Nsites) labels of the selected states.
    pub fn labels(&self) -> &Array2<u8> {
        &self.labels
    }

    pub fn len(&self) -> usize {
        self.labels.nrows()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.nrows() == 0
    }

    pub fn dtype(&self) -> LabelType {
        self.dtype
    }

    pub fn origin(&self) -> &StatesOrigin {
        &self.origin
    }
}

/// `n` equiatomic random states of `sites` sites (labels 1..=`elements` dealt out in turn,
/// then shuffled), the vacancy on site 0: test and benchmark states without short-range
/// order.
pub fn random_states(n: usize, sites: usize, elements: usize, seed: u64) -> Vec<Vec<u8>> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut atoms: Vec<u8> = (0..sites.saturating_sub(1)).map(|i| 1 + (i % elements.max(1)) as u8).collect();
            atoms.shuffle(&mut rng);
            std::iter::once(0).chain(atoms).collect()
        })
        .collect()
}

/// The dtype of a `.npy` file from its header, for integer dtypes in little-endian or
/// single-byte form.
fn npy_dtype(bytes: &[u8]) -> std::result::Result<LabelType, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a NumPy .npy file".into());
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => return Err(format!("unknown .npy format version {v}")),
    };
    let header = String::from_utf8_lossy(bytes.get(start..start + len).ok_or("truncated .npy header")?);
    let descr = header
        .split("'descr':")
        .nth(1)
        .and_then(|r| r.split('\'').nth(1))
        .ok_or_else(|| format!("no dtype in the .npy header {header}"))?;
    Ok(match descr {
        "|i1" | "<i1" => LabelType::I8,
        "<i2" => LabelType::I16,
        "<i4" => LabelType::I32,
        "<i8" => LabelType::I64,
        "|u1" | "<u1" => LabelType::U8,
        "<u2" => LabelType::U16,
        "<u4" => LabelType::U32,
        "<u8" => LabelType::U64,
        other => return Err(format!("states must be little-endian integers, the file's dtype is {other}")),
    })
}

fn read_as_i64(path: &Path, dtype: LabelType) -> Result<Array2<i64>> {
    fn typed<T: ndarray_npy::ReadableElement + Copy>(path: &Path, f: impl Fn(T) -> i64) -> Result<Array2<i64>> {
        let a: ArrayD<T> = gcnet_files::numpy::read(path, "")?;
        let ndim = a.ndim();
        let a = a.into_dimensionality::<Ix2>().map_err(|_| Error::States {
            path: path.to_path_buf(),
            reason: format!("must be a 2-dimensional array (states, sites); it has {ndim} dimensions"),
        })?;
        Ok(a.mapv(f))
    }
    match dtype {
        LabelType::I8 => typed::<i8>(path, i64::from),
        LabelType::I16 => typed::<i16>(path, i64::from),
        LabelType::I32 => typed::<i32>(path, i64::from),
        LabelType::I64 => typed::<i64>(path, |x| x),
        LabelType::U8 => typed::<u8>(path, i64::from),
        LabelType::U16 => typed::<u16>(path, i64::from),
        LabelType::U32 => typed::<u32>(path, i64::from),
        LabelType::U64 => typed::<u64>(path, |x| i64::try_from(x).unwrap_or(i64::MAX)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gcnet_files::Overwrite;
    use gcnet_files::numpy::{NpArray, write_npy};

    fn write(dir: &Path, name: &str, a: Array2<i64>) -> PathBuf {
        let p = dir.join(name);
        write_npy(&p, &NpArray::from(a), Overwrite::Refuse).unwrap();
        p
    }

    #[test]
    fn bad_states_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Array2::<i64>::ones((4, 8));
        a.column_mut(0).fill(0);
        let ok = write(dir.path(), "ok.npy", a.clone());
        let s = InitialStates::load(&ok, 1, 2, 8, 6).unwrap();
        assert_eq!((s.len(), s.dtype(), s.origin().start), (2, LabelType::I64, 1));
        // The file ends first: fewer states.
        assert_eq!(InitialStates::load(&ok, 3, 5, 8, 6).unwrap().len(), 1);
        let err = |a: Array2<i64>, name: &str| {
            let p = write(dir.path(), name, a);
            InitialStates::load(&p, 0, 4, 8, 6).unwrap_err().to_string()
        };
        let mut two = a.clone();
        two[[2, 5]] = 0;
        assert!(err(two, "two.npy").contains("state 2: holds 2 vacancies (label 0 on sites 0, 5)"));
        let mut moved = a.clone();
        moved[[3, 0]] = 1;
        moved[[3, 4]] = 0;
        assert!(err(moved, "moved.npy").contains("state 3: its vacancy is on site 4"));
        let mut label = a.clone();
        label[[1, 2]] = 6;
        assert!(err(label, "label.npy").contains("state 1: label 6 on site 2 lies outside 0..5"));
        assert!(InitialStates::load(&ok, 0, 4, 9, 6).unwrap_err().to_string().contains("has 8 sites per state"));
        assert!(InitialStates::load(&ok, 4, 1, 8, 6).unwrap_err().to_string().contains("holds 4 states"));
        let f = dir.path().join("f.npy");
        write_npy(&f, &NpArray::from(Array2::<f64>::zeros((2, 8))), Overwrite::Refuse).unwrap();
        assert!(InitialStates::load(&f, 0, 1, 8, 6).unwrap_err().to_string().contains("integers"));
    }
}
