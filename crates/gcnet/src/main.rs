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
mod kmc;
mod latgas;
mod mc;
mod mc_bench;
mod mc_extract;
mod neb;
mod neb_bench;
mod neb_merge;
mod published;
mod spellings;
mod srb;
mod tracer;
mod vce;

/// Subcommands beside the published interface, with a one-line description each; the
/// published interface's `-h` lists them too.
pub const SUBCOMMANDS: &[(&str, &str)] = &[
    ("crystal", "write a crystal data file (FCC/BCC/SC, primitive or cubic cells)"),
    ("latgas", "generate a single-step KMC data set for a lattice gas"),
    ("check", "validate a data set against a crystal data file"),
    ("kmc", "multi-step KMC reference transport coefficients"),
    ("describe", "polars summary of a data set (per-sample frame, uncorrelated L0)"),
    ("bench-data", "data generation and KMC throughput"),
    ("bench", "GCNet training and evaluation throughput against the matmul rate"),
    ("tracer", "exact finite-cell tracer correlation factor and network tracer training"),
    ("srb", "scaled residual bias correction from getY outputs"),
    ("demo", "the end-to-end built-in demo (the README's main job)"),
    ("neb", "NEB kinetic Monte Carlo on LAMMPS (the published NEB_steps_multiTraj.py interface)"),
    ("neb-merge", "one data set from the data sets of several gcnet neb shards"),
    ("neb-bench", "NEB engine overhead against bare lmp, jumps per hour, climbing-image table"),
    ("mc", "Metropolis swap Monte Carlo on LAMMPS (the published Init_state_MC.py interface)"),
    ("mc-extract", "the states of gcnet mc chains after thermalisation, for gcnet neb -if"),
    ("mc-bench", "Monte Carlo trials/s: persistent LAMMPS session against a bare lmp per trial"),
    ("vce", "vector cluster expansion transport coefficients (the published LBAM_DataSet.py interface)"),
    ("bench-vce", "vector cluster expansion throughput (samples/s for -mo 2 and -mo 3)"),
];

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

/// Parses a subcommand's arguments (`args[0]` is the subcommand's name) after mapping the
/// published single-dash `spellings` onto their long names. Exits with clap's message on
/// bad arguments, as `Parser::parse_from` does.
#[allow(dead_code)] // transitional: the subcommands move onto it one by one
fn parse<A: clap::Args>(args: &[OsString], spellings: &[(&str, &str)]) -> A {
    let name = format!("gcnet {}", args.first().and_then(|a| a.to_str()).unwrap_or(""));
    let command = A::augment_args(clap::Command::new("gcnet").bin_name(name));
    let matches = command.get_matches_from(spellings::long_spellings(args, spellings));
    A::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn run() -> anyhow::Result<ExitCode> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let sub = args.get(1).and_then(|a| a.to_str()).unwrap_or("");
    // A subcommand sees its own name as argv[0], so its help reads `gcnet-<name>`-free.
    let rest = &args[1..];
    match sub {
        "crystal" => crystal::run(parse(rest, &[])),
        "latgas" => latgas::run(parse(rest, &[])),
        "check" => check::run(parse(rest, &[])),
        "kmc" => kmc::run(parse(rest, &[])),
        "describe" => describe::run(parse(rest, &[])),
        "bench-data" => bench_data::run(parse(rest, &[])),
        "bench" => bench::run(parse(rest, &[])),
        "tracer" => tracer::run(parse(rest, &[])),
        "srb" => srb::run(parse(rest, srb::SPELLINGS)),
        "demo" => demo::run(rest),
        "neb" => neb::run(parse(rest, neb::SPELLINGS)),
        "neb-merge" => neb_merge::run(parse(rest, neb_merge::SPELLINGS)),
        "neb-bench" => neb_bench::run(parse(rest, neb_bench::SPELLINGS)),
        "mc" => mc::run(parse(rest, mc::SPELLINGS)),
        "mc-extract" => mc_extract::run(parse(rest, &[])),
        "mc-bench" => mc_bench::run(parse(rest, mc_bench::SPELLINGS)),
        "vce" => vce::run(parse(rest, vce::SPELLINGS)),
        "bench-vce" => bench_vce::run(parse(rest, &[])),
        _ => published::run(published::parse(&args)),
    }
}
