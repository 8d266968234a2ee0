//! Every vector basis function transforms as a vector: rotating a state by any of the 48
//! operations rotates lambda(state) (1e-12), and translating it changes nothing.

mod common;

use common::{Rng, permute, random_state};
use gcnet_crystal::{CellKind, LatticeKind};
use ndarray::Array2;

fn rotate_rows(lambda: &Array2<f64>, r: [[f64; 3]; 3]) -> Array2<f64> {
    Array2::from_shape_fn(lambda.dim(), |(k, i)| (0..3).map(|j| r[i][j] * lambda[[k, j]]).sum())
}

fn check(kind: LatticeKind, cell: CellKind, n: usize, mo: usize, cc: f64, labels: usize, min_groups: usize) {
    let crystal = common::crystal(kind, cell, n);
    let e = common::expansion(&crystal, mo, cc, labels, true);
    let g = e.geometry();
    assert!(e.num_vector_groups() >= min_groups, "{kind} -mo {mo} -cc {cc}: {} groups", e.num_vector_groups());
    let mut rng = Rng(0x5eed ^ n as u64);
    for _ in 0..3 {
        let state = random_state(g.num_sites(), labels, &mut rng);
        let lambda = e.lambda(&state).unwrap();
        assert!(lambda.iter().any(|x| x.abs() > 1e-6), "a random state has non-zero basis functions");
        for op in 0..g.rotations().len() {
            let rotated = permute(&state, &g.rotation_permutation(op));
            let got = e.lambda(&rotated).unwrap();
            let want = rotate_rows(&lambda, g.rotation_f64(op));
            let err = (&got - &want).iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert!(err < 1e-12, "{kind} -mo {mo} -cc {cc}: operation {op} off by {err}");
        }
        for t in [1, g.num_sites() / 2 + 3, g.num_sites() - 1] {
            let moved = permute(&state, &g.translation_permutation(t));
            let err = (&e.lambda(&moved).unwrap() - &lambda).iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert!(err < 1e-12, "{kind}: translation by site {t} off by {err}");
        }
    }
}

#[test]
fn fcc_nearest_neighbour_triangles() {
    check(LatticeKind::Fcc, CellKind::Primitive, 6, 3, 0.71, 3, 16);
}

#[test]
fn fcc_second_shell_pairs_and_tetrahedra() {
    check(LatticeKind::Fcc, CellKind::Primitive, 6, 2, 1.01, 3, 3);
    check(LatticeKind::Fcc, CellKind::Primitive, 5, 4, 0.71, 3, 16);
}

#[test]
fn bcc_and_cubic_cells() {
    check(LatticeKind::Bcc, CellKind::Primitive, 6, 3, 1.01, 3, 1);
    // A conventional-cell file: the same lattice, clusters on its primitive translations.
    check(LatticeKind::Fcc, CellKind::Cubic, 3, 2, 0.71, 4, 6);
}
