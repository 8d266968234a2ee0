//! Kinosons (Chattopadhyay and Trinkle, Phys. Rev. Lett. 132, 186301 (2024)): the
//! per-state terms `k_n = W_n |dx_n + dy_n|^2 / 6` whose mean over states is the transport
//! coefficient. Their distribution says which states carry diffusion: the share of L in
//! the largest terms, and the mean and share by the element that jumps.

use std::fmt;

use gcnet_plot::{Chart, Series};
use ndarray::{ArrayView2, Axis};

use super::matrix::mean_and_error;

/// The summary of one label's kinosons over a set of states.
#[derive(Clone, Debug, PartialEq)]
pub struct KinosonSummary {
    /// The label whose L the kinosons add up to.
    pub label: usize,
    pub states: usize,
    /// The mean of the states' kinosons (= L of the label) and its standard error.
    pub mean: f64,
    pub error: f64,
    /// `(q, value)` of the states' kinosons for q = 0.5, 0.9, 0.99.
    pub quantiles: Vec<(f64, f64)>,
    /// `(fraction, share)`: the share of the sum carried by the largest `fraction` of the
    /// states (1% and 10%).
    pub top_shares: Vec<(f64, f64)>,
    /// One row per element that jumps in some move.
    pub by_jumping: Vec<JumpingShare>,
}

/// The moves in which one element jumps.
#[derive(Clone, Debug, PartialEq)]
pub struct JumpingShare {
    /// The label of the jumping atom.
    pub label: usize,
    /// Moves (recorded steps, or jumps out of the states) in which it jumps.
    pub moves: usize,
    /// Their mean term.
    pub mean: f64,
    /// Their part of L: their sum over the number of states.
    pub contribution: f64,
    /// `contribution / L`.
    pub share: f64,
}

/// The summary of the kinosons of `moves` `(N, M)`, the terms of the M moves out of each of
/// N states, whose jumping atoms are `jumping` `(N, M)`; a state's kinoson is the sum
/// over its moves.
pub fn summarize(label: usize, moves: ArrayView2<'_, f64>, jumping: ArrayView2<'_, usize>) -> KinosonSummary {
    assert_eq!(moves.dim(), jumping.dim(), "one jumping label per move");
    let states = moves.sum_axis(Axis(1));
    let n = states.len();
    let (mean, error) = mean_and_error(states.view());
    let mut sorted: Vec<f64> = states.to_vec();
    sorted.sort_by(f64::total_cmp);
    let quantile = |q: f64| sorted[((q * (n as f64 - 1.0)).round() as usize).min(n.saturating_sub(1))];
    let total: f64 = sorted.iter().sum();
    let top = |f: f64| {
        let k = ((f * n as f64).ceil() as usize).clamp(1, n);
        sorted[n - k..].iter().sum::<f64>() / total
    };
    let mut labels: Vec<usize> = jumping.iter().copied().collect();
    labels.sort_unstable();
    labels.dedup();
    let by_jumping = labels
        .into_iter()
        .map(|e| {
            let own: Vec<f64> = moves.iter().zip(jumping.iter()).filter(|(_, j)| **j == e).map(|(k, _)| *k).collect();
            let sum: f64 = own.iter().sum();
            JumpingShare {
                label: e,
                moves: own.len(),
                mean: sum / own.len() as f64,
                contribution: sum / n as f64,
                share: sum / total,
            }
        })
        .collect();
    KinosonSummary {
        label,
        states: n,
        mean,
        error,
        quantiles: [0.5, 0.9, 0.99].map(|q| (q, quantile(q))).to_vec(),
        top_shares: [0.01, 0.1].map(|f| (f, top(f))).to_vec(),
        by_jumping,
    }
}

impl fmt::Display for KinosonSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q: Vec<String> = self.quantiles.iter().map(|(q, v)| format!("q{:.0}% {v:.4e}", q * 100.0)).collect();
        let t: Vec<String> =
            self.top_shares.iter().map(|(p, s)| format!("top {:.0}%: {:.1}%", p * 100.0, s * 100.0)).collect();
        writeln!(
            f,
            "kinosons of label {} ({} states): mean {:.6e} +- {:.1e}; {}; share of L in the {}",
            self.label,
            self.states,
            self.mean,
            self.error,
            q.join(", "),
            t.join(", ")
        )?;
        for j in &self.by_jumping {
            writeln!(
                f,
                "  {} jumping: {} moves, mean {:.4e}, contributes {:.4e} = {:.1}% of L",
                j.label,
                j.moves,
                j.mean,
                j.contribution,
                j.share * 100.0
            )?;
        }
        Ok(())
    }
}

/// The density of log10 of the move terms per jumping element (positive terms; `bins`
/// equal bins in log10 over all of them), each normalised to its own number of moves.
pub fn density_chart(title: &str, moves: ArrayView2<'_, f64>, jumping: ArrayView2<'_, usize>, bins: usize) -> Chart {
    let logs: Vec<(f64, usize)> =
        moves.iter().zip(jumping.iter()).filter(|(k, _)| **k > 0.0).map(|(k, j)| (k.log10(), *j)).collect();
    let grid = LogBins::over(logs.iter().map(|(x, _)| *x), bins);
    let mut labels: Vec<usize> = jumping.iter().copied().collect();
    labels.sort_unstable();
    labels.dedup();
    let mut chart = Chart::new(title, "log10 kinoson of a move", "density (per move of the jumping element)");
    for e in labels {
        let all = jumping.iter().filter(|j| **j == e).count();
        let points = grid.density(logs.iter().filter(|(_, j)| *j == e).map(|(x, _)| *x), all);
        chart = chart.with(Series::line_points(format!("{e} jumping"), points));
    }
    chart
}

/// Equal bins over the range of some log10 values, shared by the curves of one plot.
pub(crate) struct LogBins {
    lo: f64,
    width: f64,
    bins: usize,
}

impl LogBins {
    pub(crate) fn over(values: impl Iterator<Item = f64>, bins: usize) -> LogBins {
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
        let bins = bins.max(1);
        LogBins { lo, width: if hi > lo { (hi - lo) / bins as f64 } else { 1.0 }, bins }
    }

    /// `(bin centre, count / (total x width))` of `values`, `total` the curve's population.
    pub(crate) fn density(&self, values: impl Iterator<Item = f64>, total: usize) -> Vec<(f64, f64)> {
        let mut counts = vec![0.0; self.bins];
        for x in values {
            counts[(((x - self.lo) / self.width) as usize).min(self.bins - 1)] += 1.0;
        }
        let norm = total as f64 * self.width;
        counts.iter().enumerate().map(|(i, c)| (self.lo + (i as f64 + 0.5) * self.width, c / norm)).collect()
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::summarize;

    #[test]
    fn summary_of_known_kinosons() {
        // 100 states: 90 with k = 1 (element 0), 10 with k = 11 (element 1); sum 200.
        let k = Array2::from_shape_fn((100, 1), |(i, _)| if i < 90 { 1.0 } else { 11.0 });
        let jumping = Array2::from_shape_fn((100, 1), |(i, _)| if i < 90 { 0 } else { 1 });
        let s = summarize(0, k.view(), jumping.view());
        assert!((s.mean - 2.0).abs() < 1e-15);
        // The top 10% are the ten k = 11: 110 / 200; the top 1% one of them: 11 / 200.
        assert!((s.top_shares[1].1 - 0.55).abs() < 1e-15);
        assert!((s.top_shares[0].1 - 0.055).abs() < 1e-15);
        assert_eq!(s.quantiles[0].1, 1.0);
        assert_eq!(s.quantiles[2].1, 11.0);
        assert_eq!(s.by_jumping[1].moves, 10);
        assert!((s.by_jumping[0].share - 0.45).abs() < 1e-15 && (s.by_jumping[1].mean - 11.0).abs() < 1e-15);
        assert!((s.by_jumping[1].contribution - 1.1).abs() < 1e-15);
        // Two moves per state (all jumps): the state's kinoson is their sum, the shares
        // go by the move's element.
        let k = Array2::from_shape_fn((4, 2), |(n, m)| (n + 2 * m) as f64);
        let jumping = Array2::from_shape_fn((4, 2), |(_, m)| m);
        let s = summarize(1, k.view(), jumping.view());
        assert!((s.mean - 5.0).abs() < 1e-15); // rows 2, 4, 6, 8
        assert!((s.by_jumping[0].share - 6.0 / 20.0).abs() < 1e-15);
        assert!((s.by_jumping[1].contribution - 14.0 / 4.0).abs() < 1e-15);
    }
}
