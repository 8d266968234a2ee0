//! `gcnet neb`: NEB kinetic Monte Carlo on LAMMPS with the published
//! NEB_steps_multiTraj.py command line (SPEC section 8); the run is
//! `gcnet_alloy::NebConfig::run`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;
use gcnet_alloy::{ArgumentDump, CellSpec, KmcSettings, Launcher, NebConfig, NebSettings};
use gcnet_files::Overwrite;

use crate::spellings::{py_float, whole};

/// The published single-dash spellings of NEB_steps_multiTraj.py and their long names.
pub const SPELLINGS: &[(&str, &str)] = &[
    ("-cr", "--CrysDatPath"),
    ("-pp", "--PotPath"),
    ("-if", "--InitStateFile"),
    ("-a0", "--LatPar"),
    ("-pr", "--Prim"),
    ("-T", "--Temp"),
    ("-ni", "--NImages"),
    ("-ns", "--Nsteps"),
    ("-ftol", "--ForceTol"),
    ("-etol", "--EnTol"),
    ("-th", "--DispThreshold"),
    ("-ts", "--TimeStep"),
    ("-k", "--SpringConstant"),
    ("-p", "--PerpSpringConstant"),
    ("-u", "--Nunits"),
    ("-idx", "--StateStart"),
    ("-bs", "--batchSize"),
    ("-cs", "--chunkSize"),
    ("-wa", "--WriteAllJumps"),
    ("-mpc", "--MemPerCpu"),
    ("-dmp", "--DumpArguments"),
    ("-dpf", "--DumpFile"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LauncherArg {
    Mpiexec,
    Srun,
}

/// NEB kinetic Monte Carlo with LAMMPS (the published NEB_steps_multiTraj.py interface;
/// single-dash spellings in brackets). Each KMC step computes every vacancy jump of every
/// state by NEB, relaxes each jump's end state, picks a jump and writes
/// data_{step}_{idx}.h5 into the working directory. Rerun in the same directory, it
/// continues after the last complete step.
#[derive(Debug, clap::Args)]
#[command(args_override_self = true, allow_negative_numbers = true)]
pub struct Args {
    /// [-cr] Crystal data file (from `gcnet crystal`; the site positions and jumps).
    #[arg(long = "CrysDatPath", value_name = "PATH")]
    crys_dat_path: PathBuf,
    /// [-pp] Directory holding the MEAM potential's library.meam and params.meam.
    #[arg(long = "PotPath", value_name = "DIR")]
    pot_path: PathBuf,
    /// [-if] Initial states (.npy, integer (N, Nsites): 0 the vacancy, on site 0; 1.. the
    /// elements).
    #[arg(long = "InitStateFile", value_name = "PATH")]
    init_state_file: PathBuf,
    /// [-a0] Lattice parameter (A): multiplies the positions and displacements.
    #[arg(long = "LatPar", default_value_t = 3.595, value_name = "A0")]
    lat_par: f64,
    /// [-pr] The crystal file holds primitive FCC cells (default: conventional cubic cells).
    #[arg(long = "Prim")]
    prim: bool,
    /// [-T] Temperature (K) of the rates exp(-barrier / kB T).
    #[arg(long = "Temp", value_name = "K")]
    temp: f64,
    /// [-ni] NEB images, end points included (odd).
    #[arg(long = "NImages", default_value_t = 11, value_name = "N", value_parser = whole::<usize>)]
    n_images: usize,
    /// [-ns] KMC steps.
    #[arg(long = "Nsteps", default_value_t = 100, value_name = "N", value_parser = whole::<usize>)]
    n_steps: usize,
    /// [-ftol] Force tolerance (eV/A, max-norm) of the NEBs and end-state relaxations.
    #[arg(long = "ForceTol", default_value_t = 1e-3, value_name = "F")]
    force_tol: f64,
    /// [-etol] Relative energy tolerance of the NEBs and end-state relaxations.
    #[arg(long = "EnTol", default_value_t = 0.0, value_name = "E")]
    en_tol: f64,
    /// [-th] Largest displacement (A) of an atom when a jump's end state is relaxed;
    /// beyond it the jump is off-lattice: rate 0, barrier inf.
    #[arg(long = "DispThreshold", default_value_t = 1.0, value_name = "A")]
    disp_threshold: f64,
    /// [-ts] FIRE time step (ps).
    #[arg(long = "TimeStep", default_value_t = 0.001, value_name = "DT")]
    time_step: f64,
    /// [-k] Parallel spring constant (eV/A^2).
    #[arg(long = "SpringConstant", default_value_t = 10.0, value_name = "K")]
    spring_constant: f64,
    /// [-p] Perpendicular spring constant (eV/A^2).
    #[arg(long = "PerpSpringConstant", default_value_t = 10.0, value_name = "K")]
    perp_spring_constant: f64,
    /// [-u] Unit cells per side of the crystal file's supercell (checked against it).
    #[arg(long = "Nunits", default_value_t = 5, value_name = "N", value_parser = whole::<usize>)]
    n_units: usize,
    /// [-idx] First state of this run in the initial-state file.
    #[arg(long = "StateStart", default_value_t = 0, value_name = "N", value_parser = whole::<usize>)]
    state_start: usize,
    /// [-bs] States of this run (fewer if the file ends first).
    #[arg(long = "batchSize", default_value_t = 200, value_name = "N", value_parser = whole::<usize>)]
    batch_size: usize,
    /// [-cs] States whose jumps are computed (and checkpointed) together.
    #[arg(long = "chunkSize", default_value_t = 20, value_name = "N", value_parser = whole::<usize>)]
    chunk_size: usize,
    /// [-wa] Keep every NEB's files, in NEB_files_IDX/step_S/state_N/jump_J/.
    #[arg(long = "WriteAllJumps")]
    write_all_jumps: bool,
    /// [-mpc] Memory per CPU (MB), passed to `srun --mem-per-cpu` (mpiexec has no limit).
    #[arg(long = "MemPerCpu", default_value_t = 1000, value_name = "MB", value_parser = whole::<u64>)]
    mem_per_cpu: u64,
    /// [-dmp] Write every argument to the -dpf file.
    #[arg(long = "DumpArguments")]
    dump_arguments: bool,
    /// [-dpf] File for -dmp.
    #[arg(long = "DumpFile", default_value = "ArgFiles", value_name = "PATH")]
    dump_file: PathBuf,
    /// gcnet extension: how the NEBs' MPI ranks are started (srun inside SLURM jobs).
    #[arg(long, value_enum, default_value = "mpiexec")]
    launcher: LauncherArg,
    /// gcnet extension: NEBs at once (default: the cores, or SLURM_NTASKS under srun,
    /// divided by the images; at least 1).
    #[arg(long = "parallel-nebs", value_name = "N", value_parser = whole::<usize>)]
    parallel_nebs: Option<usize>,
    /// gcnet extension: the element of label 1, 2, ... (labels run 0..=their number).
    #[arg(long, value_delimiter = ',', default_value = "Co,Ni,Cr,Fe,Mn")]
    elements: Vec<String>,
    /// gcnet extension: seed of the uniform numbers that pick the jumps (each state's
    /// number depends on the seed, the step and the state's index only).
    #[arg(long, default_value_t = 0, value_parser = whole::<u64>)]
    seed: u64,
    /// gcnet extension: after the steps, assemble the single-step training file (needs
    /// -ns >= 2) in the layout of the published Cantor test data.
    #[arg(long, value_name = "FILE")]
    dataset: Option<PathBuf>,
    /// gcnet extension: replace an existing --dataset file.
    #[arg(long)]
    force: bool,
    /// gcnet extension: at most this many steps of a climbing-image stage after the
    /// regular one (a multiple of 50; 0, the published setting, has none); barriers are
    /// then read at its end.
    #[arg(long = "climb-steps", default_value_t = 0, value_name = "N", value_parser = whole::<usize>)]
    climb_steps: usize,
    /// gcnet extension: the lmp executable (default: GCNET_LMP, the project's .venv, PATH).
    #[arg(long, value_name = "PATH")]
    lmp: Option<PathBuf>,
}

impl Args {
    /// The published -dmp format: `name:\tvalue` per argument, floats as Python writes them.
    fn dump(&self) -> String {
        let p = |x: &Path| x.display().to_string();
        let rows: Vec<(&str, String)> = vec![
            ("CrysDatPath", p(&self.crys_dat_path)),
            ("PotPath", p(&self.pot_path)),
            ("InitStateFile", p(&self.init_state_file)),
            ("LatPar", py_float(self.lat_par)),
            ("Prim", py_bool(self.prim)),
            ("Temp", self.temp.to_string()), // written as given: the published -T is a whole number of K
            ("NImages", self.n_images.to_string()),
            ("Nsteps", self.n_steps.to_string()),
            ("ForceTol", py_float(self.force_tol)),
            ("EnTol", py_float(self.en_tol)),
            ("DispThreshold", py_float(self.disp_threshold)),
            ("TimeStep", py_float(self.time_step)),
            ("SpringConstant", py_float(self.spring_constant)),
            ("PerpSpringConstant", py_float(self.perp_spring_constant)),
            ("Nunits", self.n_units.to_string()),
            ("StateStart", self.state_start.to_string()),
            ("batchSize", self.batch_size.to_string()),
            ("chunkSize", self.chunk_size.to_string()),
            ("WriteAllJumps", py_bool(self.write_all_jumps)),
            ("MemPerCpu", self.mem_per_cpu.to_string()),
            ("DumpArguments", py_bool(self.dump_arguments)),
            ("DumpFile", p(&self.dump_file)),
            ("launcher", format!("{:?}", self.launcher).to_lowercase()),
            ("parallel_nebs", self.parallel_nebs.map_or("None".into(), |n| n.to_string())),
            ("elements", self.elements.join(",")),
            ("seed", self.seed.to_string()),
            ("dataset", self.dataset.as_deref().map_or("None".into(), p)),
            ("climb_steps", self.climb_steps.to_string()),
        ];
        rows.into_iter().map(|(k, v)| format!("{k}:\t{v}\n")).collect()
    }
}

fn py_bool(b: bool) -> String {
    if b { "True".into() } else { "False".into() }
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let neb = NebSettings {
        images: a.n_images,
        spring_parallel: a.spring_constant,
        spring_perp: a.perp_spring_constant,
        force_tol: a.force_tol,
        energy_tol: a.en_tol,
        timestep: a.time_step,
        climb_steps: a.climb_steps,
        ..NebSettings::default()
    };
    let kmc = KmcSettings {
        temperature: a.temp,
        threshold: a.disp_threshold,
        steps: a.n_steps,
        seed: a.seed,
        chunk: a.chunk_size,
    };
    let config = NebConfig {
        lattice_parameter: a.lat_par,
        cell: CellSpec { units: a.n_units, primitive: a.prim },
        first_state: a.state_start,
        batch_size: a.batch_size,
        elements: a.elements.clone(),
        neb,
        kmc,
        keep_files: a.write_all_jumps,
        launcher: match a.launcher {
            LauncherArg::Mpiexec => Launcher::Mpiexec,
            LauncherArg::Srun => Launcher::Srun,
        },
        mem_per_cpu_mb: a.mem_per_cpu,
        parallel_nebs: a.parallel_nebs,
        lmp: a.lmp.clone(),
        out_dir: std::env::current_dir().context("reading the working directory")?,
        dataset: a.dataset.clone(),
        overwrite: Overwrite::force(a.force),
        argument_dump: a.dump_arguments.then(|| ArgumentDump { path: a.dump_file.clone(), text: a.dump() }),
        ..NebConfig::new(&a.crys_dat_path, &a.pot_path, &a.init_state_file, a.temp)
    };
    if let Some(dataset) = config.run()?.dataset {
        println!("{dataset}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;
    use crate::spellings::long_spellings;

    #[test]
    fn published_spellings_become_long_names() {
        let args: Vec<OsString> =
            ["gcnet neb", "-T", "1073", "-p=5", "-ni", "5", "-h", "-1"].iter().map(OsString::from).collect();
        let long: Vec<String> =
            long_spellings(&args, SPELLINGS).into_iter().map(|a| a.into_string().unwrap()).collect();
        assert_eq!(long, ["gcnet neb", "--Temp", "1073", "--PerpSpringConstant=5", "--NImages", "5", "-h", "-1"]);
    }

    #[test]
    fn defaults_are_the_published_ones() {
        let crate::Command::Neb(a) =
            crate::parse_words(&["neb", "-cr", "c.h5", "-pp", "pot", "-if", "s.npy", "-T", "1000"])
        else {
            unreachable!()
        };
        assert_eq!((a.lat_par, a.n_images, a.n_steps, a.force_tol, a.en_tol), (3.595, 11, 100, 1e-3, 0.0));
        assert_eq!(
            (a.disp_threshold, a.time_step, a.spring_constant, a.perp_spring_constant),
            (1.0, 0.001, 10.0, 10.0)
        );
        assert_eq!((a.n_units, a.state_start, a.batch_size, a.chunk_size, a.mem_per_cpu), (5, 0, 200, 20, 1000));
        assert_eq!((a.prim, a.write_all_jumps, a.dump_arguments), (false, false, false));
        assert_eq!(a.dump_file, PathBuf::from("ArgFiles"));
        assert_eq!(a.elements, ["Co", "Ni", "Cr", "Fe", "Mn"]);
        assert!(a.dump().starts_with("CrysDatPath:\tc.h5\nPotPath:\tpot\n"));
    }
}
