//! The expansion and its solution: a hand-computed two-sample case, the variational
//! minimum on generated data, and clear errors for singular W and bad inputs.

mod common;

use common::{binary_gas, fcc, model_relaxation, random_gas};
use gcnet_srb::srb::expansion::{Expansion, corrected_l, expand, solve_coefficients};
use gcnet_srb::srb::{DEFAULT_MAX_CONDITION, SrbProblem};
use gcnet_srb::{Error, RelaxationVectors, SingularPolicy, SrbConfig, scaled_residual_bias};
use ndarray::{Array2, Array3, array};

fn config(species: &[usize], n_train: usize) -> SrbConfig {
    SrbConfig {
        species: species.to_vec(),
        vacancy: 2,
        a0: 1.0,
        n_train,
        basis_labels: None,
        max_condition: DEFAULT_MAX_CONDITION,
        singular: SingularPolicy::Refuse,
    }
}

/// Two samples, two basis vectors:
/// n = 0: W = 2, D = (1,0,0), dB_0 = (1,0,0), dB_1 = (0,1,0);
/// n = 1: W = 1, D = (0,2,0), dB_0 = (1,1,0), dB_1 = (0,1,0).
/// W = [[4,1],[1,3]], b = [4,2], theta = -W^-1 b = (-10/11, -4/11);
/// L[y] = (2*1 + 1*4)/12 = 1/2, L corrected = (6 + theta.b)/12 = 3/22.
#[test]
fn a_hand_computed_two_sample_case() {
    let residual = array![[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]];
    let mut delta = Array3::zeros((2, 2, 3));
    delta[[0, 0, 0]] = 1.0;
    delta[[1, 0, 1]] = 1.0;
    delta[[0, 1, 0]] = 1.0;
    delta[[0, 1, 1]] = 1.0;
    delta[[1, 1, 1]] = 1.0;
    let rates = array![2.0, 1.0];
    let expansion = expand(delta.view(), residual.view(), rates.view(), 0..2);
    assert_eq!(expansion.w, array![[4.0, 1.0], [1.0, 3.0]]);
    assert_eq!(expansion.b, array![4.0, 2.0]);
    let solved = solve_coefficients(&expansion, &[0, 1], DEFAULT_MAX_CONDITION, SingularPolicy::Refuse).unwrap();
    assert!((solved.theta[0] + 10.0 / 11.0).abs() < 1e-14 && (solved.theta[1] + 4.0 / 11.0).abs() < 1e-14);
    let l_y = corrected_l(delta.view(), residual.view(), rates.view(), &[0.0, 0.0], 0..2);
    let l_srb = corrected_l(delta.view(), residual.view(), rates.view(), &solved.theta, 0..2);
    assert!((l_y - 0.5).abs() < 1e-15);
    assert!((l_srb - 3.0 / 22.0).abs() < 1e-15, "{l_srb}");
    // One sample on its own: L over 1..2 is W |D + theta.dB|^2 / 6 = (164/121) / 6.
    let l_second = corrected_l(delta.view(), residual.view(), rates.view(), &solved.theta, 1..2);
    assert!((l_second - 164.0 / 121.0 / 6.0).abs() < 1e-15);
}

#[test]
fn the_coefficients_minimise_the_training_l() {
    let crystal = fcc(4);
    let data = random_gas(&crystal, &[40, 23], 400, 21);
    let y = model_relaxation(&crystal, &data, 1.0, 0.5);
    for species in [vec![1], vec![0], vec![2], vec![0, 1]] {
        let config = config(&species, 300);
        let report = scaled_residual_bias(&data, &crystal, &y, &config).unwrap();
        let problem = SrbProblem::new(&data, &crystal, &y, &config).unwrap();
        let theta = &report.coefficients.theta;
        let best = problem.l(theta, 0..300);
        assert!((best - report.train.l_srb).abs() < 1e-14 * best);
        assert!(report.train.l_srb <= report.train.l_y, "{species:?}: {report:?}");
        for a in 0..theta.len() {
            for eps in [1e-3, -1e-3, 0.1, -0.1] {
                let mut t = theta.clone();
                t[a] += eps;
                assert!(problem.l(&t, 0..300) > best, "{species:?}: theta[{a}] + {eps} lowered L");
            }
        }
        let mut t = theta.clone();
        t.iter_mut().enumerate().for_each(|(a, x)| *x += 1e-2 * (a as f64 - 1.0));
        assert!(problem.l(&t, 0..300) > best);
        let validation = report.validation.unwrap();
        assert_eq!((report.train.samples, validation.samples), (300, 100));
        assert!(validation.l_srb.is_finite() && validation.l0 > 0.0);
        assert_eq!(report.expanded, species[0]);
    }
}

#[test]
fn zero_y_with_every_label_is_singular_and_says_why() {
    let crystal = fcc(4);
    let data = random_gas(&crystal, &[40, 23], 200, 22);
    let y = RelaxationVectors::zeros(200, crystal.z());
    let err = scaled_residual_bias(&data, &crystal, &y, &config(&[1], 150)).unwrap_err();
    assert!(matches!(err, Error::Singular(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("linearly") && message.contains("B_0") && message.contains("B_2"), "{message}");
    // Without the vacancy's basis vector the plain bias basis is well posed.
    let mut config = config(&[1], 150);
    config.basis_labels = Some(vec![0, 1]);
    let report = scaled_residual_bias(&data, &crystal, &y, &config).unwrap();
    assert_eq!(report.basis_labels, [0, 1]);
    assert!((report.train.l_y - report.train.l0).abs() < 1e-15);
    assert!(report.train.l_srb < report.train.l_y);
}

#[test]
fn an_absent_species_is_named() {
    let crystal = fcc(4);
    let data = random_gas(&crystal, &[40, 23, 0], 100, 23);
    let y = model_relaxation(&crystal, &data, 1.0, 0.5);
    let mut config = config(&[0], 100);
    config.vacancy = 3;
    let err = scaled_residual_bias(&data, &crystal, &y, &config).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("label(s) [2]") && message.contains("absent"), "{message}");
}

#[test]
fn a_near_singular_w_is_refused() {
    let expansion = Expansion { w: array![[1.0, 1.0], [1.0, 1.0 + 1e-12]], b: array![1.0, 2.0] };
    let err = solve_coefficients(&expansion, &[3, 5], DEFAULT_MAX_CONDITION, SingularPolicy::Refuse).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("condition number") && message.contains("B_3") && message.contains("B_5"), "{message}");
    // A moderate condition number is solved.
    let expansion = Expansion { w: array![[1.0, 0.5], [0.5, 1.0]], b: array![1.0, 2.0] };
    let solved = solve_coefficients(&expansion, &[0, 1], DEFAULT_MAX_CONDITION, SingularPolicy::Refuse).unwrap();
    assert!((solved.condition - 3.0).abs() < 1e-12);
    let nan = Expansion { w: array![[f64::NAN]], b: array![1.0] };
    assert!(
        solve_coefficients(&nan, &[0], DEFAULT_MAX_CONDITION, SingularPolicy::Refuse)
            .unwrap_err()
            .to_string()
            .contains("NaN")
    );
}

#[test]
fn inconsistent_inputs_are_reported() {
    let crystal = fcc(4);
    let data = binary_gas(&crystal, [40, 23], 2.5, 20, 24);
    let y = RelaxationVectors::zeros(20, crystal.z());
    let err = scaled_residual_bias(&data, &crystal, &y, &config(&[1], 10)).unwrap_err();
    assert!(err.to_string().contains("a0 = 2.5"), "{err}");
    let mut config = config(&[1], 10);
    config.a0 = 2.5;
    let mut short = y.clone();
    short.st1_exits = Array2::zeros((20, 3));
    let err = scaled_residual_bias(&data, &crystal, &short, &config).unwrap_err();
    assert!(err.to_string().contains("y_st1_exits") && err.to_string().contains("(240, 3)"), "{err}");
    config.n_train = 21;
    assert!(scaled_residual_bias(&data, &crystal, &y, &config).unwrap_err().to_string().contains("training size"));
    config.n_train = 10;
    config.species = vec![1, 2];
    assert!(matches!(scaled_residual_bias(&data, &crystal, &y, &config), Err(Error::Species(_))));
    let mut bad = y.clone();
    bad.st2[[3, 1]] = f64::NAN;
    config.species = vec![1];
    assert!(scaled_residual_bias(&data, &crystal, &bad, &config).unwrap_err().to_string().contains("y_st2 row 3"));
}

#[test]
fn fixed_species_rates_are_refused_or_truncated() {
    // With one rate per species the atoms' biases obey B_0 / 0.2 + B_1 / 1.0 = 0.
    let crystal = fcc(4);
    let data = binary_gas(&crystal, [40, 23], 1.0, 300, 25);
    let y = model_relaxation(&crystal, &data, 1.0, 0.5);
    let refused = scaled_residual_bias(&data, &crystal, &y, &config(&[2], 200)).unwrap_err();
    assert!(refused.to_string().contains("fixed rate per species"), "{refused}");
    let mut config = config(&[2], 200);
    config.singular = SingularPolicy::Truncate;
    let report = scaled_residual_bias(&data, &crystal, &y, &config).unwrap();
    assert_eq!(report.coefficients.dropped.len(), 1, "{:?}", report.coefficients.dropped);
    assert!(report.coefficients.dropped[0].contains("B_0") && report.coefficients.dropped[0].contains("B_1"));
    assert!(report.train.l_srb < report.train.l_y);
    // Still the minimum: perturbing any coefficient raises the training L.
    let problem = SrbProblem::new(&data, &crystal, &y, &config).unwrap();
    let best = problem.l(&report.coefficients.theta, 0..200);
    for a in 0..3 {
        let mut t = report.coefficients.theta.clone();
        t[a] += 1e-3;
        assert!(problem.l(&t, 0..200) >= best - 1e-15 * best);
    }
    // The same correction as a well-posed basis without label 0.
    config.singular = SingularPolicy::Refuse;
    config.basis_labels = Some(vec![1, 2]);
    let subset = scaled_residual_bias(&data, &crystal, &y, &config).unwrap();
    assert!((subset.train.l_srb - report.train.l_srb).abs() < 1e-9 * report.train.l_srb);
}

#[test]
fn truncation_zeroes_an_absent_label() {
    let crystal = fcc(4);
    let data = random_gas(&crystal, &[40, 23, 0], 100, 26);
    let y = model_relaxation(&crystal, &data, 1.0, 0.5);
    let mut config = config(&[0], 100);
    config.vacancy = 3;
    config.singular = SingularPolicy::Truncate;
    let report = scaled_residual_bias(&data, &crystal, &y, &config).unwrap();
    assert_eq!(report.coefficients.theta[2], 0.0);
    assert_eq!(report.coefficients.dropped, ["B_2 never changes"]);
    assert!(report.train.l_srb < report.train.l_y);
}
