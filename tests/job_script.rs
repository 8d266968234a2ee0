//! The published example job script runs unchanged with `gcnet`: docs/job_script_gcnet.sb
//! holds its five lines (train from scratch, resume with -scr, eval, getY, getY -aj) and
//! the scaled residual bias correction, with the epochs and the network scaled down
//! through its variables (epochs 0..4..8 every 2, a tiny network, the CPU). The script
//! runs directly with bash, and as a batch job on the local SLURM; training stopped there
//! by SIGTERM continues from the checkpoint its message names, exactly.

#[path = "../crates/gcnet/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use ndarray::{Array1, Array2};
use ndarray_npy::read_npy;

use common::slurm::{self, sbatch, sigterm, wait_for_job, wait_while_running};

/// The two tests take turns: two trainings at once on a 2-core machine slow each other
/// far more than twice (each kernel waits for its slowest thread).
static TRAININGS: Mutex<()> = Mutex::new(());

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn gcnet(dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_gcnet")).current_dir(dir).args(args).output().unwrap();
    assert!(out.status.success(), "gcnet {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
}

/// A small SR-2 set in `d`: 10000 training states (the default -nt of every line) and
/// 2000 validation states.
fn sr2(d: &Path) {
    gcnet(d, &["crystal", "--size", "4", "-o", "CrystData.h5"]);
    gcnet(d, &["latgas", "--crystal", "CrystData.h5", "-o", "sr2.h5", "-n", "12000", "--sr2", "--seed", "3"]);
}

/// The environment of the scaled-down script: gcnet first on PATH, the CPU, the sizes.
fn script_env(d: &Path) -> Vec<(&'static str, String)> {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_gcnet")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut env = vec![("PATH", path), ("GCNET_REPO", repo().display().to_string()), ("GCNET_DEVICE", "cpu".into())];
    for (k, v) in [("c", "1"), ("E1", "4"), ("E2", "8"), ("I", "2"), ("NL", "0"), ("NCH", "2")] {
        env.push((k, v.to_string()));
    }
    env.push(("DP", d.join("sr2.h5").display().to_string()));
    env.push(("CP", d.join("CrystData.h5").display().to_string()));
    env
}

fn script() -> String {
    repo().join("docs/job_script_gcnet.sb").display().to_string()
}

#[test]
fn the_published_job_script_runs_unchanged() {
    let _turn = TRAININGS.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sr2(d);
    let out = Command::new("bash").arg(script()).current_dir(d).envs(script_env(d)).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the job script failed:\n{log}");
    // line 2 resumed from line 1's ep_4.pt (-scr with a network at -sep)
    assert!(log.contains("resumed from ep_T_1_1_n0c2_all_0/ep_4.pt"), "{log}");

    let net = d.join("ep_T_1_1_n0c2_all_0");
    for k in [0, 2, 4, 6, 8] {
        assert!(net.join(format!("ep_{k}.pt")).is_file(), "ep_{k}.pt missing");
    }
    // name -> (shape, dtype) of every .npy the script writes
    let expected: Vec<(String, Vec<usize>)> = vec![
        ("tr_1_1_1_n0c2_all_0.npy".into(), vec![5]),
        ("val_1_1_1_n0c2_all_0.npy".into(), vec![5]),
        ("y_st1_1_1_1_n0c2_all_0_8.npy".into(), vec![12000, 3]),
        ("y_st2_1_1_1_n0c2_all_0_8.npy".into(), vec![12000, 3]),
        ("y_st1_1_1_1_n0c2_all_1_8.npy".into(), vec![12000, 3]),
        ("y_st2_1_1_1_n0c2_all_1_8.npy".into(), vec![12000, 3]),
        ("y_st1_exits_1_1_1_n0c2_all_1_8.npy".into(), vec![144000, 3]),
        ("y_st2_exits_1_1_1_n0c2_all_1_8.npy".into(), vec![144000, 3]),
    ];
    let python = repo().join(".venv/bin/python");
    let script = "import numpy as np, sys\nfor f in sys.argv[1:]:\n    a = np.load(f)\n    print(f, a.dtype, ','.join(map(str, a.shape)), int(np.isfinite(a).all()))";
    let names: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    let out = Command::new(&python).arg("-c").arg(script).args(&names).current_dir(d).output().unwrap();
    assert!(out.status.success(), "numpy could not load the outputs: {}", String::from_utf8_lossy(&out.stderr));
    let listing = String::from_utf8_lossy(&out.stdout);
    for ((name, shape), line) in expected.iter().zip(listing.lines()) {
        let shape: Vec<String> = shape.iter().map(|s| s.to_string()).collect();
        assert_eq!(line, format!("{name} float64 {} 1", shape.join(",")), "np.load of {name}");
    }
    // eval: one L per evaluated epoch; training lowered the training L
    let tr: Array1<f64> = read_npy(d.join("tr_1_1_1_n0c2_all_0.npy")).unwrap();
    assert!(tr[4] < tr[0], "L_train {tr}");
    // getY and getY -aj agree on y(s1), y(s2); the exit of s1 by the recorded jump is s2
    let y = |n: &str| -> Array2<f64> { read_npy(d.join(n)).unwrap() };
    assert_eq!(y("y_st1_1_1_1_n0c2_all_0_8.npy"), y("y_st1_1_1_1_n0c2_all_1_8.npy"));
    assert_eq!(y("y_st2_1_1_1_n0c2_all_0_8.npy"), y("y_st2_1_1_1_n0c2_all_1_8.npy"));
    let data = gcnet_data::Dataset::read(d.join("sr2.h5")).unwrap();
    let (y2, exits) = (y("y_st2_1_1_1_n0c2_all_0_8.npy"), y("y_st1_exits_1_1_1_n0c2_all_1_8.npy"));
    for n in (0..12000).step_by(97) {
        let j = data.jump_selects[n] as usize;
        for x in 0..3 {
            assert!((exits[[n * 12 + j, x]] - y2[[n, x]]).abs() < 1e-12, "state {n}");
        }
    }
    // the last line: the scaled residual bias correction from the getY -aj files
    assert!(d.join("srb_1.npz").is_file(), "no srb_1.npz");
}

/// docs/job_script_gcnet.sb as a SLURM batch job on the CPU (GCNET_DEVICE=cpu; `--gres=none`
/// and smaller --mem and --cpus-per-task in place of its GPU node's): every line runs.
/// Then its first line as a job stopped by SIGTERM mid-training (`scancel --signal=TERM
/// --full`, a preemption or a time limit): it stops at once, says which checkpoint to
/// continue from with which -sep, and the job submitted again with that -sep ends with the
/// same weights and Adam state as a training that was never stopped.
#[test]
fn the_job_script_runs_as_a_batch_job_and_stopped_training_continues_exactly() {
    slurm::conf();
    let _turn = TRAININGS.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sr2(d);
    let env = script_env(d);
    let batch = d.join("batch");
    std::fs::create_dir(&batch).unwrap();
    let job = sbatch(&batch, &env, &["--gres=none", "--mem=2G", "--cpus-per-task=2", "--output=job.out", &script()]);
    let state = wait_for_job(&job);
    let log = std::fs::read_to_string(batch.join("job.out")).unwrap_or_default();
    assert_eq!(state, "COMPLETED", "{log}");
    assert!(log.contains("on Cpu"), "{log}");
    assert!(batch.join("y_st1_exits_1_1_1_n0c2_all_1_8.npy").is_file() && batch.join("srb_1.npz").is_file(), "{log}");
    eprintln!("the job script as a batch job: {:.0} s", started.elapsed().as_secs_f64());

    // Training: the script's first line to epoch 8 with a fixed seed, straight and stopped.
    let train = |sep: &str| -> Vec<String> {
        let data = d.join("sr2.h5").display().to_string();
        let crystal = d.join("CrystData.h5").display().to_string();
        let mut v: Vec<String> = ["-DP", &data, "-cr", &crystal, "-a0", "1.0", "-m", "train", "-scr", "-nl", "0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(
            ["-nch", "2", "-ncL", "1", "-td", "1", "-tn", "1", "-sep", sep, "-eep", "8", "-i", "2", "-sp", "1"]
                .iter()
                .map(|s| s.to_string()),
        );
        v.extend(
            ["-vSp", "2", "-bs", "128", "-wm", "0.02", "-ws", "0.02", "--seed", "7"].iter().map(|s| s.to_string()),
        );
        v
    };
    let straight = d.join("straight");
    std::fs::create_dir(&straight).unwrap();
    let args = train("0");
    gcnet(&straight, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let stopped = d.join("stopped");
    std::fs::create_dir(&stopped).unwrap();
    let net = stopped.join("ep_T_1_1_n0c2_all_0");
    let line = |sep: &str| format!("exec {} {}", env!("CARGO_BIN_EXE_gcnet"), train(sep).join(" "));
    let job = sbatch(&stopped, &env, &["--cpus-per-task=2", "--output=job.out", "--wrap", &line("0")]);
    wait_while_running(&job, "ep_2.pt was written", || net.join("ep_2.pt").is_file());
    let signalled = Instant::now();
    sigterm(&job);
    let state = wait_for_job(&job);
    let log = std::fs::read_to_string(stopped.join("job.out")).unwrap_or_default();
    eprintln!("training ended {:.1} s after SIGTERM", signalled.elapsed().as_secs_f64());
    assert_eq!(state, "FAILED", "{log}");
    let hint = "continue from it with -sep ";
    let at = log.find(hint).unwrap_or_else(|| panic!("no checkpoint named in:\n{log}"));
    let sep: String = log[at + hint.len()..].chars().take_while(char::is_ascii_digit).collect();
    assert!(log.contains("stopped by SIGTERM in epoch") && log.contains(&format!("ep_{sep}.pt")), "{log}");
    assert!(!net.join("ep_8.pt").exists(), "the training was to be stopped before its end:\n{log}");
    for e in std::fs::read_dir(&net).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!name.starts_with(gcnet_files::TEMP_PREFIX), "the stopped training left {name}");
    }
    let job = sbatch(&stopped, &env, &["--cpus-per-task=2", "--output=job2.out", "--wrap", &line(&sep)]);
    let state = wait_for_job(&job);
    let log = std::fs::read_to_string(stopped.join("job2.out")).unwrap_or_default();
    assert_eq!(state, "COMPLETED", "{log}");
    assert!(log.contains(&format!("resumed from ep_T_1_1_n0c2_all_0/ep_{sep}.pt")), "{log}");
    for file in ["ep_8.pt", "optimizer_ep_8.pt"] {
        let (a, b) = (straight.join("ep_T_1_1_n0c2_all_0").join(file), net.join(file));
        assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(), "{file}: the continued training differs");
    }
    eprintln!("with the stopped training: {:.0} s", started.elapsed().as_secs_f64());
}
