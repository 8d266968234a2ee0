//! The per-step file `data_{step}_{idx}.h5` of the published NEB_steps_multiTraj.py
//! (SPEC section 8), with the published datasets, shapes and dtypes, plus gcnet's run
//! record (attribute `gcnet_neb`) and one extension dataset,
//! `AllJumpEndStateMaxDisps` (N,z) f64: the largest atom displacement (Å) of each jump's
//! relaxed end state, the number the off-lattice threshold is compared with.

use std::path::{Path, PathBuf};

use gcnet_files::{AtomicFile, Overwrite};
use hdf5::H5Type;
use ndarray::{Array, Array1, Array2, Array3, Axis, Dimension, Slice};

use crate::error::{Error, Result};
use crate::provenance::{StepRecord, read_attribute, write_attribute};
use crate::states::LabelType;

/// Name of the step file of KMC step `step` (1-based) of the run starting at state `idx`.
pub fn step_file_name(step: usize, idx: usize) -> String {
    format!("data_{step}_{idx}.h5")
}

/// The published datasets of a step file, in file order.
pub const STEP_DATASETS: [&str; 11] = [
    "FinalStates",
    "SpecDisps",
    "times",
    "AllJumpRates",
    "AllJumpBarriers",
    "AllJumpImageEnergies",
    "AllJumpImageRDs",
    "AllJumpMaxForceComponent",
    "AllJumpMaxIterations",
    "JumpSelects",
    "TestRandNums",
];

/// gcnet's extension dataset of a step file.
pub const END_STATE_DISPS: &str = "AllJumpEndStateMaxDisps";

/// The results of one KMC step of N states.
#[derive(Clone, Debug, PartialEq)]
pub struct StepData {
    /// `FinalStates` (N, Nsites): the states after the step, the vacancy where it went.
    pub final_states: Array2<u8>,
    /// The integer type `FinalStates` is stored with (that of the initial-state file).
    pub label_type: LabelType,
    /// `SpecDisps` (N, Nlabels, 3), Å: the vacancy (label 0) +a0 dx_j, the jumping
    /// atom's label -a0 dx_j.
    pub spec_disps: Array3<f64>,
    /// `times` (N): 1 / escape rate.
    pub times: Array1<f64>,
    /// `AllJumpRates` (N, z).
    pub rates: Array2<f64>,
    /// `AllJumpBarriers` (N, z), eV; inf for off-lattice jumps.
    pub barriers: Array2<f64>,
    /// `AllJumpImageEnergies` (N, NI, z), eV.
    pub image_energies: Array3<f64>,
    /// `AllJumpImageRDs` (N, NI, z).
    pub image_rds: Array3<f64>,
    /// `AllJumpMaxForceComponent` (N, z), eV/Å.
    pub max_force: Array2<f64>,
    /// `AllJumpMaxIterations` (N, z): the NEB step of the report read.
    pub max_iterations: Array2<i64>,
    /// `JumpSelects` (N) int8.
    pub jump_selects: Array1<i8>,
    /// `TestRandNums` (N): the uniform numbers that selected the jumps.
    pub rand_nums: Array1<f64>,
    /// `AllJumpEndStateMaxDisps` (N, z), Å (gcnet extension).
    pub end_state_disps: Array2<f64>,
}

impl StepData {
    pub fn zeros(n: usize, sites: usize, labels: usize, images: usize, z: usize, label_type: LabelType) -> StepData {
        StepData {
            final_states: Array2::zeros((n, sites)),
            label_type,
            spec_disps: Array3::zeros((n, labels, 3)),
            times: Array1::zeros(n),
            rates: Array2::zeros((n, z)),
            barriers: Array2::zeros((n, z)),
            image_energies: Array3::zeros((n, images, z)),
            image_rds: Array3::zeros((n, images, z)),
            max_force: Array2::zeros((n, z)),
            max_iterations: Array2::zeros((n, z)),
            jump_selects: Array1::zeros(n),
            rand_nums: Array1::zeros(n),
            end_state_disps: Array2::zeros((n, z)),
        }
    }

    pub fn len(&self) -> usize {
        self.final_states.nrows()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of images NI.
    pub fn images(&self) -> usize {
        self.image_energies.shape()[1]
    }

    /// Rows `start..end` as a new block.
    pub fn rows(&self, start: usize, end: usize) -> StepData {
        StepData {
            final_states: self.final_states.slice_axis(Axis(0), Slice::from(start..end)).to_owned(),
            label_type: self.label_type,
            spec_disps: self.spec_disps.slice_axis(Axis(0), Slice::from(start..end)).to_owned(),
            times: self.times.slice_axis(Axis(0), Slice::from(start..end)).to_owned(),
            rates: self.rates.slice_axis(Axis(0), Slice::from(start..end)).to_owned(),
            barriers: self.barriers.slice_axis(Axis(0), Slice::from(start..end)).to_owned(),
            image_energies: self.image_energies.slice_axis(Axis(0), Slice::from(start..end)).to_owned(),
            image_rds: self.image_rds.slice_axis(Axis(0), Slice::from(start..end)).to_owned(),
            max_force: self.max_force.slice_axis(Axis(0), Slice::from(start..end)).to_owned(),
            max_iterations: self.max_iterations.slice_axis(Axis(0), Slice::from(start..end)).to_owned(),
            jump_selects: self.jump_selects.slice_axis(Axis(0), Slice::from(start..end)).to_owned(),
            rand_nums: self.rand_nums.slice_axis(Axis(0), Slice::from(start..end)).to_owned(),
            end_state_disps: self.end_state_disps.slice_axis(Axis(0), Slice::from(start..end)).to_owned(),
        }
    }

    /// Copies `block` into rows `start..start + block.len()`.
    pub fn assign_rows(&mut self, start: usize, block: &StepData) {
        let r = start..start + block.len();
        self.final_states.slice_axis_mut(Axis(0), Slice::from(r.clone())).assign(&block.final_states);
        self.spec_disps.slice_axis_mut(Axis(0), Slice::from(r.clone())).assign(&block.spec_disps);
        self.times.slice_axis_mut(Axis(0), Slice::from(r.clone())).assign(&block.times);
        self.rates.slice_axis_mut(Axis(0), Slice::from(r.clone())).assign(&block.rates);
        self.barriers.slice_axis_mut(Axis(0), Slice::from(r.clone())).assign(&block.barriers);
        self.image_energies.slice_axis_mut(Axis(0), Slice::from(r.clone())).assign(&block.image_energies);
        self.image_rds.slice_axis_mut(Axis(0), Slice::from(r.clone())).assign(&block.image_rds);
        self.max_force.slice_axis_mut(Axis(0), Slice::from(r.clone())).assign(&block.max_force);
        self.max_iterations.slice_axis_mut(Axis(0), Slice::from(r.clone())).assign(&block.max_iterations);
        self.jump_selects.slice_axis_mut(Axis(0), Slice::from(r.clone())).assign(&block.jump_selects);
        self.rand_nums.slice_axis_mut(Axis(0), Slice::from(r.clone())).assign(&block.rand_nums);
        self.end_state_disps.slice_axis_mut(Axis(0), Slice::from(r.clone())).assign(&block.end_state_disps);
    }

    /// Writes the file atomically; an existing `path` is refused.
    pub fn write(&self, path: impl AsRef<Path>, record: &StepRecord) -> Result<()> {
        let path = path.as_ref();
        let tmp = AtomicFile::new(path, Overwrite::Refuse)?;
        {
            let file = hdf5::File::create(tmp.path()).map_err(Error::hdf5(path, "creating the step file"))?;
            let w = Writer { file: &file, path };
            match self.label_type {
                LabelType::I8 => w.put("FinalStates", &self.final_states.mapv(|x| x as i8))?,
                LabelType::I16 => w.put("FinalStates", &self.final_states.mapv(i16::from))?,
                LabelType::I32 => w.put("FinalStates", &self.final_states.mapv(i32::from))?,
                LabelType::I64 => w.put("FinalStates", &self.final_states.mapv(i64::from))?,
                LabelType::U8 => w.put("FinalStates", &self.final_states)?,
                LabelType::U16 => w.put("FinalStates", &self.final_states.mapv(u16::from))?,
                LabelType::U32 => w.put("FinalStates", &self.final_states.mapv(u32::from))?,
                LabelType::U64 => w.put("FinalStates", &self.final_states.mapv(u64::from))?,
            }
            w.put("SpecDisps", &self.spec_disps)?;
            w.put("times", &self.times)?;
            w.put("AllJumpRates", &self.rates)?;
            w.put("AllJumpBarriers", &self.barriers)?;
            w.put("AllJumpImageEnergies", &self.image_energies)?;
            w.put("AllJumpImageRDs", &self.image_rds)?;
            w.put("AllJumpMaxForceComponent", &self.max_force)?;
            w.put("AllJumpMaxIterations", &self.max_iterations)?;
            w.put("JumpSelects", &self.jump_selects)?;
            w.put("TestRandNums", &self.rand_nums)?;
            w.put(END_STATE_DISPS, &self.end_state_disps)?;
            write_attribute(&file, path, record)?;
            file.close().map_err(Error::hdf5(path, "closing the step file"))?;
        }
        tmp.commit()?;
        Ok(())
    }

    /// Reads a step file and its run record (`None` for a file without one, such as one
    /// of the published scripts).
    pub fn read(path: impl AsRef<Path>) -> Result<(StepData, Option<StepRecord>)> {
        let path = path.as_ref();
        let file = hdf5::File::open(path).map_err(Error::hdf5(path, "opening the step file"))?;
        let r = Reader { file: &file, path };
        let final_states: Array2<i64> = r.get("FinalStates")?;
        if let Some(bad) = final_states.iter().find(|&&x| !(0..=255).contains(&x)) {
            return r.invalid("FinalStates", format!("label {bad} out of range"));
        }
        let label_type = r.label_type("FinalStates")?;
        let data = StepData {
            final_states: final_states.mapv(|x| x as u8),
            label_type,
            spec_disps: r.get("SpecDisps")?,
            times: r.get("times")?,
            rates: r.get("AllJumpRates")?,
            barriers: r.get("AllJumpBarriers")?,
            image_energies: r.get("AllJumpImageEnergies")?,
            image_rds: r.get("AllJumpImageRDs")?,
            max_force: r.get("AllJumpMaxForceComponent")?,
            max_iterations: r.get("AllJumpMaxIterations")?,
            jump_selects: r.get("JumpSelects")?,
            rand_nums: r.get("TestRandNums")?,
            end_state_disps: if file.link_exists(END_STATE_DISPS) {
                r.get(END_STATE_DISPS)?
            } else {
                Array2::from_elem((final_states.nrows(), 0), f64::NAN)
            },
        };
        let n = data.len();
        let z = data.rates.ncols();
        let ni = data.images();
        let checks: [(&str, Vec<usize>, Vec<usize>); 10] = [
            ("SpecDisps", data.spec_disps.shape()[..1].to_vec(), vec![n]),
            ("times", data.times.shape().to_vec(), vec![n]),
            ("AllJumpBarriers", data.barriers.shape().to_vec(), vec![n, z]),
            ("AllJumpImageEnergies", data.image_energies.shape().to_vec(), vec![n, ni, z]),
            ("AllJumpImageRDs", data.image_rds.shape().to_vec(), vec![n, ni, z]),
            ("AllJumpMaxForceComponent", data.max_force.shape().to_vec(), vec![n, z]),
            ("AllJumpMaxIterations", data.max_iterations.shape().to_vec(), vec![n, z]),
            ("JumpSelects", data.jump_selects.shape().to_vec(), vec![n]),
            ("TestRandNums", data.rand_nums.shape().to_vec(), vec![n]),
            ("AllJumpRates", data.rates.shape()[..1].to_vec(), vec![n]),
        ];
        for (name, found, want) in checks {
            if found != want {
                return r
                    .invalid(name, format!("shape {found:?} disagrees with FinalStates and AllJumpRates ({want:?})"));
            }
        }
        let record = read_attribute(&file, path)?;
        Ok((data, record))
    }
}

struct Writer<'a> {
    file: &'a hdf5::File,
    path: &'a Path,
}

impl Writer<'_> {
    fn put<T: H5Type + Clone, D: Dimension>(&self, name: &str, data: &Array<T, D>) -> Result<()> {
        put(self.file, self.path, name, data)
    }
}

pub(crate) fn put<T: H5Type + Clone, D: Dimension>(
    file: &hdf5::File,
    path: &Path,
    name: &str,
    data: &Array<T, D>,
) -> Result<()> {
    file.new_dataset_builder()
        .with_data(&data.as_standard_layout())
        .create(name)
        .map(|_| ())
        .map_err(Error::hdf5(path, format!("writing dataset `{name}`")))
}

pub(crate) struct Reader<'a> {
    pub file: &'a hdf5::File,
    pub path: &'a Path,
}

impl Reader<'_> {
    pub fn get<T: H5Type, D: Dimension>(&self, name: &str) -> Result<Array<T, D>> {
        if !self.file.link_exists(name) {
            return Err(Error::MissingDataset { path: self.path.to_path_buf(), dataset: name.into() });
        }
        let ds = self.file.dataset(name).map_err(Error::hdf5(self.path, format!("opening dataset `{name}`")))?;
        if let Some(nd) = D::NDIM
            && ds.ndim() != nd
        {
            return self.invalid(name, format!("has {} dimensions, expected {nd}", ds.ndim()));
        }
        ds.read::<T, D>().map_err(Error::hdf5(self.path, format!("reading dataset `{name}`")))
    }

    pub fn invalid<T>(&self, name: &str, reason: String) -> Result<T> {
        Err(Error::Dataset { path: self.path.to_path_buf(), dataset: name.into(), reason })
    }

    fn label_type(&self, name: &str) -> Result<LabelType> {
        use hdf5::types::{IntSize, TypeDescriptor as T};
        let desc = self
            .file
            .dataset(name)
            .and_then(|d| d.dtype())
            .and_then(|t| t.to_descriptor())
            .map_err(Error::hdf5(self.path, format!("reading the type of `{name}`")))?;
        Ok(match desc {
            T::Integer(IntSize::U1) => LabelType::I8,
            T::Integer(IntSize::U2) => LabelType::I16,
            T::Integer(IntSize::U4) => LabelType::I32,
            T::Integer(IntSize::U8) => LabelType::I64,
            T::Unsigned(IntSize::U1) => LabelType::U8,
            T::Unsigned(IntSize::U2) => LabelType::U16,
            T::Unsigned(IntSize::U4) => LabelType::U32,
            T::Unsigned(IntSize::U8) => LabelType::U64,
            other => return self.invalid(name, format!("stored as {other}, expected integers")),
        })
    }
}

/// The step files `data_{k}_{idx}.h5` present in `dir`, as (k, path), sorted by k.
pub fn existing_step_files(dir: &Path, idx: usize) -> Result<Vec<(usize, PathBuf)>> {
    let suffix = format!("_{idx}.h5");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(Error::io(dir, "list"))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(k) = name.strip_prefix("data_").and_then(|r| r.strip_suffix(&suffix)).and_then(|k| k.parse().ok()) {
            out.push((k, e.path()));
        }
    }
    out.sort();
    Ok(out)
}
