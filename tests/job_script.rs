//! The published example job script runs unchanged with `gcnet`: tests/job_script.sh holds
//! its five lines (train from scratch, resume with -scr, eval, getY, getRep-free getY -aj),
//! scaled down to epochs 0..4..8 every 2 and a small network; this test runs the script on
//! a generated SR-2 set with `gcnet` first on PATH, then checks every file each line writes
//! by name, shape and dtype, with NumPy (`np.load`, as users' notebooks read them) and
//! with ndarray-npy, and that each line found what the one before it wrote.

use std::path::{Path, PathBuf};
use std::process::Command;

use ndarray::{Array1, Array2};
use ndarray_npy::read_npy;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn gcnet(dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_gcnet")).current_dir(dir).args(args).output().unwrap();
    assert!(out.status.success(), "gcnet {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_published_job_script_runs_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 10000 training states (the default -nt of every line) and 2000 validation states
    gcnet(d, &["crystal", "--size", "4", "-o", "CrystData.h5"]);
    gcnet(d, &["latgas", "--crystal", "CrystData.h5", "-o", "sr2.h5", "-n", "12000", "--sr2", "--seed", "3"]);
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_gcnet")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .arg(repo().join("tests/job_script.sh"))
        .current_dir(d)
        .env("PATH", path)
        .envs([("DP", "sr2.h5"), ("CP", "CrystData.h5"), ("c", "1")])
        .envs([("E1", "4"), ("E2", "8"), ("I", "2"), ("NL", "0"), ("NCH", "2")])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the job script failed:\n{log}");
    // line 2 resumed from line 1's ep_4.pt (-scr with a network at -sep)
    assert!(log.contains("resumed from ep_T_1_1_n0c2_all_0/ep_4.pt"), "{log}");

    let net = d.join("ep_T_1_1_n0c2_all_0");
    for k in [0, 2, 4, 6, 8] {
        assert!(net.join(format!("ep_{k}.pt")).is_file(), "ep_{k}.pt missing");
    }
    // name -> (shape, dtype) of every .npy the script writes
    let expected: Vec<(String, Vec<usize>)> = vec![
        ("tr_1_1_1_n0c2_all_0.npy".into(), vec![5]),
        ("val_1_1_1_n0c2_all_0.npy".into(), vec![5]),
        ("y_st1_1_1_1_n0c2_all_0_8.npy".into(), vec![12000, 3]),
        ("y_st2_1_1_1_n0c2_all_0_8.npy".into(), vec![12000, 3]),
        ("y_st1_1_1_1_n0c2_all_1_8.npy".into(), vec![12000, 3]),
        ("y_st2_1_1_1_n0c2_all_1_8.npy".into(), vec![12000, 3]),
        ("y_st1_exits_1_1_1_n0c2_all_1_8.npy".into(), vec![144000, 3]),
        ("y_st2_exits_1_1_1_n0c2_all_1_8.npy".into(), vec![144000, 3]),
    ];
    let python = repo().join(".venv/bin/python");
    let script = "import numpy as np, sys\nfor f in sys.argv[1:]:\n    a = np.load(f)\n    print(f, a.dtype, ','.join(map(str, a.shape)), int(np.isfinite(a).all()))";
    let names: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    let out = Command::new(&python).arg("-c").arg(script).args(&names).current_dir(d).output().unwrap();
    assert!(out.status.success(), "numpy could not load the outputs: {}", String::from_utf8_lossy(&out.stderr));
    let listing = String::from_utf8_lossy(&out.stdout);
    for ((name, shape), line) in expected.iter().zip(listing.lines()) {
        let shape: Vec<String> = shape.iter().map(|s| s.to_string()).collect();
        assert_eq!(line, format!("{name} float64 {} 1", shape.join(",")), "np.load of {name}");
    }
    // eval: one L per evaluated epoch; training lowered the training L
    let tr: Array1<f64> = read_npy(d.join("tr_1_1_1_n0c2_all_0.npy")).unwrap();
    assert!(tr[4] < tr[0], "L_train {tr}");
    // getY and getY -aj agree on y(s1), y(s2); the exit of s1 by the recorded jump is s2
    let y = |n: &str| -> Array2<f64> { read_npy(d.join(n)).unwrap() };
    assert_eq!(y("y_st1_1_1_1_n0c2_all_0_8.npy"), y("y_st1_1_1_1_n0c2_all_1_8.npy"));
    assert_eq!(y("y_st2_1_1_1_n0c2_all_0_8.npy"), y("y_st2_1_1_1_n0c2_all_1_8.npy"));
    let data = gcnet_data::Dataset::read(d.join("sr2.h5")).unwrap();
    let (y2, exits) = (y("y_st2_1_1_1_n0c2_all_0_8.npy"), y("y_st1_exits_1_1_1_n0c2_all_1_8.npy"));
    for n in (0..12000).step_by(97) {
        let j = data.jump_selects[n] as usize;
        for x in 0..3 {
            assert!((exits[[n * 12 + j, x]] - y2[[n, x]]).abs() < 1e-12, "state {n}");
        }
    }
}
