//! Basis vectors of the scaled residual bias: reduction to the plain bias at y = 0, a
//! hand-computed state, and the sum rule over labels.

mod common;

use common::{binary_gas, fcc, model_relaxation};
use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_srb::srb::basis::{bias_basis, exchanged_labels, jump_probabilities, residual_bias_basis};
use ndarray::{Array2, array};

#[test]
fn with_zero_y_the_residual_basis_is_the_plain_bias_basis() {
    let crystal = fcc(4);
    let data = binary_gas(&crystal, [40, 23], 1.0, 50, 11);
    let (nl, v, z) = (3, 2, crystal.z());
    let exchanged = exchanged_labels("InitStates", data.init_states.view(), &crystal, v, nl).unwrap();
    let p = jump_probabilities("AllJumpRates_Init", data.jump_rates_init.view()).unwrap();
    let plain = bias_basis(&exchanged, &p, &crystal, 1.0, nl, v);
    let (y, exits) = (Array2::zeros((50, 3)), Array2::zeros((50 * z, 3)));
    for expanded in 0..nl {
        let residual = residual_bias_basis(&exchanged, &p, y.view(), exits.view(), &crystal, 1.0, nl, v, expanded);
        let diff = (&residual - &plain).iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(diff < 1e-15, "expanded label {expanded}: differs by {diff}");
    }
    // The plain biases are not all zero (the test is not vacuous) and sum to zero over labels.
    assert!(plain.iter().any(|x| x.abs() > 1e-3));
    let sum = plain.sum_axis(ndarray::Axis(0));
    assert!(sum.iter().all(|x| x.abs() < 1e-14));
}

#[test]
fn the_labels_sum_to_the_residual_term() {
    let crystal = fcc(4);
    let data = binary_gas(&crystal, [40, 23], 1.0, 30, 12);
    let y = model_relaxation(&crystal, &data, 1.0, 1.0);
    let (nl, v, z) = (3, 2, crystal.z());
    let exchanged = exchanged_labels("FinStates", data.fin_states.view(), &crystal, v, nl).unwrap();
    let p = jump_probabilities("AllJumpRates_Fin", data.jump_rates_fin.view()).unwrap();
    for expanded in 0..nl {
        let basis =
            residual_bias_basis(&exchanged, &p, y.st2.view(), y.st2_exits.view(), &crystal, 1.0, nl, v, expanded);
        let sum = basis.sum_axis(ndarray::Axis(0));
        for i in 0..30 {
            for c in 0..3 {
                let residual: f64 = (0..z).map(|j| p[[i, j]] * (y.st2_exits[[i * z + j, c]] - y.st2[[i, c]])).sum();
                assert!((sum[[i, c]] - residual).abs() < 1e-14);
            }
        }
    }
}

/// Simple cubic, 3x3x3, labels: 0 = vacancy, 1 and 2 atoms; one state with a 2-atom on the
/// +x neighbour and 1-atoms elsewhere; jump rates 1 except 3 for the +x jump.
#[test]
fn a_hand_computed_state() {
    let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Sc, CellKind::Primitive, 3).unwrap());
    let z = crystal.z();
    let plus_x = (0..z).find(|&k| crystal.jump_vector(k) == [1.0, 0.0, 0.0]).unwrap();
    let mut state = vec![1i8; crystal.num_sites()];
    state[0] = 0;
    state[crystal.neighbour(0, plus_x)] = 2;
    let states = Array2::from_shape_vec((1, state.len()), state).unwrap();
    let mut rates = Array2::ones((1, z));
    rates[[0, plus_x]] = 3.0;
    let exchanged = exchanged_labels("InitStates", states.view(), &crystal, 0, 3).unwrap();
    let p = jump_probabilities("rates", rates.view()).unwrap();
    // p = 3/8 for +x, 1/8 for the five others; a0 = 2.
    // Vacancy: sum_j p_j 2 dx_j = 2 (3/8 - 1/8) x = 0.5 x.
    // Label 2: -2 * 3/8 x = -0.75 x. Label 1: the five others, -2/8 (-x) = +0.25 x.
    let plain = bias_basis(&exchanged, &p, &crystal, 2.0, 3, 0);
    let expect = [[0.5, 0.0, 0.0], [0.25, 0.0, 0.0], [-0.75, 0.0, 0.0]];
    for (label, e) in expect.iter().enumerate() {
        for c in 0..3 {
            assert!(
                (plain[[label, 0, c]] - e[c]).abs() < 1e-15,
                "label {label}: {:?}",
                plain.slice(ndarray::s![label, 0, ..])
            );
        }
    }
    // y(state) = (0, 1, 0); y(exit_j) = (0, 1, 0) + (j, 0, 0): residual of jump j is (j, 0, 0),
    // so sum_j p_j (j, 0, 0) = (15/8 + 2 plus_x / 8, 0, 0) goes to the expanded label only.
    let y = array![[0.0, 1.0, 0.0]];
    let exits = Array2::from_shape_fn((z, 3), |(j, c)| {
        if c == 0 {
            j as f64
        } else if c == 1 {
            1.0
        } else {
            0.0
        }
    });
    let shift = (15.0 + 2.0 * plus_x as f64) / 8.0;
    for expanded in 0..3 {
        let basis = residual_bias_basis(&exchanged, &p, y.view(), exits.view(), &crystal, 2.0, 3, 0, expanded);
        for (label, e) in expect.iter().enumerate() {
            let x = e[0] + if label == expanded { shift } else { 0.0 };
            assert!((basis[[label, 0, 0]] - x).abs() < 1e-14, "expanded {expanded}, label {label}");
            assert!(basis[[label, 0, 1]].abs() < 1e-15 && basis[[label, 0, 2]].abs() < 1e-15);
        }
    }
}

#[test]
fn a_second_vacancy_or_a_wrong_vacancy_label_is_reported() {
    let crystal = fcc(3);
    let data = binary_gas(&crystal, [13, 13], 1.0, 2, 3);
    let err = exchanged_labels("InitStates", data.init_states.view(), &crystal, 0, 3).unwrap_err();
    assert!(err.to_string().contains("not the vacancy label 0"), "{err}");
    let mut states = data.init_states.clone();
    states[[0, crystal.neighbour(0, 3)]] = 2;
    let err = exchanged_labels("InitStates", states.view(), &crystal, 2, 3).unwrap_err();
    assert!(err.to_string().contains("second vacancy"), "{err}");
}
