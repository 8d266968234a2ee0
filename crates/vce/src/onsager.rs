//! Every label's relaxation vector from one expansion, for the whole Onsager matrix
//! (`gcnet onsager --vce`). `W` does not depend on the label (only `b` does), so one pass
//! over the training states gives `W` and every atom label's `b_a`, and one least-squares
//! solve per label its `eta_a`; a second pass gives, for every move out of every state,
//! `u_a = dx_a + Delta eta_a` of every label. The vacancy's y is minus the sum of the
//! atoms' (site conservation): `u_v = dx_v - sum_a Delta eta_a`.

use ndarray::{Array1, Array2, Array4};

use crate::error::{Error, Result};
use crate::expansion::{Delta, Expansion};
use crate::fit::{NormalEquations, Solution, solve};
use crate::samples::Samples;

/// The relaxed displacements of every label for every move out of every state.
#[derive(Clone, Debug)]
pub struct LabelTerms {
    /// `(N, M, Nlabels, 3)`: M = z (every jump) or 1 (the recorded step).
    pub u: Array4<f64>,
    /// `(N, M)` the move's rate (the jump's own, or the escape rate for a recorded step).
    pub rates: Array2<f64>,
    /// `(N, M)` the label of the atom that jumps.
    pub jumping: Array2<usize>,
    /// The atom labels, in the order of `solutions`.
    pub atoms: Vec<usize>,
    /// `eta_a` and the spectrum of the shared `W`, per atom label.
    pub solutions: Vec<Solution>,
}

/// The labels' terms of `samples` (checked with the vacancy as its species) for the
/// expansion fitted on states `0..n_train` (`all_jumps`: every jump of every training
/// state, else the recorded step), over every jump of every state (`moves_all_jumps`) or
/// the recorded steps.
pub fn label_terms(
    expansion: &Expansion,
    samples: &Samples,
    spec_disps: ndarray::ArrayView3<'_, f64>,
    n_train: usize,
    all_jumps: bool,
    moves_all_jumps: bool,
    rcond: f64,
) -> Result<LabelTerms> {
    let (n, z) = (samples.len(), samples.z());
    let v = samples.choice().vacancy;
    if samples.choice().species != v {
        return Err(Error::Parameter("label_terms needs the samples checked with the vacancy as species".into()));
    }
    if n_train == 0 || n_train > n || spec_disps.dim().0 != n {
        return Err(Error::Parameter(format!(
            "{n_train} training states of {n} samples ({} displacements)",
            spec_disps.dim().0
        )));
    }
    let nl = spec_disps.dim().1;
    let atoms: Vec<usize> = (0..nl).filter(|&a| a != v).collect();
    let jump_sites = expansion.geometry().jump_sites().to_vec();
    // The displacements of move m of state s: (jumping label, rate, dx of every label).
    let moves = |s: usize, every: bool| -> Vec<(usize, f64, Vec<[f64; 3]>)> {
        let state = samples.state(s);
        if every {
            (0..z)
                .map(|j| {
                    let (e, d) = (state[jump_sites[j]] as usize, samples.jump_displacement(s, j));
                    let mut dx = vec![[0.0; 3]; nl];
                    dx[v] = d;
                    dx[e] = d.map(|x| -x);
                    (j, samples.jump_rate(s, j), dx)
                })
                .collect()
        } else {
            let dx: Vec<[f64; 3]> = (0..nl).map(|l| [0, 1, 2].map(|c| spec_disps[[s, l, c]])).collect();
            vec![(samples.jump(s), samples.rate(s), dx)]
        }
    };
    let k = expansion.num_vector_groups();
    let mut delta = Delta::new(k);
    let mut w = Array2::<f64>::zeros((k, k));
    let mut b = Array2::<f64>::zeros((atoms.len(), k));
    let mut num_jumps = 0;
    for s in 0..n_train {
        for (j, rate, dx) in moves(s, all_jumps) {
            num_jumps += 1;
            if rate <= 0.0 {
                continue;
            }
            delta.clear();
            expansion.add_jump_delta(samples.state(s), j, &mut delta);
            let touched = delta.touched().to_vec();
            for (p, &kp) in touched.iter().enumerate() {
                let dp = delta.get(kp as usize);
                for (c, &a) in atoms.iter().enumerate() {
                    b[[c, kp as usize]] += rate * (0..3).map(|x| dp[x] * dx[a][x]).sum::<f64>();
                }
                for &kq in &touched[p..] {
                    let dq = delta.get(kq as usize);
                    let (i, j) = if kp <= kq { (kp, kq) } else { (kq, kp) };
                    w[[i as usize, j as usize]] += rate * (0..3).map(|x| dp[x] * dq[x]).sum::<f64>();
                }
            }
        }
    }
    let scale = 1.0 / n_train as f64;
    for i in 0..k {
        for j in i..k {
            let x = w[[i, j]] * scale;
            (w[[i, j]], w[[j, i]]) = (x, x);
        }
    }
    let solutions = (0..atoms.len())
        .map(|c| {
            let bc: Array1<f64> = b.row(c).mapv(|x| x * scale);
            solve(&NormalEquations { w: w.clone(), b: bc, num_states: n_train, num_jumps }, rcond)
        })
        .collect::<Result<Vec<_>>>()?;
    let m = if moves_all_jumps { z } else { 1 };
    let mut u = Array4::zeros((n, m, nl, 3));
    let mut rates = Array2::zeros((n, m));
    let mut jumping = Array2::zeros((n, m));
    for s in 0..n {
        for (i, (j, rate, dx)) in moves(s, moves_all_jumps).into_iter().enumerate() {
            rates[[s, i]] = rate;
            jumping[[s, i]] = samples.state(s)[jump_sites[j]] as usize;
            for (l, d) in dx.iter().enumerate() {
                (0..3).for_each(|x| u[[s, i, l, x]] = d[x]);
            }
            delta.clear();
            expansion.add_jump_delta(samples.state(s), j, &mut delta);
            for (c, &a) in atoms.iter().enumerate() {
                let eta = &solutions[c].eta;
                for &kk in delta.touched() {
                    let d = delta.get(kk as usize);
                    for x in 0..3 {
                        u[[s, i, a, x]] += eta[kk as usize] * d[x];
                        u[[s, i, v, x]] -= eta[kk as usize] * d[x];
                    }
                }
            }
        }
    }
    Ok(LabelTerms { u, rates, jumping, atoms, solutions })
}
