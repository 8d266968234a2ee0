//! One kinetic Monte Carlo step (SPEC section 8): rates from barriers, the jump picked by
//! a uniform number, the exchange and the displacements.

use gcnet_data::splitmix64;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Boltzmann's constant, eV/K (the value of the published scripts, CODATA 2018).
pub const KB_EV_PER_K: f64 = 8.617333262e-5;

/// Refuses a temperature that no physics allows: it must be a finite number of K above 0
/// (at T = inf every rate would be exp(0) = 1, and Metropolis would accept every trial).
pub fn check_temperature(temperature: f64) -> crate::Result<()> {
    if temperature.is_finite() && temperature > 0.0 {
        Ok(())
    } else {
        Err(crate::Error::Config(format!("the temperature must be finite and above 0 K, got {temperature}")))
    }
}

/// rate = exp(-barrier / kB T), without attempt frequency (as the published data); an
/// infinite barrier (an off-lattice jump) gives 0.
pub fn rate(barrier: f64, temperature: f64) -> f64 {
    if barrier.is_finite() { (-barrier / (KB_EV_PER_K * temperature)).exp() } else { 0.0 }
}

/// The jump taken for the uniform number `u` in [0,1): the first jump whose cumulative
/// probability (rates / escape rate, summed in jump order) reaches `u`, as the published
/// scripts do (`np.searchsorted` on the cumulative sum). Jumps of rate 0 are never taken
/// (`u` = 0 exactly would pick a leading rate-0 jump there), and a `u` beyond the last
/// cumulative value through rounding takes the last jump of positive rate. `None` when
/// every rate is 0.
pub fn select_jump(rates: &[f64], u: f64) -> Option<usize> {
    let total: f64 = rates.iter().sum();
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    let inverse = 1.0 / total;
    let mut cumulative = 0.0;
    let mut last_open = None;
    for (j, &r) in rates.iter().enumerate() {
        cumulative += r * inverse;
        if r > 0.0 {
            last_open = Some(j);
            if cumulative >= u {
                return Some(j);
            }
        }
    }
    last_open
}

/// The uniform number of state `state` (its index in the initial-state file) at KMC step
/// `step` (1-based): a function of the seed, the step and the state only, so that a
/// resumed run, a run in shards and an uninterrupted run draw the same numbers.
pub fn uniform(seed: u64, step: usize, state: usize) -> f64 {
    let key = splitmix64(splitmix64(splitmix64(seed) ^ step as u64) ^ state as u64);
    Xoshiro256PlusPlus::seed_from_u64(key).random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Class 5: no physics allows T = inf (every rate would be exp(0) = 1), T <= 0 or NaN.
    #[test]
    fn class5_temperatures_must_be_finite_and_above_zero() {
        for t in [f64::INFINITY, 0.0, -5.0, f64::NAN] {
            assert!(check_temperature(t).unwrap_err().to_string().contains("finite and above 0 K"), "{t}");
        }
        assert!(check_temperature(1073.0).is_ok());
    }

    #[test]
    fn selection_follows_cumulative_probabilities() {
        let rates = [1.0, 0.0, 2.0, 1.0];
        let cases = [(0.0, 0), (0.25, 0), (0.2501, 2), (0.75, 2), (0.7501, 3), (0.99999, 3), (1.5, 3)];
        for (u, want) in cases {
            assert_eq!(select_jump(&rates, u), Some(want), "u = {u}");
        }
        // A leading closed jump is never taken, not even for u = 0.
        assert_eq!(select_jump(&[0.0, 0.0, 1.0], 0.0), Some(2));
        assert_eq!(select_jump(&[0.0, 0.0], 0.3), None);
    }

    #[test]
    fn rates_and_uniforms() {
        assert_eq!(rate(f64::INFINITY, 1000.0), 0.0);
        assert!((rate(0.5, 1000.0) - (-0.5f64 / 0.08617333262).exp()).abs() < 1e-15);
        let u = uniform(3, 1, 7);
        assert_eq!(u, uniform(3, 1, 7));
        assert!((0.0..1.0).contains(&u));
        assert_ne!(u, uniform(3, 2, 7));
        assert_ne!(u, uniform(3, 1, 8));
        assert_ne!(u, uniform(4, 1, 7));
        let mean: f64 = (0..10_000).map(|n| uniform(0, 1, n)).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
    }
}
