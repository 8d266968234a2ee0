//! The exact finite-cell tracer correlation factor: agreement with a dense solve, the
//! variational minimum, and convergence to the infinite-lattice values.

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_srb::tracer::{TracerNetwork, exact_tracer_correlation, exact_tracer_correlation_cube};

fn crystal(kind: LatticeKind, cell: CellKind, n: usize) -> CrystalData {
    CrystalData::from_crystal(&Crystal::cube(kind, cell, n).unwrap())
}

/// `sum over transitions |u + y(to) - y(from)|^2` for a given y (indexed by site).
fn objective(network: &TracerNetwork, y: &[[f64; 3]]) -> f64 {
    network
        .transitions()
        .iter()
        .map(|t| (0..3).map(|c| (t.tracer_displacement[c] + y[t.to][c] - y[t.from][c]).powi(2)).sum::<f64>())
        .sum()
}

/// Dense Gaussian elimination with partial pivoting on the normal equations, state
/// `num_sites - 1` pinned to zero to remove the constant null vector.
#[allow(clippy::needless_range_loop)] // textbook elimination reads best with indices
fn dense_f(network: &TracerNetwork) -> f64 {
    let n = network.num_sites();
    let m = n - 2; // unknowns: sites 1..n-1
    let mut y = vec![[0.0; 3]; n];
    for c in 0..3 {
        let mut a = vec![vec![0.0; m + 1]; m];
        for t in network.transitions() {
            let u = t.tracer_displacement[c];
            // d/dy of (u + y_to - y_from)^2 / 2 for both endpoints.
            for (row, sign) in [(t.to, 1.0), (t.from, -1.0)] {
                if row == n - 1 {
                    continue;
                }
                for (col, s2) in [(t.to, 1.0), (t.from, -1.0)] {
                    if col != n - 1 {
                        a[row - 1][col - 1] += sign * s2;
                    }
                }
                a[row - 1][m] -= sign * u;
            }
        }
        for k in 0..m {
            let p = (k..m).max_by(|&i, &j| a[i][k].abs().total_cmp(&a[j][k].abs())).unwrap();
            a.swap(k, p);
            for i in k + 1..m {
                let factor = a[i][k] / a[k][k];
                for j in k..=m {
                    a[i][j] -= factor * a[k][j];
                }
            }
        }
        for k in (0..m).rev() {
            let sum: f64 = (k + 1..m).map(|j| a[k][j] * y[j + 1][c]).sum();
            y[k + 1][c] = (a[k][m] - sum) / a[k][k];
        }
    }
    objective(network, &y) / objective(network, &vec![[0.0; 3]; n])
}

#[test]
fn conjugate_gradients_agree_with_a_dense_solve() {
    for (kind, n) in [
        (LatticeKind::Fcc, 3),
        (LatticeKind::Bcc, 3),
        (LatticeKind::Sc, 3),
        (LatticeKind::Sc, 4),
        (LatticeKind::Bcc, 4),
    ] {
        let data = crystal(kind, CellKind::Primitive, n);
        let exact = exact_tracer_correlation(&data).unwrap();
        let dense = dense_f(&TracerNetwork::new(&data).unwrap());
        assert!((exact.f - dense).abs() < 1e-10, "{kind} {n}: cg {} dense {dense}", exact.f);
        assert!(exact.relative_residual < 1e-10);
    }
}

#[test]
fn the_solution_is_the_variational_minimum() {
    let data = crystal(LatticeKind::Bcc, CellKind::Primitive, 4);
    let network = TracerNetwork::new(&data).unwrap();
    let exact = exact_tracer_correlation(&data).unwrap();
    let best = objective(&network, &exact.relaxation);
    assert!((best / objective(&network, &vec![[0.0; 3]; data.num_sites()]) - exact.f).abs() < 1e-12);
    for (site, c, eps) in [(1, 0, 1e-3), (5, 1, -1e-2), (17, 2, 0.1), (63, 0, -1e-4)] {
        let mut y = exact.relaxation.clone();
        y[site][c] += eps;
        assert!(objective(&network, &y) > best, "perturbing site {site} lowered L");
    }
    assert!(exact.l_corrected < exact.l_uncorrelated);
    assert!((exact.l_corrected / exact.l_uncorrelated - exact.f).abs() < 1e-14);
}

#[test]
fn primitive_and_cubic_simple_cubic_cells_agree() {
    let primitive = exact_tracer_correlation_cube(LatticeKind::Sc, CellKind::Primitive, 4).unwrap();
    let cubic = exact_tracer_correlation_cube(LatticeKind::Sc, CellKind::Cubic, 4).unwrap();
    assert!((primitive.f - cubic.f).abs() < 1e-12);
}

#[test]
fn the_relaxation_vector_is_odd_under_inversion() {
    // The vacancy at -x relaxes opposite to the vacancy at x (inversion symmetry).
    let data = crystal(LatticeKind::Fcc, CellKind::Primitive, 5);
    let exact = exact_tracer_correlation(&data).unwrap();
    for k in 0..data.z() {
        let (s, t) = (data.neighbour(0, k), data.neighbour(0, data.opposite_jump(k).unwrap()));
        for c in 0..3 {
            assert!((exact.relaxation[s][c] + exact.relaxation[t][c]).abs() < 1e-9);
        }
        // Next to the tracer the vacancy pulls it back: y points along the jump to it.
        let dx = data.jump_vector(k);
        let along: f64 = (0..3).map(|c| exact.relaxation[s][c] * dx[c]).sum();
        assert!(along > 0.0, "jump {k}: y . dx = {along}");
    }
}

#[test]
fn finite_cells_converge_to_the_infinite_lattice() {
    for (kind, sizes) in
        [(LatticeKind::Fcc, [4usize, 6, 8, 12]), (LatticeKind::Bcc, [4, 6, 8, 12]), (LatticeKind::Sc, [4, 6, 8, 12])]
    {
        let reference = kind.tracer_correlation_factor();
        let mut previous = f64::INFINITY;
        let mut table = Vec::new();
        for n in sizes {
            let start = std::time::Instant::now();
            let f = exact_tracer_correlation_cube(kind, CellKind::Primitive, n).unwrap().f;
            eprintln!("{kind} {n}^3: f_N = {f:.6} (infinite {reference}) in {:.3} s", start.elapsed().as_secs_f64());
            let error = (f - reference).abs();
            assert!(error < previous, "{kind} {n}: |f_N - f| = {error} did not shrink");
            assert!(f > reference, "{kind} {n}: finite cells correlate less than the infinite lattice");
            previous = error;
            table.push(((n * n * n) as f64, f));
        }
        assert!(previous < 2e-3, "{kind}: the largest cell is still {previous} away from {reference}");
        // f_N = f + c / N: extrapolating the two largest cells lands on the published value.
        let [(n1, f1), (n2, f2)] = [table[2], table[3]];
        let extrapolated = (n2 * f2 - n1 * f1) / (n2 - n1);
        assert!((extrapolated - reference).abs() < 5e-5, "{kind}: extrapolated {extrapolated}, published {reference}");
    }
}
