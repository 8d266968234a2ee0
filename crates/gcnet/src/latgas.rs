//! `gcnet latgas` ([`gcnet_data::GenerateFile`]), and the lattice-gas options it shares with `gcnet kmc`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use gcnet_crystal::CrystalData;
use gcnet_data::{Composition, GenerateFile, LatticeGas, RateModel};

/// The lattice gas: rates (fixed per species, SR-2, or random) and composition.
#[derive(Debug, clap::Args)]
pub struct GasArgs {
    /// Fixed rate per species, comma-separated: a jump's rate is that of the species the
    /// vacancy exchanges with. Species take labels 0, 1, ...; the vacancy the next label.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["sr2", "energy_mean"])]
    rates: Option<Vec<f64>>,
    /// The binary SR-2 gas: slow species 0 (rate 0.001), fast species 1 (rate 1.0),
    /// vacancy label 2.
    #[arg(long, conflicts_with = "energy_mean")]
    sr2: bool,
    /// Random-rate gas: mean of the jump energy E (units of kT) per exchanged species,
    /// comma-separated; rate = exp(-E), E fixed per pair of states (detailed balance).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, requires = "energy_width")]
    energy_mean: Option<Vec<f64>>,
    /// Random-rate gas: standard deviation of E per exchanged species.
    #[arg(long, value_delimiter = ',', requires = "energy_mean")]
    energy_width: Option<Vec<f64>>,
    /// Seed of the random-rate energy landscape (kept apart from the sampling seed).
    #[arg(long, default_value_t = 0)]
    landscape_seed: u64,
    /// Composition as fractions of the atom sites per species (default: equal).
    #[arg(long, value_delimiter = ',', conflicts_with = "counts")]
    fractions: Option<Vec<f64>>,
    /// Composition as atoms per species; they add up to the number of sites - 1.
    #[arg(long, value_delimiter = ',')]
    counts: Option<Vec<usize>>,
    /// Lattice parameter a0 of the data: SpecDisps = a0 * dx.
    #[arg(long, default_value_t = 1.0)]
    a0: f64,
}

impl GasArgs {
    pub fn to_gas(&self) -> anyhow::Result<LatticeGas> {
        let rates = match (&self.rates, self.sr2, &self.energy_mean, &self.energy_width) {
            (Some(r), false, None, _) => RateModel::Fixed { rates: r.clone() },
            (None, true, None, _) => RateModel::Fixed { rates: vec![0.001, 1.0] },
            (None, false, Some(m), Some(w)) => {
                RateModel::Random { mean: m.clone(), width: w.clone(), seed: self.landscape_seed }
            }
            _ => {
                bail!("choose one lattice gas: --sr2, --rates R0,R1,... or --energy-mean M0,... --energy-width W0,...")
            }
        };
        let composition = match (&self.fractions, &self.counts) {
            (Some(f), None) => Composition::Fractions(f.clone()),
            (None, Some(c)) => Composition::Counts(c.clone()),
            _ => Composition::equal(rates.num_species()),
        };
        Ok(LatticeGas { rates, composition, lattice_parameter: self.a0, continue_chain: false })
    }
}

pub fn read_crystal(path: &Path) -> anyhow::Result<CrystalData> {
    CrystalData::read(path).with_context(|| format!("reading the crystal file given by --crystal {}", path.display()))
}

/// Generate a single-step KMC data set (SPEC section 3) for a lattice gas: each sample is
/// a random arrangement at the composition (or the previous final state with --continue)
/// and one KMC step out of it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Crystal data file (from `gcnet crystal`).
    #[arg(long)]
    crystal: PathBuf,
    /// Output data set (HDF5).
    #[arg(short = 'o', long)]
    output: PathBuf,
    /// Number of samples.
    #[arg(short = 'n', long)]
    samples: usize,
    /// Seed of the arrangements and jump choices.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Start each sample from the previous sample's final state (one KMC chain).
    #[arg(long = "continue")]
    continue_chain: bool,
    #[command(flatten)]
    gas: GasArgs,
    /// Overwrite an existing output file.
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let crystal = read_crystal(&args.crystal)?;
    let gas = LatticeGas { continue_chain: args.continue_chain, ..args.gas.to_gas()? };
    let (samples, seed, output) = (args.samples, args.seed, args.output.clone());
    let job = GenerateFile { gas, samples, seed, output, overwrite: gcnet_files::Overwrite::force(args.force) };
    let what = format!("writing the data set given by --output {}", args.output.display());
    println!("{}", job.run(&crystal).context(what)?);
    Ok(std::process::ExitCode::SUCCESS)
}
