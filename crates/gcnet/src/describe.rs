//! `gcnet describe`: [`gcnet_data::describe`] of a data-set file.

use std::path::PathBuf;

use anyhow::Context;
use gcnet_data::{Dataset, DescribeOptions};

/// Print the per-sample frame (escape rate, jump, exchanged species, displacements,
/// counts) and the summary frame (uncorrelated L0 per label with its standard error), in
/// the data's length unit: a0 or Å, told from the displacements with --crystal.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data set (HDF5).
    data: PathBuf,
    /// Rows of the per-sample frame to print.
    #[arg(long, default_value_t = 10)]
    rows: usize,
    /// The crystal data file: its jump vectors tell whether SpecDisps are in units of the
    /// lattice parameter (a0) or in Å, the unit L0 is printed in.
    #[arg(long)]
    crystal: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let data = Dataset::read(&args.data).with_context(|| format!("reading the data set {}", args.data.display()))?;
    let crystal = args.crystal.as_deref().map(crate::latgas::read_crystal).transpose()?;
    let description = gcnet_data::describe(&data, &DescribeOptions { rows: args.rows, crystal: crystal.as_ref() })
        .with_context(|| format!("describing {}", args.data.display()))?;
    println!("{}: {description}", args.data.display());
    Ok(std::process::ExitCode::SUCCESS)
}
