//! All jumps of a set of states computed in parallel: one NEB per jump and one end-state
//! relaxation pass per state, handed to `parallel` workers. A worker runs one NEB at a time
//! (one MPI launch of NI ranks) and keeps one serial LAMMPS session for the relaxations.
//! Results do not depend on the order the jobs finish in.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::lammps::{Lammps, LaunchOptions};
use crate::neb::{NebInput, NebResult, NebSettings};
use crate::potential::Potential;
use crate::relax::EndState;
use crate::session::Session;

/// What the NEBs compute with: structure, potential, elements, settings.
#[derive(Clone, Debug)]
pub struct Model {
    pub geometry: Geometry,
    pub potential: Potential,
    /// The element of label 1, 2, ...
    pub elements: Vec<String>,
    pub neb: NebSettings,
}

impl Model {
    pub fn input(&self) -> NebInput<'_> {
        NebInput { geometry: &self.geometry, potential: &self.potential, elements: &self.elements, settings: &self.neb }
    }

    /// Labels 0 (vacancy) to the number of elements.
    pub fn num_labels(&self) -> usize {
        self.elements.len() + 1
    }
}

/// How the jobs run.
#[derive(Clone, Debug)]
pub struct Engine {
    pub lammps: Lammps,
    pub launch: LaunchOptions,
    /// NEBs at once.
    pub parallel: usize,
}

impl Engine {
    /// `parallel` NEBs at once, each of `images` ranks, and MPICH's progress throttle when
    /// that is more ranks than `cores`.
    pub fn new(lammps: Lammps, launch: LaunchOptions, parallel: usize, images: usize, cores: usize) -> Engine {
        let parallel = parallel.max(1);
        let launch = LaunchOptions { throttle: launch.throttle || parallel * images > cores, ..launch };
        Engine { lammps, launch, parallel }
    }

    /// NEBs at once that keep `cores` busy without oversubscribing them: cores / images,
    /// at least 1.
    pub fn default_parallel(cores: usize, images: usize) -> usize {
        (cores / images.max(1)).max(1)
    }
}

/// The cores this process may use.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// One state whose jumps are computed.
#[derive(Clone, Debug)]
pub struct StateTask<'a> {
    /// The state's index in the initial-state file (for messages and directory names).
    pub index: usize,
    pub labels: &'a [u8],
    pub vacancy: usize,
}

/// Every jump of one state.
#[derive(Clone, Debug, PartialEq)]
pub struct StateJumps {
    pub nebs: Vec<NebResult>,
    pub ends: Vec<EndState>,
}

/// A finished job, for progress reports.
#[derive(Clone, Debug)]
pub struct JobDone {
    pub state: usize,
    /// `None` for the end-state relaxations of the state.
    pub jump: Option<usize>,
    pub seconds: f64,
    pub barrier: Option<f64>,
}

/// Where the job directories go and what happens to them.
#[derive(Clone, Debug)]
pub struct JobDirs {
    /// Scratch directory (must exist); job directories inside it are removed after use.
    pub scratch: PathBuf,
    /// Keep each NEB's files (input, data files, logs) in `keep/state_{n}/jump_{j}`.
    pub keep: Option<PathBuf>,
    /// Prefix of the job directories (a step, say).
    pub tag: String,
}

enum Job {
    Relax(usize),
    Neb(usize, usize),
}

enum Output {
    Ends(Vec<EndState>),
    Neb(NebResult),
}

/// Computes every jump of every state. Stops at the first failure (after the running
/// jobs end) and returns it; the failed job's directory is kept and named in the error.
pub fn compute_jumps(
    engine: &Engine,
    model: &Model,
    tasks: &[StateTask],
    dirs: &JobDirs,
    progress: &(dyn Fn(JobDone) + Sync),
) -> Result<Vec<StateJumps>> {
    let z = model.geometry.z();
    let jobs: Vec<Job> = (0..tasks.len())
        .map(Job::Relax)
        .chain((0..tasks.len()).flat_map(|t| (0..z).map(move |j| Job::Neb(t, j))))
        .collect();
    let results: Mutex<Vec<Option<Output>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let input = model.input();
    let pid = std::process::id();
    std::thread::scope(|scope| {
        for worker in 0..engine.parallel.min(jobs.len()) {
            let (jobs, results, next, stop, failure) = (&jobs, &results, &next, &stop, &failure);
            scope.spawn(move || {
                let mut session: Option<(Session, PathBuf)> = None;
                while !stop.load(Ordering::SeqCst) {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(k) else { break };
                    let started = Instant::now();
                    let outcome = match *job {
                        Job::Relax(t) => {
                            let task = &tasks[t];
                            relax_job(engine, &input, &mut session, dirs, pid, worker, task).map(|ends| {
                                progress(JobDone {
                                    state: task.index,
                                    jump: None,
                                    seconds: started.elapsed().as_secs_f64(),
                                    barrier: None,
                                });
                                Output::Ends(ends)
                            })
                        }
                        Job::Neb(t, j) => {
                            let task = &tasks[t];
                            neb_job(engine, &input, dirs, pid, task, j).map(|r| {
                                progress(JobDone {
                                    state: task.index,
                                    jump: Some(j),
                                    seconds: started.elapsed().as_secs_f64(),
                                    barrier: Some(r.barrier),
                                });
                                Output::Neb(r)
                            })
                        }
                    };
                    match outcome {
                        Ok(out) => results.lock().expect("no panics while holding the lock")[k] = Some(out),
                        Err(e) => {
                            stop.store(true, Ordering::SeqCst);
                            failure.lock().expect("no panics while holding the lock").get_or_insert(e);
                        }
                    }
                }
                if let Some((s, dir)) = session {
                    drop(s);
                    match &dirs.keep {
                        // The relaxations' inputs and log, beside the NEBs' files.
                        Some(keep) => {
                            let first = tasks.first().map_or(0, |t| t.index);
                            move_dir(&dir, &keep.join(format!("end_states_from_{first}_w{worker}"))).ok();
                        }
                        None => {
                            std::fs::remove_dir_all(&dir).ok();
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().expect("workers ended") {
        return Err(e);
    }
    let mut results = results.into_inner().expect("workers ended").into_iter();
    let mut ends: Vec<Vec<EndState>> = Vec::with_capacity(tasks.len());
    for _ in 0..tasks.len() {
        match results.next().flatten() {
            Some(Output::Ends(e)) => ends.push(e),
            _ => unreachable!("every relaxation job produced its result"),
        }
    }
    let mut out = Vec::with_capacity(tasks.len());
    for e in ends {
        let nebs = (0..z)
            .map(|_| match results.next().flatten() {
                Some(Output::Neb(r)) => r,
                _ => unreachable!("every NEB job produced its result"),
            })
            .collect();
        out.push(StateJumps { nebs, ends: e });
    }
    Ok(out)
}

fn what(task: &StateTask) -> String {
    format!("state {} (vacancy on site {})", task.index, task.vacancy)
}

fn relax_job(
    engine: &Engine,
    input: &NebInput,
    session: &mut Option<(Session, PathBuf)>,
    dirs: &JobDirs,
    pid: u32,
    worker: usize,
    task: &StateTask,
) -> Result<Vec<EndState>> {
    if session.is_none() {
        let dir = dirs.scratch.join(format!("{pid}_{}_relax_w{worker}", dirs.tag));
        std::fs::create_dir_all(&dir).map_err(Error::io(&dir, "create the job directory"))?;
        *session = Some((Session::start(&engine.lammps, &dir)?, dir));
    }
    let (s, _) = session.as_mut().expect("started above");
    let result = input.relax_end_states(s, task.labels, task.vacancy, &what(task));
    if result.is_err() {
        // A session that failed has ended; the next relaxation starts a new one.
        *session = None;
    }
    result
}

fn neb_job(
    engine: &Engine,
    input: &NebInput,
    dirs: &JobDirs,
    pid: u32,
    task: &StateTask,
    jump: usize,
) -> Result<NebResult> {
    let dir = dirs.scratch.join(format!("{pid}_{}_n{}_j{jump}", dirs.tag, task.index));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(Error::io(&dir, "clear the job directory"))?;
    }
    std::fs::create_dir_all(&dir).map_err(Error::io(&dir, "create the job directory"))?;
    input.write(&dir, task.labels, task.vacancy, jump)?;
    let result = input.run(&engine.lammps, &engine.launch, &dir, &format!("{}, jump {jump} (NEB)", what(task)))?;
    match &dirs.keep {
        Some(keep) => {
            let target = keep.join(format!("state_{}", task.index)).join(format!("jump_{jump}"));
            move_dir(&dir, &target)?;
        }
        None => {
            std::fs::remove_dir_all(&dir).ok();
        }
    }
    Ok(result)
}

/// Moves a job directory to `target`, replacing an older copy (kept files of an
/// interrupted run are replaced by the run that recomputes them).
fn move_dir(from: &Path, target: &Path) -> Result<()> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(Error::io(parent, "create"))?;
    }
    if target.exists() {
        std::fs::remove_dir_all(target).map_err(Error::io(target, "replace the kept NEB files in"))?;
    }
    std::fs::rename(from, target).map_err(Error::io(target, "keep the NEB files in"))
}
