//! `gcnet vce`: the published VCE/LBAM_DataSet.py command line (SPEC section 10): the
//! vector cluster expansion of the relaxation vector, its exact least-squares coefficients
//! and the transport coefficient on training and validation samples. `gcnet bench-vce`
//! times it. Arguments are parsed here and turned into the plain config types of
//! `gcnet-vce`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use crate::spellings::py_float;
use anyhow::{Context, bail};
use clap::Parser;
use gcnet_crystal::CrystalData;
use gcnet_data::Dataset;
use gcnet_files::{Input, Overwrite, ResultSet};
use gcnet_vce::fit;
use gcnet_vce::{
    BasisParams, Contents, Expansion, NormalSettings, Samples, SiteGeometry, SpeciesChoice, read_expansion,
    read_normal_equations, save_expansion,
};
use ndarray::Array1;

#[path = "cmd_vce_bench.rs"]
mod bench;

/// The saved expansion with the index arrays (`-svj`; read back without `-scr`).
pub const JIT_ARRAYS: &str = "JitArrays.h5";
/// The saved expansion (`-svc`; the published tool pickles `VclusExp.pkl`).
pub const VCLUS_EXP: &str = "VclusExp.h5";

pub fn run(sub: &str, args: &[OsString]) -> anyhow::Result<ExitCode> {
    match sub {
        "vce" => vce(&VceArgs::parse_from(long_spellings(args))),
        "bench-vce" => bench::run(args),
        _ => bail!("unknown VCE subcommand `{sub}`"),
    }
}

/// The published single-dash spellings of LBAM_DataSet.py and the long names they stand for.
pub const SPELLINGS: &[(&str, &str)] = &[
    ("-T", "--Temp"),
    ("-DP", "--DataPath"),
    ("-cr", "--CrysDatPath"),
    ("-red", "--ReduceToPrimitve"),
    ("-mo", "--MaxOrder"),
    ("-cc", "--ClustCut"),
    ("-sp", "--SpecExpand"),
    ("-vsp", "--VacSpec"),
    ("-nt", "--NTrain"),
    ("-aj", "--AllJumps"),
    ("-scr", "--Scratch"),
    ("-ait", "--AllInteracts"),
    ("-svc", "--SaveCE"),
    ("-svj", "--SaveJitArrays"),
    ("-ao", "--ArrayOnly"),
    ("-eo", "--ExpandOnly"),
    ("-rc", "--rcond"),
    ("-nex", "--NoExpand"),
    ("-d", "--DumpArgs"),
    ("-dpf", "--DumpFile"),
];

/// The published spellings of LBAM_DataSet.py mapped onto the long names.
pub fn long_spellings(args: &[OsString]) -> Vec<OsString> {
    crate::spellings::long_spellings(args, SPELLINGS)
}

/// gcnet vce: transport coefficients from a vector cluster expansion of the relaxation
/// vector (the published VCE/LBAM_DataSet.py interface; every option also has its
/// single-dash spelling, shown in brackets). Outputs go to the working directory:
/// etabar_{T}.npy, W_singvals_{T}.npy, Wbar_{T}.npy, Bbar_{T}.npy, L{sp}{sp}_{T}.npy
/// ([L_train, L_val]), L_trSamps_{sp}{sp}_{T}.npy and L_valSamps_{sp}{sp}_{T}.npy.
#[derive(Debug, Parser)]
#[command(name = "gcnet vce", bin_name = "gcnet vce", args_override_self = true, allow_negative_numbers = true)]
pub struct VceArgs {
    /// [-T] Temperature (or composition) tag of the data set, used in the output names
    /// (without it the names carry `None`, as published).
    #[arg(long = "Temp", value_name = "INT", allow_negative_numbers = true)]
    pub temp: Option<i64>,
    /// [-DP] Path to the single-step data set (HDF5).
    #[arg(long = "DataPath", value_name = "PATH")]
    pub data_path: Option<PathBuf>,
    /// [-cr] Path to the crystal data file (HDF5).
    #[arg(long = "CrysDatPath", value_name = "PATH")]
    pub crys_path: Option<PathBuf>,
    /// [-red] Map a conventional-cell supercell onto the primitive lattice before building
    /// clusters. gcnet always builds the clusters on the primitive lattice of the sites, so
    /// this changes nothing (accepted for existing job scripts).
    #[arg(long = "ReduceToPrimitve")]
    pub reduce: bool,
    /// [-mo] Largest number of sites in a cluster (required with -scr).
    #[arg(long = "MaxOrder", value_name = "INT", allow_negative_numbers = true)]
    pub max_order: Option<i64>,
    /// [-cc] Cluster cutoff in lattice-parameter units: every pair of sites in a cluster is
    /// strictly closer than this (required with -scr).
    #[arg(long = "ClustCut", value_name = "FLOAT", allow_negative_numbers = true)]
    pub cutoff: Option<f64>,
    /// [-sp] The species (label) whose transport coefficient is computed.
    #[arg(long = "SpecExpand", default_value_t = 5, value_name = "INT", allow_negative_numbers = true)]
    pub species: i64,
    /// [-vsp] Label of the vacancy.
    #[arg(long = "VacSpec", default_value_t = 0, value_name = "INT", allow_negative_numbers = true)]
    pub vacancy: i64,
    /// [-nt] Number of training states (the first ones; the rest are validation states).
    #[arg(long = "NTrain", default_value_t = 10000, value_name = "INT", allow_negative_numbers = true)]
    pub n_train: i64,
    /// [-aj] Expand over all jumps out of each training state (each with its own rate)
    /// instead of the KMC jump.
    #[arg(long = "AllJumps")]
    pub all_jumps: bool,
    /// [-scr] Build the expansion from scratch (without it, it is read from JitArrays.h5).
    #[arg(long = "Scratch")]
    pub scratch: bool,
    /// [-ait] Count and save all interactions of the supercell, not only those holding the
    /// vacancy site or a jump site (the result is the same).
    #[arg(long = "AllInteracts")]
    pub all_interacts: bool,
    /// [-svc] Save the cluster expansion (VclusExp.h5).
    #[arg(long = "SaveCE")]
    pub save_ce: bool,
    /// [-svj] Save the expansion with its index arrays (JitArrays.h5), for later runs
    /// without -scr.
    #[arg(long = "SaveJitArrays")]
    pub save_jit: bool,
    /// [-ao] With -scr and -svj: stop after saving the arrays.
    #[arg(long = "ArrayOnly")]
    pub array_only: bool,
    /// [-eo] Stop after the expansion: write W and b (Wbar_{T}.npy, Bbar_{T}.npy), the
    /// coefficients and the singular values, but compute no transport coefficient.
    #[arg(long = "ExpandOnly")]
    pub expand_only: bool,
    /// [-rc] Singular values of W below this times the largest count as zero.
    #[arg(long = "rcond", default_value = "1e-8", value_name = "RCOND", allow_negative_numbers = true)]
    pub rcond: f64,
    /// [-nex] Reuse the saved W and b (Wbar_{T}.npy, Bbar_{T}.npy) instead of expanding.
    #[arg(long = "NoExpand")]
    pub no_expand: bool,
    /// [-d] Write every argument to the file given by -dpf.
    #[arg(long = "DumpArgs")]
    pub dump_args: bool,
    /// [-dpf] File that -d writes the arguments to.
    #[arg(long = "DumpFile", value_name = "F")]
    pub dump_file: Option<PathBuf>,
    /// Extension: let -dpf replace an existing file (never an input of the run).
    #[arg(long = "force")]
    pub force: bool,
    /// Extension: skip the checks of `gcnet check` on the data set (run on every sample
    /// first, as every GCNetRun mode runs them).
    #[arg(long = "no-check")]
    pub no_check: bool,
}

impl VceArgs {
    fn tag(&self) -> String {
        self.temp.map_or_else(|| "None".to_string(), |t| t.to_string())
    }

    /// `name: value` per argument, as the published -d writes `vars(args)`.
    fn dump_lines(&self) -> String {
        let b = |v: bool| if v { "True" } else { "False" }.to_string();
        let opt = |v: Option<String>| v.unwrap_or_else(|| "None".to_string());
        let path = |p: &Option<PathBuf>| opt(p.as_ref().map(|p| p.display().to_string()));
        let rows = [
            ("Temp", opt(self.temp.map(|t| t.to_string()))),
            ("DataPath", path(&self.data_path)),
            ("CrysDatPath", path(&self.crys_path)),
            ("ReduceToPrimitve", b(self.reduce)),
            ("MaxOrder", opt(self.max_order.map(|v| v.to_string()))),
            ("ClustCut", opt(self.cutoff.map(py_float))),
            ("SpecExpand", self.species.to_string()),
            ("VacSpec", self.vacancy.to_string()),
            ("NTrain", self.n_train.to_string()),
            ("AllJumps", b(self.all_jumps)),
            ("Scratch", b(self.scratch)),
            ("AllInteracts", b(self.all_interacts)),
            ("SaveCE", b(self.save_ce)),
            ("SaveJitArrays", b(self.save_jit)),
            ("ArrayOnly", b(self.array_only)),
            ("ExpandOnly", b(self.expand_only)),
            ("rcond", py_float(self.rcond)),
            ("NoExpand", b(self.no_expand)),
            ("DumpArgs", b(self.dump_args)),
            ("DumpFile", path(&self.dump_file)),
            ("force", b(self.force)),
            ("no_check", b(self.no_check)),
        ];
        rows.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
    }
}

/// What the run writes, decided before anything is read.
#[derive(Debug)]
struct Plan {
    tag: String,
    species: usize,
    vacancy: usize,
    n_train: usize,
    build: Option<(usize, f64)>,
    save_ce: bool,
    save_jit: bool,
    array_only: bool,
    expand: bool,
    transport: bool,
}

fn plan(a: &VceArgs) -> anyhow::Result<Plan> {
    let note = |s: &str| eprintln!("gcnet vce: note: {s}");
    if a.dump_args && a.dump_file.is_none() {
        bail!("-d (--DumpArgs) needs -dpf (--DumpFile) FILE to write to");
    }
    let label = |v: i64, flag: &str| -> anyhow::Result<usize> {
        usize::try_from(v).map_err(|_| anyhow::anyhow!("{flag} {v}: a label is a non-negative integer"))
    };
    let species = label(a.species, "-sp")?;
    let vacancy = label(a.vacancy, "-vsp")?;
    if a.n_train < 1 {
        bail!("-nt {}: at least one training state is needed", a.n_train);
    }
    if !(a.rcond.is_finite() && a.rcond >= 0.0) {
        bail!("-rc {}: the singular-value threshold must be a non-negative number", a.rcond);
    }
    if let Some(mo) = a.max_order
        && mo < 1
    {
        bail!("-mo {mo}: the largest cluster order must be at least 1");
    }
    if let Some(cc) = a.cutoff
        && !(cc.is_finite() && cc > 0.0)
    {
        bail!("-cc {cc}: the cluster cutoff must be a positive number (lattice-parameter units)");
    }
    let build = if a.scratch {
        let (Some(mo), Some(cc)) = (a.max_order, a.cutoff) else {
            bail!("-scr builds a new expansion and needs -mo (largest cluster order) and -cc (cluster cutoff)");
        };
        Some((mo as usize, cc))
    } else {
        for (set, flag) in [(a.save_ce, "-svc"), (a.save_jit, "-svj"), (a.array_only, "-ao")] {
            if set {
                note(&format!(
                    "{flag} is ignored without -scr (the expansion is read from {JIT_ARRAYS}), as published"
                ));
            }
        }
        None
    };
    let (save_ce, save_jit) = (a.scratch && a.save_ce, a.scratch && a.save_jit);
    let array_only = a.array_only && save_jit;
    if a.array_only && a.scratch && !a.save_jit {
        note("-ao is ignored without -svj (there are no arrays to stop after), as published");
    }
    if a.no_expand && a.expand_only {
        note("-eo is ignored with -nex (nothing is expanded), as published");
    }
    let expand = !array_only && !a.no_expand;
    let transport = !array_only && (!a.expand_only || a.no_expand);
    Ok(Plan {
        tag: a.tag(),
        species,
        vacancy,
        n_train: a.n_train as usize,
        build,
        save_ce,
        save_jit,
        array_only,
        expand,
        transport,
    })
}

fn vce(a: &VceArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let p = plan(a)?;
    let data_path = a.data_path.as_deref().context("-DP (--DataPath) is required: the single-step data set")?;
    let crys_path = a.crys_path.as_deref().context("-cr (--CrysDatPath) is required: the crystal data file")?;
    let t = &p.tag;
    let names = Outputs::new(t, p.species);
    let mut inputs: Vec<PathBuf> = vec![data_path.to_path_buf(), crys_path.to_path_buf()];
    if p.build.is_none() {
        inputs.push(PathBuf::from(JIT_ARRAYS));
    }
    if !p.expand && !p.array_only {
        inputs.push(names.wbar.clone());
        inputs.push(names.bbar.clone());
    }
    let mut outputs: Vec<PathBuf> = Vec::new();
    if p.save_ce {
        outputs.push(VCLUS_EXP.into());
    }
    if p.save_jit {
        outputs.push(JIT_ARRAYS.into());
    }
    if !p.array_only {
        outputs.extend([names.etabar.clone(), names.singvals.clone()]);
        if p.expand {
            outputs.extend([names.wbar.clone(), names.bbar.clone()]);
        }
        if p.transport {
            outputs.extend([names.l.clone(), names.l_train.clone(), names.l_val.clone()]);
        }
    }
    if a.dump_args {
        outputs.extend(a.dump_file.clone());
    }
    for o in &outputs {
        if let Some(i) = inputs.iter().find(|i| gcnet_files::same_file(i, o)) {
            bail!(
                "{} is both an input ({}) and an output of this run; inputs are never written over",
                o.display(),
                i.display()
            );
        }
    }
    if a.dump_args
        && let Some(f) = &a.dump_file
        && !a.force
        && f.symlink_metadata().is_ok()
    {
        bail!("-dpf {}: the file exists (pass --force to replace it)", f.display());
    }

    // Inputs: crystal, data, expansion; every check before anything is written.
    let crystal = CrystalData::read(crys_path)
        .with_context(|| format!("reading the crystal file -cr {}", crys_path.display()))?;
    let geometry = SiteGeometry::from_crystal(&crystal).with_context(|| format!("-cr {}", crys_path.display()))?;
    if geometry.conventional_basis() > 1 && !a.reduce {
        eprintln!(
            "gcnet vce: note: {} describes a conventional cell with {} sites; the clusters are built on the primitive \
             lattice (what -red does in the published tool)",
            crys_path.display(),
            geometry.conventional_basis()
        );
    }
    let data = Dataset::read_checked(data_path, &crystal).with_context(|| {
        format!("reading the data set -DP {} (crystal -cr {})", data_path.display(), crys_path.display())
    })?;
    let num_labels = data.num_labels();
    eprintln!(
        "gcnet vce: {}: {} samples, {} sites, {} labels (vacancy {}), z = {}",
        data_path.display(),
        data.len(),
        data.num_sites(),
        num_labels,
        p.vacancy,
        data.z()
    );
    if p.species >= num_labels || p.vacancy >= num_labels {
        let (flag, v) = if p.species >= num_labels { ("-sp", p.species) } else { ("-vsp", p.vacancy) };
        bail!(
            "{flag} {v} is not one of the labels {} of the data set {}",
            gcnet_data::label_range(num_labels),
            data_path.display()
        );
    }
    if !a.no_check {
        // The checks of `gcnet check`: one KMC step of this crystal per sample, and rates
        // and displacements the sums over the data set can hold.
        let options = gcnet_data::CheckOptions { vacancy_label: Some(p.vacancy), ..Default::default() };
        gcnet_data::require_valid(&data, &crystal, &options, data_path, crys_path)
            .with_context(|| format!("checking -DP {} against -cr {}", data_path.display(), crys_path.display()))?;
    }
    let build_start = Instant::now();
    let expansion = match p.build {
        Some((max_order, cutoff)) => {
            let params = BasisParams { max_order, cutoff, num_labels, vacancy: p.vacancy };
            Expansion::build(geometry, params, a.all_interacts).with_context(|| {
                format!("building the expansion -mo {max_order} -cc {cutoff} on {}", crys_path.display())
            })?
        }
        None => {
            let e = read_expansion(JIT_ARRAYS, geometry).with_context(|| {
                format!("reading the saved expansion {JIT_ARRAYS} (run with -scr -svj to build and save one)")
            })?;
            let params = e.params();
            if a.max_order.is_some_and(|mo| mo as usize != params.max_order)
                || a.cutoff.is_some_and(|cc| cc != params.cutoff)
            {
                bail!(
                    "{JIT_ARRAYS} holds the expansion -mo {} -cc {}, not the -mo/-cc given; pass -scr to build a new one",
                    params.max_order,
                    params.cutoff
                );
            }
            if params.num_labels != num_labels || params.vacancy != p.vacancy {
                bail!(
                    "{JIT_ARRAYS} is for {} labels with vacancy {}, the data set {} has {num_labels} labels and -vsp is {}",
                    params.num_labels,
                    params.vacancy,
                    data_path.display(),
                    p.vacancy
                );
            }
            e
        }
    };
    let build_seconds = build_start.elapsed().as_secs_f64();
    let counts = expansion.counts();
    let params = expansion.params();
    eprintln!(
        "gcnet vce: expansion -mo {} -cc {}: {} site clusters, {} species clusters in {} orbits, {} interactions{}, \
         {} vector groups ({build_seconds:.3} s)",
        params.max_order,
        params.cutoff,
        counts.site_clusters,
        counts.species_clusters,
        counts.orbits,
        counts.interactions,
        if expansion.all_interactions() { "" } else { " holding the vacancy site or a jump site" },
        counts.vector_groups
    );
    let samples = Samples::new(&data, data_path, &expansion, SpeciesChoice { species: p.species, vacancy: p.vacancy })
        .with_context(|| format!("checking the samples of -DP {}", data_path.display()))?;
    if p.n_train > samples.len() {
        bail!("-nt {}: the data set {} has only {} samples", p.n_train, data_path.display(), samples.len());
    }
    if p.transport && p.n_train == samples.len() {
        bail!(
            "-nt {} uses every sample of {} for training; L_val needs at least one validation sample",
            p.n_train,
            data_path.display()
        );
    }
    if a.all_jumps && p.expand {
        samples.check_all_jump_rates(p.n_train).with_context(|| format!("-aj on -DP {}", data_path.display()))?;
    }
    let data_input = Input::of(data_path).with_context(|| format!("-DP {}", data_path.display()))?;
    let settings = NormalSettings {
        data: &data_input,
        species: p.species,
        vacancy: p.vacancy,
        n_train: p.n_train,
        all_jumps: a.all_jumps,
        expansion: &expansion,
    };
    let reused = if p.expand || p.array_only {
        None
    } else {
        let hint = "(write them with a run without -nex, e.g. -eo)";
        Some(read_normal_equations(&names.wbar, &names.bbar, &settings).with_context(|| {
            format!("-nex reads W and b from {} and {} {hint}", names.wbar.display(), names.bbar.display())
        })?)
    };
    eprintln!("gcnet vce: lattice parameter of the data {}", samples.lattice_parameter());

    // Outputs. One run writes into the working directory at a time; the lock is taken
    // after the checks, so a refused run touches nothing.
    let _lock = gcnet_files::RunLock::acquire(std::env::current_dir()?, "gcnet vce")?;
    if a.dump_args
        && let Some(f) = &a.dump_file
    {
        gcnet_files::write_atomic(f, Overwrite::force(a.force), |w| {
            std::io::Write::write_all(w, a.dump_lines().as_bytes())
        })
        .with_context(|| format!("writing the arguments to -dpf {}", f.display()))?;
    }
    if p.save_ce {
        save_expansion(&expansion, Path::new(VCLUS_EXP), Contents::Expansion, &inputs)
            .with_context(|| format!("saving the expansion (-svc) to {VCLUS_EXP}"))?;
        eprintln!("gcnet vce: wrote {VCLUS_EXP}");
    }
    if p.save_jit {
        save_expansion(&expansion, Path::new(JIT_ARRAYS), Contents::WithIndexArrays, &inputs)
            .with_context(|| format!("saving the expansion and its index arrays (-svj) to {JIT_ARRAYS}"))?;
        eprintln!("gcnet vce: wrote {JIT_ARRAYS}");
    }
    if p.array_only {
        println!("Created arrays ({JIT_ARRAYS}). Terminating (-ao).");
        return Ok(ExitCode::SUCCESS);
    }
    // Every output of the run is one result set (gcnet-files): complete before any file
    // replaces an older one, and tied together by its record.
    let mut set = ResultSet::new(settings.record().setting("rcond", a.rcond), Overwrite::Replace, &inputs);
    let normal = match reused {
        Some(normal) => normal,
        None => {
            let start = Instant::now();
            let normal = fit::expand(&expansion, &samples, 0..p.n_train, a.all_jumps)?;
            let seconds = start.elapsed().as_secs_f64();
            eprintln!(
                "gcnet vce: expanded over {} training states{} in {seconds:.3} s ({:.2} us per state)",
                p.n_train,
                if a.all_jumps { " (all jumps)" } else { "" },
                1e6 * seconds / p.n_train as f64
            );
            set.npy(&names.wbar, "W", &normal.w.clone().into())?;
            set.npy(&names.bbar, "b", &normal.b.clone().into())?;
            normal
        }
    };
    let solution = fit::solve(&normal, a.rcond)?;
    set.npy(&names.etabar, "eta", &solution.eta.clone().into())?;
    set.npy(&names.singvals, "singular_values", &Array1::from(solution.singular_values.clone()).into())?;
    let k = solution.singular_values.len();
    eprintln!(
        "gcnet vce: W is {k} x {k}, rank {} at -rc {} (singular values {})",
        solution.rank,
        py_float(a.rcond),
        summary(&solution.singular_values)
    );
    if !p.transport {
        set.commit().context("writing the results")?;
        println!(
            "Expansion complete (-eo): wrote {}, {}, {}, {}",
            names.wbar.display(),
            names.bbar.display(),
            names.etabar.display(),
            names.singvals.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (train, val) = fit::evaluate(&expansion, &samples, &solution.eta, p.n_train)?;
    let val = val.expect("at least one validation sample was checked above");
    set.npy(&names.l, "L", &Array1::from(vec![train.l, val.l]).into())?;
    set.npy(&names.l_train, "L_train_terms", &Array1::from(train.terms.clone()).into())?;
    set.npy(&names.l_val, "L_val_terms", &Array1::from(val.terms.clone()).into())?;
    set.commit().context("writing the results")?;
    let sp = p.species;
    println!(
        "Transport coefficient L{sp}{sp} (per vacancy, {}), vector cluster expansion -mo {} -cc {}, {} vector groups",
        gcnet_data::LengthUnit::of(samples.lattice_parameter()).transport(),
        params.max_order,
        params.cutoff,
        counts.vector_groups
    );
    println!("  {:<26} {:>10}    {:>8}   {:>10}    {:>8}", "", "train", "s.e.", "val", "s.e.");
    let (l0t, l0v) = (train.l0(), val.l0());
    println!("  {:<26} {:>10.5} +- {:>8.5}   {:>10.5} +- {:>8.5}", "L0 (uncorrelated)", l0t.0, l0t.1, l0v.0, l0v.1);
    println!("  {:<26} {:>10.5} +- {:>8.5}   {:>10.5} +- {:>8.5}", "L_VCE", train.l, train.se, val.l, val.se);
    println!(
        "  ({} training and {} validation states; wrote {}, {}, {}; {:.1} s)",
        p.n_train,
        val.terms.len(),
        names.l.display(),
        names.l_train.display(),
        names.l_val.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// The output names of SPEC section 10 (and the W, b that -eo writes and -nex reads).
struct Outputs {
    etabar: PathBuf,
    singvals: PathBuf,
    wbar: PathBuf,
    bbar: PathBuf,
    l: PathBuf,
    l_train: PathBuf,
    l_val: PathBuf,
}

impl Outputs {
    fn new(t: &str, sp: usize) -> Outputs {
        Outputs {
            etabar: format!("etabar_{t}.npy").into(),
            singvals: format!("W_singvals_{t}.npy").into(),
            wbar: format!("Wbar_{t}.npy").into(),
            bbar: format!("Bbar_{t}.npy").into(),
            l: format!("L{sp}{sp}_{t}.npy").into(),
            l_train: format!("L_trSamps_{sp}{sp}_{t}.npy").into(),
            l_val: format!("L_valSamps_{sp}{sp}_{t}.npy").into(),
        }
    }
}

/// The largest and smallest singular values, for the log.
fn summary(s: &[f64]) -> String {
    match (s.first(), s.last()) {
        (Some(a), Some(b)) => format!("{a:.3e} .. {b:.3e}"),
        _ => "none".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> VceArgs {
        let args: Vec<OsString> = std::iter::once("vce").chain(words.iter().copied()).map(OsString::from).collect();
        VceArgs::parse_from(long_spellings(&args))
    }

    #[test]
    fn published_spellings_and_defaults() {
        let a = parse(&["-DP", "d.h5", "-cr=c.h5", "-mo", "3", "-cc", "0.71", "-T", "1073", "-scr", "-aj", "-red"]);
        assert_eq!(a.data_path, Some("d.h5".into()));
        assert_eq!(a.crys_path, Some("c.h5".into()));
        assert_eq!((a.max_order, a.cutoff, a.temp), (Some(3), Some(0.71), Some(1073)));
        assert!(a.scratch && a.all_jumps && a.reduce && !a.all_interacts);
        assert_eq!((a.species, a.vacancy, a.n_train, a.rcond), (5, 0, 10000, 1e-8));
        let a = parse(&["--SpecExpand", "1", "-vsp", "2", "-nt", "800", "-rc", "1e-6", "-sp", "0"]);
        assert_eq!((a.species, a.vacancy, a.n_train, a.rcond), (0, 2, 800, 1e-6), "the last repetition wins");
        assert_eq!(a.tag(), "None");
    }

    #[test]
    fn dump_lines_follow_python() {
        let a = parse(&["-T", "1", "-cc", "1", "-d", "-dpf", "args.txt"]);
        let text = a.dump_lines();
        for line in ["Temp: 1", "ClustCut: 1.0", "MaxOrder: None", "rcond: 1e-08", "DumpArgs: True", "SpecExpand: 5"] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }

    #[test]
    fn plan_checks_the_options() {
        assert!(plan(&parse(&["-scr", "-mo", "2"])).is_err(), "-scr needs -cc");
        assert!(plan(&parse(&["-scr", "-mo", "0", "-cc", "0.71"])).unwrap_err().to_string().contains("-mo 0"));
        assert!(plan(&parse(&["-nt", "0"])).is_err());
        assert!(plan(&parse(&["-sp", "-1"])).is_err());
        assert!(plan(&parse(&["-d"])).unwrap_err().to_string().contains("-dpf"));
        let p = plan(&parse(&["-scr", "-mo", "2", "-cc", "0.71", "-svj", "-ao"])).unwrap();
        assert!(p.array_only && !p.expand && !p.transport);
        let p = plan(&parse(&["-eo"])).unwrap();
        assert!(p.expand && !p.transport);
        let p = plan(&parse(&["-nex"])).unwrap();
        assert!(!p.expand && p.transport);
    }
}
