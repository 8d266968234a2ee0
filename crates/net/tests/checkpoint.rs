//! torch.save archives: round trip in Rust, and both directions with PyTorch (the venv's
//! Python runs tests/fixtures/gcnet_torch.py, a plain PyTorch GCNet with the SPEC layout).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fcc, max_abs_diff};
use gcnet_crystal::CrystalData;
use gcnet_files::Overwrite;
use gcnet_net::{Gcnet, NetConfig, checkpoint};
use ndarray::{Array2, Array4};
use ndarray_npy::{NpzWriter, read_npy, write_npy};
use tch::{Device, Kind};

fn python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(root.exists(), "the venv python is needed for the PyTorch parity tests: {}", root.display());
    root
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gcnet_torch.py")
}

fn write_tables(crystal: &CrystalData, a0: f64, path: &Path) {
    write_tables_with_group(crystal, crystal.group_nn_permutation().to_owned(), a0, path)
}

fn write_tables_with_group(crystal: &CrystalData, gnn: Array2<i64>, a0: f64, path: &Path) {
    let mut npz = NpzWriter::new(std::fs::File::create(path).unwrap());
    npz.add_array("NNsites", &crystal.nn_sites().to_owned()).unwrap();
    npz.add_array("GnnPerms", &gnn).unwrap();
    npz.add_array("JumpVecs", &crystal.jump_vectors().t().mapv(|v| v * a0)).unwrap();
    npz.finish().unwrap();
}

fn net_output(net: &Gcnet, states: &Array2<i8>) -> Vec<f64> {
    let y = net.forward(&net.one_hot(states.view(), 1));
    Vec::<f64>::try_from(&y.to_device(Device::Cpu).to_kind(Kind::Double).contiguous().view([-1])).unwrap()
}

fn states(s: usize) -> Array2<i8> {
    // vacancy label 1 (-vSp 1), species 0 and 2
    let mut rng = common::Rng(99);
    Array2::from_shape_fn((3, s), |(_, site)| {
        if site == 0 {
            1
        } else if rng.next_u64().is_multiple_of(2) {
            0
        } else {
            2
        }
    })
}

fn cfg() -> NetConfig {
    NetConfig { nl: 1, nch: 3, ncl: 2, num_species: 2, a0: 1.5, ..NetConfig::default() }
}

fn run_python(args: &[&str]) {
    let out = Command::new(python()).arg(fixture()).args(args).output().unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn gcnet_checkpoint_loads_in_pytorch_strict() {
    let _rng = common::global_rng();
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    tch::manual_seed(4);
    let net = Gcnet::from_crystal(&crystal, &cfg(), common::device()).unwrap();
    let st = states(crystal.num_sites());
    let (tables, ckpt, sfile, out) =
        (dir.path().join("t.npz"), dir.path().join("ep_3.pt"), dir.path().join("s.npy"), dir.path().join("y.npy"));
    write_tables(&crystal, 1.5, &tables);
    write_npy(&sfile, &st).unwrap();
    checkpoint::save(&net, &ckpt, Overwrite::Refuse).unwrap();
    let c = "1,3,2,2,1,0.02,0.2";
    run_python(&[
        "load",
        tables.to_str().unwrap(),
        c,
        ckpt.to_str().unwrap(),
        sfile.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    let y: Array4<f64> = read_npy(&out).unwrap();
    let d = max_abs_diff(y.as_slice().unwrap(), &net_output(&net, &st));
    assert!(d < 1e-12, "PyTorch output differs by {d}");
}

#[test]
fn pytorch_checkpoint_loads_in_gcnet() {
    let _rng = common::global_rng();
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let st = states(crystal.num_sites());
    let (tables, ckpt, sfile, out) =
        (dir.path().join("t.npz"), dir.path().join("torch.pt"), dir.path().join("s.npy"), dir.path().join("y.npy"));
    write_tables(&crystal, 1.5, &tables);
    write_npy(&sfile, &st).unwrap();
    let c = "1,3,2,2,1,0.02,0.2";
    run_python(&[
        "create",
        tables.to_str().unwrap(),
        c,
        ckpt.to_str().unwrap(),
        sfile.to_str().unwrap(),
        out.to_str().unwrap(),
        "7",
    ]);
    let mut net = Gcnet::from_crystal(&crystal, &cfg(), common::device()).unwrap();
    checkpoint::load(&mut net, &ckpt).unwrap();
    let y: Array4<f64> = read_npy(&out).unwrap();
    let d = max_abs_diff(y.as_slice().unwrap(), &net_output(&net, &st));
    assert!(d < 1e-12, "gcnet output of the PyTorch checkpoint differs by {d}");
    // and back: gcnet re-saves, PyTorch reloads strictly and agrees
    let again = dir.path().join("again.pt");
    checkpoint::save(&net, &again, Overwrite::Refuse).unwrap();
    let out2 = dir.path().join("y2.npy");
    run_python(&[
        "load",
        tables.to_str().unwrap(),
        c,
        again.to_str().unwrap(),
        sfile.to_str().unwrap(),
        out2.to_str().unwrap(),
    ]);
    let y2: Array4<f64> = read_npy(&out2).unwrap();
    assert!(max_abs_diff(y.as_slice().unwrap(), y2.as_slice().unwrap()) < 1e-12);
}

#[test]
fn round_trip_and_mismatches() {
    let _rng = common::global_rng();
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let net = Gcnet::from_crystal(&crystal, &cfg(), common::device()).unwrap();
    let path = dir.path().join("ep_0.pt");
    checkpoint::save(&net, &path, Overwrite::Replace).unwrap();
    let mut other = Gcnet::from_crystal(&crystal, &cfg(), common::device()).unwrap();
    checkpoint::load(&mut other, &path).unwrap();
    let st = states(crystal.num_sites());
    assert_eq!(net_output(&net, &st), net_output(&other, &st));
    let names: Vec<String> = checkpoint::read_tensors(&path).unwrap().into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"net.3.GnnPerms".to_string()) && names.contains(&"JumpVecs".to_string()));
    // a different shape, a different crystal, a garbage file, a missing file
    let mut wider = Gcnet::from_crystal(&crystal, &NetConfig { nch: 4, ..cfg() }, common::device()).unwrap();
    let e = checkpoint::load(&mut wider, &path).unwrap_err().to_string();
    assert!(e.contains("shape"), "{e}");
    let mut bigger = Gcnet::from_crystal(&fcc(5), &cfg(), common::device()).unwrap();
    assert!(checkpoint::load(&mut bigger, &path).is_err());
    let junk = dir.path().join("junk.pt");
    std::fs::write(&junk, b"not a zip").unwrap();
    let e = checkpoint::load(&mut other, &junk).unwrap_err().to_string();
    assert!(e.contains("junk.pt") && e.contains("zip"), "{e}");
    assert!(checkpoint::load(&mut other, &dir.path().join("missing.pt")).is_err());
}

/// The published code saves `nn.DataParallel(model).state_dict()` (keys `module.net.0.Psi`,
/// ...) and its crystal files list the 48 operations in another order than ours. Such a
/// checkpoint, made by PyTorch with the group rows permuted (identity kept first), loads into
/// gcnet built on our crystal, and gives PyTorch's outputs to 1e-12.
#[test]
fn data_parallel_checkpoint_with_permuted_group_rows_loads() {
    let _rng = common::global_rng();
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let st = states(crystal.num_sites());
    let gnn = crystal.group_nn_permutation().to_owned();
    let ng = gnn.nrows();
    // identity first, then the other operations in reverse
    let order: Vec<usize> = std::iter::once(0).chain((1..ng).rev()).collect();
    let permuted = gnn.select(ndarray::Axis(0), &order);
    assert_ne!(permuted, gnn);
    let (tables, ckpt, sfile, out) =
        (dir.path().join("t.npz"), dir.path().join("dp.pt"), dir.path().join("s.npy"), dir.path().join("y.npy"));
    write_tables_with_group(&crystal, permuted, 1.5, &tables);
    write_npy(&sfile, &st).unwrap();
    let c = "1,3,2,2,1,0.02,0.2";
    let args = [tables.to_str().unwrap(), c, ckpt.to_str().unwrap(), sfile.to_str().unwrap(), out.to_str().unwrap()];
    run_python(&[&["create-dp"], &args[..], &["11"]].concat());
    let names: Vec<String> = checkpoint::read_tensors(&ckpt).unwrap().into_iter().map(|(n, _)| n).collect();
    assert!(names.iter().all(|n| n.starts_with("module.")), "{names:?}");
    let mut net = Gcnet::from_crystal(&crystal, &cfg(), common::device()).unwrap();
    checkpoint::load(&mut net, &ckpt).unwrap();
    let y: Array4<f64> = read_npy(&out).unwrap();
    let d = max_abs_diff(y.as_slice().unwrap(), &net_output(&net, &st));
    assert!(d < 1e-12, "gcnet output of the DataParallel checkpoint differs by {d}");
    // a different set of rows (one operation repeated) is still refused
    let mut wrong = gnn.clone();
    let row1 = wrong.row(1).to_owned();
    wrong.row_mut(2).assign(&row1);
    let (bad_tables, bad) = (dir.path().join("bad.npz"), dir.path().join("bad.pt"));
    write_tables_with_group(&crystal, wrong, 1.5, &bad_tables);
    let bad_args =
        [bad_tables.to_str().unwrap(), c, bad.to_str().unwrap(), sfile.to_str().unwrap(), out.to_str().unwrap()];
    run_python(&[&["create"], &bad_args[..], &["11"]].concat());
    let e = checkpoint::load(&mut net, &bad).unwrap_err().to_string();
    assert!(e.contains("GnnPerms") && e.contains("bad.pt"), "{e}");
}

/// A crystal file whose operations come in another order (as the published CrystData.h5
/// lists them, against our CrysDat_FCC/CrystData.h5): a checkpoint made on one loads into a
/// network built on the other, both ways, with outputs equal to 1e-12.
#[test]
fn checkpoints_load_across_crystal_files_with_reordered_operations() {
    let _rng = common::global_rng();
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let ng = crystal.num_group_ops();
    let mut order: Vec<usize> = (1..ng).collect();
    gcnet_net::shuffle(&mut order, 5);
    order.insert(0, 0);
    let file = dir.path().join("reordered.h5");
    crystal.with_group_order(&order).unwrap().write(&file).unwrap();
    let reordered = CrystalData::read(&file).unwrap();
    assert_ne!(reordered.group_nn_permutation(), crystal.group_nn_permutation());
    let st = states(crystal.num_sites());
    for (from, to) in [(&crystal, &reordered), (&reordered, &crystal)] {
        tch::manual_seed(8);
        let net = Gcnet::from_crystal(from, &cfg(), common::device()).unwrap();
        let path = dir.path().join("ep_1.pt");
        checkpoint::save(&net, &path, Overwrite::Replace).unwrap();
        let mut other = Gcnet::from_crystal(to, &cfg(), common::device()).unwrap();
        checkpoint::load(&mut other, &path).unwrap();
        let d = max_abs_diff(&net_output(&net, &st), &net_output(&other, &st));
        assert!(d < 1e-12, "outputs differ by {d}");
    }
    // the identity must stay first, and the order must be a permutation
    assert!(crystal.with_group_order(&[1, 0]).is_err());
    let mut swapped: Vec<usize> = (0..ng).collect();
    swapped.swap(0, 1);
    assert!(crystal.with_group_order(&swapped).is_err());
}
