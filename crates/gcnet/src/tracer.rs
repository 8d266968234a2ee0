//! `gcnet tracer`: the options of `exact` and `train` mapped onto `gcnet_srb::tracer`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use gcnet_crystal::{CellKind, LatticeKind};
use gcnet_srb::tracer::{ExactTable, KmcWalks, TracerTraining};

/// Tracer correlation factors: one vacancy and one tracer atom on a periodic supercell.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Exact finite-cell correlation factor f_N (variational principle) per cell size.
    ///
    /// The relaxation vector of every vacancy position relative to the tracer is solved for
    /// (conjugate gradients on the jump network, all rates 1), and f_N = L[y*] / L[0].
    /// Prints the table N -> f_N per lattice, f_N - f (f the infinite-lattice value), the
    /// finite-size coefficient Nsites (f_N - f) and the extrapolation f_N = f + c / Nsites
    /// from the two largest cells; optionally a multi-step KMC estimate beside each f_N.
    Exact(ExactArgs),
    /// Network tracer training: a host lattice of one species with one vacancy, all z
    /// jumps, one relaxation vector per atom (-trc); prints f after every 25 epochs beside
    /// the exact f_N and plots f against epoch.
    Train(TrainArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CellArg {
    /// N x N x N primitive cells (N^3 sites)
    Primitive,
    /// N x N x N conventional cubic cells (FCC 4 N^3, BCC 2 N^3, SC N^3 sites)
    Cubic,
}

#[derive(Debug, clap::Args)]
struct ExactArgs {
    /// Lattices, comma-separated or repeated.
    #[arg(long, value_delimiter = ',', default_value = "fcc,bcc,sc", value_parser = lattice())]
    lattice: Vec<LatticeKind>,
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

#[derive(Debug, clap::Args)]
struct TrainArgs {
    /// Bravais lattice (fcc, bcc or sc).
    #[arg(long, default_value = "fcc")]
    lattice: String,
    /// Primitive cells along each axis.
    #[arg(long, default_value_t = 8)]
    size: usize,
    /// Hidden layers (-nl).
    #[arg(long, default_value_t = 2)]
    nl: i64,
    /// Channels of the hidden layers (-nch).
    #[arg(long, default_value_t = 4)]
    nch: i64,
    /// Training epochs (one Adam step over the z exits each).
    #[arg(long, default_value_t = 300)]
    epochs: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 0.01)]
    lr: f64,
    /// Seed of the initial weights.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Plot of f against epoch, with f_N as a line (PNG).
    #[arg(long, default_value = "tracer_f.png")]
    plot: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Exact(a) => exact(a),
        Command::Train(a) => train(a),
    }
}

fn exact(a: ExactArgs) -> anyhow::Result<ExitCode> {
    let cell = match a.cell {
        CellArg::Primitive => CellKind::Primitive,
        CellArg::Cubic => CellKind::Cubic,
    };
    let kmc = (a.kmc_walks > 0).then_some(KmcWalks { walks: a.kmc_walks, steps: a.kmc_steps, seed: a.seed });
    for lattice in a.lattice {
        let table = ExactTable { lattice, cell, sizes: a.sizes.clone(), kmc };
        table.validate()?;
        println!("{}", table.header());
        let rows = table.run(|row| println!("{}", table.line(row)))?;
        if let Some(line) = table.extrapolation(&rows) {
            println!("{line}");
        }
        println!();
    }
    Ok(ExitCode::SUCCESS)
}

fn train(a: TrainArgs) -> anyhow::Result<ExitCode> {
    let lattice: LatticeKind = a.lattice.parse().map_err(|e| anyhow::anyhow!("--lattice: {e}"))?;
    let (size, nl, nch, epochs, learning_rate, seed) = (a.size, a.nl, a.nch, a.epochs, a.lr, a.seed);
    let training = TracerTraining { lattice, size, nl, nch, epochs, learning_rate, seed };
    let start = std::time::Instant::now();
    let curve = training.run()?;
    println!("{}", curve.summary(&training, start.elapsed().as_secs_f64()));
    curve.check_bound()?;
    curve.chart(&training).save_png(&a.plot).with_context(|| format!("writing {}", a.plot.display()))?;
    println!("plot: {}", a.plot.display());
    Ok(ExitCode::SUCCESS)
}

/// The lattices by name, listed in the help as clap lists a value enum's.
fn lattice() -> impl clap::builder::TypedValueParser<Value = LatticeKind> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["fcc", "bcc", "sc"])
        .map(|s| s.parse::<LatticeKind>().expect("one of the names listed"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn tracer_exact_parses_lattices_and_sizes() {
        let cli = Cli::parse_from(["tracer", "exact", "--lattice", "fcc,sc", "--sizes", "3,5"]);
        let Command::Exact(exact) = cli.args.command else { panic!("parsed as exact") };
        assert_eq!(exact.sizes, [3, 5]);
        assert_eq!(exact.lattice.len(), 2);
    }
}
