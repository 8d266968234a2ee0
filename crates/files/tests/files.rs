//! Atomic writes, refusal, permissions, orphans, locks and NumPy round trips.

use std::io::Write;

use gcnet_files::numpy::{self, NpArray};
use gcnet_files::{AtomicFile, Error, Overwrite, RunLock, TEMP_PREFIX, remove_orphans, write_atomic};
use ndarray::{Array1, Array2, ArrayD};

fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line.split_whitespace().nth(1).unwrap(), 8).unwrap()
}

#[test]
fn commit_replaces_or_refuses_and_drop_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.txt");
    write_atomic(&p, Overwrite::Refuse, |f| f.write_all(b"one")).unwrap();
    assert!(matches!(write_atomic(&p, Overwrite::Refuse, |f| f.write_all(b"two")), Err(Error::Exists { .. })));
    assert_eq!(std::fs::read(&p).unwrap(), b"one");
    write_atomic(&p, Overwrite::Replace, |f| f.write_all(b"three")).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"three");
    // a file created by another process between creation and commit is not replaced
    let q = dir.path().join("b.txt");
    let mut f = AtomicFile::new(&q, Overwrite::Refuse).unwrap();
    f.file().write_all(b"mine").unwrap();
    std::fs::write(&q, b"theirs").unwrap();
    assert!(matches!(f.commit(), Err(Error::Exists { .. })));
    assert_eq!(std::fs::read(&q).unwrap(), b"theirs");
    // an abandoned write leaves only the files written before
    {
        let mut f = AtomicFile::new(dir.path().join("c.txt"), Overwrite::Refuse).unwrap();
        f.file().write_all(b"half").unwrap();
    }
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["a.txt", "b.txt"]);
}

#[test]
fn permissions_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.txt");
    write_atomic(&p, Overwrite::Refuse, |f| f.write_all(b"x")).unwrap();
    let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o666 & !umask());
}

#[test]
fn orphans_of_dead_writers_are_removed_and_live_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    // pid 0x7ffffffe is above the kernel's pid_max: never a running process
    let dead = dir.path().join(format!("{TEMP_PREFIX}2147483646.abc.ep_3.pt"));
    let live = dir.path().join(format!("{TEMP_PREFIX}1.abc.ep_4.pt")); // init runs
    let mine = dir.path().join(format!("{TEMP_PREFIX}{}.abc.x", std::process::id()));
    let other = dir.path().join("ep_5.pt");
    for p in [&dead, &live, &mine, &other] {
        std::fs::write(p, b"").unwrap();
    }
    assert_eq!(remove_orphans(dir.path()).unwrap(), vec![dead.clone()]);
    assert!(!dead.exists() && live.exists() && mine.exists() && other.exists());
    assert!(remove_orphans(dir.path().join("missing")).unwrap().is_empty());
}

#[test]
fn a_second_lock_on_a_directory_fails_at_once_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let held = RunLock::acquire(dir.path(), "training").unwrap();
    let err = RunLock::acquire(dir.path(), "training").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("in use by another run") && msg.contains(&format!("process {}", std::process::id())), "{msg}");
    drop(held);
    RunLock::acquire(dir.path(), "training").unwrap();
}

#[test]
fn npy_and_npz_round_trip_and_either_form_reads() {
    let dir = tempfile::tempdir().unwrap();
    let y = Array2::from_shape_fn((4, 3), |(i, j)| i as f64 * 0.5 - j as f64);
    let npy = dir.path().join("y.npy");
    let npz = dir.path().join("y.npz");
    numpy::write_npy(&npy, &y.clone().into(), Overwrite::Refuse).unwrap();
    let epochs = Array1::from(vec![0i64, 2, 4]);
    numpy::write_npz(&npz, &[("y", y.clone().into()), ("epochs", epochs.clone().into())], Overwrite::Refuse).unwrap();
    let a: ArrayD<f64> = numpy::read(&npy, "y").unwrap();
    let b: ArrayD<f64> = numpy::read(&npz, "y").unwrap();
    assert_eq!(a, y.clone().into_dyn());
    assert_eq!(b, y.into_dyn());
    let e: ArrayD<i64> = numpy::read(&npz, "epochs").unwrap();
    assert_eq!(e, epochs.into_dyn());
    // wrong dtype, missing name, not an array file: errors naming the file
    let err = numpy::read::<i64>(&npy, "y").unwrap_err().to_string();
    assert!(err.contains("y.npy"), "{err}");
    let err = numpy::read::<f64>(&npz, "rep").unwrap_err().to_string();
    assert!(err.contains("`rep`") && err.contains("y.npz"), "{err}");
    std::fs::write(dir.path().join("t.npy"), b"hello").unwrap();
    assert!(numpy::read::<f64>(dir.path().join("t.npy"), "y").unwrap_err().to_string().contains("neither"));
    // the .npy header is the one np.save writes for a C-order f64 array
    let bytes = std::fs::read(&npy).unwrap();
    let header = String::from_utf8_lossy(&bytes[10..80]);
    assert!(
        header.contains("'descr': '<f8'") && header.contains("'fortran_order': False") && header.contains("(4, 3)")
    );
    assert_eq!(NpArray::from(Array1::<f64>::zeros(5)).shape(), [5]);
    // int8 labels (states): the header np.save writes ('|i1') and the values back
    let states = Array2::from_shape_fn((2, 5), |(i, j)| (i * 5 + j) as i8 - 3);
    let path = dir.path().join("states.npy");
    numpy::write_npy(&path, &states.clone().into(), Overwrite::Refuse).unwrap();
    let back: ArrayD<i8> = numpy::read(&path, "").unwrap();
    assert_eq!(back, states.into_dyn());
    assert!(String::from_utf8_lossy(&std::fs::read(&path).unwrap()[10..60]).contains("'descr': '|i1'"));
}

/// Class 1 and 4 (provenance, whole sets): a set's members carry one record that names
/// each by content hash; a member changed or replaced afterwards is refused, files of two
/// sets do not combine, an empty result is never written, and an input is never replaced.
#[test]
fn class1_class4_result_sets_carry_records_that_consumers_check() {
    use gcnet_files::{Expect, Record, ResultSet, check_same_set, sidecar_path};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("data.h5"), b"the data").unwrap();
    let record = |tag: i64| {
        Record::new("gcnet test", "0").input("data", d.join("data.h5")).unwrap().setting("species", vec![tag])
    };
    let write = |tag: i64, value: f64| {
        let mut set = ResultSet::new(record(tag), Overwrite::Replace, &[d.join("data.h5")]);
        set.npy(d.join("a.npy"), "a", &NpArray::from(Array1::from(vec![value; 3]))).unwrap();
        set.npy(d.join("b.npy"), "b", &NpArray::from(Array1::from(vec![value; 4]))).unwrap();
        set.commit().unwrap()
    };
    assert_eq!(write(1, 1.0).len(), 2);
    assert!(sidecar_path(d.join("a.npy")).ends_with("a.gcnet.json"));
    let (ra, ma) = Record::of_file(d.join("a.npy")).unwrap().expect("a record");
    let (rb, mb) = Record::of_file(d.join("b.npy")).unwrap().expect("a record");
    assert_eq!((ma.role.as_str(), mb.role.as_str()), ("a", "b"));
    check_same_set(&[(&d.join("a.npy"), Some(&ra)), (&d.join("b.npy"), Some(&rb))]).unwrap();
    let data_hash = ra.inputs["data"].hash.clone();
    Expect::new()
        .producer("gcnet test")
        .role("a")
        .input("data", &data_hash, "d")
        .setting("species", vec![1])
        .check(&d.join("a.npy"), &ra, &ma)
        .unwrap();
    // the wrong role, settings or input are named
    let e = Expect::new().role("b").check(&d.join("a.npy"), &ra, &ma).unwrap_err().to_string();
    assert!(e.contains("a.npy") && e.contains("holds a"), "{e}");
    let e = Expect::new().setting("species", vec![2]).check(&d.join("a.npy"), &ra, &ma).unwrap_err().to_string();
    assert!(e.contains("species = [1], this run has species = [2]"), "{e}");
    let e = Expect::new().input("data", "0123", "other.h5").check(&d.join("a.npy"), &ra, &ma).unwrap_err().to_string();
    assert!(e.contains("not from other.h5"), "{e}");
    // a file of another set under a member's name (a copy without its record)
    let keep_b = std::fs::read(d.join("b.npy")).unwrap();
    write(2, 2.0);
    let b2 = std::fs::read(d.join("b.npy")).unwrap();
    std::fs::write(d.join("b.npy"), &keep_b).unwrap();
    let e = Record::of_file(d.join("b.npy")).unwrap_err().to_string();
    assert!(e.contains("b.npy") && e.contains("changed after gcnet test wrote it"), "{e}");
    std::fs::write(d.join("b.npy"), &b2).unwrap();
    // one file with a record, one without: no combination
    let (ra, _) = Record::of_file(d.join("a.npy")).unwrap().unwrap();
    std::fs::write(d.join("c.npy"), b"x").unwrap();
    let e = check_same_set(&[(&d.join("a.npy"), Some(&ra)), (&d.join("c.npy"), None)]).unwrap_err().to_string();
    assert!(e.contains("c.npy") && e.contains("has no gcnet record"), "{e}");
    // files of two sets with records
    let mut other = ResultSet::new(record(3), Overwrite::Replace, &[]);
    other.npy(d.join("z.npy"), "b", &NpArray::from(Array1::from(vec![3.0]))).unwrap();
    other.commit().unwrap();
    let (rz, _) = Record::of_file(d.join("z.npy")).unwrap().unwrap();
    let e = check_same_set(&[(&d.join("a.npy"), Some(&ra)), (&d.join("z.npy"), Some(&rz))]).unwrap_err().to_string();
    assert!(e.contains("z.npy") && e.contains("another run's result set"), "{e}");
    // an empty result and an input of the run are refused before anything is written
    let before: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()).collect();
    let mut set = ResultSet::new(record(4), Overwrite::Replace, &[d.join("data.h5")]);
    let e = set.npy(d.join("a.npy"), "a", &NpArray::from(Array2::<f64>::zeros((0, 512)))).unwrap_err().to_string();
    assert!(e.contains("a.npy") && e.contains("empty"), "{e}");
    let e = set.npy(d.join("data.h5"), "a", &NpArray::from(Array1::from(vec![1.0]))).unwrap_err().to_string();
    assert!(e.contains("an input of this run"), "{e}");
    drop(set);
    let after: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(before.len(), after.len());
    assert_eq!(std::fs::read(d.join("data.h5")).unwrap(), b"the data");
    // a file without a sidecar has no record (the published code's files)
    assert!(Record::of_file(d.join("c.npy")).unwrap().is_none());
}

/// Class 4: a set is complete before any member replaces an older file; a writer that
/// fails on its third member leaves the older set as it was.
#[test]
fn class4_a_set_that_fails_to_complete_replaces_nothing() {
    use gcnet_files::{Record, ResultSet};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut set = ResultSet::new(Record::new("gcnet test", "0"), Overwrite::Replace, &[]);
    for n in ["x", "y", "e"] {
        set.npy(d.join(format!("{n}.npy")), n, &NpArray::from(Array1::from(vec![1.0]))).unwrap();
    }
    set.commit().unwrap();
    let old: Vec<Vec<u8>> =
        ["x", "y", "e"].iter().map(|n| std::fs::read(d.join(format!("{n}.npy"))).unwrap()).collect();
    let mut set = ResultSet::new(Record::new("gcnet test", "0"), Overwrite::Replace, &[]);
    set.npy(d.join("x.npy"), "x", &NpArray::from(Array1::from(vec![2.0]))).unwrap();
    set.npy(d.join("y.npy"), "y", &NpArray::from(Array1::from(vec![2.0]))).unwrap();
    assert!(set.npy(d.join("e.npy"), "e", &NpArray::from(Array1::<f64>::zeros(0))).is_err());
    drop(set); // the run stops here
    let now: Vec<Vec<u8>> =
        ["x", "y", "e"].iter().map(|n| std::fs::read(d.join(format!("{n}.npy"))).unwrap()).collect();
    assert_eq!(old, now);
    assert!(Record::of_file(d.join("x.npy")).unwrap().is_some());
}
