//! `gcnet check`: [`gcnet_data::check_path`] and its report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

/// Validate a data set against a crystal file: species conserved, vacancy on site 0,
/// s2 = s1 after the jump, displacements, escape rate and randNums. Exits non-zero on any
/// failure.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data set (HDF5).
    data: PathBuf,
    /// Crystal data file the data set was made on.
    #[arg(long)]
    crystal: PathBuf,
    /// The vacancy's label (default: the label most often on site 0).
    #[arg(long, visible_alias = "vSp")]
    vacancy_label: Option<usize>,
    /// Lattice parameter of the displacements (default: inferred from the data).
    #[arg(long)]
    a0: Option<f64>,
    /// How many failing samples to list.
    #[arg(long, default_value_t = 20)]
    list: usize,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let crystal = crate::latgas::read_crystal(&args.crystal)?;
    let (vacancy_label, lattice_parameter, max_listed) = (args.vacancy_label, args.a0, args.list);
    let options = gcnet_data::CheckOptions { vacancy_label, lattice_parameter, max_listed };
    let report = gcnet_data::check_path(&args.data, &crystal, &options)
        .with_context(|| format!("checking {} against {}", args.data.display(), args.crystal.display()))?;
    println!("{}: {report}", args.data.display());
    Ok(if report.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
