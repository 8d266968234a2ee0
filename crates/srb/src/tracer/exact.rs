//! The exact tracer correlation factor of a finite cell from the variational principle.
//!
//! With unit jump rates and the uniform equilibrium over the `Ns = Nsites - 1` states,
//!
//! `L[y] = 1/(6 Ns) * sum_s sum_k |u_sk + y(t_sk) - y(s)|^2`
//!
//! (`u_sk` the tracer displacement of jump `k` out of state `s`, `t_sk` the state it
//! reaches) is minimised by the solution of the normal equations `G^T G y = -G^T u`, `G`
//! the (transition x state) incidence matrix with `(G y)_sk = y(t_sk) - y(s)`. `G^T G` is
//! twice the graph Laplacian of the chain; its null space is the constant vectors, and
//! `G^T u` sums to zero, so conjugate gradients on the zero-mean subspace solve it, one
//! Cartesian component at a time. Then `f_N = L[y*] / L[0]` (Trinkle, PRL 121, 235901
//! (2018); for the infinite lattices Compaan and Haven (1956)).

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};

use super::network::TracerNetwork;
use crate::error::{Error, Result};

/// The solved tracer problem of one supercell.
#[derive(Clone, Debug)]
pub struct TracerCorrelation {
    /// Sites in the supercell (the tracer and the vacancy included).
    pub num_sites: usize,
    /// Exact correlation factor `f_N = L[y*] / L[0]`.
    pub f: f64,
    /// Uncorrelated tracer coefficient `L[0]` per unit jump rate, lattice parameter 1.
    pub l_uncorrelated: f64,
    /// Variational minimum `L[y*]`, same units.
    pub l_corrected: f64,
    /// Optimal relaxation vector (lattice parameter 1) for the vacancy on each site;
    /// entry 0 (the tracer's own site) is unused and zero. Zero mean over sites `1..`.
    pub relaxation: Vec<[f64; 3]>,
    /// Conjugate-gradient iterations, summed over the three Cartesian components.
    pub iterations: usize,
    /// Largest relative residual `|G^T G y + G^T u| / |G^T u|` of the three solves.
    pub relative_residual: f64,
}

/// Relative residual at which conjugate gradients stop.
const TOLERANCE: f64 = 1e-12;

/// Solves the tracer problem of `crystal` (any supercell of a Bravais lattice; the jump
/// network of the file, rate 1 for every jump).
#[allow(clippy::needless_range_loop)] // c: the Cartesian component of several arrays
pub fn exact_tracer_correlation(crystal: &CrystalData) -> Result<TracerCorrelation> {
    let network = TracerNetwork::new(crystal)?;
    let n = network.num_sites();
    let transitions = network.transitions();
    let mut relaxation = vec![[0.0; 3]; n];
    let mut iterations = 0;
    let mut relative_residual: f64 = 0.0;
    for c in 0..3 {
        // rhs = -G^T u for component c.
        let mut rhs = vec![0.0; n];
        for t in transitions {
            let u = t.tracer_displacement[c];
            rhs[t.to] -= u;
            rhs[t.from] += u;
        }
        let solution = conjugate_gradients(&network, &rhs)?;
        iterations += solution.iterations;
        relative_residual = relative_residual.max(solution.relative_residual);
        for (s, y) in solution.y.iter().enumerate() {
            relaxation[s][c] = *y;
        }
    }
    let mut sum_uncorrelated = 0.0;
    let mut sum_corrected = 0.0;
    for t in transitions {
        for c in 0..3 {
            let u = t.tracer_displacement[c];
            let d = u + relaxation[t.to][c] - relaxation[t.from][c];
            sum_uncorrelated += u * u;
            sum_corrected += d * d;
        }
    }
    let norm = 6.0 * network.num_states() as f64;
    Ok(TracerCorrelation {
        num_sites: n,
        f: sum_corrected / sum_uncorrelated,
        l_uncorrelated: sum_uncorrelated / norm,
        l_corrected: sum_corrected / norm,
        relaxation,
        iterations,
        relative_residual,
    })
}

/// [`exact_tracer_correlation`] for an `n x n x n` supercell of the given cell.
pub fn exact_tracer_correlation_cube(kind: LatticeKind, cell: CellKind, n: usize) -> Result<TracerCorrelation> {
    let crystal = Crystal::cube(kind, cell, n)?;
    exact_tracer_correlation(&CrystalData::from_crystal(&crystal))
}

struct CgSolution {
    y: Vec<f64>,
    iterations: usize,
    relative_residual: f64,
}

/// `out = G^T G y` over the states; entry 0 (the tracer site) stays 0.
fn apply_normal_matrix(network: &TracerNetwork, y: &[f64], out: &mut [f64]) {
    out.iter_mut().for_each(|o| *o = 0.0);
    for t in network.transitions() {
        let d = y[t.to] - y[t.from];
        out[t.to] += d;
        out[t.from] -= d;
    }
}

/// Removes the mean over the states `1..` (the null space of `G^T G`).
fn remove_mean(v: &mut [f64]) {
    let mean = v[1..].iter().sum::<f64>() / (v.len() - 1) as f64;
    v[1..].iter_mut().for_each(|x| *x -= mean);
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Conjugate gradients for `G^T G y = rhs` on the zero-mean subspace (`rhs` must sum to
/// zero; it does, since every transition has its reverse).
fn conjugate_gradients(network: &TracerNetwork, rhs: &[f64]) -> Result<CgSolution> {
    let n = rhs.len();
    let mut b = rhs.to_vec();
    remove_mean(&mut b);
    let b_norm = dot(&b, &b).sqrt();
    let mut y = vec![0.0; n];
    if b_norm == 0.0 {
        return Ok(CgSolution { y, iterations: 0, relative_residual: 0.0 });
    }
    let mut r = b.clone();
    let mut p = r.clone();
    let mut ap = vec![0.0; n];
    let mut rr = dot(&r, &r);
    let max_iterations = 20 * n + 100;
    for iteration in 1..=max_iterations {
        apply_normal_matrix(network, &p, &mut ap);
        let alpha = rr / dot(&p, &ap);
        y.iter_mut().zip(&p).for_each(|(y, p)| *y += alpha * p);
        r.iter_mut().zip(&ap).for_each(|(r, ap)| *r -= alpha * ap);
        remove_mean(&mut r);
        let rr_new = dot(&r, &r);
        if rr_new.sqrt() <= TOLERANCE * b_norm {
            remove_mean(&mut y);
            // The true residual, not the recursively updated one.
            apply_normal_matrix(network, &y, &mut ap);
            let true_residual = ap.iter().zip(&b).skip(1).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
            return Ok(CgSolution { y, iterations: iteration, relative_residual: true_residual / b_norm });
        }
        let beta = rr_new / rr;
        p.iter_mut().zip(&r).for_each(|(p, r)| *p = r + beta * *p);
        rr = rr_new;
    }
    Err(Error::NotConverged { iterations: max_iterations, residual: rr.sqrt() / b_norm })
}
