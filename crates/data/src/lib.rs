//! Single-step kinetic Monte Carlo data sets (SPEC section 3): the HDF5 files, lattice-gas
//! generators, the multi-step KMC reference, validation and polars analysis frames.
//!
//! Layers, each using only the ones above it:
//! 1. types: [`Dataset`] (samples in memory), [`Error`];
//! 2. file format: [`DataFile`] (reading) and [`DataFileWriter`] (writing), HDF5 in
//!    blocks of samples;
//! 3. algorithms on a crystal's jump network ([`gcnet_crystal::JumpNetwork`]):
//!    [`LatticeGas`] single steps, [`kmc::run`] trajectories, [`check()`] validation,
//!    [`describe`](mod@describe) frames, [`bench`] throughput;
//! 4. workflows, one call each on a plain configuration, as the `gcnet` commands run them:
//!    [`GenerateFile`] (`latgas`), [`check_path`] (`check`), [`KmcConfig::run`] (`kmc`),
//!    [`describe()`] (`describe`), [`BenchConfig`] (`bench-data`); their results display as
//!    the commands print them.
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
mod generate;
pub mod kmc;
mod landscape;
mod latgas;
pub mod rng;
mod select;
pub mod species;
mod units;
mod writer;

pub use bench::BenchConfig;
pub use check::{
    CheckKind, CheckOptions, CheckReport, Failure, MAX_DISPLACEMENT, MAX_RATE, check, check_file, check_path,
    require_valid,
};
pub use dataset::{Dataset, label_range};
pub use describe::{DescribeOptions, Description, describe};
pub use error::{Error, Result};
pub use file::{DataFile, KNOWN_DATASETS, Layout};
pub use generate::{GenerateFile, Generated};
pub use kmc::{Duration, Estimate, KmcConfig, KmcResult};
pub use latgas::{Composition, LatticeGas, RateModel, Sampler};
pub use rng::splitmix64;
pub use species::{SpeciesError, SpeciesSet, parse_labels};
pub use units::{LengthUnit, check_lattice_parameter, lattice_parameter};
pub use writer::DataFileWriter;
