//! The data-set subcommands end to end: latgas, check, describe, kmc, bench-data.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::Dataset;

fn gcnet(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gcnet")).args(args).current_dir(dir).output().expect("gcnet runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn crystal(dir: &Path, name: &str, n: usize) -> PathBuf {
    let path = dir.join(name);
    CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, n).unwrap()).write(&path).unwrap();
    path
}

#[test]
fn latgas_then_check_passes_and_force_is_needed_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crystal(d, "fcc4.h5", 4);
    let args = ["latgas", "--crystal", "fcc4.h5", "-o", "sr2.h5", "-n", "500", "--sr2", "--seed", "3"];
    let out = gcnet(&args, d);
    assert!(out.status.success(), "{}", text(&out));
    let first = std::fs::read(d.join("sr2.h5")).unwrap();
    let out = gcnet(&["check", "sr2.h5", "--crystal", "fcc4.h5"], d);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("all checks passed"), "{}", text(&out));

    // A second run refuses to overwrite, and leaves the file as it was.
    let other = ["latgas", "--crystal", "fcc4.h5", "-o", "sr2.h5", "-n", "500", "--sr2", "--seed", "4"];
    let out = gcnet(&other, d);
    assert!(!out.status.success());
    assert!(text(&out).contains("--force"), "{}", text(&out));
    assert_eq!(std::fs::read(d.join("sr2.h5")).unwrap(), first);
    let mut forced = other.to_vec();
    forced.push("--force");
    assert!(gcnet(&forced, d).status.success());
    assert_ne!(std::fs::read(d.join("sr2.h5")).unwrap(), first);

    // Same seed, same file contents.
    let again = ["latgas", "--crystal", "fcc4.h5", "-o", "again.h5", "-n", "500", "--sr2", "--seed", "4"];
    assert!(gcnet(&again, d).status.success());
    assert_eq!(Dataset::read(d.join("again.h5")).unwrap(), Dataset::read(d.join("sr2.h5")).unwrap());
}

#[test]
fn check_reports_corrupted_copies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crystal(d, "fcc4.h5", 4);
    crystal(d, "fcc5.h5", 5);
    let args = [
        "latgas",
        "--crystal",
        "fcc4.h5",
        "-o",
        "d.h5",
        "-n",
        "100",
        "--rates",
        "0.5,1,2",
        "--fractions",
        "0.2,0.3,0.5",
    ];
    let out = gcnet(&args, d);
    assert!(out.status.success(), "{}", text(&out));
    let data = Dataset::read(d.join("d.h5")).unwrap();

    let mut moved = data.clone();
    moved.init_states.swap([5, 0], [5, 9]);
    moved.write(d.join("moved.h5"), false).unwrap();
    let out = gcnet(&["check", "moved.h5", "--crystal", "fcc4.h5"], d);
    assert!(!out.status.success());
    assert!(text(&out).contains("sample 5: vacancy on site 0: s1 site 0 holds label"), "{}", text(&out));

    let mut disp = data.clone();
    disp.spec_disps[[8, 3, 2]] = 0.0;
    disp.write(d.join("disp.h5"), false).unwrap();
    let out = gcnet(&["check", "disp.h5", "--crystal", "fcc4.h5"], d);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("sample 8: displacements: label 3 (the vacancy)"), "{t}");
    assert!(t.lines().any(|l| l.contains("displacements") && l.trim_end().ends_with("1 failing")), "{t}");

    let out = gcnet(&["check", "d.h5", "--crystal", "fcc5.h5"], d);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("d.h5") && t.contains("fcc5.h5") && t.contains("125"), "{t}");
}

#[test]
fn describe_prints_both_frames() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crystal(d, "fcc4.h5", 4);
    let args = [
        "latgas",
        "--crystal",
        "fcc4.h5",
        "-o",
        "d.h5",
        "-n",
        "200",
        "--energy-mean",
        "0,1",
        "--energy-width",
        "0.5,0.5",
    ];
    assert!(gcnet(&args, d).status.success(), "{}", text(&gcnet(&args, d)));
    let out = gcnet(&["describe", "d.h5", "--rows", "3"], d);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    for word in ["escape_rate", "exchanged", "L0_error", "atom_fraction", "shape: (3, "] {
        assert!(t.contains(word), "{word} missing from\n{t}");
    }
}

#[test]
fn kmc_prints_and_writes_results() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crystal(d, "fcc4.h5", 4);
    let args = ["kmc", "--crystal", "fcc4.h5", "--sr2", "--trajectories", "4", "--steps", "2000", "-o", "k.json"];
    let out = gcnet(&args, d);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("L[1][1] ="), "{}", text(&out));
    let json = std::fs::read_to_string(d.join("k.json")).unwrap();
    assert!(json.contains("\"onsager\"") && json.contains("\"correlation\""), "{json}");
    let out = gcnet(&args, d);
    assert!(!out.status.success() && text(&out).contains("--force"), "{}", text(&out));
    let mut forced = args.to_vec();
    forced.push("--force");
    assert!(gcnet(&forced, d).status.success());
}

#[test]
fn bench_data_reports_rates() {
    let dir = tempfile::tempdir().unwrap();
    let out = gcnet(&["bench-data", "--size", "4", "--samples", "20000", "--kmc-steps", "100000"], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("samples/s") && t.contains("steps/s") && t.contains("% of the time"), "{t}");
}
