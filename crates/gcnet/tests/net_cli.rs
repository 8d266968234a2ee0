//! The published GCNetRun interface end to end: modes, file names, resume, transfer, and
//! bad input (each a clear error that leaves every existing file untouched).

mod common;

use std::path::Path;
use std::process::Command;

use gcnet_data::Dataset;
use ndarray::{Array1, Array2};
use ndarray_npy::{NpzReader, read_npy};

use common::{fails, gcnet, snapshot};

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = gcnet(dir, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "gcnet {args:?} failed:\n{err}");
    err
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
    // the published bare array holds the same values
    let l_npy: Array1<f64> = read_npy(d.join("tr_vac_1_1_n0c2_all_0.npy")).unwrap();
    assert_eq!(l_npy, l);
    assert!(d.join("val_vac_1_1_n0c2_all_0.npy").exists() && d.join("val_vac_1_1_n0c2_all_0.npz").exists());

    // getY needs only -sep (an -eep is ignored, as published)
    ok(d, &with(&["-m", "getY", "-td", "1", "-tn", "1", "-sep", "4", "-aj"]));
    let y = |name: &str| -> Array2<f64> {
        let npz: Array2<f64> =
            NpzReader::new(std::fs::File::open(d.join(format!("{name}.npz"))).unwrap()).unwrap().by_name("y").unwrap();
        let npy: Array2<f64> = read_npy(d.join(format!("{name}.npy"))).unwrap();
        assert_eq!(npz, npy, "{name}: .npz and .npy differ");
        npy
    };
    // {aj} in the output names is the -aj flag
    assert_eq!(y("y_st1_vac_1_1_n0c2_all_1_4").dim(), (40, 3));
    assert_eq!(y("y_st2_vac_1_1_n0c2_all_1_4").dim(), (40, 3));
    assert_eq!(y("y_st1_exits_vac_1_1_n0c2_all_1_4").dim(), (480, 3));
    assert_eq!(y("y_st2_exits_vac_1_1_n0c2_all_1_4").dim(), (480, 3));
    // the exit of s1 by the recorded jump is s2
    let data = Dataset::read(d.join("sr2.h5")).unwrap();
    let (y2, ye) = (y("y_st2_vac_1_1_n0c2_all_1_4"), y("y_st1_exits_vac_1_1_n0c2_all_1_4"));
    for n in 0..40 {
        let j = data.jump_selects[n] as usize;
        for x in 0..3 {
            assert!((y2[[n, x]] - ye[[n * 12 + j, x]]).abs() < 1e-12);
        }
    }
    ok(d, &with(&["-m", "getY", "-td", "1", "-tn", "1", "-sep", "4", "-eep", "9"]));
    assert!(d.join("y_st1_vac_1_1_n0c2_all_0_4.npy").exists());

    // transfer: the T=1 network on data tagged 2
    ok(d, &with(&["-m", "eval", "-td", "2", "-tn", "1", "-sep", "4", "-eep", "4"]));
    assert!(d.join("tr_vac_2_1_n0c2_all_0.npz").exists());
    // getRep of the first group average
    ok(d, &with(&["-m", "getRep", "-td", "1", "-tn", "1", "-sep", "4", "-rl", "2", "-rStart", "5"]));
    let rep: ndarray::Array3<f64> =
        NpzReader::new(std::fs::File::open(d.join("Rep_L_2_st1_vac_1_1_n0c2_all_0_4.npz")).unwrap())
            .unwrap()
            .by_name("rep")
            .unwrap();
    // the published layout (n, C, Nsites) for samples rStart..rStart+nt
    assert_eq!(rep.dim(), (30, 2, 64));
    let rep_npy: ndarray::Array3<f64> = read_npy(d.join("Rep_L_2_st1_vac_1_1_n0c2_all_0_4.npy")).unwrap();
    assert_eq!(rep_npy, rep);
    // the whole stack (module 6 here): the per-site vectors (n, ncL, 3, Nsites); with -aj
    // also the exit states, under the published names st1Exits and st2_exits
    ok(d, &with(&["-m", "getRep", "-td", "1", "-tn", "1", "-sep", "4", "-rl", "6", "-nt", "3", "-aj"]));
    for (name, n) in [("st1", 3), ("st2", 3), ("st1Exits", 36), ("st2_exits", 36)] {
        let a: ndarray::Array4<f64> = read_npy(d.join(format!("Rep_L_6_{name}_vac_1_1_n0c2_all_1_4.npy"))).unwrap();
        assert_eq!(a.dim(), (n, 1, 3, 64), "{name}");
    }

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
    let mut args =
        with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "3", "-bs", "8", "--seed", "1", "--no-check"]);
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
    // one `name: value` line per argument, the published names and Python's values
    for line in
        ["N_train: 30", "DatPar: True", "Mode: train", "Learning_rate: 0.001", "RepLayer: None", "DataPath: sr2.h5"]
    {
        assert!(args.lines().any(|l| l == line), "no line `{line}` in:\n{args}");
    }
    // an existing -dpf is not replaced without --force, and an input never is
    fails(
        d,
        &with(&["-m", "train", "-td", "1", "-tn", "1", "-sep", "1", "-eep", "1", "-d", "-dpf", "args.txt"]),
        "--force",
    );
    for input in ["sr2.h5", "fcc4.h5", "ep_T_1_vac_n0c2_all_0/ep_1.pt"] {
        let args =
            with(&["-m", "eval", "-td", "1", "-tn", "1", "-sep", "1", "-eep", "1", "-d", "-dpf", input, "--force"]);
        fails(d, &args, "an input of this run");
    }
    // as the run uses them: getY sets End_epoch to Start_epoch, -nosym switches JumpSort off
    let log = ok(
        d,
        &with(&["-m", "getY", "-td", "1", "-tn", "1", "-sep", "1", "-eep", "7", "-d", "-dpf", "args.txt", "--force"]),
    );
    assert!(log.contains("args.txt"), "{log}");
    let args = std::fs::read_to_string(d.join("args.txt")).unwrap();
    for line in ["Mode: getY", "Start_epoch: 1", "End_epoch: 1", "JumpSort: True", "force: True"] {
        assert!(args.lines().any(|l| l == line), "no line `{line}` in:\n{args}");
    }
    let mut nosym =
        with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "0", "-nosym", "-d", "-dpf", "nosym.txt"]);
    nosym[13] = "3"; // -nch 3: a network directory of its own
    ok(d, &nosym);
    let args = std::fs::read_to_string(d.join("nosym.txt")).unwrap();
    for line in ["JumpSort: False", "NoSymmetry: True", "Nchannels: 3"] {
        assert!(args.lines().any(|l| l == line), "no line `{line}` in:\n{args}");
    }
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

/// y of a state computed in the test from the checkpoint, through the library (collective
/// form, SPEC section 5).
fn y_of(net: &gcnet_net::Gcnet, states: &Array2<i8>, species: &[i8], vacancy: i8) -> Array2<f64> {
    let obj = gcnet_net::Objective::new(
        gcnet_net::Species::new(species, vacancy, 3).unwrap(),
        gcnet_net::Form::Collective,
        false,
        1,
        12,
    )
    .unwrap();
    gcnet_net::eval::relaxation_vectors(net, states.view(), None, &obj, 16)
}

/// The exit state of `state` by jump j, built without JumpSiteIndexPermutation: swap the
/// vacancy (site 0) with its neighbour j, then translate by -dx_j so that the vacancy is
/// on site 0 again: the new site s holds what was on the site at s + dx_j.
fn exit_state(crystal: &gcnet_crystal::CrystalData, state: &[i8], j: usize) -> Vec<i8> {
    let mut swapped = state.to_vec();
    swapped.swap(0, crystal.neighbour(0, j));
    (0..state.len()).map(|s| swapped[crystal.neighbour(s, j)]).collect()
}

/// getY -aj writes, for s1 and for s2, y of every exit state (row n*z + j = y of the state
/// reached by jump j); `gcnet srb` on those four files gives the corrected L of the
/// in-process computation from explicitly built exit states, to 1e-12.
#[test]
fn get_y_exits_and_srb_through_the_files_match_the_library() {
    let dir = setup();
    let d = dir.path();
    let train = ["-m", "train", "-td", "1", "-tn", "1", "-scr", "-sep", "0", "-eep", "2", "-bs", "8", "--seed", "5"];
    let mut args = with(&train);
    args[5] = "1"; // -sp 1: an atom species (SR-2 fast atoms), vacancy label 2
    ok(d, &args);
    let mut args = with(&["-m", "getY", "-aj", "-td", "1", "-tn", "1", "-sep", "2"]);
    args[5] = "1";
    ok(d, &args);
    let crystal = gcnet_crystal::CrystalData::read(d.join("fcc4.h5")).unwrap();
    let data = Dataset::read(d.join("sr2.h5")).unwrap();
    let mut net = gcnet_net::Gcnet::from_crystal(
        &crystal,
        &gcnet_net::NetConfig { nl: 0, nch: 2, ncl: 1, num_species: 2, ..Default::default() },
        tch::Device::Cpu,
    )
    .unwrap();
    gcnet_net::checkpoint::load(&mut net, &d.join("ep_T_1_1_n0c2_all_0/ep_2.pt")).unwrap();
    let file = |n: &str| -> Array2<f64> { read_npy(d.join(format!("y_{n}_1_1_1_n0c2_all_1_2.npy"))).unwrap() };
    let mut y = gcnet_srb::RelaxationVectors {
        st1: y_of(&net, &data.init_states, &[1], 2),
        st2: y_of(&net, &data.fin_states, &[1], 2),
        st1_exits: Array2::zeros((480, 3)),
        st2_exits: Array2::zeros((480, 3)),
    };
    for (states, exits) in [(&data.init_states, &mut y.st1_exits), (&data.fin_states, &mut y.st2_exits)] {
        let built =
            Array2::from_shape_fn((480, 64), |(r, s)| exit_state(&crystal, &states.row(r / 12).to_vec(), r % 12)[s]);
        exits.assign(&y_of(&net, &built, &[1], 2));
    }
    for (name, want) in [("st1", &y.st1), ("st2", &y.st2), ("st1_exits", &y.st1_exits), ("st2_exits", &y.st2_exits)] {
        let got = file(name);
        assert_eq!(got.dim(), want.dim(), "{name}");
        let diff = got.iter().zip(want.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(diff < 1e-12, "{name}: the file differs from the explicit exit states by {diff}");
    }
    // the scaled residual bias through the files (the published .npy names) and in process
    let names = ["st1", "st2", "st1_exits", "st2_exits"].map(|n| format!("y_{n}_1_1_1_n0c2_all_1_2.npy"));
    let out = gcnet(
        d,
        &[
            "srb",
            "-DP",
            "sr2.h5",
            "-cr",
            "fcc4.h5",
            "--y-st1",
            &names[0],
            "--y-st2",
            &names[1],
            "--y-st1-exits",
            &names[2],
            "--y-st2-exits",
            &names[3],
            "-sp",
            "1",
            "-vSp",
            "2",
            "-nt",
            "30",
            "--pseudo-inverse",
            "-o",
            "srb.npz",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let config = gcnet_srb::SrbConfig {
        species: vec![1],
        vacancy: 2,
        a0: 1.0,
        n_train: 30,
        basis_labels: None,
        max_condition: gcnet_srb::srb::DEFAULT_MAX_CONDITION,
        singular: gcnet_srb::SingularPolicy::Truncate,
    };
    let report = gcnet_srb::scaled_residual_bias(&data, &crystal, &y, &config).unwrap();
    let mut npz = NpzReader::new(std::fs::File::open(d.join("srb.npz")).unwrap()).unwrap();
    for (key, want) in [("train_Lsrb", report.train.l_srb), ("val_Lsrb", report.validation.unwrap().l_srb)] {
        let got: ndarray::Array0<f64> = npz.by_name(key).unwrap();
        let got = got.into_scalar();
        assert!((got - want).abs() <= 1e-12 * want.abs(), "{key}: files {got}, in process {want}");
    }
}

/// The published -scr: resume when there is a network at -sep, else start one there; no
/// existing checkpoint is replaced without --force, and a resume needs its Adam state.
#[test]
fn scratch_resume_and_replacement_rules() {
    let dir = setup();
    let d = dir.path();
    let train =
        |extra: &[&'static str]| with(&[&["-m", "train", "-td", "1", "-tn", "1", "--seed", "3"], extra].concat());
    ok(d, &train(&["-scr", "-sep", "0", "-eep", "3"]));
    let net = d.join("ep_T_1_vac_n0c2_all_0");
    // -scr -sep 3 resumes from ep_3.pt
    let log = ok(d, &train(&["-scr", "-sep", "3", "-eep", "4"]));
    assert!(log.contains("resumed from") && net.join("ep_4.pt").exists(), "{log}");
    // resuming 1 -> 3 would replace ep_2 and ep_3: refused, both named, nothing touched
    let e = {
        let before = snapshot(d);
        let out = gcnet(d, &train(&["-sep", "1", "-eep", "3"]));
        assert!(!out.status.success());
        assert_eq!(before, snapshot(d));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(e.contains("ep_2.pt") && e.contains("ep_3.pt") && e.contains("--force"), "{e}");
    let ep3 = std::fs::read(net.join("ep_3.pt")).unwrap();
    ok(d, &train(&["-sep", "1", "-eep", "3", "--force", "-lr", "0.005"]));
    assert_ne!(std::fs::read(net.join("ep_3.pt")).unwrap(), ep3);
    // -scr where there is no network at -sep: a new one from there, unless it would
    // replace later checkpoints
    std::fs::remove_file(net.join("ep_2.pt")).unwrap();
    fails(d, &train(&["-scr", "-sep", "2", "-eep", "4"]), "ep_3.pt, ");
    std::fs::remove_file(net.join("ep_7.pt")).ok();
    let log = ok(d, &train(&["-scr", "-sep", "6", "-eep", "7"]));
    assert!(!log.contains("resumed") && net.join("ep_6.pt").exists() && net.join("ep_7.pt").exists(), "{log}");
    // a new network somewhere past 0 needs its directory to exist already
    let mut other = train(&["-scr", "-sep", "5", "-eep", "6"]);
    other[13] = "3";
    fails(d, &other, "does not exist");
    // the Adam state must be there, or the user asks for a fresh Adam
    std::fs::remove_file(net.join("optimizer_ep_4.pt")).unwrap();
    fails(d, &train(&["-sep", "4", "-eep", "5"]), "--restart-adam");
    ok(d, &train(&["-sep", "4", "-eep", "5", "--restart-adam"]));
    // a second run on the directory is refused at once while the first holds it
    let lock = gcnet_files::RunLock::acquire(&net, "a test").unwrap();
    let out = gcnet(d, &train(&["-sep", "5", "-eep", "5"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use by another run"));
    drop(lock);
    // orphaned temporary files of a killed run go when the next run starts
    let orphan = net.join(format!("{}2147483646.x.ep_9.pt", gcnet_files::TEMP_PREFIX));
    std::fs::write(&orphan, b"half").unwrap();
    ok(d, &train(&["-sep", "5", "-eep", "5"]));
    assert!(!orphan.exists());
    // checkpoints are ordinary files (umask permissions, like the other outputs)
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    ok(d, &with(&["-m", "eval", "-td", "1", "-tn", "1", "-sep", "6", "-eep", "6"]));
    assert_eq!(mode(&net.join("ep_6.pt")), mode(&d.join("tr_vac_1_1_n0c2_all_0.npy")));
}

/// -nosym switches jump sorting off (boundary training): the L of a -bt -nosym network is
/// the same with and without -nojsr.
#[test]
fn nosym_switches_jump_sorting_off() {
    let dir = setup();
    let d = dir.path();
    let bt = |extra: &[&'static str]| {
        let mut a = with(&[&["-td", "1", "-tn", "1", "-bt", "-ncL", "12", "-nosym", "--seed", "2"], extra].concat());
        a[5] = "1";
        a
    };
    ok(d, &bt(&["-m", "train", "-scr", "-eep", "1"]));
    let l = |extra: &[&'static str]| -> Array1<f64> {
        ok(d, &bt(&[&["-m", "eval", "-sep", "1", "-eep", "1"], extra].concat()));
        read_npy(d.join("tr_1_1_1_n0c2_all_0.npy")).unwrap()
    };
    assert_eq!(l(&[]), l(&["-nojsr"]));
}

/// -l0 with -aj divides by the published L0: every one of the z*N_train jump rows with its
/// own rate, sum W |dx|^2 / (6 z N_train) (an explicit loop over the data file here).
#[test]
fn l0_with_all_jumps_is_the_published_value() {
    let dir = setup();
    let d = dir.path();
    let mut args = with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "1", "-aj", "-l0"]);
    args[5] = "1";
    let log = ok(d, &args);
    let printed: f64 = log.split("L0 = ").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    let crystal = gcnet_crystal::CrystalData::read(d.join("fcc4.h5")).unwrap();
    let data = Dataset::read(d.join("sr2.h5")).unwrap();
    let mut want = 0.0;
    for n in 0..30 {
        for j in 0..12 {
            if data.init_states[[n, crystal.neighbour(0, j)]] == 1 {
                let dx = crystal.jump_vector(j);
                want += data.jump_rates_init[[n, j]] * dx.iter().map(|x| x * x).sum::<f64>();
            }
        }
    }
    want /= 6.0 * 12.0 * 30.0;
    assert!((printed - want).abs() <= 1e-6 * want, "printed L0 {printed}, published formula {want}");
}

#[test]
fn bad_option_values_are_refused() {
    let dir = setup();
    let d = dir.path();
    let train =
        |extra: &[&'static str]| with(&[&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "1"], extra].concat());
    fails(d, &train(&["-lr", "nan"]), "-lr");
    fails(d, &train(&["-lr", "0"]), "-lr");
    fails(d, &train(&["-lr", "inf"]), "-lr");
    fails(d, &train(&["-bs", "0"]), "-bs");
    fails(d, &train(&["-nt", "0"]), "-nt");
    fails(d, &train(&["-i", "0"]), "-i (--Interval) must be at least 1");
    for tag in ["../x", "a/b", ".."] {
        let mut args = train(&[]);
        let i = args.iter().position(|a| *a == "-td").unwrap();
        args[i + 1] = tag;
        args[i + 3] = tag;
        fails(d, &args, "not a path");
    }
}

/// Every mode runs the checks of `gcnet check` on the data set first and fails with its
/// report; --no-check skips them.
#[test]
fn every_mode_runs_the_data_checks() {
    let dir = setup();
    let d = dir.path();
    ok(d, &["crystal", "--matrix", "4,0,1,0,4,0,0,0,4", "-o", "sheared.h5"]); // 64 sites too, sheared
    ok(d, &with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "0"]));
    let good = Dataset::read(d.join("sr2.h5")).unwrap();
    type Edit = fn(&mut Dataset);
    let cases: [(&str, Edit, &str); 5] = [
        ("negative rate", |x| x.jump_rates_init[[3, 0]] = -1.0, "negative or non-finite rate"),
        ("zero escape rate", |x| x.rates[4] = 0.0, "rates = 0 but AllJumpRates_Init sums to"),
        ("second vacancy", |x| x.init_states[[5, 10]] = 2, "vacancy label also on site 10"),
        (
            "not the jump",
            |x| {
                let row = x.fin_states.row(6).to_vec();
                let (a, b) = (1..row.len())
                    .find_map(|a| (a + 1..row.len()).find(|&b| row[b] != row[a]).map(|b| (a, b)))
                    .unwrap();
                x.fin_states[[6, a]] = row[b];
                x.fin_states[[6, b]] = row[a];
            },
            "s2 differs from s1 after jump",
        ),
        ("displacement", |x| x.spec_disps[[7, 0, 0]] += 0.5, "moved"),
    ];
    for (what, edit, needle) in cases {
        let mut data = good.clone();
        edit(&mut data);
        data.write(d.join("bad.h5"), true).unwrap();
        for mode in [
            &["-m", "train", "-scr", "-eep", "0", "-nch", "3"][..],
            &["-m", "eval", "-sep", "0", "-eep", "0"],
            &["-m", "getY", "-sep", "0"],
        ] {
            let mut args = with(&[&["-td", "1", "-tn", "1"], mode].concat());
            args[1] = "bad.h5";
            let before = snapshot(d);
            let out = gcnet(d, &args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{what}, {mode:?}: accepted");
            assert!(err.contains(needle) && err.contains("bad.h5") && err.contains("--no-check"), "{what}: {err}");
            assert_eq!(before, snapshot(d), "{what}, {mode:?}: touched files");
        }
    }
    // a crystal of another shape with the same number of sites
    let mut args = with(&["-m", "eval", "-td", "1", "-tn", "1", "-sep", "0", "-eep", "0"]);
    args[3] = "sheared.h5";
    fails(d, &args, "s2 differs from s1 after jump");
    // --no-check: the user's explicit choice
    let mut data = good.clone();
    data.spec_disps[[7, 0, 0]] += 0.5;
    data.write(d.join("bad.h5"), true).unwrap();
    let mut args = with(&["-m", "eval", "-td", "1", "-tn", "1", "-sep", "0", "-eep", "0", "--no-check"]);
    args[1] = "bad.h5";
    ok(d, &args);
}

/// A checkpoint with one NaN weight is refused; before, it evaluated to a finite, lower L.
#[test]
fn a_checkpoint_with_one_nan_weight_is_refused() {
    let dir = setup();
    let d = dir.path();
    ok(d, &with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "0"]));
    let path = d.join("ep_T_1_vac_n0c2_all_0/ep_0.pt");
    let mut entries = gcnet_net::checkpoint::read_tensors(&path).unwrap();
    let psi = entries.iter_mut().find(|(n, _)| n == "net.3.Psi").unwrap();
    let _ = psi.1.view([-1]).get(5).fill_(f64::NAN);
    gcnet_net::checkpoint::write_tensors(&path, &entries, gcnet_files::Overwrite::Replace).unwrap();
    // the edit is refused by the checkpoint's record (issue 20, class 1) ...
    fails(d, &with(&["-m", "eval", "-td", "1", "-tn", "1", "-sep", "0", "-eep", "0"]), "changed after gcnet train");
    // ... and, without a record (as a checkpoint of the published code), by its weights
    std::fs::remove_file(d.join("ep_T_1_vac_n0c2_all_0/ep_0.gcnet.json")).unwrap();
    fails(d, &with(&["-m", "eval", "-td", "1", "-tn", "1", "-sep", "0", "-eep", "0"]), "net.3.Psi");
    fails(d, &with(&["-m", "getY", "-td", "1", "-tn", "1", "-sep", "0"]), "NaN");
}

/// [`setup`] and a second SR-2 data set of the same size, `other.h5` (seed 3).
fn setup_with_other_data() -> tempfile::TempDir {
    let dir = setup();
    ok(dir.path(), &["latgas", "--crystal", "fcc4.h5", "-o", "other.h5", "-n", "40", "--sr2", "--seed", "3"]);
    dir
}

/// The four getY -aj output names at epoch `k` for -sp 1 (bare .npy).
fn y_names(k: usize) -> [String; 4] {
    ["st1", "st2", "st1_exits", "st2_exits"].map(|n| format!("y_{n}_1_1_1_n0c2_all_1_{k}.npy"))
}

fn srb_args<'a>(data: &'a str, y: &'a [String; 4]) -> Vec<&'a str> {
    vec![
        "srb",
        "-DP",
        data,
        "-cr",
        "fcc4.h5",
        "--y-st1",
        &y[0],
        "--y-st2",
        &y[1],
        "--y-st1-exits",
        &y[2],
        "--y-st2-exits",
        &y[3],
        "-sp",
        "1",
        "-vSp",
        "2",
        "-nt",
        "30",
        "--pseudo-inverse",
    ]
}

/// Class 1 (provenance) and class 4 (whole sets): getY -aj writes its outputs as one set
/// with records; srb refuses swapped files, a set mixed from two networks, y files made
/// on another data set (by their records, and by the exit identity for files without
/// records, as the published code writes them); a getY killed while writing (a file size
/// limit, as on a full disk) leaves the older set as it was.
#[test]
fn class1_class4_get_y_sets_and_what_srb_accepts() {
    let dir = setup_with_other_data();
    let d = dir.path();
    let mut args = with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-sep", "0", "-eep", "2", "-bs", "8"]);
    args[5] = "1";
    ok(d, &args);
    for k in ["1", "2"] {
        let mut args = with(&["-m", "getY", "-aj", "-td", "1", "-tn", "1", "-sep", k]);
        args[5] = "1";
        ok(d, &args);
    }
    let (a, b) = (y_names(2), y_names(1));
    for n in &a {
        assert!(d.join(n.replace(".npy", ".gcnet.json")).exists(), "{n} has a record");
    }
    ok(d, &srb_args("sr2.h5", &a));
    let refused = |y: &[String; 4], data: &str, needle: &str| fails(d, &srb_args(data, y), needle);
    // swapped
    let swapped = [a[1].clone(), a[0].clone(), a[2].clone(), a[3].clone()];
    refused(&swapped, "sr2.h5", "holds y_st2 (its record says), where y_st1 is expected");
    // s2 of another network
    let mixed = [a[0].clone(), b[1].clone(), a[2].clone(), b[3].clone()];
    refused(&mixed, "sr2.h5", "another run's result set");
    // another data set
    refused(&a, "other.h5", "not from the data set other.h5");
    // the same files without records (as the published code writes them): the rows are
    // checked against each other and against the data
    for (from, to) in a.iter().chain(&b).zip(["p1", "p2", "p3", "p4", "q1", "q2", "q3", "q4"]) {
        std::fs::copy(d.join(from), d.join(format!("{to}.npy"))).unwrap();
    }
    let plain = |names: [&str; 4]| names.map(|n| format!("{n}.npy"));
    ok(d, &srb_args("sr2.h5", &plain(["p1", "p2", "p3", "p4"])));
    refused(&plain(["p2", "p1", "p3", "p4"]), "sr2.h5", "do not belong together or to this data set");
    refused(&plain(["p1", "q2", "p3", "q4"]), "sr2.h5", "do not belong together or to this data set");
    refused(&plain(["p1", "p2", "p3", "p4"]), "other.h5", "do not belong together or to this data set");
    // one file with a record among files without
    refused(&[a[0].clone(), "p2.npy".into(), "p3.npy".into(), "p4.npy".into()], "sr2.h5", "has no gcnet record");

    // getY killed while writing its set (other weights under the same epoch): the
    // older set stays whole, byte for byte
    let net = d.join("ep_T_1_1_n0c2_all_0");
    std::fs::copy(net.join("ep_1.pt"), net.join("ep_2.pt")).unwrap();
    let read_all = || a.iter().map(|n| std::fs::read(d.join(n)).unwrap()).collect::<Vec<_>>();
    let before = read_all();
    let mut args = with(&["-m", "getY", "-aj", "-td", "1", "-tn", "1", "-sep", "2"]);
    args[5] = "1";
    let script = format!("ulimit -f 8; exec '{}' \"$@\"", env!("CARGO_BIN_EXE_gcnet"));
    let out = Command::new("bash").arg("-c").arg(script).arg("gcnet").args(&args).current_dir(d).output().unwrap();
    assert!(!out.status.success(), "the file size limit stops getY");
    assert_eq!(before, read_all(), "a getY that did not finish replaced part of the older set");
    ok(d, &srb_args("sr2.h5", &a));
}

/// Class 4: getRep with -rStart at or past the end writes no empty array over a good
/// representation file.
#[test]
fn class4_get_rep_refuses_an_empty_result() {
    let dir = setup();
    let d = dir.path();
    ok(d, &with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-sep", "0", "-eep", "1", "-bs", "16"]));
    ok(d, &with(&["-m", "getRep", "-td", "1", "-tn", "1", "-sep", "1", "-rl", "2", "-rStart", "5"]));
    assert!(d.join("Rep_L_2_st1_vac_1_1_n0c2_all_0_1.gcnet.json").exists());
    for start in ["40", "41"] {
        fails(
            d,
            &with(&["-m", "getRep", "-td", "1", "-tn", "1", "-sep", "1", "-rl", "2", "-rStart", start]),
            "nothing to represent",
        );
    }
}

/// Class 1 (provenance): every checkpoint carries the record of its training; a resume
/// must continue the same training (data set, training states), and an evaluation must
/// describe the same network (-a0, -nosym are not in the directory name).
#[test]
fn class1_checkpoints_know_their_training() {
    let dir = setup_with_other_data();
    let d = dir.path();
    ok(d, &with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-sep", "0", "-eep", "1", "-bs", "16"]));
    assert!(d.join("ep_T_1_vac_n0c2_all_0/ep_1.gcnet.json").exists());
    let resume = ["-m", "train", "-td", "1", "-tn", "1", "-sep", "1", "-eep", "2", "-bs", "16"];
    let mut args = with(&resume);
    args.extend(["-nt", "20"]);
    fails(d, &args, "n_train = 30, this run has n_train = 20");
    let mut args = with(&resume);
    args[1] = "other.h5";
    fails(d, &args, "not from the data set -DP other.h5");
    let eval = ["-m", "eval", "-td", "1", "-tn", "1", "-sep", "0", "-eep", "1"];
    for (extra, needle) in [(["-a0", "2"], "a0 = 1.0, this run has a0 = 2.0"), (["-nosym", "-i"], "nosym = false")] {
        let mut args = with(&eval);
        args.extend(extra);
        if extra[0] == "-nosym" {
            args.push("1");
        }
        fails(d, &args, needle);
    }
    // the same training resumes, and another data set evaluates the network (transfer)
    ok(d, &with(&resume));
    let mut args = with(&["-m", "eval", "-td", "2", "-tn", "1", "-sep", "0", "-eep", "2"]);
    args[1] = "other.h5";
    ok(d, &args);
}

/// Class 5: a species (or vacancy) that occurs on no site of the training states would
/// train to loss 0 and L = 0; train and eval refuse it, naming the labels that occur.
#[test]
fn class5_species_absent_from_the_data_is_refused() {
    let dir = setup();
    let d = dir.path();
    // The SR-2 set with every slow atom (label 0) made fast (label 1): still valid steps.
    let mut data = Dataset::read(d.join("sr2.h5")).unwrap();
    for states in [&mut data.init_states, &mut data.fin_states] {
        states.mapv_inplace(|l| if l == 0 { 1 } else { l });
    }
    for n in 0..data.len() {
        for c in 0..3 {
            data.spec_disps[[n, 1, c]] += data.spec_disps[[n, 0, c]];
            data.spec_disps[[n, 0, c]] = 0.0;
        }
    }
    data.write(d.join("no0.h5"), false).unwrap();
    let mut args = with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "1"]);
    args[1] = "no0.h5";
    args[5] = "0";
    fails(d, &args, "the species label 0 occurs on no site of the 30 training states (the labels that occur: 1, 2)");
    // eval refuses it before looking for checkpoints
    let mut args = with(&["-m", "eval", "-td", "1", "-tn", "1", "-sep", "0", "-eep", "0"]);
    args[1] = "no0.h5";
    args[5] = "0";
    fails(d, &args, "-sp 0 -vSp 2 on the data set -DP no0.h5");
}

/// Class 5: eval with -nt equal to the data set's length has no validation states; it is
/// refused (naming N_train and the length) instead of writing NaN.
#[test]
fn class5_eval_refuses_no_validation_samples() {
    let dir = setup();
    let d = dir.path();
    ok(d, &with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "0", "--seed", "1"]));
    let eval = with(&["-m", "eval", "-td", "1", "-tn", "1", "-sep", "0", "-eep", "0", "-nt", "40"]);
    fails(d, &eval, "N_train = 40 with a data set of 40 samples");
    fails(d, &eval, "evaluation needs at least one validation state");
}

/// Class 5: -sp 3 on data with the three labels 0, 1, 2 names them as 0..2.
#[test]
fn class5_out_of_range_species_names_the_labels_0_to_2() {
    let dir = setup();
    let d = dir.path();
    let mut args = with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "1"]);
    args[5] = "3";
    fails(d, &args, "species label 3 is not one of the data's labels 0..2");
}

/// Class 5: training refuses an -a0 that the data's displacements contradict (the check
/// `gcnet srb` runs), and -DP given a directory says so.
#[test]
fn class5_train_refuses_a_wrong_a0_and_a_directory_for_the_data() {
    let dir = setup();
    let d = dir.path();
    fails(
        d,
        &with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "1", "-a0", "2"]),
        "the data's lattice parameter is a0 = 1",
    );
    std::fs::create_dir(d.join("data_dir")).unwrap();
    let mut args = with(&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "1"]);
    args[1] = "data_dir";
    fails(d, &args, "it is a directory, not a data-set file");
}

/// Class 5: negative values parse (they are not taken for options) and are refused by our
/// checks, with our messages.
#[test]
fn class5_negative_values_reach_our_checks() {
    let dir = setup();
    let d = dir.path();
    let train =
        |extra: &[&'static str]| with(&[&["-m", "train", "-td", "1", "-tn", "1", "-scr", "-eep", "1"], extra].concat());
    fails(d, &train(&["-a0", "-1"]), "-a0 (--LatParam) -1: must be a finite number > 0");
    fails(d, &train(&["-lr", "-0.1"]), "-lr (--Learning_rate) -0.1: must be a finite number > 0");
    fails(d, &train(&["-ws", "-0.2"]), "-ws -0.2");
    fails(d, &train(&["-nt", "-5"]), "-5 is negative: this option takes a whole number >= 0");
    fails(d, &train(&["-sep", "-1"]), "-1 is negative");
}
