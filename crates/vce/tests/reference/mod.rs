//! The hand-written symmetric eigensolver that `gcnet_vce::linalg` used before faer
//! (Householder tridiagonalisation and implicit QL, Golub and Van Loan, 4th ed., sections
//! 8.3.1 and 8.3.5), kept as the reference the faer decomposition is compared with and
//! timed against (tests/eigen.rs, examples/eigen_timing.rs).
#![allow(dead_code)]

use ndarray::{Array1, Array2};

/// Eigenvalues and eigenvectors (columns of `vectors`) of a symmetric matrix.
#[derive(Clone, Debug)]
pub struct SymmetricEigen {
    pub values: Vec<f64>,
    pub vectors: Array2<f64>,
}

/// Eigen-decomposition of a symmetric `a` (its symmetric part is used): Householder
/// reduction to tridiagonal form, then the implicit QL iteration with shifts (Golub and Van
/// Loan, Matrix Computations, 4th ed., sections 8.3.1 and 8.3.5). About 9 n^3 operations,
/// so a W of a few thousand vector groups takes seconds.
pub fn symmetric_eigen(a: &Array2<f64>) -> SymmetricEigen {
    let n = a.nrows();
    assert_eq!(a.ncols(), n, "symmetric_eigen needs a square matrix");
    let mut m: Vec<f64> = (0..n * n).map(|idx| 0.5 * (a[[idx / n, idx % n]] + a[[idx % n, idx / n]])).collect();
    let (mut d, mut e, mut vt) = tridiagonalize(&mut m, n);
    implicit_ql(&mut d, &mut e, &mut vt, n);
    let vectors = Array2::from_shape_fn((n, n), |(r, c)| vt[c * n + r]);
    SymmetricEigen { values: d, vectors }
}

/// Reduces the symmetric row-major `a` (n x n, overwritten) to `Q^T a Q = T`, tridiagonal
/// with diagonal `d` and off-diagonal `e` (`e[i]` couples i and i + 1), and returns `Q^T`
/// row-major (row i is column i of Q).
fn tridiagonalize(a: &mut [f64], n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut e = vec![0.0; n.saturating_sub(1)];
    let mut reflectors: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n.saturating_sub(2));
    for k in 0..n.saturating_sub(2) {
        // x = a[k+1.., k]; the reflection (I - beta v v^T) maps it onto alpha e_1.
        let len = n - k - 1;
        let mut v: Vec<f64> = (0..len).map(|i| a[(k + 1 + i) * n + k]).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            e[k] = 0.0;
            reflectors.push((v, 0.0));
            continue;
        }
        let alpha = if v[0] > 0.0 { -norm } else { norm };
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|x| x * x).sum();
        let beta = 2.0 / vv;
        // B = a[k+1.., k+1..] <- B - v w^T - w v^T with p = beta B v, w = p - (beta p.v / 2) v.
        let mut p = vec![0.0; len];
        for (i, pi) in p.iter_mut().enumerate() {
            let row = &a[(k + 1 + i) * n + k + 1..(k + 1 + i) * n + n];
            *pi = beta * row.iter().zip(&v).map(|(x, y)| x * y).sum::<f64>();
        }
        let half = 0.5 * beta * p.iter().zip(&v).map(|(x, y)| x * y).sum::<f64>();
        let w: Vec<f64> = p.iter().zip(&v).map(|(pi, vi)| pi - half * vi).collect();
        for i in 0..len {
            let (vi, wi) = (v[i], w[i]);
            let row = &mut a[(k + 1 + i) * n + k + 1..(k + 1 + i) * n + n];
            for (j, x) in row.iter_mut().enumerate() {
                *x -= vi * w[j] + wi * v[j];
            }
        }
        e[k] = alpha;
        reflectors.push((v, beta));
    }
    if n >= 2 {
        e[n - 2] = a[(n - 1) * n + n - 2];
    }
    let d: Vec<f64> = (0..n).map(|i| a[i * n + i]).collect();
    // Q = H_0 H_1 ... H_{n-3}, built from the right end; each H_k touches rows and columns
    // k+1.. only. Kept as Q^T so that the QL rotations work on contiguous rows.
    let mut q: Vec<f64> = (0..n * n).map(|idx| f64::from(u8::from(idx / n == idx % n))).collect();
    for (k, (v, beta)) in reflectors.iter().enumerate().rev() {
        if *beta == 0.0 {
            continue;
        }
        let len = v.len();
        let mut s = vec![0.0; len];
        for (i, &vi) in v.iter().enumerate() {
            let row = &q[(k + 1 + i) * n + k + 1..(k + 1 + i) * n + n];
            for (j, x) in row.iter().enumerate() {
                s[j] += vi * x;
            }
        }
        for (i, &vi) in v.iter().enumerate() {
            let row = &mut q[(k + 1 + i) * n + k + 1..(k + 1 + i) * n + n];
            for (j, x) in row.iter_mut().enumerate() {
                *x -= beta * vi * s[j];
            }
        }
    }
    let mut qt = vec![0.0; n * n];
    for r in 0..n {
        for c in 0..n {
            qt[c * n + r] = q[r * n + c];
        }
    }
    (d, e, qt)
}

/// Diagonalises the tridiagonal (d, e) by implicit QL steps with a shift from the leading
/// 2 x 2 block, rotating the rows of `vt` (eigenvectors as rows) along.
fn implicit_ql(d: &mut [f64], e: &mut Vec<f64>, vt: &mut [f64], n: usize) {
    if n < 2 {
        return;
    }
    e.push(0.0);
    for l in 0..n {
        for _iteration in 0..200 {
            // The first negligible coupling at or after l splits off the block l..=m.
            let mut m = l;
            while m < n - 1 && e[m].abs() > f64::EPSILON * (d[m].abs() + d[m + 1].abs()) {
                m += 1;
            }
            if m == l {
                break;
            }
            let t = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let r = t.hypot(1.0);
            let mut g = d[m] - d[l] + e[l] / (t + r.copysign(t));
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut deflated = false;
            for i in (l..m).rev() {
                let f = s * e[i];
                let b = c * e[i];
                let r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    deflated = true;
                    break;
                }
                s = f / r;
                c = g / r;
                let h = d[i + 1] - p;
                let rr = (d[i] - h) * s + 2.0 * c * b;
                p = s * rr;
                d[i + 1] = h + p;
                g = c * rr - b;
                let (upper, lower) = vt.split_at_mut((i + 1) * n);
                let row_i = &mut upper[i * n..];
                let row_next = &mut lower[..n];
                for (x, y) in row_i.iter_mut().zip(row_next.iter_mut()) {
                    let (xi, yi) = (*x, *y);
                    *y = s * xi + c * yi;
                    *x = c * xi - s * yi;
                }
            }
            if deflated {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    e.pop();
}

/// Solves `W x = rhs` by the pseudo-inverse with relative threshold `rcond`.
/// Returns (solution, singular values largest first, rank).
pub fn least_squares(w: &Array2<f64>, rhs: &Array1<f64>, rcond: f64) -> (Array1<f64>, Vec<f64>, usize) {
    let n = w.nrows();
    let eigen = symmetric_eigen(w);
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
    (solution, singular_values, rank)
}
