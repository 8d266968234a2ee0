//! `gcnet tracer train`: the network version of the tracer correlation factor. A host
//! lattice of one species with one vacancy, all z jumps as samples, one relaxation vector
//! per atom (the `-trc` loss of SPEC section 5); f = L[y] / L[0] after every epoch,
//! beside the exact finite-cell value f_N, which it can never go below.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::{Composition, LatticeGas};
use gcnet_net::{
    Event, Form, Gcnet, NetConfig, Objective, SampleSet, Schedule, Species, TrainConfig, Trainer, batch, eval, fit,
};
use gcnet_plot::{Chart, Series};
use gcnet_srb::exact_tracer_correlation;
use indicatif::{ProgressBar, ProgressStyle};

use gcnet_progress::say;

#[derive(Debug, Args)]
pub struct TracerTrainArgs {
    /// Bravais lattice (fcc, bcc or sc).
    #[arg(long, default_value = "fcc")]
    lattice: String,
    /// Primitive cells along each axis.
    #[arg(long, default_value_t = 8)]
    size: usize,
    /// Hidden layers (-nl).
    #[arg(long, default_value_t = 2)]
    nl: i64,
    /// Channels of the hidden layers (-nch).
    #[arg(long, default_value_t = 4)]
    nch: i64,
    /// Training epochs (one Adam step over the z exits each).
    #[arg(long, default_value_t = 300)]
    epochs: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 0.01)]
    lr: f64,
    /// Seed of the initial weights.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Plot of f against epoch, with f_N as a line (PNG).
    #[arg(long, default_value = "tracer_f.png")]
    plot: PathBuf,
}

/// What a tracer training run gives.
pub struct TracerTrainResult {
    pub exact: f64,
    /// f after each epoch (index 0: the initial network).
    pub f: Vec<f64>,
}

pub fn run(args: &TracerTrainArgs) -> anyhow::Result<ExitCode> {
    let kind: LatticeKind = args.lattice.parse().map_err(|e| anyhow::anyhow!("--lattice: {e}"))?;
    let crystal = CrystalData::from_crystal(&Crystal::cube(kind, CellKind::Primitive, args.size)?);
    let start = Instant::now();
    let bar = ProgressBar::new(args.epochs as u64).with_style(
        ProgressStyle::with_template("  {bar:30} epoch {pos}/{len}, f = {msg} [{elapsed_precise} < {eta}]")
            .expect("valid template"),
    );
    let result = train(&crystal, args, |epoch, f| {
        bar.set_position(epoch as u64);
        bar.set_message(format!("{f:.5}"));
        if epoch % 25 == 0 {
            say(&bar, format!("  epoch {epoch:>4}: f = {f:.6}"));
        }
    })?;
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let (best_epoch, best) =
        result.f.iter().copied().enumerate().min_by(|a, b| a.1.total_cmp(&b.1)).expect("at least the initial f");
    let lowest = result.f.iter().copied().fold(f64::INFINITY, f64::min);
    if let Some(e) = result.f.iter().position(|&f| f <= result.exact * 1.005) {
        println!("within 0.5% of f_N from epoch {e}");
    }
    println!(
        "{kind} {n}x{n}x{n} ({} sites): exact f_N = {:.6}; network f = {:.6} at epoch {best_epoch} ({:+.2}% from f_N), \
         {} epochs in {seconds:.0} s",
        crystal.num_sites(),
        result.exact,
        best,
        100.0 * (best - result.exact) / result.exact,
        args.epochs,
        n = args.size
    );
    // The variational principle: no relaxation vector gives less than the exact value.
    if lowest < result.exact * (1.0 - 1e-9) {
        bail!("network f = {lowest} went below the exact f_N = {}: the loss or the exact solve is wrong", result.exact);
    }
    let curve: Vec<(f64, f64)> = result.f.iter().enumerate().map(|(e, &f)| (e as f64, f)).collect();
    Chart::new(format!("Tracer correlation factor, {kind} {0}x{0}x{0}", args.size), "epoch", "f")
        .with(Series::line("GCNet", curve))
        .with_hline("exact f_N", result.exact)
        .save_png(&args.plot)
        .with_context(|| format!("writing {}", args.plot.display()))?;
    println!("plot: {}", args.plot.display());
    Ok(ExitCode::SUCCESS)
}

/// Trains on the host lattice of `crystal`; `on_epoch(epoch, f)` after every epoch.
pub fn train(
    crystal: &CrystalData,
    args: &TracerTrainArgs,
    mut on_epoch: impl FnMut(usize, f64),
) -> anyhow::Result<TracerTrainResult> {
    let exact = exact_tracer_correlation(crystal)?.f;
    // One species at rate 1 everywhere: every arrangement is the same state.
    let host = LatticeGas::fixed(vec![1.0], Composition::Counts(vec![crystal.num_sites() - 1]))
        .generate(crystal, 1, args.seed)?;
    tch::manual_seed(args.seed as i64);
    let cfg = NetConfig { nl: args.nl, nch: args.nch, ncl: 1, num_species: 1, ..NetConfig::default() };
    let net = Gcnet::from_crystal(crystal, &cfg, gcnet_net::default_device())?;
    let obj = Objective::new(Species::new(&[0], 1, 2)?, Form::Tracer, true, 1, crystal.z())?;
    let set = SampleSet::new(&host, vec![0], true, net.geometry(), 1);
    let l0 = batch::uncorrelated_l0(&net, &set, &obj);
    let f_of = |net: &Gcnet| eval::loss_sum(net, &set, &obj, 64) / l0;
    let tcfg = TrainConfig {
        batch_size: crystal.z(),
        micro_batch: crystal.z(),
        learning_rate: args.lr,
        decay: 0.0,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&net, tcfg);
    let mut f = vec![f_of(&net)];
    let schedule = Schedule { start: 0, end: args.epochs, interval: 1 };
    fit(&net, &mut trainer, &set, &obj, &schedule, None, &mut |net, e| {
        if let Event::Epoch(r) = e {
            f.push(f_of(net));
            on_epoch(r.epoch + 1, *f.last().expect("just pushed"));
        }
        Ok(())
    })?;
    Ok(TracerTrainResult { exact, f })
}
