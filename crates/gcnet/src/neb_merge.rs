//! `gcnet neb-merge`: one data set from several shards of `gcnet neb`; the merge is
//! `gcnet_alloy::MergeConfig::run`.

use std::path::PathBuf;
use std::process::ExitCode;

use gcnet_alloy::MergeConfig;
use gcnet_files::Overwrite;

pub const SPELLINGS: &[(&str, &str)] = &[("-cr", "--crystal")];

/// Concatenate the data sets of several shards of one study (the -idx/-bs ranges of a job
/// array) into one file. Shards must agree on the crystal, lattice parameter, elements,
/// potential, temperature and NEB settings, and no initial state may be in two of them.
/// The merged file is checked as `gcnet check` does before it appears.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data sets from `gcnet neb --dataset`.
    #[arg(required = true, num_args = 2..)]
    inputs: Vec<PathBuf>,
    /// The merged data set.
    #[arg(short = 'o', long)]
    output: PathBuf,
    /// [-cr] The crystal file of the gcnet neb runs, for the check of the merged file
    /// (default: the FCC cell of the shards' -u and -pr, when that is the one they used).
    #[arg(long = "crystal", visible_alias = "CrysDatPath", value_name = "PATH")]
    crystal: Option<PathBuf>,
    /// Replace an existing output file (never one of the inputs).
    #[arg(long)]
    force: bool,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let config =
        MergeConfig { inputs: a.inputs, output: a.output, crystal: a.crystal, overwrite: Overwrite::force(a.force) };
    println!("{}", config.run()?);
    Ok(ExitCode::SUCCESS)
}
