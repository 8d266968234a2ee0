//! Throughput of single-step generation (in memory, and streamed into an HDF5 file) and of
//! multi-step KMC. Timed on the calling thread only.

use std::path::Path;
use std::time::Instant;

use gcnet_crystal::CrystalData;

use crate::error::{Error, Result};
use crate::kmc::{self, Duration, KmcConfig};
use crate::latgas::LatticeGas;

/// Measured rates.
#[derive(Clone, Debug)]
pub struct BenchReport {
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
pub fn run(crystal: &CrystalData, gas: &LatticeGas, samples: usize, kmc_steps: u64, dir: &Path) -> Result<BenchReport> {
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
    Ok(BenchReport { samples, generate_seconds, write_seconds, file_bytes, kmc_steps: result.steps, kmc_seconds })
}
