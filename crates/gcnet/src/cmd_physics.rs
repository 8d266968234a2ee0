//! Physics subcommands: `gcnet tracer` (exact finite-cell tracer correlation factors),
//! `gcnet srb` (scaled residual bias correction from getY outputs).
//! Arguments are parsed here and turned into the plain config types of `gcnet-srb`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::Dataset;
use gcnet_srb::srb::files::YProvenance;
use gcnet_srb::srb::{DEFAULT_MAX_CONDITION, parse_species};
use gcnet_srb::tracer::{TracerNetwork, exact_tracer_correlation, tracer_kmc};
use gcnet_srb::{RelaxationVectors, SingularPolicy, SrbConfig, SrbReport, scaled_residual_bias};

pub fn run(sub: &str, args: &[OsString]) -> anyhow::Result<ExitCode> {
    match sub {
        "tracer" => match TracerArgs::parse_from(args).command {
            TracerCommand::Exact(exact) => tracer_exact(&exact),
            TracerCommand::Train(train) => crate::cmd_tracer_train::run(&train),
        },
        "srb" => srb(&SrbArgs::parse_from(published_spellings(args))),
        _ => bail!("unknown physics subcommand `{sub}`"),
    }
}

// ---------------------------------------------------------------------------------------
// gcnet tracer

/// Tracer correlation factors: one vacancy and one tracer atom on a periodic supercell.
#[derive(Debug, Parser)]
#[command(name = "gcnet tracer", bin_name = "gcnet tracer")]
struct TracerArgs {
    #[command(subcommand)]
    command: TracerCommand,
}

#[derive(Debug, Subcommand)]
enum TracerCommand {
    /// Exact finite-cell correlation factor f_N (variational principle) per cell size.
    ///
    /// The relaxation vector of every vacancy position relative to the tracer is solved for
    /// (conjugate gradients on the jump network, all rates 1), and f_N = L[y*] / L[0].
    /// Prints the table N -> f_N per lattice, f_N - f (f the infinite-lattice value), the
    /// finite-size coefficient Nsites (f_N - f) and the extrapolation f_N = f + c / Nsites
    /// from the two largest cells; optionally a multi-step KMC estimate beside each f_N.
    Exact(TracerExactArgs),
    /// Network tracer training: a host lattice of one species with one vacancy, all z
    /// jumps, one relaxation vector per atom (-trc); prints f after every 25 epochs beside
    /// the exact f_N and plots f against epoch.
    Train(crate::cmd_tracer_train::TracerTrainArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LatticeArg {
    Fcc,
    Bcc,
    Sc,
}

impl LatticeArg {
    fn kind(self) -> LatticeKind {
        match self {
            LatticeArg::Fcc => LatticeKind::Fcc,
            LatticeArg::Bcc => LatticeKind::Bcc,
            LatticeArg::Sc => LatticeKind::Sc,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CellArg {
    /// N x N x N primitive cells (N^3 sites)
    Primitive,
    /// N x N x N conventional cubic cells (FCC 4 N^3, BCC 2 N^3, SC N^3 sites)
    Cubic,
}

#[derive(Debug, Args)]
struct TracerExactArgs {
    /// Lattices, comma-separated or repeated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "fcc,bcc,sc")]
    lattice: Vec<LatticeArg>,
    /// Cell repeated to build each supercell.
    #[arg(long, value_enum, default_value = "primitive")]
    cell: CellArg,
    /// Cells along each axis, comma-separated (N x N x N supercells; the cell must be large
    /// enough that the jumps out of a site reach distinct sites).
    #[arg(long, value_delimiter = ',', default_value = "4,6,8,12,16")]
    sizes: Vec<usize>,
    /// Also estimate f_N by multi-step KMC with this many independent tracer walks per
    /// cell (0: no KMC).
    #[arg(long, default_value_t = 0)]
    kmc_walks: usize,
    /// Vacancy jumps per KMC walk (long against the time the vacancy needs to cross the
    /// cell, so that the finite-walk bias stays below the error bar).
    #[arg(long, default_value_t = 5000)]
    kmc_steps: usize,
    /// Seed of the KMC walks.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn tracer_exact(args: &TracerExactArgs) -> anyhow::Result<ExitCode> {
    if args.sizes.is_empty() {
        bail!("--sizes is empty");
    }
    if args.kmc_walks == 1 {
        bail!("--kmc-walks needs at least 2 walks for an error bar (or 0 for none)");
    }
    if args.kmc_walks > 0 && args.kmc_steps == 0 {
        bail!("--kmc-steps must be at least 1");
    }
    let cell = match args.cell {
        CellArg::Primitive => CellKind::Primitive,
        CellArg::Cubic => CellKind::Cubic,
    };
    let kmc = args.kmc_walks > 0;
    for lattice in &args.lattice {
        let kind = lattice.kind();
        let reference = kind.tracer_correlation_factor();
        println!("{kind} ({cell} cells), infinite lattice f = {reference}");
        print!(
            "{:>4} {:>7} {:>10} {:>11} {:>10} {:>6} {:>9}",
            "N", "sites", "f_N", "f_N - f", "Ns(f_N-f)", "CG it", "time/s"
        );
        if kmc {
            print!("  {:>18}", "KMC f_N +- 1 s.e.");
        }
        println!();
        let mut table = Vec::new();
        for &n in &args.sizes {
            let start = Instant::now();
            let crystal =
                Crystal::cube(kind, cell, n).with_context(|| format!("building the {kind} {n}^3 {cell} cell"))?;
            let data = CrystalData::from_crystal(&crystal);
            let exact = exact_tracer_correlation(&data).with_context(|| format!("solving the {kind} {n}^3 cell"))?;
            let seconds = start.elapsed().as_secs_f64();
            let sites = exact.num_sites as f64;
            print!(
                "{n:>4} {:>7} {:>10.6} {:>+11.6} {:>10.4} {:>6} {seconds:>9.3}",
                exact.num_sites,
                exact.f,
                exact.f - reference,
                sites * (exact.f - reference),
                exact.iterations
            );
            if kmc {
                let network = TracerNetwork::new(&data)?;
                let estimate = tracer_kmc(&network, args.kmc_walks, args.kmc_steps, args.seed);
                print!("  {:>9.5} +- {:.5}", estimate.f, estimate.std_error);
            }
            println!();
            table.push((sites, exact.f));
        }
        if let [.., (n1, f1), (n2, f2)] = table[..]
            && n1 != n2
        {
            let extrapolated = (n2 * f2 - n1 * f1) / (n2 - n1);
            println!(
                "extrapolated from the two largest cells (f_N = f + c / Nsites): f = {extrapolated:.6} ({:+.1e} from {reference})",
                extrapolated - reference
            );
        }
        println!();
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------------------
// gcnet srb

/// Scaled residual bias correction (SPEC section 7). From a data set, its crystal file and
/// the getY outputs with exit states (getY -aj: y_st1, y_st2, y_st1_exits, y_st2_exits,
/// each the published bare .npy or our .npz with the f64 array `y`), builds one basis
/// vector per species label,
/// fits the coefficients theta on the training samples (the first --n-train) and reports
/// L[0], L[y] and the corrected L[y + theta.B] on the training and validation samples.
///
/// The published spellings -DP, -cr, -a0, -sp, -vSp and -nt are accepted for --data,
/// --crystal, --a0, --species, --vacancy and --n-train.
///
/// With one fixed rate per species (e.g. SR-2 gases) the atoms' biases are linearly
/// dependent (sum_sp B_sp / rate_sp = 0): leave one label out with --basis, or pass
/// --pseudo-inverse.
#[derive(Debug, Parser)]
#[command(name = "gcnet srb", bin_name = "gcnet srb")]
struct SrbArgs {
    /// Single-step data set (HDF5, SPEC section 3).
    #[arg(long)]
    data: PathBuf,
    /// Crystal data file the data set was made on.
    #[arg(long)]
    crystal: PathBuf,
    /// getY output: y of the initial states, (N, 3).
    #[arg(long)]
    y_st1: PathBuf,
    /// getY output: y of the final states, (N, 3).
    #[arg(long)]
    y_st2: PathBuf,
    /// getY output: y of the exit states of s1, (N*z, 3), row n*z + j.
    #[arg(long)]
    y_st1_exits: PathBuf,
    /// getY output: y of the exit states of s2, (N*z, 3).
    #[arg(long)]
    y_st2_exits: PathBuf,
    /// Species set S: a string of labels as in training ("1", "12") or comma-separated.
    #[arg(long)]
    species: String,
    /// Vacancy label.
    #[arg(long, default_value_t = 0)]
    vacancy: usize,
    /// Lattice parameter of the data (SpecDisps = a0 * dx).
    #[arg(long, default_value_t = 1.0)]
    a0: f64,
    /// Training samples: the first N fit theta, the rest are the validation samples.
    #[arg(long)]
    n_train: usize,
    /// Labels that get a basis vector, comma-separated (default: every label, vacancy
    /// included).
    #[arg(long, value_delimiter = ',')]
    basis: Option<Vec<usize>>,
    /// Largest condition number of W (scaled to unit diagonal) that is solved.
    #[arg(long, default_value_t = DEFAULT_MAX_CONDITION)]
    max_condition: f64,
    /// Solve a singular W in its well-conditioned subspace instead of stopping, and list
    /// the basis combinations left out.
    #[arg(long)]
    pseudo_inverse: bool,
    /// Write theta, W, b and the L values to this .npz file (an existing file only with
    /// --force; never one of the inputs).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Replace an existing --output file.
    #[arg(long)]
    force: bool,
}

/// The published single-dash spellings that `gcnet srb` takes, and their long names.
const SRB_SPELLINGS: &[(&str, &str)] = &[
    ("-DP", "--data"),
    ("-cr", "--crystal"),
    ("-a0", "--a0"),
    ("-sp", "--species"),
    ("-vSp", "--vacancy"),
    ("-nt", "--n-train"),
];

/// Maps the published single-dash spellings onto the long names (`-sp 1` -> `--species 1`);
/// everything else passes unchanged.
fn published_spellings(args: &[OsString]) -> Vec<OsString> {
    crate::spellings::long_spellings(args, SRB_SPELLINGS)
}

fn srb(args: &SrbArgs) -> anyhow::Result<ExitCode> {
    if let Some(out) = &args.output {
        let inputs = [&args.data, &args.crystal, &args.y_st1, &args.y_st2, &args.y_st1_exits, &args.y_st2_exits];
        if let Some(input) = inputs.iter().find(|i| gcnet_files::same_file(i, out)) {
            bail!("--output {}: that is the input {}; it is never written over", out.display(), input.display());
        }
        if out.exists() && !args.force {
            bail!("--output {} already exists: pass --force to replace it", out.display());
        }
    }
    let crystal =
        CrystalData::read(&args.crystal).with_context(|| format!("reading --crystal {}", args.crystal.display()))?;
    let data = Dataset::read(&args.data).with_context(|| format!("reading --data {}", args.data.display()))?;
    let species = parse_species(&args.species).context("--species")?;
    let data_input = gcnet_files::Input::of(&args.data).with_context(|| format!("--data {}", args.data.display()))?;
    let expected = YProvenance { data: &data_input, species: &species, vacancy: args.vacancy };
    let paths = [args.y_st1.as_path(), &args.y_st2, &args.y_st1_exits, &args.y_st2_exits];
    let y = RelaxationVectors::read_checked(paths, Some(&expected))
        .context("reading --y-st1, --y-st2, --y-st1-exits and --y-st2-exits")?;
    let config = SrbConfig {
        species,
        vacancy: args.vacancy,
        a0: args.a0,
        n_train: args.n_train,
        basis_labels: args.basis.clone(),
        max_condition: args.max_condition,
        singular: if args.pseudo_inverse { SingularPolicy::Truncate } else { SingularPolicy::Refuse },
    };
    let report = scaled_residual_bias(&data, &crystal, &y, &config).context("scaled residual bias")?;
    print_report(&config, &report);
    if let Some(path) = &args.output {
        report
            .write_npz(path, gcnet_files::Overwrite::force(args.force))
            .with_context(|| format!("writing --output {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(config: &SrbConfig, report: &SrbReport) {
    println!(
        "scaled residual bias: S = {:?}, vacancy label {}, residual on label {}, basis labels {:?}",
        config.species, config.vacancy, report.expanded, report.basis_labels
    );
    for (label, theta) in report.basis_labels.iter().zip(&report.coefficients.theta) {
        println!("theta[B_{label}] = {theta:+.8e}");
    }
    println!("condition number of W (unit diagonal): {:.3e}", report.coefficients.condition);
    for dropped in &report.coefficients.dropped {
        println!("left out of the fit: {dropped}");
    }
    println!("values are mean +- one standard error over the samples (theta held fixed)");
    println!("{:<11} {:>6} {:>28} {:>28} {:>28} {:>9}", "samples", "N", "L0", "L[y]", "L[y+theta.B]", "change");
    let mut sets = vec![("training", report.train)];
    sets.extend(report.validation.map(|v| ("validation", v)));
    let pm = |value: f64, error: f64| format!("{value:.8e} +- {error:.2e}");
    for (name, set) in sets {
        println!(
            "{name:<11} {:>6} {:>28} {:>28} {:>28} {:>+8.3}%",
            set.samples,
            pm(set.l0, set.l0_error),
            pm(set.l_y, set.l_y_error),
            pm(set.l_srb, set.l_srb_error),
            100.0 * (set.l_srb - set.l_y) / set.l_y
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_spellings_map_onto_long_names() {
        let args: Vec<OsString> =
            ["srb", "-DP", "d.h5", "-cr", "c.h5", "-sp", "12", "-vSp", "0", "-nt", "10", "-a0", "2", "--basis", "1"]
                .iter()
                .map(OsString::from)
                .collect();
        let mapped: Vec<String> = published_spellings(&args).into_iter().map(|a| a.into_string().unwrap()).collect();
        assert_eq!(
            mapped,
            [
                "srb",
                "--data",
                "d.h5",
                "--crystal",
                "c.h5",
                "--species",
                "12",
                "--vacancy",
                "0",
                "--n-train",
                "10",
                "--a0",
                "2",
                "--basis",
                "1"
            ]
        );
    }

    #[test]
    fn tracer_exact_parses_lattices_and_sizes() {
        let args = TracerArgs::parse_from(["tracer", "exact", "--lattice", "fcc,sc", "--sizes", "3,5"]);
        let TracerCommand::Exact(exact) = args.command else { panic!("parsed as exact") };
        assert_eq!(exact.sizes, [3, 5]);
        assert_eq!(exact.lattice.len(), 2);
    }
}
