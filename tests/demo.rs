//! `gcnet demo` end to end on a small configuration: every stage runs, the table has
//! every row, the corrections lower L, and the plot is written.

use std::process::Command;

fn value(table: &str, row: &str) -> f64 {
    let line =
        table.lines().find(|l| l.trim_start().starts_with(row)).unwrap_or_else(|| panic!("no row {row}:\n{table}"));
    line[line.find(row).unwrap() + row.len()..].split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn small_demo_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gcnet"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args(["demo", "--out", dir.path().to_str().unwrap()])
        .args(["--n-train", "600", "--n-val", "300", "--epochs", "2", "--kmc-trajectories", "256", "--kmc-time", "500"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let l0 = value(&stdout, "L0 (uncorrelated, validation)");
    let l_nn = value(&stdout, "L_NN (validation)");
    let l_srb = value(&stdout, "L_NN+SRB (validation)");
    let l_kmc = value(&stdout, "L_KMC (multi-step)");
    // SR-2 at half fast atoms: L0 of the fast species is its site fraction, about 0.5;
    // correlation lowers it well below that.
    assert!((l0 - 0.5).abs() < 0.03, "L0 = {l0}");
    assert!(l_nn < l0 && l_srb < l0, "corrections must lower L: {l0} {l_nn} {l_srb}");
    // the correction is fitted on the training states; on the validation states it must
    // not raise L either
    assert!(l_srb <= l_nn, "L_NN+SRB {l_srb} > L_NN {l_nn}");
    assert!(l_kmc < 0.45 && l_kmc > 0.25, "KMC L = {l_kmc}");
    for file in ["training_curve.png", "sr2_data.h5", "results.txt", "checkpoints/ep_2.pt"] {
        assert!(dir.path().join(file).is_file(), "{file} missing");
    }
}
