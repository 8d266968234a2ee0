//! Cubic Bravais lattices and the cells used to describe them.

use std::fmt;
use std::str::FromStr;

/// The three cubic Bravais lattices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LatticeKind {
    /// Face-centred cubic: 12 nearest neighbours at a/sqrt(2).
    Fcc,
    /// Body-centred cubic: 8 nearest neighbours at a*sqrt(3)/2.
    Bcc,
    /// Simple cubic: 6 nearest neighbours at a.
    Sc,
}

impl LatticeKind {
    /// Nearest-neighbour coordination number z.
    pub fn coordination(self) -> usize {
        match self {
            LatticeKind::Fcc => 12,
            LatticeKind::Bcc => 8,
            LatticeKind::Sc => 6,
        }
    }

    /// Exact tracer correlation factor of the infinite lattice (one vacancy, monovacancy
    /// mechanism); Compaan and Haven (1956), Montet (1973).
    pub fn tracer_correlation_factor(self) -> f64 {
        match self {
            LatticeKind::Fcc => 0.78145,
            LatticeKind::Bcc => 0.72722,
            LatticeKind::Sc => 0.65311,
        }
    }

    /// Primitive lattice vectors for lattice parameter 1, as columns of the returned
    /// row-major matrix (`m[row][column]`).
    fn primitive_columns(self) -> [[f64; 3]; 3] {
        match self {
            LatticeKind::Fcc => [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]],
            LatticeKind::Bcc => [[-0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.5, 0.5, -0.5]],
            LatticeKind::Sc => [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        }
    }

    /// Basis of the conventional cubic cell in lattice (= Cartesian / a) coordinates,
    /// doubled so that they are integers: FCC has 4 sites, BCC 2, SC 1.
    fn cubic_basis_doubled(self) -> Vec<[i64; 3]> {
        match self {
            LatticeKind::Fcc => vec![[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]],
            LatticeKind::Bcc => vec![[0, 0, 0], [1, 1, 1]],
            LatticeKind::Sc => vec![[0, 0, 0]],
        }
    }
}

impl fmt::Display for LatticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LatticeKind::Fcc => "fcc",
            LatticeKind::Bcc => "bcc",
            LatticeKind::Sc => "sc",
        })
    }
}

impl FromStr for LatticeKind {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, crate::Error> {
        match s.to_ascii_lowercase().as_str() {
            "fcc" => Ok(LatticeKind::Fcc),
            "bcc" => Ok(LatticeKind::Bcc),
            "sc" => Ok(LatticeKind::Sc),
            _ => Err(crate::Error::UnknownName { what: "lattice", name: s.to_string(), expected: "fcc, bcc or sc" }),
        }
    }
}

/// Which cell the supercell is built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CellKind {
    /// The primitive cell: one site per cell.
    Primitive,
    /// The conventional cubic cell with its basis (FCC 4 sites, BCC 2, SC 1).
    Cubic,
}

impl fmt::Display for CellKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CellKind::Primitive => "primitive",
            CellKind::Cubic => "cubic",
        })
    }
}

impl FromStr for CellKind {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, crate::Error> {
        match s.to_ascii_lowercase().as_str() {
            "primitive" => Ok(CellKind::Primitive),
            "cubic" => Ok(CellKind::Cubic),
            _ => Err(crate::Error::UnknownName { what: "cell", name: s.to_string(), expected: "primitive or cubic" }),
        }
    }
}

/// A lattice: its kind, the cell that describes it, the lattice parameter, the cell
/// vectors and the basis of sites in that cell.
///
/// Positions are handled exactly as *doubled lattice coordinates*: integer vectors `d`
/// with the Cartesian position `x = a * M * d / 2`, where the columns of `M` are the cell
/// vectors for lattice parameter 1. Every site and jump of the cubic lattices in either
/// cell is such an integer vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Lattice {
    kind: LatticeKind,
    cell: CellKind,
    parameter: f64,
    columns: [[f64; 3]; 3],
    basis_doubled: Vec<[i64; 3]>,
}

impl Lattice {
    /// The lattice `kind` described by `cell`, with lattice parameter `parameter`
    /// (the cubic lattice constant; the published crystal files use 1).
    pub fn new(kind: LatticeKind, cell: CellKind, parameter: f64) -> Self {
        let (columns, basis_doubled) = match cell {
            CellKind::Primitive => (kind.primitive_columns(), vec![[0, 0, 0]]),
            CellKind::Cubic => (LatticeKind::Sc.primitive_columns(), kind.cubic_basis_doubled()),
        };
        Lattice { kind, cell, parameter, columns, basis_doubled }
    }

    pub fn kind(&self) -> LatticeKind {
        self.kind
    }

    pub fn cell(&self) -> CellKind {
        self.cell
    }

    /// Lattice parameter a (Cartesian lengths are in these units).
    pub fn parameter(&self) -> f64 {
        self.parameter
    }

    /// Cell vectors for lattice parameter 1, as columns: `m[row][column]`.
    pub fn cell_columns(&self) -> [[f64; 3]; 3] {
        self.columns
    }

    /// Number of sites in the cell.
    pub fn num_basis(&self) -> usize {
        self.basis_doubled.len()
    }

    /// Basis positions in doubled lattice coordinates.
    pub fn basis_doubled(&self) -> &[[i64; 3]] {
        &self.basis_doubled
    }

    /// Cartesian position (units of the lattice parameter times `parameter`) of a point
    /// given in doubled lattice coordinates.
    pub fn cartesian(&self, doubled: [i64; 3]) -> [f64; 3] {
        let mut x = [0.0; 3];
        for (r, xr) in x.iter_mut().enumerate() {
            *xr = (0..3).map(|c| self.columns[r][c] * doubled[c] as f64).sum::<f64>() * 0.5 * self.parameter;
        }
        x
    }
}
