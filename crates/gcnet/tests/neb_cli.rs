//! `gcnet neb`, `gcnet neb-merge` end to end on the project's LAMMPS (from
//! `bash scripts/setup.sh`): a 3x3x3 cubic FCC cell (107 atoms), 5 images and -ftol 0.05
//! (these tests are about files, resume and merge, not about converged barriers), so that
//! each NEB takes about a second on 2 cores. The runs that call LAMMPS take turns
//! (they share the cores); every other test is quick.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gcnet_alloy::{STEP_DATASETS, StepData, kmc};
use ndarray::Array2;

use common::slurm::{self, renew_dependency, requeue, sbatch, sigterm, wait_for_job, wait_while_running};
use common::{fails, gcnet, snapshot, text};

static LAMMPS_RUNS: Mutex<()> = Mutex::new(());

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn potential() -> String {
    root().join("potentials/CoNiCrFeMn_Choi2018").display().to_string()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = gcnet(dir, args);
    assert!(out.status.success(), "gcnet {args:?} failed:\n{}", text(&out));
    text(&out)
}

/// States of the 3x3x3 cell: random labels 1..5, the vacancy on site 0, stored as int8.
fn write_states(path: &Path, n: usize, seed: u64) {
    let mut x = seed;
    let a = Array2::from_shape_fn((n, 108), |(_, s)| {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        if s == 0 { 0i8 } else { 1 + ((x >> 33) % 5) as i8 }
    });
    ndarray_npy::write_npy(path, &a).unwrap();
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["crystal", "--lattice", "fcc", "--cell", "cubic", "--size", "3", "-o", "c3.h5"]);
    write_states(&dir.path().join("states.npy"), 2, 11);
    dir
}

/// The crystal file and the initial states that [`setup`] wrote into `d`, as arguments.
fn inputs(d: &Path) -> (String, String) {
    (d.join("c3.h5").display().to_string(), d.join("states.npy").display().to_string())
}

/// `gcnet neb` on the test cell with extra arguments.
fn neb_args<'a>(pot: &'a str, crystal: &'a str, states: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v =
        vec!["neb", "-cr", crystal, "-pp", pot, "-if", states, "-T", "1000", "-u", "3", "-ni", "5", "-ftol", "0.05"];
    v.extend_from_slice(extra);
    v
}

fn mkdir(d: &Path) -> PathBuf {
    std::fs::create_dir_all(d).unwrap();
    d.to_path_buf()
}

/// Starts `gcnet neb`, waits until `ready` holds for `dir`, then kills gcnet with SIGKILL
/// (the LAMMPS processes it started finish their current NEB on their own, in a job
/// directory no later run uses).
fn kill_when(dir: &Path, args: &[&str], ready: impl Fn(&Path) -> bool, what: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gcnet"))
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(600);
    while !ready(dir) {
        assert!(child.try_wait().unwrap().is_none(), "gcnet ended before it could be killed {what}");
        assert!(Instant::now() < until, "timed out waiting to kill {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "gcnet was to be killed {what}: {status}");
    eprintln!("killed {what}");
}

fn read_step(path: &Path) -> StepData {
    StepData::read(path).unwrap().0
}

type Datasets = BTreeMap<String, (Vec<usize>, String, Vec<f64>)>;

/// Every dataset of an HDF5 file as (shape, type, values as f64).
fn datasets(path: &Path) -> Datasets {
    let f = hdf5::File::open(path).unwrap();
    f.datasets()
        .unwrap()
        .into_iter()
        .map(|d| {
            let name = d.name().trim_start_matches('/').to_string();
            let ty = format!("{}", d.dtype().unwrap().to_descriptor().unwrap());
            let values: Vec<f64> = d.read_raw::<f64>().unwrap();
            (name, (d.shape(), ty, values))
        })
        .collect()
}

/// Every dataset of `b` equals `a`'s, name, shape, type and values, bit for bit.
fn assert_same_datasets(a: &Datasets, b: &Datasets, under: &str) {
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, (shape, ty, values)) in a {
        let (shape2, ty2, values2) = &b[name];
        assert!(shape == shape2 && ty == ty2 && same_values(values, values2), "{name} differs under {under}");
    }
}

fn same_values(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

#[test]
fn runs_resume_after_kills_merge_check_and_train() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let dir = setup();
    let d = dir.path();
    let pot = potential();
    let (cr, st) = inputs(d);

    // Shards A (state 0) and B (state 1), uninterrupted.
    let a = mkdir(&d.join("a"));
    let b = mkdir(&d.join("b"));
    ok(&a, &neb_args(&pot, &cr, &st, &["-ns", "2", "-idx", "0", "-bs", "1", "--dataset", "a.h5", "-dmp"]));
    eprintln!("shard A (24 NEBs): {:.0} s", started.elapsed().as_secs_f64());
    ok(&b, &neb_args(&pot, &cr, &st, &["-ns", "2", "-idx", "1", "-bs", "1", "--dataset", "b.h5"]));
    eprintln!("shard B (24 NEBs): {:.0} s", started.elapsed().as_secs_f64());
    let dump = std::fs::read_to_string(a.join("ArgFiles")).unwrap();
    assert!(
        dump.contains("Temp:\t1000\n") && dump.contains("NImages:\t5\n") && dump.contains("batchSize:\t1\n"),
        "{dump}"
    );

    // The step files: published datasets, shapes and dtypes.
    let sets = datasets(&a.join("data_1_0.h5"));
    for name in STEP_DATASETS {
        assert!(sets.contains_key(name), "data_1_0.h5 lacks {name}");
    }
    let want: [(&str, &[usize], &str); 11] = [
        ("FinalStates", &[1, 108], "int8"),
        ("SpecDisps", &[1, 6, 3], "float64"),
        ("times", &[1], "float64"),
        ("AllJumpRates", &[1, 12], "float64"),
        ("AllJumpBarriers", &[1, 12], "float64"),
        ("AllJumpImageEnergies", &[1, 5, 12], "float64"),
        ("AllJumpImageRDs", &[1, 5, 12], "float64"),
        ("AllJumpMaxForceComponent", &[1, 12], "float64"),
        ("AllJumpMaxIterations", &[1, 12], "int64"),
        ("JumpSelects", &[1], "int8"),
        ("TestRandNums", &[1], "float64"),
    ];
    for (name, shape, ty) in want {
        assert_eq!((sets[name].0.as_slice(), sets[name].1.as_str()), (shape, ty), "{name}");
    }
    // The random numbers reproduce the jumps; the displacements are a0 dx of that jump.
    for step in [1, 2] {
        for (dir, idx) in [(&a, 0), (&b, 1)] {
            let s = read_step(&dir.join(format!("data_{step}_{idx}.h5")));
            let rates: Vec<f64> = s.rates.row(0).to_vec();
            assert_eq!(kmc::select_jump(&rates, s.rand_nums[0]), Some(s.jump_selects[0] as usize));
            assert!((s.times[0] * rates.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            for (j, &bar) in s.barriers.row(0).iter().enumerate() {
                assert!((rates[j] - (-bar / (kmc::KB_EV_PER_K * 1000.0)).exp()).abs() <= 1e-15 * rates[j].max(1e-300));
            }
            let v: Vec<f64> = (0..3).map(|c| s.spec_disps[[0, 0, c]]).collect();
            assert!((v.iter().map(|x| x * x).sum::<f64>().sqrt() - 3.595 / 2f64.sqrt()).abs() < 1e-12);
        }
    }

    // Run K (both states, two chunks per step) is killed inside step 1 after its first
    // chunk, then right after step 1's file appears, and resumed each time.
    let k = mkdir(&d.join("k"));
    let k_args = neb_args(&pot, &cr, &st, &["-ns", "2", "-bs", "2", "-cs", "1", "--dataset", "k.h5"]);
    let chunk_done = |dir: &Path| dir.join(".gcnet-neb-0/chunk_1_0_1.h5").exists();
    let next_chunk_started = |dir: &Path| {
        std::fs::read_dir(dir.join(".gcnet-neb-0"))
            .is_ok_and(|d| d.flatten().any(|e| e.file_name().to_string_lossy().contains("_n1_j")))
    };
    kill_when(&k, &k_args, |dir| chunk_done(dir) && next_chunk_started(dir), "inside step 1");
    assert!(!k.join("data_1_0.h5").exists());
    kill_when(&k, &k_args, |dir| dir.join("data_1_0.h5").exists(), "between steps 1 and 2");
    let out = ok(&k, &k_args);
    assert!(out.contains("continuing after step 1"), "{out}");
    eprintln!("run K (killed twice, resumed): {:.0} s", started.elapsed().as_secs_f64());
    // No temporary or half-written file is left, and the scratch directory is gone.
    let names: Vec<String> =
        std::fs::read_dir(&k).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["data_1_0.h5", "data_2_0.h5", "k.h5"], "{names:?}");
    // K's rows are shards A's and B's rows: same numbers, however the run was cut.
    for step in [1, 2] {
        let kk = read_step(&k.join(format!("data_{step}_0.h5")));
        assert_eq!(kk.rows(0, 1), read_step(&a.join(format!("data_{step}_0.h5"))), "step {step}, state 0");
        assert_eq!(kk.rows(1, 2), read_step(&b.join(format!("data_{step}_1.h5"))), "step {step}, state 1");
    }
    // A finished run does nothing more.
    assert!(
        ok(&k, &k_args.iter().copied().filter(|x| *x != "--dataset" && *x != "k.h5").collect::<Vec<_>>())
            .contains("already")
    );

    // Merge: the shards' data sets make the same data set as run K; overlapping shards are
    // refused.
    ok(d, &["neb-merge", "b/b.h5", "a/a.h5", "-o", "merged.h5"]);
    let (merged, whole) = (datasets(&d.join("merged.h5")), datasets(&k.join("k.h5")));
    assert_eq!(merged.keys().collect::<Vec<_>>(), whole.keys().collect::<Vec<_>>());
    for (name, (shape, ty, values)) in &whole {
        let m = &merged[name];
        assert!(m.0 == *shape && m.1 == *ty && same_values(&m.2, values), "merged {name} differs from run K's");
    }
    let train_names =
        ["InitStates", "FinStates", "SpecDisps", "rates", "AllJumpRates_Init", "AllJumpRates_Fin", "JumpSelects"];
    for name in train_names.iter().chain(&["RandNums", "times", "AllJumpBarriers_Init", "AllJumpBarriers_Fin"]) {
        assert!(whole.contains_key(*name), "{name}");
    }
    for name in ["NEB_ImageEnergies_Init", "NEB_ImageEnergies_Fin"] {
        assert_eq!(whole[name].0, [2, 5, 12]);
    }
    for name in ["JumpSelects_step2", "RandNums_step2", "SpecDisps_step2", "rates_step2", "times_step2"] {
        assert!(whole.contains_key(name), "{name}");
    }
    assert_eq!((whole["InitStates"].1.as_str(), whole["FinStates"].1.as_str()), ("int8", "int8"));
    fails(d, &["neb-merge", "a/a.h5", "merged.h5", "-o", "again.h5"], "overlap");
    fails(d, &["neb-merge", "a/a.h5", "b/b.h5", "-o", "merged.h5"], "already exists");

    // gcnet check accepts it; GCNet trains and evaluates on it.
    let out = ok(d, &["check", "merged.h5", "--crystal", "c3.h5"]);
    assert!(out.contains("all checks passed"), "{out}");
    let net = [
        "-DP",
        "merged.h5",
        "-cr",
        "c3.h5",
        "-a0",
        "3.595",
        "-vSp",
        "0",
        "-sp",
        "0",
        "-nt",
        "1",
        "-nl",
        "1",
        "-nch",
        "2",
        "-td",
        "1000",
        "-tn",
        "1000",
    ];
    ok(d, &[&net[..], &["-m", "train", "-scr", "-sep", "0", "-eep", "2", "-bs", "1"]].concat());
    ok(d, &[&net[..], &["-m", "eval", "-sep", "0", "-eep", "2"]].concat());
    assert!(d.join("tr_vac_1000_1000_n1c2_all_0.npy").exists() && d.join("val_vac_1000_1000_n1c2_all_0.npy").exists());

    // A rerun with other settings refuses to continue, touching nothing.
    fails(&a, &neb_args(&pot, &cr, &st, &["-ns", "3", "-idx", "0", "-bs", "1", "-th", "0.5"]), "threshold: 1.0 vs 0.5");

    // Off-lattice: a threshold between the end-state displacements of state 0's jumps.
    let s1 = read_step(&a.join("data_1_0.h5"));
    let mut disps: Vec<f64> = s1.end_state_disps.row(0).to_vec();
    disps.sort_by(f64::total_cmp);
    let th = 0.5 * (disps[5] + disps[6]);
    let off = mkdir(&d.join("off"));
    let th_s = format!("{th}");
    ok(&off, &neb_args(&pot, &cr, &st, &["-ns", "1", "-idx", "0", "-bs", "1", "-th", &th_s, "-wa"]));
    let o = read_step(&off.join("data_1_0.h5"));
    let mut closed = 0;
    for j in 0..12 {
        if s1.end_state_disps[[0, j]] > th {
            closed += 1;
            assert_eq!((o.rates[[0, j]], o.barriers[[0, j]]), (0.0, f64::INFINITY), "jump {j}");
            assert_ne!(o.jump_selects[0] as usize, j, "an off-lattice jump was taken");
        } else {
            assert_eq!((o.rates[[0, j]], o.barriers[[0, j]]), (s1.rates[[0, j]], s1.barriers[[0, j]]), "jump {j}");
        }
    }
    assert_eq!(closed, 6);
    assert_eq!(kmc::select_jump(&o.rates.row(0).to_vec(), o.rand_nums[0]), Some(o.jump_selects[0] as usize));
    assert!(off.join("NEB_files_0/step_1/state_0/jump_11/neb.log").exists(), "-wa keeps every NEB's files");
    eprintln!("all runs: {:.0} s", started.elapsed().as_secs_f64());
}

#[test]
fn bad_input_is_refused_naming_file_and_state() {
    let dir = setup();
    let d = dir.path();
    let pot = potential();
    let empty = mkdir(&d.join("empty_pot"));
    let empty_s = empty.display().to_string();
    let npy = |name: &str, f: &dyn Fn(&mut Array2<i64>)| {
        let mut a = Array2::<i64>::from_elem((3, 108), 2);
        a.column_mut(0).fill(0);
        f(&mut a);
        ndarray_npy::write_npy(d.join(name), &a).unwrap();
        name.to_string()
    };
    let args = |states: &str, pot: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> =
            ["neb", "-cr", "c3.h5", "-pp", pot, "-if", states, "-T", "1000", "-u", "3", "-ni", "5"]
                .map(String::from)
                .to_vec();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let check = |v: Vec<String>, needle: &str| fails(d, &v.iter().map(String::as_str).collect::<Vec<_>>(), needle);
    check(args("states.npy", &empty_s, &[]), "library.meam: missing");
    check(args("states.npy", &pot, &["-dmp", "-dpf", "states.npy"]), "an input of this run; it is never written over");
    let moved = npy("moved.npy", &|a| {
        a[[1, 0]] = 3;
        a[[1, 17]] = 0;
    });
    check(args(&moved, &pot, &[]), "moved.npy: state 1: its vacancy is on site 17");
    let two = npy("two.npy", &|a| a[[2, 40]] = 0);
    check(args(&two, &pot, &[]), "two.npy: state 2: holds 2 vacancies (label 0 on sites 0, 40)");
    let label = npy("label.npy", &|a| a[[0, 5]] = 6);
    check(args(&label, &pot, &[]), "label.npy: state 0: label 6 on site 5 lies outside 0..5");
    let mut short = Array2::<i64>::from_elem((2, 107), 1);
    short.column_mut(0).fill(0);
    ndarray_npy::write_npy(d.join("short.npy"), &short).unwrap();
    check(args("short.npy", &pot, &[]), "short.npy: has 107 sites per state, the crystal file 108");
    check(args("states.npy", &pot, &["-ni", "4"]), "odd");
    check(args("states.npy", &pot, &["-u", "5"]), "not 5x5x5 cells");
    check(args("states.npy", &pot, &["-ns", "1", "--dataset", "x.h5"]), "--dataset needs -ns 2");
    check(args("states.npy", &pot, &["--lmp", "/nonexistent/lmp"]), "bash scripts/setup.sh");
    check(args("states.npy", &pot, &["-idx", "2", "-bs", "1"]), "holds 2 states; the first state asked for is 2");
}

#[test]
fn lammps_failing_on_a_state_is_reported_and_nothing_is_touched() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let dir = setup();
    let d = dir.path();
    // An lmp that answers `-h` (and the serial end-state relaxations) as the real one, but
    // fails every NEB; the project's mpiexec is found on PATH. The error goes to the log as
    // well, as LAMMPS writes it: MPICH's launcher can die of SIGPIPE before it forwards a
    // rank's output when every rank exits at once (seen once under load).
    let fake = mkdir(&d.join("fake"));
    let venv = root().join(".venv/bin");
    std::fs::write(
        fake.join("lmp"),
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = -p ] && {{ echo 'ERROR: made to fail by the test (fake.cpp:1)' | tee -a neb.log; exit 1; }}; done\nexec {} \"$@\"\n",
            venv.join("lmp").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(fake.join("lmp"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = mkdir(&d.join("run"));
    std::fs::write(run.join("data_1_3.h5"), b"another shard's step file").unwrap();
    std::fs::write(run.join("notes.txt"), b"an unrelated file").unwrap();
    let before = snapshot(&run);
    let (cr, st, pot) =
        (d.join("c3.h5").display().to_string(), d.join("states.npy").display().to_string(), potential());
    let lmp = fake.join("lmp").display().to_string();
    let path = format!("{}:{}", venv.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(env!("CARGO_BIN_EXE_gcnet"))
        .current_dir(&run)
        .args(neb_args(&pot, &cr, &st, &["-ns", "1", "-bs", "1", "--lmp", &lmp]))
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("LAMMPS failed on state 0 (vacancy on site 0), jump"), "{t}");
    assert!(t.contains("(NEB)") && t.contains("ERROR: made to fail by the test"), "{t}");
    assert!(t.contains("files kept in"), "{t}");
    let after = snapshot(&run);
    for (path, meta) in &before {
        assert_eq!(after.get(path), Some(meta), "{} was touched", path.display());
    }
    assert!(!run.join("data_1_0.h5").exists());
}

/// A rerun continues only from step files whose FinalStates are the states before the
/// step with the recorded jump made: one atom's element changed in step 1's file is
/// refused (naming the file, the state and the site) before anything is touched.
#[test]
fn class2_neb_refuses_a_step_file_whose_final_states_were_changed() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let dir = setup();
    let d = dir.path();
    let pot = potential();
    let (cr, st) = inputs(d);
    let run = mkdir(&d.join("run"));
    ok(&run, &neb_args(&pot, &cr, &st, &["-ns", "1", "-idx", "1", "-bs", "1", "-ni", "3"]));
    let path = run.join("data_1_1.h5");
    let (site, label) = {
        let f = hdf5::File::open_rw(&path).unwrap();
        let ds = f.dataset("FinalStates").unwrap();
        let mut fs: Array2<i8> = ds.read_2d().unwrap();
        let site = (1..108).find(|&s| fs[[0, s]] > 0).unwrap();
        let label = fs[[0, site]] % 5 + 1;
        fs[[0, site]] = label;
        ds.write(&fs).unwrap();
        (site, label)
    };
    let more = neb_args(&pot, &cr, &st, &["-ns", "2", "-idx", "1", "-bs", "1", "-ni", "3"]);
    fails(&run, &more, &format!("data_1_1.h5: state 1: step 1: FinalStates holds label {label} on site {site}"));
}

/// One run per shard: while another process holds the shard's lock, `gcnet neb` (with
/// --force and --dataset too) is refused, the holder named, nothing touched.
#[test]
fn class3_neb_refuses_a_shard_another_run_holds() {
    let dir = setup();
    let d = dir.path();
    let pot = potential();
    let (cr, st) = inputs(d);
    let run = mkdir(&d.join("run"));
    let scratch = mkdir(&run.join(".gcnet-neb-0"));
    let lock = gcnet_files::RunLock::acquire(&scratch, "a test").unwrap();
    let holder = format!("process {} (a test)", std::process::id());
    for extra in [&[][..], &["--force", "--dataset", "x.h5", "-dmp"][..]] {
        let args = neb_args(&pot, &cr, &st, &[&["-ns", "2", "-idx", "0", "-bs", "1"], extra].concat());
        let before = snapshot(&run);
        let out = gcnet(&run, &args);
        let t = text(&out);
        assert!(!out.status.success() && t.contains("in use by another run") && t.contains(&holder), "{t}");
        assert_eq!(before, snapshot(&run), "gcnet {args:?} touched files");
    }
    drop(lock);
}

/// (pid, parent pid, process group, start time, command name) of every process.
fn processes() -> Vec<(u32, u32, u32, u64, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
        // The name is in parentheses and may hold spaces; the fields after it are plain.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let name = stat[open + 1..close].to_string();
        let f: Vec<&str> = stat[close + 2..].split(' ').collect();
        if f[0] == "Z" {
            continue; // ended, not yet reaped
        }
        out.push((pid, f[1].parse().unwrap(), f[2].parse().unwrap(), f[19].parse().unwrap(), name));
    }
    out
}

/// SIGTERM to `gcnet neb` during its first NEB: it forwards the signal, waits for mpiexec
/// and every lmp it started, exits non-zero saying where it stopped and how to continue,
/// and leaves no half-written file; the rerun continues and finishes.
#[test]
fn sigterm_stops_the_lammps_processes_of_gcnet_neb() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let dir = setup();
    let d = dir.path();
    let pot = potential();
    let (cr, st) = inputs(d);
    let run = mkdir(&d.join("run"));
    let args = neb_args(&pot, &cr, &st, &["-ns", "1", "-idx", "0", "-bs", "1", "-ni", "3", "--parallel-nebs", "1"]);
    let child = Command::new(env!("CARGO_BIN_EXE_gcnet"))
        .current_dir(&run)
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let gcnet_pid = child.id();
    let descendants = |all: &[(u32, u32, u32, u64, String)], of: u32| {
        let mut ours = vec![of];
        let mut found = Vec::new();
        while let Some(p) = ours.pop() {
            for q in all.iter().filter(|q| q.1 == p) {
                ours.push(q.0);
                found.push(q.clone());
            }
        }
        found
    };
    let until = Instant::now() + Duration::from_secs(300);
    // A NEB runs: mpiexec and its three lmp ranks.
    let running = loop {
        let all = processes();
        let now = descendants(&all, gcnet_pid);
        if let Some(m) = now.iter().find(|p| p.4.starts_with("mpiexec"))
            && descendants(&all, m.0).iter().filter(|p| p.4 == "lmp").count() >= 3
        {
            break now;
        }
        assert!(Instant::now() < until, "no NEB started");
        std::thread::sleep(Duration::from_millis(20));
    };
    let own_group = processes().into_iter().find(|p| p.0 == std::process::id()).unwrap().2;
    let status = Command::new("kill").args(["-TERM", &gcnet_pid.to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    // Nothing gcnet started runs on: not the processes seen, not any of their groups.
    let groups: Vec<u32> = running.iter().map(|p| p.2).filter(|&g| g != own_group).collect();
    let left: Vec<_> = processes()
        .into_iter()
        .filter(|p| running.iter().any(|r| r.0 == p.0 && r.3 == p.3) || groups.contains(&p.2))
        .collect();
    assert!(left.is_empty(), "still running after gcnet ended: {left:?} (gcnet had {running:?})");
    let t = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("stopped by SIGTERM in step 1 of 1") && t.contains("Rerun the same command"), "{t}");
    // No step file, no temporary file anywhere.
    assert!(!run.join("data_1_0.h5").exists());
    for path in snapshot(&run).keys() {
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(!name.starts_with(gcnet_files::TEMP_PREFIX), "{} was left", path.display());
    }
    ok(&run, &args);
    assert!(run.join("data_1_0.h5").exists() && !run.join(".gcnet-neb-0").exists());
}

/// Class 5: temperatures no physics allows (at -T inf every rate was 1) and negative values
/// (parsed, not taken for options) are refused by our checks before anything runs.
#[test]
fn class5_neb_refuses_impossible_temperatures_and_negative_values() {
    let dir = setup();
    let d = dir.path();
    let pot = potential();
    for (extra, needle) in [
        (&["-T", "inf"][..], "the temperature must be finite and above 0 K, got inf"),
        (&["-T", "-5"], "the temperature must be finite and above 0 K, got -5"),
        (&["-T", "NaN"], "the temperature must be finite and above 0 K, got NaN"),
        (&["-th", "-1"], "the displacement threshold must be a finite distance above 0 Å, got -1"),
        (&["-ftol", "-1"], "the force tolerance and time step must be positive"),
        (&["-ns", "-1"], "-1 is negative: this option takes a whole number >= 0"),
    ] {
        fails(d, &neb_args(&pot, "c3.h5", "states.npy", extra), needle);
    }
}

#[test]
fn srun_outside_an_allocation_is_refused_naming_the_alternative() {
    let dir = setup();
    let d = dir.path();
    let pot = potential();
    let (cr, st) = inputs(d);
    let out = Command::new(env!("CARGO_BIN_EXE_gcnet"))
        .current_dir(d)
        .args(neb_args(&pot, &cr, &st, &["-ns", "1", "-bs", "1", "--launcher", "srun"]))
        .env_remove("SLURM_JOB_ID")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("SLURM_JOB_ID is not set") && t.contains("--launcher mpiexec"), "{t}");
    assert!(!d.join("data_1_0.h5").exists());
}

/// On a real SLURM (scripts/slurm_local.sh, started by scripts/test.sh, which exports
/// SLURM_CONF): inside `sbatch -n 3`, `gcnet neb -ni 3 --launcher srun` runs every NEB as
/// one 3-rank job step (`srun --mpi=pmi2`; without it srun starts three 1-rank LAMMPS runs
/// and LAMMPS stops with "Processor partitions do not match"), and the step file equals the
/// one of the same shard run with mpiexec outside SLURM.
#[test]
fn srun_launcher_runs_each_neb_as_one_multi_rank_job_step() {
    slurm::conf();
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let dir = setup();
    let d = dir.path();
    let pot = potential();
    let (cr, st) = inputs(d);
    let args = neb_args(&pot, &cr, &st, &["-ni", "3", "-ns", "1", "-bs", "1"]);
    let direct = mkdir(&d.join("direct"));
    ok(&direct, &args);
    let slurm = mkdir(&d.join("slurm"));
    let mut line = vec![env!("CARGO_BIN_EXE_gcnet").to_string()];
    line.extend(args.iter().map(|a| a.to_string()));
    line.extend(["--launcher".to_string(), "srun".to_string()]);
    let job =
        sbatch(&slurm, &[], &["-n", "3", "-o", "job.log", "--job-name", "gcnet-neb-test", "--wrap", &line.join(" ")]);
    let state = wait_for_job(&job);
    let log = std::fs::read_to_string(slurm.join("job.log")).unwrap_or_default();
    assert_eq!(state, "COMPLETED", "the sbatch job failed:\n{log}");
    let (a, b) = (datasets(&direct.join("data_1_0.h5")), datasets(&slurm.join("data_1_0.h5")));
    assert_same_datasets(&a, &b, "srun");
}

/// docs/slurm_neb_array.sh, unchanged, as a two-task array on the local SLURM (a 3x3x3
/// cell, 3 images, one state per task, two steps), then a dependent job that merges and
/// checks, as its comment says. Each task is stopped in step 2 as a cluster stops jobs:
/// task 0 by SIGTERM (`scancel --signal=TERM --full`, as at a time limit), then requeued,
/// task 1 by `scontrol requeue` while it runs (a preemption); then the merge job's
/// dependency is renewed (the script's comment says why). Each stops promptly with a
/// message saying where, leaves no half-written file, and its requeued run continues
/// after step 1; the merged data set equals the merge of the same shards run directly,
/// without SLURM and without stops.
#[test]
fn slurm_neb_array_script_survives_sigterm_and_requeue_and_merges_like_direct_shards() {
    slurm::conf();
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let dir = setup();
    let d = dir.path();
    let pot = potential();
    let (cr, st) = inputs(d);
    let gcnet_exe = env!("CARGO_BIN_EXE_gcnet");

    // The same shards directly (mpiexec), merged.
    let direct = mkdir(&d.join("direct"));
    for idx in ["0", "1"] {
        let extra = ["-ni", "3", "-ns", "2", "-idx", idx, "-bs", "1", "-cs", "1", "--seed", "0"];
        let dataset = format!("dataset_{idx}.h5");
        let mut args = neb_args(&pot, &cr, &st, &extra);
        args.extend(["--dataset", &dataset]);
        ok(&direct, &args);
    }
    ok(&direct, &["neb-merge", "dataset_0.h5", "dataset_1.h5", "-cr", &cr, "-o", "merged.h5"]);
    eprintln!("direct shards and merge: {:.0} s", started.elapsed().as_secs_f64());

    // The script as a job array, and the merge as the dependent job of its comment.
    let run = d.join("run");
    let env = [
        ("GCNET_ROOT", root().display().to_string()),
        ("GCNET", gcnet_exe.to_string()),
        ("RUN_DIR", run.display().to_string()),
        ("STATES", st.clone()),
        ("CRYSTAL", cr.clone()),
        ("POTENTIAL", pot.clone()),
        ("T", "1000".into()),
        ("UNITS", "3".into()),
        ("IMAGES", "3".into()),
        ("FTOL", "0.05".into()),
        ("BS", "1".into()),
        ("CS", "1".into()),
        ("MPC", "100".into()),
        ("PARALLEL", "1".into()),
    ];
    let script = root().join("docs/slurm_neb_array.sh").display().to_string();
    // --open-mode=append: a requeued task's log keeps what its stopped run said.
    let array = sbatch(
        d,
        &env,
        &["--array=0-1", "--ntasks=3", "--mem-per-cpu=100M", "--output=neb_%A_%a.out", "--open-mode=append", &script],
    );
    let merge = format!(
        "cd {} && {gcnet_exe} neb-merge dataset_*.h5 -cr {cr} -o ../merged.h5 && {gcnet_exe} check ../merged.h5 --crystal {cr}",
        run.display()
    );
    let dependency = format!("--dependency=afterok:{array}");
    let merge_job = sbatch(d, &env, &[&dependency, "--output=merge.out", "--wrap", &merge]);
    let log = |name: &str| std::fs::read_to_string(d.join(name)).unwrap_or_default();
    let task_log = |t: usize| log(&format!("neb_{array}_{t}.out"));
    let no_temporary_files = |what: &str| {
        for e in std::fs::read_dir(&run).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            assert!(!name.starts_with(gcnet_files::TEMP_PREFIX), "{what} left {name}");
        }
    };

    // Task 0: SIGTERM in step 2 (its step 1 file exists), then requeued.
    let task0 = format!("{array}_0");
    wait_while_running(&task0, "step 1 of task 0 was written", || run.join("data_1_0.h5").is_file());
    let signalled = Instant::now();
    sigterm(&task0);
    let state = wait_for_job(&task0);
    let stopped_in = signalled.elapsed().as_secs_f64();
    let t0 = task_log(0);
    assert_eq!(state, "FAILED", "task 0 was stopped:\n{t0}");
    assert!(t0.contains("stopped by SIGTERM in step 2 of 2") && t0.contains("Rerun the same command"), "{t0}");
    assert!(!run.join("data_2_0.h5").exists() && !run.join("dataset_0.h5").exists(), "{t0}");
    no_temporary_files("task 0 stopped by SIGTERM");
    eprintln!("task 0 ended {stopped_in:.1} s after SIGTERM");
    requeue(&task0);

    // Task 1: requeued while it runs step 2 (SLURM stops it with SIGTERM, then starts it
    // again).
    let task1 = format!("{array}_1");
    wait_while_running(&task1, "step 1 of task 1 was written", || run.join("data_1_1.h5").is_file());
    requeue(&task1);

    let tasks = wait_for_job(&array);
    let (t0, t1) = (task_log(0), task_log(1));
    assert_eq!(tasks, "COMPLETED,COMPLETED", "{t0}\n{t1}");
    for (t, text) in [(0, &t0), (1, &t1)] {
        assert!(text.contains("stopped by SIGTERM in step 2 of 2"), "task {t}:\n{text}");
        assert!(text.contains("continuing after step 1"), "task {t} did not continue after step 1:\n{text}");
    }
    no_temporary_files("the requeued tasks");
    // The stopped tasks left the merge job waiting for ever; as the script's comment says.
    let reason = slurm::reason(&merge_job);
    assert!(reason.contains("Dependency"), "the merge job is not waiting for its dependency: {reason}");
    renew_dependency(&merge_job, &format!("afterok:{task0}:{task1}"));
    wait_for_job(&merge_job);
    let merged = d.join("merged.h5");
    assert!(merged.is_file(), "no merged data set; merge job:\n{}\ntasks:\n{t0}\n{t1}", log("merge.out"));
    assert!(log("merge.out").contains("all checks passed"), "{}", log("merge.out"));
    assert!(t0.contains("3 ranks"), "{t0}");
    let (a, b) = (datasets(&direct.join("merged.h5")), datasets(&merged));
    assert_same_datasets(&a, &b, "SLURM with a SIGTERM and a requeue");
    eprintln!("with the SLURM array, stopped and requeued: {:.0} s", started.elapsed().as_secs_f64());
}
