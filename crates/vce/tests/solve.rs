//! The solve: the coefficients minimise the training L, more clusters never raise it, a
//! rank-deficient W is handled by the -rc threshold, and W and b are what their definition
//! says.

mod common;

use common::Rng;
use gcnet_crystal::{CellKind, LatticeKind};
use gcnet_vce::fit::{self, transport};
use gcnet_vce::linalg::symmetric_eigen;
use gcnet_vce::{Samples, SpeciesChoice};
use ndarray::Array1;

const FAST: SpeciesChoice = SpeciesChoice { species: 1, vacancy: 2 };

#[test]
fn coefficients_minimise_the_training_l() {
    let crystal = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 6);
    let data = common::random_rates(&crystal, 600, 11);
    let e = common::expansion(&crystal, 3, 0.71, 3, false);
    let samples = Samples::new(&data, "random.h5", &e, FAST).unwrap();
    let result = fit::fit(&e, &samples, 400, false, 1e-8).unwrap();
    let best = result.train.l;
    assert!(best < result.train.l0().0);
    let l_at = |eta: &Array1<f64>| transport(&e, &samples, eta, 0..400).unwrap().l;
    // Along every eigenvector of W the training L rises by lambda h^2 / 6 (the functions are
    // linearly dependent, so some eigenvalues are zero: there L stays at the minimum).
    let eigen = symmetric_eigen(&result.normal.w).unwrap();
    let largest = eigen.values.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let mut rising = 0;
    for (i, &lambda) in eigen.values.iter().enumerate() {
        for h in [1e-2, -1e-2, 1e-1] {
            let eta = &result.solution.eta + &(eigen.vectors.column(i).to_owned() * h);
            let rise = l_at(&eta) - best;
            assert!(
                (rise - lambda * h * h / 6.0).abs() < 1e-12 * best,
                "eigenvector {i}: {rise} vs {}",
                lambda * h * h / 6.0
            );
            assert!(rise >= -1e-13 * best, "eigenvector {i} lowers L by {rise}");
            if lambda > 1e-8 * largest {
                assert!(rise > 0.0);
                rising += 1;
            }
        }
    }
    assert_eq!(rising, 3 * result.solution.rank);
    // Random perturbations raise it too.
    let mut rng = Rng(5);
    for trial in 0..30 {
        let scale = [1e-3, 1e-2, 1e-1][trial % 3];
        let eta = result.solution.eta.mapv(|x| x + scale * (2.0 * rng.uniform() - 1.0));
        assert!(l_at(&eta) > best, "trial {trial}");
    }
    // The closed form at the optimum: L0 + (2 eta.b + eta.W.eta) / 6.
    let n = &result.normal;
    let eta = &result.solution.eta;
    let quadratic = (2.0 * eta.dot(&n.b) + eta.dot(&n.w.dot(eta))) / 6.0;
    assert!((result.train.l0().0 + quadratic - best).abs() < 1e-12);
}

#[test]
fn more_clusters_never_raise_the_training_l() {
    let crystal = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 6);
    let data = common::random_rates(&crystal, 500, 21);
    let l_of = |mo, cc| {
        let e = common::expansion(&crystal, mo, cc, 3, false);
        let samples = Samples::new(&data, "random.h5", &e, FAST).unwrap();
        fit::fit(&e, &samples, 400, false, 1e-10).unwrap().train.l
    };
    let l1 = l_of(1, 0.71);
    let l2 = l_of(2, 0.71);
    let l3 = l_of(3, 0.71);
    let l2b = l_of(2, 1.01);
    let l3b = l_of(3, 1.01);
    let tol = 1e-12;
    assert!(l2 <= l1 + tol && l3 <= l2 + tol, "by order: {l1} {l2} {l3}");
    assert!(l2b <= l2 + tol && l3b <= l3 + tol, "by cutoff: {l2} {l2b}, {l3} {l3b}");
    assert!(l3 < l2 && l2 < l1, "each step here gains something: {l1} {l2} {l3}");
}

#[test]
fn rank_deficient_w_of_a_fixed_rate_gas() {
    // With -mo 2 the three unlike-pair functions obey lambda_0v = -lambda_01 and
    // lambda_1v = lambda_01 in every state (the bond vectors around a site add up to zero),
    // so W has rank 1 of 3, whatever the rates; -mo 3 -cc 0.71 has rank 4 of 16.
    let crystal = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 8);
    let data = common::sr2(&crystal, 1000, 3);
    let e = common::expansion(&crystal, 2, 0.71, 3, false);
    let samples = Samples::new(&data, "sr2.h5", &e, FAST).unwrap();
    let result = fit::fit(&e, &samples, 800, false, 1e-8).unwrap();
    let s = &result.solution.singular_values;
    assert_eq!(s.len(), 3);
    assert!(s.windows(2).all(|w| w[0] >= w[1]), "largest first: {s:?}");
    assert_eq!(result.solution.rank, 1, "{s:?}");
    assert!(s[1] < 1e-12 * s[0], "{s:?}");
    assert!(result.solution.eta.iter().all(|x| x.is_finite() && x.abs() < 10.0), "{:?}", result.solution.eta);
    // The minimum-norm solution attains the least-squares minimum: no direction lowers L.
    let best = result.train.l;
    for k in 0..3 {
        for h in [1e-3, -1e-3] {
            let mut eta = result.solution.eta.clone();
            eta[k] += h;
            assert!(transport(&e, &samples, &eta, 0..800).unwrap().l >= best - 1e-14);
        }
    }
    // -mo 3 has more dependent functions: still finite, below -mo 2.
    let e3 = common::expansion(&crystal, 3, 0.71, 3, false);
    let samples3 = Samples::new(&data, "sr2.h5", &e3, FAST).unwrap();
    let r3 = fit::fit(&e3, &samples3, 800, false, 1e-8).unwrap();
    // At most 4 independent functions; the KMC samples of SR-2 hardly ever take a slow
    // jump, which can leave one of them unsampled. All jumps (-aj) sample every one.
    assert!(r3.solution.rank <= 4, "{:?}", r3.solution.singular_values);
    let all = fit::fit(&e3, &samples3, 800, true, 1e-8).unwrap();
    assert_eq!(all.solution.rank, 4, "{:?}", all.solution.singular_values);
    assert!(r3.train.l <= best + 1e-12);
    // Without a threshold the near-zero singular values blow the coefficients up.
    let raw = fit::solve(&r3.normal, 0.0).unwrap();
    assert!(raw.rank >= r3.solution.rank);
}

#[test]
fn w_and_b_follow_their_definition() {
    let crystal = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 6);
    let data = common::random_rates(&crystal, 50, 4);
    let e = common::expansion(&crystal, 3, 0.71, 3, false);
    let samples = Samples::new(&data, "random.h5", &e, FAST).unwrap();
    let k = e.num_vector_groups();
    for all_jumps in [false, true] {
        let normal = fit::expand(&e, &samples, 0..50, all_jumps).unwrap();
        let mut w = ndarray::Array2::<f64>::zeros((k, k));
        let mut b = Array1::<f64>::zeros(k);
        for n in 0..50 {
            let jumps: Vec<(usize, f64, [f64; 3])> = if all_jumps {
                (0..12).map(|j| (j, samples.jump_rate(n, j), samples.jump_displacement(n, j))).collect()
            } else {
                vec![(samples.jump(n), samples.rate(n), samples.displacement(n))]
            };
            for (j, rate, dx) in jumps {
                let d = e.delta_jump(samples.state(n), j).unwrap();
                w += &(d.dot(&d.t()) * rate);
                b += &(d.dot(&Array1::from(dx.to_vec())) * rate);
            }
        }
        w /= 50.0;
        b /= 50.0;
        assert!((&normal.w - &w).iter().all(|x| x.abs() < 1e-12), "-aj {all_jumps}");
        assert!((&normal.b - &b).iter().all(|x| x.abs() < 1e-12), "-aj {all_jumps}");
        assert_eq!(normal.num_states, 50);
    }
}

#[test]
fn per_sample_frame() {
    let crystal = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 6);
    let data = common::sr2(&crystal, 120, 8);
    let e = common::expansion(&crystal, 2, 0.71, 3, false);
    let samples = Samples::new(&data, "sr2.h5", &e, FAST).unwrap();
    let result = fit::fit(&e, &samples, 100, false, 1e-8).unwrap();
    let frame = fit::sample_frame(&samples, &result).unwrap();
    assert_eq!(frame.shape(), (120, 9));
    let terms = frame.column("L_term").unwrap().f64().unwrap();
    let mean: f64 = (0..100).map(|i| terms.get(i).unwrap()).sum::<f64>() / 100.0;
    assert!((mean - result.train.l).abs() < 1e-14);
    let val = result.validation.unwrap();
    assert_eq!(val.terms.len(), 20);
    assert!(val.se > 0.0 && result.train.se > 0.0);
    // The coefficients applied to any state: y(s2) - y(s1) is the sample's Delta eta.
    let eta = result.solution.eta.as_slice().unwrap();
    for n in [0, 57, 119] {
        let before = samples.state(n).to_vec();
        let mut after = before.clone();
        after.swap(0, crystal.neighbour(0, samples.jump(n)));
        let (y1, y2) = (e.relaxation(&before, eta).unwrap(), e.relaxation(&after, eta).unwrap());
        let dy = if n < 100 { result.train.dy[n] } else { val.dy[n - 100] };
        assert!((0..3).all(|c| (y2[c] - y1[c] - dy[c]).abs() < 1e-12), "sample {n}");
    }
}
