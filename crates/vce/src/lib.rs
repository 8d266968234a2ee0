//! The vector cluster expansion (VCE) of the relaxation vector: the published linear model
//! (Trinkle's vector cluster expansion; the published tool VCE/LBAM_DataSet.py), with its
//! exact least-squares optimum (SPEC section 10).
//!
//! Layers, each using only the ones above it:
//! 1. types: [`SiteGeometry`] (the crystal's sites as exact integer vectors, the supercell
//!    wrapping, the point group as integer matrices), [`Error`];
//! 2. the function space: [`clusters`] (site clusters up to translation), [`orbits`]
//!    (species clusters, their orbits under the 48 operations, the vector basis of each
//!    orbit: the *vector groups*);
//! 3. the supercell: [`Expansion`] (`lambda(state)` and its change under a vacancy jump from
//!    the clusters that hold the two exchanged sites);
//! 4. the data: [`Samples`] (a data set checked as the published tool checks it), [`fit`]
//!    (`W`, `b`, the solve with the `-rc` threshold, `L` and its standard error, a polars
//!    frame of the per-sample terms), [`file`] (the saved expansion, HDF5);
//! 5. the workflows: [`run()`] (one published VCE run on files: [`VceConfig`] in,
//!    [`VceOutcome`] out, every output written as one result set) and [`bench`] (`gcnet
//!    bench-vce`).
//!
//! Units: displacements in the data's lattice-parameter units, rates per unit time, `L` per
//! vacancy in a0^2 x rate (as `gcnet describe` and GCNet's eval).
//!
//! ```
//! use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
//! use gcnet_data::LatticeGas;
//! use gcnet_vce::{BasisParams, Expansion, Samples, SiteGeometry, SpeciesChoice, fit};
//!
//! let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 6).unwrap());
//! // SR-2: slow species 0, fast species 1, vacancy 2.
//! let data = LatticeGas::sr2(0.5).generate(&crystal, 400, 7).unwrap();
//! let params = BasisParams { max_order: 2, cutoff: 0.71, num_labels: 3, vacancy: 2 };
//! let expansion = Expansion::build(SiteGeometry::from_crystal(&crystal).unwrap(), params, false).unwrap();
//! let counts = expansion.counts();
//! assert_eq!((counts.species_clusters, counts.vector_groups), (51, 3));
//! let samples = Samples::new(&data, "sr2.h5", &expansion, SpeciesChoice { species: 1, vacancy: 2 }).unwrap();
//! let result = fit::fit(&expansion, &samples, 300, false, 1e-8).unwrap();
//! // The optimum of the training L never lies above the uncorrelated value.
//! assert!(result.train.l <= result.train.l0().0 + 1e-12);
//! ```
#![forbid(unsafe_code)]

pub mod bench;
pub mod clusters;
mod error;
mod expansion;
pub mod file;
pub mod fit;
mod geometry;
pub mod linalg;
pub mod onsager;
pub mod orbits;
mod run;
mod samples;
pub mod saved;

pub use error::{Error, Result};
pub use expansion::{Delta, Expansion, ExpansionCounts};
pub use file::{Contents, read_expansion, write_expansion};
pub use fit::{Estimate, NormalEquations, Solution, VceResult};
pub use geometry::{IntRotation, Point, SiteGeometry};
pub use orbits::{BasisParams, ClusterBasis, Orbit, SpeciesCluster};
pub use run::{Dump, JIT_ARRAYS, OutputNames, VCLUS_EXP, VceConfig, VceOutcome, run};
pub use samples::{Samples, SpeciesChoice};
pub use saved::{NormalSettings, check_saved_expansion, read_normal_equations, save_expansion};
