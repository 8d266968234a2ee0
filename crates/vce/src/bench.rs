//! Throughput of the expansion: building it, checking the samples, accumulating `W` and `b`
//! (the jump each state took, and all jumps) and evaluating `L`, timed in one run.
//! [`BenchConfig::run`] is `gcnet bench-vce`: generated SR-2 samples, every order timed on
//! all of them and on a tenth (the cost per sample must not grow with the samples); the
//! [`BenchReport`]'s `Display` is the table it prints.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::{Dataset, LatticeGas};

use crate::error::{Context, Error, Result};
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

/// The published tool's time per sample to build the expansion on the development machine
/// (12 to 15 ms, quoted by issue 15; not measured here).
pub const PUBLISHED_MS_PER_SAMPLE: (f64, f64) = (12.0, 15.0);

/// The SR-2 samples expanded by [`BenchConfig::run`]: fast species 1, vacancy 2.
const SR2_CHOICE: SpeciesChoice = SpeciesChoice { species: 1, vacancy: 2 };

/// `gcnet bench-vce`: SR-2 samples at fast fraction 0.5, generated on `crystal`.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// Samples generated (a tenth of them are timed as well, for the scaling); at least 10.
    pub samples: usize,
    /// Cluster orders (-mo) timed.
    pub orders: Vec<usize>,
    /// Cluster cutoff (-cc), lattice-parameter units.
    pub cutoff: f64,
    /// Crystal data file; `None`: a generated 8x8x8 primitive FCC cell (the same as
    /// CrysDat_FCC/CrystData.h5).
    pub crystal: Option<PathBuf>,
    /// Seed of the generated samples.
    pub seed: u64,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig { samples: 100_000, orders: vec![2, 3], cutoff: 0.71, crystal: None, seed: 1 }
    }
}

/// The figures of a [`BenchConfig::run`].
#[derive(Clone, Debug)]
pub struct BenchReport {
    pub cutoff: f64,
    /// The crystal's name and number of sites.
    pub crystal: String,
    pub sites: usize,
    /// Generating the samples.
    pub generate_seconds: f64,
    /// Each order on every sample, and on the first tenth.
    pub full: Vec<BenchFigures>,
    pub tenth: Vec<BenchFigures>,
}

impl BenchConfig {
    pub fn validate(&self) -> Result<()> {
        if self.samples < 10 {
            return Err(Error::Parameter("--samples must be at least 10".into()));
        }
        Ok(())
    }

    /// Generates the samples (logging how long that took through `log`) and times every
    /// order on them.
    pub fn run(&self, log: &dyn Fn(&str)) -> Result<BenchReport> {
        self.validate()?;
        let crystal = match &self.crystal {
            Some(p) => CrystalData::read(p).context(|| format!("reading --crystal {}", p.display()))?,
            None => CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 8)?),
        };
        let start = Instant::now();
        let data = LatticeGas::sr2(0.5).generate(&crystal, self.samples, self.seed)?;
        let generate_seconds = start.elapsed().as_secs_f64();
        log(&format!(
            "{} SR-2 samples on {} ({} sites) generated in {generate_seconds:.2} s; one thread",
            self.samples,
            crystal.source_name(),
            crystal.num_sites()
        ));
        let small = data.slice(0, self.samples / 10);
        let full = bench(&crystal, &data, &self.orders, self.cutoff, SR2_CHOICE)?;
        let tenth = bench(&crystal, &small, &self.orders, self.cutoff, SR2_CHOICE)?;
        Ok(BenchReport {
            cutoff: self.cutoff,
            crystal: crystal.source_name().to_string(),
            sites: crystal.num_sites(),
            generate_seconds,
            full,
            tenth,
        })
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "VCE throughput, SR-2 on {}, -cc {}, expanding species 1 (vacancy 2); times per sample in microseconds",
            self.crystal, self.cutoff
        )?;
        writeln!(
            f,
            "{:>3} {:>8} {:>8} {:>6} {:>9} {:>8} {:>9} {:>13} {:>10} {:>11} {:>10} {:>9} {:>11}",
            "-mo",
            "species",
            "interac",
            "K",
            "inst/jump",
            "build s",
            "samples",
            "W,b samples/s",
            "us/sample",
            "ns/instance",
            "-aj us/st",
            "L us/smp",
            "vs publ."
        )?;
        for b in self.tenth.iter().chain(&self.full) {
            let per = |s: f64| 1e6 * s / b.samples as f64;
            let us = per(b.expand_seconds);
            writeln!(
                f,
                "{:>3} {:>8} {:>8} {:>6} {:>9.1} {:>8.3} {:>9} {:>13.0} {:>10.3} {:>11.2} {:>10.2} {:>9.3} {:>5.0}-{:<5.0}",
                b.params.max_order,
                b.counts.species_clusters,
                b.counts.interactions,
                b.counts.vector_groups,
                b.instances_per_jump,
                b.build_seconds,
                b.samples,
                b.expand_rate(),
                us,
                b.ns_per_instance(),
                per(b.all_jumps_seconds),
                per(b.evaluate_seconds),
                1e3 * PUBLISHED_MS_PER_SAMPLE.0 / us,
                1e3 * PUBLISHED_MS_PER_SAMPLE.1 / us,
            )?;
        }
        for (a, s) in self.full.iter().zip(&self.tenth) {
            let ratio = (a.expand_seconds / a.samples as f64) / (s.expand_seconds / s.samples as f64);
            writeln!(
                f,
                "-mo {}: time per sample at {} samples / at {} samples = {ratio:.2} (1 = linear in samples)",
                a.params.max_order, a.samples, s.samples
            )?;
        }
        writeln!(
            f,
            "vs publ.: speed-up over the published tool's {}-{} ms per sample for the expansion (issue 15's figure, not \
             measured here)",
            PUBLISHED_MS_PER_SAMPLE.0, PUBLISHED_MS_PER_SAMPLE.1
        )
    }
}
