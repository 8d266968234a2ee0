//! `gcnet tracer train`: the network's tracer correlation factor never goes below the
//! exact finite-cell f_N (variational bound) and comes within 0.5% of it on the 8x8x8
//! primitive FCC cell.

use std::process::Command;

fn number_after(text: &str, key: &str) -> f64 {
    let start = text.find(key).unwrap_or_else(|| panic!("`{key}` not in output:\n{text}")) + key.len();
    text[start..].split_whitespace().next().unwrap().trim_end_matches([',', ';']).parse().unwrap()
}

#[test]
fn network_tracer_factor_approaches_the_exact_value_from_above() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("f.png");
    let out = Command::new(env!("CARGO_BIN_EXE_gcnet"))
        .args(["tracer", "train", "--size", "8", "--epochs", "80", "--plot", plot.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let exact = number_after(&stdout, "exact f_N = ");
    let network = number_after(&stdout, "network f = ");
    assert!((exact - 0.783535).abs() < 1e-5, "exact f_N of 8x8x8 FCC: {exact}");
    // The command itself fails if any epoch went below f_N; the best epoch must be close.
    assert!(network >= exact && network <= 1.005 * exact, "network f {network} vs exact {exact}");
    assert!(std::fs::read(&plot).unwrap().starts_with(b"\x89PNG"));
}
