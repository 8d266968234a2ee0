//! Data-set subcommands: latgas, check, kmc, describe, bench-data. Arguments are parsed
//! here and turned into the plain config types of `gcnet-data`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser};
use gcnet_crystal::CrystalData;
use gcnet_data::{CheckOptions, Composition, DataFile, LatticeGas, RateModel};
use indicatif::{ProgressBar, ProgressStyle};

#[path = "cmd_data_kmc.rs"]
mod kmc;

pub fn run(sub: &str, args: &[OsString]) -> anyhow::Result<ExitCode> {
    match sub {
        "latgas" => latgas(LatgasArgs::parse_from(args)),
        "check" => check(CheckArgs::parse_from(args)),
        "describe" => describe(DescribeArgs::parse_from(args)),
        "kmc" => kmc::kmc(args),
        "bench-data" => kmc::bench(args),
        _ => bail!("unknown data subcommand `{sub}`"),
    }
}

/// The lattice gas: rates (fixed per species, SR-2, or random) and composition.
#[derive(Debug, Args)]
pub(crate) struct GasArgs {
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
    pub(crate) fn to_gas(&self) -> anyhow::Result<LatticeGas> {
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
        let ns = rates.num_species();
        let composition = match (&self.fractions, &self.counts) {
            (Some(f), None) => Composition::Fractions(f.clone()),
            (None, Some(c)) => Composition::Counts(c.clone()),
            _ => Composition::Fractions(vec![1.0 / ns as f64; ns]),
        };
        Ok(LatticeGas { rates, composition, lattice_parameter: self.a0, continue_chain: false })
    }
}

fn read_crystal(path: &PathBuf) -> anyhow::Result<CrystalData> {
    CrystalData::read(path).with_context(|| format!("reading the crystal file given by --crystal {}", path.display()))
}

pub(crate) fn progress_bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {what} ({{eta}} left)"
        ))
        .expect("valid template"),
    );
    bar
}

/// Generate a single-step KMC data set (SPEC section 3) for a lattice gas: each sample is
/// a random arrangement at the composition (or the previous final state with --continue)
/// and one KMC step out of it.
#[derive(Debug, Parser)]
#[command(name = "gcnet latgas", bin_name = "gcnet latgas")]
struct LatgasArgs {
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

fn latgas(args: LatgasArgs) -> anyhow::Result<ExitCode> {
    if args.output.exists() && !args.force {
        bail!("{} already exists (pass --force to overwrite)", args.output.display());
    }
    let crystal = read_crystal(&args.crystal)?;
    let mut gas = args.gas.to_gas()?;
    gas.continue_chain = args.continue_chain;
    let bar = progress_bar(args.samples as u64, "samples");
    gas.generate_to_file(&crystal, args.samples, args.seed, &args.output, args.force, &mut |n| {
        bar.set_position(n as u64)
    })
    .with_context(|| format!("writing the data set given by --output {}", args.output.display()))?;
    bar.finish_and_clear();
    println!(
        "wrote {}: {} samples, {} sites, {} labels (vacancy {}), z = {}",
        args.output.display(),
        args.samples,
        crystal.num_sites(),
        gas.num_labels(),
        gas.vacancy_label(),
        crystal.z()
    );
    Ok(ExitCode::SUCCESS)
}

/// Validate a data set against a crystal file: species conserved, vacancy on site 0,
/// s2 = s1 after the jump, displacements, escape rate and randNums. Exits non-zero on any
/// failure.
#[derive(Debug, Parser)]
#[command(name = "gcnet check", bin_name = "gcnet check")]
struct CheckArgs {
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

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let crystal = read_crystal(&args.crystal)?;
    let file = DataFile::open(&args.data).with_context(|| format!("opening the data set {}", args.data.display()))?;
    let options = CheckOptions { vacancy_label: args.vacancy_label, lattice_parameter: args.a0, max_listed: args.list };
    let report = gcnet_data::check_file(&file, &crystal, &options)
        .with_context(|| format!("checking {} against {}", args.data.display(), args.crystal.display()))?;
    println!("{}: {report}", args.data.display());
    Ok(if report.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Print the per-sample frame (escape rate, jump, exchanged species, displacements,
/// counts) and the summary frame (uncorrelated L0 per label with its standard error), in
/// the data's length unit: a0 or Å, told from the displacements with --crystal.
#[derive(Debug, Parser)]
#[command(name = "gcnet describe", bin_name = "gcnet describe")]
struct DescribeArgs {
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

fn describe(args: DescribeArgs) -> anyhow::Result<ExitCode> {
    let data = gcnet_data::Dataset::read(&args.data)
        .with_context(|| format!("reading the data set {}", args.data.display()))?;
    let samples = gcnet_data::describe::sample_frame(&data)?;
    let summary = gcnet_data::describe::summary_frame(&data)?;
    println!(
        "{}: {} samples, {} sites, {} labels, z = {}",
        args.data.display(),
        data.len(),
        data.num_sites(),
        data.num_labels(),
        data.z()
    );
    println!("{}", samples.head(Some(args.rows)));
    let unit = match &args.crystal {
        Some(c) => {
            let crystal = read_crystal(c)?;
            let a = gcnet_data::lattice_parameter(&data, &crystal, None)
                .with_context(|| format!("{} with --crystal {}", args.data.display(), c.display()))?;
            gcnet_data::LengthUnit::of(a).transport()
        }
        None => "(SpecDisps length unit)^2 x rate; --crystal names the unit".into(),
    };
    println!("uncorrelated L0 per vacancy (units of {unit}):");
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}
