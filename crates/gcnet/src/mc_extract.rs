//! `gcnet mc-extract`: the states of `gcnet mc` chains after thermalisation, for
//! `gcnet neb -if`; the extraction is `gcnet_alloy::ExtractConfig::run`.

use std::path::PathBuf;
use std::process::ExitCode;

use gcnet_alloy::ExtractConfig;
use gcnet_files::Overwrite;

use crate::spellings::whole;

/// Collect the states of `gcnet mc` chains after thermalisation (what the published
/// Extract_states notebook did): statesAll_{T}.npy (int8 (Nstates, Nsites), the vacancy
/// label 0 on site 0, labels 1..5) and statesEnergies_{T}.npy (eV), exactly what
/// `gcnet neb -if` reads (with the crystal file of `gcnet crystal --lattice fcc --cell
/// cubic --size U`). The last --validation-chains chains go to OUT/validation/ under the
/// same names. Prints the first-shell Warren-Cowley parameters of the training states.
#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// The directory gcnet mc ran in (holding chain_0/, chain_1/, ...).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// First trial whose state is taken (default: the run's -ne).
    #[arg(long, value_parser = whole::<usize>)]
    start: Option<usize>,
    /// Trials between the states taken (a multiple of the run's -ns; default: -ns).
    #[arg(long, value_parser = whole::<usize>)]
    every: Option<usize>,
    /// Chains (the last ones) whose states form the validation set.
    #[arg(long = "validation-chains", default_value_t = 0, value_parser = whole::<usize>)]
    validation_chains: usize,
    /// Output directory.
    #[arg(short = 'o', long, default_value = ".")]
    output: PathBuf,
    /// Replace existing output files.
    #[arg(long)]
    force: bool,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let config = ExtractConfig {
        dir: a.dir,
        start: a.start,
        every: a.every,
        validation_chains: a.validation_chains,
        output: a.output,
        overwrite: Overwrite::force(a.force),
    };
    println!("{}", config.run()?);
    Ok(ExitCode::SUCCESS)
}
