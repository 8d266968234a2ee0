//! `gcnet demo`: the README's main job. End to end on a built-in default, every number
//! computed in the run: crystal data, an SR-2 lattice-gas data set, a small GCNet trained
//! for the fast species, eval on training and validation samples, y with exit states,
//! the scaled residual bias correction, and multi-step KMC for the reference.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::{CheckOptions, Dataset, Duration, KmcConfig, LatticeGas, check, kmc};
use gcnet_files::Overwrite;
use gcnet_net::{
    CheckpointDir, Event, Gcnet, NetConfig, Objective, SampleSet, Schedule, Species, TrainConfig, Trainer, eval,
};
use gcnet_plot::{Chart, Series};
use gcnet_srb::{RelaxationVectors, SingularPolicy, SrbConfig, scaled_residual_bias};

use gcnet_progress::say;

/// Run the end-to-end demo: SR-2 lattice gas on 8x8x8 FCC, GCNet for the fast species,
/// scaled residual bias, and multi-step KMC as the reference.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output directory (data set, checkpoints, plot, results).
    #[arg(long, default_value = "demo-output")]
    out: PathBuf,
    /// Fraction of fast atoms (species 1, rate 1); the rest are slow (species 0, rate 0.001).
    #[arg(long, default_value_t = 0.5)]
    fast_fraction: f64,
    /// Training states.
    #[arg(long, default_value_t = 6000)]
    n_train: usize,
    /// Validation states.
    #[arg(long, default_value_t = 2000)]
    n_val: usize,
    /// Training epochs.
    #[arg(long, default_value_t = 8)]
    epochs: usize,
    /// Hidden layers of the network (-nl).
    #[arg(long, default_value_t = 2)]
    nl: i64,
    /// Channels of the hidden layers (-nch).
    #[arg(long, default_value_t = 4)]
    nch: i64,
    /// Adam learning rate (-lr).
    #[arg(long, default_value_t = 0.005)]
    lr: f64,
    /// Batch size (-bs).
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// Train for the vacancy (label 2) instead of the fast species.
    #[arg(long)]
    vacancy: bool,
    /// KMC trajectories for the reference.
    #[arg(long, default_value_t = 16384)]
    kmc_trajectories: usize,
    /// Length of each KMC trajectory (time units of 1/rate).
    #[arg(long, default_value_t = 2000.0)]
    kmc_time: f64,
    /// Random seed for data, network and KMC.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;

    // 1. Crystal data: the committed 8x8x8 file if present, checked against a fresh build.
    let generated = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 8)?);
    let committed = PathBuf::from("CrysDat_FCC/CrystData.h5");
    let crystal = if committed.is_file() {
        let c = CrystalData::read(&committed)?;
        if c.nn_sites() != generated.nn_sites() || c.jump_site_permutation() != generated.jump_site_permutation() {
            bail!("{} differs from the generated 8x8x8 FCC crystal", committed.display());
        }
        c
    } else {
        generated
    };
    step(&format!(
        "crystal: 8x8x8 primitive FCC, {} sites, z = {}, {} group operations",
        crystal.num_sites(),
        crystal.z(),
        crystal.num_group_ops()
    ));

    // 2. Data set: SR-2 at the chosen composition, validated, written.
    let gas = LatticeGas::sr2(args.fast_fraction);
    let n_total = args.n_train + args.n_val;
    let data = gas.generate(&crystal, n_total, args.seed)?;
    let report = check(&data, &crystal, &CheckOptions::default())?;
    if !report.is_ok() {
        bail!("the generated data set fails validation:\n{report}");
    }
    let data_path = args.out.join("sr2_data.h5");
    data.write(&data_path, true)?;
    let vacancy = (data.num_labels() - 1) as i8;
    let (train_label, label_name) = if args.vacancy { (vacancy, "vacancy") } else { (1, "fast species") };
    step(&format!(
        "data: SR-2, fast fraction {}, {} training + {} validation states, validated, written to {}",
        args.fast_fraction,
        args.n_train,
        args.n_val,
        data_path.display()
    ));

    // 3. Train a small GCNet on the training states, evaluating both sets every epoch.
    let cfg = NetConfig {
        nl: args.nl,
        nch: args.nch,
        ncl: 1,
        num_species: (data.num_labels() - 1) as i64,
        ..NetConfig::default()
    };
    let net = Gcnet::from_crystal_seeded(&crystal, &cfg, gcnet_net::default_device(), args.seed as i64)?;
    let obj = Objective::collective(Species::new(&[train_label], vacancy, data.num_labels())?);
    let train_set = SampleSet::new(&data, (0..args.n_train).collect(), false, net.geometry(), vacancy);
    let val_set = SampleSet::new(&data, (args.n_train..n_total).collect(), false, net.geometry(), vacancy);
    let tcfg = TrainConfig {
        batch_size: args.batch,
        learning_rate: args.lr,
        shuffle: true,
        seed: args.seed,
        ..TrainConfig::default()
    };
    let l_of = |set: &SampleSet<'_>| eval::loss_sum(&net, set, &obj, 256) / set.num_states() as f64;
    let mut curve_train = vec![(0.0, l_of(&train_set))];
    let mut curve_val = vec![(0.0, l_of(&val_set))];
    let batches = args.n_train.div_ceil(args.batch);
    let bar = gcnet_progress::bar((args.epochs * batches) as u64, "training batches, epoch");
    let train_start = Instant::now();
    let mut best = (0usize, curve_val[0].1);
    // demo-output/ is the demo's own directory: a rerun replaces its checkpoints.
    let ckpts = CheckpointDir::create(args.out.join("checkpoints"))?.overwrite(Overwrite::Replace);
    let mut trainer = Trainer::new(&net, tcfg).saving_to(ckpts);
    bar.set_message("1");
    trainer.fit(&net, &train_set, &obj, &Schedule::epochs(0, args.epochs), &mut |net, e| {
        if let Event::Batch { .. } = e {
            bar.inc(1);
        }
        if let Event::Epoch(r) = e {
            // The training L is the running loss of the epoch (evaluating the whole training
            // set again would cost as much as a third of the epoch).
            let (epoch, lt) = (r.epoch + 1, r.loss);
            let lv = eval::loss_sum(net, &val_set, &obj, 256) / val_set.num_states() as f64;
            curve_train.push((epoch as f64, lt));
            curve_val.push((epoch as f64, lv));
            if lv < best.1 {
                best = (epoch, lv);
            }
            say(&bar, format!("  epoch {epoch:>3}: L_train = {lt:.5}  L_val = {lv:.5}"));
            bar.set_message(format!("{}", epoch + 1));
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    step(&format!(
        "trained GCNet (nl {}, nch {}) for the {label_name}: {} epochs in {:.0} s; best validation epoch {}",
        args.nl,
        args.nch,
        args.epochs,
        train_start.elapsed().as_secs_f64(),
        best.0
    ));
    let mut net = net;
    gcnet_net::checkpoint::load(&mut net, &trainer.checkpoints().expect("saving to a directory").weights(best.0))?;

    // 4. y with exit states for every state, then the scaled residual bias.
    let y = relaxation_vectors_with_exits(&net, &data, &obj);
    let srb_config = SrbConfig {
        species: vec![train_label as usize],
        vacancy: vacancy as usize,
        a0: 1.0,
        n_train: args.n_train,
        basis_labels: None,
        max_condition: gcnet_srb::srb::DEFAULT_MAX_CONDITION,
        singular: SingularPolicy::Truncate,
    };
    let srb = scaled_residual_bias(&data, &crystal, &y, &srb_config)?;
    let val = srb.validation.expect("validation samples exist");
    step(&format!("scaled residual bias: theta = {:?} (basis labels {:?})", srb.coefficients.theta, srb.basis_labels));

    // 5. Multi-step KMC reference on the same lattice gas.
    let kmc_start = Instant::now();
    let kcfg = KmcConfig {
        gas,
        trajectories: args.kmc_trajectories,
        duration: Duration::Time(args.kmc_time),
        seed: args.seed + 1,
        threads: 0,
    };
    let kmc_result = kmc::run(&crystal, &kcfg, &|_| {})?;
    let t = train_label as usize;
    let (l_kmc, l_kmc_err) = (kmc_result.onsager[[t, t]], kmc_result.onsager_error[[t, t]]);
    step(&format!(
        "KMC: {} trajectories to t = {}, {} jumps in {:.0} s",
        kmc_result.trajectories,
        args.kmc_time,
        kmc_result.steps,
        kmc_start.elapsed().as_secs_f64()
    ));

    // 6. The table and the plot.
    let rel = |x: f64| format!("{:+.1}%", 100.0 * (x - l_kmc) / l_kmc);
    let rows = [
        ("L0 (uncorrelated, validation)", val.l0, val.l0_error),
        ("L_NN (validation)", val.l_y, val.l_y_error),
        ("L_NN+SRB (validation)", val.l_srb, val.l_srb_error),
    ];
    let mut table = format!(
        "\nTransport coefficient L of the {label_name} (per vacancy, a^2 x rate), SR-2, fast fraction {}\n",
        args.fast_fraction
    );
    table += &format!("  {:<32} {:>10}    {:<7}  {:>8}\n", "estimate", "L", "s.e.", "vs KMC");
    for (name, v, se) in rows {
        table += &format!("  {name:<32} {v:>10.5} +- {se:.5}  {:>8}\n", rel(v));
    }
    table += &format!("  {:<32} {:>10.5} +- {:.5}\n", "L_KMC (multi-step)", l_kmc, l_kmc_err);
    println!("{table}");
    let plot_path = args.out.join("training_curve.png");
    Chart::new(format!("GCNet training, SR-2 {label_name}"), "epoch", "L (a^2 x rate)")
        .with(Series::line_points("L_NN training (running loss)", curve_train))
        .with(Series::line_points("L_NN validation", curve_val))
        .with_hline("L_KMC", l_kmc)
        .with_hline("L_NN+SRB validation", val.l_srb)
        .save_png(&plot_path)?;
    gcnet_files::write_atomic(args.out.join("results.txt"), Overwrite::Replace, |f| {
        std::io::Write::write_all(f, table.as_bytes())
    })?;
    println!("training curve: {}   (total {:.0} s)", plot_path.display(), started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

fn step(msg: &str) {
    eprintln!("[demo] {msg}");
}

/// y(s1), y(s2) and y of every exit state of both, as getY -aj writes them.
fn relaxation_vectors_with_exits(net: &Gcnet, data: &Dataset, obj: &Objective) -> RelaxationVectors {
    let (st1, st1_exits) = eval::exit_relaxation_vectors(net, data.init_states.view(), obj, 256);
    let (st2, st2_exits) = eval::exit_relaxation_vectors(net, data.fin_states.view(), obj, 256);
    RelaxationVectors { st1, st2, st1_exits, st2_exits }
}
