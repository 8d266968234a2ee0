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
