//! `gcnet tracer` and `gcnet srb` end to end.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Output};

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::{Composition, Dataset, LatticeGas, RateModel};
use gcnet_srb::srb::files::write_relaxation_file;
use gcnet_srb::{RelaxationVectors, SingularPolicy, SrbConfig, scaled_residual_bias};
use ndarray::{Array0, Array1, Array2};
use ndarray_npy::NpzReader;

fn gcnet(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gcnet")).args(args).current_dir(dir).output().expect("gcnet runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn tracer_exact_prints_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = gcnet(&["tracer", "exact", "--lattice", "fcc,sc", "--sizes", "4,6,8"], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for expected in ["infinite lattice f = 0.78145", "0.799197", "0.786444", "0.783535", "0.675393", "extrapolated"] {
        assert!(stdout.contains(expected), "missing {expected}:\n{stdout}");
    }
}

#[test]
fn tracer_exact_with_kmc_and_cubic_cells() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "tracer",
        "exact",
        "--lattice",
        "sc",
        "--cell",
        "cubic",
        "--sizes",
        "4",
        "--kmc-walks",
        "200",
        "--kmc-steps",
        "500",
    ];
    let out = gcnet(&args, dir.path());
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // SC cubic cells are primitive cells: the same f_N.
    assert!(stdout.contains("0.675393") && stdout.contains("KMC f_N"), "{stdout}");
    let out = gcnet(&["tracer", "exact", "--lattice", "fcc", "--sizes", "1"], dir.path());
    assert!(!out.status.success());
    assert!(text(&out).contains("fcc 1^3"), "{}", text(&out));
}

/// y of a state: the fast atoms (label 1) next to the vacancy pull along their jumps.
fn model_y(crystal: &CrystalData, state: &[i8]) -> [f64; 3] {
    let mut y = [0.0; 3];
    for k in 0..crystal.z() {
        let w = match state[crystal.neighbour(0, k)] {
            1 => 0.15,
            0 => -0.05,
            _ => 0.0,
        };
        let dx = crystal.jump_vector(k);
        (0..3).for_each(|c| y[c] += w * dx[c]);
    }
    y
}

fn model_relaxation(crystal: &CrystalData, data: &Dataset) -> RelaxationVectors {
    let (n, z) = (data.len(), crystal.z());
    let perms: Vec<_> = (0..z).map(|j| crystal.jump_permutation(j)).collect();
    let mut y = RelaxationVectors::zeros(n, z);
    let set = |a: &mut Array2<f64>, row: usize, v: [f64; 3]| (0..3).for_each(|c| a[[row, c]] = v[c]);
    for i in 0..n {
        let s1 = data.init_states.row(i).to_vec();
        let s2 = data.fin_states.row(i).to_vec();
        for (state, ys, exits) in [(&s1, &mut y.st1, &mut y.st1_exits), (&s2, &mut y.st2, &mut y.st2_exits)] {
            set(ys, i, model_y(crystal, state));
            for (j, perm) in perms.iter().enumerate() {
                set(exits, i * z + j, model_y(crystal, &perm.apply(state)));
            }
        }
    }
    y
}

/// Crystal, random-rate binary data set and the four y files in `dir`; returns the data.
fn fixtures(dir: &Path, y_zero: bool) -> (CrystalData, Dataset, RelaxationVectors) {
    let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 4).unwrap());
    crystal.write(dir.join("fcc4.h5")).unwrap();
    let mut gas = LatticeGas::fixed(vec![1.0, 1.0], Composition::Counts(vec![40, 23]));
    gas.rates = RateModel::Random { mean: vec![0.0, 0.5], width: vec![1.0, 1.0], seed: 3 };
    let data = gas.generate(&crystal, 200, 9).unwrap();
    data.write(dir.join("data.h5"), false).unwrap();
    let y = if y_zero { RelaxationVectors::zeros(200, crystal.z()) } else { model_relaxation(&crystal, &data) };
    for (name, a) in [("y1.npz", &y.st1), ("y2.npz", &y.st2), ("y1x.npz", &y.st1_exits), ("y2x.npz", &y.st2_exits)] {
        write_relaxation_file(&dir.join(name), a, gcnet_files::Overwrite::Refuse).unwrap();
    }
    (crystal, data, y)
}

const FILES: [&str; 12] = [
    "-DP",
    "data.h5",
    "-cr",
    "fcc4.h5",
    "--y-st1",
    "y1.npz",
    "--y-st2",
    "y2.npz",
    "--y-st1-exits",
    "y1x.npz",
    "--y-st2-exits",
    "y2x.npz",
];

#[test]
fn srb_reports_the_library_result() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (crystal, data, y) = fixtures(d, false);
    let mut args = vec!["srb"];
    args.extend(FILES);
    args.extend(["-sp", "1", "-vSp", "2", "-nt", "150", "-o", "srb.npz"]);
    let out = gcnet(&args, d);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let config = SrbConfig {
        species: vec![1],
        vacancy: 2,
        a0: 1.0,
        n_train: 150,
        basis_labels: None,
        max_condition: 1e10,
        singular: SingularPolicy::Refuse,
    };
    let report = scaled_residual_bias(&data, &crystal, &y, &config).unwrap();
    for (label, theta) in report.basis_labels.iter().zip(&report.coefficients.theta) {
        let line = format!("theta[B_{label}] = {theta:+.8e}");
        assert!(stdout.contains(&line), "missing {line}:\n{stdout}");
    }
    assert!(stdout.contains("training") && stdout.contains("validation"), "{stdout}");
    // Every L with its standard error, as the library computed them.
    for set in [report.train, report.validation.unwrap()] {
        for (value, error) in [(set.l0, set.l0_error), (set.l_y, set.l_y_error), (set.l_srb, set.l_srb_error)] {
            let printed = format!("{value:.8e} +- {error:.2e}");
            assert!(stdout.contains(&printed), "missing {printed}:\n{stdout}");
        }
    }
    let mut npz = NpzReader::new(File::open(d.join("srb.npz")).unwrap()).unwrap();
    let theta: Array1<f64> = npz.by_name("theta").unwrap();
    assert_eq!(theta.to_vec(), report.coefficients.theta);
    let l: Array0<f64> = npz.by_name("train_Lsrb").unwrap();
    assert_eq!(l.into_scalar(), report.train.l_srb);
}

#[test]
fn srb_explains_a_singular_basis_and_offers_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fixtures(d, true);
    let mut args = vec!["srb"];
    args.extend(FILES);
    args.extend(["--species", "1", "--vacancy", "2", "--n-train", "150"]);
    let out = gcnet(&args, d);
    assert!(!out.status.success());
    assert!(text(&out).contains("linearly dependent"), "{}", text(&out));
    args.extend(["--basis", "0,1"]);
    let out = gcnet(&args, d);
    assert!(out.status.success(), "{}", text(&out));
    args.truncate(args.len() - 2);
    args.push("--pseudo-inverse");
    let out = gcnet(&args, d);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("left out of the fit"), "{}", text(&out));
    let out = gcnet(&["srb", "--help"], d);
    assert!(text(&out).contains("Usage: gcnet srb") && text(&out).contains("-vSp"), "{}", text(&out));
}

#[test]
fn srb_names_the_bad_flag() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fixtures(d, false);
    let mut args = vec!["srb"];
    args.extend(FILES.map(|a| if a == "y2.npz" { "missing.npz" } else { a }));
    args.extend(["-sp", "1", "-vSp", "2", "-nt", "150"]);
    let out = gcnet(&args, d);
    assert!(!out.status.success());
    assert!(text(&out).contains("--y-st2") && text(&out).contains("missing.npz"), "{}", text(&out));
    let mut args = vec!["srb"];
    args.extend(FILES);
    args.extend(["-sp", "1", "-vSp", "2", "-nt", "150", "-a0", "2"]);
    let out = gcnet(&args, d);
    assert!(!out.status.success());
    assert!(text(&out).contains("a0 = 1"), "{}", text(&out));
}

/// `srb -o` never replaces a file unasked, and never one of its own inputs, even with
/// --force; with --force it replaces an earlier report.
#[test]
fn srb_output_refuses_existing_files_and_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fixtures(d, false);
    let run = |extra: &[&str]| {
        let mut args = vec!["srb"];
        args.extend(FILES);
        args.extend(["-sp", "1", "-vSp", "2", "-nt", "150"]);
        args.extend(extra);
        gcnet(&args, d)
    };
    let before = std::fs::read(d.join("y1.npz")).unwrap();
    for extra in [&["-o", "y1.npz"][..], &["-o", "y1.npz", "--force"], &["-o", "data.h5", "--force"]] {
        let out = run(extra);
        assert!(!out.status.success() && text(&out).contains("never written over"), "{extra:?}: {}", text(&out));
    }
    assert_eq!(std::fs::read(d.join("y1.npz")).unwrap(), before);
    std::fs::write(d.join("old.npz"), b"an earlier report").unwrap();
    let out = run(&["-o", "old.npz"]);
    assert!(!out.status.success() && text(&out).contains("--force"), "{}", text(&out));
    assert_eq!(std::fs::read(d.join("old.npz")).unwrap(), b"an earlier report");
    let out = run(&["-o", "old.npz", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    let mut npz = NpzReader::new(File::open(d.join("old.npz")).unwrap()).unwrap();
    let _: Array1<f64> = npz.by_name("theta").unwrap();
}
