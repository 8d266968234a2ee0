//! NEB kinetic Monte Carlo over several steps (the published NEB_steps_multiTraj.py): for
//! each step, every jump of every state by NEB, chunk by chunk; the jump taken; the step
//! file. Rerun in the same directory, a run continues after its last complete step file,
//! and within the step after its last complete chunk (chunk results are kept in the run's
//! scratch directory `.gcnet-neb-{idx}/`), so a killed run loses at most the chunk in
//! progress. The uniform number of a state depends on the seed, the step and the state's
//! index only: resumed, sharded and uninterrupted runs give the same files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use gcnet_crystal::CrystalData;
use gcnet_files::RunLock;
use ndarray::Array2;

use crate::error::{Error, Result};
use crate::fingerprint::hex;
use crate::geometry::{CellSpec, Geometry};
use crate::jobs::{Engine, JobDirs, JobDone, Model, StateJumps, StateTask, compute_jumps};
use crate::kmc::{rate, select_jump, uniform};
use crate::provenance::{Physics, StepRecord, crystal_hash};
use crate::states::InitialStates;
use crate::stepfile::{StepData, existing_step_files, step_file_name};

/// The KMC part of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct KmcSettings {
    /// K.
    pub temperature: f64,
    /// Å: end states whose atoms move farther than this are off-lattice (rate 0).
    pub threshold: f64,
    /// Total KMC steps (a resumed run computes the missing ones).
    pub steps: usize,
    pub seed: u64,
    /// States whose jumps are computed together (and checkpointed together).
    pub chunk: usize,
}

impl KmcSettings {
    /// Checks what physics and the run allow: a finite temperature above 0 K, a finite
    /// threshold above 0 Å, at least one step and one state per chunk.
    pub fn validate(&self) -> Result<()> {
        crate::kmc::check_temperature(self.temperature)?;
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return Err(Error::Config(format!(
                "the displacement threshold must be a finite distance above 0 Å, got {}",
                self.threshold
            )));
        }
        if self.steps == 0 || self.chunk == 0 {
            return Err(Error::Config(
                "the steps and the chunk size (states computed at a time) must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// Progress of a run, reported as it happens.
#[derive(Clone, Debug)]
pub enum Event {
    /// Resuming: `steps_done` step files exist, `chunk_rows` rows of the next step too.
    Resumed {
        steps_done: usize,
        chunk_rows: usize,
    },
    /// Every step is already there.
    Complete {
        steps: usize,
    },
    StepStarted {
        step: usize,
        jobs: usize,
    },
    Job {
        step: usize,
        done: JobDone,
    },
    /// A NEB ran into its step limit.
    NotConverged {
        step: usize,
        state: usize,
        jump: usize,
        iterations: usize,
    },
    ChunkDone {
        step: usize,
        rows: usize,
        of: usize,
    },
    StepWritten {
        step: usize,
        path: PathBuf,
        seconds: f64,
    },
}

/// Everything a run needs, each setting once: the NEB settings live in the model, the
/// temperature and the threshold in the KMC settings, the LAMMPS version in the engine.
/// The record written with every step file is derived from them ([`NebKmc::physics`]),
/// so it always says what the run computed.
pub struct NebKmc<'a> {
    pub engine: &'a Engine,
    /// Structure, potential, elements and NEB settings.
    pub model: &'a Model,
    /// The crystal file the model's geometry was built from, and the cell it was checked
    /// against (the record's fingerprint, -u and -pr).
    pub crystal: &'a CrystalData,
    pub cell: CellSpec,
    pub states: &'a InitialStates,
    pub kmc: KmcSettings,
    /// Where the step files go (the published scripts use the working directory).
    pub out_dir: PathBuf,
    /// Keep every NEB's files under `NEB_files_{idx}/step_{s}/`.
    pub keep_files: bool,
}

/// A run that holds its lock (see [`NebKmc::start`]); dropped, it releases the lock and
/// keeps the scratch directory (the chunks of an unfinished step).
#[derive(Debug)]
pub struct NebStart {
    lock: RunLock,
    scratch: PathBuf,
    done: usize,
    last: Option<StepData>,
}

impl NebStart {
    /// Complete steps at the start.
    pub fn steps_done(&self) -> usize {
        self.done
    }

    /// Ends a run that has done what it was to do: the scratch directory goes, lock and
    /// all (only its lock file and empty job directories are left by then; anything else
    /// stays).
    pub fn finish(self) -> Result<()> {
        // A stop asked for after the last step (while the binary wrote its data set, say)
        // still ends the run as stopped; the scratch directory stays, as after any stop.
        crate::interrupt::check(|| "after the last step".into())?;
        // The lock file goes while still held: a run that opened it before fails to lock
        // it, one after creates a new one.
        clear_job_dirs(&self.scratch).ok();
        std::fs::remove_file(self.lock.path()).ok();
        drop(self.lock);
        std::fs::remove_dir(&self.scratch).ok();
        Ok(())
    }
}

/// What a run did.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// Steps present at the start.
    pub steps_before: usize,
    /// Step files written by this run.
    pub written: Vec<PathBuf>,
}

impl NebKmc<'_> {
    pub fn idx(&self) -> usize {
        self.states.origin().start
    }

    /// What the numbers of this run depend on, derived from the crystal, the cell, the
    /// model and the KMC settings.
    pub fn physics(&self) -> Result<Physics> {
        let g = &self.model.geometry;
        Ok(Physics {
            crystal_hash: crystal_hash(self.crystal)?,
            num_sites: g.num_sites(),
            z: g.z(),
            lattice_parameter: g.a0(),
            units: self.cell.units,
            primitive: self.cell.primitive,
            elements: self.model.elements.clone(),
            potential_hash: hex(self.model.potential.hash()),
            temperature: self.kmc.temperature,
            neb: self.model.neb.clone(),
            threshold: self.kmc.threshold,
        })
    }

    /// The record every step file of this run carries.
    pub fn record(&self, step: usize) -> Result<StepRecord> {
        Ok(StepRecord {
            physics: self.physics()?,
            seed: self.kmc.seed,
            states: self.states.origin().clone(),
            step,
            lammps_version: self.engine.lammps.version().to_string(),
            gcnet_version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }

    /// The run's scratch directory.
    pub fn scratch_dir(&self) -> PathBuf {
        self.out_dir.join(format!(".gcnet-neb-{}", self.idx()))
    }

    /// Checks the step files already in the output directory against this run and returns
    /// the last complete step and its data (the states to continue from).
    /// Each step file is checked against the run record and against the states it
    /// continues (the initial states, then the previous file's FinalStates): every
    /// FinalState must be its state before the step with the recorded jump made (the
    /// vacancy exchanged with the jumping atom), so an edited state, or one of another
    /// run, is refused before this run builds on it.
    pub fn existing_steps(&self) -> Result<(usize, Option<StepData>)> {
        let files = existing_step_files(&self.out_dir, self.idx())?;
        let physics = self.physics()?;
        let mut last: Option<StepData> = None;
        let mut before: Array2<u8> = self.states.labels().clone();
        for (i, (k, path)) in files.iter().enumerate() {
            if *k != i + 1 {
                return Err(Error::Resume {
                    path: path.clone(),
                    reason: format!(
                        "step file {k} exists but {} does not; refusing to continue a run with a missing step",
                        self.out_dir.join(step_file_name(i + 1, self.idx())).display()
                    ),
                });
            }
            let (data, record) = StepData::read(path)?;
            self.check_record(path, record.as_ref(), &physics, *k)?;
            if data.len() != self.states.len() || data.final_states.ncols() != physics.num_sites {
                return Err(Error::Resume {
                    path: path.clone(),
                    reason: format!(
                        "holds {} states of {} sites; this run has {} of {}",
                        data.len(),
                        data.final_states.ncols(),
                        self.states.len(),
                        physics.num_sites
                    ),
                });
            }
            self.check_step(path, *k, &before, &data)?;
            before = data.final_states.clone();
            last = Some(data);
        }
        Ok((files.len(), last))
    }

    /// FinalStates of step file `path` (step `step`) against the states before the step.
    fn check_step(&self, path: &Path, step: usize, before: &Array2<u8>, data: &StepData) -> Result<()> {
        let g = &self.model.geometry;
        for r in 0..data.len() {
            let state = self.idx() + r;
            let bad = |reason: String| Error::State {
                path: path.to_path_buf(),
                state,
                reason: format!("step {step}: {reason}; refusing to continue from this file"),
            };
            let v = vacancy_of(before, r).map_err(|_| {
                bad("the state before this step does not hold exactly one vacancy (the step file before was changed)".into())
            })?;
            let j = data.jump_selects[r];
            if j < 0 || j as usize >= g.z() {
                return Err(bad(format!("JumpSelects is {j}, not a jump 0..{}", g.z())));
            }
            let want = after_jump(g, before.row(r).as_slice().expect("standard layout"), v, j as usize);
            let found = data.final_states.row(r);
            if let Some(site) = (0..want.len()).find(|&s| want[s] != found[s]) {
                return Err(bad(format!(
                    "FinalStates holds label {} on site {site}, where the state before the step with jump {j} made \
                     (vacancy {v} to site {}) holds {}: the file was changed or is of another run",
                    found[site],
                    g.neighbour(v, j as usize),
                    want[site]
                )));
            }
        }
        Ok(())
    }

    fn check_record(&self, path: &Path, record: Option<&StepRecord>, physics: &Physics, step: usize) -> Result<()> {
        let resume = |reason: String| Error::Resume { path: path.to_path_buf(), reason };
        let Some(r) = record else {
            return Err(resume(
                "has no gcnet run record (it was not written by `gcnet neb`); refusing to continue it".into(),
            ));
        };
        if let Some(d) = r.physics.difference(physics) {
            return Err(resume(format!("was made with other settings ({d}, file vs this run); use another directory")));
        }
        let (a, b) = (&r.states, self.states.origin());
        if (a.start, a.count, &a.states_hash) != (b.start, b.count, &b.states_hash) {
            return Err(resume(format!(
                "was made from states {}..{} of {} (hash {}); this run has states {}..{} of {} (hash {})",
                a.start,
                a.end(),
                a.file,
                a.states_hash,
                b.start,
                b.end(),
                b.file,
                b.states_hash
            )));
        }
        if r.seed != self.kmc.seed {
            return Err(resume(format!("was made with seed {}; this run has seed {}", r.seed, self.kmc.seed)));
        }
        if r.step != step {
            return Err(resume(format!("records step {}, its name says step {step}", r.step)));
        }
        Ok(())
    }

    /// Checks the run and the step files already there, then takes the run's lock and
    /// checks again under it (another run may have finished steps meanwhile). The lock is
    /// on the run's scratch directory `.gcnet-neb-{idx}/`, the one every output of the
    /// run (its step files, kept NEB files and chunks) is named after: shards with other
    /// -idx share the output directory, a second run of the same shard is refused here,
    /// its holder named. A run that cannot start writes nothing; one refused by the
    /// lock neither.
    pub fn start(&self) -> Result<NebStart> {
        self.kmc.validate()?;
        self.existing_steps()?;
        let scratch = self.scratch_dir();
        std::fs::create_dir_all(&scratch).map_err(Error::io(&scratch, "create the scratch directory"))?;
        let lock = RunLock::acquire(&scratch, "gcnet neb")?;
        let (done, last) = self.existing_steps()?;
        Ok(NebStart { lock, scratch, done, last })
    }

    /// Runs the missing steps of a run [`NebKmc::start`] has taken. From here on the
    /// process catches SIGINT and SIGTERM ([`crate::interrupt`]): either stops the run
    /// with [`Error::Interrupted`] once every LAMMPS process has ended.
    pub fn run(&self, start: &NebStart, progress: &(dyn Fn(Event) + Sync)) -> Result<RunSummary> {
        let (done, scratch) = (start.done, &start.scratch);
        if done >= self.kmc.steps {
            progress(Event::Complete { steps: done });
            return Ok(RunSummary { steps_before: done, written: Vec::new() });
        }
        crate::interrupt::install()?;
        let mut summary = RunSummary { steps_before: done, written: Vec::new() };
        clear_job_dirs(scratch)?;
        clear_chunks(scratch, done)?;
        gcnet_files::remove_orphans(&self.out_dir)?;
        gcnet_files::remove_orphans(scratch)?;
        let mut labels: Array2<u8> = match &start.last {
            Some(d) => d.final_states.clone(),
            None => self.states.labels().clone(),
        };
        for step in done + 1..=self.kmc.steps {
            let data = self.step(step, &mut labels, scratch, progress, step == done + 1).map_err(|e| {
                // However the stop reached the run (a job refused, a LAMMPS run killed),
                // it is told as the stop, with where the run can continue.
                match crate::interrupt::requested() {
                    Some(signal) => Error::Interrupted {
                        signal,
                        place: self.stopped_in(step, scratch),
                        resume: crate::interrupt::RERUN,
                    },
                    None => e,
                }
            })?;
            let path = self.out_dir.join(step_file_name(step, self.idx()));
            let started = Instant::now();
            data.write(&path, &self.record(step)?)?;
            clear_chunks(scratch, step)?;
            progress(Event::StepWritten { step, path: path.clone(), seconds: started.elapsed().as_secs_f64() });
            summary.written.push(path);
        }
        Ok(summary)
    }

    fn stopped_in(&self, step: usize, scratch: &Path) -> String {
        format!(
            "in step {step} of {} ({} complete step file(s) data_k_{}.h5 in {}; the step's finished chunks of -cs {} \
             states are kept in {})",
            self.kmc.steps,
            step - 1,
            self.idx(),
            self.out_dir.display(),
            self.kmc.chunk,
            scratch.display()
        )
    }

    /// One KMC step of every state; `labels` are the states before it and after it.
    fn step(
        &self,
        step: usize,
        labels: &mut Array2<u8>,
        scratch: &Path,
        progress: &(dyn Fn(Event) + Sync),
        first: bool,
    ) -> Result<StepData> {
        let n = labels.nrows();
        let z = self.model.geometry.z();
        let geometry = &self.model.geometry;
        let mut data =
            StepData::zeros(n, labels.ncols(), self.model.num_labels(), self.model.neb.images, z, self.states.dtype());
        let chunk = self.kmc.chunk;
        let starts: Vec<usize> = (0..n).step_by(chunk).collect();
        let mut resumed_rows = 0;
        let mut todo = Vec::new();
        for &a in &starts {
            let b = (a + chunk).min(n);
            match self.read_chunk(scratch, step, a, b, labels)? {
                Some(block) => {
                    data.assign_rows(a, &block);
                    resumed_rows += b - a;
                }
                None => todo.push((a, b)),
            }
        }
        if first && (step > 1 || resumed_rows > 0) {
            progress(Event::Resumed { steps_done: step - 1, chunk_rows: resumed_rows });
        }
        progress(Event::StepStarted { step, jobs: todo.iter().map(|(a, b)| (b - a) * (z + 1)).sum() });
        let keep = self
            .keep_files
            .then(|| self.out_dir.join(format!("NEB_files_{}", self.idx())).join(format!("step_{step}")));
        for (a, b) in todo {
            crate::interrupt::check(|| self.stopped_in(step, scratch))?;
            let vacancies: Vec<usize> = (a..b).map(|r| vacancy_of(labels, r)).collect::<Result<_>>()?;
            let rows: Vec<Vec<u8>> = (a..b).map(|r| labels.row(r).to_vec()).collect();
            let tasks: Vec<StateTask> = (a..b)
                .map(|r| StateTask { index: self.idx() + r, labels: &rows[r - a], vacancy: vacancies[r - a] })
                .collect();
            let dirs = JobDirs { scratch: scratch.to_path_buf(), keep: keep.clone(), tag: format!("s{step}") };
            let results =
                compute_jumps(self.engine, self.model, &tasks, &dirs, &|done| progress(Event::Job { step, done }))?;
            let mut block = StepData::zeros(
                b - a,
                labels.ncols(),
                self.model.num_labels(),
                self.model.neb.images,
                z,
                self.states.dtype(),
            );
            for (i, (task, jumps)) in tasks.iter().zip(&results).enumerate() {
                for (j, r) in jumps.nebs.iter().enumerate() {
                    if !r.converged {
                        progress(Event::NotConverged { step, state: task.index, jump: j, iterations: r.iterations });
                    }
                }
                self.fill_row(&mut block, i, task, jumps, step)?;
            }
            self.write_chunk(scratch, step, a, b, &block)?;
            data.assign_rows(a, &block);
            progress(Event::ChunkDone { step, rows: b, of: n });
        }
        // The states after the step.
        for r in 0..n {
            let v = vacancy_of(labels, r)?;
            let after = after_jump(
                geometry,
                labels.row(r).as_slice().expect("standard layout"),
                v,
                data.jump_selects[r] as usize,
            );
            labels.row_mut(r).assign(&ndarray::ArrayView1::from(&after));
        }
        if *labels != data.final_states {
            return Err(Error::Config(format!(
                "internal check failed: the states after step {step} disagree with the chunk results (remove {} and rerun)",
                scratch.display()
            )));
        }
        Ok(data)
    }

    /// Rates, barriers, the jump taken and the state after it, for row `i` of a block.
    fn fill_row(
        &self,
        block: &mut StepData,
        i: usize,
        task: &StateTask,
        jumps: &StateJumps,
        step: usize,
    ) -> Result<()> {
        let g = &self.model.geometry;
        let z = g.z();
        for j in 0..z {
            let neb = &jumps.nebs[j];
            let end = &jumps.ends[j];
            let on_lattice = end.max_displacement <= self.kmc.threshold;
            block.barriers[[i, j]] = if on_lattice { neb.barrier } else { f64::INFINITY };
            block.rates[[i, j]] = if on_lattice { rate(neb.barrier, self.kmc.temperature) } else { 0.0 };
            for (im, (&e, &rd)) in neb.image_energies.iter().zip(&neb.reaction_coords).enumerate() {
                block.image_energies[[i, im, j]] = e;
                block.image_rds[[i, im, j]] = rd;
            }
            block.max_force[[i, j]] = neb.max_atom_force;
            block.max_iterations[[i, j]] = neb.iterations as i64;
            block.end_state_disps[[i, j]] = end.max_displacement;
        }
        let rates: Vec<f64> = block.rates.row(i).to_vec();
        let u = uniform(self.kmc.seed, step, task.index);
        let Some(j) = select_jump(&rates, u) else {
            let disps: Vec<String> = jumps.ends.iter().map(|e| format!("{:.3}", e.max_displacement)).collect();
            return Err(Error::Kmc {
                state: task.index,
                step,
                reason: format!(
                    "every jump is off-lattice (largest end-state displacements {} A, threshold {} A): no KMC step is possible",
                    disps.join(" "),
                    self.kmc.threshold
                ),
            });
        };
        let total: f64 = rates.iter().sum();
        block.times[i] = 1.0 / total;
        block.jump_selects[i] = j as i8;
        block.rand_nums[i] = u;
        let t = g.neighbour(task.vacancy, j);
        let atom = task.labels[t];
        let dx = g.jump(j);
        for (c, &x) in dx.iter().enumerate() {
            block.spec_disps[[i, 0, c]] = x;
            block.spec_disps[[i, atom as usize, c]] = -x;
        }
        let after = after_jump(g, task.labels, task.vacancy, j);
        block.final_states.row_mut(i).assign(&ndarray::ArrayView1::from(&after));
        Ok(())
    }

    fn chunk_path(scratch: &Path, step: usize, a: usize, b: usize) -> PathBuf {
        scratch.join(format!("chunk_{step}_{a}_{b}.h5"))
    }

    fn write_chunk(&self, scratch: &Path, step: usize, a: usize, b: usize, block: &StepData) -> Result<()> {
        let path = Self::chunk_path(scratch, step, a, b);
        if path.exists() {
            std::fs::remove_file(&path).map_err(Error::io(&path, "replace the chunk checkpoint"))?;
        }
        block.write(&path, &self.record(step)?)
    }

    /// A checkpointed chunk of this step, if one exists that this run would have made (same
    /// record, same states before the step).
    fn read_chunk(
        &self,
        scratch: &Path,
        step: usize,
        a: usize,
        b: usize,
        labels: &Array2<u8>,
    ) -> Result<Option<StepData>> {
        let path = Self::chunk_path(scratch, step, a, b);
        if !path.is_file() {
            return Ok(None);
        }
        let Ok((block, Some(record))) = StepData::read(&path) else { return Ok(None) };
        if record != self.record(step)? || block.len() != b - a {
            return Ok(None);
        }
        // The chunk's states before the step must be ours: undo each row's jump.
        for r in a..b {
            let i = r - a;
            let v = vacancy_of(labels, r)?;
            let j = block.jump_selects[i] as usize;
            if j >= self.model.geometry.z() {
                return Ok(None);
            }
            let after = after_jump(&self.model.geometry, labels.row(r).as_slice().expect("standard layout"), v, j);
            if block.final_states.row(i).as_slice() != Some(after.as_slice()) {
                return Ok(None);
            }
        }
        Ok(Some(block))
    }
}

/// The state after jump `jump` of the vacancy on site `vacancy`: the vacancy and the
/// atom on the jump's target site exchanged (the one place a KMC step changes a state).
fn after_jump(geometry: &Geometry, labels: &[u8], vacancy: usize, jump: usize) -> Vec<u8> {
    let t = geometry.neighbour(vacancy, jump);
    let mut after = labels.to_vec();
    after[vacancy] = labels[t];
    after[t] = 0;
    after
}

fn vacancy_of(labels: &Array2<u8>, row: usize) -> Result<usize> {
    let found: Vec<usize> = labels.row(row).iter().enumerate().filter(|(_, l)| **l == 0).map(|(s, _)| s).collect();
    match found.as_slice() {
        [v] => Ok(*v),
        _ => Err(Error::Config(format!("internal check failed: state row {row} holds {} vacancies", found.len()))),
    }
}

/// Removes job directories of earlier runs (their gcnet has ended: the run lock is ours).
/// Best effort: a LAMMPS process of a killed run may still be finishing in its directory;
/// the names carry the old run's process id, so no new job ever uses them.
fn clear_job_dirs(scratch: &Path) -> Result<()> {
    for e in std::fs::read_dir(scratch).map_err(Error::io(scratch, "list"))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() && name.split('_').next().is_some_and(|p| p.parse::<u32>().is_ok()) {
            std::fs::remove_dir_all(e.path()).ok();
        }
    }
    Ok(())
}

/// Removes the chunk checkpoints of steps up to `step` (complete steps need them no more).
fn clear_chunks(scratch: &Path, step: usize) -> Result<()> {
    for e in std::fs::read_dir(scratch).map_err(Error::io(scratch, "list"))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let of_step =
            name.strip_prefix("chunk_").and_then(|r| r.split('_').next()).and_then(|k| k.parse::<usize>().ok());
        if of_step.is_some_and(|k| k <= step) {
            std::fs::remove_file(e.path()).map_err(Error::io(e.path(), "remove the chunk checkpoint"))?;
        }
    }
    Ok(())
}
