//! Validation: generated files pass; corrupted copies fail with the right reason.

mod common;

use common::*;
use gcnet_crystal::LatticeKind;
use gcnet_data::{CheckKind, CheckOptions, Composition, DataFile, Dataset, LatticeGas, RateModel, check, check_file};

fn report_of(path: &std::path::Path, crystal: &gcnet_crystal::CrystalData) -> gcnet_data::CheckReport {
    check_file(&DataFile::open(path).unwrap(), crystal, &CheckOptions::default()).unwrap()
}

/// Only `kind` fails, at exactly `samples`, and the listed reason contains `words`.
fn assert_fails(report: &gcnet_data::CheckReport, kind: CheckKind, samples: &[usize], words: &str) {
    assert!(!report.is_ok());
    assert_eq!(report.count(kind), samples.len(), "{report}");
    let listed: Vec<usize> = report.listed.iter().filter(|f| f.check == kind).map(|f| f.sample).collect();
    assert_eq!(listed, samples, "{report}");
    assert!(report.listed.iter().any(|f| f.check == kind && f.reason.contains(words)), "{report}");
}

#[test]
fn generated_data_sets_pass() {
    let crystal = fcc(4);
    let gases = [
        LatticeGas::sr2(0.5),
        LatticeGas::fixed(vec![0.5, 1.0, 3.0], Composition::Counts(vec![20, 20, 23])),
        LatticeGas {
            rates: RateModel::Random { mean: vec![0.0, 1.0], width: vec![1.0, 0.5], seed: 4 },
            composition: Composition::Fractions(vec![0.5, 0.5]),
            lattice_parameter: 3.6,
            continue_chain: true,
        },
    ];
    for gas in gases {
        let data = gas.generate(&crystal, 500, 2).unwrap();
        let report = check(&data, &crystal, &CheckOptions::default()).unwrap();
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.vacancy_label, gas.vacancy_label());
        assert!((report.lattice_parameter - gas.lattice_parameter).abs() < 1e-12);
    }
}

#[test]
fn a_vacancy_moved_off_site_0_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let (path, mut data) = sr2_file(dir.path(), "d.h5", &crystal, 100);
    let bad = copy(&path, dir.path(), "vac.h5");
    // Sample 7: the vacancy and the atom on site 5 swap places in s1 and in s2.
    for states in [&mut data.init_states, &mut data.fin_states] {
        let atom = states[[7, 5]];
        states[[7, 5]] = states[[7, 0]];
        states[[7, 0]] = atom;
    }
    replace_dataset(&bad, "InitStates", &data.init_states);
    replace_dataset(&bad, "FinStates", &data.fin_states);
    let report = report_of(&bad, &crystal);
    assert_fails(&report, CheckKind::Vacancy, &[7], "not the vacancy (2)");
}

#[test]
fn a_wrong_displacement_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let (path, mut data) = sr2_file(dir.path(), "d.h5", &crystal, 100);
    let bad = copy(&path, dir.path(), "disp.h5");
    data.spec_disps[[12, 2, 1]] += 0.25;
    // A spectator that moves: the exchanged species of sample 30 is fast or slow, the
    // other one must stay put.
    let j = data.jump_selects[30] as usize;
    let exchanged = data.init_states[[30, crystal.neighbour(0, j)]] as usize;
    data.spec_disps[[30, 1 - exchanged, 0]] = 0.5;
    replace_dataset(&bad, "SpecDisps", &data.spec_disps);
    let report = report_of(&bad, &crystal);
    assert_fails(&report, CheckKind::Displacements, &[12, 30], "the vacancy");
    assert!(report.listed.iter().any(|f| f.sample == 30 && f.reason.contains("spectator")), "{report}");
}

#[test]
fn wrong_final_states_rates_and_random_numbers_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let (path, data) = sr2_file(dir.path(), "d.h5", &crystal, 100);

    let mut d = data.clone();
    // Sample 3: two sites of s2 exchanged (species still conserved).
    let (a, b) = (1..64).map(|s| (s, s + 1)).find(|&(a, b)| d.fin_states[[3, a]] != d.fin_states[[3, b]]).unwrap();
    d.fin_states.swap([3, a], [3, b]);
    // Sample 4: an atom of s2 changes species.
    d.fin_states[[4, 10]] = 1 - d.fin_states[[4, 10]];
    let bad = copy(&path, dir.path(), "fin.h5");
    replace_dataset(&bad, "FinStates", &d.fin_states);
    let report = report_of(&bad, &crystal);
    assert_eq!(report.count(CheckKind::Species), 1, "{report}");
    assert_eq!(report.count(CheckKind::Permutation), 2, "{report}");
    assert!(report.listed.iter().any(|f| f.sample == 4 && f.check == CheckKind::Species), "{report}");

    let mut d = data.clone();
    d.rates[50] *= 1.01;
    let bad = copy(&path, dir.path(), "rates.h5");
    replace_dataset(&bad, "rates", &d.rates);
    assert_fails(&report_of(&bad, &crystal), CheckKind::EscapeRate, &[50], "sums to");

    let mut d = data.clone();
    let r = d.rand_nums.as_mut().unwrap();
    // Move sample 60's random number into another jump's interval.
    let rates = d.jump_rates_init.row(60).to_vec();
    let j = d.jump_selects[60] as usize;
    let other = (0..12).find(|&k| k != j && rates[k] > 0.5).unwrap();
    let before: f64 = rates[..other].iter().sum();
    r[60] = (before + 0.5 * rates[other]) / rates.iter().sum::<f64>();
    let bad = copy(&path, dir.path(), "rand.h5");
    replace_dataset(&bad, "randNums", d.rand_nums.as_ref().unwrap());
    assert_fails(&report_of(&bad, &crystal), CheckKind::RandNums, &[60], &format!("selects jump {other}"));

    let mut d = data.clone();
    d.jump_selects[70] = 12;
    let bad = copy(&path, dir.path(), "jump.h5");
    replace_dataset(&bad, "JumpSelects", &d.jump_selects);
    assert_fails(&report_of(&bad, &crystal), CheckKind::Permutation, &[70], "is not a jump");
}

#[test]
fn a_crystal_of_another_size_is_an_error_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let (path, _) = sr2_file(dir.path(), "d.h5", &crystal, 20);
    let (cpath, other) = crystal_file(dir.path(), "sc5.h5", LatticeKind::Sc, 5);
    let err = check_file(&DataFile::open(&path).unwrap(), &other, &CheckOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("d.h5") && msg.contains(&*cpath.to_string_lossy()) && msg.contains("125"), "{msg}");
    let data = Dataset::read(&path).unwrap();
    assert!(check(&data, &other, &CheckOptions::default()).is_err());
}

#[test]
fn the_vacancy_label_can_be_given() {
    // Vacancy label 0 as in the published files: relabel an SR-2 set 0,1,2 -> 1,2,0.
    let crystal = fcc(4);
    let mut data = LatticeGas::sr2(0.5).generate(&crystal, 200, 3).unwrap();
    let relabel = |l: i8| (l + 1) % 3;
    data.init_states.mapv_inplace(relabel);
    data.fin_states.mapv_inplace(relabel);
    let old = data.spec_disps.clone();
    for l in 0..3 {
        data.spec_disps
            .index_axis_mut(ndarray::Axis(1), relabel(l as i8) as usize)
            .assign(&old.index_axis(ndarray::Axis(1), l));
    }
    let report = check(&data, &crystal, &CheckOptions::default()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.vacancy_label, 0);
    let wrong = CheckOptions { vacancy_label: Some(2), ..CheckOptions::default() };
    let report = check(&data, &crystal, &wrong).unwrap();
    assert_eq!(report.count(CheckKind::Vacancy), 200);
}

/// The published Cantor-alloy files (and `gcnet neb --dataset`) name the random numbers
/// `RandNums`: they are read and checked as `randNums` is.
#[test]
fn published_rand_nums_spelling_is_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let (path, data) = sr2_file(dir.path(), "d.h5", &crystal, 100);
    let renamed = copy(&path, dir.path(), "published.h5");
    {
        let file = hdf5::File::open_rw(&renamed).unwrap();
        file.unlink("randNums").unwrap();
        file.new_dataset_builder().with_data(data.rand_nums.as_ref().unwrap()).create("RandNums").unwrap();
    }
    let file = DataFile::open(&renamed).unwrap();
    assert!(file.layout().rand_nums);
    assert_eq!(file.read_all().unwrap().rand_nums, data.rand_nums);
    let report = report_of(&renamed, &crystal);
    assert!(report.is_ok() && report.rand_nums, "{report}");
    drop(file);

    // a wrong number under the published name fails as under SPEC's name
    let mut r = data.rand_nums.clone().unwrap();
    let rates = data.jump_rates_init.row(30).to_vec();
    let j = data.jump_selects[30] as usize;
    let other = (0..12).find(|&k| k != j && rates[k] > 0.5).unwrap();
    r[30] = (rates[..other].iter().sum::<f64>() + 0.5 * rates[other]) / rates.iter().sum::<f64>();
    replace_dataset(&renamed, "RandNums", &r);
    assert_fails(&report_of(&renamed, &crystal), CheckKind::RandNums, &[30], &format!("selects jump {other}"));
}
