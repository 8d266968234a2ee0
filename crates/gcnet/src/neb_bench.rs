//! `gcnet neb-bench`: what gcnet's orchestration costs against bare `lmp` NEB runs of the
//! same jumps, the throughput in jumps per hour with every core busy, and (with
//! --climb-table) the barrier error and time of climbing-image NEBs with fewer images
//! against the 11-image reference; measured by `gcnet_alloy::NebBenchConfig::run`.

use std::path::PathBuf;
use std::process::ExitCode;

use gcnet_alloy::{CellSpec, NebBenchConfig};

pub const SPELLINGS: &[(&str, &str)] = &[
    ("-cr", "--CrysDatPath"),
    ("-pp", "--PotPath"),
    ("-if", "--InitStateFile"),
    ("-u", "--Nunits"),
    ("-pr", "--Prim"),
    ("-a0", "--LatPar"),
    ("-ni", "--NImages"),
    ("-ftol", "--ForceTol"),
];

/// Benchmark the NEB engine: the same jumps through gcnet and through bare `lmp` runs of
/// prepared inputs (the orchestration overhead), all jumps of the states with every core
/// busy (jumps per hour), and optionally climbing-image NEBs with fewer images against
/// the 11-image reference.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// [-cr] Crystal data file.
    #[arg(long = "CrysDatPath", short = 'c', value_name = "PATH")]
    crystal: PathBuf,
    /// [-pp] Potential directory (library.meam, params.meam).
    #[arg(long = "PotPath", value_name = "DIR")]
    pot_path: PathBuf,
    /// [-if] States (.npy); default: random equiatomic states of the elements.
    #[arg(long = "InitStateFile", value_name = "PATH")]
    init_state_file: Option<PathBuf>,
    /// [-u] Unit cells per side of the crystal file.
    #[arg(long = "Nunits", default_value_t = 5)]
    n_units: usize,
    /// [-pr] Primitive cells.
    #[arg(long = "Prim")]
    prim: bool,
    /// [-a0] Lattice parameter (A).
    #[arg(long = "LatPar", default_value_t = 3.595)]
    lat_par: f64,
    /// [-ni] Images of the overhead and throughput runs.
    #[arg(long = "NImages", default_value_t = 11)]
    n_images: usize,
    /// [-ftol] Force tolerance.
    #[arg(long = "ForceTol", default_value_t = 1e-3)]
    force_tol: f64,
    /// Jumps of the overhead comparison (the first jumps of the first states).
    #[arg(long, default_value_t = 6)]
    jumps: usize,
    /// States whose 12 jumps and end states are computed with every core busy (0: skip).
    #[arg(long = "throughput-states", default_value_t = 1)]
    throughput_states: usize,
    /// NEBs at once in the throughput run (default: cores / images, at least 1).
    #[arg(long = "parallel-nebs")]
    parallel_nebs: Option<usize>,
    /// Also time the bare runs without MPICH's progress throttle.
    #[arg(long = "compare-throttle")]
    compare_throttle: bool,
    /// Instead: the climbing-image table over this many jumps.
    #[arg(long = "climb-table", value_name = "JUMPS")]
    climb_table: Option<usize>,
    /// Images of the climbing-image variants.
    #[arg(long = "climb-images", value_delimiter = ',', default_value = "5,7")]
    climb_images: Vec<usize>,
    /// Most climbing-stage steps of the variants.
    #[arg(long = "climb-steps", default_value_t = 2000)]
    climb_steps: usize,
    /// Images of the reference (no climbing image, as published).
    #[arg(long = "reference-images", default_value_t = 11)]
    reference_images: usize,
    /// Per-jump results of the climbing table as CSV.
    #[arg(long)]
    csv: Option<PathBuf>,
    #[arg(long, value_delimiter = ',', default_value = "Co,Ni,Cr,Fe,Mn")]
    elements: Vec<String>,
    /// Seed of the random states.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Scratch directory (default: a new temporary one).
    #[arg(long)]
    scratch: Option<PathBuf>,
    #[arg(long)]
    lmp: Option<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let config = NebBenchConfig {
        initial_states: a.init_state_file,
        cell: CellSpec { units: a.n_units, primitive: a.prim },
        lattice_parameter: a.lat_par,
        images: a.n_images,
        force_tol: a.force_tol,
        jumps: a.jumps,
        throughput_states: a.throughput_states,
        parallel_nebs: a.parallel_nebs,
        compare_throttle: a.compare_throttle,
        climb_table: a.climb_table,
        climb_images: a.climb_images,
        climb_steps: a.climb_steps,
        reference_images: a.reference_images,
        csv: a.csv,
        elements: a.elements,
        seed: a.seed,
        scratch: a.scratch,
        lmp: a.lmp,
        ..NebBenchConfig::new(a.crystal, a.pot_path)
    };
    config.run(&mut |line| println!("{line}"))?;
    Ok(ExitCode::SUCCESS)
}
