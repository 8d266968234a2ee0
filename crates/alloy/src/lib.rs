//! Realistic alloys on LAMMPS: NEB kinetic Monte Carlo with the MEAM potential of the
//! Cantor alloy (CoNiCrFeMn, Choi et al., npj Comput. Mater. 4, 1, 2018), as the published
//! NEB_steps_multiTraj.py does it (SPEC section 8), and the training data set built from
//! its first two steps.
//!
//! Layers, each using only the ones above it:
//! 1. LAMMPS itself: [`Lammps`] (finding `lmp`, its packages, the MPI launcher) and
//!    [`Session`] (one serial LAMMPS kept alive and driven through stdin, for many small
//!    relaxations);
//! 2. inputs: [`Potential`], [`Geometry`] (positions from the crystal file),
//!    [`InitialStates`] (the -if file, checked);
//! 3. calculations: [`NebInput`] (one NEB, one end-state relaxation pass), [`kmc`] (rates,
//!    the jump taken), [`compute_jumps`] (all jumps of many states in parallel), [`mc`]
//!    (Metropolis swap Monte Carlo, SPEC section 9: [`Chain`], [`SessionEnergy`]);
//! 4. files and runs: [`StepData`] (`data_{step}_{idx}.h5`), [`NebKmc`] (steps with resume),
//!    [`assemble`] and [`merge`] (the training file), [`provenance`] (what a file was made
//!    from), [`McRun`] (Monte Carlo chains with checkpoints and restart) and [`extract`]
//!    (their states after thermalisation, for `gcnet neb -if`);
//! 5. workflows, one call each on a plain configuration, what the `gcnet` subcommands and
//!    the notebooks run: [`NebConfig`] (`gcnet neb`), [`MergeConfig`] (`neb-merge`),
//!    [`NebBenchConfig`] (`neb-bench`), [`McConfig`] (`mc`), [`ExtractConfig`]
//!    (`mc-extract`), [`McBenchConfig`] (`mc-bench`).
//!
//! Units: Å, eV, K; rates without attempt frequency (exp(-E/kT)), as the published data.
//!
//! ```no_run
//! # fn main() -> gcnet_alloy::Result<()> {
//! // `gcnet neb -cr c3.h5 -pp ... -if states.npy -T 1000 -u 3 -ns 2 --dataset cantor_T1000.h5`
//! let mut config = gcnet_alloy::NebConfig::new("c3.h5", "potentials/CoNiCrFeMn_Choi2018", "states.npy", 1000.0);
//! config.cell = gcnet_alloy::CellSpec { units: 3, primitive: false };
//! (config.kmc.steps, config.dataset) = (2, Some("cantor_T1000.h5".into()));
//! let report = config.run()?;
//! println!("{}", report.dataset.unwrap());
//! # Ok(()) }
//! ```
//!
//! One NEB by hand:
//!
//! ```no_run
//! use gcnet_alloy::{CellSpec, Geometry, Lammps, NebInput, NebSettings, Potential};
//! use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
//! # fn main() -> gcnet_alloy::Result<()> {
//! let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Cubic, 3)?);
//! let geometry = Geometry::new(&crystal, 3.595, CellSpec { units: 3, primitive: false })?;
//! let potential = Potential::new("potentials/CoNiCrFeMn_Choi2018")?;
//! let elements = vec!["Ni".to_string()];
//! let settings = NebSettings { images: 5, ..NebSettings::default() };
//! let input = NebInput { geometry: &geometry, potential: &potential, elements: &elements, settings: &settings };
//! let mut labels = vec![1u8; geometry.num_sites()];
//! labels[0] = 0; // the vacancy
//! let dir = std::path::Path::new("neb_jump0");
//! std::fs::create_dir_all(dir).unwrap();
//! input.write(dir, &labels, 0, 0)?;
//! let lammps = Lammps::locate(None)?;
//! let launch = gcnet_alloy::LaunchOptions { launcher: gcnet_alloy::Launcher::Mpiexec, mem_per_cpu_mb: None, throttle: true };
//! let result = input.run(&lammps, &launch, dir, "pure Ni, jump 0")?;
//! println!("barrier {} eV", result.barrier);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod argument_dump;
mod dataset;
mod error;
pub mod fingerprint;
mod geometry;
mod interrupt;
mod jobs;
pub mod kmc;
mod lammps;
pub mod mc;
mod mc_bench;
mod mc_config;
mod mc_run;
mod merge;
mod neb;
mod neb_bench;
mod neb_config;
mod potential;
pub mod provenance;
mod relax;
mod run;
mod session;
mod states;
mod stepfile;

pub use argument_dump::ArgumentDump;
pub use dataset::assemble;
pub use error::{Error, Result, SETUP_COMMAND};
pub use geometry::{CellSpec, Geometry, LammpsBox};
pub use jobs::{Engine, JobDirs, JobDone, Model, StateJumps, StateTask, available_cores, compute_jumps};
pub use lammps::{Lammps, LaunchOptions, Launcher, REQUIRED_PACKAGES, project_root};
pub use mc::{
    Chain, EnergyModel, History, MC_NEIGHBOR_SKIN, ProcessEnergy, SessionEnergy, StateEnergy, Trial, fcc_cell,
    fcc_geometry, random_start, warren_cowley,
};
pub use mc_bench::{McBenchConfig, McBenchFigures};
pub use mc_config::{ExtractConfig, ExtractReport, ExtractedSet, McConfig};
pub use mc_run::{
    ChainStart, ChainSummary, Extracted, McEvent, McPhysics, McRecord, McRun, McStart, chain_dir, chain_dirs,
    check_state, checkpoint_trials, extract, last_checkpoint, read_history, read_record, read_state,
};
pub use merge::{MergeConfig, MergeSummary, merge};
pub use neb::{NebInput, NebResult, NebSettings, parse_neb_log};
pub use neb_bench::{ClimbTable, ClimbVariant, NebBenchConfig, NebBenchFigures, Overhead, Throughput};
pub use neb_config::{DatasetWritten, NebConfig, NebReport};
pub use potential::{CANTOR_ELEMENTS, Potential};
pub use provenance::{DatasetRecord, Physics, Shard, StatesOrigin, StepRecord};
pub use relax::{EndState, RELAX_MAX_EVALUATIONS, RELAX_MAX_ITERATIONS};
pub use run::{Event, KmcSettings, NebKmc, NebStart, RunSummary};
pub use session::Session;
pub use states::{InitialStates, LabelType, random_states};
pub use stepfile::{END_STATE_DISPS, STEP_DATASETS, StepData, existing_step_files, step_file_name};
