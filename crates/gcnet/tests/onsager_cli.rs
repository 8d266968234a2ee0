//! `gcnet onsager` end to end: the whole Onsager matrix of a three-species gas with very
//! different rates against multi-step KMC, its sum rules, symmetry and errors, the files
//! and their record, and a run stopped mid-training that continues to the same matrix.

use std::path::Path;
use std::process::{Command, Output};

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::{Composition, Duration, KmcConfig, LatticeGas};
use ndarray::{Array2, ArrayD};

fn gcnet(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gcnet")).args(args).current_dir(dir).output().expect("gcnet runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn matrix(path: &Path) -> Array2<f64> {
    let a: ArrayD<f64> = gcnet_files::numpy::read(path, "").unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    a.into_dimensionality().unwrap()
}

/// Three species at rates 1, 0.1 and 0.01 (the vacancy label 3) in the 4x4x4 primitive FCC
/// cell (64 sites): 21, 21 and 21 atoms.
fn gas() -> LatticeGas {
    LatticeGas::fixed(vec![1.0, 0.1, 0.01], Composition::Counts(vec![21, 21, 21]))
}

/// The 4x4x4 primitive FCC cell, written as `dir/fcc4.h5`.
fn fcc4(dir: &Path) -> CrystalData {
    let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 4).unwrap());
    crystal.write(dir.join("fcc4.h5")).unwrap();
    crystal
}

fn fixtures(dir: &Path, samples: usize) -> CrystalData {
    let crystal = fcc4(dir);
    gas().generate(&crystal, samples, 11).unwrap().write(dir.join("gas.h5"), false).unwrap();
    crystal
}

const NET: [&str; 14] =
    ["onsager", "-DP", "gas.h5", "-cr", "fcc4.h5", "-td", "1", "-vSp", "3", "-nl", "2", "-lr", "0.003", "--seed"];

#[test]
fn the_matrix_of_a_three_species_gas_agrees_with_kmc_and_obeys_the_sum_rules() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let crystal = fixtures(d, 3000);
    let mut args = NET.to_vec();
    // The scaled residual bias on top of a short training (recorded steps, whose
    // coefficients it fits) is what reaches the KMC matrix here; the network alone stays
    // above it on the fast species (measured: 0.225 against 0.198 after 20 epochs).
    args.extend(["1", "-nch", "8", "-nt", "2000", "-eep", "20", "-i", "10", "-bs", "16", "--srb"]);
    let out = gcnet(&args, d);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("positive semidefinite within errors").count(), 2, "{stdout}");
    assert!(!stdout.contains("NOT positive"), "{stdout}");

    let (l, l_err) = (matrix(&d.join("onsager_val_1.npy")), matrix(&d.join("onsager_val_err_1.npy")));
    let train = matrix(&d.join("onsager_1.npy"));
    assert_eq!(l.dim(), (4, 4));
    for m in [&l, &train] {
        // Symmetric exactly; the vacancy row is minus the sum of the atoms' rows (the data's
        // own vacancy displacements), L_vv the sum of the atoms' block.
        assert_eq!(m, &m.t(), "not symmetric");
        let scale = m.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        for a in 0..3 {
            let row: f64 = (0..3).map(|b| m[[a, b]]).sum();
            assert!((m[[3, a]] + row).abs() <= 1e-12 * scale, "L_v{a} {} vs -{row}", m[[3, a]]);
        }
        let block: f64 = (0..3).flat_map(|a| (0..3).map(move |b| (a, b))).map(|(a, b)| m[[a, b]]).sum();
        assert!((m[[3, 3]] - block).abs() <= 1e-12 * scale);
    }
    // The reference: multi-step KMC of the same gas in the same cell.
    let config = KmcConfig { gas: gas(), trajectories: 1000, duration: Duration::Steps(40000), seed: 5, threads: 0 };
    let kmc = gcnet_data::kmc::run(&crystal, &config, &|_| {}).unwrap();
    let table = against_kmc(&l, &l_err, &kmc, &log);
    eprintln!("{table}");
    // The cluster expansion instead of the network (one W for every label, no training):
    // its own files, the sum rules, and the variational bound on every diagonal entry.
    let vce = gcnet(
        &[
            "onsager", "-DP", "gas.h5", "-cr", "fcc4.h5", "-td", "1", "-vSp", "3", "-nt", "2000", "--vce", "-mo", "3",
            "-cc", "0.71",
        ],
        d,
    );
    assert!(vce.status.success(), "{}", text(&vce));
    assert!(String::from_utf8_lossy(&vce.stdout).contains("vector cluster expansion -mo 3 -cc 0.71"));
    let v = matrix(&d.join("onsager_vce_val_1.npy"));
    let v_err = matrix(&d.join("onsager_vce_val_err_1.npy"));
    assert_eq!(v, v.t());
    for a in 0..4 {
        let row: f64 = (0..4).map(|b| v[[a, b]]).sum();
        assert!(row.abs() <= 1e-12 * v[[3, 3]], "row {a} of the VCE matrix sums to {row}");
        let combined = (v_err[[a, a]].powi(2) + kmc.onsager_error[[a, a]].powi(2)).sqrt();
        assert!(v[[a, a]] >= kmc.onsager[[a, a]] - 3.0 * combined, "VCE L[{a}][{a}] {} below KMC", v[[a, a]]);
    }
    // The network's files are untouched by it.
    assert_eq!(matrix(&d.join("onsager_val_1.npy")), l);
    // The kinosons: per label (N, 1) terms of the recorded steps, averaging to the diagonal.
    let k0: ArrayD<f64> = gcnet_files::numpy::read(d.join("kinosons_0_1.npy"), "").unwrap();
    assert_eq!(k0.shape(), &[3000, 1]);
    let mean_train = k0.sum() / 3000.0;
    let both = (train[[0, 0]] * 2000.0 + l[[0, 0]] * 1000.0) / 3000.0;
    assert!((mean_train - both).abs() <= 1e-12 * both, "{mean_train} vs {both}");
    assert!(d.join("kinosons_1.png").is_file() && d.join("kinosons_jumping_1.npy").is_file());
    // One result set, with its record: the producer, the checkpoint, the data set.
    let record = std::fs::read_to_string(gcnet_files::sidecar_path(d.join("onsager_1.npy"))).unwrap();
    assert!(record.contains("gcnet onsager") && record.contains("ep_20.pt") && record.contains("gas.h5"), "{record}");
}

/// Every entry within 3 combined standard errors of KMC or 5% of its largest diagonal
/// entry, whichever is larger, and every diagonal entry at or above KMC within errors (the
/// variational bound); returns the table.
fn against_kmc(l: &Array2<f64>, l_err: &Array2<f64>, kmc: &gcnet_data::KmcResult, log: &str) -> String {
    let nl = l.nrows();
    let largest = (0..nl).map(|a| kmc.onsager[[a, a]]).fold(0.0, f64::max);
    let mut table = String::new();
    for a in 0..nl {
        for b in 0..nl {
            let (x, e) = (l[[a, b]], l_err[[a, b]]);
            let (k, ke) = (kmc.onsager[[a, b]], kmc.onsager_error[[a, b]]);
            let combined = (e * e + ke * ke).sqrt();
            table += &format!("L[{a}][{b}] {x:.5e} +- {e:.1e}  KMC {k:.5e} +- {ke:.1e}\n");
            assert!(e.is_finite() && e > 0.0, "error of L[{a}][{b}]: {e}");
            assert!(
                (x - k).abs() <= (3.0 * combined).max(0.05 * largest),
                "L[{a}][{b}]: {x:.5e} +- {e:.1e} against KMC {k:.5e} +- {ke:.1e}\n{table}\n{log}"
            );
            if a == b {
                assert!(x >= k - 3.0 * combined, "L[{a}][{a}] {x:.5e} below KMC {k:.5e}\n{table}");
            }
        }
    }
    table
}

/// SR-2 (slow 0.001, fast 1, half and half) in the same cell: the network alone, every
/// jump of every state, against KMC.
#[test]
fn the_matrix_of_sr2_agrees_with_kmc() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let crystal = fcc4(d);
    LatticeGas::sr2(0.5).generate(&crystal, 3000, 12).unwrap().write(d.join("sr2.h5"), false).unwrap();
    let args = ["onsager", "-DP", "sr2.h5", "-cr", "fcc4.h5", "-td", "sr2", "-vSp", "2", "-nt", "2000", "-nl", "2"];
    let more = ["-nch", "8", "-eep", "20", "-i", "10", "-bs", "16", "-lr", "0.003", "--seed", "1"];
    let out = gcnet(&[&args[..], &more[..]].concat(), d);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    let (l, l_err) = (matrix(&d.join("onsager_val_sr2.npy")), matrix(&d.join("onsager_val_err_sr2.npy")));
    assert_eq!(l.dim(), (3, 3));
    let config = KmcConfig {
        gas: LatticeGas::sr2(0.5),
        trajectories: 1000,
        duration: Duration::Steps(40000),
        seed: 6,
        threads: 0,
    };
    let kmc = gcnet_data::kmc::run(&crystal, &config, &|_| {}).unwrap();
    eprintln!("{}", against_kmc(&l, &l_err, &kmc, &log));
}

#[test]
fn a_run_stopped_in_training_continues_to_the_same_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for d in [&a, &b] {
        std::fs::create_dir(d).unwrap();
        fixtures(d, 300);
    }
    let mut args = NET.to_vec();
    args.extend(["2", "-nt", "200", "-eep", "4", "-nch", "4"]);
    let straight = gcnet(&args, &a);
    assert!(straight.status.success(), "{}", text(&straight));
    let first = gcnet(&args, &b);
    assert!(first.status.success(), "{}", text(&first));
    // As if killed during epoch 4: its checkpoint and Adam state are not there.
    let net = b.join("ep_T_1_labels012_n2c4_all_0");
    for f in ["ep_4.pt", "ep_4.gcnet.json", "optimizer_ep_4.pt"] {
        std::fs::remove_file(net.join(f)).unwrap();
    }
    std::fs::remove_file(b.join("onsager_1.npy")).unwrap();
    let again = gcnet(&args, &b);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("continuing from"), "{}", text(&again));
    for f in ["onsager_1.npy", "onsager_err_1.npy", "onsager_val_1.npy", "kinosons_2_1.npy"] {
        assert_eq!(std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
    // The whole run again: the checkpoint of -eep is there, nothing is trained.
    let third = gcnet(&args, &b);
    assert!(text(&third).contains("the matrix is computed with it"), "{}", text(&third));
    // The network of another data set (or of other training samples) is not reused.
    let crystal = CrystalData::read(b.join("fcc4.h5")).unwrap();
    gas().generate(&crystal, 310, 12).unwrap().write(b.join("gas2.h5"), false).unwrap();
    let other_args: Vec<&str> = args.iter().map(|&w| if w == "gas.h5" { "gas2.h5" } else { w }).collect();
    let other = gcnet(&other_args, &b);
    assert!(!other.status.success() && text(&other).contains("data set"), "{}", text(&other));
    // No validation samples: refused before any work.
    let mut bad = NET.to_vec();
    bad.extend(["2", "-nch", "4", "-nt", "300", "-eep", "4"]);
    let refused = gcnet(&bad, &b);
    assert!(
        !refused.status.success() && text(&refused).contains("leaves no validation samples or too few"),
        "{}",
        text(&refused)
    );
}

/// Runs at three temperatures of a gas whose rates all carry exp(-0.5 eV / k_B T): the
/// states, the network training (each label's loss is divided by its own L0) and so the
/// kinosons differ only by that factor, and `gcnet kinosons` recovers E_a = 0.5 eV.
#[test]
fn kinosons_at_three_temperatures_give_the_activation_energy() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let crystal = fcc4(d);
    let temperatures = ["800", "1000", "1250"];
    for t in temperatures {
        let boltzmann = (-0.5 / (gcnet_srb::onsager::temperatures::BOLTZMANN_EV * t.parse::<f64>().unwrap())).exp();
        let rates = [1.0, 0.1, 0.01].map(|r| r * boltzmann).to_vec();
        let data = LatticeGas::fixed(rates, Composition::Counts(vec![21, 21, 21])).generate(&crystal, 300, 4).unwrap();
        let name = format!("gas_{t}.h5");
        data.write(d.join(&name), false).unwrap();
        let args = ["onsager", "-DP", &name, "-cr", "fcc4.h5", "-td", t, "-vSp", "3", "-nt", "200", "-eep", "2"];
        let out = gcnet(&[&args[..], &["-nl", "1", "-nch", "4", "--seed", "3"]].concat(), d);
        assert!(out.status.success(), "{}", text(&out));
    }
    let out = gcnet(&["kinosons", "--td", "800,1000,1250", "--label", "3"], d);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    let line = stdout.lines().find(|l| l.starts_with("Arrhenius fit")).unwrap_or_else(|| panic!("{stdout}"));
    let ea: f64 = line.split("E_a = ").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    assert!((ea - 0.5).abs() < 1e-4, "{line}");
    assert!(stdout.matches("kinosons of label 3").count() == 3, "{stdout}");
    assert!(d.join("kinosons_3_temperatures.png").is_file());
    // A tag that is not a temperature, and kinosons without a record, are refused.
    std::fs::copy(d.join("kinosons_3_800.npy"), d.join("kinosons_3_x.npy")).unwrap();
    std::fs::copy(d.join("kinosons_jumping_800.npy"), d.join("kinosons_jumping_x.npy")).unwrap();
    let out = gcnet(&["kinosons", "--td", "800,x", "--label", "3"], d);
    assert!(!out.status.success() && text(&out).contains("has no gcnet record"), "{}", text(&out));
}
