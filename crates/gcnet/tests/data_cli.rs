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

/// Class 5: `gcnet check` bounds what the tools compute with: rates times 1e300 (finite,
/// but their sums over the data set are not), a NaN escape rate and a NaN rate out of s2
/// all fail, naming the dataset and the bound.
#[test]
fn class5_check_bounds_the_rates_the_tools_sum() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crystal(d, "fcc4.h5", 4);
    let args = ["latgas", "--crystal", "fcc4.h5", "-o", "sr2.h5", "-n", "200", "--sr2", "--seed", "3"];
    assert!(gcnet(&args, d).status.success());
    let good = Dataset::read(d.join("sr2.h5")).unwrap();
    let mut huge = good.clone();
    for r in [&mut huge.jump_rates_init, &mut huge.jump_rates_fin] {
        r.mapv_inplace(|x| x * 1e300);
    }
    huge.rates.mapv_inplace(|x| x * 1e300);
    let mut nan_rate = good.clone();
    nan_rate.rates[5] = f64::NAN;
    let mut nan_fin = good.clone();
    nan_fin.jump_rates_fin[[7, 3]] = f64::NAN;
    for (data, needles) in [
        (huge, &["escape rate = sum of jump rates", "200 failing", "above MAX_RATE = 1e150"][..]),
        (nan_rate, &["sample 5: escape rate = sum of jump rates: rates = NaN"]),
        (nan_fin, &["rates out of s2 in range", "sample 7", "AllJumpRates_Fin[3] = NaN"]),
    ] {
        data.write(d.join("bad.h5"), true).unwrap();
        let out = gcnet(&["check", "bad.h5", "--crystal", "fcc4.h5"], d);
        let t = text(&out);
        assert!(!out.status.success(), "{t}");
        for needle in needles {
            assert!(t.contains(needle), "`{needle}` missing in\n{t}");
        }
    }
}

/// Class 5: a directory given for the data set is named as one, by every command that
/// reads a data set (they open it through the data crate).
#[test]
fn class5_a_directory_for_the_data_set_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crystal(d, "fcc4.h5", 4);
    std::fs::create_dir(d.join("data")).unwrap();
    for args in [
        &["check", "data", "--crystal", "fcc4.h5"][..],
        &["describe", "data"],
        &["vce", "-DP", "data", "-cr", "fcc4.h5", "-sp", "1", "-vsp", "2"],
    ] {
        let out = gcnet(args, d);
        let t = text(&out);
        assert!(!out.status.success() && t.contains("data: cannot open the data set: it is a directory"), "{t}");
        assert!(!t.contains("no such file"), "{t}");
    }
    // the crystal file likewise
    let out = gcnet(&["check", "fcc4.h5", "--crystal", "data"], d);
    assert!(text(&out).contains("it is a directory, not a crystal data file"), "{}", text(&out));
}

/// Class 5: describe and kmc print L in the data's own unit: a0^2 x rate when the
/// displacements are the crystal's jump vectors, Å^2 x rate otherwise.
#[test]
fn class5_l_is_printed_in_the_data_units() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crystal(d, "fcc4.h5", 4);
    for (a0, unit) in [("1", "a0^2 x rate"), ("3.595", "Å^2 x rate")] {
        let args = ["latgas", "--crystal", "fcc4.h5", "-o", "d.h5", "-n", "50", "--sr2", "--a0", a0, "--force"];
        assert!(gcnet(&args, d).status.success());
        let out = gcnet(&["describe", "d.h5", "--crystal", "fcc4.h5"], d);
        assert!(out.status.success() && text(&out).contains(&format!("(units of {unit})")), "{}", text(&out));
        let kmc = ["kmc", "--crystal", "fcc4.h5", "--sr2", "--a0", a0, "--trajectories", "2", "--steps", "100"];
        let out = gcnet(&kmc, d);
        assert!(out.status.success() && text(&out).contains(&format!("L_ab per vacancy ({unit})")), "{}", text(&out));
    }
}
