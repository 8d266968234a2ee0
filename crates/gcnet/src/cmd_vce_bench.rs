//! `gcnet bench-vce`: throughput of the vector cluster expansion on generated SR-2 samples
//! (8x8x8 primitive FCC unless --crystal is given): samples per second of the expansion
//! (W and b), for each cluster order, at two sample counts to show that the cost per
//! sample does not grow with the number of samples.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::LatticeGas;
use gcnet_vce::SpeciesChoice;
use gcnet_vce::bench::{BenchFigures, bench};

/// The published tool's time per sample to build the expansion on the development machine
/// (12 to 15 ms, quoted by issue 15; not measured by this command).
const PUBLISHED_MS_PER_SAMPLE: (f64, f64) = (12.0, 15.0);

/// Time the vector cluster expansion on generated SR-2 samples (fast fraction 0.5,
/// expanding the fast species 1, vacancy 2): build, sample checks, W and b from the KMC
/// jump and from all jumps, and L.
#[derive(Debug, Parser)]
#[command(name = "gcnet bench-vce", bin_name = "gcnet bench-vce")]
struct BenchArgs {
    /// Samples generated (the run also times a tenth of them, for the scaling).
    #[arg(long, default_value_t = 100_000)]
    samples: usize,
    /// Cluster orders (-mo), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "2,3")]
    orders: Vec<usize>,
    /// Cluster cutoff (-cc), lattice-parameter units.
    #[arg(long, default_value_t = 0.71)]
    cutoff: f64,
    /// Crystal data file (default: a generated 8x8x8 primitive FCC cell, the same as
    /// CrysDat_FCC/CrystData.h5).
    #[arg(long)]
    crystal: Option<PathBuf>,
    /// Seed of the generated samples.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn run(args: &[OsString]) -> anyhow::Result<ExitCode> {
    let a = BenchArgs::parse_from(args);
    if a.samples < 10 {
        bail!("--samples must be at least 10");
    }
    let crystal = match &a.crystal {
        Some(p) => CrystalData::read(p).with_context(|| format!("reading --crystal {}", p.display()))?,
        None => CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 8)?),
    };
    let start = Instant::now();
    let data = LatticeGas::sr2(0.5).generate(&crystal, a.samples, a.seed)?;
    eprintln!(
        "gcnet bench-vce: {} SR-2 samples on {} ({} sites) generated in {:.2} s; one thread",
        a.samples,
        crystal.source_name(),
        crystal.num_sites(),
        start.elapsed().as_secs_f64()
    );
    let choice = SpeciesChoice { species: 1, vacancy: 2 };
    let small = data.slice(0, a.samples / 10);
    let full = bench(&crystal, &data, &a.orders, a.cutoff, choice)?;
    let tenth = bench(&crystal, &small, &a.orders, a.cutoff, choice)?;
    println!(
        "VCE throughput, SR-2 on {}, -cc {}, expanding species 1 (vacancy 2); times per sample in microseconds",
        crystal.source_name(),
        a.cutoff
    );
    println!(
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
    );
    for figures in tenth.iter().chain(full.iter()) {
        row(figures);
    }
    for (f, s) in full.iter().zip(&tenth) {
        let ratio = (f.expand_seconds / f.samples as f64) / (s.expand_seconds / s.samples as f64);
        println!(
            "-mo {}: time per sample at {} samples / at {} samples = {ratio:.2} (1 = linear in samples)",
            f.params.max_order, f.samples, s.samples
        );
    }
    println!(
        "vs publ.: speed-up over the published tool's {}-{} ms per sample for the expansion (issue 15's figure, not measured here)",
        PUBLISHED_MS_PER_SAMPLE.0, PUBLISHED_MS_PER_SAMPLE.1
    );
    Ok(ExitCode::SUCCESS)
}

fn row(f: &BenchFigures) {
    let per = |s: f64| 1e6 * s / f.samples as f64;
    let us = per(f.expand_seconds);
    println!(
        "{:>3} {:>8} {:>8} {:>6} {:>9.1} {:>8.3} {:>9} {:>13.0} {:>10.3} {:>11.2} {:>10.2} {:>9.3} {:>5.0}-{:<5.0}",
        f.params.max_order,
        f.counts.species_clusters,
        f.counts.interactions,
        f.counts.vector_groups,
        f.instances_per_jump,
        f.build_seconds,
        f.samples,
        f.expand_rate(),
        us,
        f.ns_per_instance(),
        per(f.all_jumps_seconds),
        per(f.evaluate_seconds),
        1e3 * PUBLISHED_MS_PER_SAMPLE.0 / us,
        1e3 * PUBLISHED_MS_PER_SAMPLE.1 / us,
    );
}
