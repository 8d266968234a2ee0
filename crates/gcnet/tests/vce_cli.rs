//! `gcnet vce` and `gcnet bench-vce` end to end: the published counts and outputs, the
//! two-stage runs (-svj -ao, then without -scr; -eo, then -nex), agreement with the
//! library, and bad input that leaves the working directory untouched.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::LatticeGas;
use gcnet_files::numpy::read;
use gcnet_vce::{BasisParams, Expansion, Samples, SiteGeometry, SpeciesChoice, fit};

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../CrysDat_FCC/CrystData.h5");

fn gcnet(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gcnet")).args(args).current_dir(dir).output().expect("gcnet runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

/// SR-2 (vacancy 2) on the committed 8x8x8 crystal, copied into `dir`.
fn setup(dir: &Path, n: usize) -> PathBuf {
    std::fs::copy(COMMITTED, dir.join("CrystData.h5")).unwrap();
    let crystal = CrystalData::read(COMMITTED).unwrap();
    let data = LatticeGas::sr2(0.5).generate(&crystal, n, 15).unwrap();
    let path = dir.join("sr2.h5");
    data.write(&path, false).unwrap();
    path
}

fn base<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["vce", "-DP", "sr2.h5", "-cr", "CrystData.h5", "-sp", "1", "-vsp", "2", "-nt", "800"];
    args.extend_from_slice(extra);
    args
}

fn f64s(dir: &Path, name: &str) -> Vec<f64> {
    read::<f64>(dir.join(name), "").unwrap().iter().copied().collect()
}

#[test]
fn published_counts_outputs_and_the_library_agree() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, 1000);
    for (mo, species, interactions, groups) in [("2", 51, 999, 3), ("3", 211, 4999, 16)] {
        let out = gcnet(&base(&["-mo", mo, "-cc", "0.71", "-T", mo, "-scr"]), d);
        assert!(out.status.success(), "{}", text(&out));
        let t = text(&out);
        for want in [
            format!("{species} species clusters"),
            format!("{interactions} interactions holding the vacancy site or a jump site"),
            format!("{groups} vector groups"),
        ] {
            assert!(t.contains(&want), "-mo {mo}: missing `{want}` in\n{t}");
        }
        let l = f64s(d, &format!("L11_{mo}.npy"));
        assert_eq!(l.len(), 2);
        let train = f64s(d, &format!("L_trSamps_11_{mo}.npy"));
        let val = f64s(d, &format!("L_valSamps_11_{mo}.npy"));
        assert_eq!((train.len(), val.len()), (800, 200));
        assert!((train.iter().sum::<f64>() / 800.0 - l[0]).abs() < 1e-14);
        assert!((val.iter().sum::<f64>() / 200.0 - l[1]).abs() < 1e-14);
        assert_eq!(f64s(d, &format!("etabar_{mo}.npy")).len(), groups);
        let sv = f64s(d, &format!("W_singvals_{mo}.npy"));
        assert_eq!(sv.len(), groups);
        assert!(sv.windows(2).all(|w| w[0] >= w[1]));

        // The library on the same files gives the same numbers.
        let crystal = CrystalData::read(d.join("CrystData.h5")).unwrap();
        let data = gcnet_data::Dataset::read(d.join("sr2.h5")).unwrap();
        let params = BasisParams { max_order: mo.parse().unwrap(), cutoff: 0.71, num_labels: 3, vacancy: 2 };
        let e = Expansion::build(SiteGeometry::from_crystal(&crystal).unwrap(), params, false).unwrap();
        let samples = Samples::new(&data, "sr2.h5", &e, SpeciesChoice { species: 1, vacancy: 2 }).unwrap();
        let r = fit::fit(&e, &samples, 800, false, 1e-8).unwrap();
        assert_eq!(l, vec![r.train.l, r.validation.unwrap().l]);
    }
    // -ait counts every interaction of the supercell; the result is the same.
    let out = gcnet(&base(&["-mo", "2", "-cc", "0.71", "-T", "9", "-scr", "-ait"]), d);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("{} interactions,", 51 * 512)), "{}", text(&out));
    assert_eq!(f64s(d, "L11_9.npy"), f64s(d, "L11_2.npy"));
}

#[test]
fn two_stage_runs_reuse_the_saved_expansion_and_w_b() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, 1000);
    let before = files(d);
    // Stage 1: arrays only.
    let out = gcnet(&base(&["-mo", "3", "-cc", "0.71", "-T", "1", "-scr", "-svj", "-ao"]), d);
    assert!(out.status.success(), "{}", text(&out));
    let mut expected = before.clone();
    expected.insert("JitArrays.h5".into());
    expected.insert("JitArrays.gcnet.json".into());
    expected.insert(gcnet_files::RunLock::FILE_NAME.into()); // the run's lock on the directory
    assert_eq!(files(d), expected, "-ao writes the arrays only");
    // Stage 2: from the saved arrays, all jumps.
    let out = gcnet(&base(&["-T", "1", "-aj"]), d);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("16 vector groups"), "{}", text(&out));
    let reused = f64s(d, "L11_1.npy");
    let out = gcnet(&base(&["-mo", "3", "-cc", "0.71", "-T", "2", "-aj", "-scr"]), d);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(reused, f64s(d, "L11_2.npy"), "read back = built from scratch");
    // A saved expansion is not used for another -mo.
    let out = gcnet(&base(&["-mo", "2", "-T", "1"]), d);
    assert!(!out.status.success() && text(&out).contains("-mo 3"), "{}", text(&out));

    // -eo: W and b, no transport coefficient; -nex then solves with another -rc.
    let out = gcnet(&base(&["-T", "5", "-eo"]), d);
    assert!(out.status.success(), "{}", text(&out));
    let names = files(d);
    for f in ["Wbar_5.npy", "Bbar_5.npy", "etabar_5.npy", "W_singvals_5.npy"] {
        assert!(names.contains(f), "{f} missing: {names:?}");
    }
    assert!(!names.contains("L11_5.npy"));
    let w_before = std::fs::read(d.join("Wbar_5.npy")).unwrap();
    let out = gcnet(&base(&["-T", "5", "-nex"]), d);
    assert!(out.status.success(), "{}", text(&out));
    let out = gcnet(&base(&["-T", "6"]), d);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(f64s(d, "L11_5.npy"), f64s(d, "L11_6.npy"), "-eo then -nex = one run");
    assert_eq!(std::fs::read(d.join("Wbar_5.npy")).unwrap(), w_before, "-nex never writes its inputs");
    // -nex needs the saved W and b.
    let out = gcnet(&base(&["-T", "7", "-nex"]), d);
    assert!(!out.status.success() && text(&out).contains("Wbar_7.npy"), "{}", text(&out));
}

#[test]
fn bad_input_names_the_file_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, 300);
    CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 4).unwrap())
        .write(d.join("fcc4.h5"))
        .unwrap();
    let before = files(d);
    // Every option that writes something comes first (the case's own options after it win),
    // so that "nothing written" means it.
    let writes = ["-d", "-dpf", "args.txt", "-svj", "-svc", "-nt", "200", "-T", "1"];
    let scratch = ["-mo", "2", "-cc", "0.71", "-scr"];
    let data = ["-DP", "sr2.h5", "-cr", "CrystData.h5"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["-DP", "CrystData.h5", "-cr", "CrystData.h5", "-sp", "1", "-vsp", "2"], "missing dataset `InitStates`"),
        (vec!["-DP", "sr2.h5", "-cr", "fcc4.h5", "-sp", "1", "-vsp", "2"], "fcc4.h5"),
        (vec!["-DP", "none.h5", "-cr", "CrystData.h5", "-sp", "1", "-vsp", "2"], "none.h5"),
        (vec!["-DP", "sr2.h5", "-cr", "none.h5", "-sp", "1", "-vsp", "2"], "none.h5"),
        ([&data[..], &["-vsp", "2"]].concat(), "-sp 5 is not one of the labels 0..2"),
        ([&data[..], &["-sp", "1", "-vsp", "0"]].concat(), "sample 0: vacancy on site 0"),
        ([&data[..], &["-sp", "1", "-vsp", "7"]].concat(), "-vsp 7"),
        ([&data[..], &["-sp", "1", "-vsp", "2", "-nt", "300"]].concat(), "validation sample"),
        ([&data[..], &["-sp", "1", "-vsp", "2", "-nt", "500"]].concat(), "has only 300 samples"),
        ([&data[..], &["-sp", "1", "-vsp", "2", "-mo", "0"]].concat(), "-mo 0"),
        ([&data[..], &["-sp", "1", "-vsp", "2", "-cc", "-1"]].concat(), "-cc -1"),
        ([&data[..], &["-sp", "1", "-vsp", "2", "-dpf", "sr2.h5"]].concat(), "inputs are never written over"),
    ];
    for (case, want) in &cases {
        let args: Vec<&str> = ["vce"].iter().chain(&writes).chain(&scratch).chain(case).copied().collect();
        let out = gcnet(&args, d);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(text(&out).contains(want), "{args:?}: `{want}` missing in\n{}", text(&out));
        assert_eq!(files(d), before, "{args:?} wrote something");
    }
    for (args, want) in [
        (vec!["vce", "-DP", "sr2.h5", "-cr", "CrystData.h5", "-sp", "1", "-vsp", "2", "-nt", "200"], "JitArrays.h5"),
        (vec!["vce", "-DP", "sr2.h5", "-cr", "CrystData.h5", "-mo", "2", "-scr"], "-cc"),
        (vec!["vce", "-DP", "sr2.h5", "-cr", "CrystData.h5", "-d"], "-dpf"),
    ] {
        let out = gcnet(&args, d);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(text(&out).contains(want), "{args:?}: `{want}` missing in\n{}", text(&out));
        assert_eq!(files(d), before, "{args:?} wrote something");
    }
}

#[test]
fn conventional_cells_with_and_without_red() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cubic = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Cubic, 4).unwrap());
    cubic.write(d.join("cubic.h5")).unwrap();
    LatticeGas::sr2(0.5).generate(&cubic, 400, 4).unwrap().write(d.join("sr2.h5"), false).unwrap();
    let args = |t: &'static str, red: bool| {
        let mut a = vec!["vce", "-DP", "sr2.h5", "-cr", "cubic.h5", "-sp", "1", "-vsp", "2", "-nt", "300"];
        a.extend(["-mo", "3", "-cc", "0.71", "-scr", "-T", t]);
        if red {
            a.push("-red");
        }
        a
    };
    let out = gcnet(&args("1", false), d);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("conventional cell with 4 sites"), "{}", text(&out));
    // The same species clusters and vector groups as on the primitive cell.
    assert!(text(&out).contains("211 species clusters") && text(&out).contains("16 vector groups"), "{}", text(&out));
    let out = gcnet(&args("2", true), d);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(f64s(d, "L11_1.npy"), f64s(d, "L11_2.npy"));
}

#[test]
fn dump_args_and_the_bench() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, 300);
    let args = base(&["-nt", "200", "-mo", "2", "-cc", "0.71", "-scr", "-T", "3", "-d", "-dpf", "args.txt"]);
    let out = gcnet(&args, d);
    assert!(out.status.success(), "{}", text(&out));
    let dump = std::fs::read_to_string(d.join("args.txt")).unwrap();
    for line in
        ["Temp: 3", "MaxOrder: 2", "ClustCut: 0.71", "SpecExpand: 1", "NTrain: 200", "Scratch: True", "rcond: 1e-08"]
    {
        assert!(dump.lines().any(|l| l == line), "{line} missing:\n{dump}");
    }
    let out = gcnet(&args, d);
    assert!(!out.status.success() && text(&out).contains("--force"), "{}", text(&out));
    let mut forced = args.clone();
    forced.push("--force");
    assert!(gcnet(&forced, d).status.success());

    let out = gcnet(&["bench-vce", "--samples", "2000"], d);
    assert!(out.status.success(), "{}", text(&out));
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("W,b samples/s") && t.contains("1 = linear in samples"), "{t}");
}

/// Class 1 (provenance): W and b reused by -nex must have been summed for this run (data
/// set, species, training states, jump set, expansion); a saved expansion edited after it
/// was written is refused. Each refusal names the file and the field, and writes nothing.
#[test]
fn class1_nex_and_saved_expansions_are_checked_against_their_records() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, 1000);
    let other = LatticeGas::sr2(0.5).generate(&CrystalData::read(COMMITTED).unwrap(), 1000, 16).unwrap();
    other.write(d.join("other.h5"), false).unwrap();
    let build = ["-mo", "2", "-cc", "0.71", "-scr", "-T", "5"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut a = base(&build);
        a.extend_from_slice(extra);
        a
    };
    let out = gcnet(&with(&["-eo"]), d);
    assert!(out.status.success(), "{}", text(&out));
    for (extra, needle) in [
        (&["-nex", "-sp", "0"][..], "species = 1, this run has species = 0"),
        (&["-nex", "-nt", "700"][..], "n_train = 800, this run has n_train = 700"),
        (&["-nex", "-aj"][..], "all_jumps = false, this run has all_jumps = true"),
        (&["-nex", "-DP", "other.h5"][..], "not from the data set other.h5"),
        (&["-nex", "-mo", "3"][..], "max_order = 2, this run has max_order = 3"),
    ] {
        let before = common_snapshot(d);
        let out = gcnet(&with(extra), d);
        let t = text(&out);
        assert!(!out.status.success(), "-nex {extra:?} must be refused:\n{t}");
        assert!(t.contains(needle) && t.contains("Wbar_5.npy"), "-nex {extra:?}: expected `{needle}` in\n{t}");
        assert_eq!(before, common_snapshot(d), "-nex {extra:?} touched files");
    }
    // The same run reuses them, with the result of one run without -nex.
    let out = gcnet(&with(&["-nex"]), d);
    assert!(out.status.success(), "{}", text(&out));
    let reused = f64s(d, "L11_5.npy");
    let out = gcnet(&base(&["-mo", "2", "-cc", "0.71", "-scr", "-T", "6"]), d);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(reused, f64s(d, "L11_6.npy"));
    // W from one run and b from another do not combine.
    let out = gcnet(&base(&["-mo", "2", "-cc", "0.71", "-scr", "-T", "9", "-nt", "700", "-eo"]), d);
    assert!(out.status.success(), "{}", text(&out));
    std::fs::copy(d.join("Bbar_9.npy"), d.join("Bbar_5.npy")).unwrap();
    let out = gcnet(&with(&["-nex"]), d);
    assert!(!out.status.success() && text(&out).contains("Bbar_5.npy"), "{}", text(&out));

    // A saved expansion whose cutoff was edited is refused when read back.
    let out = gcnet(&base(&["-mo", "2", "-cc", "0.71", "-scr", "-svj", "-ao", "-T", "7"]), d);
    assert!(out.status.success(), "{}", text(&out));
    let out = gcnet(&base(&["-T", "7"]), d);
    assert!(out.status.success(), "the saved expansion reads back: {}", text(&out));
    {
        let f = hdf5::File::open_rw(d.join("JitArrays.h5")).unwrap();
        f.dataset("parameters/ClustCut").unwrap().write_scalar(&0.9f64).unwrap();
    }
    let out = gcnet(&base(&["-T", "8"]), d);
    let t = text(&out);
    assert!(!out.status.success() && t.contains("JitArrays.h5") && t.contains("changed after"), "{t}");
}

/// One run per working directory: while another process holds it, `gcnet vce` is refused,
/// the holder named, nothing touched; released, the same run succeeds.
#[test]
fn class3_vce_refuses_a_directory_another_run_holds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, 1000);
    let args = base(&["-mo", "2", "-cc", "0.71", "-scr", "-T", "5", "-svj"]);
    let lock = gcnet_files::RunLock::acquire(d, "a test").unwrap();
    let before = common_snapshot(d);
    let out = gcnet(&args, d);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("in use by another run") && t.contains(&format!("process {} (a test)", std::process::id())),
        "{t}"
    );
    assert_eq!(before, common_snapshot(d), "a refused run touched files");
    drop(lock);
    let out = gcnet(&args, d);
    assert!(out.status.success() && d.join("L11_5.npy").exists(), "{}", text(&out));
}

fn common_snapshot(d: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut v: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            (e.file_name().to_string_lossy().into_owned(), m.len(), m.modified().unwrap())
        })
        .collect();
    v.sort();
    v
}

/// Class 5: rates times 1e300 (finite, but their sums over the data set are not) fail the
/// checks of `gcnet check`, which vce runs first, instead of giving NaN; L is printed in
/// the data's own unit, Å^2 x rate for displacements in Å and a0^2 x rate for
/// lattice-parameter units.
#[test]
fn class5_overflowing_rates_are_refused_and_l_is_in_the_data_units() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, 300);
    let crystal = CrystalData::read(COMMITTED).unwrap();
    let args = base(&["-nt", "200", "-mo", "2", "-cc", "0.71", "-scr"]);
    let out = gcnet(&args, d);
    assert!(out.status.success() && text(&out).contains("(per vacancy, a0^2 x rate)"), "{}", text(&out));

    let mut data = gcnet_data::Dataset::read(d.join("sr2.h5")).unwrap();
    data.rates.mapv_inplace(|r| r * 1e300);
    data.jump_rates_init.mapv_inplace(|r| r * 1e300);
    data.jump_rates_fin.mapv_inplace(|r| r * 1e300);
    data.write(d.join("sr2.h5"), true).unwrap();
    let before = files(d);
    let out = gcnet(&args, d);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("above MAX_RATE = 1e150") && text(&out).contains("--no-check"), "{}", text(&out));
    assert_eq!(files(d), before);

    let gas = LatticeGas { lattice_parameter: 3.595, ..LatticeGas::sr2(0.5) };
    gas.generate(&crystal, 300, 15).unwrap().write(d.join("sr2.h5"), true).unwrap();
    let out = gcnet(&args, d);
    assert!(out.status.success() && text(&out).contains("(per vacancy, Å^2 x rate)"), "{}", text(&out));
}
