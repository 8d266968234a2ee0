//! `gcnet kmc`: the multi-step KMC reference ([`gcnet_data::KmcConfig::run`]).

use std::path::PathBuf;

use anyhow::Context;
use gcnet_data::{Duration, KmcConfig};

use crate::latgas::{GasArgs, read_crystal};

/// Multi-step KMC trajectories of the lattice gas: transport coefficients per vacancy
/// L_ab = <X_a . X_b> / (6t) for every pair of labels, tracer coefficients and the tracer
/// correlation factor, with standard errors from independent trajectories.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Crystal data file.
    #[arg(long)]
    crystal: PathBuf,
    #[command(flatten)]
    gas: GasArgs,
    /// Independent trajectories (at least 2).
    #[arg(long, default_value_t = 64)]
    trajectories: usize,
    /// Duration of each trajectory (units of 1/rate).
    #[arg(long, conflicts_with = "steps", required_unless_present = "steps")]
    time: Option<f64>,
    /// Vacancy jumps per trajectory instead of --time.
    #[arg(long)]
    steps: Option<u64>,
    /// Seed (trajectory k uses a seed derived from this and k).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Also write the results as JSON.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let overwrite = gcnet_files::Overwrite::force(args.force);
    if let Some(out) = &args.output {
        gcnet_files::check_output(out, std::slice::from_ref(&args.crystal), overwrite)?;
    }
    let crystal = read_crystal(&args.crystal)?;
    let duration = args.time.map(Duration::Time).or(args.steps.map(Duration::Steps));
    let duration = duration.context("give one of --time or --steps")?;
    let (trajectories, seed, threads) = (args.trajectories, args.seed, args.threads);
    let result = KmcConfig { gas: args.gas.to_gas()?, trajectories, duration, seed, threads }.run(&crystal)?;
    print!("{result}");
    if let Some(out) = &args.output {
        let what = format!("writing the results given by --output {}", out.display());
        result.write_json(out, overwrite).context(what)?;
        println!("wrote {}", out.display());
    }
    Ok(std::process::ExitCode::SUCCESS)
}
