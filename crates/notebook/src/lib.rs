//! The crates a notebook needs, behind one dependency. In an evcxr notebook (kernel
//! "Rust (gcnet)", see `kernel/`), the first cell is
//!
//! ```text
//! :dep gcnet-notebook = { path = "../crates/notebook" }
//! use gcnet_notebook::prelude::*;
//! ```
//!
//! Notebooks call the library APIs directly; nothing here shells out to the binary.

#![forbid(unsafe_code)]

pub use gcnet_alloy as alloy;
pub use gcnet_crystal as crystal;
pub use gcnet_data as data;
pub use gcnet_files as files;
pub use gcnet_net as net;
pub use gcnet_plot as plot;
pub use gcnet_srb as srb;
pub use gcnet_vce as vce;
pub use ndarray;
pub use polars;
pub use tch;

/// Names used in almost every notebook cell.
pub mod prelude {
    pub use gcnet_crystal::{
        CellKind, Crystal, CrystalData, LatticeKind, Permutation, PointGroup, Rotation, Supercell,
    };
    pub use gcnet_data::Dataset;
    pub use gcnet_plot::{Chart, Mark, Series};
    pub use ndarray::{Array1, Array2, Array3, Axis, s};
    pub use polars::prelude::{Column, DataFrame, NamedFrom};

    pub use crate::repo_path;
}

/// A path inside the repository, whatever directory the notebook runs in (the kernel
/// sets `GCNET_ROOT`; otherwise the notebooks/ directory's parent is assumed).
pub fn repo_path(relative: &str) -> std::path::PathBuf {
    let root =
        std::env::var_os("GCNET_ROOT").map(std::path::PathBuf::from).unwrap_or_else(|| std::path::PathBuf::from(".."));
    root.join(relative)
}
