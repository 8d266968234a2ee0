//! `gcnet bench-vce`: the options of `gcnet_vce::bench::BenchConfig`, whose run times the
//! expansion and whose report this prints.

use std::path::PathBuf;
use std::process::ExitCode;

use gcnet_vce::bench::BenchConfig;

/// Time the vector cluster expansion on generated SR-2 samples (fast fraction 0.5,
/// expanding the fast species 1, vacancy 2): build, sample checks, W and b from the KMC
/// jump and from all jumps, and L.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Samples generated (the run also times a tenth of them, for the scaling).
    #[arg(long, default_value_t = 100_000)]
    samples: usize,
    /// Cluster orders (-mo), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "2,3")]
    orders: Vec<usize>,
    /// Cluster cutoff (-cc), lattice-parameter units.
    #[arg(long, default_value_t = 0.71)]
    cutoff: f64,
    /// Crystal data file (default: a generated 8x8x8 primitive FCC cell, the same as
    /// CrysDat_FCC/CrystData.h5).
    #[arg(long)]
    crystal: Option<PathBuf>,
    /// Seed of the generated samples.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let config =
        BenchConfig { samples: a.samples, orders: a.orders, cutoff: a.cutoff, crystal: a.crystal, seed: a.seed };
    let report = config.run(&|line| eprintln!("gcnet bench-vce: {line}"))?;
    print!("{report}");
    Ok(ExitCode::SUCCESS)
}
