//! The published GCNetRun.py command line (SPEC section 6), the default command: every
//! option with its single-dash spelling, `--Long` name and default, as a `RunConfig`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use gcnet_net::run::{DataChecks, Mode, Run, RunConfig, device_name, parse_device};
use gcnet_net::{AdamPolicy, Form, NetConfig, TrainConfig};
use tch::Kind;

use crate::spellings::{py_float, whole};

/// The published single-dash spellings and the long names they stand for.
pub const SPELLINGS: &[(&str, &str)] = &[
    ("-DP", "--DataPath"),
    ("-prm", "--Perm"),
    ("-cr", "--CrysDatPath"),
    ("-a0", "--LatParam"),
    ("-m", "--Mode"),
    ("-trc", "--Tracers"),
    ("-shf", "--Shuffle"),
    ("-rl", "--RepLayer"),
    ("-rStart", "--RepStart"),
    ("-bt", "--BoundTrain"),
    ("-nojsr", "--JumpSort"),
    ("-aos", "--AddOnSitesJPINN"),
    ("-nosym", "--NoSymmetry"),
    ("-l0", "--ScaleL0"),
    ("-nl", "--Nlayers"),
    ("-nch", "--Nchannels"),
    ("-ncL", "--NchLast"),
    ("-scr", "--Scratch"),
    ("-DPr", "--DatPar"),
    ("-td", "--Tdata"),
    ("-tn", "--TNet"),
    ("-sep", "--Start_epoch"),
    ("-eep", "--End_epoch"),
    ("-sp", "--SpecTrain"),
    ("-vSp", "--VacSpec"),
    ("-aj", "--AllJumps"),
    ("-ajn", "--AllJumpsNetType"),
    ("-nt", "--N_train"),
    ("-i", "--Interval"),
    ("-lr", "--Learning_rate"),
    ("-dcy", "--Decay"),
    ("-bs", "--Batch_size"),
    ("-wm", "--Mean_wt"),
    ("-ws", "--Std_wt"),
    ("-d", "--DumpArgs"),
    ("-dpf", "--DumpFile"),
];

/// The whole command line (`args[0]` the program) parsed, published spellings included.
pub fn parse(args: &[OsString]) -> Args {
    Args::parse_from(crate::spellings::long_spellings(args, SPELLINGS))
}

/// gcnet: train and evaluate GCNet relaxation vectors from single-step KMC data (the
/// published GCNetRun.py interface; every option also has its single-dash spelling, shown
/// in brackets).
#[derive(Debug, Parser)]
#[command(name = "gcnet", version, after_help = crate::subcommand_help(), disable_help_subcommand = true, args_override_self = true, allow_negative_numbers = true)]
pub struct Args {
    /// [-DP] Path to the single-step data set (HDF5).
    #[arg(long = "DataPath", value_name = "PATH")]
    pub data_path: Option<PathBuf>,
    /// [-prm] gcnet extension, not a published option: reorder the samples by the integer
    /// dataset `Permutation` of the data file.
    #[arg(long = "Perm")]
    pub perm: bool,
    /// [-cr] Path to the crystal data file (HDF5).
    #[arg(long = "CrysDatPath", value_name = "PATH")]
    pub crys_path: Option<PathBuf>,
    /// [-a0] Lattice parameter multiplying the jump vectors.
    #[arg(long = "LatParam", default_value_t = 1.0, value_name = "A0")]
    pub a0: f64,
    /// [-m] Mode: train, eval, getY or getRep.
    #[arg(long = "Mode", value_name = "MODE", value_parser = |s: &str| s.parse::<Mode>())]
    pub mode: Option<Mode>,
    /// [-trc] Train atom tracers (per-atom relaxation vectors).
    #[arg(long = "Tracers")]
    pub tracers: bool,
    /// [-shf] Reshuffle the training samples every epoch.
    #[arg(long = "Shuffle")]
    pub shuffle: bool,
    /// [-rl] getRep: the stack module whose output is written (a group average 2, 5, 8,
    /// ... or the stack length for the per-site vectors).
    #[arg(long = "RepLayer", value_name = "MODULE", value_parser = whole::<usize>)]
    pub rep_layer: Option<usize>,
    /// [-rStart] getRep: first sample.
    #[arg(long = "RepStart", default_value_t = 0, value_name = "N", value_parser = whole::<usize>)]
    pub rep_start: usize,
    /// [-bt] Boundary training: one output channel per jump (needs -ncL = z).
    #[arg(long = "BoundTrain")]
    pub bound_train: bool,
    /// [-nojsr] Do not sort the jump probabilities in boundary training (sorting is the default).
    #[arg(long = "JumpSort")]
    pub no_jump_sort: bool,
    /// [-aos] Boundary training: add the vectors on the sites of the trained species.
    #[arg(long = "AddOnSitesJPINN")]
    pub add_on_sites: bool,
    /// [-nosym] Keep only the identity operation (no symmetry).
    #[arg(long = "NoSymmetry")]
    pub nosym: bool,
    /// [-l0] Divide the training loss by the uncorrelated L0 of the training samples.
    #[arg(long = "ScaleL0")]
    pub scale_l0: bool,
    /// [-nl] Hidden layers (-1: a single GConv).
    #[arg(long = "Nlayers", default_value_t = 1, allow_negative_numbers = true, value_name = "N")]
    pub nl: i64,
    /// [-nch] Channels of the hidden layers.
    #[arg(long = "Nchannels", default_value_t = 4, value_name = "N")]
    pub nch: i64,
    /// [-ncL] Channels of the last layer.
    #[arg(long = "NchLast", default_value_t = 1, value_name = "N")]
    pub ncl: i64,
    /// [-scr] Start a new network when there is none at -sep (else resume from it); never
    /// overwrites an existing ep_0.pt.
    #[arg(long = "Scratch")]
    pub scratch: bool,
    /// [-DPr] Data-parallel training over all visible GPUs.
    #[arg(long = "DatPar")]
    pub data_parallel: bool,
    /// [-td] Temperature (or composition) tag of the data.
    #[arg(long = "Tdata", value_name = "T")]
    pub tdata: Option<String>,
    /// [-tn] Temperature (or composition) tag of the network (differs from -td only
    /// outside training: transfer).
    #[arg(long = "TNet", value_name = "T")]
    pub tnet: Option<String>,
    /// [-sep] Start epoch (train: resume from ep_{sep}.pt; getY and getRep: the epoch used).
    #[arg(long = "Start_epoch", value_name = "K", value_parser = whole::<usize>)]
    pub start_epoch: Option<usize>,
    /// [-eep] End epoch (train and eval; getY and getRep ignore it).
    #[arg(long = "End_epoch", value_name = "K", value_parser = whole::<usize>)]
    pub end_epoch: Option<usize>,
    /// [-sp] Species to train: a string of labels such as 0 or 12 (the vacancy label for the vacancy).
    #[arg(long = "SpecTrain", value_name = "LABELS")]
    pub spec_train: Option<String>,
    /// [-vSp] Label of the vacancy.
    #[arg(long = "VacSpec", default_value_t = 0, value_name = "LABEL")]
    pub vac_spec: i8,
    /// [-aj] Train (or evaluate) on all z exits of every state.
    #[arg(long = "AllJumps")]
    pub all_jumps: bool,
    /// [-ajn] The network was trained with -aj (eval, getY, getRep: its directory name).
    #[arg(long = "AllJumpsNetType")]
    pub all_jumps_net: bool,
    /// [-nt] Number of training states (the rest are validation states).
    #[arg(long = "N_train", default_value_t = 10000, value_name = "N", value_parser = whole::<usize>)]
    pub n_train: usize,
    /// [-i] Interval of epochs between checkpoints (and between evaluated checkpoints).
    #[arg(long = "Interval", default_value_t = 1, value_name = "K", value_parser = whole::<usize>)]
    pub interval: usize,
    /// [-lr] Adam learning rate.
    #[arg(long = "Learning_rate", default_value_t = 0.001, value_name = "LR")]
    pub lr: f64,
    /// [-dcy] Adam weight decay.
    #[arg(long = "Decay", default_value_t = 0.0005, value_name = "D")]
    pub decay: f64,
    /// [-bs] Batch size.
    #[arg(long = "Batch_size", default_value_t = 128, value_name = "N", value_parser = whole::<usize>)]
    pub batch_size: usize,
    /// [-wm] Mean of the initial weights.
    #[arg(long = "Mean_wt", default_value_t = 0.02, allow_negative_numbers = true, value_name = "W")]
    pub mean_wt: f64,
    /// [-ws] Standard deviation of the initial weights.
    #[arg(long = "Std_wt", default_value_t = 0.2, value_name = "W")]
    pub std_wt: f64,
    /// [-d] Write every argument to the file given by -dpf.
    #[arg(long = "DumpArgs")]
    pub dump_args: bool,
    /// [-dpf] File that -d writes the arguments to.
    #[arg(long = "DumpFile", value_name = "PATH")]
    pub dump_file: Option<PathBuf>,
    /// Extension: device (cpu, cuda, cuda:N); default the first GPU if there is one (or
    /// the GCNET_DEVICE environment variable).
    #[arg(long = "device", value_name = "DEV", value_parser = |s: &str| parse_device(s))]
    pub device: Option<tch::Device>,
    /// Extension: training precision (evaluation, getY and checkpoints stay f64).
    #[arg(long = "dtype", value_enum, default_value_t = Dtype::F64)]
    pub dtype: Dtype,
    /// Extension: samples per forward/backward pass inside a batch (bounds memory; the
    /// gradients of a batch add up, so the result does not depend on it); 0: automatic.
    #[arg(long = "micro-batch", default_value_t = 0, value_name = "N", value_parser = whole::<usize>)]
    pub micro_batch: usize,
    /// Extension: CPU threads (default: the CPUs this process may use, limited by
    /// SLURM_CPUS_PER_TASK and OMP_NUM_THREADS).
    #[arg(long = "threads", value_name = "N", value_parser = whole::<usize>)]
    pub threads: Option<usize>,
    /// Extension: seed of the initial weights and of -shf (default: from the clock).
    #[arg(long = "seed", value_name = "N", value_parser = whole::<u64>)]
    pub seed: Option<u64>,
    /// Extension: let train replace existing checkpoints of the epochs it writes, and -dpf
    /// an existing file (never an input of the run).
    #[arg(long = "force")]
    pub force: bool,
    /// Extension: resume training with a fresh Adam when the checkpoint has no Adam state
    /// saved with it (as the published code always does).
    #[arg(long = "restart-adam")]
    pub restart_adam: bool,
    /// Extension: skip the checks of `gcnet check` on the data set (every mode runs them
    /// on every sample first).
    #[arg(long = "no-check")]
    pub no_check: bool,
}

/// Training precision (--dtype).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Dtype {
    F64,
    F32,
}

impl Args {
    /// `name: value` per argument, as the published code's -d writes `vars(args)`: the
    /// published names in the published order with Python's spelling of the values
    /// (True, None, 0.001), as the run uses them (getY and getRep set End_epoch to
    /// Start_epoch, -nosym switches JumpSort off); then this project's extensions.
    pub fn dump_lines(&self, end_epoch: Option<usize>, jump_sort: bool) -> String {
        let b = |v: bool| if v { "True".to_string() } else { "False".to_string() };
        let opt = |v: Option<String>| v.unwrap_or_else(|| "None".to_string());
        let path = |p: &Option<PathBuf>| opt(p.as_ref().map(|p| p.display().to_string()));
        let rows: Vec<(&str, String)> = vec![
            ("DataPath", path(&self.data_path)),
            ("CrysDatPath", path(&self.crys_path)),
            ("LatParam", py_float(self.a0)),
            ("Mode", opt(self.mode.map(|m| m.name().to_string()))),
            ("RepLayer", opt(self.rep_layer.map(|v| v.to_string()))),
            ("RepStart", self.rep_start.to_string()),
            ("BoundTrain", b(self.bound_train)),
            ("JumpSort", b(jump_sort)),
            ("AddOnSitesJPINN", b(self.add_on_sites)),
            ("NoSymmetry", b(self.nosym)),
            ("ScaleL0", b(self.scale_l0)),
            ("Nlayers", self.nl.to_string()),
            ("Nchannels", self.nch.to_string()),
            ("NchLast", self.ncl.to_string()),
            ("Scratch", b(self.scratch)),
            ("DatPar", b(self.data_parallel)),
            ("Tdata", opt(self.tdata.clone())),
            ("TNet", opt(self.tnet.clone())),
            ("Start_epoch", opt(self.start_epoch.map(|v| v.to_string()))),
            ("End_epoch", opt(end_epoch.map(|v| v.to_string()))),
            ("SpecTrain", opt(self.spec_train.clone())),
            ("VacSpec", self.vac_spec.to_string()),
            ("AllJumps", b(self.all_jumps)),
            ("AllJumpsNetType", b(self.all_jumps_net)),
            ("N_train", self.n_train.to_string()),
            ("Interval", self.interval.to_string()),
            ("Learning_rate", py_float(self.lr)),
            ("Decay", py_float(self.decay)),
            ("Batch_size", self.batch_size.to_string()),
            ("Mean_wt", py_float(self.mean_wt)),
            ("Std_wt", py_float(self.std_wt)),
            ("DumpArgs", b(self.dump_args)),
            ("DumpFile", path(&self.dump_file)),
            ("Tracers", b(self.tracers)),
            ("Perm", b(self.perm)),
            ("device", opt(self.device.map(device_name))),
            ("dtype", format!("{:?}", self.dtype).to_lowercase()),
            ("micro_batch", self.micro_batch.to_string()),
            ("seed", opt(self.seed.map(|v| v.to_string()))),
            ("threads", opt(self.threads.map(|v| v.to_string()))),
            ("force", b(self.force)),
            ("restart_adam", b(self.restart_adam)),
            ("no_check", b(self.no_check)),
        ];
        rows.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
    }
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let run = config(&a)?.prepare()?;
    if a.dump_args {
        dump_args(&a, &run)?;
    }
    run.run()?;
    Ok(ExitCode::SUCCESS)
}

/// The arguments as the library's configuration; what only the command line can get
/// wrong (a missing option, a label that is not a digit) is refused here.
fn config(a: &Args) -> anyhow::Result<RunConfig> {
    let mode = a.mode.context("no mode given: -m train, eval, getY or getRep")?;
    let tdata = a.tdata.clone().context("-td (--Tdata) is required")?;
    let tnet = a.tnet.clone().context("-tn (--TNet) is required")?;
    if a.tracers && a.bound_train {
        bail!("-trc (tracers) cannot be combined with -bt (boundary training)");
    }
    let sp = a.spec_train.as_deref().unwrap_or("");
    let species = sp
        .chars()
        .map(|c| {
            c.to_digit(10).map(|d| d as i8).with_context(|| format!("-sp {sp}: `{c}` is not a species label (0-9)"))
        })
        .collect::<anyhow::Result<_>>()?;
    let form = match (a.tracers, a.bound_train) {
        (true, _) => Form::Tracer,
        (_, true) => Form::Boundary { jump_sort: jump_sort(a), add_on_sites: a.add_on_sites },
        _ => Form::Collective,
    };
    let (nl, nch, ncl, a0, mean_wt, std_wt, nosym) = (a.nl, a.nch, a.ncl, a.a0, a.mean_wt, a.std_wt, a.nosym);
    let (batch_size, micro_batch, learning_rate, decay, shuffle) =
        (a.batch_size, a.micro_batch, a.lr, a.decay, a.shuffle);
    let clock =
        || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    Ok(RunConfig {
        mode,
        data: a.data_path.clone().unwrap_or_default(),
        crystal: a.crys_path.clone().unwrap_or_default(),
        tdata,
        tnet,
        species,
        vacancy: a.vac_spec,
        form,
        all_jumps: a.all_jumps,
        all_jumps_net: a.all_jumps_net,
        net: NetConfig { nl, nch, ncl, a0, mean_wt, std_wt, nosym, num_species: 0 },
        train: TrainConfig {
            batch_size,
            micro_batch,
            learning_rate,
            decay,
            shuffle,
            seed: a.seed.unwrap_or_else(clock),
        },
        n_train: a.n_train,
        start: a.start_epoch.unwrap_or(0),
        end: a.end_epoch,
        interval: a.interval,
        scratch: a.scratch,
        scale_l0: a.scale_l0,
        checks: DataChecks { full: !a.no_check, permuted: a.perm },
        force: a.force,
        adam: if a.restart_adam { AdamPolicy::Restart } else { AdamPolicy::Restore },
        device: a.device.unwrap_or_else(gcnet_net::default_device),
        kind: match a.dtype {
            Dtype::F64 => Kind::Double,
            Dtype::F32 => Kind::Float,
        },
        threads: a.threads,
        data_parallel: a.data_parallel,
        rep_layer: a.rep_layer,
        rep_start: a.rep_start,
        work_dir: PathBuf::new(),
    })
}

/// -nosym switches jump sorting off, as published (the sort is only symmetric with the
/// whole group).
fn jump_sort(a: &Args) -> bool {
    !a.no_jump_sort && !a.nosym
}

/// -d: `name: value` per argument into -dpf, which must not be an input of the run (nor a
/// file of its network directory) and is not replaced without --force.
fn dump_args(a: &Args, run: &Run) -> anyhow::Result<()> {
    let path: &Path = a.dump_file.as_deref().context("-d (--DumpArgs) needs -dpf (--DumpFile) FILE to write to")?;
    let mut inputs = run.inputs.clone();
    if run.dir.is_dir() {
        inputs.extend(std::fs::read_dir(&run.dir).into_iter().flatten().flatten().map(|e| e.path()));
    }
    let end = if matches!(run.cfg.mode, Mode::GetY | Mode::GetRep) { Some(run.cfg.start) } else { a.end_epoch };
    let text = a.dump_lines(end, jump_sort(a));
    crate::spellings::write_dump(path, &inputs, gcnet_files::Overwrite::force(a.force), &text)?;
    eprintln!("gcnet: arguments written to {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long_spellings(args: &[OsString]) -> Vec<OsString> {
        crate::spellings::long_spellings(args, SPELLINGS)
    }

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn single_dash_spellings_map_to_long_names() {
        let mapped =
            long_spellings(&os(&["gcnet", "-DP", "d.h5", "-nl", "-1", "-sp=12", "-h", "-m", "train", "-i", "2"]));
        assert_eq!(
            mapped,
            os(&[
                "gcnet",
                "--DataPath",
                "d.h5",
                "--Nlayers",
                "-1",
                "--SpecTrain=12",
                "-h",
                "--Mode",
                "train",
                "--Interval",
                "2"
            ])
        );
        // the program name and unknown options are untouched
        assert_eq!(long_spellings(&os(&["-DP", "-x"])), os(&["-DP", "-x"]));
    }

    #[test]
    fn every_option_has_its_spelling_and_published_default() {
        let a = Args::parse_from(long_spellings(&os(&["gcnet"])));
        assert_eq!((a.a0, a.nl, a.nch, a.ncl, a.n_train, a.interval), (1.0, 1, 4, 1, 10000, 1));
        assert_eq!(
            (a.lr, a.decay, a.batch_size, a.mean_wt, a.std_wt, a.vac_spec, a.rep_start),
            (0.001, 0.0005, 128, 0.02, 0.2, 0, 0)
        );
        assert!(!(a.tracers || a.shuffle || a.bound_train || a.no_jump_sort || a.add_on_sites || a.nosym));
        assert!(
            !(a.scale_l0 || a.scratch || a.data_parallel || a.all_jumps || a.all_jumps_net || a.dump_args || a.perm)
        );
        assert!(a.data_path.is_none() && a.crys_path.is_none() && a.mode.is_none() && a.rep_layer.is_none());
        let all = [
            "gcnet", "-DP", "d", "-prm", "-cr", "c", "-a0", "2", "-m", "eval", "-trc", "-shf", "-rl", "5", "-rStart",
            "3", "-bt", "-nojsr", "-aos", "-nosym", "-l0", "-nl", "6", "-nch", "8", "-ncL", "12", "-scr", "-DPr",
            "-td", "1000", "-tn", "900", "-sep", "2", "-eep", "9", "-sp", "1", "-vSp", "2", "-aj", "-ajn", "-nt", "50",
            "-i", "3", "-lr", "0.01", "-dcy", "0", "-bs", "64", "-wm", "-0.1", "-ws", "0.3", "-d", "-dpf", "args.txt",
        ];
        let a = Args::try_parse_from(long_spellings(&os(&all))).unwrap();
        assert_eq!(a.data_path, Some("d".into()));
        assert!(a.perm && a.tracers && a.shuffle && a.bound_train && a.no_jump_sort && a.add_on_sites && a.nosym);
        assert!(a.scale_l0 && a.scratch && a.data_parallel && a.all_jumps && a.all_jumps_net && a.dump_args);
        assert_eq!((a.nl, a.nch, a.ncl, a.rep_layer, a.rep_start), (6, 8, 12, Some(5), 3));
        assert_eq!(
            (a.tdata.as_deref(), a.tnet.as_deref(), a.start_epoch, a.end_epoch),
            (Some("1000"), Some("900"), Some(2), Some(9))
        );
        assert_eq!(
            (a.spec_train.as_deref(), a.vac_spec, a.n_train, a.interval, a.batch_size),
            (Some("1"), 2, 50, 3, 64)
        );
        assert_eq!((a.a0, a.lr, a.decay, a.mean_wt, a.std_wt), (2.0, 0.01, 0.0, -0.1, 0.3));
        assert_eq!(a.dump_file, Some("args.txt".into()));
        assert_eq!(SPELLINGS.len(), 36);
    }

    #[test]
    fn dump_lines_use_the_published_names_and_python_values() {
        let a = Args::parse_from(long_spellings(&os(&[
            "gcnet", "-DP", "d.h5", "-cr", "c.h5", "-m", "getY", "-td", "1", "-tn", "1", "-sep", "4", "-sp", "1",
        ])));
        let text = a.dump_lines(Some(4), true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "DataPath: d.h5");
        for want in [
            "LatParam: 1.0",
            "Mode: getY",
            "RepLayer: None",
            "JumpSort: True",
            "Start_epoch: 4",
            "End_epoch: 4",
            "Learning_rate: 0.001",
            "Decay: 0.0005",
            "Std_wt: 0.2",
            "DumpFile: None",
            "AllJumps: False",
        ] {
            assert!(lines.contains(&want), "missing `{want}` in\n{text}");
        }
        let names: Vec<&str> = lines.iter().map(|l| l.split(": ").next().unwrap()).collect();
        let published = [
            "DataPath",
            "CrysDatPath",
            "LatParam",
            "Mode",
            "RepLayer",
            "RepStart",
            "BoundTrain",
            "JumpSort",
            "AddOnSitesJPINN",
            "NoSymmetry",
            "ScaleL0",
            "Nlayers",
            "Nchannels",
            "NchLast",
            "Scratch",
            "DatPar",
            "Tdata",
            "TNet",
            "Start_epoch",
            "End_epoch",
            "SpecTrain",
            "VacSpec",
            "AllJumps",
            "AllJumpsNetType",
            "N_train",
            "Interval",
            "Learning_rate",
            "Decay",
            "Batch_size",
            "Mean_wt",
            "Std_wt",
            "DumpArgs",
            "DumpFile",
        ];
        assert_eq!(&names[..published.len()], &published);
    }
}
