//! Throughput of single-step generation (in memory, and streamed into an HDF5 file) and of
//! multi-step KMC. Timed on the calling thread only: what `gcnet bench-data` runs
//! ([`BenchConfig::run`]) and prints (the report's `Display`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};

use crate::error::{Error, Result};
use crate::kmc::{self, Duration, KmcConfig};
use crate::latgas::LatticeGas;

/// The benchmark of `gcnet bench-data`: SR-2 at fast fraction 0.5 on an N x N x N
/// primitive FCC cell.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchConfig {
    /// Cells along each axis N (default 8).
    pub size: usize,
    /// Samples to generate (default 500,000).
    pub samples: usize,
    /// KMC steps to time (default 20,000,000).
    pub kmc_steps: u64,
    /// Directory of the scratch file (default ".").
    pub dir: PathBuf,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig { size: 8, samples: 500_000, kmc_steps: 20_000_000, dir: PathBuf::from(".") }
    }
}

impl BenchConfig {
    pub fn run(&self) -> Result<BenchReport> {
        let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, self.size)?);
        let mut report = measure(&crystal, &LatticeGas::sr2(0.5), self.samples, self.kmc_steps, &self.dir)?;
        report.size = self.size;
        Ok(report)
    }
}

/// Measured rates; displayed, the lines `gcnet bench-data` prints.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// Cells along each axis of the FCC primitive cell.
    pub size: usize,
    pub num_sites: usize,
    pub samples: usize,
    /// Generation alone, into a reused in-memory block.
    pub generate_seconds: f64,
    /// Generation streamed into an HDF5 file (blocks of 8192 samples), file closed.
    pub write_seconds: f64,
    pub file_bytes: u64,
    pub kmc_steps: u64,
    pub kmc_seconds: f64,
}

impl BenchReport {
    pub fn generate_per_second(&self) -> f64 {
        self.samples as f64 / self.generate_seconds
    }

    pub fn write_per_second(&self) -> f64 {
        self.samples as f64 / self.write_seconds
    }

    /// Fraction of the generate-and-write time spent on the file.
    pub fn write_fraction(&self) -> f64 {
        1.0 - self.generate_seconds / self.write_seconds
    }

    pub fn kmc_steps_per_second(&self) -> f64 {
        self.kmc_steps as f64 / self.kmc_seconds
    }
}

/// Generates `samples` single steps of `gas` on `crystal` in memory, then again into a
/// temporary file in `dir`, then runs `kmc_steps` KMC steps on one thread.
fn measure(crystal: &CrystalData, gas: &LatticeGas, samples: usize, kmc_steps: u64, dir: &Path) -> Result<BenchReport> {
    const BLOCK: usize = 8192;
    let mut sampler = gas.sampler(crystal, 1)?;
    let mut block = sampler.empty_block(BLOCK);
    let start = Instant::now();
    let mut done = 0;
    while done < samples {
        let rows = BLOCK.min(samples - done);
        if rows != block.len() {
            block = sampler.empty_block(rows);
        }
        sampler.fill(&mut block);
        done += rows;
    }
    let generate_seconds = start.elapsed().as_secs_f64();
    std::hint::black_box(&block);

    let tmp = tempfile::Builder::new().prefix(".gcnet-bench-").tempdir_in(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        action: "create a scratch directory in",
        source,
    })?;
    let path = tmp.path().join("bench.h5");
    let start = Instant::now();
    gas.generate_to_file(crystal, samples, 1, &path, false, &mut |_| {})?;
    let write_seconds = start.elapsed().as_secs_f64();
    let file_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);

    let config =
        KmcConfig { gas: gas.clone(), trajectories: 2, duration: Duration::Steps(kmc_steps / 2), seed: 1, threads: 1 };
    let start = Instant::now();
    let result = kmc::run(crystal, &config, &|_| {})?;
    let kmc_seconds = start.elapsed().as_secs_f64();
    Ok(BenchReport {
        size: 0, // set by the caller, who built the crystal
        num_sites: crystal.num_sites(),
        samples,
        generate_seconds,
        write_seconds,
        file_bytes,
        kmc_steps: result.steps,
        kmc_seconds,
    })
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "FCC {0}x{0}x{0} primitive ({1} sites), SR-2 at fast fraction 0.5, one core:",
            self.size, self.num_sites
        )?;
        writeln!(
            f,
            "  generation in memory:      {:.3e} samples/s ({} samples in {:.3} s)",
            self.generate_per_second(),
            self.samples,
            self.generate_seconds
        )?;
        writeln!(
            f,
            "  generation + HDF5 writing: {:.3e} samples/s ({:.3} s, {:.1} MB); writing is {:.0}% of the time",
            self.write_per_second(),
            self.write_seconds,
            self.file_bytes as f64 / 1e6,
            100.0 * self.write_fraction()
        )?;
        write!(
            f,
            "  KMC:                       {:.3e} steps/s ({} steps in {:.3} s)",
            self.kmc_steps_per_second(),
            self.kmc_steps,
            self.kmc_seconds
        )
    }
}
