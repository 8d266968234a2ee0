//! f32 against f64 training passes taking turns every few samples, for `gcnet bench`.
//!
//! A shared machine's speed drifts between states that last seconds (one bench run has
//! measured its f64 matmul rate at 75 and at 130 GFLOP/s), so epochs of one precision and
//! then the other, seconds each, can fall in different states: the epochs' f32/f64 ratio
//! moved from 1.72 to 2.10x between runs of one build. Here the precisions take turns every
//! few samples (tens of milliseconds), so both see the same states, and every turn gives a
//! ratio of its own.

use std::fmt;

use crate::network::Gcnet;
use crate::objective::Objective;
use crate::samples::SampleSet;
use crate::train::{PassTimes, time_passes};

/// The passes (forward, loss, backward; no batches, no Adam steps) of f64 and f32.
#[derive(Clone, Debug)]
pub struct Turns {
    /// Samples per turn of each precision (a multiple of both micro-batches).
    pub samples: usize,
    pub f64: PassTimes,
    pub f32: PassTimes,
    /// Each turn's f64 time over its f32 time, in order.
    pub ratios: Vec<f64>,
}

/// One precision's side: its network, samples and micro-batch.
pub(crate) struct Side<'a> {
    pub net: &'a Gcnet,
    pub set: &'a SampleSet<'a>,
    pub micro_batch: usize,
}

/// Both precisions' passes over the first `n` samples (whole turns), f64 first in every
/// turn.
pub(crate) fn take_turns(f64_side: &Side<'_>, f32_side: &Side<'_>, obj: &Objective, n: usize) -> Turns {
    let (a, b) = (f64_side.micro_batch.max(1), f32_side.micro_batch.max(1));
    let samples = a / gcd(a, b) * b;
    let order: Vec<usize> = (0..n).collect();
    let mut turns = Turns { samples, f64: PassTimes::default(), f32: PassTimes::default(), ratios: Vec::new() };
    for turn in order.chunks_exact(samples) {
        let passes = |side: &Side<'_>| {
            let micro: Vec<&[usize]> = turn.chunks(side.micro_batch.max(1)).collect();
            time_passes(side.net, side.set, obj, &micro)
        };
        let (t64, t32) = (passes(f64_side), passes(f32_side));
        turns.ratios.push(t64.total().as_secs_f64() / t32.total().as_secs_f64());
        turns.f64 += t64;
        turns.f32 += t32;
    }
    turns
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl Turns {
    /// The summed f64 time over the summed f32 time.
    pub fn ratio(&self) -> f64 {
        self.f64.total().as_secs_f64() / self.f32.total().as_secs_f64()
    }

    /// The turns' ratios at the quarter, half and three quarters of their sorted order.
    pub fn quartiles(&self) -> [f64; 3] {
        let mut r = self.ratios.clone();
        r.sort_by(f64::total_cmp);
        let at = |q: usize| r.get((r.len().max(1) - 1) * q / 4).copied().unwrap_or(f64::NAN);
        [at(1), at(2), at(3)]
    }
}

/// "f64 and f32 passes taking turns every 4 samples (64 turns): ...".
impl fmt::Display for Turns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |p: &PassTimes| 1e3 * p.total().as_secs_f64() / p.samples.max(1) as f64;
        let [q1, q2, q3] = self.quartiles();
        write!(
            f,
            "f64 and f32 passes taking turns every {} samples ({} turns): {:.2} and {:.2} ms a sample, f32 {:.2}x (turns: median {:.2}, middle half {:.2} to {:.2})",
            self.samples,
            self.ratios.len(),
            ms(&self.f64),
            ms(&self.f32),
            self.ratio(),
            q2,
            q1,
            q3
        )?;
        let x = |a: std::time::Duration, b: std::time::Duration| a.as_secs_f64() / b.as_secs_f64();
        write!(
            f,
            "\n    by phase, f32 against f64: layers' forward {:.2}x, loss and its gradient {:.2}x, layers' backward {:.2}x",
            x(self.f64.forward, self.f32.forward),
            x(self.f64.loss, self.f32.loss),
            x(self.f64.backward, self.f32.backward)
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::bench::{BenchConfig, run};

    fn passes(ms: f64, samples: usize) -> PassTimes {
        let d = Duration::from_secs_f64(ms / 3e3);
        PassTimes { forward: d, loss: d, backward: d, samples }
    }

    /// The ratio is the summed f64 time over the summed f32 time (not the mean of the
    /// turns' ratios), the quartiles come from the sorted turns, and the line says both.
    #[test]
    fn ratio_of_sums_and_quartiles() {
        let t = Turns { samples: 4, f64: passes(30.0, 8), f32: passes(12.0, 8), ratios: vec![3.0, 1.0, 2.0, 4.0, 5.0] };
        assert!((t.ratio() - 2.5).abs() < 1e-9);
        assert_eq!(t.quartiles(), [2.0, 3.0, 4.0]);
        let line = t.to_string();
        assert!(
            line.starts_with(
                "f64 and f32 passes taking turns every 4 samples (5 turns): 3.75 and 1.50 ms a sample, f32 2.50x (turns: median 3.00, middle half 2.00 to 4.00)"
            ),
            "{line}"
        );
        assert!(line.ends_with("layers' forward 2.50x, loss and its gradient 2.50x, layers' backward 2.50x"), "{line}");
    }

    /// A small benchmark takes turns on the CPU over whole turns of both micro-batches
    /// (2 and 4 samples: turns of 4), every sample of each precision once.
    #[test]
    fn the_benchmark_takes_turns_on_the_cpu() {
        // the bench draws weights and random factors from libtorch's generator
        let _rng = crate::global_rng();
        let cfg = BenchConfig {
            nl: 1,
            nch: 8,
            size: 4,
            batch: 8,
            samples: 10,
            rounds: 1,
            device: tch::Device::Cpu,
            // the default count: a count of its own would change the threads of tests
            // running beside this one, and with them the bits of their sums
            threads: None,
            ..BenchConfig::default()
        };
        let report = run(&BenchConfig { micro_batch: 2, ..cfg.clone() }).unwrap();
        let t = report.turns.expect("both precisions on the CPU take turns");
        assert_eq!((t.samples, t.ratios.len(), t.f64.samples, t.f32.samples), (2, 5, 10, 10));
        assert!(t.ratios.iter().all(|r| r.is_finite() && *r > 0.0), "{:?}", t.ratios);
        let one = run(&BenchConfig { kinds: vec![tch::Kind::Double], ..cfg }).unwrap();
        assert!(one.turns.is_none(), "one precision has nothing to take turns with");
    }
}
