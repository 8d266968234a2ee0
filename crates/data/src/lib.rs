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
//! Units: rates per unit time (attempt frequency 1); displacements in units of the
//! lattice parameter of the data (a0 x the crystal's dx); transport coefficients L per
//! vacancy in a0^2 x rate.
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
mod writer;

pub use check::{CheckKind, CheckOptions, CheckReport, Failure, check, check_file};
pub use dataset::Dataset;
pub use error::{Error, Result};
pub use file::{DataFile, KNOWN_DATASETS, Layout};
pub use kmc::{Duration, Estimate, KmcConfig, KmcResult};
pub use landscape::splitmix64;
pub use latgas::{Composition, LatticeGas, RateModel, Sampler};
pub use writer::DataFileWriter;
