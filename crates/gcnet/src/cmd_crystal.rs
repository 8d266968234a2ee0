//! `gcnet crystal`: generate a crystal data file (SPEC section 2).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use gcnet_crystal::{CellKind, Crystal, CrystalData, Lattice, LatticeKind, Supercell};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LatticeArg {
    Fcc,
    Bcc,
    Sc,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CellArg {
    /// N x N x N primitive cells (one site each)
    Primitive,
    /// N x N x N conventional cubic cells (FCC 4, BCC 2, SC 1 sites each)
    Cubic,
}

/// Write a crystal data file: a periodic supercell with its cubic point group,
/// neighbour table, jump and group permutations (SPEC section 2).
#[derive(Debug, Parser)]
#[command(name = "gcnet crystal")]
struct Args {
    /// Bravais lattice.
    #[arg(long, value_enum, default_value = "fcc")]
    lattice: LatticeArg,
    /// Cell repeated to build the supercell.
    #[arg(long, value_enum, default_value = "primitive")]
    cell: CellArg,
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

pub fn run(args: &[OsString]) -> anyhow::Result<ExitCode> {
    let args = Args::parse_from(args);
    let kind = match args.lattice {
        LatticeArg::Fcc => LatticeKind::Fcc,
        LatticeArg::Bcc => LatticeKind::Bcc,
        LatticeArg::Sc => LatticeKind::Sc,
    };
    let cell = match args.cell {
        CellArg::Primitive => CellKind::Primitive,
        CellArg::Cubic => CellKind::Cubic,
    };
    let lattice = Lattice::new(kind, cell, 1.0);
    let supercell = match &args.matrix {
        Some(m) if m.len() != 9 => bail!("--matrix needs nine integers (row-major 3x3), got {}", m.len()),
        Some(m) => Supercell::new(lattice, [[m[0], m[1], m[2]], [m[3], m[4], m[5]], [m[6], m[7], m[8]]])?,
        None => Supercell::cube(lattice, args.size)?,
    };
    if args.output.exists() && !args.force {
        bail!("{} already exists (pass --force to overwrite)", args.output.display());
    }
    let crystal = Crystal::from_supercell(supercell)?;
    let data = CrystalData::from_crystal(&crystal);
    data.write(&args.output).with_context(|| format!("writing {}", args.output.display()))?;
    let neighbours: Vec<String> = (0..data.z()).map(|k| data.neighbour(0, k).to_string()).collect();
    println!(
        "wrote {}: {kind} {cell} supercell, {} sites, z = {}, {} group operations; neighbours of site 0: {}",
        args.output.display(),
        data.num_sites(),
        data.z(),
        data.num_group_ops(),
        neighbours.join(" ")
    );
    Ok(ExitCode::SUCCESS)
}
