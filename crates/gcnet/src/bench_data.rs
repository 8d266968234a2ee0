//! `gcnet bench-data`: [`gcnet_data::BenchConfig::run`] and its report.

use std::path::PathBuf;

/// Single-step generation throughput (in memory and with HDF5 writing) and KMC steps per
/// second, on one core.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// FCC primitive supercell size N (N x N x N sites).
    #[arg(long, default_value_t = 8)]
    size: usize,
    /// Samples to generate (SR-2, equal fractions).
    #[arg(long, default_value_t = 500_000)]
    samples: usize,
    /// KMC steps to time.
    #[arg(long, default_value_t = 20_000_000)]
    kmc_steps: u64,
    /// Directory for the scratch file.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let Args { size, samples, kmc_steps, dir } = args;
    println!("{}", gcnet_data::BenchConfig { size, samples, kmc_steps, dir }.run()?);
    Ok(std::process::ExitCode::SUCCESS)
}
