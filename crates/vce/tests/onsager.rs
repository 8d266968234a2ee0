//! Every label's coefficients from one shared W (`gcnet onsager --vce`) against the
//! published one-species run (`fit`) of each label: the same eta, and over the recorded
//! steps the same L, term by term; site conservation holds in every move.

mod common;

use gcnet_crystal::{CellKind, LatticeKind};
use gcnet_data::{Composition, LatticeGas};
use gcnet_vce::onsager::label_terms;
use gcnet_vce::{Samples, SpeciesChoice, fit};

#[test]
fn every_label_from_one_w_equals_its_own_fit() {
    let crystal = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 4);
    let gas = LatticeGas::fixed(vec![1.0, 0.1, 0.01], Composition::Counts(vec![21, 21, 21]));
    let data = gas.generate(&crystal, 400, 8).unwrap();
    let e = common::expansion(&crystal, 3, 0.71, 4, false);
    let own = Samples::new(&data, "gas", &e, SpeciesChoice { species: 3, vacancy: 3 }).unwrap();
    for all_jumps in [false, true] {
        let every = label_terms(&e, &own, data.spec_disps.view(), 300, all_jumps, true, 1e-8).unwrap();
        let steps = label_terms(&e, &own, data.spec_disps.view(), 300, all_jumps, false, 1e-8).unwrap();
        assert_eq!(every.u.dim(), (400, 12, 4, 3));
        assert_eq!(every.atoms, vec![0, 1, 2]);
        for (c, &a) in every.atoms.iter().enumerate() {
            let samples = Samples::new(&data, "gas", &e, SpeciesChoice { species: a, vacancy: 3 }).unwrap();
            let published = fit::fit(&e, &samples, 300, all_jumps, 1e-8).unwrap();
            let scale = published.solution.eta.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let d = (&every.solutions[c].eta - &published.solution.eta).iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert!(d <= 1e-10 * scale, "label {a}, -aj {all_jumps}: eta differs by {d:e} (scale {scale:e})");
            // The recorded steps: the published terms W_n |dx_n + Delta_n eta|^2 / 6.
            for (n, want) in published.train.terms.iter().enumerate() {
                let u2: f64 = (0..3).map(|x| steps.u[[n, 0, a, x]].powi(2)).sum();
                let got = steps.rates[[n, 0]] * u2 / 6.0;
                assert!((got - want).abs() <= 1e-10 * want.abs().max(1e-300), "label {a} state {n}: {got} vs {want}");
            }
        }
        // Site conservation in every move: the vacancy's u is minus the atoms'.
        let (n, m, _, _) = every.u.dim();
        for (s, j, x) in (0..n).flat_map(|s| (0..m).flat_map(move |j| (0..3).map(move |x| (s, j, x)))) {
            let total: f64 = (0..4).map(|l| every.u[[s, j, l, x]]).sum();
            assert!(total.abs() < 1e-12, "state {s} jump {j}: {total}");
        }
    }
}
