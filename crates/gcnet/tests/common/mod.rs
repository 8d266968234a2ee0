//! Helpers shared by the command-line tests: run the binary, and check that a refused
//! command touched nothing.
// Each test binary uses its own subset of these.
#![allow(dead_code)]

pub mod slurm;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

/// `gcnet ARGS` run in `dir`.
pub fn gcnet(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gcnet")).current_dir(dir).args(args).output().unwrap()
}

/// Standard output and standard error together.
pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Every file under `dir` with its size and modification time; the run lock of a network
/// directory (`.gcnet.lock`, written by every run that takes the directory) is not a
/// result and is left out.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if e.file_name() == gcnet_files::RunLock::FILE_NAME {
                continue;
            }
            if m.is_dir() {
                stack.push(e.path());
            }
            out.insert(e.path(), (m.len(), m.modified().unwrap()));
        }
    }
    out
}

/// A command that must fail with `needle` in its messages, creating and touching nothing.
pub fn fails(dir: &Path, args: &[&str], needle: &str) {
    let before = snapshot(dir);
    let out = gcnet(dir, args);
    assert!(!out.status.success(), "gcnet {args:?} should fail");
    let t = text(&out);
    assert!(t.contains(needle), "gcnet {args:?}: expected `{needle}` in:\n{t}");
    assert_eq!(before, snapshot(dir), "gcnet {args:?} touched files");
}
