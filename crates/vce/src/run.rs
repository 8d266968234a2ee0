//! One run of the published VCE/LBAM_DataSet.py (SPEC section 10) as one library call:
//! [`VceConfig`] holds its options, [`run`] checks them, reads and checks the crystal and
//! the data set, builds the expansion (or reads the saved one), sums W and b over the
//! training states (or reads them back, `-nex`), solves, evaluates L on the training and
//! validation states, and writes every output as one result set with its provenance
//! record. `gcnet vce` maps its arguments onto the config and prints the [`VceOutcome`].
//!
//! Order, so that a refused run touches nothing: every option, input and output name is
//! checked first, then the inputs are read and checked, and only then is the working
//! directory locked and written to.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use gcnet_crystal::CrystalData;
use gcnet_data::{CheckOptions, Dataset, LengthUnit};
use gcnet_files::{Input, Overwrite, Record, ResultSet, RunLock, check_output, py_float};
use ndarray::Array1;
use polars::prelude::{DataFrame, PolarsResult};

use crate::error::{Context, Error, Result};
use crate::expansion::Expansion;
use crate::file::{Contents, read_expansion};
use crate::fit::{self, Estimate, NormalEquations, Solution};
use crate::geometry::SiteGeometry;
use crate::orbits::BasisParams;
use crate::samples::{Samples, SpeciesChoice};
use crate::saved::{NormalSettings, read_normal_equations, save_expansion};

/// The saved expansion with the index arrays (`-svj`; read back without `-scr`).
pub const JIT_ARRAYS: &str = "JitArrays.h5";
/// The saved expansion (`-svc`; the published tool pickles `VclusExp.pkl`).
pub const VCLUS_EXP: &str = "VclusExp.h5";

/// The options of one run, under the published names (in brackets). `Default` gives the
/// published defaults and no data set; [`VceConfig::validate`] says what is missing.
#[derive(Clone, Debug)]
pub struct VceConfig {
    /// [-DP] The single-step data set (HDF5).
    pub data: PathBuf,
    /// [-cr] The crystal data file (HDF5).
    pub crystal: PathBuf,
    /// The directory the outputs go to, `JitArrays.h5` is read from and the run locks.
    /// Empty (the default): the working directory, with the output names printed bare.
    pub dir: PathBuf,
    /// [-T] Temperature (or composition) tag in the output names; `None` is written as
    /// `None`, as published.
    pub tag: Option<i64>,
    /// [-mo] Largest number of sites in a cluster (required with `scratch`; without it,
    /// the saved expansion must have this order).
    pub max_order: Option<usize>,
    /// [-cc] Cluster cutoff in lattice-parameter units (required with `scratch`; without
    /// it, the saved expansion must have this cutoff).
    pub cutoff: Option<f64>,
    /// [-sp] The label whose transport coefficient is computed (default 5).
    pub species: usize,
    /// [-vsp] The vacancy's label (default 0).
    pub vacancy: usize,
    /// [-nt] Training states: the first ones; the rest validate (default 10000).
    pub n_train: usize,
    /// [-aj] W and b over all jumps of each training state, each with its own rate.
    pub all_jumps: bool,
    /// [-scr] Build the expansion (without it, it is read from `JitArrays.h5`).
    pub scratch: bool,
    /// [-ait] Count and save every interaction of the supercell (the result is the same).
    pub all_interactions: bool,
    /// [-svc] Save the expansion (`VclusExp.h5`); only with `scratch`.
    pub save_ce: bool,
    /// [-svj] Save the expansion with its index arrays (`JitArrays.h5`); only with `scratch`.
    pub save_jit: bool,
    /// [-ao] With `save_jit`: stop after saving the arrays.
    pub array_only: bool,
    /// [-eo] Stop after W, b, the coefficients and the singular values.
    pub expand_only: bool,
    /// [-rc] Singular values of W below this times the largest count as zero (default 1e-8).
    pub rcond: f64,
    /// [-nex] Reuse the saved W and b (`Wbar_{T}.npy`, `Bbar_{T}.npy`) instead of expanding.
    pub no_expand: bool,
    /// [-red] Changes nothing (the clusters are always built on the primitive lattice);
    /// it only silences the note on a conventional cell.
    pub reduce: bool,
    /// Run the checks of `gcnet check` on the data set first (default true).
    pub check_data: bool,
    /// [-d, -dpf] A text written beside the outputs (the command line's argument dump).
    pub dump: Option<Dump>,
}

impl Default for VceConfig {
    fn default() -> Self {
        VceConfig {
            data: PathBuf::new(),
            crystal: PathBuf::new(),
            dir: PathBuf::new(),
            tag: None,
            max_order: None,
            cutoff: None,
            species: 5,
            vacancy: 0,
            n_train: 10000,
            all_jumps: false,
            scratch: false,
            all_interactions: false,
            save_ce: false,
            save_jit: false,
            array_only: false,
            expand_only: false,
            rcond: 1e-8,
            no_expand: false,
            reduce: false,
            check_data: true,
            dump: None,
        }
    }
}

/// A text file the run writes after its checks, never over an input; an existing file
/// only with `overwrite` = [`Overwrite::Replace`].
#[derive(Clone, Debug)]
pub struct Dump {
    pub path: PathBuf,
    pub text: String,
    pub overwrite: Overwrite,
}

/// The output names of SPEC section 10 in the run's directory (and the W, b that `-eo`
/// writes and `-nex` reads, and the saved expansions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputNames {
    pub etabar: PathBuf,
    pub singvals: PathBuf,
    pub wbar: PathBuf,
    pub bbar: PathBuf,
    /// `[L_train, L_val]`.
    pub l: PathBuf,
    pub l_train: PathBuf,
    pub l_val: PathBuf,
    pub jit_arrays: PathBuf,
    pub vclus_exp: PathBuf,
}

impl OutputNames {
    /// The names for tag `tag` (`None` when there is none) and species `sp` in `dir`.
    pub fn new(dir: &Path, tag: &str, sp: usize) -> OutputNames {
        let at = |name: String| dir.join(name);
        OutputNames {
            etabar: at(format!("etabar_{tag}.npy")),
            singvals: at(format!("W_singvals_{tag}.npy")),
            wbar: at(format!("Wbar_{tag}.npy")),
            bbar: at(format!("Bbar_{tag}.npy")),
            l: at(format!("L{sp}{sp}_{tag}.npy")),
            l_train: at(format!("L_trSamps_{sp}{sp}_{tag}.npy")),
            l_val: at(format!("L_valSamps_{sp}{sp}_{tag}.npy")),
            jit_arrays: at(JIT_ARRAYS.into()),
            vclus_exp: at(VCLUS_EXP.into()),
        }
    }
}

/// What a run writes and reads, decided from the options before anything is read.
#[derive(Debug)]
struct Plan {
    /// `(max_order, cutoff)` of the expansion to build (`-scr`).
    build: Option<(usize, f64)>,
    save_ce: bool,
    save_jit: bool,
    array_only: bool,
    expand: bool,
    transport: bool,
    /// Options that are ignored, as published.
    notes: Vec<String>,
}

impl VceConfig {
    /// Checks the options alone (no file is opened).
    pub fn validate(&self) -> Result<()> {
        self.plan()?;
        self.require_paths()
    }

    fn require_paths(&self) -> Result<()> {
        if self.data.as_os_str().is_empty() {
            return Err(Error::Parameter("-DP (--DataPath) is required: the single-step data set".into()));
        }
        if self.crystal.as_os_str().is_empty() {
            return Err(Error::Parameter("-cr (--CrysDatPath) is required: the crystal data file".into()));
        }
        Ok(())
    }

    fn plan(&self) -> Result<Plan> {
        let bad = |s: String| Err(Error::Parameter(s));
        if self.n_train < 1 {
            return bad(format!("-nt {}: at least one training state is needed", self.n_train));
        }
        if !(self.rcond.is_finite() && self.rcond >= 0.0) {
            return bad(format!("-rc {}: the singular-value threshold must be a non-negative number", self.rcond));
        }
        if let Some(mo) = self.max_order
            && mo < 1
        {
            return bad(format!("-mo {mo}: the largest cluster order must be at least 1"));
        }
        if let Some(cc) = self.cutoff
            && !(cc.is_finite() && cc > 0.0)
        {
            return bad(format!("-cc {cc}: the cluster cutoff must be a positive number (lattice-parameter units)"));
        }
        let mut notes = Vec::new();
        let build = if self.scratch {
            let (Some(mo), Some(cc)) = (self.max_order, self.cutoff) else {
                return bad(
                    "-scr builds a new expansion and needs -mo (largest cluster order) and -cc (cluster cutoff)".into(),
                );
            };
            Some((mo, cc))
        } else {
            for (set, flag) in [(self.save_ce, "-svc"), (self.save_jit, "-svj"), (self.array_only, "-ao")] {
                if set {
                    notes.push(format!(
                        "{flag} is ignored without -scr (the expansion is read from {JIT_ARRAYS}), as published"
                    ));
                }
            }
            None
        };
        let (save_ce, save_jit) = (self.scratch && self.save_ce, self.scratch && self.save_jit);
        let array_only = self.array_only && save_jit;
        if self.array_only && self.scratch && !self.save_jit {
            notes.push("-ao is ignored without -svj (there are no arrays to stop after), as published".into());
        }
        if self.no_expand && self.expand_only {
            notes.push("-eo is ignored with -nex (nothing is expanded), as published".into());
        }
        let expand = !array_only && !self.no_expand;
        let transport = !array_only && (!self.expand_only || self.no_expand);
        Ok(Plan { build, save_ce, save_jit, array_only, expand, transport, notes })
    }

    /// The tag as the output names carry it.
    pub fn tag_name(&self) -> String {
        self.tag.map_or_else(|| "None".to_string(), |t| t.to_string())
    }

    /// The output names of this run.
    pub fn names(&self) -> OutputNames {
        OutputNames::new(&self.dir, &self.tag_name(), self.species)
    }
}

/// What one run gave. Its `Display` is the report `gcnet vce` prints.
#[derive(Clone, Debug)]
pub struct VceOutcome {
    /// The expansion built or read back.
    pub expansion: Expansion,
    /// The checked samples of the data set.
    pub samples: Samples,
    pub species: usize,
    pub names: OutputNames,
    /// W and b (summed, or read back with `-nex`); `None` when the run stopped after
    /// saving the arrays (`-ao`).
    pub normal: Option<NormalEquations>,
    /// The coefficients and the spectrum of W; `None` with `-ao`.
    pub solution: Option<Solution>,
    /// L on the training states; `None` with `-ao` or `-eo`.
    pub train: Option<Estimate>,
    /// L on the validation states; `None` with `-ao` or `-eo`.
    pub validation: Option<Estimate>,
    /// Wall time of the whole run.
    pub seconds: f64,
}

impl VceOutcome {
    /// One row per evaluated sample ([`fit::sample_frame`]); `None` without a transport
    /// coefficient.
    pub fn sample_frame(&self) -> Option<PolarsResult<DataFrame>> {
        let train = self.train.as_ref()?;
        Some(fit::frame(&self.samples, train, self.validation.as_ref()))
    }
}

impl fmt::Display for VceOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = &self.names;
        let (Some(train), Some(val)) = (&self.train, &self.validation) else {
            return match self.solution {
                None => writeln!(f, "Created arrays ({}). Terminating (-ao).", n.jit_arrays.display()),
                Some(_) => writeln!(
                    f,
                    "Expansion complete (-eo): wrote {}, {}, {}, {}",
                    n.wbar.display(),
                    n.bbar.display(),
                    n.etabar.display(),
                    n.singvals.display()
                ),
            };
        };
        let (params, sp) = (self.expansion.params(), self.species);
        writeln!(
            f,
            "Transport coefficient L{sp}{sp} (per vacancy, {}), vector cluster expansion -mo {} -cc {}, {} vector groups",
            LengthUnit::of(self.samples.lattice_parameter()).transport(),
            params.max_order,
            params.cutoff,
            self.expansion.num_vector_groups()
        )?;
        writeln!(f, "  {:<26} {:>10}    {:>8}   {:>10}    {:>8}", "", "train", "s.e.", "val", "s.e.")?;
        let (l0t, l0v) = (train.l0(), val.l0());
        writeln!(
            f,
            "  {:<26} {:>10.5} +- {:>8.5}   {:>10.5} +- {:>8.5}",
            "L0 (uncorrelated)", l0t.0, l0t.1, l0v.0, l0v.1
        )?;
        writeln!(f, "  {:<26} {:>10.5} +- {:>8.5}   {:>10.5} +- {:>8.5}", "L_VCE", train.l, train.se, val.l, val.se)?;
        writeln!(
            f,
            "  ({} training and {} validation states; wrote {}, {}, {}; {:.1} s)",
            train.terms.len(),
            val.terms.len(),
            n.l.display(),
            n.l_train.display(),
            n.l_val.display(),
            self.seconds
        )
    }
}

/// The checked inputs of a run.
struct Inputs {
    expansion: Expansion,
    samples: Samples,
    /// The record of W and b for this data set, these settings and this expansion.
    record: Record,
    /// W and b read back (`-nex`).
    reused: Option<NormalEquations>,
}

/// Runs `config`: checks everything, then writes the outputs (see the module
/// documentation). `log` gets the progress lines (the command line prints them on stderr
/// after `gcnet vce: `).
pub fn run(config: &VceConfig, log: &dyn Fn(&str)) -> Result<VceOutcome> {
    let started = Instant::now();
    let p = config.plan()?;
    for note in &p.notes {
        log(&format!("note: {note}"));
    }
    config.require_paths()?;
    let names = config.names();
    let inputs = guard_outputs(config, &p, &names)?;
    let input = read_inputs(config, &p, &names, log)?;
    log(&format!("lattice parameter of the data {}", input.samples.lattice_parameter()));

    // Outputs. One run writes into its directory at a time; the lock is taken after the
    // checks, so a refused run touches nothing.
    let dir = if config.dir.as_os_str().is_empty() {
        std::env::current_dir().map_err(|source| gcnet_files::Error::Io {
            path: ".".into(),
            action: "find the working directory",
            source,
        })?
    } else {
        config.dir.clone()
    };
    let _lock = RunLock::acquire(dir, "gcnet vce")?;
    if let Some(d) = &config.dump {
        gcnet_files::write_atomic(&d.path, d.overwrite, |w| std::io::Write::write_all(w, d.text.as_bytes()))
            .context(|| format!("writing the arguments to -dpf {}", d.path.display()))?;
    }
    let expansion = input.expansion;
    if p.save_ce {
        save_expansion(&expansion, &names.vclus_exp, Contents::Expansion, &inputs)
            .context(|| format!("saving the expansion (-svc) to {}", names.vclus_exp.display()))?;
        log(&format!("wrote {}", names.vclus_exp.display()));
    }
    if p.save_jit {
        save_expansion(&expansion, &names.jit_arrays, Contents::WithIndexArrays, &inputs).context(|| {
            format!("saving the expansion and its index arrays (-svj) to {}", names.jit_arrays.display())
        })?;
        log(&format!("wrote {}", names.jit_arrays.display()));
    }
    let mut outcome = VceOutcome {
        expansion,
        samples: input.samples,
        species: config.species,
        names,
        normal: None,
        solution: None,
        train: None,
        validation: None,
        seconds: 0.0,
    };
    if !p.array_only {
        let set = ResultSet::new(input.record.setting("rcond", config.rcond), Overwrite::Replace, &inputs);
        solve_and_write(config, &p, set, input.reused, &mut outcome, log)?;
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    Ok(outcome)
}

/// The run's inputs, after checking that no output is one of them and that the dump
/// replaces a file only when told to (the run replaces its own results).
fn guard_outputs(config: &VceConfig, p: &Plan, names: &OutputNames) -> Result<Vec<PathBuf>> {
    let mut inputs: Vec<PathBuf> = vec![config.data.clone(), config.crystal.clone()];
    if p.build.is_none() {
        inputs.push(names.jit_arrays.clone());
    }
    if !p.expand && !p.array_only {
        inputs.extend([names.wbar.clone(), names.bbar.clone()]);
    }
    let mut outputs: Vec<&Path> = Vec::new();
    outputs.extend(p.save_ce.then_some(names.vclus_exp.as_path()));
    outputs.extend(p.save_jit.then_some(names.jit_arrays.as_path()));
    if !p.array_only {
        outputs.extend([names.etabar.as_path(), &names.singvals]);
        if p.expand {
            outputs.extend([names.wbar.as_path(), &names.bbar]);
        }
        if p.transport {
            outputs.extend([names.l.as_path(), &names.l_train, &names.l_val]);
        }
    }
    let guarded = outputs.into_iter().map(|o| (o, Overwrite::Replace));
    for (o, overwrite) in guarded.chain(config.dump.iter().map(|d| (d.path.as_path(), d.overwrite))) {
        check_output(o, &inputs, overwrite).map_err(|e| match e {
            e @ gcnet_files::Error::Exists { .. } => e.into(),
            e => Error::Context { context: "inputs are never written over".into(), source: Box::new(e.into()) },
        })?;
    }
    Ok(inputs)
}

/// Reads and checks the crystal, the data set, the expansion and the W, b to reuse.
fn read_inputs(config: &VceConfig, p: &Plan, names: &OutputNames, log: &dyn Fn(&str)) -> Result<Inputs> {
    let (data_path, crys_path) = (config.data.as_path(), config.crystal.as_path());
    let crystal =
        CrystalData::read(crys_path).context(|| format!("reading the crystal file -cr {}", crys_path.display()))?;
    let geometry = SiteGeometry::from_crystal(&crystal).context(|| format!("-cr {}", crys_path.display()))?;
    if geometry.conventional_basis() > 1 && !config.reduce {
        log(&format!(
            "note: {} describes a conventional cell with {} sites; the clusters are built on the primitive lattice \
             (what -red does in the published tool)",
            crys_path.display(),
            geometry.conventional_basis()
        ));
    }
    let data = Dataset::read_checked(data_path, &crystal).context(|| {
        format!("reading the data set -DP {} (crystal -cr {})", data_path.display(), crys_path.display())
    })?;
    let num_labels = data.num_labels();
    let (species, vacancy) = (config.species, config.vacancy);
    log(&format!(
        "{}: {} samples, {} sites, {num_labels} labels (vacancy {vacancy}), z = {}",
        data_path.display(),
        data.len(),
        data.num_sites(),
        data.z()
    ));
    if species >= num_labels || vacancy >= num_labels {
        let (flag, v) = if species >= num_labels { ("-sp", species) } else { ("-vsp", vacancy) };
        return Err(Error::Parameter(format!(
            "{flag} {v} is not one of the labels {} of the data set {}",
            gcnet_data::label_range(num_labels),
            data_path.display()
        )));
    }
    if config.check_data {
        // The checks of `gcnet check`: one KMC step of this crystal per sample, and rates
        // and displacements the sums over the data set can hold.
        let options = CheckOptions { vacancy_label: Some(vacancy), ..Default::default() };
        gcnet_data::require_valid(&data, &crystal, &options, data_path, crys_path)
            .context(|| format!("checking -DP {} against -cr {}", data_path.display(), crys_path.display()))?;
    }
    let build_start = Instant::now();
    let expansion = match p.build {
        Some((max_order, cutoff)) => {
            let params = BasisParams { max_order, cutoff, num_labels, vacancy };
            Expansion::build(geometry, params, config.all_interactions)
                .context(|| format!("building the expansion -mo {max_order} -cc {cutoff} on {}", crys_path.display()))?
        }
        None => read_saved(config, &names.jit_arrays, geometry, num_labels)?,
    };
    let build_seconds = build_start.elapsed().as_secs_f64();
    let (counts, params) = (expansion.counts(), expansion.params());
    log(&format!(
        "expansion -mo {} -cc {}: {} site clusters, {} species clusters in {} orbits, {} interactions{}, {} vector \
         groups ({build_seconds:.3} s)",
        params.max_order,
        params.cutoff,
        counts.site_clusters,
        counts.species_clusters,
        counts.orbits,
        counts.interactions,
        if expansion.all_interactions() { "" } else { " holding the vacancy site or a jump site" },
        counts.vector_groups
    ));
    let samples = Samples::new(&data, data_path, &expansion, SpeciesChoice { species, vacancy })
        .context(|| format!("checking the samples of -DP {}", data_path.display()))?;
    let n_train = config.n_train;
    if n_train > samples.len() {
        return Err(Error::Parameter(format!(
            "-nt {n_train}: the data set {} has only {} samples",
            data_path.display(),
            samples.len()
        )));
    }
    if p.transport && n_train == samples.len() {
        return Err(Error::Parameter(format!(
            "-nt {n_train} uses every sample of {} for training; L_val needs at least one validation sample",
            data_path.display()
        )));
    }
    if config.all_jumps && p.expand {
        samples.check_all_jump_rates(n_train).context(|| format!("-aj on -DP {}", data_path.display()))?;
    }
    let data_input = Input::of(data_path).context(|| format!("-DP {}", data_path.display()))?;
    let settings = NormalSettings {
        data: &data_input,
        species,
        vacancy,
        n_train,
        all_jumps: config.all_jumps,
        expansion: &expansion,
    };
    let reused = if p.expand || p.array_only {
        None
    } else {
        Some(read_normal_equations(&names.wbar, &names.bbar, &settings).context(|| {
            format!(
                "-nex reads W and b from {} and {} (write them with a run without -nex, e.g. -eo)",
                names.wbar.display(),
                names.bbar.display()
            )
        })?)
    };
    let record = settings.record();
    Ok(Inputs { expansion, samples, record, reused })
}

/// The saved expansion of a run without `-scr`, which must fit the options and the data.
fn read_saved(config: &VceConfig, path: &Path, geometry: SiteGeometry, num_labels: usize) -> Result<Expansion> {
    let e = read_expansion(path, geometry).context(|| {
        format!("reading the saved expansion {} (run with -scr -svj to build and save one)", path.display())
    })?;
    let params = e.params();
    if config.max_order.is_some_and(|mo| mo != params.max_order) || config.cutoff.is_some_and(|cc| cc != params.cutoff)
    {
        return Err(Error::Parameter(format!(
            "{} holds the expansion -mo {} -cc {}, not the -mo/-cc given; pass -scr to build a new one",
            path.display(),
            params.max_order,
            params.cutoff
        )));
    }
    if params.num_labels != num_labels || params.vacancy != config.vacancy {
        return Err(Error::Parameter(format!(
            "{} is for {} labels with vacancy {}, the data set {} has {num_labels} labels and -vsp is {}",
            path.display(),
            params.num_labels,
            params.vacancy,
            config.data.display(),
            config.vacancy
        )));
    }
    Ok(e)
}

/// W and b (summed or reused), the solve and L, written as one result set: complete
/// before any file replaces an older one, and tied together by its record.
fn solve_and_write(
    config: &VceConfig,
    p: &Plan,
    mut set: ResultSet,
    reused: Option<NormalEquations>,
    outcome: &mut VceOutcome,
    log: &dyn Fn(&str),
) -> Result<()> {
    let (names, n_train) = (&outcome.names, config.n_train);
    let normal = match reused {
        Some(normal) => normal,
        None => {
            let start = Instant::now();
            let normal = fit::expand(&outcome.expansion, &outcome.samples, 0..n_train, config.all_jumps)?;
            let seconds = start.elapsed().as_secs_f64();
            log(&format!(
                "expanded over {n_train} training states{} in {seconds:.3} s ({:.2} us per state)",
                if config.all_jumps { " (all jumps)" } else { "" },
                1e6 * seconds / n_train as f64
            ));
            set.npy(&names.wbar, "W", &normal.w.clone().into())?;
            set.npy(&names.bbar, "b", &normal.b.clone().into())?;
            normal
        }
    };
    let solution = fit::solve(&normal, config.rcond)?;
    set.npy(&names.etabar, "eta", &solution.eta.clone().into())?;
    set.npy(&names.singvals, "singular_values", &Array1::from(solution.singular_values.clone()).into())?;
    let k = solution.singular_values.len();
    log(&format!(
        "W is {k} x {k}, rank {} at -rc {} (singular values {})",
        solution.rank,
        py_float(config.rcond),
        extremes(&solution.singular_values)
    ));
    if p.transport {
        let (train, val) = fit::evaluate(&outcome.expansion, &outcome.samples, &solution.eta, n_train)?;
        let val = val.expect("at least one validation sample was checked before");
        set.npy(&names.l, "L", &Array1::from(vec![train.l, val.l]).into())?;
        set.npy(&names.l_train, "L_train_terms", &Array1::from(train.terms.clone()).into())?;
        set.npy(&names.l_val, "L_val_terms", &Array1::from(val.terms.clone()).into())?;
        outcome.train = Some(train);
        outcome.validation = Some(val);
    }
    set.commit().context(|| "writing the results".into())?;
    outcome.normal = Some(normal);
    outcome.solution = Some(solution);
    Ok(())
}

/// The largest and smallest singular values, for the log.
fn extremes(s: &[f64]) -> String {
    match (s.first(), s.last()) {
        (Some(a), Some(b)) => format!("{a:.3e} .. {b:.3e}"),
        _ => "none".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(scratch: Option<(usize, f64)>) -> VceConfig {
        VceConfig {
            data: "d.h5".into(),
            crystal: "c.h5".into(),
            scratch: scratch.is_some(),
            max_order: scratch.map(|s| s.0),
            cutoff: scratch.map(|s| s.1),
            ..Default::default()
        }
    }

    #[test]
    fn plan_checks_the_options() {
        let message = |c: VceConfig| c.validate().unwrap_err().to_string();
        assert!(message(VceConfig { cutoff: None, ..config(Some((2, 0.71))) }).contains("-cc"), "-scr needs -cc");
        assert!(message(config(Some((0, 0.71)))).contains("-mo 0"));
        assert!(message(config(Some((2, -1.0)))).contains("-cc -1"));
        assert!(message(VceConfig { n_train: 0, ..config(None) }).contains("-nt 0"));
        assert!(message(VceConfig { rcond: f64::NAN, ..config(None) }).contains("-rc NaN"));
        assert!(message(VceConfig { data: PathBuf::new(), ..config(None) }).contains("-DP (--DataPath) is required"));
        assert!(message(VceConfig { crystal: PathBuf::new(), ..config(None) }).contains("-cr (--CrysDatPath)"));
        let p = VceConfig { save_jit: true, array_only: true, ..config(Some((2, 0.71))) }.plan().unwrap();
        assert!(p.array_only && !p.expand && !p.transport && p.save_jit && p.notes.is_empty());
        let p = VceConfig { expand_only: true, ..config(None) }.plan().unwrap();
        assert!(p.expand && !p.transport && p.build.is_none());
        let p = VceConfig { no_expand: true, expand_only: true, ..config(None) }.plan().unwrap();
        assert!(!p.expand && p.transport && p.notes.len() == 1, "{:?}", p.notes);
        let p = VceConfig { save_ce: true, save_jit: true, array_only: true, ..config(None) }.plan().unwrap();
        assert!(
            !p.save_ce && !p.save_jit && !p.array_only && p.notes.len() == 3,
            "ignored without -scr: {:?}",
            p.notes
        );
    }

    #[test]
    fn output_names_follow_the_published_tool() {
        let n = VceConfig { tag: Some(1073), species: 1, ..config(None) }.names();
        assert_eq!(n.l, PathBuf::from("L11_1073.npy"), "no directory: bare names");
        assert_eq!(n.l_val, PathBuf::from("L_valSamps_11_1073.npy"));
        assert_eq!(config(None).names().etabar, PathBuf::from("etabar_None.npy"));
        let n = VceConfig { dir: "out".into(), ..config(None) }.names();
        assert_eq!((n.wbar, n.jit_arrays), ("out/Wbar_None.npy".into(), "out/JitArrays.h5".into()));
    }
}
