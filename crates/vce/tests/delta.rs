//! The change of every basis function under a jump, computed from the clusters holding the
//! two exchanged sites, equals lambda(after) - lambda(before) from scratch (1e-12).

mod common;

use common::{Rng, random_state};
use gcnet_crystal::{CellKind, LatticeKind};

#[test]
fn jump_change_equals_the_difference_from_scratch() {
    for (mo, cc, labels) in [(3, 0.71, 3), (2, 1.01, 4), (4, 0.71, 3)] {
        let crystal = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 6);
        // Only the interactions with the vacancy site or a jump site, as published.
        let e = common::expansion(&crystal, mo, cc, labels, false);
        let mut rng = Rng(77 + mo as u64);
        for _ in 0..4 {
            let state = random_state(crystal.num_sites(), labels, &mut rng);
            let before = e.lambda(&state).unwrap();
            for j in 0..crystal.z() {
                let t = crystal.neighbour(0, j);
                let mut after = state.clone();
                after.swap(0, t);
                let want = &e.lambda(&after).unwrap() - &before;
                let got = e.delta_jump(&state, j).unwrap();
                let err = (&got - &want).iter().fold(0.0f64, |m, x| m.max(x.abs()));
                assert!(err < 1e-12, "-mo {mo} -cc {cc}: jump {j} off by {err}");
                assert!(want.iter().any(|x| x.abs() > 1e-9) || state[t] == state[0]);
            }
        }
    }
}

#[test]
fn any_exchange_equals_the_difference_from_scratch() {
    let crystal = common::crystal(LatticeKind::Bcc, CellKind::Primitive, 5);
    let e = common::expansion(&crystal, 3, 1.01, 3, false);
    let mut rng = Rng(9);
    let n = crystal.num_sites();
    for _ in 0..20 {
        let state = random_state(n, 3, &mut rng);
        let (a, b) = (rng.below(n), rng.below(n));
        if a == b {
            continue;
        }
        let mut after = state.clone();
        after.swap(a, b);
        let want = &e.lambda(&after).unwrap() - &e.lambda(&state).unwrap();
        let got = e.delta_swap(&state, a, b).unwrap();
        assert!((&got - &want).iter().all(|x| x.abs() < 1e-12), "sites {a}, {b}");
    }
    assert!(e.delta_swap(&vec![0; n], 3, 3).is_err());
    assert!(e.delta_jump(&vec![5; n], 0).is_err(), "label 5 is not one of 3");
}
