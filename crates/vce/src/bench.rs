//! Throughput of the expansion: building it, checking the samples, accumulating `W` and `b`
//! (the jump each state took, and all jumps) and evaluating `L`, timed in one run.

use std::path::Path;
use std::time::Instant;

use gcnet_crystal::CrystalData;
use gcnet_data::Dataset;

use crate::error::Result;
use crate::expansion::{Expansion, ExpansionCounts};
use crate::fit::{expand, solve, transport};
use crate::geometry::SiteGeometry;
use crate::orbits::BasisParams;
use crate::samples::{Samples, SpeciesChoice};

/// Figures of one expansion on one data set.
#[derive(Clone, Debug)]
pub struct BenchFigures {
    pub params: BasisParams,
    pub counts: ExpansionCounts,
    /// Instances holding site 0 or the jump's site, averaged over the jumps: the work of
    /// one jump.
    pub instances_per_jump: f64,
    pub samples: usize,
    /// Building the clusters, orbits, vector bases and tables.
    pub build_seconds: f64,
    /// Checking every sample (`Samples::new`).
    pub check_seconds: f64,
    /// `W` and `b` from the jump each state took (KMC form).
    pub expand_seconds: f64,
    /// `W` and `b` from every jump of every state (`-aj`).
    pub all_jumps_seconds: f64,
    /// `L` of every sample with the solved coefficients.
    pub evaluate_seconds: f64,
}

impl BenchFigures {
    /// Samples per second of the KMC-form expansion.
    pub fn expand_rate(&self) -> f64 {
        self.samples as f64 / self.expand_seconds
    }

    /// Nanoseconds per instance of a jump (the expansion's cost per unit of work).
    pub fn ns_per_instance(&self) -> f64 {
        1e9 * self.expand_seconds / (self.samples as f64 * self.instances_per_jump)
    }
}

/// Times each expansion of `orders` (cluster cutoff `cutoff`) on `data`, expanding `species`
/// with the vacancy `vacancy`.
pub fn bench(
    crystal: &CrystalData,
    data: &Dataset,
    orders: &[usize],
    cutoff: f64,
    choice: SpeciesChoice,
) -> Result<Vec<BenchFigures>> {
    let mut out = Vec::with_capacity(orders.len());
    for &max_order in orders {
        let params = BasisParams { max_order, cutoff, num_labels: data.num_labels(), vacancy: choice.vacancy };
        let start = Instant::now();
        let expansion = Expansion::build(SiteGeometry::from_crystal(crystal)?, params, false)?;
        let build_seconds = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let samples = Samples::new(data, Path::new("generated samples"), &expansion, choice)?;
        let check_seconds = start.elapsed().as_secs_f64();
        let n = samples.len();
        let start = Instant::now();
        let normal = expand(&expansion, &samples, 0..n, false)?;
        let expand_seconds = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let _all = expand(&expansion, &samples, 0..n, true)?;
        let all_jumps_seconds = start.elapsed().as_secs_f64();
        let solution = solve(&normal, 1e-8)?;
        let start = Instant::now();
        let _l = transport(&expansion, &samples, &solution.eta, 0..n)?;
        let evaluate_seconds = start.elapsed().as_secs_f64();
        let z = expansion.geometry().jumps().len();
        let instances_per_jump = (0..z).map(|j| expansion.instances_per_jump(j)).sum::<usize>() as f64 / z as f64;
        out.push(BenchFigures {
            params,
            counts: expansion.counts(),
            instances_per_jump,
            samples: n,
            build_seconds,
            check_seconds,
            expand_seconds,
            all_jumps_seconds,
            evaluate_seconds,
        });
    }
    Ok(out)
}
