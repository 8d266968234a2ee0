//! Fixtures shared by the integration tests: small crystals, generated data sets, and
//! in-place corruption of a file through HDF5.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::{Dataset, LatticeGas};
use hdf5::H5Type;

pub fn fcc(n: usize) -> CrystalData {
    CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, n).unwrap())
}

/// A crystal written to `dir/name` and read back (so that it knows its path).
pub fn crystal_file(dir: &Path, name: &str, kind: LatticeKind, n: usize) -> (PathBuf, CrystalData) {
    let path = dir.join(name);
    CrystalData::from_crystal(&Crystal::cube(kind, CellKind::Primitive, n).unwrap()).write(&path).unwrap();
    let data = CrystalData::read(&path).unwrap();
    (path, data)
}

/// An SR-2 data set of `n` samples written to `dir/name`.
pub fn sr2_file(dir: &Path, name: &str, crystal: &CrystalData, n: usize) -> (PathBuf, Dataset) {
    let path = dir.join(name);
    let data = LatticeGas::sr2(0.5).generate(crystal, n, 11).unwrap();
    data.write(&path, false).unwrap();
    (path, data)
}

/// A copy of `src` at `dir/name`.
pub fn copy(src: &Path, dir: &Path, name: &str) -> PathBuf {
    let dst = dir.join(name);
    std::fs::copy(src, &dst).unwrap();
    dst
}

/// Replaces dataset `name` of the file with `data` (any type and shape).
pub fn replace_dataset<T: H5Type, D: ndarray::Dimension>(path: &Path, name: &str, data: &ndarray::Array<T, D>) {
    let file = hdf5::File::open_rw(path).unwrap();
    if file.link_exists(name) {
        file.unlink(name).unwrap();
    }
    file.new_dataset_builder().with_data(data).create(name).unwrap();
}
