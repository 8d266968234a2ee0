//! The published GCNetRun interface end to end: modes, file names, resume, transfer, and
//! bad input (each a clear error that leaves every existing file untouched).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use gcnet_data::Dataset;
use ndarray::{Array1, Array2};
use ndarray_npy::NpzReader;

fn gcnet(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gcnet")).current_dir(dir).args(args).output().unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = gcnet(dir, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "gcnet {args:?} failed:\n{err}");
    err
}

/// Every file under `dir` with its size and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            }
            out.insert(e.path(), (m.len(), m.modified().unwrap()));
        }
    }
    out
}

/// Runs a command that must fail with a message containing `needle`, touching nothing.
fn fails(dir: &Path, args: &[&str], needle: &str) {
    let before = snapshot(dir);
    let out = gcnet(dir, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "gcnet {args:?} should fail");
    assert!(err.contains(needle), "gcnet {args:?}: expected `{needle}` in:\n{err}");
    assert_eq!(before, snapshot(dir), "gcnet {args:?} touched files");
}

/// A 4x4x4 FCC crystal and a 40-sample SR-2 data set (vacancy label 2).
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["crystal", "--size", "4", "-o", "fcc4.h5"]);
    ok(d, &["crystal", "--size", "5", "-o", "fcc5.h5"]);
    ok(d, &["latgas", "--crystal", "fcc4.h5", "-o", "sr2.h5", "-n", "40", "--sr2", "--seed", "2"]);
    dir
}

const NET: [&str; 14] =
    ["-DP", "sr2.h5", "-cr", "fcc4.h5", "-sp", "2", "-vSp", "2", "-nt", "30", "-nl", "0", "-nch", "2"];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    NET.iter().copied().chain(extra.iter().copied()).collect()
}

#[test]
fn help_lists_every_published_option() {
    let out = Command::new(env!("CARGO_BIN_EXE_gcnet")).arg("-h").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for short in [
        "-DP", "-cr", "-a0", "-m", "-shf", "-rl", "-rStart", "-bt", "-nojsr", "-aos", "-nosym", "-l0", "-nl", "-nch",
        "-ncL", "-scr", "-DPr", "-td", "-tn", "-sep", "-eep", "-sp", "-vSp", "-aj", "-ajn", "-nt", "-i", "-lr", "-dcy",
        "-bs", "-wm", "-ws", "-d", "-dpf", "-prm", "-trc",
    ] {
        assert!(help.contains(&format!("[{short}]")), "-h does not list {short}");
    }
    for long in
        ["--DataPath", "--CrysDatPath", "--Nlayers", "--AllJumpsNetType", "--Batch_size", "--DumpFile", "--Tracers"]
    {
        assert!(help.contains(long), "-h does not list {long}");
    }
    assert!(help.contains("[default: 10000]") && help.contains("[default: 0.0005]") && help.contains("latgas"));
}

#[test]
fn train_resume_eval_get_y_and_transfer() {
    let dir = setup();
    let d = dir.path();
    let log = ok(
        d,
        &with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-sep", "0", "-eep", "2", "-bs", "16", "--seed", "4"]),
    );
    assert!(log.contains("epoch 1: training loss"), "{log}");
    let net = d.join("ep_T_1_vac_n0c2_all_0");
    for k in 0..=2 {
        assert!(net.join(format!("ep_{k}.pt")).exists());
    }
    // from scratch again: refuses to overwrite ep_0.pt
    fails(d, &with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-sep", "0", "-eep", "2"]), "already exists");
    // resume 2 -> 4 with interval 2: writes ep_4 only
    ok(
        d,
        &with(&[
            "-m", "train", "-td", "1", "-tn", "1", "-sep", "2", "-eep", "4", "-i", "2", "-bs", "16", "--seed", "4",
        ]),
    );
    assert!(net.join("ep_4.pt").exists() && !net.join("ep_3.pt").exists());

    ok(d, &with(&["-m", "eval", "-td", "1", "-tn", "1", "-sep", "0", "-eep", "4", "-i", "2"]));
    let mut npz = NpzReader::new(std::fs::File::open(d.join("tr_vac_1_1_n0c2_all_0.npz")).unwrap()).unwrap();
    let epochs: Array1<i64> = npz.by_name("epochs").unwrap();
    let l: Array1<f64> = npz.by_name("L").unwrap();
    assert_eq!(epochs.to_vec(), vec![0, 2, 4]);
    assert!(l.iter().all(|v| v.is_finite() && *v > 0.0));
    assert!(d.join("val_vac_1_1_n0c2_all_0.npz").exists());

    ok(d, &with(&["-m", "getY", "-td", "1", "-tn", "1", "-sep", "4", "-eep", "4", "-aj"]));
    let y = |name: &str| -> Array2<f64> {
        NpzReader::new(std::fs::File::open(d.join(name)).unwrap()).unwrap().by_name("y").unwrap()
    };
    assert_eq!(y("y_st1_vac_1_1_n0c2_all_0_4.npz").dim(), (40, 3));
    assert_eq!(y("y_st2_vac_1_1_n0c2_all_0_4.npz").dim(), (40, 3));
    assert_eq!(y("y_st2_exits_vac_1_1_n0c2_all_0_4.npz").dim(), (480, 3));
    // the exit of the recorded jump is the recorded final state
    let data = Dataset::read(d.join("sr2.h5")).unwrap();
    let (y2, ye) = (y("y_st2_vac_1_1_n0c2_all_0_4.npz"), y("y_st2_exits_vac_1_1_n0c2_all_0_4.npz"));
    for n in 0..40 {
        let j = data.jump_selects[n] as usize;
        for x in 0..3 {
            assert!((y2[[n, x]] - ye[[n * 12 + j, x]]).abs() < 1e-12);
        }
    }

    // transfer: the T=1 network on data tagged 2
    ok(d, &with(&["-m", "eval", "-td", "2", "-tn", "1", "-sep", "4", "-eep", "4"]));
    assert!(d.join("tr_vac_2_1_n0c2_all_0.npz").exists());
    // getRep of the first group average
    ok(d, &with(&["-m", "getRep", "-td", "1", "-tn", "1", "-sep", "4", "-eep", "4", "-rl", "2", "-rStart", "5"]));
    let rep: ndarray::Array3<f64> =
        NpzReader::new(std::fs::File::open(d.join("Rep_L_2_st1_vac_1_1_n0c2_all_0_4.npz")).unwrap())
            .unwrap()
            .by_name("rep")
            .unwrap();
    assert_eq!(rep.dim(), (30, 64, 2));

    // bad input on an existing network directory: nothing is touched
    fails(d, &with(&["-m", "eval", "-td", "1", "-tn", "1", "-sep", "4", "-eep", "6"]), "ep_5.pt does not exist");
    std::fs::write(net.join("ep_9.pt"), b"garbage").unwrap();
    fails(
        d,
        &with(&["-m", "eval", "-td", "1", "-tn", "1", "-sep", "9", "-eep", "9"]),
        "not a readable PyTorch checkpoint",
    );
    fails(d, &with(&["-m", "train", "-td", "1", "-tn", "1", "-sep", "9", "-eep", "10"]), "ep_9.pt");
    fails(d, &with(&["-m", "eval", "-td", "1", "-tn", "1", "-sep", "4", "-eep", "4", "-nch", "3"]), "does not exist");
}

#[test]
fn bad_input_is_refused_without_touching_files() {
    let dir = setup();
    let d = dir.path();
    let train = |extra: &[&'static str]| with(&[&["-m", "train", "-td", "1", "-tn", "1"], extra].concat());
    fails(d, &train(&["-sep", "2", "-eep", "4"]), "does not exist");
    fails(d, &with(&["-m", "fit", "-td", "1", "-tn", "1", "-eep", "1"]), "unknown mode -m fit");
    fails(d, &train(&["-scr", "-eep", "1", "-bt", "-ncL", "4"]), "-ncL must be z = 12");
    fails(d, &train(&["-scr", "-eep", "1", "-bt", "-ncL", "12", "-aj"]), "-aj");
    fails(d, &train(&["-scr", "-eep", "1", "-trc"]), "must not contain the vacancy");
    fails(d, &with(&["-m", "train", "-td", "1", "-tn", "2", "-scr", "-eep", "1"]), "must agree");
    let mut mismatch = train(&["-scr", "-eep", "1"]);
    mismatch[3] = "fcc5.h5";
    fails(d, &mismatch, "sites");
    fails(d, &train(&["-scr", "-eep", "1", "-nt", "100"]), "-nt 100");
    fails(d, &with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "1", "-d"]), "-dpf");
}

#[test]
fn non_finite_loss_stops_and_keeps_the_last_good_checkpoint() {
    let dir = setup();
    let d = dir.path();
    let mut data = Dataset::read(d.join("sr2.h5")).unwrap();
    data.rates[25] = f64::INFINITY;
    data.write(d.join("bad.h5"), false).unwrap();
    let mut args = with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "3", "-bs", "8", "--seed", "1"]);
    args[1] = "bad.h5";
    let out = gcnet(d, &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("not finite") && err.contains("ep_0.pt"), "{err}");
    let net = d.join("ep_T_1_vac_n0c2_all_0");
    assert!(net.join("ep_0.pt").exists() && !net.join("ep_1.pt").exists());
}

#[test]
fn dump_args_and_data_parallel_message() {
    let dir = setup();
    let d = dir.path();
    let log =
        ok(d, &with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "1", "-d", "-dpf", "args.txt", "-DPr"]));
    assert!(log.contains("-DPr"), "{log}");
    let args = std::fs::read_to_string(d.join("args.txt")).unwrap();
    assert!(args.contains("n_train: 30") && args.contains("data_parallel: true"), "{args}");
}

#[test]
fn perm_reorders_the_samples() {
    let dir = setup();
    let d = dir.path();
    // add a `Permutation` (reversed order) with the venv's h5py
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    let script =
        "import h5py, numpy as np, sys\nwith h5py.File(sys.argv[1], 'a') as f: f['Permutation'] = np.arange(40)[::-1]";
    let st = Command::new(python).args(["-c", script, d.join("sr2.h5").to_str().unwrap()]).status().unwrap();
    assert!(st.success());
    ok(d, &with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "0"]));
    let y = |extra: &[&'static str]| -> Array2<f64> {
        ok(d, &with(&[&["-m", "getY", "-td", "1", "-tn", "1", "-sep", "0", "-eep", "0"], extra].concat()));
        NpzReader::new(std::fs::File::open(d.join("y_st1_vac_1_1_n0c2_all_0_0.npz")).unwrap())
            .unwrap()
            .by_name("y")
            .unwrap()
    };
    let plain = y(&[]);
    let permuted = y(&["-prm"]);
    for n in 0..40 {
        for x in 0..3 {
            assert_eq!(permuted[[n, x]], plain[[39 - n, x]]);
        }
    }
}
