//! The expansion of the rates and displacements over the samples (`W`, `b`), the
//! least-squares coefficients and the transport coefficient with its standard error
//! (SPEC section 10):
//!
//! ```text
//! W   = (1/N) sum_n W_n Delta_n^T Delta_n          b = (1/N) sum_n W_n Delta_n^T dx_n
//! eta = least-squares solution of W eta = -b  (singular values below rcond x max dropped)
//! L   = (1/N) sum_n W_n |dx_n + Delta_n eta|^2 / 6
//! ```
//!
//! over the training states (with `-aj`, every jump of every training state, each with its
//! own rate, still divided by the number of states N), and `L` on training and validation
//! states from the jump each state took.

use std::ops::Range;

use ndarray::{Array1, Array2};
use polars::prelude::{Column, DataFrame, PolarsResult};

use crate::error::{Error, Result};
use crate::expansion::{Delta, Expansion};
use crate::linalg::least_squares;
use crate::samples::Samples;

/// `W` (K, K) and `b` (K) over a set of states.
#[derive(Clone, Debug, PartialEq)]
pub struct NormalEquations {
    pub w: Array2<f64>,
    pub b: Array1<f64>,
    /// States summed over (the divisor).
    pub num_states: usize,
    /// Jumps summed over (states, or states x z with all jumps).
    pub num_jumps: usize,
}

/// Accumulates `W` and `b` over the states `range` of `samples`: the jump each state took
/// with its escape rate, or with `all_jumps` every jump with its own rate.
pub fn expand(
    expansion: &Expansion,
    samples: &Samples,
    range: Range<usize>,
    all_jumps: bool,
) -> Result<NormalEquations> {
    if range.end > samples.len() || range.is_empty() {
        return Err(Error::Parameter(format!(
            "cannot expand over states {}..{} of {} samples",
            range.start,
            range.end,
            samples.len()
        )));
    }
    if all_jumps {
        samples.check_all_jump_rates(range.end)?;
    }
    let k = expansion.num_vector_groups();
    let mut w = Array2::<f64>::zeros((k, k));
    let mut b = Array1::<f64>::zeros(k);
    let mut delta = Delta::new(k);
    let mut num_jumps = 0;
    let num_states = range.len();
    for n in range {
        let state = samples.state(n);
        let mut add = |j: usize, rate: f64, dx: [f64; 3], delta: &mut Delta| {
            delta.clear();
            expansion.add_jump_delta(state, j, delta);
            let touched = delta.touched();
            for (p, &kp) in touched.iter().enumerate() {
                let dp = delta.get(kp as usize);
                b[kp as usize] += rate * (dp[0] * dx[0] + dp[1] * dx[1] + dp[2] * dx[2]);
                for &kq in &touched[p..] {
                    let dq = delta.get(kq as usize);
                    let (i, j) = if kp <= kq { (kp, kq) } else { (kq, kp) };
                    w[[i as usize, j as usize]] += rate * (dp[0] * dq[0] + dp[1] * dq[1] + dp[2] * dq[2]);
                }
            }
        };
        if all_jumps {
            for j in 0..samples.z() {
                let rate = samples.jump_rate(n, j);
                if rate > 0.0 {
                    add(j, rate, samples.jump_displacement(n, j), &mut delta);
                }
                num_jumps += 1;
            }
        } else {
            add(samples.jump(n), samples.rate(n), samples.displacement(n), &mut delta);
            num_jumps += 1;
        }
    }
    let scale = 1.0 / num_states as f64;
    for i in 0..k {
        for j in i..k {
            let x = w[[i, j]] * scale;
            w[[i, j]] = x;
            w[[j, i]] = x;
        }
    }
    b *= scale;
    Ok(NormalEquations { w, b, num_states, num_jumps })
}

/// The coefficients and the spectrum of `W`.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// `eta` (K), what `etabar_{T}.npy` holds.
    pub eta: Array1<f64>,
    /// Singular values of `W`, largest first (`W_singvals_{T}.npy`).
    pub singular_values: Vec<f64>,
    /// Singular values kept (above `rcond` times the largest).
    pub rank: usize,
    /// The relative threshold used.
    pub rcond: f64,
}

/// `eta` = least-squares solution of `W eta = -b`, singular values below `rcond` times the
/// largest treated as zero (`-rc`, published default 1e-8).
pub fn solve(normal: &NormalEquations, rcond: f64) -> Result<Solution> {
    if !(rcond.is_finite() && rcond >= 0.0) {
        return Err(Error::Parameter(format!(
            "the singular-value threshold -rc must be a non-negative number (got {rcond})"
        )));
    }
    let (k, kb) = (normal.w.nrows(), normal.b.len());
    if normal.w.ncols() != k || kb != k {
        return Err(Error::Parameter(format!("W is {:?} and b has {kb} entries", normal.w.shape())));
    }
    if normal.w.iter().chain(normal.b.iter()).any(|x| !x.is_finite()) {
        return Err(Error::Parameter("W or b holds a value that is not finite".into()));
    }
    let ls = least_squares(&normal.w, &normal.b.mapv(|x| -x), rcond)?;
    Ok(Solution { eta: ls.solution, singular_values: ls.singular_values, rank: ls.rank, rcond })
}

/// A transport coefficient with its standard error and per-sample terms.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// `L = mean of the terms` (units of the data's a0^2 x rate).
    pub l: f64,
    /// Standard error: standard deviation of the terms / sqrt(N) (NaN for N < 2).
    pub se: f64,
    /// `L_n = W_n |dx_n + Delta_n eta|^2 / 6`.
    pub terms: Vec<f64>,
    /// The uncorrelated terms `W_n |dx_n|^2 / 6` (eta = 0).
    pub terms0: Vec<f64>,
    /// `Delta_n eta`, the change of the relaxation vector in each sample.
    pub dy: Vec<[f64; 3]>,
    /// The samples these terms are of.
    pub samples: Range<usize>,
}

impl Estimate {
    /// The uncorrelated `L0` with its standard error.
    pub fn l0(&self) -> (f64, f64) {
        mean_se(&self.terms0)
    }
}

fn mean_se(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, if x.len() < 2 { f64::NAN } else { (var / n).sqrt() })
}

/// `L` over the samples `range`, each from the jump it took with its escape rate.
pub fn transport(expansion: &Expansion, samples: &Samples, eta: &Array1<f64>, range: Range<usize>) -> Result<Estimate> {
    let k = expansion.num_vector_groups();
    if eta.len() != k {
        return Err(Error::Parameter(format!("{} coefficients for {k} vector groups", eta.len())));
    }
    if range.end > samples.len() || range.is_empty() {
        return Err(Error::Parameter(format!(
            "cannot evaluate states {}..{} of {} samples",
            range.start,
            range.end,
            samples.len()
        )));
    }
    let mut delta = Delta::new(k);
    let mut terms = Vec::with_capacity(range.len());
    let mut terms0 = Vec::with_capacity(range.len());
    let mut dys = Vec::with_capacity(range.len());
    for n in range.clone() {
        delta.clear();
        expansion.add_jump_delta(samples.state(n), samples.jump(n), &mut delta);
        let mut dy = [0.0; 3];
        for &g in delta.touched() {
            let d = delta.get(g as usize);
            (0..3).for_each(|c| dy[c] += eta[g as usize] * d[c]);
        }
        let dx = samples.displacement(n);
        let r = samples.rate(n);
        terms.push(r * (0..3).map(|c| (dx[c] + dy[c]).powi(2)).sum::<f64>() / 6.0);
        terms0.push(r * (0..3).map(|c| dx[c].powi(2)).sum::<f64>() / 6.0);
        dys.push(dy);
    }
    let (l, se) = mean_se(&terms);
    Ok(Estimate { l, se, terms, terms0, dy: dys, samples: range })
}

/// Everything one run gives: the expansion over the training states, the solve, and `L` on
/// training and validation states.
#[derive(Clone, Debug)]
pub struct VceResult {
    pub normal: NormalEquations,
    pub solution: Solution,
    pub train: Estimate,
    /// `None` when every state is a training state.
    pub validation: Option<Estimate>,
}

/// Expands over the first `n_train` states, solves with `rcond` and evaluates `L` on the
/// training states and on the rest.
pub fn fit(expansion: &Expansion, samples: &Samples, n_train: usize, all_jumps: bool, rcond: f64) -> Result<VceResult> {
    check_split(samples, n_train)?;
    let normal = expand(expansion, samples, 0..n_train, all_jumps)?;
    let solution = solve(&normal, rcond)?;
    let (train, validation) = evaluate(expansion, samples, &solution.eta, n_train)?;
    Ok(VceResult { normal, solution, train, validation })
}

/// `L` on the training states `0..n_train` and on the validation states after them.
pub fn evaluate(
    expansion: &Expansion,
    samples: &Samples,
    eta: &Array1<f64>,
    n_train: usize,
) -> Result<(Estimate, Option<Estimate>)> {
    check_split(samples, n_train)?;
    let train = transport(expansion, samples, eta, 0..n_train)?;
    let validation =
        if n_train < samples.len() { Some(transport(expansion, samples, eta, n_train..samples.len())?) } else { None };
    Ok((train, validation))
}

fn check_split(samples: &Samples, n_train: usize) -> Result<()> {
    if n_train == 0 || n_train > samples.len() {
        return Err(Error::Dataset {
            path: samples.path().to_path_buf(),
            reason: format!("-nt {n_train} training states, but the data set has {} samples", samples.len()),
        });
    }
    Ok(())
}

/// One row per evaluated sample: `sample`, `set` ("train" or "val"), `escape_rate`, `jump`,
/// `L_term` (`W_n |dx_n + Delta_n eta|^2 / 6`), `L0_term` (eta = 0), and `dy_x`, `dy_y`,
/// `dy_z` (`Delta_n eta`).
pub fn sample_frame(samples: &Samples, result: &VceResult) -> PolarsResult<DataFrame> {
    frame(samples, &result.train, result.validation.as_ref())
}

/// [`sample_frame`] of the estimates `train` and `validation`.
pub(crate) fn frame(samples: &Samples, train: &Estimate, validation: Option<&Estimate>) -> PolarsResult<DataFrame> {
    let sets: Vec<(&str, &Estimate)> =
        std::iter::once(("train", train)).chain(validation.map(|v| ("val", v))).collect();
    let rows: Vec<(usize, &str, &Estimate, usize)> =
        sets.iter().flat_map(|&(name, e)| e.samples.clone().enumerate().map(move |(i, n)| (n, name, e, i))).collect();
    let columns = vec![
        Column::new("sample".into(), rows.iter().map(|r| r.0 as i64).collect::<Vec<_>>()),
        Column::new("set".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        Column::new("escape_rate".into(), rows.iter().map(|r| samples.rate(r.0)).collect::<Vec<_>>()),
        Column::new("jump".into(), rows.iter().map(|r| samples.jump(r.0) as i64).collect::<Vec<_>>()),
        Column::new("L_term".into(), rows.iter().map(|r| r.2.terms[r.3]).collect::<Vec<_>>()),
        Column::new("L0_term".into(), rows.iter().map(|r| r.2.terms0[r.3]).collect::<Vec<_>>()),
        Column::new("dy_x".into(), rows.iter().map(|r| r.2.dy[r.3][0]).collect::<Vec<_>>()),
        Column::new("dy_y".into(), rows.iter().map(|r| r.2.dy[r.3][1]).collect::<Vec<_>>()),
        Column::new("dy_z".into(), rows.iter().map(|r| r.2.dy[r.3][2]).collect::<Vec<_>>()),
    ];
    DataFrame::new(rows.len(), columns)
}
