//! Analysis frames.

mod common;

use common::fcc;
use gcnet_data::LatticeGas;
use gcnet_data::describe::{sample_frame, summary_frame};

#[test]
fn sr2_fast_l0_is_its_site_fraction() {
    let crystal = fcc(8);
    let data = LatticeGas::sr2(0.3).generate(&crystal, 50_000, 4).unwrap();
    let summary = summary_frame(&data).unwrap();
    assert_eq!(summary.height(), 3);
    let l0 = summary.column("L0").unwrap().f64().unwrap();
    let err = summary.column("L0_error").unwrap().f64().unwrap();
    let frac = summary.column("atom_fraction").unwrap().f64().unwrap();
    let (fast, fast_err, c_fast) = (l0.get(1).unwrap(), err.get(1).unwrap(), frac.get(1).unwrap());
    eprintln!("SR-2: L0_fast = {fast} +- {fast_err}, atom fraction {c_fast}");
    assert!((c_fast - 153.0 / 511.0).abs() < 1e-12);
    assert!((fast - c_fast).abs() < 3.0 * fast_err && fast_err < 0.01 * c_fast, "{summary}");
    // The slow species: 0.001 x its fraction; the vacancy: the sum of both.
    let slow = l0.get(0).unwrap();
    assert!((slow / 0.001 - frac.get(0).unwrap()).abs() < 3.0 * err.get(0).unwrap() / 0.001);
    assert!((l0.get(2).unwrap() - (fast + slow)).abs() < 1e-12);
    assert_eq!(summary.column("vacancy").unwrap().bool().unwrap().get(2), Some(true));
}

#[test]
fn sample_frame_has_one_row_per_sample() {
    let crystal = fcc(4);
    let data = LatticeGas::sr2(0.5).generate(&crystal, 20, 1).unwrap();
    let frame = sample_frame(&data).unwrap();
    assert_eq!(frame.height(), 20);
    let names: Vec<String> = frame.get_column_names().iter().map(|s| s.to_string()).collect();
    assert_eq!(&names[..4], ["sample", "escape_rate", "jump", "exchanged"]);
    assert!(names.contains(&"dz_2".to_string()) && names.contains(&"count_1".to_string()));
    let exchanged = frame.column("exchanged").unwrap().i64().unwrap();
    let counts = frame.column("count_1").unwrap().i64().unwrap();
    for n in 0..20 {
        let j = data.jump_selects[n] as usize;
        assert_eq!(exchanged.get(n), Some(data.init_states[[n, crystal.neighbour(0, j)]] as i64));
        assert_eq!(counts.get(n), Some(31));
        assert_eq!(frame.column("escape_rate").unwrap().f64().unwrap().get(n), Some(data.rates[n]));
    }
}
