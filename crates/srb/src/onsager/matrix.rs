//! The Onsager matrix of a sample set from per-sample displacements: every entry as a mean
//! of per-sample terms, its standard error, the sum rules of site conservation and the
//! positive-semidefinite check of the atoms' block with its error.

use std::ops::Range;

use ndarray::{Array1, Array2, Array4, ArrayView1, ArrayView4, Axis, s};

use crate::srb::eigen::symmetric_eigen;

/// Per-state relaxed displacements of the moves out of each state: `u[n, m, a] = dx_a +
/// y_a(s') - y_a(s_n)` of every label a (vacancy included) for move m of state n, with its
/// rate and the label of the atom that jumps. A move is the recorded step (M = 1) or each
/// of the z jumps out of the state (M = z: the recorded step's expectation given the state,
/// the same L with smaller errors). The term of state n is the sum over its moves.
#[derive(Clone, Debug)]
pub struct SampleTerms {
    /// `(N, M, Nlabels, 3)`.
    pub u: Array4<f64>,
    /// `(N, M)`.
    pub rates: Array2<f64>,
    /// `(N, M)`: the label of the atom exchanged with the vacancy.
    pub jumping: Array2<usize>,
    /// The vacancy label (its row and column are the sum rules' subject).
    pub vacancy: usize,
}

/// One sample set's matrix: `L_ab = (1/N) sum_n W_n u_na . u_nb / 6`, labels in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct OnsagerEstimate {
    pub samples: usize,
    /// `(Nlabels, Nlabels)`, symmetric by construction.
    pub l: Array2<f64>,
    /// The standard error of each entry as a sample mean: the standard deviation of its
    /// per-sample terms over sqrt(N) (the terms of an entry are products of two labels'
    /// displacements, so the covariance of the two is in it).
    pub error: Array2<f64>,
    /// `max_a |L_va + sum_{b != v} L_ab|` and `|L_vv - sum_{a,b != v} L_ab|`, relative to
    /// the largest |entry|: site conservation (0 to rounding when the data's vacancy
    /// displacement is minus the atoms').
    pub sum_rule_deviation: f64,
    /// The smallest eigenvalue of the atoms' block (the vacancy row and column left out:
    /// with them the matrix has the null vector (1, ..., 1)) and its standard error, from
    /// the per-sample terms `W_n |sum_a v_a u_na|^2 / 6` along its eigenvector v.
    pub min_eigenvalue: f64,
    pub min_eigenvalue_error: f64,
}

impl SampleTerms {
    /// Number of states.
    pub fn len(&self) -> usize {
        self.rates.nrows()
    }

    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }

    pub fn num_labels(&self) -> usize {
        self.u.shape()[2]
    }

    /// `W u_a . u_b / 6` of every move of the states in `states` `(n, M)`: the kinosons of
    /// the pair (a, b) move by move.
    pub fn move_terms(&self, a: usize, b: usize, states: Range<usize>) -> Array2<f64> {
        let u = self.u.slice(s![states.clone(), .., .., ..]);
        let w = self.rates.slice(s![states, ..]);
        Array2::from_shape_fn(w.dim(), |(n, m)| {
            let (ua, ub) = (u.slice(s![n, m, a, ..]), u.slice(s![n, m, b, ..]));
            w[[n, m]] * ua.dot(&ub) / 6.0
        })
    }

    /// The kinosons of the pair (a, b) state by state (summed over the moves): their mean
    /// is `L_ab`.
    pub fn pair_terms(&self, a: usize, b: usize, states: Range<usize>) -> Array1<f64> {
        self.move_terms(a, b, states).sum_axis(Axis(1))
    }

    /// The matrix, its errors and checks over `states` (at least two).
    pub fn estimate(&self, states: Range<usize>) -> OnsagerEstimate {
        let nl = self.num_labels();
        let m = states.len();
        let mut l = Array2::zeros((nl, nl));
        let mut error = Array2::zeros((nl, nl));
        for a in 0..nl {
            for b in a..nl {
                let (mean, se) = mean_and_error(self.pair_terms(a, b, states.clone()).view());
                (l[[a, b]], l[[b, a]]) = (mean, mean);
                (error[[a, b]], error[[b, a]]) = (se, se);
            }
        }
        let v = self.vacancy;
        let atoms: Vec<usize> = (0..nl).filter(|&a| a != v).collect();
        let scale = l.iter().fold(0.0f64, |x, y| x.max(y.abs())).max(f64::MIN_POSITIVE);
        let row = atoms.iter().map(|&a| (l[[v, a]] + atoms.iter().map(|&b| l[[a, b]]).sum::<f64>()).abs());
        let total: f64 = atoms.iter().flat_map(|&a| atoms.iter().map(move |&b| (a, b))).map(|(a, b)| l[[a, b]]).sum();
        let sum_rule_deviation = row.chain([(l[[v, v]] - total).abs()]).fold(0.0, f64::max) / scale;
        let block = Array2::from_shape_fn((atoms.len(), atoms.len()), |(i, j)| l[[atoms[i], atoms[j]]]);
        let (values, vectors) = symmetric_eigen(&block);
        let vmin = vectors.column(0);
        // The per-state terms of v.L.v = sum_m W |sum_a v_a u_a|^2 / 6 along the eigenvector.
        let u = self.u.slice(s![states.clone(), .., .., ..]);
        let w = self.rates.slice(s![states, ..]);
        let along = Array1::from_shape_fn(m, |n| {
            (0..w.ncols())
                .map(|k| {
                    let mut d = [0.0; 3];
                    for (i, &a) in atoms.iter().enumerate() {
                        (0..3).for_each(|x| d[x] += vmin[i] * u[[n, k, a, x]]);
                    }
                    w[[n, k]] * d.iter().map(|x| x * x).sum::<f64>() / 6.0
                })
                .sum::<f64>()
        });
        let (_, min_eigenvalue_error) = mean_and_error(along.view());
        OnsagerEstimate { samples: m, l, error, sum_rule_deviation, min_eigenvalue: values[0], min_eigenvalue_error }
    }
}

impl OnsagerEstimate {
    /// Positive semidefinite within errors: the smallest eigenvalue of the atoms' block is
    /// above minus three of its standard errors.
    pub fn positive_semidefinite(&self) -> bool {
        self.min_eigenvalue >= -3.0 * self.min_eigenvalue_error
    }
}

/// Mean and standard error of the mean (NaN error for fewer than two values): the data
/// crate's one definition.
pub(crate) fn mean_and_error(x: ArrayView1<'_, f64>) -> (f64, f64) {
    let e = gcnet_data::Estimate::of(&x.to_vec());
    (e.value, e.error)
}

/// Adds the atoms' relaxation-vector changes `dy (N, M, Natoms, 3)` (atoms in label order:
/// every label but the vacancy) to the displacements `u (N, M, Nlabels, 3)`, and minus
/// their sum to the vacancy's: its y is minus the sum of the atoms' (site conservation),
/// its dx stays the data's own, so the sum rules check the data.
pub fn add_relaxation(u: &mut Array4<f64>, dy: ArrayView4<'_, f64>, vacancy: usize) {
    let (n, moves, nl, _) = u.dim();
    let atoms: Vec<usize> = (0..nl).filter(|&a| a != vacancy).collect();
    for i in 0..n {
        for m in 0..moves {
            for (c, &a) in atoms.iter().enumerate() {
                for x in 0..3 {
                    let d = dy[[i, m, c, x]];
                    u[[i, m, a, x]] += d;
                    u[[i, m, vacancy, x]] -= d;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, Array4};

    use super::SampleTerms;

    #[test]
    fn entries_errors_and_sum_rules_of_explicit_samples() {
        // Two atoms (labels 0, 1) and the vacancy (2); u_v = -(u_0 + u_1) in each sample.
        let u0 = [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.5, 0.5, 0.0]];
        let u1 = [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [-0.5, 0.0, 0.0]];
        let mut u = Array4::zeros((3, 1, 3, 3));
        for n in 0..3 {
            for x in 0..3 {
                u[[n, 0, 0, x]] = u0[n][x];
                u[[n, 0, 1, x]] = u1[n][x];
                u[[n, 0, 2, x]] = -(u0[n][x] + u1[n][x]);
            }
        }
        let rates = Array2::from_shape_vec((3, 1), vec![6.0, 3.0, 12.0]).unwrap();
        let terms = SampleTerms { u, rates, jumping: Array2::zeros((3, 1)), vacancy: 2 };
        let e = terms.estimate(0..3);
        assert!((e.l[[1, 1]] - (1.0 + 1.0 + 0.5) / 3.0).abs() < 1e-15);
        // L_00: terms W |u_0|^2 / 6 = 1, 2, 1 -> 4/3; L_01: 0, 0, -1/2 -> -1/6.
        assert!((e.l[[0, 0]] - 4.0 / 3.0).abs() < 1e-15);
        assert!((e.l[[0, 1]] + 1.0 / 6.0).abs() < 1e-15);
        assert_eq!(e.l[[0, 1]], e.l[[1, 0]]);
        // s.e. of (0, 0, -1/2): sample variance 1/12, over 3 samples -> 1/6.
        assert!((e.error[[0, 1]] - 1.0 / 6.0).abs() < 1e-15);
        assert!(e.sum_rule_deviation < 1e-15, "{}", e.sum_rule_deviation);
        assert!(e.positive_semidefinite());
        // The smallest eigenvalue of [[4/3, -1/6], [-1/6, L_11]] by hand.
        let l11 = e.l[[1, 1]];
        let (a, d, b) = (4.0 / 3.0, l11, -1.0 / 6.0);
        let lmin = (a + d) / 2.0 - (((a - d) / 2.0).powi(2) + b * b).sqrt();
        assert!((e.min_eigenvalue - lmin).abs() < 1e-13);
        // A vacancy displacement that is not minus the atoms' breaks the sum rules.
        let mut broken = terms.clone();
        broken.u[[1, 0, 2, 0]] += 0.5;
        assert!(broken.estimate(0..3).sum_rule_deviation > 1e-3);
    }
}
