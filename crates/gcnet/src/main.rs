//! `gcnet`: the published GCNetRun.py command line at the top level (SPEC section 6), and
//! the project's other tools as subcommands of the same binary.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::process::ExitCode;

mod bench;
mod bench_data;
mod bench_vce;
mod check;
mod crystal;
mod demo;
mod describe;
mod kinosons;
mod kmc;
mod latgas;
mod mc;
mod mc_bench;
mod mc_extract;
mod neb;
mod neb_bench;
mod neb_merge;
mod onsager;
mod published;
mod spellings;
mod srb;
mod tracer;
mod vce;

/// The project's tools beside the published interface (the default command); their
/// one-line descriptions are what `gcnet -h` lists.
#[derive(Debug, clap::Parser)]
#[command(name = "gcnet", disable_help_subcommand = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    #[command(about = "write a crystal data file (FCC/BCC/SC, primitive or cubic cells)")]
    Crystal(crystal::Args),
    #[command(about = "generate a single-step KMC data set for a lattice gas")]
    Latgas(latgas::Args),
    #[command(about = "validate a data set against a crystal data file")]
    Check(check::Args),
    #[command(about = "multi-step KMC reference transport coefficients")]
    Kmc(kmc::Args),
    #[command(about = "polars summary of a data set (per-sample frame, uncorrelated L0)")]
    Describe(describe::Args),
    #[command(about = "data generation and KMC throughput")]
    BenchData(bench_data::Args),
    #[command(about = "GCNet training and evaluation throughput against the matmul rate")]
    Bench(bench::Args),
    #[command(about = "exact finite-cell tracer correlation factor and network tracer training")]
    Tracer(tracer::Args),
    #[command(about = "scaled residual bias correction from getY outputs")]
    Srb(srb::Args),
    #[command(about = "the whole Onsager matrix with standard errors, and the kinosons")]
    Onsager(onsager::Args),
    #[command(about = "kinosons of gcnet onsager runs at several temperatures: L(T), Arrhenius fit, plot")]
    Kinosons(kinosons::Args),
    #[command(about = "the end-to-end built-in demo (the README's main job)")]
    Demo(demo::Args),
    #[command(about = "NEB kinetic Monte Carlo on LAMMPS (the published NEB_steps_multiTraj.py interface)")]
    Neb(neb::Args),
    #[command(about = "one data set from the data sets of several gcnet neb shards")]
    NebMerge(neb_merge::Args),
    #[command(about = "NEB engine overhead against bare lmp, jumps per hour, climbing-image table")]
    NebBench(neb_bench::Args),
    #[command(about = "Metropolis swap Monte Carlo on LAMMPS (the published Init_state_MC.py interface)")]
    Mc(mc::Args),
    #[command(about = "the states of gcnet mc chains after thermalisation, for gcnet neb -if")]
    McExtract(mc_extract::Args),
    #[command(about = "Monte Carlo trials/s: persistent LAMMPS session against a bare lmp per trial")]
    McBench(mc_bench::Args),
    #[command(about = "vector cluster expansion transport coefficients (published LBAM_DataSet.py interface)")]
    Vce(vce::Args),
    #[command(about = "vector cluster expansion throughput (samples/s for -mo 2 and -mo 3)")]
    BenchVce(bench_vce::Args),
}

/// The published single-dash spellings a subcommand takes (its published script's).
fn spellings_of(name: &str) -> &'static [(&'static str, &'static str)] {
    match name {
        "srb" => srb::SPELLINGS,
        "onsager" => onsager::SPELLINGS,
        "neb" => neb::SPELLINGS,
        "neb-merge" => neb_merge::SPELLINGS,
        "neb-bench" => neb_bench::SPELLINGS,
        "mc" => mc::SPELLINGS,
        "mc-bench" => mc_bench::SPELLINGS,
        "vce" => vce::SPELLINGS,
        _ => &[],
    }
}

/// The subcommand list of the published interface's help, from the enum above.
pub fn subcommand_help() -> String {
    let mut s = String::from("Project subcommands (gcnet <subcommand> -h):\n");
    for sub in <Cli as clap::CommandFactory>::command().get_subcommands() {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        s.push_str(&format!("  {:<11} {about}\n", sub.get_name()));
    }
    s
}

/// `args[0]` the subcommand's name, then its arguments (published spellings mapped onto
/// long names). Exits with clap's message on bad arguments, as `Parser::parse_from` does.
fn parse_command(args: &[OsString]) -> Command {
    let name = args.first().and_then(|a| a.to_str()).unwrap_or("");
    let words = std::iter::once(OsString::from("gcnet")).chain(spellings::long_spellings(args, spellings_of(name)));
    <Cli as clap::Parser>::parse_from(words).command
}

/// Whether `word` names a subcommand (anything else starts the published command line).
fn is_subcommand(word: &str) -> bool {
    <Cli as clap::CommandFactory>::command().get_subcommands().any(|s| s.get_name() == word)
}

#[cfg(test)]
fn parse_words(words: &[&str]) -> Command {
    parse_command(&words.iter().map(OsString::from).collect::<Vec<_>>())
}

fn main() -> ExitCode {
    // Large activations reuse freed memory instead of fresh pages (measured: a 50 MB fill
    // costs ten times an in-place pass); the tuning is the program's choice, made here.
    gcnet_kernels::allocator::keep_freed_memory();
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("gcnet: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let first = args.get(1).and_then(|a| a.to_str());
    // The commands that run the network restart once with a short OpenMP spin for
    // libtorch's own operations (gcnet_kernels::threads::SPIN_COUNT): fast on shared cores.
    let network = !first.is_some_and(is_subcommand) || matches!(first, Some("bench" | "tracer" | "demo" | "onsager"));
    if network && let Err(e) = gcnet_kernels::threads::restart_with_spin_count() {
        eprintln!("gcnet: {e}; going on with libgomp's default spin");
    }
    if !args.get(1).and_then(|a| a.to_str()).is_some_and(is_subcommand) {
        return published::run(published::parse(&args));
    }
    match parse_command(&args[1..]) {
        Command::Crystal(a) => crystal::run(a),
        Command::Latgas(a) => latgas::run(a),
        Command::Check(a) => check::run(a),
        Command::Kmc(a) => kmc::run(a),
        Command::Describe(a) => describe::run(a),
        Command::BenchData(a) => bench_data::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Tracer(a) => tracer::run(a),
        Command::Srb(a) => srb::run(a),
        Command::Onsager(a) => onsager::run(a),
        Command::Kinosons(a) => kinosons::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Neb(a) => neb::run(a),
        Command::NebMerge(a) => neb_merge::run(a),
        Command::NebBench(a) => neb_bench::run(a),
        Command::Mc(a) => mc::run(a),
        Command::McExtract(a) => mc_extract::run(a),
        Command::McBench(a) => mc_bench::run(a),
        Command::Vce(a) => vce::run(a),
        Command::BenchVce(a) => bench_vce::run(a),
    }
}
