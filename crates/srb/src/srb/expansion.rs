//! The least-squares expansion in the basis: `W`, `b`, the coefficients `theta` and the
//! corrected transport coefficient (SPEC section 7).
//!
//! For samples n with escape rate `W_n`, residual displacement `D_n = dx_n + y(s2_n) -
//! y(s1_n)` and basis change `dB_a,n = B_a(s2_n) - B_a(s1_n)`,
//! `L[y + theta.B] = 1/(6 N) sum_n W_n |D_n + sum_a theta_a dB_a,n|^2`
//! is a quadratic in theta, minimised over the training samples by `theta = -W^-1 b` with
//! `W_ab = sum_n W_n dB_a,n . dB_b,n` and `b_a = sum_n W_n D_n . dB_a,n`.

use std::ops::Range;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayView3};

use super::eigen::symmetric_eigen;
use crate::error::{Error, Result};

/// `W` and `b` accumulated over a range of samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Expansion {
    /// `W_ab` (Nb, Nb), symmetric positive semidefinite.
    pub w: Array2<f64>,
    /// `b_a` (Nb).
    pub b: Array1<f64>,
}

/// Accumulates `W` and `b` over `samples`: `delta_basis` (Nb, N, 3), `residual` `D` (N, 3),
/// `rates` `W_n` (N).
pub fn expand(
    delta_basis: ArrayView3<'_, f64>,
    residual: ArrayView2<'_, f64>,
    rates: ArrayView1<'_, f64>,
    samples: Range<usize>,
) -> Expansion {
    let nb = delta_basis.shape()[0];
    let mut w = Array2::zeros((nb, nb));
    let mut b = Array1::zeros(nb);
    let dot = |a: usize, n: usize, v: [f64; 3]| (0..3).map(|c| delta_basis[[a, n, c]] * v[c]).sum::<f64>();
    for n in samples {
        let rate = rates[n];
        let d = [0, 1, 2].map(|c| residual[[n, c]]);
        for a in 0..nb {
            let dba = [0, 1, 2].map(|c| delta_basis[[a, n, c]]);
            b[a] += rate * dot(a, n, d);
            for bb in 0..=a {
                let x = rate * dot(bb, n, dba);
                w[[a, bb]] += x;
                if bb != a {
                    w[[bb, a]] += x;
                }
            }
        }
    }
    Expansion { w, b }
}

/// `1/(6 N) sum_n W_n |D_n + theta . dB_n|^2` over `samples` (N = their number); theta = 0
/// gives `L[y]`. NaN for an empty range.
pub fn corrected_l(
    delta_basis: ArrayView3<'_, f64>,
    residual: ArrayView2<'_, f64>,
    rates: ArrayView1<'_, f64>,
    theta: &[f64],
    samples: Range<usize>,
) -> f64 {
    let count = samples.len();
    sample_terms(delta_basis, residual, rates, theta, samples).sum::<f64>() / count as f64
}

/// The per-sample terms `W_n |D_n + theta.dB_n|^2 / 6` whose mean over `samples` is
/// [`corrected_l`].
pub fn sample_terms<'a>(
    delta_basis: ArrayView3<'a, f64>,
    residual: ArrayView2<'a, f64>,
    rates: ArrayView1<'a, f64>,
    theta: &'a [f64],
    samples: Range<usize>,
) -> impl Iterator<Item = f64> + 'a {
    samples.map(move |n| {
        let mut v = [0, 1, 2].map(|c| residual[[n, c]]);
        for (a, t) in theta.iter().enumerate() {
            (0..3).for_each(|c| v[c] += t * delta_basis[[a, n, c]]);
        }
        rates[n] * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) / 6.0
    })
}

/// What to do when `W` is singular or too ill-conditioned to invert.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SingularPolicy {
    /// Return [`Error::Singular`] naming the labels involved.
    #[default]
    Refuse,
    /// Solve in the well-conditioned subspace (a truncated pseudo-inverse): basis vectors
    /// that never change get theta = 0 and (near-)null combinations are projected out. The
    /// corrected L is still the minimum over the kept span; `dropped` lists what was left out.
    Truncate,
}

/// The optimal coefficients and how well posed they were.
#[derive(Clone, Debug, PartialEq)]
pub struct Coefficients {
    /// `theta = -W^-1 b`, one per basis label.
    pub theta: Vec<f64>,
    /// Condition number of `W` (without basis vectors that never change) after scaling it
    /// to unit diagonal; infinite when singular.
    pub condition: f64,
    /// With [`SingularPolicy::Truncate`]: the basis vectors and combinations left out, as
    /// text ("B_1 never changes", "+0.970 B_0 -0.243 B_2"); empty otherwise.
    pub dropped: Vec<String>,
}

/// Solves `W theta = -b`. `labels` name the basis vectors in messages. `W` is first scaled
/// to unit diagonal (so the check does not depend on units); a basis vector that never
/// changes, or a scaled condition number above `max_condition`, is an error that names
/// the labels involved, unless `policy` is [`SingularPolicy::Truncate`].
pub fn solve_coefficients(
    expansion: &Expansion,
    labels: &[usize],
    max_condition: f64,
    policy: SingularPolicy,
) -> Result<Coefficients> {
    let w = &expansion.w;
    let nb = w.nrows();
    assert_eq!(labels.len(), nb, "one label per basis vector");
    if nb == 0 {
        return Err(Error::Singular("the basis is empty".into()));
    }
    if w.iter().chain(expansion.b.iter()).any(|x| !x.is_finite()) {
        return Err(Error::Singular(
            "W or b has NaN or infinite entries (check the relaxation vectors and the rates for NaN)".into(),
        ));
    }
    let largest = w.diag().iter().cloned().fold(0.0, f64::max);
    if largest == 0.0 {
        return Err(Error::Singular(
            "every basis vector is the same in s1 and s2 on all training samples (no training samples, or no \
             jump changes the bias)"
                .into(),
        ));
    }
    let (live, dead): (Vec<usize>, Vec<usize>) = (0..nb).partition(|&a| w[[a, a]] > 1e-14 * largest);
    let mut dropped = Vec::new();
    if !dead.is_empty() {
        let dead_labels: Vec<usize> = dead.iter().map(|&a| labels[a]).collect();
        if policy == SingularPolicy::Refuse {
            return Err(Error::Singular(format!(
                "the basis vector of label(s) {dead_labels:?} does not change between s1 and s2 on any training \
                 sample: the label is absent from the training states or never next to the vacancy; leave it out \
                 of the basis"
            )));
        }
        dropped.extend(dead_labels.iter().map(|l| format!("B_{l} never changes")));
    }
    let m = live.len();
    let scale: Vec<f64> = live.iter().map(|&a| 1.0 / w[[a, a]].sqrt()).collect();
    let scaled = Array2::from_shape_fn((m, m), |(i, j)| scale[i] * w[[live[i], live[j]]] * scale[j]);
    let (values, vectors) = symmetric_eigen(&scaled);
    let condition = if values[0] > 0.0 { values[m - 1] / values[0] } else { f64::INFINITY };
    let describe = |k: usize| {
        let mut null: Vec<f64> = (0..m).map(|i| vectors[[i, k]] * scale[i]).collect();
        let norm = null.iter().map(|x| x * x).sum::<f64>().sqrt();
        let largest = null.iter().cloned().fold(0.0, |m: f64, x| if x.abs() > m.abs() { x } else { m });
        null.iter_mut().for_each(|x| *x *= largest.signum() / norm);
        let terms: Vec<String> = null
            .iter()
            .zip(&live)
            .filter(|(x, _)| x.abs() > 1e-3)
            .map(|(x, &a)| format!("{x:+.3} B_{}", labels[a]))
            .collect();
        terms.join(" ")
    };
    let kept: Vec<usize> = (0..m).filter(|&k| values[k] * max_condition > values[m - 1]).collect();
    if kept.len() < m {
        if policy == SingularPolicy::Refuse {
            return Err(Error::Singular(format!(
                "condition number {condition:.3e} exceeds {max_condition:.1e}; the basis vectors are (nearly) \
                 linearly dependent on the training samples: {} ~ 0. With y = 0 (or y close to 0) the biases of \
                 all labels sum to zero, because the vacancy's displacement balances the exchanged atom's; with a \
                 fixed rate per species the atoms' biases obey sum_sp B_sp / rate_sp = 0. Leave one of these \
                 labels out of the basis, or solve in the well-conditioned subspace (pseudo-inverse)",
                describe(0)
            )));
        }
        dropped.extend((0..m).filter(|k| !kept.contains(k)).map(describe));
    }
    // theta = -S V diag(1/lambda) V^T S b over the kept eigenvectors, S = diag(scale).
    let sb: Vec<f64> = (0..m).map(|i| scale[i] * expansion.b[live[i]]).collect();
    let mut theta = vec![0.0; nb];
    for &k in &kept {
        let projection: f64 = (0..m).map(|i| vectors[[i, k]] * sb[i]).sum::<f64>() / values[k];
        for i in 0..m {
            theta[live[i]] -= scale[i] * vectors[[i, k]] * projection;
        }
    }
    Ok(Coefficients { theta, condition, dropped })
}
