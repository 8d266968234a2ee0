//! `gcnet mc` and `gcnet mc-extract` as library calls: the published Init_state_MC.py run
//! (SPEC section 9) from plain settings ([`McConfig::run`]: every input checked, the
//! chains side by side with a progress bar each) and the states after thermalisation for
//! `gcnet neb -if` ([`ExtractConfig::run`]).

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use gcnet_files::Overwrite;
use gcnet_files::numpy::{NpArray, write_npy};
use ndarray::Array1;

use crate::argument_dump::ArgumentDump;
use crate::error::{Error, Result, Within};
use crate::fingerprint::hex;
use crate::jobs::available_cores;
use crate::lammps::Lammps;
use crate::mc::{EnergyModel, fcc_geometry, warren_cowley};
use crate::mc_run::{ChainSummary, Extracted, McEvent, McPhysics, McRun, chain_dirs, extract};
use crate::potential::{CANTOR_ELEMENTS, Potential};
use crate::provenance::crystal_hash;

/// Everything `gcnet mc` takes (the published spelling in brackets); [`McConfig::new`]
/// gives the published defaults.
#[derive(Clone, Debug)]
pub struct McConfig {
    /// [-pp] Directory holding library.meam and params.meam.
    pub potential: PathBuf,
    /// [-na] Atoms of each element, in the order of `elements`; they fill the occupied sites.
    pub counts: Vec<usize>,
    /// [-ckp] Continue every chain from its last complete checkpoint.
    pub restart: bool,
    /// [-u] FCC unit cells per side (three equal numbers: the cell is a cube); default 5.
    pub units: [usize; 3],
    /// [-pr] Primitive FCC cells instead of conventional cubic ones.
    pub primitive: bool,
    /// [-a0] Å; default 3.595.
    pub lattice_parameter: f64,
    /// One vacancy, on site 0 (the published -nv clears it); default true.
    pub vacancy: bool,
    /// [-T] K.
    pub temperature: f64,
    /// [-nt] Total trials per chain; default 60000.
    pub trials: usize,
    /// [-ne] Thermalisation trials (recorded; extraction starts after them); default 2000.
    pub thermalisation: usize,
    /// [-ns] Trials between checkpoints; default 200.
    pub save_every: usize,
    /// [-ftol -etol, --no-relax] Each trial's energy; default CG to 1e-3 eV/Å.
    pub energy: EnergyModel,
    /// Seed of the start states and trials; default 0.
    pub seed: u64,
    /// Chains side by side; default one per core.
    pub chains: Option<usize>,
    /// Whether the outputs of an earlier run in `out_dir` are replaced; default refused.
    pub overwrite: Overwrite,
    /// The element of label 1, 2, ...; default Co Ni Cr Fe Mn.
    pub elements: Vec<String>,
    /// The lmp executable; default: GCNET_LMP, the project's .venv, PATH.
    pub lmp: Option<PathBuf>,
    /// Where chain_{c}/ go; default the working directory ".".
    pub out_dir: PathBuf,
    /// [-dmp -dpf] The argument file, written once the run holds its directory.
    pub argument_dump: Option<ArgumentDump>,
}

impl McConfig {
    /// The published defaults for chains of `counts` atoms at `temperature` K.
    pub fn new(potential: impl Into<PathBuf>, counts: Vec<usize>, temperature: f64) -> McConfig {
        McConfig {
            potential: potential.into(),
            counts,
            restart: false,
            units: [5; 3],
            primitive: false,
            lattice_parameter: 3.595,
            vacancy: true,
            temperature,
            trials: 60_000,
            thermalisation: 2000,
            save_every: 200,
            energy: EnergyModel::Relaxed { force_tol: 1e-3, energy_tol: 0.0 },
            seed: 0,
            chains: None,
            overwrite: Overwrite::Refuse,
            elements: CANTOR_ELEMENTS.iter().map(|e| e.to_string()).collect(),
            lmp: None,
            out_dir: PathBuf::from("."),
            argument_dump: None,
        }
    }

    /// The settings alone, without touching a file; the cube's side.
    pub fn validate(&self) -> Result<usize> {
        crate::kmc::check_temperature(self.temperature).within_lazy(|| format!("-T {}", self.temperature))?;
        if self.trials == 0 || self.save_every == 0 {
            return Err(Error::Config("-nt and -ns must be at least 1".into()));
        }
        let [u, v, w] = self.units;
        if u != v || v != w || u == 0 {
            return Err(Error::Config(format!(
                "-u {u} {v} {w}: gcnet mc builds cubes of unit cells only (three equal positive numbers)"
            )));
        }
        self.energy.validate().within("-ftol and -etol")?;
        Ok(u)
    }

    /// Checks every input, then runs the chains to `trials` trials (from their last
    /// checkpoints with `restart`). Each chain writes chain_{c}/ in `out_dir`.
    pub fn run(&self) -> Result<Vec<ChainSummary>> {
        let u = self.validate()?;
        let potential = Potential::new(&self.potential).within_lazy(|| format!("-pp {}", self.potential.display()))?;
        potential.check_elements(&self.elements).within("--elements")?;
        if self.counts.len() != self.elements.len() {
            return Err(Error::Config(format!(
                "-na gives {} counts; one per element is needed ({}, in that order)",
                self.counts.len(),
                self.elements.join(" ")
            )));
        }
        let (crystal, geometry) = fcc_geometry(u, self.primitive, self.lattice_parameter)
            .within_lazy(|| format!("building the FCC cell of -u {u} {u} {u}"))?;
        let occupied = geometry.num_sites() - usize::from(self.vacancy);
        let total: usize = self.counts.iter().sum();
        if total != occupied {
            return Err(Error::Config(format!(
                "-na {}: the counts add up to {total}, but the {u}x{u}x{u} {} cell has {occupied} occupied sites ({} sites{})",
                self.counts.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(" "),
                if self.primitive { "primitive" } else { "cubic" },
                geometry.num_sites(),
                if self.vacancy { ", one vacancy" } else { ", -nv" }
            )));
        }
        let lammps = Lammps::locate(self.lmp.as_deref()).within("finding LAMMPS (--lmp)")?;
        let chains = self.chains.unwrap_or_else(available_cores);
        if chains == 0 {
            return Err(Error::Config("--chains must be at least 1".into()));
        }
        let physics = McPhysics {
            crystal_hash: crystal_hash(&crystal)?,
            num_sites: geometry.num_sites(),
            units: u,
            primitive: self.primitive,
            lattice_parameter: self.lattice_parameter,
            vacancy: self.vacancy,
            elements: self.elements.clone(),
            counts: self.counts.clone(),
            potential_hash: hex(potential.hash()),
            temperature: self.temperature,
            energy: self.energy,
        };
        let run = McRun {
            lammps: &lammps,
            geometry: &geometry,
            potential: &potential,
            physics,
            seed: self.seed,
            chains,
            trials: self.trials,
            thermalisation: self.thermalisation,
            save_every: self.save_every,
            out_dir: self.out_dir.clone(),
            restart: self.restart,
            force: self.overwrite == Overwrite::Replace,
        };
        let inputs = [Potential::LIBRARY, Potential::PARAMS].map(|f| self.potential.join(f));
        if let Some(dump) = &self.argument_dump {
            dump.check(&inputs)?;
        }
        let start = run.start().within(if self.restart { "-ckp" } else { "gcnet mc" })?;
        let multi = gcnet_progress::MultiProgress::new();
        let bars: Vec<_> = (0..chains)
            .map(|c| {
                let bar = gcnet_progress::bar_in(&multi, self.trials as u64, "trials");
                bar.set_prefix(format!("chain {c} "));
                bar
            })
            .collect();
        if let Some(dump) = &self.argument_dump {
            dump.write(&inputs, &bars[0])?;
        }
        let energy = match self.energy {
            EnergyModel::OnLattice => "on-lattice energies (--no-relax)".to_string(),
            EnergyModel::Relaxed { force_tol, energy_tol } => {
                format!("CG relaxation to -ftol {force_tol} -etol {energy_tol}")
            }
        };
        gcnet_progress::log(
            &multi,
            format!(
                "gcnet mc: {chains} chain(s), {} sites ({}), T = {} K, {} trials each, {energy}, LAMMPS {} ({})",
                geometry.num_sites(),
                self.elements.iter().zip(&self.counts).map(|(e, n)| format!("{e} {n}")).collect::<Vec<_>>().join(", "),
                self.temperature,
                self.trials,
                lammps.version(),
                lammps.exe().display()
            ),
        );
        let on_event = |e: McEvent| match e {
            McEvent::Started { chain, trial, energy } => {
                bars[chain].set_position(trial as u64);
                bars[chain].reset_eta();
                bars[chain].set_message(format!("E {energy:.4} eV"));
                if trial > 0 {
                    gcnet_progress::say(&bars[chain], format!("chain {chain}: continuing after trial {trial}"));
                }
            }
            McEvent::Trial { chain, trial, energy, acceptance } => {
                bars[chain].set_position(trial as u64);
                bars[chain].set_message(format!("acceptance {acceptance:.3}, E {energy:.4} eV"));
            }
            McEvent::Checkpoint { .. } => {}
        };
        let summaries = run.run(start, &on_event).within("gcnet mc")?;
        for b in &bars {
            b.finish_and_clear();
        }
        Ok(summaries)
    }
}

impl fmt::Display for ChainSummary {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "chain {}: {} trials ({} in this run), acceptance ratio {:.4}, energy {:.6} eV, {:.4} s per trial -> {}",
            self.chain,
            self.trials,
            self.trials - self.trials_before,
            self.acceptance,
            self.energy,
            self.seconds_per_trial,
            self.dir.display()
        )
    }
}

/// What `gcnet mc-extract` takes.
#[derive(Clone, Debug)]
pub struct ExtractConfig {
    /// The directory `gcnet mc` ran in (holding chain_0/, chain_1/, ...); default ".".
    pub dir: PathBuf,
    /// First trial whose state is taken; default the run's -ne.
    pub start: Option<usize>,
    /// Trials between the states taken (a multiple of the run's -ns); default -ns.
    pub every: Option<usize>,
    /// Chains (the last ones) whose states go to `output`/validation/; default 0.
    pub validation_chains: usize,
    /// Where statesAll_{T}.npy and statesEnergies_{T}.npy go; default ".".
    pub output: PathBuf,
    /// Whether existing output files are replaced; default refused.
    pub overwrite: Overwrite,
}

impl Default for ExtractConfig {
    fn default() -> Self {
        ExtractConfig {
            dir: PathBuf::from("."),
            start: None,
            every: None,
            validation_chains: 0,
            output: PathBuf::from("."),
            overwrite: Overwrite::Refuse,
        }
    }
}

/// One set of extracted states and the files that hold them.
#[derive(Clone, Debug)]
pub struct ExtractedSet {
    /// statesAll_{T}.npy: (Nstates, Nsites) int8, what `gcnet neb -if` reads.
    pub states_file: PathBuf,
    /// statesEnergies_{T}.npy (eV).
    pub energies_file: PathBuf,
    pub extracted: Extracted,
}

/// What an extraction wrote: the training set, then the validation set if any, and the
/// first-shell Warren-Cowley parameters of the training states.
#[derive(Clone, Debug)]
pub struct ExtractReport {
    pub sets: Vec<ExtractedSet>,
    /// alpha_ij, row i = element i (label i + 1); see [`warren_cowley`].
    pub warren_cowley: Vec<Vec<f64>>,
}

impl ExtractConfig {
    /// Collects the states (what the published Extract_states notebook did) and writes
    /// them; every output is checked before the first is written.
    pub fn run(&self) -> Result<ExtractReport> {
        let dirs = chain_dirs(&self.dir).within_lazy(|| format!("--dir {}", self.dir.display()))?;
        if dirs.is_empty() {
            return Err(Error::Config(format!(
                "--dir {}: no gcnet mc chain directories (chain_N/ with gcnet_mc.json)",
                self.dir.display()
            )));
        }
        if self.validation_chains >= dirs.len() {
            return Err(Error::Config(format!(
                "--validation-chains {} leaves no training chain ({} chains)",
                self.validation_chains,
                dirs.len()
            )));
        }
        let split = dirs.len() - self.validation_chains;
        let mut sets = vec![(self.output.clone(), &dirs[..split])];
        if self.validation_chains > 0 {
            sets.push((self.output.join("validation"), &dirs[split..]));
        }
        let mut extracted = Vec::new();
        for (out, chains) in sets {
            let e = extract(chains, self.start, self.every).within_lazy(|| {
                let opt = |name: &str, v: Option<usize>| v.map_or_else(String::new, |v| format!(" {name} {v}"));
                format!(
                    "extracting from {}{}{}",
                    self.dir.display(),
                    opt("--start", self.start),
                    opt("--every", self.every)
                )
            })?;
            let t = e.record.physics.temperature;
            let (states_file, energies_file) =
                (out.join(format!("statesAll_{t}.npy")), out.join(format!("statesEnergies_{t}.npy")));
            for f in [&states_file, &energies_file] {
                gcnet_files::check_output(f, &[], self.overwrite)?;
            }
            extracted.push(ExtractedSet { states_file, energies_file, extracted: e });
        }
        for set in &extracted {
            if let Some(parent) = set.states_file.parent() {
                std::fs::create_dir_all(parent).map_err(Error::io(parent, "create"))?;
            }
            let (e, ow) = (&set.extracted, self.overwrite);
            let named = |f: &Path| f.display().to_string();
            write_npy(&set.states_file, &NpArray::from(e.states.clone()), ow).within(named(&set.states_file))?;
            write_npy(&set.energies_file, &NpArray::from(Array1::from(e.energies.clone())), ow)
                .within(named(&set.energies_file))?;
        }
        let e = &extracted[0].extracted;
        let p = &e.record.physics;
        let (_, geometry) = fcc_geometry(p.units, p.primitive, p.lattice_parameter)?;
        let rows: Vec<Vec<u8>> = e.states.rows().into_iter().map(|r| r.iter().map(|&l| l as u8).collect()).collect();
        let alpha = warren_cowley(rows.iter().map(|r| r.as_slice()), &geometry, p.elements.len());
        Ok(ExtractReport { sets: extracted, warren_cowley: alpha })
    }
}

impl fmt::Display for ExtractReport {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for set in &self.sets {
            let e = &set.extracted;
            let chains: BTreeSet<&Path> = e.origin.iter().map(|(d, _)| d.as_path()).collect();
            writeln!(
                f,
                "wrote {} and {}: {} states of {} chain(s), trials {}..={}",
                set.states_file.display(),
                set.energies_file.display(),
                e.states.nrows(),
                chains.len(),
                e.origin.iter().map(|o| o.1).min().unwrap_or(0),
                e.origin.iter().map(|o| o.1).max().unwrap_or(0),
            )?;
        }
        let elements = &self.sets[0].extracted.record.physics.elements;
        writeln!(f, "first-shell Warren-Cowley parameters alpha_ij of the training states (row i, column j):")?;
        write!(f, "      {}", elements.iter().map(|e| format!("{e:>8}")).collect::<String>())?;
        for (i, row) in self.warren_cowley.iter().enumerate() {
            write!(f, "\n  {:>4}{}", elements[i], row.iter().map(|x| format!("{x:>8.4}")).collect::<String>())?;
        }
        Ok(())
    }
}
