//! The published GCNetRun workflows (SPEC section 6) as library calls: a [`RunConfig`]
//! (what the command line's options say, validated by [`RunConfig::validate`]) is
//! prepared once into a [`Run`] (crystal and data set read and checked once, objective,
//! network directory, output names), whose [`Run::train`], [`Run::eval`], [`Run::get_y`]
//! and [`Run::get_rep`] write the published files and return what they computed. The
//! `gcnet` binary maps its arguments onto a `RunConfig`; notebooks build one directly.
//!
//! ```no_run
//! use gcnet_net::run::{Mode, RunConfig};
//! # fn main() -> gcnet_net::Result<()> {
//! let cfg = RunConfig { data: "sr2.h5".into(), crystal: "CrystData.h5".into(), species: vec![1], vacancy: 2,
//!                       end: Some(100), scratch: true, ..RunConfig::default() };
//! let trained = cfg.prepare()?.train()?;                     // ep_T_1_1_n1c4_all_0/ep_{0..100}.pt
//! let curves = RunConfig { mode: Mode::Eval, ..cfg }.prepare()?.eval()?; // L_train, L_val per checkpoint
//! # Ok(()) }
//! ```
//!
//! Messages name the published flags (`-sep`, `-scr`, ...): they are this workflow's
//! settings, as users write them in their job scripts.

use std::path::PathBuf;
use std::time::Instant;

use tch::{Device, Kind};

use crate::error::{Result, refuse};
use crate::fit::AdamPolicy;
use crate::network::NetConfig;
use crate::objective::Form;
use crate::train::TrainConfig;

mod data;
mod job;
mod modes;
mod record;

pub use data::{CheckedData, DataChecks};
pub use job::Run;
pub use modes::{Done, Evaluated, Output, Outputs, Trained};

/// The four modes of the published interface (`-m`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Train,
    Eval,
    GetY,
    GetRep,
}

impl Mode {
    /// The published spelling (`train`, `eval`, `getY`, `getRep`).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Train => "train",
            Mode::Eval => "eval",
            Mode::GetY => "getY",
            Mode::GetRep => "getRep",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Mode, String> {
        [Mode::Train, Mode::Eval, Mode::GetY, Mode::GetRep]
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown mode -m {s}: use train, eval, getY or getRep"))
    }
}

/// Everything a run of the published interface is told, with the published defaults
/// (`Default`); the published flag of each field is in brackets.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// [-m] What to do.
    pub mode: Mode,
    /// [-DP] The single-step data set (HDF5).
    pub data: PathBuf,
    /// [-cr] The crystal data file (HDF5).
    pub crystal: PathBuf,
    /// [-td] Temperature (or composition) tag of the data.
    pub tdata: String,
    /// [-tn] Tag of the network; differs from `tdata` only outside training (transfer).
    pub tnet: String,
    /// [-sp] The species set S (the vacancy label alone for the vacancy).
    pub species: Vec<i8>,
    /// [-vSp] The vacancy label.
    pub vacancy: i8,
    /// How y is formed: collective, boundary training [-bt -nojsr -aos] or tracers [-trc].
    pub form: Form,
    /// [-aj] Train (or evaluate) on all z exits of every state; in output names.
    pub all_jumps: bool,
    /// [-ajn] The network was trained with -aj (its directory name outside train).
    pub all_jumps_net: bool,
    /// [-nl -nch -ncL -a0 -wm -ws -nosym] The network (`num_species` comes from the data).
    pub net: NetConfig,
    /// [-bs -lr -dcy -shf --micro-batch --seed] Adam and batching.
    pub train: TrainConfig,
    /// [-nt] Training states (the rest validate).
    pub n_train: usize,
    /// [-sep] Start epoch (train: resume from it; getY, getRep: the epoch used).
    pub start: usize,
    /// [-eep] End epoch (train and eval; getY and getRep use `start`).
    pub end: Option<usize>,
    /// [-i] Epochs between checkpoints (and between evaluated checkpoints).
    pub interval: usize,
    /// [-scr] Start a new network when there is none at `start`.
    pub scratch: bool,
    /// [-l0] Divide the training loss by the uncorrelated L0 of the training samples.
    pub scale_l0: bool,
    /// [-prm] and `--no-check`: sample order and data checks.
    pub checks: DataChecks,
    /// [--force] Train may replace existing checkpoints of the epochs it writes.
    pub force: bool,
    /// [--restart-adam] Resume with a fresh Adam instead of the saved state.
    pub adam: AdamPolicy,
    /// [--device] Where the network runs.
    pub device: Device,
    /// [--dtype] Training precision (evaluation, getY and checkpoints stay f64).
    pub kind: Kind,
    /// [--threads] CPU threads; `None`: the CPUs this process may use, limited by
    /// SLURM_CPUS_PER_TASK and OMP_NUM_THREADS (gcnet_kernels::threads). Not used on CUDA.
    pub threads: Option<usize>,
    /// [-DPr] Data-parallel training over all visible GPUs.
    pub data_parallel: bool,
    /// [-rl] getRep: the stack module whose output is written.
    pub rep_layer: Option<usize>,
    /// [-rStart] getRep: first sample.
    pub rep_start: usize,
    /// Where the network directory and the output files go (empty: the working
    /// directory, as published).
    pub work_dir: PathBuf,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            mode: Mode::Train,
            data: PathBuf::new(),
            crystal: PathBuf::new(),
            tdata: "1".into(),
            tnet: "1".into(),
            species: Vec::new(),
            vacancy: 0,
            form: Form::Collective,
            all_jumps: false,
            all_jumps_net: false,
            net: NetConfig { nl: 1, nch: 4, ncl: 1, a0: 1.0, mean_wt: 0.02, std_wt: 0.2, ..NetConfig::default() },
            train: TrainConfig::default(),
            n_train: 10000,
            start: 0,
            end: None,
            interval: 1,
            scratch: false,
            scale_l0: false,
            checks: DataChecks { full: true, permuted: false },
            force: false,
            adam: AdamPolicy::Restore,
            device: crate::default_device(),
            kind: Kind::Double,
            threads: None,
            data_parallel: false,
            rep_layer: None,
            rep_start: 0,
            work_dir: PathBuf::new(),
        }
    }
}

impl RunConfig {
    /// The checks that need no file, in the words of the published flags.
    pub fn validate(&self) -> Result<()> {
        for (flag, v) in [("-td", &self.tdata), ("-tn", &self.tnet)] {
            // They become parts of file and directory names in the working directory.
            if v.is_empty() || v.contains('/') || v.contains('\\') || v == "." || v == ".." {
                refuse!("{flag} {v:?}: a temperature or composition tag, not a path (no `/`)");
            }
        }
        if self.mode == Mode::Train && self.tdata != self.tnet {
            refuse!(
                "training uses the data of the network's own temperature: -td {} and -tn {} must agree (they differ only for eval, getY and getRep)",
                self.tdata,
                self.tnet
            );
        }
        let boundary = matches!(self.form, Form::Boundary { .. });
        if self.all_jumps && boundary {
            refuse!("-aj (all jumps) cannot be combined with -bt (boundary training)");
        }
        let (t, n) = (&self.train, &self.net);
        if self.interval == 0 {
            refuse!("-i (--Interval) must be at least 1");
        }
        if !(t.learning_rate.is_finite() && t.learning_rate > 0.0) {
            refuse!("-lr (--Learning_rate) {}: must be a finite number > 0", t.learning_rate);
        }
        if !(t.decay.is_finite() && t.decay >= 0.0) {
            refuse!("-dcy (--Decay) {}: must be a finite number >= 0", t.decay);
        }
        if !(n.mean_wt.is_finite() && n.std_wt.is_finite() && n.std_wt >= 0.0) {
            refuse!("-wm {} -ws {}: the initial weights need a finite mean and a finite std >= 0", n.mean_wt, n.std_wt);
        }
        if !(n.a0.is_finite() && n.a0 > 0.0) {
            refuse!("-a0 (--LatParam) {}: must be a finite number > 0", n.a0);
        }
        if t.batch_size == 0 {
            refuse!("-bs (--Batch_size) must be at least 1");
        }
        if self.n_train == 0 {
            refuse!("-nt (--N_train) must be at least 1");
        }
        let end = self.end_epoch()?;
        if end < self.start {
            refuse!("-eep {end} is before -sep {}", self.start);
        }
        if self.species.is_empty() {
            refuse!("-sp (--SpecTrain) is required: the species labels to train, e.g. -sp 0");
        }
        if self.form == Form::Tracer && self.species.contains(&self.vacancy) {
            refuse!(
                "-trc trains atom tracers: -sp {} must not contain the vacancy label {} (-vSp)",
                self.species_text(),
                self.vacancy
            );
        }
        if self.device != Device::Cpu && !tch::Cuda::is_available() {
            refuse!("--device {:?}: no CUDA device is available", device_name(self.device));
        }
        if self.crystal.as_os_str().is_empty() {
            refuse!("-cr (--CrysDatPath) is required: the crystal data file");
        }
        if self.data.as_os_str().is_empty() {
            refuse!("-DP (--DataPath) is required: the data set");
        }
        Ok(())
    }

    /// The end epoch: as published, getY and getRep end where they start.
    pub fn end_epoch(&self) -> Result<usize> {
        match (self.mode, self.end) {
            (Mode::GetY | Mode::GetRep, _) => Ok(self.start),
            (_, Some(end)) => Ok(end),
            (_, None) => refuse!("-eep (--End_epoch) is required"),
        }
    }

    /// -sp as written: the labels joined.
    pub fn species_text(&self) -> String {
        self.species.iter().map(|l| l.to_string()).collect()
    }

    /// Validates, then reads and checks the crystal and the data set once: a [`Run`].
    pub fn prepare(&self) -> Result<Run> {
        self.validate()?;
        Run::new(self.clone())
    }
}

/// `--device`: `cpu`, `cuda` (the first GPU) or `cuda:N`.
pub fn parse_device(text: &str) -> std::result::Result<Device, String> {
    match text {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Ok(Device::Cuda(0)),
        d => d
            .strip_prefix("cuda:")
            .and_then(|n| n.parse().ok())
            .map(Device::Cuda)
            .ok_or_else(|| format!("--device {d}: use cpu, cuda or cuda:N")),
    }
}

/// `cpu`, `cuda:N` as `--device` spells them.
pub fn device_name(device: Device) -> String {
    match device {
        Device::Cuda(n) => format!("cuda:{n}"),
        _ => "cpu".into(),
    }
}

pub(crate) fn elapsed(t: Instant) -> String {
    let s = t.elapsed().as_secs_f64();
    if s < 120.0 { format!("{s:.1} s") } else { format!("{:.1} min", s / 60.0) }
}
