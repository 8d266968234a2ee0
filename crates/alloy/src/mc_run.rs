//! Monte Carlo runs on disk: one directory per chain (`chain_{c}/`) holding the published
//! history arrays (`Eng_all_steps.npy`, `accepts_all_steps.npy`, `rands_all_steps.npy`,
//! `swap_atoms_all_steps.npy`, with the published atom indices), `timing.txt`, the run record `gcnet_mc.json` and the
//! checkpoints `chkpt/state_{N}.npy` (int8 labels per site after N trials, plain NumPy
//! arrays). A checkpoint is written every `save_every` trials and at the end; the state
//! file first, then the history arrays (each atomically), so the last complete checkpoint
//! is the last state file whose trial the four history arrays reach. A restart continues
//! from it and, since every random number depends on (seed, chain, trial) only, repeats
//! what the uninterrupted chain did.
//!
//! Extraction collects the checkpointed states after the thermalisation trials (the
//! published Extract_states notebook's job) as the (Nstates, Nsites) int8 array that
//! `gcnet neb -if` reads.

use std::path::{Path, PathBuf};
use std::time::Instant;

use gcnet_files::numpy::{NpArray, write_npy};
use gcnet_files::{Overwrite, RunLock, write_atomic};
use ndarray::{Array1, Array2, ArrayD, Ix1, Ix2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::lammps::Lammps;
use crate::mc::{Chain, EnergyModel, History, SessionEnergy, StateEnergy, random_start};
use crate::potential::Potential;
use crate::provenance::{difference, differences};

pub const RECORD_FILE: &str = "gcnet_mc.json";
pub const ENERGIES_FILE: &str = "Eng_all_steps.npy";
pub const ACCEPTS_FILE: &str = "accepts_all_steps.npy";
pub const RANDS_FILE: &str = "rands_all_steps.npy";
pub const SWAPS_FILE: &str = "swap_atoms_all_steps.npy";
pub const TIMING_FILE: &str = "timing.txt";
pub const CHECKPOINT_DIR: &str = "chkpt";

/// Everything a chain's numbers depend on (apart from the seed): a restart must match it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McPhysics {
    pub units: usize,
    pub primitive: bool,
    pub num_sites: usize,
    /// Å.
    pub lattice_parameter: f64,
    /// Site 0 is empty.
    pub vacancy: bool,
    /// The element of label 1, 2, ...
    pub elements: Vec<String>,
    /// Atoms of label 1, 2, ...
    pub counts: Vec<usize>,
    pub potential_hash: String,
    /// K.
    pub temperature: f64,
    pub energy: EnergyModel,
    /// FNV-1a hash of the cell's site positions, neighbour table and jumps (the same as
    /// the crystal file of `gcnet crystal` for this cell).
    pub crystal_hash: String,
}

/// The record of one chain directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McRecord {
    pub physics: McPhysics,
    pub seed: u64,
    pub chain: usize,
    /// Trials counted as thermalisation (-ne): extraction starts after them by default.
    pub thermalisation: usize,
    /// Trials between checkpoints (-ns).
    pub save_every: usize,
    pub lammps_version: String,
    pub gcnet_version: String,
}

/// The directory of chain `c` under `root`.
pub fn chain_dir(root: &Path, chain: usize) -> PathBuf {
    root.join(format!("chain_{chain}"))
}

/// The chain directories under `root`, by chain index.
pub fn chain_dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found: Vec<(usize, PathBuf)> = std::fs::read_dir(root)
        .map_err(Error::io(root, "list the Monte Carlo directory"))?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let c = name.strip_prefix("chain_")?.parse().ok()?;
            e.path().join(RECORD_FILE).is_file().then(|| (c, e.path()))
        })
        .collect();
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

pub fn read_record(dir: &Path) -> Result<McRecord> {
    let path = dir.join(RECORD_FILE);
    let text = std::fs::read_to_string(&path).map_err(Error::io(&path, "read the Monte Carlo run record"))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Resume { path, reason: format!("not a gcnet Monte Carlo run record: {e}") })
}

fn state_path(dir: &Path, trial: usize) -> PathBuf {
    dir.join(CHECKPOINT_DIR).join(format!("state_{trial}.npy"))
}

/// The trials with a checkpointed state, ascending.
pub fn checkpoint_trials(dir: &Path) -> Result<Vec<usize>> {
    let chk = dir.join(CHECKPOINT_DIR);
    if !chk.is_dir() {
        return Ok(Vec::new());
    }
    let mut t: Vec<usize> = std::fs::read_dir(&chk)
        .map_err(Error::io(&chk, "list the checkpoints"))?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("state_")?.strip_suffix(".npy")?.parse().ok()
        })
        .collect();
    t.sort_unstable();
    Ok(t)
}

/// The state checkpointed after `trial` trials, checked against the run record's
/// physics (see [`check_state`]).
pub fn read_state(dir: &Path, trial: usize, physics: &McPhysics) -> Result<Vec<u8>> {
    let path = state_path(dir, trial);
    let a: ArrayD<i8> = gcnet_files::numpy::read(&path, "")?;
    let bad = |reason: String| Error::Resume { path: path.clone(), reason };
    let a = a.into_dimensionality::<Ix1>().map_err(|_| bad("not a 1-dimensional state".into()))?;
    let num_elements = physics.elements.len();
    let labels = a
        .iter()
        .map(|&l| {
            if l < 0 || l as usize > num_elements {
                Err(bad(format!("label {l} lies outside 0..{num_elements}")))
            } else {
                Ok(l as u8)
            }
        })
        .collect::<Result<Vec<u8>>>()?;
    check_state(&path, &labels, physics)?;
    Ok(labels)
}

/// Checks a state read back against the run record: its number of sites, the atoms of
/// each element (trials only swap atoms, so the composition never changes) and the
/// vacancy (exactly one, on site 0, in a run with one; none otherwise). A state that
/// fails was edited or comes from another run: continuing from it would run another
/// composition under this record (two vacancies even freeze the chain: every trial
/// that moves one is rejected).
pub fn check_state(path: &Path, labels: &[u8], physics: &McPhysics) -> Result<()> {
    let bad = |reason: String| Err(Error::Resume { path: path.to_path_buf(), reason });
    if labels.len() != physics.num_sites {
        return bad(format!("{} sites, the run's cell has {}", labels.len(), physics.num_sites));
    }
    let vacancies: Vec<usize> = (0..labels.len()).filter(|&s| labels[s] == 0).collect();
    match (physics.vacancy, vacancies.as_slice()) {
        (true, [0]) | (false, []) => {}
        (true, []) => return bad("holds no vacancy; the run record has one, on site 0".into()),
        (true, [s]) => return bad(format!("holds the vacancy on site {s}; the run keeps it on site 0")),
        (true, many) => return bad(format!("holds {} vacancies (sites {many:?}); the run has one", many.len())),
        (false, some) => return bad(format!("holds {} vacancies; the run has none (-nv)", some.len())),
    }
    let mut counts = vec![0usize; physics.elements.len()];
    for &l in labels.iter().filter(|&&l| l > 0) {
        counts[l as usize - 1] += 1;
    }
    if counts != physics.counts {
        let show = |c: &[usize]| {
            physics.elements.iter().zip(c).map(|(e, n)| format!("{e} {n}")).collect::<Vec<_>>().join(", ")
        };
        return bad(format!(
            "holds another composition ({}) than its run record ({})",
            show(&counts),
            show(&physics.counts)
        ));
    }
    Ok(())
}

/// Site `site` as the published script numbers atoms (ASE's atom index: the sites in
/// order with the empty site 0 left out when the cell has a vacancy), and back.
fn atom_index(site: i64, vacancy: bool) -> i64 {
    site - i64::from(vacancy)
}

fn site_index(atom: i64, vacancy: bool) -> i64 {
    atom + i64::from(vacancy)
}

/// The history arrays of a chain directory (empty arrays where a file is missing);
/// `vacancy` says whether the chain's site 0 is empty (the swap file holds atom indices).
pub fn read_history(dir: &Path, vacancy: bool) -> Result<History> {
    fn load<T: ndarray_npy::ReadableElement + Clone>(path: &Path) -> Result<Option<ArrayD<T>>> {
        if !path.is_file() {
            return Ok(None);
        }
        Ok(Some(gcnet_files::numpy::read(path, "")?))
    }
    let one = |name: &str, a: Option<ArrayD<f64>>| -> Result<Vec<f64>> {
        a.map(|a| a.into_dimensionality::<Ix1>().map(|a| a.to_vec()))
            .transpose()
            .map_err(|_| Error::Resume { path: dir.join(name), reason: "not a 1-dimensional array".into() })
            .map(Option::unwrap_or_default)
    };
    let energies = one(ENERGIES_FILE, load(&dir.join(ENERGIES_FILE))?)?;
    let rands = one(RANDS_FILE, load(&dir.join(RANDS_FILE))?)?;
    let accepts = load::<i64>(&dir.join(ACCEPTS_FILE))?
        .map(|a| a.into_dimensionality::<Ix1>().map(|a| a.to_vec()))
        .transpose()
        .map_err(|_| Error::Resume { path: dir.join(ACCEPTS_FILE), reason: "not a 1-dimensional array".into() })?
        .unwrap_or_default();
    let swaps = load::<i64>(&dir.join(SWAPS_FILE))?
        .map(|a| a.into_dimensionality::<Ix2>())
        .transpose()
        .map_err(|_| Error::Resume { path: dir.join(SWAPS_FILE), reason: "not a (trials, 2) array".into() })?
        .map(|a| a.rows().into_iter().map(|r| [site_index(r[0], vacancy), site_index(r[1], vacancy)]).collect())
        .unwrap_or_default();
    Ok(History { energies, accepts, rands, swaps })
}

fn write_history(dir: &Path, h: &History, vacancy: bool) -> Result<()> {
    let n = h.trials();
    write_npy(dir.join(ENERGIES_FILE), &NpArray::from(Array1::from(h.energies.clone())), Overwrite::Replace)?;
    write_npy(dir.join(ACCEPTS_FILE), &NpArray::from(Array1::from(h.accepts.clone())), Overwrite::Replace)?;
    write_npy(dir.join(RANDS_FILE), &NpArray::from(Array1::from(h.rands.clone())), Overwrite::Replace)?;
    let swaps = Array2::from_shape_fn((n, 2), |(t, k)| atom_index(h.swaps[t][k], vacancy));
    write_npy(dir.join(SWAPS_FILE), &NpArray::from(swaps), Overwrite::Replace)?;
    Ok(())
}

/// Writes the checkpoint after `chain.trials_done()` trials: the state, then the history.
pub fn write_checkpoint(dir: &Path, chain: &Chain) -> Result<()> {
    let chk = dir.join(CHECKPOINT_DIR);
    std::fs::create_dir_all(&chk).map_err(Error::io(&chk, "create the checkpoint directory"))?;
    let state = Array1::from_iter(chain.labels().iter().map(|&l| l as i8));
    write_npy(state_path(dir, chain.trials_done()), &NpArray::from(state), Overwrite::Replace)?;
    write_history(dir, chain.history(), chain.labels()[0] == 0)
}

/// The last complete checkpoint of a chain directory: its trial, the state then and the
/// history up to it.
/// The state is checked against `physics` (the chain's run record), and refused rather
/// than passed over for an earlier one.
pub fn last_checkpoint(dir: &Path, physics: &McPhysics) -> Result<Option<(Vec<u8>, History)>> {
    let history = read_history(dir, physics.vacancy)?;
    for &t in checkpoint_trials(dir)?.iter().rev() {
        if history.holds(t) {
            return Ok(Some((read_state(dir, t, physics)?, history.truncated(t))));
        }
    }
    Ok(None)
}

/// Where a chain starts.
#[derive(Clone, Debug)]
pub enum ChainStart {
    Fresh(Vec<u8>),
    Resume { labels: Vec<u8>, history: History },
}

/// Progress of a run.
#[derive(Clone, Debug)]
pub enum McEvent {
    /// A chain starts (or continues) at `trial` with `energy` (eV).
    Started {
        chain: usize,
        trial: usize,
        energy: f64,
    },
    Trial {
        chain: usize,
        trial: usize,
        energy: f64,
        acceptance: f64,
    },
    Checkpoint {
        chain: usize,
        trial: usize,
    },
}

/// What one chain did in this run.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainSummary {
    pub chain: usize,
    pub dir: PathBuf,
    /// Trials done before this run (a restart's checkpoint).
    pub trials_before: usize,
    pub trials: usize,
    /// Accepted / all trials of the whole chain.
    pub acceptance: f64,
    pub energy: f64,
    /// Wall time of this run's trials per trial (s); NaN when there were none.
    pub seconds_per_trial: f64,
}

/// A run that holds its directory (see [`McRun::start`]).
#[derive(Debug)]
pub struct McStart {
    _lock: RunLock,
    starts: Vec<ChainStart>,
}

impl McStart {
    /// Where each chain starts.
    pub fn chains(&self) -> &[ChainStart] {
        &self.starts
    }
}

/// Several independent chains run side by side, one LAMMPS session each.
pub struct McRun<'a> {
    pub lammps: &'a Lammps,
    pub geometry: &'a Geometry,
    pub potential: &'a Potential,
    pub physics: McPhysics,
    pub seed: u64,
    pub chains: usize,
    /// Total trials per chain (-nt).
    pub trials: usize,
    pub thermalisation: usize,
    pub save_every: usize,
    pub out_dir: PathBuf,
    /// Continue from the last complete checkpoints (-ckp).
    pub restart: bool,
    /// Replace the outputs of an earlier run.
    pub force: bool,
}

impl McRun<'_> {
    fn record(&self, chain: usize) -> McRecord {
        McRecord {
            physics: self.physics.clone(),
            seed: self.seed,
            chain,
            thermalisation: self.thermalisation,
            save_every: self.save_every,
            lammps_version: self.lammps.version().to_string(),
            gcnet_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// Checks every chain's directory and finds where it starts; writes nothing.
    pub fn prepare(&self) -> Result<Vec<ChainStart>> {
        if self.chains == 0 || self.trials == 0 || self.save_every == 0 {
            return Err(Error::Config("the chains, trials and save interval must be at least 1".into()));
        }
        self.physics.energy.validate()?;
        crate::kmc::check_temperature(self.physics.temperature)?;
        let n = self.geometry.num_sites();
        let k = self.physics.elements.len();
        if self.physics.counts.len() != k {
            return Err(Error::Config(format!("{} atom counts for {k} elements", self.physics.counts.len())));
        }
        (0..self.chains)
            .map(|c| {
                let dir = chain_dir(&self.out_dir, c);
                let record_path = dir.join(RECORD_FILE);
                if self.restart {
                    if !record_path.is_file() {
                        return Err(Error::Resume {
                            path: dir.clone(),
                            reason: "no checkpoint found (no Monte Carlo run record here)".into(),
                        });
                    }
                    let old = read_record(&dir)?;
                    let want = self.record(c);
                    let compare = |r: &McRecord| (r.physics.clone(), r.seed, r.chain);
                    if compare(&old) != compare(&want) {
                        let mut what = differences(&old.physics, &want.physics);
                        if old.seed != want.seed {
                            what.push(format!("seed: {} vs {}", old.seed, want.seed));
                        }
                        if old.chain != want.chain {
                            what.push(format!("chain: {} vs {}", old.chain, want.chain));
                        }
                        let what = what.join("; ");
                        return Err(Error::Resume {
                            path: record_path,
                            reason: format!(
                                "the checkpoints are of another run (the checkpoint's vs this run's {what})"
                            ),
                        });
                    }
                    let Some((labels, history)) = last_checkpoint(&dir, &old.physics)? else {
                        return Err(Error::Resume {
                            path: dir.join(CHECKPOINT_DIR),
                            reason: "no complete checkpoint found".into(),
                        });
                    };
                    Ok(ChainStart::Resume { labels, history })
                } else {
                    let used = dir.is_dir() && std::fs::read_dir(&dir).map(|mut d| d.next().is_some()).unwrap_or(true);
                    if used && !self.force {
                        return Err(Error::Resume {
                            path: dir.clone(),
                            reason: "holds the outputs of an earlier run (pass -ckp to continue it, or --force to replace it)"
                                .into(),
                        });
                    }
                    Ok(ChainStart::Fresh(random_start(&self.physics.counts, n, self.physics.vacancy, self.seed, c)?))
                }
            })
            .collect()
    }

    /// Checks every chain (as [`McRun::prepare`] does), then takes the output directory's
    /// run lock and checks again under it (another run may have written meanwhile). A run
    /// holds the lock until [`McRun::run`] ends, so no second run, `--force` or not,
    /// writes into a directory one holds: it is refused here, the holder named, nothing
    /// written (a refusal by the checks does not even create the lock file).
    pub fn start(&self) -> Result<McStart> {
        self.prepare()?;
        let lock = RunLock::acquire(&self.out_dir, "gcnet mc")?;
        let starts = self.prepare()?;
        Ok(McStart { _lock: lock, starts })
    }

    /// Runs every chain to `trials` trials from where [`McRun::start`] found them.
    /// From here on SIGINT/SIGTERM stop every chain after its current trial
    /// ([`Error::Interrupted`], naming each chain's last complete checkpoint); no
    /// checkpoint is written out of turn, so a continued chain (-ckp) equals an
    /// uninterrupted one.
    pub fn run(&self, start: McStart, on_event: &(dyn Fn(McEvent) + Sync)) -> Result<Vec<ChainSummary>> {
        crate::interrupt::install()?;
        let result = self.run_chains(start, on_event);
        match crate::interrupt::requested() {
            Some(signal) if result.is_err() => Err(self.stopped(signal)),
            _ => result,
        }
    }

    /// The stop, told with every chain's last complete checkpoint.
    fn stopped(&self, signal: &'static str) -> Error {
        let last: Vec<String> = (0..self.chains)
            .map(|c| {
                let dir = chain_dir(&self.out_dir, c);
                match checkpoint_trials(&dir).ok().and_then(|t| t.last().copied()) {
                    Some(t) => format!("{} at trial {t}", dir.display()),
                    None => format!("{}: none", dir.display()),
                }
            })
            .collect();
        Error::Interrupted {
            signal,
            place: format!("(last complete checkpoints: {})", last.join(", ")),
            resume: "Rerun the same command with -ckp in the same directory to continue every chain from its last complete checkpoint",
        }
    }

    fn run_chains(&self, start: McStart, on_event: &(dyn Fn(McEvent) + Sync)) -> Result<Vec<ChainSummary>> {
        let McStart { _lock, starts } = start;
        for (c, start) in starts.iter().enumerate() {
            let dir = chain_dir(&self.out_dir, c);
            if matches!(start, ChainStart::Fresh(_)) && dir.exists() {
                // --force: the earlier run's files go, so no checkpoint of it survives.
                std::fs::remove_dir_all(&dir).map_err(Error::io(&dir, "remove the earlier run's outputs"))?;
            }
            let session = dir.join("lammps");
            std::fs::create_dir_all(&session).map_err(Error::io(&session, "create"))?;
            if matches!(start, ChainStart::Fresh(_)) {
                let json = serde_json::to_string_pretty(&self.record(c))
                    .map_err(|e| Error::Config(format!("cannot encode the run record: {e}")))?;
                write_atomic(dir.join(RECORD_FILE), Overwrite::Refuse, |f| {
                    std::io::Write::write_all(f, json.as_bytes())
                })?;
            }
        }
        std::thread::scope(|scope| {
            let handles: Vec<_> = starts
                .into_iter()
                .enumerate()
                .map(|(c, start)| scope.spawn(move || self.run_chain(c, start, on_event)))
                .collect();
            handles.into_iter().map(|h| h.join().expect("a chain thread panicked")).collect()
        })
    }

    fn run_chain(&self, c: usize, start: ChainStart, on_event: &(dyn Fn(McEvent) + Sync)) -> Result<ChainSummary> {
        let dir = chain_dir(&self.out_dir, c);
        let labels = match &start {
            ChainStart::Fresh(l) => l.clone(),
            ChainStart::Resume { labels, .. } => labels.clone(),
        };
        let mut energy = SessionEnergy::start(
            self.lammps,
            &dir.join("lammps"),
            self.geometry,
            self.potential,
            &self.physics.elements,
            &labels,
            self.physics.energy,
        )?;
        let mut chain = match start {
            ChainStart::Fresh(labels) => {
                let e0 = energy.energy(&labels)?;
                let chain = Chain::new(labels, e0, self.seed, c)?;
                write_checkpoint(&dir, &chain)?;
                chain
            }
            ChainStart::Resume { labels, history } => Chain::resume(labels, history, self.seed, c)?,
        };
        let before = chain.trials_done();
        on_event(McEvent::Started { chain: c, trial: before, energy: chain.energy() });
        let started = Instant::now();
        while chain.trials_done() < self.trials {
            // A stop ends the chain between two trials; what it has saved is complete.
            crate::interrupt::check(String::new)?;
            chain.step(&mut energy, self.physics.temperature)?;
            let t = chain.trials_done();
            on_event(McEvent::Trial { chain: c, trial: t, energy: chain.energy(), acceptance: chain.acceptance() });
            if t.is_multiple_of(self.save_every) || t == self.trials {
                write_checkpoint(&dir, &chain)?;
                let per = started.elapsed().as_secs_f64() / (t - before) as f64;
                let text = format!("Time per trial ({} trials): {per} s\n", t - before);
                write_atomic(dir.join(TIMING_FILE), Overwrite::Replace, |f| {
                    std::io::Write::write_all(f, text.as_bytes())
                })?;
                on_event(McEvent::Checkpoint { chain: c, trial: t });
            }
        }
        let done = chain.trials_done() - before;
        Ok(ChainSummary {
            chain: c,
            dir,
            trials_before: before,
            trials: chain.trials_done(),
            acceptance: chain.acceptance(),
            energy: chain.energy(),
            seconds_per_trial: if done == 0 { f64::NAN } else { started.elapsed().as_secs_f64() / done as f64 },
        })
    }
}

/// States collected from the checkpoints of some chains.
#[derive(Clone, Debug)]
pub struct Extracted {
    /// (Nstates, Nsites) int8: the vacancy label 0 on site 0, labels 1.. the elements.
    pub states: Array2<i8>,
    /// The energy of each state (eV).
    pub energies: Vec<f64>,
    /// (chain directory, trial) of each state.
    pub origin: Vec<(PathBuf, usize)>,
    pub record: McRecord,
}

/// The states of the chains in `dirs` checkpointed after trial `start` (default: the
/// thermalisation trials) and every `every` trials from there (default: every checkpoint),
/// chain by chain. All chains must be of one run (records equal but for the chain index,
/// each index once) with a vacancy, and every state taken is checked as
/// [`check_state`] does (one vacancy, on site 0, the run's composition): the file
/// written promises that.
pub fn extract(dirs: &[PathBuf], start: Option<usize>, every: Option<usize>) -> Result<Extracted> {
    let Some(first) = dirs.first() else {
        return Err(Error::Config("no chain directories to extract states from".into()));
    };
    let record = read_record(first)?;
    let p = &record.physics;
    if !p.vacancy {
        return Err(Error::Resume {
            path: first.join(RECORD_FILE),
            reason: "the chain ran without a vacancy (-nv); NEB states need the vacancy on site 0".into(),
        });
    }
    let start = start.unwrap_or(record.thermalisation);
    let every = every.unwrap_or(record.save_every);
    if every == 0 || !every.is_multiple_of(record.save_every) {
        return Err(Error::Config(format!(
            "the spacing {every} must be a positive multiple of the checkpoint interval {}",
            record.save_every
        )));
    }
    // Which trials have checkpoints, for the messages: those of the first chain.
    let trials = || -> Result<String> {
        Ok(format!(
            "the chains are checkpointed every {} trials ({} has trials {})",
            record.save_every,
            first.display(),
            list_trials(&checkpoint_trials(first)?)
        ))
    };
    if !start.is_multiple_of(record.save_every) {
        return Err(Error::Config(format!("trial {start} has no checkpoint: {}", trials()?)));
    }
    let mut rows: Vec<Vec<u8>> = Vec::new();
    let mut energies = Vec::new();
    let mut origin = Vec::new();
    let mut seen = std::collections::BTreeMap::new();
    for dir in dirs {
        let r = read_record(dir)?;
        // The chains of one run differ in their index only: chains of two runs (another
        // seed, say, left by a second run in the same directory) do not mix.
        let same_run = McRecord { chain: record.chain, ..r.clone() };
        if let Some(d) = difference(&same_run, &record) {
            return Err(Error::Merge {
                path: dir.join(RECORD_FILE),
                reason: format!("another run than {} ({d})", first.display()),
            });
        }
        if let Some(other) = seen.insert(r.chain, dir.clone()) {
            return Err(Error::Merge {
                path: dir.join(RECORD_FILE),
                reason: format!("records chain {}, as {} does: one chain twice", r.chain, other.display()),
            });
        }
        let history = read_history(dir, p.vacancy)?;
        for t in checkpoint_trials(dir)? {
            if t < start || !(t - start).is_multiple_of(every) || !history.holds(t) {
                continue;
            }
            rows.push(read_state(dir, t, p)?);
            energies.push(history.energies[t]);
            origin.push((dir.clone(), t));
        }
    }
    if rows.is_empty() {
        return Err(Error::Config(format!(
            "no checkpointed states at trial {start} or later (every {every}) in {} chain(s): {}",
            dirs.len(),
            trials()?
        )));
    }
    let states = Array2::from_shape_fn((rows.len(), p.num_sites), |(i, s)| rows[i][s] as i8);
    Ok(Extracted { states, energies, origin, record })
}

/// "5, 10, 15" or, for many, "5, 10, 15, ..., 95, 100"; "none" when empty.
fn list_trials(t: &[usize]) -> String {
    let join = |v: &[usize]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ");
    match t.len() {
        0 => "none".into(),
        1..=6 => join(t),
        n => format!("{}, ..., {}", join(&t[..3]), join(&t[n - 2..])),
    }
}
