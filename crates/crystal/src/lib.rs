//! Crystal symmetry and supercells for single-step kinetic Monte Carlo and GCNet.
//!
//! Layers, each using only the ones above it:
//! 1. types: [`Lattice`] (cubic Bravais lattices and their cells), [`Rotation`] (integer
//!    matrices in lattice coordinates), [`Permutation`], [`Supercell`] (site order);
//! 2. algorithms: [`PointGroup`] (the 48 cubic operations), neighbour shells and the
//!    ordered jump vectors ([`nearest_jumps`]), [`Crystal`] (the jump network, the
//!    neighbour table, jump and group permutations);
//! 3. file format: [`CrystalData`] read and written as the crystal data file of SPEC
//!    section 2; [`CrystalSpec`] builds and writes one by name (`gcnet crystal`);
//! 4. the shared jump network: [`JumpNetwork`], built once from a validated
//!    [`CrystalData`] in the flat tables the data generators, the KMC, the network, the
//!    cluster expansion and the alloy tools all use.
//!
//! Positions are exact integer vectors in doubled lattice coordinates; Cartesian forms are
//! derived from them.
//!
//! ```
//! use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
//!
//! let crystal = Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 8).unwrap();
//! assert_eq!((crystal.num_sites(), crystal.z(), crystal.group().len()), (512, 12, 48));
//! let data = CrystalData::from_crystal(&crystal);
//! let neighbours: Vec<usize> = (0..12).map(|k| data.neighbour(0, k)).collect();
//! assert_eq!(neighbours, [15, 57, 449, 71, 448, 64, 7, 1, 8, 56, 456, 120]);
//! ```

#![forbid(unsafe_code)]

mod crystal;
mod crystal_data;
mod error;
mod file;
mod jump_network;
mod lattice;
mod neighbours;
mod permutation;
mod point_group;
mod rotation;
mod spec;
mod supercell;

pub use crystal::Crystal;
pub use crystal_data::CrystalData;
pub use error::{Error, Result};
pub use jump_network::JumpNetwork;
pub use lattice::{CellKind, Lattice, LatticeKind};
pub use neighbours::{nearest_jumps, neighbour_shells};
pub use permutation::Permutation;
pub use point_group::PointGroup;
pub use rotation::Rotation;
pub use spec::{CrystalSpec, SupercellShape};
pub use supercell::Supercell;
