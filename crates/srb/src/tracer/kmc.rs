//! Multi-step kinetic Monte Carlo estimate of the finite-cell tracer correlation factor,
//! the independent check of [`exact_tracer_correlation`](super::exact_tracer_correlation).
//!
//! All jump rates are 1, so every step is one vacancy jump chosen uniformly and time plays
//! no role: over `walks` independent walks of `steps` vacancy jumps each, started from the
//! uniform equilibrium,
//!
//! `f = sum_w |R_w|^2 / (|dx|^2 * sum_w n_w)`
//!
//! with `R_w` the tracer displacement and `n_w` the number of tracer jumps of walk `w`. The
//! error bar is the standard error of that ratio over the walks (delta method). Walks
//! should be long against the time the vacancy needs to cross the cell, so that the bias
//! of the finite walk (order `Nsites / steps`) stays below the error bar.

use super::network::TracerNetwork;
use gcnet_data::rng::SplitMix64;

/// The KMC estimate and its statistical error.
#[derive(Clone, Copy, Debug)]
pub struct TracerKmcEstimate {
    pub f: f64,
    /// One standard error of `f`.
    pub std_error: f64,
    /// Tracer jumps over all walks.
    pub tracer_jumps: u64,
    pub walks: usize,
    pub steps_per_walk: usize,
}

/// Runs `walks` walks of `steps` vacancy jumps on the network; `seed` fixes the stream.
pub fn tracer_kmc(network: &TracerNetwork, walks: usize, steps: usize, seed: u64) -> TracerKmcEstimate {
    assert!(walks >= 2, "the error bar needs at least two walks");
    let mut rng = SplitMix64::new(seed);
    let num_states = network.num_states() as u64;
    let z = network.z() as u64;
    let dx2 = network.jump_length() * network.jump_length();
    let mut squares = Vec::with_capacity(walks);
    let mut jumps = Vec::with_capacity(walks);
    for _ in 0..walks {
        let mut state = 1 + rng.below(num_states) as usize;
        let mut r = [0.0; 3];
        let mut n = 0u64;
        for _ in 0..steps {
            let t = network.transition(state, rng.below(z) as usize);
            if t.tracer_displacement != [0.0; 3] {
                n += 1;
                (0..3).for_each(|c| r[c] += t.tracer_displacement[c]);
            }
            state = t.to;
        }
        squares.push(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
        jumps.push(n as f64 * dx2);
    }
    let m = walks as f64;
    let mean_square = squares.iter().sum::<f64>() / m;
    let mean_jumps = jumps.iter().sum::<f64>() / m;
    let f = mean_square / mean_jumps;
    let variance = squares.iter().zip(&jumps).map(|(x, y)| (x - f * y) * (x - f * y)).sum::<f64>() / (m - 1.0);
    TracerKmcEstimate {
        f,
        std_error: (variance / m).sqrt() / mean_jumps,
        tracer_jumps: (jumps.iter().sum::<f64>() / dx2).round() as u64,
        walks,
        steps_per_walk: steps,
    }
}
