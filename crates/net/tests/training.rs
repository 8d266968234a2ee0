//! The training loop: it lowers the loss; a resumed run equals an uninterrupted one; the
//! Adam state must belong to its checkpoint; existing checkpoints are never replaced unasked
//! and one run holds a directory; a non-finite loss stops before the step, non-finite
//! weights right after it.

mod common;

use common::{fcc, random_dataset};
use gcnet_files::Overwrite;
use gcnet_net::{
    Adam, AdamPolicy, CheckpointDir, Error, Event, Gcnet, NetConfig, Objective, SampleSet, Schedule, Species,
    TrainConfig, Trainer, checkpoint, eval,
};
use tch::Device;

fn setup(n: usize) -> (gcnet_crystal::CrystalData, gcnet_data::Dataset) {
    let crystal = fcc(4);
    // a binary alloy with a slow and a fast species (rate ratio 2)
    let data = random_dataset(&crystal, n, &[0.5, 0.5], &[1.0, 0.5], false, 5);
    (crystal, data)
}

fn cfg() -> NetConfig {
    NetConfig { nl: 1, nch: 4, ncl: 1, num_species: 2, ..NetConfig::default() }
}

fn no_events(_: &Gcnet, _: Event<'_>) -> gcnet_net::Result<()> {
    Ok(())
}

fn weights(net: &Gcnet) -> Vec<tch::Tensor> {
    net.parameters().iter().map(|p| p.detach().copy()).collect()
}

fn same_weights(a: &[tch::Tensor], b: &[tch::Tensor]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.equal(y))
}

#[test]
fn a_few_epochs_lower_the_loss() {
    let _rng = common::global_rng();
    let (crystal, data) = setup(64);
    tch::manual_seed(0);
    let net = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    let obj = Objective::collective(Species::new(&[0], 0, 3).unwrap());
    let set = SampleSet::new(&data, (0..64).collect(), false, net.geometry(), 0);
    let before = eval::loss_sum(&net, &set, &obj, 32) / 64.0;
    let tc =
        TrainConfig { batch_size: 16, micro_batch: 8, learning_rate: 0.01, shuffle: true, ..TrainConfig::default() };
    let mut trainer = Trainer::new(&net, tc);
    let mut epochs_seen = 0;
    let start = std::time::Instant::now();
    let reports = trainer
        .fit(&net, &set, &obj, &Schedule::epochs(0, 6), &mut |_, e| {
            if let Event::Epoch(_) = e {
                epochs_seen += 1;
            }
            Ok(())
        })
        .unwrap();
    let elapsed = start.elapsed();
    let after = eval::loss_sum(&net, &set, &obj, 32) / 64.0;
    assert!(after < 0.97 * before, "loss {before} -> {after}");
    // every epoch's passes trained on every sample, each phase took time, and the phases
    // fit in the wall time of the run
    let p = reports.iter().fold(gcnet_net::PassTimes::default(), |mut a, r| {
        a += r.passes;
        a
    });
    assert!(reports.iter().all(|r| r.passes.samples == 64), "{reports:?}");
    assert!(!p.forward.is_zero() && !p.loss.is_zero() && !p.backward.is_zero(), "{p:?}");
    assert!(p.forward + p.loss + p.backward <= elapsed, "{p:?} in {elapsed:?}");
    assert!(reports.last().unwrap().loss < reports[0].loss);
    assert_eq!((reports.len(), epochs_seen), (6, 6));
}

#[test]
fn resume_reproduces_an_uninterrupted_run() {
    let _rng = common::global_rng();
    let dir = tempfile::tempdir().unwrap();
    let (crystal, data) = setup(24);
    let obj = Objective::collective(Species::new(&[1], 0, 3).unwrap());
    let tc = TrainConfig { batch_size: 8, micro_batch: 3, learning_rate: 0.01, ..TrainConfig::default() };
    tch::manual_seed(11);
    let full = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    let set = SampleSet::new(&data, (0..24).collect(), false, full.geometry(), 0);
    let mut t = Trainer::new(&full, tc.clone());
    let r_full = t.fit(&full, &set, &obj, &Schedule::epochs(0, 4), &mut no_events).unwrap();

    // epochs 0..2 into a network directory, then a fresh process resumes 2..4 from it
    tch::manual_seed(11);
    let first = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    {
        let ckpts = CheckpointDir::create(dir.path().join("net")).unwrap();
        let mut trainer = Trainer::new(&first, tc.clone()).saving_to(ckpts);
        trainer.fit(&first, &set, &obj, &Schedule::epochs(0, 2).every(2), &mut no_events).unwrap();
    }
    let names = |d: &std::path::Path| {
        let mut v: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        v.sort();
        v
    };
    assert_eq!(
        names(&dir.path().join("net")),
        [".gcnet.lock", "ep_0.pt", "ep_2.pt", "optimizer_ep_0.pt", "optimizer_ep_2.pt"]
    );
    let ckpts = CheckpointDir::open_existing(dir.path().join("net")).unwrap();
    let mut resumed = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    let mut trainer = Trainer::resume(&mut resumed, tc, ckpts, 2, AdamPolicy::Restore).unwrap();
    assert_eq!(trainer.adam().step, 6);
    // a schedule that does not start where the trainer resumed is refused
    assert!(trainer.fit(&resumed, &set, &obj, &Schedule::epochs(1, 4), &mut no_events).is_err());
    let r = trainer.fit(&resumed, &set, &obj, &Schedule::epochs(2, 4), &mut no_events).unwrap();
    let ckpts = trainer.checkpoints().unwrap();
    let last = r.last().unwrap().loss;
    assert!((last - r_full[3].loss).abs() < 1e-10 * r_full[3].loss.abs().max(1.0), "{last} {}", r_full[3].loss);
    for (a, b) in full.parameters().iter().zip(resumed.parameters()) {
        let d = (a - &b).abs().max().double_value(&[]);
        assert!(d < 1e-10, "weights differ by {d}");
    }
    assert!(ckpts.weights(3).exists() && ckpts.weights(4).exists());
}

/// The Adam state beside a checkpoint must be the one saved with it: a missing, corrupt or
/// mismatched state is an error (not a silent fresh Adam), unless the caller restarts Adam.
#[test]
fn adam_state_must_belong_to_its_checkpoint() {
    let _rng = common::global_rng();
    let dir = tempfile::tempdir().unwrap();
    let (crystal, data) = setup(16);
    let obj = Objective::collective(Species::new(&[1], 0, 3).unwrap());
    let tc = TrainConfig { batch_size: 8, learning_rate: 0.01, ..TrainConfig::default() };
    tch::manual_seed(3);
    let net = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    let set = SampleSet::new(&data, (0..16).collect(), false, net.geometry(), 0);
    let mut trainer = Trainer::new(&net, tc.clone()).saving_to(CheckpointDir::open_existing(dir.path()).unwrap());
    trainer.fit(&net, &set, &obj, &Schedule::epochs(0, 2), &mut no_events).unwrap();
    let ckpts = trainer.checkpoints().unwrap();
    let fresh = || Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    let resume = |k: usize| {
        let mut n = fresh();
        let mut adam = Adam::new(&n.parameters(), tc.learning_rate, tc.decay);
        ckpts.resume(&mut n, Some(&mut adam), k).map(|_| adam.step)
    };
    assert_eq!(resume(1).unwrap(), 2);
    // the state of epoch 1 beside the weights of epoch 2
    std::fs::copy(ckpts.adam_state(1), ckpts.adam_state(2)).unwrap();
    let e = resume(2).unwrap_err().to_string();
    assert!(e.contains("optimizer_ep_2.pt") && e.contains("other weights"), "{e}");
    std::fs::write(ckpts.adam_state(2), b"garbage").unwrap();
    let e = resume(2).unwrap_err().to_string();
    assert!(e.contains("optimizer_ep_2.pt") && e.contains("unreadable"), "{e}");
    std::fs::remove_file(ckpts.adam_state(2)).unwrap();
    assert!(resume(2).unwrap_err().to_string().contains("missing"));
    // restarting Adam on purpose loads the weights alone
    let mut n = fresh();
    ckpts.resume(&mut n, None, 2).unwrap();
    assert!(same_weights(&weights(&n), &weights(&net)));
}

#[test]
fn existing_checkpoints_are_not_replaced_and_a_second_run_is_locked_out() {
    let _rng = common::global_rng();
    let dir = tempfile::tempdir().unwrap();
    let (crystal, data) = setup(16);
    let obj = Objective::collective(Species::new(&[1], 0, 3).unwrap());
    let net = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    let set = SampleSet::new(&data, (0..16).collect(), false, net.geometry(), 0);
    let ckpts = CheckpointDir::open_existing(dir.path()).unwrap();
    std::fs::write(ckpts.weights(3), b"an earlier run").unwrap();
    let mut trainer = Trainer::new(&net, TrainConfig::default()).saving_to(ckpts);
    let e = trainer.fit(&net, &set, &obj, &Schedule::epochs(1, 4), &mut no_events).unwrap_err();
    let ckpts = trainer.checkpoints().unwrap();
    assert!(matches!(&e, Error::WouldReplace { files } if files == &[ckpts.weights(3)]), "{e}");
    assert_eq!(std::fs::read(ckpts.weights(3)).unwrap(), b"an earlier run");
    assert!(!ckpts.weights(2).exists() && trainer.adam().step == 0);
    let e = CheckpointDir::open_existing(dir.path()).unwrap_err().to_string();
    assert!(e.contains("in use by another run"), "{e}");
}

#[test]
fn non_finite_loss_stops_before_the_step() {
    let _rng = common::global_rng();
    let (crystal, mut data) = setup(16);
    let obj = Objective::collective(Species::new(&[0], 0, 3).unwrap());
    let tc = TrainConfig { batch_size: 8, ..TrainConfig::default() };
    // a NaN rate in the first batch: no step at all, the weights are untouched
    data.rates[3] = f64::NAN;
    let net = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    let before = weights(&net);
    let set = SampleSet::new(&data, (0..16).collect(), false, net.geometry(), 0);
    let mut trainer = Trainer::new(&net, tc.clone());
    let err = trainer.run_epoch(&net, &set, &obj, 0, &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, Error::NonFiniteLoss { epoch: 0, batch: 0, .. }), "{err}");
    assert_eq!(trainer.adam().step, 0);
    assert!(same_weights(&before, &weights(&net)));
    // in the second batch: the first stepped, the bad one did not
    data.rates[3] = 1.0;
    data.rates[9] = f64::NAN;
    let set = SampleSet::new(&data, (0..16).collect(), false, net.geometry(), 0);
    let mut trainer = Trainer::new(&net, tc);
    let err = trainer.run_epoch(&net, &set, &obj, 0, &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, Error::NonFiniteLoss { epoch: 0, batch: 1, .. }), "{err}");
    assert_eq!(trainer.adam().step, 1);
    assert!(!same_weights(&before, &weights(&net)));
}

/// A NaN learning rate makes the weights NaN in the first step: training stops right
/// after it, names the last good checkpoint (ep_0.pt, finite), and writes no later one.
#[test]
fn non_finite_weights_stop_training_and_keep_the_last_good_checkpoint() {
    let _rng = common::global_rng();
    let dir = tempfile::tempdir().unwrap();
    let (crystal, data) = setup(16);
    let obj = Objective::collective(Species::new(&[0], 0, 3).unwrap());
    let net = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    let set = SampleSet::new(&data, (0..16).collect(), false, net.geometry(), 0);
    let mut trainer =
        Trainer::new(&net, TrainConfig { batch_size: 8, learning_rate: f64::NAN, ..TrainConfig::default() })
            .saving_to(CheckpointDir::open_existing(dir.path()).unwrap());
    let e = trainer.fit(&net, &set, &obj, &Schedule::epochs(0, 3), &mut no_events).unwrap_err();
    let ckpts = trainer.checkpoints().unwrap();
    match &e {
        Error::TrainingStopped { source, last_good } => {
            assert!(matches!(**source, Error::NonFiniteWeights { epoch: 0, batch: 0 }), "{e}");
            assert_eq!(last_good.as_deref(), Some(ckpts.weights(0).as_path()));
        }
        _ => panic!("{e}"),
    }
    assert!(e.to_string().contains("ep_0.pt"), "{e}");
    assert!(!ckpts.weights(1).exists());
    let mut back = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    checkpoint::load(&mut back, &ckpts.weights(0)).unwrap();
    // and a checkpoint holding NaN weights is refused when it loads
    let nan_path = dir.path().join("nan.pt");
    checkpoint::save(&net, &nan_path, Overwrite::Refuse).unwrap();
    let e = checkpoint::load(&mut back, &nan_path).unwrap_err().to_string();
    assert!(e.contains("nan.pt") && e.contains("NaN"), "{e}");
}

#[test]
fn adam_matches_torch_formula_on_one_parameter() {
    let _rng = common::global_rng();
    // one step from a known gradient: p - lr * g / (|g| + eps') for the first step
    let p = tch::Tensor::from_slice(&[1.0f64, -2.0]).set_requires_grad(true);
    let loss = (&p * &p).sum(None);
    loss.backward();
    let mut adam = Adam::new(std::slice::from_ref(&p), 0.1, 0.0);
    adam.step(std::slice::from_ref(&p));
    let v = Vec::<f64>::try_from(&p.detach()).unwrap();
    assert!((v[0] - 0.9).abs() < 1e-7 && (v[1] + 1.9).abs() < 1e-7, "{v:?}");
}

/// Data-parallel training (here over replicas on the CPU, as on several GPUs) gives the
/// weights of single-device training, to rounding: the micro-batch gradients only add up
/// in another order.
#[test]
fn data_parallel_equals_single_device() {
    let _rng = common::global_rng();
    let (crystal, data) = setup(40);
    let obj = Objective::collective(Species::new(&[1], 0, 3).unwrap());
    let tc =
        TrainConfig { batch_size: 16, micro_batch: 3, learning_rate: 0.01, shuffle: true, ..TrainConfig::default() };
    tch::manual_seed(5);
    let single = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    tch::manual_seed(5);
    let parallel = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    let set = SampleSet::new(&data, (0..40).collect(), false, single.geometry(), 0);
    let mut t1 = Trainer::new(&single, tc.clone());
    let mut t3 = Trainer::data_parallel(&parallel, tc, &[Device::Cpu, Device::Cpu]).unwrap();
    assert_eq!(t3.devices(&parallel).len(), 3);
    for e in 0..2 {
        let a = t1.run_epoch(&single, &set, &obj, e, &mut |_, _| {}).unwrap();
        let b = t3.run_epoch(&parallel, &set, &obj, e, &mut |_, _| {}).unwrap();
        assert!((a.loss - b.loss).abs() < 1e-12 * a.loss.abs(), "epoch {e}: loss {} vs {}", a.loss, b.loss);
    }
    for (p, q) in single.parameters().iter().zip(parallel.parameters()) {
        let d = (p - &q).abs().max().double_value(&[]);
        assert!(d < 1e-12, "weights differ by {d}");
    }
    // and training moved the weights at all
    tch::manual_seed(5);
    let fresh = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    let moved = fresh
        .parameters()
        .iter()
        .zip(single.parameters())
        .map(|(p, q)| (p - &q).abs().max().double_value(&[]))
        .fold(0.0, f64::max);
    assert!(moved > 1e-4);
}
