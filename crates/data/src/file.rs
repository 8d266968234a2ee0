//! The single-step data-set file (HDF5, SPEC section 3), read and written in blocks of
//! samples so that a file of 10^6 samples is never held twice in memory.
//!
//! [`DataFile`] opens a file and checks that the datasets of SPEC section 3 agree with one
//! another; datasets that SPEC section 3 does not name (barriers, second steps, a
//! `Permutation` ...) are ignored on reading. Writing is in `writer.rs`.

use std::path::{Path, PathBuf};

use gcnet_crystal::CrystalData;
use hdf5::types::TypeDescriptor;
use hdf5::{H5Type, Selection};
use ndarray::s;

use crate::dataset::Dataset;
use crate::error::{Error, Result};

/// The datasets of SPEC section 3, in file order.
pub const KNOWN_DATASETS: [&str; 8] = [
    "InitStates",
    "FinStates",
    "SpecDisps",
    "rates",
    "AllJumpRates_Init",
    "AllJumpRates_Fin",
    "JumpSelects",
    "randNums",
];

/// Samples read or copied per block: the largest block stays near 16 MiB for 512 sites.
pub(crate) const BLOCK_SAMPLES: usize = 16_384;

/// What a dataset's stored numbers must be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Float,
}

/// The sizes of a data set: samples, sites per state, species labels, jumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Number of samples N.
    pub len: usize,
    /// Sites per state.
    pub num_sites: usize,
    /// Species labels, vacancy included.
    pub num_labels: usize,
    /// Jumps z.
    pub z: usize,
    /// Whether `randNums` is present.
    pub rand_nums: bool,
}

impl Layout {
    /// The layout of an in-memory data set.
    pub fn of(data: &Dataset) -> Layout {
        Layout {
            len: data.len(),
            num_sites: data.num_sites(),
            num_labels: data.num_labels(),
            z: data.z(),
            rand_nums: data.rand_nums.is_some(),
        }
    }
}

/// An open data-set file whose datasets have been found and whose shapes agree.
pub struct DataFile {
    pub(crate) file: hdf5::File,
    pub(crate) path: PathBuf,
    layout: Layout,
    /// Where the random numbers are: SPEC section 3's `randNums`, or `RandNums`, the name
    /// in the published Cantor-alloy files (and `gcnet neb --dataset`).
    rand_name: &'static str,
}

impl DataFile {
    /// Opens `path` and checks presence, number types and shapes of every SPEC section 3
    /// dataset (`JumpSelects` may be any integer type; `randNums` may be absent, or be
    /// named `RandNums` as in the published Cantor-alloy files).
    pub fn open(path: impl AsRef<Path>) -> Result<DataFile> {
        let path = path.as_ref().to_path_buf();
        if !path.is_file() {
            // A directory given for the file is a different mistake from a missing file.
            let source = if path.is_dir() {
                std::io::Error::new(std::io::ErrorKind::IsADirectory, "it is a directory, not a data-set file")
            } else {
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")
            };
            return Err(Error::Io { path, action: "open the data set", source });
        }
        let file = hdf5::File::open(&path).map_err(hdf5_err(&path, "opening the data set"))?;
        let mut data = DataFile {
            file,
            path,
            layout: Layout { len: 0, num_sites: 0, num_labels: 0, z: 0, rand_nums: false },
            rand_name: "randNums",
        };
        let init = data.shape("InitStates", Kind::Integer, 2)?;
        let (len, num_sites) = (init[0], init[1]);
        let disps = data.shape("SpecDisps", Kind::Float, 3)?;
        let jumps = data.shape("AllJumpRates_Init", Kind::Float, 2)?;
        let (num_labels, z) = (disps[1], jumps[1]);
        // randNums first; the published Cantor files name it RandNums
        let rand_name = ["randNums", "RandNums"].into_iter().find(|n| data.file.link_exists(n));
        let rand_nums = rand_name.is_some();
        data.rand_name = rand_name.unwrap_or("randNums");
        data.layout = Layout { len, num_sites, num_labels, z, rand_nums };
        let from = |what: &str| format!("{what} (from InitStates, SpecDisps and AllJumpRates_Init)");
        let expect = |name: &'static str, kind: Kind, want: &[usize]| -> Result<()> {
            let found = data.shape(name, kind, want.len())?;
            if found != want {
                return Err(Error::Shape {
                    path: data.path.clone(),
                    dataset: name.into(),
                    expected: from(&format!("{want:?}")),
                    found,
                });
            }
            Ok(())
        };
        expect("FinStates", Kind::Integer, &[len, num_sites])?;
        expect("SpecDisps", Kind::Float, &[len, num_labels, 3])?;
        expect("rates", Kind::Float, &[len])?;
        expect("AllJumpRates_Fin", Kind::Float, &[len, z])?;
        expect("JumpSelects", Kind::Integer, &[len])?;
        if let Some(name) = rand_name {
            expect(name, Kind::Float, &[len])?;
        }
        Ok(data)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Number of samples N.
    pub fn len(&self) -> usize {
        self.layout.len
    }

    pub fn is_empty(&self) -> bool {
        self.layout.len == 0
    }

    /// Checks the number of sites and of jumps against a crystal data file; a mismatch
    /// names both files.
    pub fn check_crystal(&self, crystal: &CrystalData) -> Result<()> {
        let mismatch = |reason: String| Error::CrystalMismatch {
            data: self.path.clone(),
            crystal: crystal.path().map_or_else(|| PathBuf::from(crystal.source_name()), Path::to_path_buf),
            reason,
        };
        if self.layout.num_sites != crystal.num_sites() {
            return Err(mismatch(format!(
                "the data set has {} sites per state, the crystal {}",
                self.layout.num_sites,
                crystal.num_sites()
            )));
        }
        if self.layout.z != crystal.z() {
            return Err(mismatch(format!(
                "the data set has {} jump rates per state, the crystal {} jumps (z)",
                self.layout.z,
                crystal.z()
            )));
        }
        Ok(())
    }

    /// Samples `start..end` (clamped to the file) as an in-memory data set.
    pub fn read_range(&self, start: usize, end: usize) -> Result<Dataset> {
        let end = end.min(self.layout.len);
        let start = start.min(end);
        let r = start..end;
        Ok(Dataset {
            init_states: self.read_block("InitStates", s![r.clone(), ..])?,
            fin_states: self.read_block("FinStates", s![r.clone(), ..])?,
            spec_disps: self.read_block("SpecDisps", s![r.clone(), .., ..])?,
            rates: self.read_block("rates", s![r.clone()])?,
            jump_rates_init: self.read_block("AllJumpRates_Init", s![r.clone(), ..])?,
            jump_rates_fin: self.read_block("AllJumpRates_Fin", s![r.clone(), ..])?,
            jump_selects: self.read_block("JumpSelects", s![r.clone()])?,
            rand_nums: if self.layout.rand_nums { Some(self.read_block(self.rand_name, s![r])?) } else { None },
        })
    }

    /// All samples, read block by block into arrays allocated once.
    pub fn read_all(&self) -> Result<Dataset> {
        let l = self.layout;
        let mut data = Dataset::zeros(l.len, l.num_sites, l.num_labels, l.z, l.rand_nums);
        for start in (0..l.len).step_by(BLOCK_SAMPLES) {
            let end = (start + BLOCK_SAMPLES).min(l.len);
            data.assign_rows(start, &self.read_range(start, end)?);
        }
        Ok(data)
    }

    /// Paths (from the root, without the leading `/`) of every dataset not named in SPEC
    /// section 3, groups searched recursively.
    pub fn extra_datasets(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        collect_datasets(&self.file, &self.path, &mut out)?;
        out.retain(|name| !KNOWN_DATASETS.contains(&name.as_str()));
        Ok(out)
    }

    fn read_block<T, S, D>(&self, name: &str, selection: S) -> Result<ndarray::Array<T, D>>
    where
        T: H5Type,
        S: TryInto<Selection>,
        hdf5::Error: From<S::Error>,
        D: ndarray::Dimension,
    {
        let ds = self.file.dataset(name).map_err(hdf5_err(&self.path, format!("opening dataset `{name}`")))?;
        ds.read_slice(selection).map_err(hdf5_err(&self.path, format!("reading dataset `{name}`")))
    }

    /// Shape of a dataset after checking it exists, has `ndim` axes and the right kind of
    /// numbers.
    fn shape(&self, name: &'static str, kind: Kind, ndim: usize) -> Result<Vec<usize>> {
        if !self.file.link_exists(name) {
            return Err(Error::MissingDataset { path: self.path.clone(), dataset: name });
        }
        let ds = self.file.dataset(name).map_err(hdf5_err(&self.path, format!("opening dataset `{name}`")))?;
        let desc = ds
            .dtype()
            .and_then(|t| t.to_descriptor())
            .map_err(hdf5_err(&self.path, format!("reading the type of `{name}`")))?;
        let ok = match kind {
            Kind::Integer => matches!(desc, TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_)),
            Kind::Float => matches!(desc, TypeDescriptor::Float(_)),
        };
        if !ok {
            let want = if kind == Kind::Integer { "an integer type" } else { "a floating-point type" };
            return Err(Error::Invalid {
                path: self.path.clone(),
                dataset: name.into(),
                reason: format!("stored as {desc}, expected {want}"),
            });
        }
        let shape = ds.shape();
        if shape.len() != ndim {
            return Err(Error::Shape {
                path: self.path.clone(),
                dataset: name.into(),
                expected: format!("{ndim} dimensions"),
                found: shape,
            });
        }
        Ok(shape)
    }
}

impl Dataset {
    /// Reads a data-set file (SPEC section 3), block by block.
    pub fn read(path: impl AsRef<Path>) -> Result<Dataset> {
        DataFile::open(path)?.read_all()
    }

    /// Reads a data-set file after checking its number of sites and jumps against a
    /// crystal data file.
    pub fn read_checked(path: impl AsRef<Path>, crystal: &CrystalData) -> Result<Dataset> {
        let file = DataFile::open(path)?;
        file.check_crystal(crystal)?;
        file.read_all()
    }
}

/// Chunks of about 1 MiB along the sample axis; none for empty datasets.
pub(crate) fn chunk_shape(shape: &[usize], elem_bytes: usize) -> Option<Vec<usize>> {
    if shape.contains(&0) {
        return None;
    }
    let row_bytes = shape[1..].iter().product::<usize>() * elem_bytes;
    let rows = ((1 << 20) / row_bytes.max(1)).clamp(1, shape[0]);
    let mut chunk = shape.to_vec();
    chunk[0] = rows;
    Some(chunk)
}

fn collect_datasets(group: &hdf5::Group, path: &Path, out: &mut Vec<String>) -> Result<()> {
    let err = hdf5_err(path, "listing the datasets");
    for ds in group.datasets().map_err(&err)? {
        out.push(ds.name().trim_start_matches('/').to_string());
    }
    for g in group.groups().map_err(&err)? {
        collect_datasets(&g, path, out)?;
    }
    Ok(())
}

pub(crate) fn hdf5_err(path: &Path, action: impl Into<String>) -> impl Fn(hdf5::Error) -> Error + '_ {
    let action = action.into();
    move |source| Error::Hdf5 { path: path.to_path_buf(), action: action.clone(), source }
}
