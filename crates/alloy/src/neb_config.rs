//! `gcnet neb` as one library call: the published NEB_steps_multiTraj.py run (SPEC
//! section 8) from plain settings. [`NebConfig::run`] checks and loads every input (each
//! error names the option and the file; nothing is written), finds LAMMPS, takes the
//! shard's lock, runs the missing KMC steps with a progress bar and log lines on stderr,
//! and assembles the training file when asked.

use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;

use gcnet_crystal::CrystalData;
use gcnet_files::Overwrite;
use gcnet_progress::say;

use crate::argument_dump::ArgumentDump;
use crate::dataset::assemble;
use crate::error::{Error, Result, Within};
use crate::geometry::{CellSpec, Geometry};
use crate::jobs::{Engine, Model, available_cores};
use crate::lammps::{Lammps, LaunchOptions, Launcher};
use crate::neb::NebSettings;
use crate::potential::{CANTOR_ELEMENTS, Potential};
use crate::provenance::StatesOrigin;
use crate::run::{Event, KmcSettings, NebKmc};
use crate::states::InitialStates;
use crate::stepfile::{StepData, step_file_name};

/// Everything `gcnet neb` takes (the published spelling in brackets); [`NebConfig::new`]
/// gives the published defaults.
#[derive(Clone, Debug)]
pub struct NebConfig {
    /// [-cr] Crystal data file (from `gcnet crystal`).
    pub crystal: PathBuf,
    /// [-pp] Directory holding library.meam and params.meam.
    pub potential: PathBuf,
    /// [-if] Initial states (.npy, integer (N, Nsites), the vacancy label 0 on site 0).
    pub initial_states: PathBuf,
    /// [-a0] Å; default 3.595.
    pub lattice_parameter: f64,
    /// [-u], [-pr] The supercell the crystal file must hold; default 5 cubic cells per side.
    pub cell: CellSpec,
    /// [-idx] First state of the run in the file; default 0.
    pub first_state: usize,
    /// [-bs] States of the run (fewer if the file ends first); default 200.
    pub batch_size: usize,
    /// The element of label 1, 2, ...; default Co Ni Cr Fe Mn.
    pub elements: Vec<String>,
    /// [-ni -ftol -etol -ts -k -p --climb-steps] The NEBs and end-state relaxations.
    pub neb: NebSettings,
    /// [-T -th -ns -cs --seed] Temperature, threshold, steps, chunk and seed; defaults
    /// -th 1 Å, -ns 100, -cs 20, seed 0.
    pub kmc: KmcSettings,
    /// [-wa] Keep every NEB's files in NEB_files_IDX/step_S/state_N/jump_J/.
    pub keep_files: bool,
    /// How the NEBs' ranks start; default mpiexec.
    pub launcher: Launcher,
    /// [-mpc] MB per CPU, passed to `srun --mem-per-cpu` (mpiexec has no limit); default 1000.
    pub mem_per_cpu_mb: u64,
    /// NEBs at once; default: the cores (SLURM_NTASKS under srun) divided by the images.
    pub parallel_nebs: Option<usize>,
    /// The lmp executable; default: GCNET_LMP, the project's .venv, PATH.
    pub lmp: Option<PathBuf>,
    /// Where the step files go; default the working directory ".".
    pub out_dir: PathBuf,
    /// After the steps, the single-step training file (needs 2 steps or more).
    pub dataset: Option<PathBuf>,
    /// Whether an existing `dataset` file is replaced; default refused.
    pub overwrite: Overwrite,
    /// [-dmp -dpf] The argument file, written once the run holds its shard.
    pub argument_dump: Option<ArgumentDump>,
}

impl NebConfig {
    /// The published defaults for a run of the states in `initial_states` at
    /// `temperature` K.
    pub fn new(
        crystal: impl Into<PathBuf>,
        potential: impl Into<PathBuf>,
        initial_states: impl Into<PathBuf>,
        temperature: f64,
    ) -> NebConfig {
        NebConfig {
            crystal: crystal.into(),
            potential: potential.into(),
            initial_states: initial_states.into(),
            lattice_parameter: 3.595,
            cell: CellSpec { units: 5, primitive: false },
            first_state: 0,
            batch_size: 200,
            elements: CANTOR_ELEMENTS.iter().map(|e| e.to_string()).collect(),
            neb: NebSettings::default(),
            kmc: KmcSettings { temperature, threshold: 1.0, steps: 100, seed: 0, chunk: 20 },
            keep_files: false,
            launcher: Launcher::Mpiexec,
            mem_per_cpu_mb: 1000,
            parallel_nebs: None,
            lmp: None,
            out_dir: PathBuf::from("."),
            dataset: None,
            overwrite: Overwrite::Refuse,
            argument_dump: None,
        }
    }

    /// The settings alone, without touching a file.
    pub fn validate(&self) -> Result<()> {
        self.neb.validate().within("checking -ni, -ftol, -etol, -ts, -k, -p and --climb-steps")?;
        let k = &self.kmc;
        self.kmc.validate().within_lazy(|| {
            format!("checking -T {} -th {} -ns {} -cs {}", k.temperature, k.threshold, k.steps, k.chunk)
        })?;
        if self.batch_size == 0 {
            return Err(Error::Config("-bs must be at least 1".into()));
        }
        if self.dataset.is_some() && self.kmc.steps < 2 {
            return Err(Error::Config(
                "--dataset needs -ns 2 or more (the rates out of the final states come from step 2)".into(),
            ));
        }
        Ok(())
    }

    /// The files the run reads; no output of the run is ever one of them.
    pub fn inputs(&self) -> Vec<PathBuf> {
        vec![
            self.crystal.clone(),
            self.initial_states.clone(),
            self.potential.join(Potential::LIBRARY),
            self.potential.join(Potential::PARAMS),
        ]
    }

    /// Checks every input and loads it; nothing is written.
    fn prepare(&self) -> Result<(CrystalData, Model, InitialStates)> {
        self.validate()?;
        self.launcher.check()?;
        if let Some(d) = &self.dataset {
            gcnet_files::check_output(d, &self.inputs(), self.overwrite).within("--dataset")?;
        }
        let potential = Potential::new(&self.potential).within_lazy(|| format!("-pp {}", self.potential.display()))?;
        potential.check_elements(&self.elements).within("--elements")?;
        let cr = self.crystal.display();
        let crystal = CrystalData::read(&self.crystal).within_lazy(|| format!("-cr {cr}"))?;
        let CellSpec { units, primitive } = self.cell;
        let geometry = Geometry::new(&crystal, self.lattice_parameter, self.cell)
            .within_lazy(|| format!("-cr {cr} with -u {units}{}", if primitive { " -pr" } else { "" }))?;
        let (first, n) = (self.first_state, self.batch_size);
        let num_labels = self.elements.len() + 1;
        let states = InitialStates::load(&self.initial_states, first, n, crystal.num_sites(), num_labels)
            .within_lazy(|| format!("-if {} (-idx {first}, -bs {n})", self.initial_states.display()))?;
        let model = Model { geometry, potential, elements: self.elements.clone(), neb: self.neb.clone() };
        Ok((crystal, model, states))
    }

    /// The cores the NEB ranks share: SLURM_NTASKS under srun, else this machine's.
    fn cores(&self) -> usize {
        let slurm = std::env::var("SLURM_NTASKS").ok().and_then(|v| v.parse::<usize>().ok());
        match (self.launcher, slurm) {
            (Launcher::Srun, Some(n)) if n > 0 => n,
            _ => available_cores(),
        }
    }

    /// Runs the missing steps (see the module documentation) and, with `dataset`, writes
    /// the training file from steps 1 and 2. Rerun with the same settings in the same
    /// directory, it continues after the last complete step.
    pub fn run(&self) -> Result<NebReport> {
        let (crystal, model, states) = self.prepare()?;
        let lammps = Lammps::locate(self.lmp.as_deref()).within("finding LAMMPS (--lmp)")?;
        let cores = self.cores();
        let images = self.neb.images;
        let parallel = self.parallel_nebs.unwrap_or_else(|| Engine::default_parallel(cores, images));
        let launch = LaunchOptions {
            launcher: self.launcher,
            mem_per_cpu_mb: (self.launcher == Launcher::Srun).then_some(self.mem_per_cpu_mb),
            throttle: false,
        };
        let engine = Engine::new(lammps, launch, parallel, images, cores);
        let kmc = NebKmc {
            engine: &engine,
            model: &model,
            crystal: &crystal,
            cell: self.cell,
            states: &states,
            kmc: self.kmc.clone(),
            out_dir: self.out_dir.clone(),
            keep_files: self.keep_files,
        };
        let inputs = self.inputs();
        if let Some(dump) = &self.argument_dump {
            dump.check(&inputs)?;
        }
        let start = kmc.start().within("gcnet neb")?;
        let bar = gcnet_progress::bar(0, "jobs");
        if let Some(dump) = &self.argument_dump {
            dump.write(&inputs, &bar)?;
        }
        let origin = states.origin().clone();
        let lmp = &engine.lammps;
        say(
            &bar,
            format!(
                "gcnet neb: {} states ({}..{} of {}), {} sites, {images} images, T = {} K, {} NEB(s) at once of {images} ranks on {cores} cores, LAMMPS {} ({})",
                states.len(),
                origin.start,
                origin.end(),
                self.initial_states.display(),
                crystal.num_sites(),
                self.kmc.temperature,
                engine.parallel,
                lmp.version(),
                lmp.exe().display()
            ),
        );
        let bar = Mutex::new(bar);
        let summary = kmc.run(&start, &|e| report(&bar.lock().expect("no panics while holding the lock"), e));
        let bar = bar.into_inner().expect("no panics while holding the lock");
        let summary = summary.within("gcnet neb")?;
        bar.finish_and_clear();
        eprintln!("gcnet neb: {} step file(s) written, {} were there", summary.written.len(), summary.steps_before);
        let dataset = match &self.dataset {
            Some(path) => {
                self.assemble(&states, &crystal, path)?;
                Some(DatasetWritten {
                    path: path.clone(),
                    samples: states.len(),
                    num_sites: crystal.num_sites(),
                    num_elements: self.elements.len(),
                    lattice_parameter: self.lattice_parameter,
                })
            }
            None => None,
        };
        start.finish().within("gcnet neb")?;
        Ok(NebReport { states: origin, steps_before: summary.steps_before, written: summary.written, dataset })
    }

    /// The training file from the run's step files 1 and 2.
    fn assemble(&self, states: &InitialStates, crystal: &CrystalData, path: &std::path::Path) -> Result<()> {
        let read = |step: usize| -> Result<_> {
            let p = self.out_dir.join(step_file_name(step, states.origin().start));
            let (data, record) = StepData::read(&p)?;
            let record = record.ok_or_else(|| Error::Config(format!("{} has no run record", p.display())))?;
            Ok((data, record))
        };
        let ((s1, r1), (s2, r2)) = (read(1)?, read(2)?);
        assemble((&s1, &r1), (&s2, &r2), states.labels(), crystal, path, self.overwrite)
            .within_lazy(|| format!("--dataset {}", path.display()))
    }
}

/// The log line or bar update of one event of a run.
fn report(bar: &gcnet_progress::ProgressBar, e: Event) {
    match e {
        Event::Resumed { steps_done, chunk_rows } => say(
            bar,
            format!("continuing after step {steps_done} (and {chunk_rows} states of the next step already done)"),
        ),
        Event::Complete { steps } => say(bar, format!("all {steps} steps are done already")),
        Event::StepStarted { step, jobs } => {
            bar.set_length(jobs as u64);
            bar.set_position(0);
            bar.set_message(format!("step {step}"));
            say(bar, format!("step {step}: {jobs} jobs (NEBs and end-state relaxation passes)"));
        }
        Event::Job { .. } => bar.inc(1),
        Event::NotConverged { step, state, jump, iterations } => say(
            bar,
            format!(
                "warning: step {step}, state {state}, jump {jump}: the NEB stopped at its step limit ({iterations}) before -ftol was reached"
            ),
        ),
        Event::ChunkDone { step, rows, of } => say(bar, format!("step {step}: {rows} of {of} states done")),
        Event::StepWritten { step, path, .. } => say(bar, format!("step {step}: wrote {}", path.display())),
    }
}

/// What a run did.
#[derive(Clone, Debug, PartialEq)]
pub struct NebReport {
    /// The run's states.
    pub states: StatesOrigin,
    /// Complete steps at the start.
    pub steps_before: usize,
    /// Step files written by this run.
    pub written: Vec<PathBuf>,
    pub dataset: Option<DatasetWritten>,
}

/// The training file a run assembled.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetWritten {
    pub path: PathBuf,
    pub samples: usize,
    pub num_sites: usize,
    pub num_elements: usize,
    /// Å: GCNet trains on the file with this -a0 (SpecDisps are in Å).
    pub lattice_parameter: f64,
}

impl fmt::Display for DatasetWritten {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "wrote {}: {} samples, {} sites, labels 0..{} (vacancy 0), SpecDisps in A (train with -a0 {} -vSp 0)",
            self.path.display(),
            self.samples,
            self.num_sites,
            self.num_elements,
            self.lattice_parameter
        )
    }
}
