//! `gcnet onsager`: the options mapped onto `gcnet_srb::onsager::OnsagerRun`; the report is
//! printed.

use std::path::PathBuf;
use std::process::ExitCode;

use gcnet_net::run::{DataChecks, RunConfig, parse_device};
use gcnet_net::{NetConfig, TrainConfig};
use gcnet_srb::onsager::{OnsagerRun, VceModel};

use crate::published::Dtype;
use crate::spellings::whole;

/// The published single-dash spellings that `gcnet onsager` takes, and their long names.
pub const SPELLINGS: &[(&str, &str)] = &[
    ("-DP", "--data"),
    ("-cr", "--crystal"),
    ("-td", "--tdata"),
    ("-vSp", "--vacancy"),
    ("-nt", "--n-train"),
    ("-nl", "--nl"),
    ("-nch", "--nch"),
    ("-a0", "--a0"),
    ("-eep", "--epochs"),
    ("-i", "--interval"),
    ("-lr", "--lr"),
    ("-dcy", "--decay"),
    ("-bs", "--batch-size"),
    ("-shf", "--shuffle"),
    ("-prm", "--perm"),
    ("-aj", "--all-jumps"),
    ("-mo", "--max-order"),
    ("-cc", "--cutoff"),
    ("-rc", "--rcond"),
];

/// The whole Onsager matrix L_ab of a data set (every label, the vacancy included) with
/// standard errors, on the training and the validation samples, and the kinosons. One
/// network with one output channel per atom label learns every label's relaxation vector
/// (loss: the sum of L_aa / L0_a) in ep_T_{T}_labels{S}_n{nl}c{nch}_all_{aj}; rerun after a
/// stop, it continues from its last checkpoint. Writes onsager_{T}.npy, onsager_err_{T}.npy,
/// onsager_val_{T}.npy, onsager_val_err_{T}.npy, kinosons_{a}_{T}.npy per label,
/// kinosons_jumping_{T}.npy and kinosons_{T}.png as one set with its record. The published
/// spellings -DP -cr -td -vSp -nt -nl -nch -a0 -eep -i -lr -dcy -bs -shf -prm -aj -mo -cc -rc
/// are accepted for the long names.
#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Single-step data set (HDF5).
    #[arg(long)]
    data: PathBuf,
    /// Crystal data file.
    #[arg(long)]
    crystal: PathBuf,
    /// Temperature (or composition) tag: in the directory and file names.
    #[arg(long)]
    tdata: String,
    /// Vacancy label.
    #[arg(long, default_value_t = 0)]
    vacancy: i8,
    /// Training samples (the first N; the rest are the validation samples).
    #[arg(long, value_parser = whole::<usize>)]
    n_train: usize,
    /// Hidden layers.
    #[arg(long, default_value_t = 1)]
    nl: i64,
    /// Channels of the hidden layers.
    #[arg(long, default_value_t = 4)]
    nch: i64,
    /// Lattice parameter multiplying the jump vectors.
    #[arg(long, default_value_t = 1.0)]
    a0: f64,
    /// Epochs to train (the matrix uses ep_{epochs}.pt).
    #[arg(long, value_parser = whole::<usize>, required_unless_present = "vce")]
    epochs: Option<usize>,
    /// Epochs between checkpoints (must divide --epochs).
    #[arg(long, default_value_t = 1, value_parser = whole::<usize>)]
    interval: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 0.001)]
    lr: f64,
    /// Adam weight decay.
    #[arg(long, default_value_t = 0.0005)]
    decay: f64,
    /// Samples per Adam step.
    #[arg(long, default_value_t = 128, value_parser = whole::<usize>)]
    batch_size: usize,
    /// Reshuffle the training samples every epoch.
    #[arg(long)]
    shuffle: bool,
    /// Samples in the order of the data file's `Permutation` dataset.
    #[arg(long)]
    perm: bool,
    /// Train on every jump out of every training state (z samples per state), not only
    /// the recorded step: needed when a label never jumps in the recorded steps.
    #[arg(long)]
    all_jumps: bool,
    /// Seed of the initial weights and shuffles.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Correct each label's y by the scaled residual bias (needs the exit states: z + 1
    /// network evaluations per state) before the matrix is formed.
    #[arg(long)]
    srb: bool,
    /// Device (cpu, cuda, cuda:N); default the first GPU if there is one.
    #[arg(long, value_parser = |s: &str| parse_device(s))]
    device: Option<tch::Device>,
    /// Training precision.
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Dtype,
    /// CPU threads (default: the CPUs this process may use).
    #[arg(long, value_parser = whole::<usize>)]
    threads: Option<usize>,
    /// The vector cluster expansion (clusters of up to --max-order sites closer than
    /// --cutoff lattice parameters, W's singular values below --rcond x the largest
    /// dropped) instead of the network: writes onsager_vce_* and kinosons_vce_*.
    #[arg(long, requires_all = ["max_order", "cutoff"])]
    vce: bool,
    #[arg(long, requires = "vce", value_parser = whole::<usize>)]
    max_order: Option<usize>,
    #[arg(long, requires = "vce")]
    cutoff: Option<f64>,
    #[arg(long, requires = "vce", default_value_t = 1e-8)]
    rcond: f64,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let defaults = RunConfig::default();
    let config = RunConfig {
        data: a.data,
        crystal: a.crystal,
        tdata: a.tdata.clone(),
        tnet: a.tdata,
        vacancy: a.vacancy,
        net: NetConfig { nl: a.nl, nch: a.nch, a0: a.a0, ..defaults.net.clone() },
        train: TrainConfig {
            batch_size: a.batch_size,
            learning_rate: a.lr,
            decay: a.decay,
            shuffle: a.shuffle,
            seed: a.seed,
            ..TrainConfig::default()
        },
        n_train: a.n_train,
        all_jumps: a.all_jumps,
        end: a.epochs,
        interval: a.interval,
        checks: DataChecks { full: true, permuted: a.perm },
        device: a.device.unwrap_or_else(gcnet_net::default_device),
        kind: match a.dtype {
            Dtype::F64 => tch::Kind::Double,
            Dtype::F32 => tch::Kind::Float,
        },
        threads: a.threads,
        ..defaults
    };
    let vce = match (a.vce, a.max_order, a.cutoff) {
        (true, Some(max_order), Some(cutoff)) => Some(VceModel { max_order, cutoff, rcond: a.rcond }),
        _ => None,
    };
    let report = OnsagerRun { config, srb: a.srb, vce }.run()?;
    print!("{report}");
    for f in &report.files {
        eprintln!("gcnet: wrote {}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}
