//! Training lowers the loss; a resumed run equals an uninterrupted one; a non-finite loss
//! stops training before the weights change.

mod common;

use common::{fcc, random_dataset};
use gcnet_net::{
    Adam, Error, Form, Gcnet, NetConfig, Objective, SampleSet, Species, TrainConfig, Trainer, checkpoint, eval,
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

#[test]
fn a_few_epochs_lower_the_loss() {
    let (crystal, data) = setup(64);
    tch::manual_seed(0);
    let net = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    let obj = Objective::new(Species::new(&[0], 0, 3).unwrap(), Form::Collective, false, 1, 12).unwrap();
    let set = SampleSet::new(&data, (0..64).collect(), false, net.geometry(), 0);
    let before = eval::loss_sum(&net, &set, &obj, 32) / 64.0;
    let tc =
        TrainConfig { batch_size: 16, micro_batch: 8, learning_rate: 0.01, shuffle: true, ..TrainConfig::default() };
    let reports = gcnet_net::train(&net, &set, &obj, &tc, 0..6, |_, _| Ok(())).unwrap();
    let after = eval::loss_sum(&net, &set, &obj, 32) / 64.0;
    assert!(after < 0.97 * before, "loss {before} -> {after}");
    assert!(reports.last().unwrap().loss < reports[0].loss);
}

#[test]
fn resume_reproduces_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let (crystal, data) = setup(24);
    let obj = Objective::new(Species::new(&[1], 0, 3).unwrap(), Form::Collective, false, 1, 12).unwrap();
    let tc = TrainConfig { batch_size: 8, micro_batch: 3, learning_rate: 0.01, ..TrainConfig::default() };
    tch::manual_seed(11);
    let full = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    let set = SampleSet::new(&data, (0..24).collect(), false, full.geometry(), 0);
    let r_full = gcnet_net::train(&full, &set, &obj, &tc, 0..4, |_, _| Ok(())).unwrap();

    tch::manual_seed(11);
    let first = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    let mut trainer = Trainer::new(&first, tc.clone());
    for e in 0..2 {
        trainer.run_epoch(&first, &set, &obj, e, &mut |_, _| {}).unwrap();
    }
    let (ck, opt) = (dir.path().join("ep_2.pt"), dir.path().join("ep_2.adam.pt"));
    checkpoint::save(&first, &ck).unwrap();
    checkpoint::write_tensors(&opt, &trainer.adam.state_dict()).unwrap();

    let mut resumed = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    checkpoint::load(&mut resumed, &ck).unwrap();
    let mut trainer = Trainer::new(&resumed, tc);
    assert!(trainer.adam.load_state_dict(&checkpoint::read_tensors(&opt).unwrap()));
    let mut last = 0.0;
    for e in 2..4 {
        last = trainer.run_epoch(&resumed, &set, &obj, e, &mut |_, _| {}).unwrap().loss;
    }
    assert!((last - r_full[3].loss).abs() < 1e-10 * r_full[3].loss.abs().max(1.0));
    for (a, b) in full.parameters().iter().zip(resumed.parameters()) {
        let d = (a - &b).abs().max().double_value(&[]);
        assert!(d < 1e-10, "weights differ by {d}");
    }
}

#[test]
fn non_finite_loss_stops_before_the_step() {
    let (crystal, mut data) = setup(16);
    data.rates[9] = f64::NAN;
    let net = Gcnet::from_crystal(&crystal, &cfg(), Device::Cpu).unwrap();
    let before: Vec<_> = net.parameters().iter().map(|p| p.copy()).collect();
    let obj = Objective::new(Species::new(&[0], 0, 3).unwrap(), Form::Collective, false, 1, 12).unwrap();
    let set = SampleSet::new(&data, (0..16).collect(), false, net.geometry(), 0);
    let tc = TrainConfig { batch_size: 8, ..TrainConfig::default() };
    let mut trainer = Trainer::new(&net, tc);
    let err = trainer.run_epoch(&net, &set, &obj, 0, &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, Error::NonFiniteLoss { epoch: 0, batch: 1, .. }), "{err}");
    // the first batch was fine and stepped; the bad one did not
    assert_eq!(trainer.adam.step, 1);
    let _ = before;
}

#[test]
fn adam_matches_torch_formula_on_one_parameter() {
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
    let (crystal, data) = setup(40);
    let obj = Objective::new(Species::new(&[1], 0, 3).unwrap(), Form::Collective, false, 1, 12).unwrap();
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
