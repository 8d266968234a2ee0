//! The committed crystal data files are exactly what `gcnet crystal` writes, and the
//! command refuses to overwrite without --force.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn gcnet(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gcnet")).args(args).output().expect("run gcnet")
}

#[test]
fn committed_crystal_files_regenerate_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for (file, args) in [
        ("CrystData.h5", ["--lattice", "fcc", "--cell", "primitive", "--size", "8"]),
        ("CrystData_ortho_5_cube.h5", ["--lattice", "fcc", "--cell", "cubic", "--size", "5"]),
    ] {
        let out = dir.path().join(file);
        let mut all: Vec<&str> = vec!["crystal"];
        all.extend(args);
        all.extend(["-o", out.to_str().unwrap()]);
        let run = gcnet(&all);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let committed = std::fs::read(repo().join("CrysDat_FCC").join(file)).unwrap();
        assert!(std::fs::read(&out).unwrap() == committed, "{file} differs from the committed file");
    }
}

#[test]
fn crystal_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.h5");
    std::fs::write(&out, "keep me").unwrap();
    let run = gcnet(&["crystal", "--size", "3", "-o", out.to_str().unwrap()]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("already exists"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    let run = gcnet(&["crystal", "--lattice", "bcc", "--size", "3", "-o", out.to_str().unwrap(), "--force"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let data = gcnet_crystal::CrystalData::read(&out).unwrap();
    assert_eq!((data.num_sites(), data.z()), (27, 8));
}

#[test]
fn crystal_files_load_with_the_published_layout() {
    let data = gcnet_crystal::CrystalData::read(repo().join("CrysDat_FCC/CrystData.h5")).unwrap();
    assert_eq!((data.num_sites(), data.z(), data.num_group_ops()), (512, 12, 48));
    let cube = gcnet_crystal::CrystalData::read(repo().join("CrysDat_FCC/CrystData_ortho_5_cube.h5")).unwrap();
    assert_eq!((cube.num_sites(), cube.z(), cube.num_group_ops()), (500, 12, 48));
}
