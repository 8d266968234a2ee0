//! Eigen-decomposition of small symmetric matrices (the label-by-label W) by cyclic Jacobi
//! rotations (Golub and Van Loan, Matrix Computations, section 8.5).

use ndarray::Array2;

/// Eigenvalues (ascending) and eigenvectors (columns, in the same order) of the symmetric
/// matrix `a`.
pub(crate) fn symmetric_eigen(a: &Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let n = a.nrows();
    let mut a = a.clone();
    let mut v = Array2::eye(n);
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|p| (0..n).filter(move |&q| q != p).map(move |q| (p, q)))
            .map(|(p, q)| a[[p, q]].powi(2))
            .sum();
        let scale: f64 = a.iter().map(|x| x * x).sum();
        if off <= 1e-30 * scale || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[[p, q]] == 0.0 {
                    continue;
                }
                let theta = (a[[q, q]] - a[[p, p]]) / (2.0 * a[[p, q]]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[[k, p]], a[[k, q]]);
                    a[[k, p]] = c * akp - s * akq;
                    a[[k, q]] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[[p, k]], a[[q, k]]);
                    a[[p, k]] = c * apk - s * aqk;
                    a[[q, k]] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[[k, p]], v[[k, q]]);
                    v[[k, p]] = c * vkp - s * vkq;
                    v[[k, q]] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[[i, i]].total_cmp(&a[[j, j]]));
    let values = order.iter().map(|&i| a[[i, i]]).collect();
    let vectors = Array2::from_shape_fn((n, n), |(r, c)| v[[r, order[c]]]);
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconstructs_a_symmetric_matrix() {
        let a = ndarray::array![[4.0, 1.0, -2.0], [1.0, 3.0, 0.5], [-2.0, 0.5, 1.0]];
        let (values, vectors) = symmetric_eigen(&a);
        assert!(values.windows(2).all(|w| w[0] <= w[1]));
        let lambda = Array2::from_diag(&ndarray::Array1::from(values));
        let back = vectors.dot(&lambda).dot(&vectors.t());
        assert!((&back - &a).iter().all(|x| x.abs() < 1e-12), "{back}");
        let identity = vectors.t().dot(&vectors);
        assert!((&identity - &Array2::<f64>::eye(3)).iter().all(|x| x.abs() < 1e-12));
    }

    #[test]
    fn finds_the_null_vector_of_a_singular_matrix() {
        let a = ndarray::array![[1.0, -1.0], [-1.0, 1.0]];
        let (values, vectors) = symmetric_eigen(&a);
        assert!(values[0].abs() < 1e-14 && (values[1] - 2.0).abs() < 1e-14);
        assert!((vectors[[0, 0]].abs() - 0.5f64.sqrt()).abs() < 1e-12);
        assert!((vectors[[0, 0]] - vectors[[1, 0]]).abs() < 1e-12);
    }
}
