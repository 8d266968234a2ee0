//! Step files, the assembled training file and merges, on made-up barriers (no LAMMPS):
//! round trips, the checks `assemble` runs, and what `merge` refuses.

use std::path::Path;

use gcnet_alloy::fingerprint::{fnv1a, hex};
use gcnet_alloy::provenance::crystal_hash;
use gcnet_alloy::{
    CellSpec, Geometry, LabelType, NebSettings, Physics, StatesOrigin, StepData, StepRecord, assemble, kmc, merge,
    random_states,
};
use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::{CheckOptions, DataFile, check_file};
use gcnet_files::Overwrite;
use ndarray::Array2;

fn crystal() -> CrystalData {
    CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Cubic, 3).unwrap())
}

fn physics(crystal: &CrystalData, temperature: f64) -> Physics {
    Physics {
        crystal_hash: crystal_hash(crystal).unwrap(),
        num_sites: crystal.num_sites(),
        z: crystal.z(),
        lattice_parameter: 3.595,
        units: 3,
        primitive: false,
        elements: ["Co", "Ni", "Cr", "Fe", "Mn"].map(String::from).to_vec(),
        potential_hash: "0".into(),
        temperature,
        neb: NebSettings { images: 5, ..NebSettings::default() },
        threshold: 1.0,
    }
}

/// One KMC step of `states` with made-up barriers (0.5 to 1.1 eV; jump 3 off-lattice).
fn fake_step(g: &Geometry, states: &Array2<u8>, first_index: usize, step: usize, temperature: f64) -> StepData {
    let (n, sites) = states.dim();
    let z = g.z();
    let mut d = StepData::zeros(n, sites, 6, 5, z, LabelType::I8);
    for r in 0..n {
        let v = states.row(r).iter().position(|&l| l == 0).unwrap();
        for j in 0..z {
            let b = 0.5 + 0.6 * ((r * 7 + j * 3 + step) % 11) as f64 / 10.0;
            let open = j != 3;
            d.barriers[[r, j]] = if open { b } else { f64::INFINITY };
            d.rates[[r, j]] = if open { kmc::rate(b, temperature) } else { 0.0 };
            for i in 0..5 {
                d.image_energies[[r, i, j]] = -400.0 + b * (1.0 - (i as f64 / 2.0 - 1.0).powi(2));
                d.image_rds[[r, i, j]] = i as f64 / 4.0;
            }
            d.end_state_disps[[r, j]] = if open { 0.1 } else { 1.5 };
            d.max_iterations[[r, j]] = 100;
        }
        let rates: Vec<f64> = d.rates.row(r).to_vec();
        let u = kmc::uniform(0, step, first_index + r);
        let j = kmc::select_jump(&rates, u).unwrap();
        d.rand_nums[r] = u;
        d.jump_selects[r] = j as i8;
        d.times[r] = 1.0 / rates.iter().sum::<f64>();
        let t = g.neighbour(v, j);
        let atom = states[[r, t]];
        for c in 0..3 {
            d.spec_disps[[r, 0, c]] = g.jump(j)[c];
            d.spec_disps[[r, atom as usize, c]] = -g.jump(j)[c];
        }
        let mut after = states.row(r).to_owned();
        after[v] = atom;
        after[t] = 0;
        d.final_states.row_mut(r).assign(&after);
    }
    d
}

struct Shard {
    initial: Array2<u8>,
    steps: [(StepData, StepRecord); 2],
}

fn shard(crystal: &CrystalData, start: usize, count: usize, temperature: f64) -> Shard {
    let all = random_states(start + count, crystal.num_sites(), 5, 9);
    let mut initial = Array2::<u8>::zeros((count, crystal.num_sites()));
    for (r, s) in all[start..].iter().enumerate() {
        initial.row_mut(r).assign(&ndarray::ArrayView1::from(s));
    }
    shard_of(crystal, initial, "states.npy", start, temperature)
}

/// A shard of the states `initial`, states `start..` of the state file `file`.
fn shard_of(crystal: &CrystalData, initial: Array2<u8>, file: &str, start: usize, temperature: f64) -> Shard {
    let g = Geometry::new(crystal, 3.595, CellSpec { units: 3, primitive: false }).unwrap();
    let origin = StatesOrigin {
        file: file.into(),
        file_hash: hex(fnv1a(file.as_bytes())),
        start,
        count: initial.nrows(),
        states_hash: hex(fnv1a(initial.as_slice().unwrap())),
    };
    let record = |step| StepRecord {
        physics: physics(crystal, temperature),
        seed: 0,
        states: origin.clone(),
        step,
        lammps_version: "test".into(),
        gcnet_version: "test".into(),
    };
    let s1 = fake_step(&g, &initial, start, 1, temperature);
    let s2 = fake_step(&g, &s1.final_states, start, 2, temperature);
    Shard { initial, steps: [(s1, record(1)), (s2, record(2))] }
}

fn write_dataset(crystal: &CrystalData, s: &Shard, path: &Path) {
    let [(s1, r1), (s2, r2)] = &s.steps;
    assemble((s1, r1), (s2, r2), &s.initial, crystal, path, Overwrite::Refuse).unwrap();
}

#[test]
fn step_files_round_trip_with_their_record() {
    let c = crystal();
    let s = shard(&c, 0, 3, 1000.0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data_1_0.h5");
    let (data, record) = &s.steps[0];
    data.write(&path, record).unwrap();
    let (back, back_record) = StepData::read(&path).unwrap();
    assert_eq!(&back, data);
    assert_eq!(back_record.as_ref(), Some(record));
    // Never over an existing file.
    assert!(data.write(&path, record).unwrap_err().to_string().contains("already exists"));
}

#[test]
fn assembled_data_sets_pass_the_checks_and_merge() {
    let c = crystal();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, b) = (shard(&c, 0, 2, 1000.0), shard(&c, 2, 3, 1000.0));
    write_dataset(&c, &a, &d.join("a.h5"));
    write_dataset(&c, &b, &d.join("b.h5"));
    let options = CheckOptions { vacancy_label: Some(0), lattice_parameter: Some(3.595), ..CheckOptions::default() };
    let report = check_file(&DataFile::open(d.join("a.h5")).unwrap(), &c, &options).unwrap();
    assert!(report.is_ok(), "{report}");

    let summary = merge(&[d.join("b.h5"), d.join("a.h5")], &d.join("ab.h5"), None, Overwrite::Refuse).unwrap();
    assert_eq!(summary.samples, 5);
    assert_eq!(summary.shards.iter().map(|s| s.states.start).collect::<Vec<_>>(), [0, 2]);
    let merged = gcnet_data::Dataset::read(d.join("ab.h5")).unwrap();
    let (ra, rb) =
        (gcnet_data::Dataset::read(d.join("a.h5")).unwrap(), gcnet_data::Dataset::read(d.join("b.h5")).unwrap());
    assert_eq!(merged.slice(0, 2), ra);
    assert_eq!(merged.slice(2, 5), rb);
    let report = check_file(&DataFile::open(d.join("ab.h5")).unwrap(), &c, &options).unwrap();
    assert!(report.is_ok(), "{report}");

    // Refused: overlapping shards, other settings, an input as the output, too few inputs.
    let e =
        merge(&[d.join("a.h5"), d.join("ab.h5")], &d.join("x.h5"), None, Overwrite::Refuse).unwrap_err().to_string();
    assert!(e.contains("overlap"), "{e}");
    write_dataset(&c, &shard(&c, 5, 1, 1100.0), &d.join("hot.h5"));
    let e =
        merge(&[d.join("a.h5"), d.join("hot.h5")], &d.join("x.h5"), None, Overwrite::Refuse).unwrap_err().to_string();
    assert!(e.contains("hot.h5") && e.contains("temperature: 1100.0 vs 1000.0"), "{e}");
    let e =
        merge(&[d.join("a.h5"), d.join("b.h5")], &d.join("a.h5"), None, Overwrite::Replace).unwrap_err().to_string();
    assert!(e.contains("is an input"), "{e}");
    assert!(merge(&[d.join("a.h5")], &d.join("x.h5"), None, Overwrite::Refuse).is_err());
    assert!(!d.join("x.h5").exists());
}

/// Class 5: shards from different state files whose ranges do not overlap may still
/// share a state; the merge compares the states themselves.
#[test]
fn class5_merge_refuses_an_initial_state_held_twice() {
    let c = crystal();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = shard(&c, 0, 3, 1000.0);
    write_dataset(&c, &a, &d.join("a.h5"));
    // Another state file: a new state, then state 2 of a's file.
    let mut initial = a.initial.clone();
    initial.row_mut(0).assign(&shard(&c, 3, 1, 1000.0).initial.row(0));
    initial.row_mut(1).assign(&a.initial.row(2));
    let initial = initial.slice(ndarray::s![0..2, ..]).to_owned();
    write_dataset(&c, &shard_of(&c, initial, "other.npy", 0, 1000.0), &d.join("o.h5"));
    let e =
        merge(&[d.join("a.h5"), d.join("o.h5")], &d.join("x.h5"), Some(&c), Overwrite::Refuse).unwrap_err().to_string();
    let shared = e.contains("its initial state 1 is initial state 2 of")
        || e.contains("its initial state 2 is initial state 1 of");
    assert!(shared && e.contains("a.h5") && e.contains("o.h5"), "{e}");
    assert!(!d.join("x.h5").exists());
}

/// Class 5: a merged file that fails `gcnet check` (here a shard edited after it was
/// assembled: a negative rate out of s2) is refused before it is renamed into place.
#[test]
fn class5_merge_checks_the_merged_file_before_it_appears() {
    let c = crystal();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_dataset(&c, &shard(&c, 0, 2, 1000.0), &d.join("a.h5"));
    write_dataset(&c, &shard(&c, 2, 3, 1000.0), &d.join("b.h5"));
    {
        let file = hdf5::File::open_rw(d.join("b.h5")).unwrap();
        let ds = file.dataset("AllJumpRates_Fin").unwrap();
        let mut rates: Array2<f64> = ds.read_2d().unwrap();
        rates[[1, 0]] = -1.0;
        ds.write(&rates).unwrap();
    }
    let e = merge(&[d.join("a.h5"), d.join("b.h5")], &d.join("x.h5"), None, Overwrite::Refuse).unwrap_err().to_string();
    assert!(e.contains("fails its checks") && e.contains("AllJumpRates_Fin[0] = -1"), "{e}");
    assert_eq!(std::fs::read_dir(d).unwrap().count(), 2, "only the inputs are left");
    // Another crystal than the shards' is refused by name.
    let other = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Cubic, 2).unwrap());
    let e = merge(&[d.join("a.h5"), d.join("b.h5")], &d.join("x.h5"), Some(&other), Overwrite::Refuse)
        .unwrap_err()
        .to_string();
    assert!(e.contains("another crystal"), "{e}");
}

#[test]
fn assemble_refuses_step_files_that_do_not_follow_the_states() {
    let c = crystal();
    let dir = tempfile::tempdir().unwrap();
    let mut s = shard(&c, 0, 2, 1000.0);
    // Step 2 does not continue from step 1's final state.
    s.steps[1].0.final_states.swap([1, 5], [1, 6]);
    let [(s1, r1), (s2, r2)] = &s.steps;
    let e = assemble((s1, r1), (s2, r2), &s.initial, &c, dir.path().join("x.h5"), Overwrite::Refuse)
        .unwrap_err()
        .to_string();
    assert!(e.contains("state 1: step 2 does not continue"), "{e}");
    assert!(!dir.path().join("x.h5").exists());
}
