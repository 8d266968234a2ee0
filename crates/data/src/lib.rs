//! Single-step kinetic Monte Carlo data sets (SPEC section 3): the HDF5 files, lattice-gas
//! generators, the multi-step KMC reference, validation and polars analysis frames.
//!
//! Layers, each using only the ones above it:
//! 1. types: [`Dataset`] (samples in memory), [`Error`];
//! 2. file format: [`DataFile`] (reading) and [`DataFileWriter`] (writing), HDF5 in
//!    blocks of samples;
//! 3. algorithms on a crystal ([`gcnet_crystal::CrystalData`]): [`LatticeGas`] single
//!    steps, [`kmc::run`] trajectories, [`check()`] validation, [`describe`] frames,
//!    [`bench`] throughput.
//!
//! Units: rates per unit time (attempt frequency 1); displacements a x the crystal's dx,
//! a the lattice parameter of the data ([`lattice_parameter`]): lattice-parameter units
//! when a = 1, Å otherwise ([`LengthUnit`]); transport coefficients L per vacancy in that
//! length unit squared x rate.
//!
//! ```
//! use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
//! use gcnet_data::{check, CheckOptions, LatticeGas};
//!
//! let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 4).unwrap());
//! // SR-2: slow species 0 (rate 0.001), fast species 1 (rate 1), vacancy label 2.
//! let data = LatticeGas::sr2(0.5).generate(&crystal, 100, 42).unwrap();
//! assert_eq!((data.len(), data.num_sites(), data.num_labels()), (100, 64, 3));
//! assert!(check(&data, &crystal, &CheckOptions::default()).unwrap().is_ok());
//! ```

// `deny`, not `forbid`: ndarray's `s!` macro expands to an `#[allow(unsafe_code)]` of its own.
#![deny(unsafe_code)]

pub mod bench;
mod check;
mod dataset;
pub mod describe;
mod error;
mod file;
mod jumps;
pub mod kmc;
mod landscape;
mod latgas;
pub mod rng;
pub mod species;
mod units;
mod writer;

pub use check::{
    CheckKind, CheckOptions, CheckReport, Failure, MAX_DISPLACEMENT, MAX_RATE, check, check_file, require_valid,
};
pub use dataset::{Dataset, label_range};
pub use error::{Error, Result};
pub use file::{DataFile, KNOWN_DATASETS, Layout};
pub use kmc::{Duration, Estimate, KmcConfig, KmcResult};
pub use latgas::{Composition, LatticeGas, RateModel, Sampler};
pub use rng::splitmix64;
pub use species::{SpeciesError, SpeciesSet, parse_labels};
pub use units::{LengthUnit, check_lattice_parameter, lattice_parameter};
pub use writer::DataFileWriter;
