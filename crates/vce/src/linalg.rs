//! The least-squares solve of `W eta = -b` for the symmetric positive semi-definite `W`:
//! an eigen-decomposition, so that the singular values are the absolute eigenvalues and the
//! pseudo-inverse drops those below `rcond` times the largest, as
//! `scipy.linalg.lstsq(W, -b, cond=rcond)` does.

use ndarray::{Array1, Array2};

use crate::error::{Error, Result};

/// Eigenvalues and eigenvectors (columns of `vectors`) of a symmetric matrix.
#[derive(Clone, Debug)]
pub struct SymmetricEigen {
    /// Eigenvalues, smallest first.
    pub values: Vec<f64>,
    pub vectors: Array2<f64>,
}

/// Eigen-decomposition of a symmetric `a` (its symmetric part is used), by faer's
/// self-adjoint eigensolver (one thread). It replaced a hand-written Householder and
/// implicit-QL solver: tests/eigen.rs compares the two on the solve's matrices and
/// examples/eigen_timing.rs times them.
pub fn symmetric_eigen(a: &Array2<f64>) -> Result<SymmetricEigen> {
    let n = a.nrows();
    assert_eq!(a.ncols(), n, "symmetric_eigen needs a square matrix");
    let m = faer::Mat::from_fn(n, n, |i, j| 0.5 * (a[[i, j]] + a[[j, i]]));
    let evd = m
        .self_adjoint_eigen(faer::Side::Lower)
        .map_err(|e| Error::Parameter(format!("the eigen-decomposition of a {n} x {n} W did not converge ({e:?})")))?;
    let (u, s) = (evd.U(), evd.S());
    let values = (0..n).map(|i| s[i]).collect();
    let vectors = Array2::from_shape_fn((n, n), |(r, c)| u[(r, c)]);
    Ok(SymmetricEigen { values, vectors })
}

/// The minimum-norm least-squares solution of `W eta = rhs` with the singular values below
/// `rcond * max` treated as zero.
#[derive(Clone, Debug)]
pub struct LeastSquares {
    pub solution: Array1<f64>,
    /// Singular values of W, largest first (what `W_singvals_{T}.npy` holds).
    pub singular_values: Vec<f64>,
    /// Number of singular values kept.
    pub rank: usize,
}

/// Solves `W x = rhs` by the pseudo-inverse with relative threshold `rcond`.
pub fn least_squares(w: &Array2<f64>, rhs: &Array1<f64>, rcond: f64) -> Result<LeastSquares> {
    let n = w.nrows();
    let eigen = symmetric_eigen(w)?;
    let mut singular_values: Vec<f64> = eigen.values.iter().map(|x| x.abs()).collect();
    singular_values.sort_by(|a, b| b.total_cmp(a));
    let largest = singular_values.first().copied().unwrap_or(0.0);
    let cut = rcond * largest;
    let mut solution = Array1::zeros(n);
    let mut rank = 0;
    for (i, &lambda) in eigen.values.iter().enumerate() {
        if lambda.abs() <= cut || lambda == 0.0 {
            continue;
        }
        rank += 1;
        let q = eigen.vectors.column(i);
        let coefficient = q.dot(rhs) / lambda;
        solution.scaled_add(coefficient, &q);
    }
    Ok(LeastSquares { solution, singular_values, rank })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn check_decomposition(a: &Array2<f64>, tol: f64) {
        let n = a.nrows();
        let e = symmetric_eigen(a).unwrap();
        let lambda = Array2::from_diag(&Array1::from(e.values.clone()));
        let back = e.vectors.dot(&lambda).dot(&e.vectors.t());
        let scale = a.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        let err = (&back - a).iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(err < tol * scale, "n = {n}: reconstruction off by {err}");
        let id = e.vectors.t().dot(&e.vectors);
        let err = (&id - &Array2::<f64>::eye(n)).iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(err < tol, "n = {n}: vectors not orthonormal by {err}");
    }

    #[test]
    fn eigen_reconstructs_the_matrix() {
        let a = array![[4.0, 1.0, -2.0, 0.5], [1.0, 3.0, 0.5, 0.0], [-2.0, 0.5, 1.0, 0.25], [0.5, 0.0, 0.25, 2.0]];
        check_decomposition(&a, 1e-13);
        check_decomposition(&array![[2.5]], 1e-15);
        check_decomposition(&array![[1.0, 2.0], [2.0, -1.0]], 1e-14);
        check_decomposition(&Array2::zeros((3, 3)), 1e-15);
        check_decomposition(&Array2::from_diag(&array![3.0, -1.0, 0.0, 3.0]), 1e-15);
        // Larger matrices with repeated and zero eigenvalues: a Gram matrix of rank 7.
        let mut x = 0.3f64;
        let mut next = || {
            x = (x * 3.7 + 0.1).fract();
            x - 0.5
        };
        let g = Array2::from_shape_fn((40, 7), |_| next());
        check_decomposition(&g.dot(&g.t()), 1e-12);
        let r = Array2::from_shape_fn((60, 60), |_| next());
        check_decomposition(&(&r + &r.t()), 1e-12);
    }

    #[test]
    fn rank_deficient_solve_is_the_minimum_norm_solution() {
        // W = u u^T with u = (1, 1, 0): rank 1; W x = (2, 2, 0) has minimum-norm x = (1, 1, 0).
        let w = array![[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]];
        let ls = least_squares(&w, &array![2.0, 2.0, 0.0], 1e-8).unwrap();
        assert_eq!(ls.rank, 1);
        assert!((ls.singular_values[0] - 2.0).abs() < 1e-14 && ls.singular_values[1].abs() < 1e-14);
        assert!((&ls.solution - &array![1.0, 1.0, 0.0]).iter().all(|x| x.abs() < 1e-14));
        // A tiny singular value above the threshold is kept, below it dropped.
        let w = array![[1.0, 0.0], [0.0, 1e-10]];
        assert_eq!(least_squares(&w, &array![1.0, 1.0], 1e-8).unwrap().rank, 1);
        assert_eq!(least_squares(&w, &array![1.0, 1.0], 1e-12).unwrap().rank, 2);
    }

    #[test]
    fn empty_system() {
        let ls = least_squares(&Array2::zeros((0, 0)), &Array1::zeros(0), 1e-8).unwrap();
        assert_eq!((ls.solution.len(), ls.rank, ls.singular_values.len()), (0, 0, 0));
    }
}
