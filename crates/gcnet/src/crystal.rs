//! `gcnet crystal`: generate a crystal data file (SPEC section 2).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::builder::PossibleValue;
use gcnet_crystal::{CellKind, CrystalSpec, LatticeKind, SupercellShape};

/// Write a crystal data file: a periodic supercell with its cubic point group,
/// neighbour table, jump and group permutations (SPEC section 2).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Bravais lattice.
    #[arg(long, default_value = "fcc", value_parser = ["fcc", "bcc", "sc"])]
    lattice: String,
    /// Cell repeated to build the supercell.
    #[arg(long, default_value = "primitive", value_parser = [
        PossibleValue::new("primitive").help("N x N x N primitive cells (one site each)"),
        PossibleValue::new("cubic").help("N x N x N conventional cubic cells (FCC 4, BCC 2, SC 1 sites each)"),
    ])]
    cell: String,
    /// Cells along each axis (N x N x N supercell).
    #[arg(long, default_value_t = 8, conflicts_with = "matrix")]
    size: usize,
    /// General supercell instead of --size: nine integers, row-major, whose columns are
    /// the supercell vectors in units of the cell vectors, e.g. "-2,2,2,2,-2,2,2,2,-2".
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    matrix: Option<Vec<i64>>,
    /// Output file (HDF5).
    #[arg(short = 'o', long)]
    output: PathBuf,
    /// Overwrite an existing output file.
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let (lattice, cell): (LatticeKind, CellKind) = (args.lattice.parse()?, args.cell.parse()?);
    let shape = match &args.matrix {
        Some(m) if m.len() != 9 => bail!("--matrix needs nine integers (row-major 3x3), got {}", m.len()),
        Some(m) => SupercellShape::Matrix([[m[0], m[1], m[2]], [m[3], m[4], m[5]], [m[6], m[7], m[8]]]),
        None => SupercellShape::Cube(args.size),
    };
    let data = CrystalSpec { lattice, cell, shape }
        .write(&args.output, gcnet_files::Overwrite::force(args.force))
        .with_context(|| format!("writing {}", args.output.display()))?;
    println!("wrote {}: {lattice} {cell} supercell, {}", args.output.display(), data.summary());
    Ok(std::process::ExitCode::SUCCESS)
}
