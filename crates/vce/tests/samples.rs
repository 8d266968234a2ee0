//! The samples are checked as the published tool checks them; a bad sample is an error
//! naming the file and the sample.

mod common;

use gcnet_crystal::{CellKind, LatticeKind};
use gcnet_vce::{Samples, SpeciesChoice};

#[test]
fn bad_samples_are_named() {
    let crystal = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 4);
    let e = common::expansion(&crystal, 2, 0.71, 3, false);
    let good = common::sr2(&crystal, 20, 2);
    let choice = SpeciesChoice { species: 1, vacancy: 2 };
    assert!(Samples::new(&good, "d.h5", &e, choice).is_ok());
    let err = |data: &gcnet_data::Dataset, choice| Samples::new(data, "d.h5", &e, choice).unwrap_err().to_string();

    let mut bad = good.clone();
    bad.jump_selects[5] = (bad.jump_selects[5] + 1) % 12;
    assert!(err(&bad, choice).contains("d.h5: sample 5: JumpSelects"), "{}", err(&bad, choice));

    let mut bad = good.clone();
    bad.init_states[[7, 0]] = 0;
    assert!(err(&bad, choice).contains("sample 7") && err(&bad, choice).contains("site 0"));

    let mut bad = good.clone();
    bad.init_states[[3, 9]] = 4;
    assert!(err(&bad, choice).contains("sample 3") && err(&bad, choice).contains("label 4"));

    let mut bad = good.clone();
    bad.spec_disps[[4, 1, 0]] += 0.25;
    bad.spec_disps[[4, 0, 0]] += 0.25;
    assert!(err(&bad, choice).contains("sample 4"), "{}", err(&bad, choice));

    let mut bad = good.clone();
    bad.rates[2] = f64::NAN;
    assert!(err(&bad, choice).contains("sample 2: rates"));

    assert!(err(&good, SpeciesChoice { species: 5, vacancy: 2 }).contains("-sp 5"));
    assert!(err(&good, SpeciesChoice { species: 1, vacancy: 0 }).contains("vacancy"));

    let other = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 6);
    let e6 = common::expansion(&other, 2, 0.71, 3, false);
    assert!(Samples::new(&good, "d.h5", &e6, choice).unwrap_err().to_string().contains("64 sites"));
}

#[test]
fn lattice_parameter_of_the_data() {
    let crystal = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 4);
    let e = common::expansion(&crystal, 2, 0.71, 3, false);
    let mut data = common::sr2(&crystal, 10, 2);
    data.spec_disps *= 3.595;
    let s = Samples::new(&data, "d.h5", &e, SpeciesChoice { species: 2, vacancy: 2 }).unwrap();
    assert!((s.lattice_parameter() - 3.595).abs() < 1e-12);
    let j = s.jump(0);
    let d = s.jump_displacement(0, j);
    assert!((0..3).all(|c| (d[c] - s.displacement(0)[c]).abs() < 1e-12));
}
