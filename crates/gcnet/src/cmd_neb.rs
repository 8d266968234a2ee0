//! `gcnet neb`: NEB kinetic Monte Carlo on LAMMPS with the published
//! NEB_steps_multiTraj.py command line (SPEC section 8); `gcnet neb-merge`: one data set
//! from several shards; `gcnet neb-bench` (in cmd_neb_bench.rs).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use gcnet_alloy::{
    CellSpec, Engine, Event, Geometry, InitialStates, KmcSettings, Lammps, LaunchOptions, Launcher, Model, NebKmc,
    NebSettings, Physics, Potential, StepData, StepRecord, available_cores, provenance, step_file_name,
};
use gcnet_crystal::CrystalData;
use gcnet_files::Overwrite;

use crate::spellings::{long_spellings, py_float, whole};
use gcnet_progress::bar as progress_bar;
use gcnet_progress::say;

#[path = "cmd_neb_bench.rs"]
mod bench;

pub fn run(sub: &str, args: &[OsString]) -> anyhow::Result<ExitCode> {
    match sub {
        "neb" => neb(NebArgs::parse_from(long_spellings(args, SPELLINGS))),
        "neb-merge" => merge(MergeArgs::parse_from(long_spellings(args, &[("-cr", "--crystal")]))),
        "neb-bench" => bench::run(args),
        _ => bail!("unknown NEB subcommand `{sub}`"),
    }
}

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
#[derive(Debug, Parser)]
#[command(name = "gcnet neb", bin_name = "gcnet neb", args_override_self = true, allow_negative_numbers = true)]
struct NebArgs {
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

impl NebArgs {
    fn neb_settings(&self) -> NebSettings {
        NebSettings {
            images: self.n_images,
            spring_parallel: self.spring_constant,
            spring_perp: self.perp_spring_constant,
            force_tol: self.force_tol,
            energy_tol: self.en_tol,
            timestep: self.time_step,
            climb_steps: self.climb_steps,
            ..NebSettings::default()
        }
    }

    fn kmc_settings(&self) -> KmcSettings {
        KmcSettings {
            temperature: self.temp,
            threshold: self.disp_threshold,
            steps: self.n_steps,
            seed: self.seed,
            chunk: self.chunk_size,
        }
    }

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

/// Everything checked and loaded before any LAMMPS run.
struct Prepared {
    crystal: CrystalData,
    model: Model,
    states: InitialStates,
    physics: Physics,
}

/// Checks every input (each error names the option and the file); nothing is written.
fn prepare(a: &NebArgs) -> anyhow::Result<Prepared> {
    let neb = a.neb_settings();
    neb.validate().context("checking -ni, -ftol, -etol, -ts, -k, -p and --climb-steps")?;
    a.kmc_settings().validate().with_context(|| {
        format!("checking -T {} -th {} -ns {} -cs {}", a.temp, a.disp_threshold, a.n_steps, a.chunk_size)
    })?;
    if a.batch_size == 0 {
        bail!("-bs must be at least 1");
    }
    if a.dataset.is_some() && a.n_steps < 2 {
        bail!("--dataset needs -ns 2 or more (the rates out of the final states come from step 2)");
    }
    if let Some(d) = &a.dataset
        && d.exists()
        && !a.force
    {
        bail!("--dataset {} already exists (pass --force to replace it)", d.display());
    }
    let potential = Potential::new(&a.pot_path).with_context(|| format!("-pp {}", a.pot_path.display()))?;
    potential.check_elements(&a.elements).context("--elements")?;
    let crystal = CrystalData::read(&a.crys_dat_path).with_context(|| format!("-cr {}", a.crys_dat_path.display()))?;
    let geometry =
        Geometry::new(&crystal, a.lat_par, CellSpec { units: a.n_units, primitive: a.prim }).with_context(|| {
            format!("-cr {} with -u {}{}", a.crys_dat_path.display(), a.n_units, if a.prim { " -pr" } else { "" })
        })?;
    let num_labels = a.elements.len() + 1;
    let states = InitialStates::load(&a.init_state_file, a.state_start, a.batch_size, crystal.num_sites(), num_labels)
        .with_context(|| {
            format!("-if {} (-idx {}, -bs {})", a.init_state_file.display(), a.state_start, a.batch_size)
        })?;
    let physics = Physics {
        crystal_hash: provenance::crystal_hash(&crystal)?,
        num_sites: crystal.num_sites(),
        z: crystal.z(),
        lattice_parameter: a.lat_par,
        units: a.n_units,
        primitive: a.prim,
        elements: a.elements.clone(),
        potential_hash: provenance::hex(potential.hash()),
        temperature: a.temp,
        neb: neb.clone(),
        threshold: a.disp_threshold,
    };
    let model = Model { geometry, potential, elements: a.elements.clone(), neb };
    Ok(Prepared { crystal, model, states, physics })
}

/// Cores for NEB ranks: SLURM_NTASKS under srun, else this machine's.
fn cores(launcher: Launcher) -> usize {
    let slurm = std::env::var("SLURM_NTASKS").ok().and_then(|v| v.parse::<usize>().ok());
    match (launcher, slurm) {
        (Launcher::Srun, Some(n)) if n > 0 => n,
        _ => available_cores(),
    }
}

fn neb(a: NebArgs) -> anyhow::Result<ExitCode> {
    let prepared = prepare(&a)?;
    let lammps = Lammps::locate(a.lmp.as_deref()).context("finding LAMMPS (--lmp)")?;
    let launcher = match a.launcher {
        LauncherArg::Mpiexec => Launcher::Mpiexec,
        LauncherArg::Srun => Launcher::Srun,
    };
    let cores = cores(launcher);
    let parallel = a.parallel_nebs.unwrap_or_else(|| Engine::default_parallel(cores, a.n_images));
    let launch = LaunchOptions {
        launcher,
        mem_per_cpu_mb: (launcher == Launcher::Srun).then_some(a.mem_per_cpu),
        throttle: false,
    };
    let engine = Engine::new(lammps, launch, parallel, a.n_images, cores);
    let Prepared { crystal, model, states, physics } = prepared;
    let out_dir = std::env::current_dir().context("reading the working directory")?;
    let kmc = NebKmc {
        engine: &engine,
        model: &model,
        physics,
        states: &states,
        kmc: a.kmc_settings(),
        out_dir: out_dir.clone(),
        keep_files: a.write_all_jumps,
        lammps_version: engine.lammps.version().to_string(),
    };
    // -dpf may replace an earlier dump (reruns continue a run), never an input
    let inputs = [
        a.crys_dat_path.clone(),
        a.init_state_file.clone(),
        a.pot_path.join("library.meam"),
        a.pot_path.join("params.meam"),
    ];
    if a.dump_arguments {
        crate::spellings::check_dump(&a.dump_file, &inputs)?;
    }
    let start = kmc.start().context("gcnet neb")?;
    if a.dump_arguments {
        crate::spellings::write_dump(&a.dump_file, &inputs, Overwrite::Replace, &a.dump())?;
        eprintln!("Dumping arguments to: {}", a.dump_file.display());
    }
    eprintln!(
        "gcnet neb: {} states ({}..{} of {}), {} sites, {} images, T = {} K, {} NEB(s) at once of {} ranks on {} cores, LAMMPS {} ({})",
        states.len(),
        states.origin().start,
        states.origin().end(),
        a.init_state_file.display(),
        crystal.num_sites(),
        a.n_images,
        a.temp,
        engine.parallel,
        a.n_images,
        cores,
        engine.lammps.version(),
        engine.lammps.exe().display()
    );
    let bar = Mutex::new(progress_bar(0, "jobs"));
    let on_event = |e: Event| {
        let bar = bar.lock().expect("no panics while holding the lock");
        match e {
            Event::Resumed { steps_done, chunk_rows } => say(
                &bar,
                format!("continuing after step {steps_done} (and {chunk_rows} states of the next step already done)"),
            ),
            Event::Complete { steps } => say(&bar, format!("all {steps} steps are done already")),
            Event::StepStarted { step, jobs } => {
                bar.set_length(jobs as u64);
                bar.set_position(0);
                bar.set_message(format!("step {step}"));
                say(&bar, format!("step {step}: {jobs} jobs (NEBs and end-state relaxation passes)"));
            }
            Event::Job { .. } => bar.inc(1),
            Event::NotConverged { step, state, jump, iterations } => say(
                &bar,
                format!(
                    "warning: step {step}, state {state}, jump {jump}: the NEB stopped at its step limit ({iterations}) before -ftol was reached"
                ),
            ),
            Event::ChunkDone { step, rows, of } => say(&bar, format!("step {step}: {rows} of {of} states done")),
            Event::StepWritten { step, path, .. } => say(&bar, format!("step {step}: wrote {}", path.display())),
        }
    };
    let summary = kmc.run(&start, &on_event).context("gcnet neb")?;
    bar.lock().expect("no panics while holding the lock").finish_and_clear();
    eprintln!("gcnet neb: {} step file(s) written, {} were there", summary.written.len(), summary.steps_before);
    if let Some(path) = &a.dataset {
        let idx = states.origin().start;
        let read = |step: usize| -> anyhow::Result<(StepData, StepRecord)> {
            let p = out_dir.join(step_file_name(step, idx));
            let (data, record) = StepData::read(&p)?;
            let record = record.with_context(|| format!("{} has no run record", p.display()))?;
            Ok((data, record))
        };
        let (s1, r1) = read(1)?;
        let (s2, r2) = read(2)?;
        gcnet_alloy::assemble((&s1, &r1), (&s2, &r2), states.labels(), &crystal, path, Overwrite::force(a.force))
            .with_context(|| format!("--dataset {}", path.display()))?;
        println!(
            "wrote {}: {} samples, {} sites, labels 0..{} (vacancy 0), SpecDisps in A (train with -a0 {} -vSp 0)",
            path.display(),
            states.len(),
            crystal.num_sites(),
            a.elements.len(),
            a.lat_par
        );
    }
    start.finish().context("gcnet neb")?;
    Ok(ExitCode::SUCCESS)
}

/// Concatenate the data sets of several shards of one study (the -idx/-bs ranges of a job
/// array) into one file. Shards must agree on the crystal, lattice parameter, elements,
/// potential, temperature and NEB settings, and no initial state may be in two of them.
/// The merged file is checked as `gcnet check` does before it appears.
#[derive(Debug, Parser)]
#[command(name = "gcnet neb-merge", bin_name = "gcnet neb-merge")]
struct MergeArgs {
    /// Data sets from `gcnet neb --dataset`.
    #[arg(required = true, num_args = 2..)]
    inputs: Vec<PathBuf>,
    /// The merged data set.
    #[arg(short = 'o', long)]
    output: PathBuf,
    /// [-cr] The crystal file of the gcnet neb runs, for the check of the merged file
    /// (default: the FCC cell of the shards' -u and -pr, when that is the one they used).
    #[arg(long = "crystal", visible_alias = "CrysDatPath", value_name = "PATH")]
    crystal: Option<PathBuf>,
    /// Replace an existing output file (never one of the inputs).
    #[arg(long)]
    force: bool,
}

fn merge(a: MergeArgs) -> anyhow::Result<ExitCode> {
    if a.output.exists() && !a.force {
        bail!("{} already exists (pass --force to replace it)", a.output.display());
    }
    let crystal = match &a.crystal {
        Some(c) => Some(CrystalData::read(c).with_context(|| format!("-cr {}", c.display()))?),
        None => None,
    };
    let summary = gcnet_alloy::merge(&a.inputs, &a.output, crystal.as_ref(), Overwrite::force(a.force))
        .with_context(|| format!("merging into {}", a.output.display()))?;
    println!("wrote {}: {} samples from {} shards", a.output.display(), summary.samples, summary.shards.len());
    for s in &summary.shards {
        println!("  states {}..{} of {} (seed {})", s.states.start, s.states.end(), s.states.file, s.seed);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let a = NebArgs::parse_from(long_spellings(
            &["gcnet neb", "-cr", "c.h5", "-pp", "pot", "-if", "s.npy", "-T", "1000"].map(OsString::from),
            SPELLINGS,
        ));
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
