//! Bias and scaled residual bias basis vectors of a set of states (SPEC section 7).
//!
//! For a state with jump probabilities `p_j = rate_j / escape rate`, the (scaled) bias of
//! label `sp` is `B_sp = sum_j p_j d_sp,j`, `d_sp,j` the displacement of species `sp` in
//! jump j: `a0 dx_j` for the vacancy, `-a0 dx_j` for the atom that exchanges with it, zero
//! for everyone else. The residual basis adds, to the label `e` being expanded, the change
//! of the relaxation vector in the jump: `b_e,j = d_e,j + y(exit_j) - y(state)`.
//!
//! Arrays are (Nlabels, N, 3): one basis vector per label, state and Cartesian component.

use gcnet_crystal::CrystalData;
use ndarray::{Array2, Array3, ArrayView2};

use crate::error::{Error, Result};

/// The label on each jump's target site (N, z): the atom that exchanges with the vacancy.
/// `what` names the states in messages ("InitStates").
pub fn exchanged_labels(
    what: &str,
    states: ArrayView2<'_, i8>,
    crystal: &CrystalData,
    vacancy: usize,
    num_labels: usize,
) -> Result<Array2<usize>> {
    let (n, num_sites) = states.dim();
    if num_sites != crystal.num_sites() {
        return Err(Error::Shape {
            what: what.to_string(),
            expected: format!("(N, {}) for crystal {}", crystal.num_sites(), crystal.source_name()),
            found: vec![n, num_sites],
        });
    }
    let z = crystal.z();
    let mut out = Array2::zeros((n, z));
    for i in 0..n {
        if states[[i, 0]] as i64 != vacancy as i64 {
            return Err(Error::Config(format!(
                "{what}[{i}] holds label {} on site 0, not the vacancy label {vacancy} (wrong vacancy label?)",
                states[[i, 0]]
            )));
        }
        for j in 0..z {
            let label = states[[i, crystal.neighbour(0, j)]];
            if label < 0 || label as usize >= num_labels {
                return Err(Error::Config(format!(
                    "{what}[{i}] has label {label} next to the vacancy, outside the {num_labels} labels of SpecDisps"
                )));
            }
            if label as usize == vacancy {
                return Err(Error::Config(format!(
                    "{what}[{i}] has a second vacancy next to site 0 (jump {j}); the bias basis assumes one vacancy"
                )));
            }
            out[[i, j]] = label as usize;
        }
    }
    Ok(out)
}

/// Jump probabilities `p_j = rate_j / sum_j rate_j` (N, z).
pub fn jump_probabilities(what: &str, jump_rates: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let mut p = jump_rates.to_owned();
    for (i, mut row) in p.rows_mut().into_iter().enumerate() {
        let escape: f64 = row.sum();
        if !(escape.is_finite() && escape > 0.0) || row.iter().any(|&r| r < 0.0) {
            return Err(Error::Config(format!(
                "{what}[{i}]: jump rates must be non-negative with a positive finite sum, the sum is {escape}"
            )));
        }
        row.mapv_inplace(|r| r / escape);
    }
    Ok(p)
}

/// The plain scaled bias of every label (Nlabels, N, 3), lattice parameter `a0`.
pub fn bias_basis(
    exchanged: &Array2<usize>,
    probabilities: &Array2<f64>,
    crystal: &CrystalData,
    a0: f64,
    num_labels: usize,
    vacancy: usize,
) -> Array3<f64> {
    let (n, z) = exchanged.dim();
    let mut basis = Array3::zeros((num_labels, n, 3));
    for i in 0..n {
        for j in 0..z {
            let p = probabilities[[i, j]];
            let dx = crystal.jump_vector(j);
            for c in 0..3 {
                basis[[vacancy, i, c]] += p * a0 * dx[c];
                basis[[exchanged[[i, j]], i, c]] -= p * a0 * dx[c];
            }
        }
    }
    basis
}

/// The scaled residual bias basis (Nlabels, N, 3) of SPEC section 7, with `e = expanded`:
/// `y_states` (N, 3) are y of the states, `y_exits` (N*z, 3) y of the state reached by
/// each jump (row `n*z + j`).
#[allow(clippy::too_many_arguments)]
pub fn residual_bias_basis(
    exchanged: &Array2<usize>,
    probabilities: &Array2<f64>,
    y_states: ArrayView2<'_, f64>,
    y_exits: ArrayView2<'_, f64>,
    crystal: &CrystalData,
    a0: f64,
    num_labels: usize,
    vacancy: usize,
    expanded: usize,
) -> Array3<f64> {
    let (n, z) = exchanged.dim();
    let mut basis = Array3::zeros((num_labels, n, 3));
    for i in 0..n {
        for j in 0..z {
            let p = probabilities[[i, j]];
            let dx = crystal.jump_vector(j).map(|x| a0 * x);
            let residual: [f64; 3] = [0, 1, 2].map(|c| y_exits[[i * z + j, c]] - y_states[[i, c]]);
            let sp = exchanged[[i, j]];
            for c in 0..3 {
                if expanded == vacancy {
                    basis[[vacancy, i, c]] += p * (dx[c] + residual[c]);
                    basis[[sp, i, c]] += p * -dx[c];
                } else {
                    basis[[vacancy, i, c]] += p * dx[c];
                    if sp == expanded {
                        basis[[sp, i, c]] += p * (-dx[c] + residual[c]);
                    } else {
                        basis[[expanded, i, c]] += p * residual[c];
                        basis[[sp, i, c]] += p * -dx[c];
                    }
                }
            }
        }
    }
    basis
}
