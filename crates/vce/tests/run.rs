//! The published run as one library call: outputs in the given directory, the two-stage
//! runs (-svj -ao, then the saved expansion; -eo, then -nex), the report, and the same
//! numbers as the layered calls (expansion, samples, fit).

mod common;

use gcnet_crystal::{CellKind, LatticeKind};
use gcnet_data::LatticeGas;
use gcnet_files::numpy::read;
use gcnet_vce::{SpeciesChoice, VceConfig, fit};

#[test]
fn one_call_writes_the_published_outputs_and_agrees_with_the_layers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let crystal = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 6);
    crystal.write(d.join("crystal.h5")).unwrap();
    let data = LatticeGas::sr2(0.5).generate(&crystal, 500, 3).unwrap();
    data.write(d.join("sr2.h5"), false).unwrap();
    let lines = std::cell::RefCell::new(Vec::new());
    let log = |l: &str| lines.borrow_mut().push(l.to_string());
    let base = VceConfig {
        data: d.join("sr2.h5"),
        crystal: d.join("crystal.h5"),
        dir: d.join("out"),
        species: 1,
        vacancy: 2,
        n_train: 400,
        ..Default::default()
    };
    std::fs::create_dir(&base.dir).unwrap();
    let built = VceConfig {
        tag: Some(1),
        scratch: true,
        max_order: Some(3),
        cutoff: Some(0.71),
        save_jit: true,
        array_only: true,
        ..base.clone()
    };
    let arrays = gcnet_vce::run(&built, &log).unwrap();
    assert!(arrays.solution.is_none() && base.dir.join("JitArrays.h5").exists());
    assert!(arrays.to_string().starts_with("Created arrays ("), "{arrays}");

    // From the saved expansion: -eo, then -nex; the same as one run.
    let eo = gcnet_vce::run(&VceConfig { tag: Some(2), expand_only: true, ..base.clone() }, &log).unwrap();
    assert!(eo.train.is_none() && eo.to_string().starts_with("Expansion complete (-eo)"));
    let nex = gcnet_vce::run(&VceConfig { tag: Some(2), no_expand: true, ..base.clone() }, &log).unwrap();
    let once = gcnet_vce::run(&VceConfig { tag: Some(3), ..base.clone() }, &log).unwrap();
    let (val, once_val) = (nex.validation.as_ref().unwrap(), once.validation.as_ref().unwrap());
    assert_eq!((val.l, nex.train.as_ref().unwrap().l), (once_val.l, once.train.as_ref().unwrap().l));
    let l: Vec<f64> = read::<f64>(&once.names.l, "").unwrap().iter().copied().collect();
    assert_eq!(l, vec![once.train.as_ref().unwrap().l, once_val.l]);
    assert!(once.names.l.starts_with(&base.dir));
    assert!(once.to_string().contains("Transport coefficient L11 (per vacancy, a0^2 x rate)"), "{once}");
    assert_eq!(once.sample_frame().unwrap().unwrap().height(), 500);

    // The layers give the same numbers.
    let samples = gcnet_vce::Samples::new(&data, "sr2.h5", &once.expansion, SpeciesChoice { species: 1, vacancy: 2 });
    let r = fit::fit(&once.expansion, &samples.unwrap(), 400, false, 1e-8).unwrap();
    assert_eq!((r.train.l, r.validation.unwrap().l), (l[0], l[1]));
    let logged = |start: &str| lines.borrow().iter().any(|l| l.starts_with(start));
    assert!(logged("expanded over 400 training states"), "{:?}", lines.borrow());

    // A refused run names the flag and writes nothing.
    let before: Vec<_> = std::fs::read_dir(&base.dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    let e = gcnet_vce::run(&VceConfig { tag: Some(4), n_train: 500, ..base.clone() }, &log).unwrap_err();
    assert!(e.to_string().contains("L_val needs at least one validation sample"), "{e}");
    let after: Vec<_> = std::fs::read_dir(&base.dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(before, after);
}
