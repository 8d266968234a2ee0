//! faer's eigen-decomposition (what `linalg` uses) against the hand-written Householder and
//! implicit-QL solver it replaced (tests/reference), on the matrices the solve meets: W of
//! SR-2 data for growing expansions (rank-deficient, eigenvalues from 1e3 down to round-off)
//! and plain symmetric matrices. Eigenvalues, singular values, rank, coefficients and L
//! agree to 1e-12, and faer's V diag(w) V^T gives W back to 1e-12.

mod common;
mod reference;

use gcnet_data::LatticeGas;
use gcnet_vce::linalg::{least_squares, symmetric_eigen};
use gcnet_vce::{Samples, SpeciesChoice, fit};
use ndarray::{Array1, Array2};

fn max_abs<'a>(x: impl IntoIterator<Item = &'a f64>) -> f64 {
    x.into_iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Both decompositions of `a`: the same eigenvalues, and faer's reconstructs `a`.
fn agree(a: &Array2<f64>, what: &str) {
    let n = a.nrows();
    let scale = max_abs(a.iter()).max(1e-300);
    let new = symmetric_eigen(a).unwrap();
    let old = reference::symmetric_eigen(a);
    let mut old_values = old.values.clone();
    old_values.sort_by(f64::total_cmp);
    let diff = max_abs(new.values.iter().zip(&old_values).map(|(x, y)| x - y).collect::<Vec<_>>().iter());
    assert!(diff <= 1e-12 * scale, "{what}: eigenvalues differ by {diff:e} (scale {scale:e})");
    let back = new.vectors.dot(&Array2::from_diag(&Array1::from(new.values.clone()))).dot(&new.vectors.t());
    let err = max_abs((&back - a).iter());
    assert!(err <= 1e-12 * scale, "{what}: V diag(w) V^T is off by {err:e} (scale {scale:e})");
    let ortho = max_abs((&new.vectors.t().dot(&new.vectors) - &Array2::<f64>::eye(n)).iter());
    assert!(ortho <= 1e-12, "{what}: V^T V is off the identity by {ortho:e}");
}

#[test]
fn faer_agrees_with_the_hand_written_solver_on_the_normal_equations() {
    let crystal = common::committed_fcc();
    let data = LatticeGas::sr2(0.5).generate(&crystal, 1500, 2026).unwrap();
    let choice = SpeciesChoice { species: 1, vacancy: 2 };
    for (mo, cc) in [(2, 0.71), (3, 0.71), (4, 0.71), (3, 1.01), (2, 1.42), (3, 1.23)] {
        let e = common::expansion(&crystal, mo, cc, 3, false);
        let samples = Samples::new(&data, "sr2", &e, choice).unwrap();
        for all_jumps in [false, true] {
            let what = format!("-mo {mo} -cc {cc}{}", if all_jumps { " -aj" } else { "" });
            let normal = fit::expand(&e, &samples, 0..1000, all_jumps).unwrap();
            agree(&normal.w, &what);
            let rhs = normal.b.mapv(|x| -x);
            let new = least_squares(&normal.w, &rhs, 1e-8).unwrap();
            let (eta, singular_values, rank) = reference::least_squares(&normal.w, &rhs, 1e-8);
            assert_eq!(new.rank, rank, "{what}");
            let largest = singular_values[0];
            let sv = max_abs(
                new.singular_values.iter().zip(&singular_values).map(|(x, y)| x - y).collect::<Vec<_>>().iter(),
            );
            assert!(sv <= 1e-12 * largest, "{what}: singular values differ by {sv:e}");
            let d_eta = max_abs((&new.solution - &eta).iter()) / max_abs(eta.iter());
            let d = &new.solution - &eta;
            let d_w = (d.dot(&normal.w.dot(&d)) / eta.dot(&normal.w.dot(&eta))).sqrt();
            let kept = &singular_values[..rank];
            let cond = kept[0] / kept[rank - 1];
            let l = |eta: &Array1<f64>| fit::transport(&e, &samples, eta, 0..1500).unwrap().l;
            let d_l = (l(&new.solution) - l(&eta)).abs() / l(&eta);
            eprintln!(
                "{what}: K = {}, rank {rank}, cond {cond:.1e}, eta rel {d_eta:.1e}, W-norm {d_w:.1e}, L rel {d_l:.1e}, sv {:.1e}",
                e.num_vector_groups(),
                sv / largest
            );
            assert!(d_w <= 1e-12, "{what}: coefficients differ by {d_w:e} in the W norm");
            assert!(d_eta <= 1e-15 * cond, "{what}: coefficients differ by {d_eta:e} at condition {cond:e}");
            assert!(d_l <= 1e-12, "{what}: L differs by {d_l:e} (relative)");
        }
    }
}

#[test]
fn faer_agrees_on_plain_symmetric_matrices() {
    let mut rng = common::Rng(9);
    for n in [1, 2, 5, 40, 200] {
        let r = Array2::from_shape_fn((n, n), |_| rng.uniform() - 0.5);
        agree(&(&r + &r.t()), &format!("random symmetric {n} x {n}"));
        let g = Array2::from_shape_fn((n, n.div_ceil(3)), |_| rng.uniform() - 0.5);
        agree(&g.dot(&g.t()), &format!("Gram matrix {n} x {n} of rank {}", n.div_ceil(3)));
    }
    agree(&Array2::zeros((4, 4)), "zero");
    agree(&Array2::from_diag(&Array1::from(vec![3.0, -1.0, 0.0, 3.0])), "diagonal with a repeated eigenvalue");
}
