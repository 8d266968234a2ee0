//! `gcnet mc-bench`: Metropolis trials per second of one chain with its persistent LAMMPS
//! session against a bare `lmp` process per trial, then chains side by side; measured by
//! `gcnet_alloy::McBenchConfig::run`.

use std::path::PathBuf;
use std::process::ExitCode;

use gcnet_alloy::{EnergyModel, McBenchConfig};

pub const SPELLINGS: &[(&str, &str)] =
    &[("-pp", "--potPath"), ("-u", "--Nunits"), ("-T", "--Temp"), ("-ftol", "--ForceTol")];

/// Benchmark Monte Carlo trials: one chain with a persistent LAMMPS session against a
/// fresh `lmp` process per trial (the same trials), then --chains chains side by side.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// [-pp] Potential directory (library.meam, params.meam).
    #[arg(long = "potPath", value_name = "DIR")]
    pot_path: PathBuf,
    /// [-u] Unit cells per side of the cubic FCC cell (one vacancy; equiatomic Co Ni Cr
    /// Fe Mn, the remainder to the first elements).
    #[arg(long = "Nunits", default_value_t = 3)]
    n_units: usize,
    /// [-T] Temperature (K).
    #[arg(long = "Temp", default_value_t = 1173.0)]
    temp: f64,
    /// [-ftol] Force tolerance of the relaxations.
    #[arg(long = "ForceTol", default_value_t = 1e-3)]
    force_tol: f64,
    /// Trials of each measurement.
    #[arg(long, default_value_t = 40)]
    trials: usize,
    /// Chains of the side-by-side run (default: one per core).
    #[arg(long)]
    chains: Option<usize>,
    /// On-lattice energies instead of relaxations.
    #[arg(long = "no-relax")]
    no_relax: bool,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The lmp executable (default: GCNET_LMP, the project's .venv, PATH).
    #[arg(long)]
    lmp: Option<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let energy = if a.no_relax {
        EnergyModel::OnLattice
    } else {
        EnergyModel::Relaxed { force_tol: a.force_tol, energy_tol: 0.0 }
    };
    let config = McBenchConfig {
        units: a.n_units,
        temperature: a.temp,
        energy,
        trials: a.trials,
        chains: a.chains,
        seed: a.seed,
        lmp: a.lmp,
        ..McBenchConfig::new(a.pot_path)
    };
    config.run(&mut |line| println!("{line}"))?;
    Ok(ExitCode::SUCCESS)
}
