//! The KMC choice of a jump from cumulative rates, shared by the generators, the
//! trajectories and the checks (which replay it from randNums).

/// The jump that `target` (in `[0, sum of rates)`) falls on: the first k whose cumulative
/// rate, summed in jump order, exceeds `target`. Rounding past the end picks the last
/// jump with a non-zero rate.
#[inline]
pub(crate) fn select_jump(rates: &[f64], target: f64) -> usize {
    let mut cumulative = 0.0;
    let mut last_open = 0;
    for (k, &r) in rates.iter().enumerate() {
        cumulative += r;
        if r > 0.0 {
            last_open = k;
        }
        if cumulative > target {
            return k;
        }
    }
    last_open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_follows_cumulative_rates() {
        let rates = [1.0, 0.0, 2.0, 1.0];
        let cases = [(0.0, 0), (0.999, 0), (1.0, 2), (2.5, 2), (3.0, 3), (3.999, 3), (4.0, 3), (9.0, 3)];
        for (target, want) in cases {
            assert_eq!(select_jump(&rates, target), want, "target {target}");
        }
    }
}
