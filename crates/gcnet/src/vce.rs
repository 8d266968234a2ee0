//! `gcnet vce`: the published VCE/LBAM_DataSet.py command line (SPEC section 10), mapped
//! onto `gcnet_vce::VceConfig`; the run itself (checks, expansion, solve, outputs and their
//! record, the directory lock) is `gcnet_vce::run`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::spellings::py_float;
use anyhow::{anyhow, bail};
use gcnet_files::Overwrite;
use gcnet_vce::{Dump, VceConfig};

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

/// gcnet vce: transport coefficients from a vector cluster expansion of the relaxation
/// vector (the published VCE/LBAM_DataSet.py interface; every option also has its
/// single-dash spelling, shown in brackets). Outputs go to the working directory:
/// etabar_{T}.npy, W_singvals_{T}.npy, Wbar_{T}.npy, Bbar_{T}.npy, L{sp}{sp}_{T}.npy
/// ([L_train, L_val]), L_trSamps_{sp}{sp}_{T}.npy and L_valSamps_{sp}{sp}_{T}.npy.
#[derive(Debug, clap::Args)]
#[command(args_override_self = true, allow_negative_numbers = true)]
pub struct Args {
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

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = args.config()?;
    let outcome = gcnet_vce::run(&config, &|line| eprintln!("gcnet vce: {line}"))?;
    print!("{outcome}");
    Ok(ExitCode::SUCCESS)
}

/// A whole number given to `flag`, or the message the published checks give.
fn whole(v: i64, flag: &str, why: &str) -> anyhow::Result<usize> {
    usize::try_from(v).map_err(|_| anyhow!("{flag} {v}: {why}"))
}

impl Args {
    /// The library's config: `-d` without `-dpf` and negative counts are refused here, the
    /// rest by `VceConfig::validate`.
    fn config(&self) -> anyhow::Result<VceConfig> {
        let dump = match (&self.dump_file, self.dump_args) {
            (_, false) => None,
            (None, true) => bail!("-d (--DumpArgs) needs -dpf (--DumpFile) FILE to write to"),
            (Some(f), true) => {
                Some(Dump { path: f.clone(), text: self.dump_lines(), overwrite: Overwrite::force(self.force) })
            }
        };
        let label = "a label is a non-negative integer";
        Ok(VceConfig {
            data: self.data_path.clone().unwrap_or_default(),
            crystal: self.crys_path.clone().unwrap_or_default(),
            dir: PathBuf::new(),
            tag: self.temp,
            max_order: self
                .max_order
                .map(|v| whole(v, "-mo", "the largest cluster order must be at least 1"))
                .transpose()?,
            cutoff: self.cutoff,
            species: whole(self.species, "-sp", label)?,
            vacancy: whole(self.vacancy, "-vsp", label)?,
            n_train: whole(self.n_train, "-nt", "at least one training state is needed")?,
            all_jumps: self.all_jumps,
            scratch: self.scratch,
            all_interactions: self.all_interacts,
            save_ce: self.save_ce,
            save_jit: self.save_jit,
            array_only: self.array_only,
            expand_only: self.expand_only,
            rcond: self.rcond,
            no_expand: self.no_expand,
            reduce: self.reduce,
            check_data: !self.no_check,
            dump,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Args {
        let words: Vec<&str> = std::iter::once("vce").chain(words.iter().copied()).collect();
        let crate::Command::Vce(a) = crate::parse_words(&words) else { unreachable!() };
        a
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
        assert_eq!(a.config().unwrap().tag_name(), "None");
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
    fn negative_counts_and_a_dump_without_a_file_are_refused() {
        let refused = |words: &[&str], want: &str| {
            let e = parse(words).config().unwrap_err().to_string();
            assert!(e.contains(want), "{words:?}: {e}");
        };
        refused(&["-sp", "-1"], "-sp -1: a label is a non-negative integer");
        refused(&["-vsp", "-2"], "-vsp -2");
        refused(&["-nt", "-3"], "-nt -3: at least one training state");
        refused(&["-mo", "-1"], "-mo -1: the largest cluster order");
        refused(&["-d"], "-dpf");
        let c = parse(&["-DP", "d.h5", "-cr", "c.h5", "-nt", "0"]).config().unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("-nt 0"));
    }
}
