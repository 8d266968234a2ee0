//! The LAMMPS engine on a real LAMMPS (the project's, from `bash scripts/setup.sh`), on a
//! 3x3x3 cubic FCC cell (107 atoms) with 5 images, so each NEB takes about a second.
//! The tests share the machine's cores, so they run one at a time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use gcnet_alloy::{
    CellSpec, Engine, Geometry, JobDirs, Lammps, LaunchOptions, Launcher, Model, NebSettings, Potential, StateTask,
    available_cores, compute_jumps,
};
use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};

static LAMMPS_RUNS: Mutex<()> = Mutex::new(());

fn potential_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../potentials/CoNiCrFeMn_Choi2018")
}

fn model(images: usize) -> Model {
    let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Cubic, 3).unwrap());
    Model {
        geometry: Geometry::new(&crystal, 3.595, CellSpec { units: 3, primitive: false }).unwrap(),
        potential: Potential::new(potential_dir()).unwrap(),
        elements: ["Co", "Ni", "Cr", "Fe", "Mn"].map(String::from).to_vec(),
        neb: NebSettings { images, ..NebSettings::default() },
    }
}

fn engine(images: usize) -> Engine {
    let lammps = Lammps::locate(None).expect("the project's LAMMPS (bash scripts/setup.sh)");
    let launch = LaunchOptions { launcher: Launcher::Mpiexec, mem_per_cpu_mb: None, throttle: false };
    let cores = available_cores();
    Engine::new(lammps, launch, Engine::default_parallel(cores, images), images, cores)
}

/// A random-looking but fixed Cantor state (labels 1..5), vacancy on site 0.
fn cantor_state(sites: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..sites)
        .map(|s| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if s == 0 { 0 } else { 1 + ((x >> 33) % 5) as u8 }
        })
        .collect()
}

#[test]
fn pure_nickel_jumps_are_all_equal_and_reversible() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let model = model(5);
    let engine = engine(5);
    let dir = tempfile::tempdir().unwrap();
    let mut labels = vec![2u8; model.geometry.num_sites()];
    labels[0] = 0;
    let dirs = JobDirs { scratch: dir.path().to_path_buf(), keep: None, tag: "ni".into() };
    let started = std::time::Instant::now();
    let jumps =
        compute_jumps(&engine, &model, &[StateTask { index: 0, labels: &labels, vacancy: 0 }], &dirs, &|_| {}).unwrap();
    eprintln!("pure Ni: 12 NEBs and 12 end-state relaxations in {:.1} s", started.elapsed().as_secs_f64());
    let b: Vec<f64> = jumps[0].nebs.iter().map(|r| r.barrier).collect();
    eprintln!("pure Ni barriers (eV): {b:?}");
    for (j, r) in jumps[0].nebs.iter().enumerate() {
        assert!((r.barrier - b[0]).abs() < 1e-5, "jump {j}: {} vs {}", r.barrier, b[0]);
        assert!(r.barrier > 0.5 && r.barrier < 2.0, "a vacancy barrier of Ni: {}", r.barrier);
        assert!(r.converged);
        assert_eq!(r.image_energies.len(), 5);
        let e = &jumps[0].ends[j];
        assert!(e.max_displacement > 0.0 && e.max_displacement < 0.2, "end state {j}: {e:?}");
    }
    // The jump back from the state after jump 3.
    let g = &model.geometry;
    let t = g.neighbour(0, 3);
    let back = (0..g.z()).find(|&k| g.neighbour(t, k) == 0).unwrap();
    let mut after = labels.clone();
    after.swap(0, t);
    let reverse =
        compute_jumps(&engine, &model, &[StateTask { index: 1, labels: &after, vacancy: t }], &dirs, &|_| {}).unwrap();
    let r = &reverse[0].nebs[back];
    assert!((r.barrier - b[3]).abs() < 1e-5, "reverse {} vs forward {}", r.barrier, b[3]);
    // Nothing is left behind in the scratch directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// The same jump through an input written here by hand, from the SPEC's description.
#[test]
fn a_hand_written_lammps_input_gives_the_same_barrier() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let model = model(5);
    let engine = engine(5);
    let g = &model.geometry;
    let labels = cantor_state(g.num_sites(), 7);
    let jump = 4;
    let dir = tempfile::tempdir().unwrap();
    let ours_dir = dir.path().join("gcnet");
    std::fs::create_dir_all(&ours_dir).unwrap();
    let input = model.input();
    input.write(&ours_dir, &labels, 0, jump).unwrap();
    let ours = input.run(&engine.lammps, &engine.launch, &ours_dir, "state 0, jump 4").unwrap();

    // Data files: atoms numbered in site order without the vacancy (site 0), positions
    // from the crystal's Cartesian sites times a0 in a 3 a0 cubic box.
    let hand = dir.path().join("hand");
    std::fs::create_dir_all(&hand).unwrap();
    let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Cubic, 3).unwrap());
    let pos = crystal.site_positions().unwrap();
    let a0 = 3.595;
    let box_len = 3.0 * a0;
    let mut data = format!(
        "hand\n\n{} atoms\n5 atom types\n\n0 {box_len} xlo xhi\n0 {box_len} ylo yhi\n0 {box_len} zlo zhi\n\nAtoms # atomic\n\n",
        labels.len() - 1
    );
    for s in 1..labels.len() {
        data += &format!("{} {} {} {} {}\n", s, labels[s], pos[[s, 0]] * a0, pos[[s, 1]] * a0, pos[[s, 2]] * a0);
    }
    std::fs::write(hand.join("initial.data"), data).unwrap();
    let t = crystal.neighbour(0, jump);
    std::fs::write(hand.join("final.data"), format!("1\n{t} 0 0 0\n")).unwrap();
    let pot = potential_dir().canonicalize().unwrap();
    let input = format!(
        "units metal\natom_style atomic\natom_modify map array\nboundary p p p\natom_modify sort 0 0.0\n\
         read_data initial.data\npair_style meam\n\
         pair_coeff * * {p}/library.meam Co Ni Cr Fe Mn {p}/params.meam Co Ni Cr Fe Mn\n\
         fix 1 all neb 10.0 parallel ideal perp 10.0\nmin_style fire\ntimestep 0.001\n\
         min_modify norm max abcfire yes tmax 5 dmax 0.01\nneb 0.0 0.001 20000 0 50 final final.data\n",
        p = pot.display()
    );
    std::fs::write(hand.join("in.neb"), input).unwrap();
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv");
    let status = Command::new(venv.join("bin/mpiexec"))
        .args(["-n", "5"])
        .arg(venv.join("bin/lmp"))
        .args(["-p", "5x1", "-in", "in.neb", "-log", "log.lammps", "-screen", "none"])
        .env("MPIR_CVAR_CH4_PROGRESS_THROTTLE", "1")
        .current_dir(&hand)
        .status()
        .unwrap();
    assert!(status.success());
    let log = std::fs::read_to_string(hand.join("log.lammps")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    let climb = lines.iter().position(|l| l.starts_with("Climbing replica")).unwrap();
    let words: Vec<f64> = lines[climb - 1].split_whitespace().map(|w| w.parse().unwrap()).collect();
    let (ebf, pe): (f64, Vec<f64>) = (words[6], words[10..].iter().step_by(2).copied().collect());
    eprintln!("jump {jump}: gcnet {} eV, hand-written input {ebf} eV", ours.barrier);
    assert!((ours.barrier - ebf).abs() < 1e-8, "{} vs {ebf}", ours.barrier);
    assert_eq!(pe.len(), 5);
    for (a, b) in ours.image_energies.iter().zip(&pe) {
        assert!((a - b).abs() < 1e-8, "image energy {a} vs {b}");
    }
    assert_eq!(ours.iterations as f64, words[0]);
}

#[test]
fn a_session_reports_lammps_errors_and_a_new_one_works() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let lammps = Lammps::locate(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut s = gcnet_alloy::Session::start(&lammps, dir.path()).unwrap();
    let lines = s.run("variable x equal 2*21\nprint \"x = ${x}\"", "a print").unwrap();
    assert!(lines.iter().any(|l| l == "x = 42"), "{lines:?}");
    let e = s.run("no_such_command 1 2", "a bad command").unwrap_err().to_string();
    assert!(e.contains("LAMMPS failed on a bad command") && e.contains("ERROR"), "{e}");
    assert!(s.run("print hello", "after the error").is_err(), "the session has ended");
    let mut again = gcnet_alloy::Session::start(&lammps, dir.path()).unwrap();
    assert!(again.run("print hello", "a new session").unwrap().contains(&"hello".to_string()));
}

/// Primitive FCC cells need LAMMPS's triclinic box: in pure Ni the 12 end states of a
/// 4x4x4 primitive cell are images of each other, so they relax to the same energy.
#[test]
fn primitive_cells_relax_in_a_triclinic_box() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 4).unwrap());
    let model = Model {
        geometry: Geometry::new(&crystal, 3.595, CellSpec { units: 4, primitive: true }).unwrap(),
        potential: Potential::new(potential_dir()).unwrap(),
        elements: vec!["Ni".to_string()],
        neb: NebSettings { images: 5, ..NebSettings::default() },
    };
    assert!(!model.geometry.lammps_box().is_orthogonal());
    let lammps = Lammps::locate(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut session = gcnet_alloy::Session::start(&lammps, dir.path()).unwrap();
    let mut labels = vec![1u8; 64];
    labels[0] = 0;
    let ends = model.input().relax_end_states(&mut session, &labels, 0, "pure Ni, primitive cell").unwrap();
    for e in &ends {
        assert!((e.energy - ends[0].energy).abs() < 1e-6, "{e:?} vs {:?}", ends[0]);
        assert!(e.max_displacement > 0.0 && e.max_displacement < 0.2, "{e:?}");
    }
    // 63 atoms of about -4.45 eV each (the potential's cohesive energy of Ni).
    assert!((ends[0].energy / 63.0 + 4.45).abs() < 0.1, "{:?}", ends[0]);
}
