//! The table of `gcnet tracer exact`: the exact f_N of one lattice for several cell sizes,
//! its distance from the infinite-lattice f, optionally a multi-step KMC estimate beside
//! each, and the extrapolation f_N = f + c / Nsites from the two largest cells.

use std::time::Instant;

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};

use super::{TracerCorrelation, TracerKmcEstimate, TracerNetwork, exact_tracer_correlation, tracer_kmc};
use crate::error::{Context, Error, Result};

/// Multi-step KMC beside the exact values: `walks` independent tracer walks of `steps`
/// vacancy jumps per cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KmcWalks {
    pub walks: usize,
    pub steps: usize,
    pub seed: u64,
}

/// The cells of one lattice to solve.
#[derive(Clone, Debug)]
pub struct ExactTable {
    pub lattice: LatticeKind,
    pub cell: CellKind,
    /// N of the N x N x N supercells.
    pub sizes: Vec<usize>,
    pub kmc: Option<KmcWalks>,
}

/// One cell of the table.
#[derive(Clone, Debug)]
pub struct ExactRow {
    pub n: usize,
    pub exact: TracerCorrelation,
    /// Seconds to build the crystal tables and solve.
    pub seconds: f64,
    pub kmc: Option<TracerKmcEstimate>,
}

impl ExactTable {
    /// What the options must satisfy (in the command's words).
    pub fn validate(&self) -> Result<()> {
        let refuse = |m: &str| Err(Error::Config(m.into()));
        match self.kmc {
            _ if self.sizes.is_empty() => refuse("--sizes is empty"),
            Some(k) if k.walks == 1 => refuse("--kmc-walks needs at least 2 walks for an error bar (or 0 for none)"),
            Some(k) if k.steps == 0 => refuse("--kmc-steps must be at least 1"),
            _ => Ok(()),
        }
    }

    /// The two header lines (lattice and infinite f; column names).
    pub fn header(&self) -> String {
        let (kind, cell) = (self.lattice, self.cell);
        let mut s = format!("{kind} ({cell} cells), infinite lattice f = {}\n", kind.tracer_correlation_factor());
        s += &format!(
            "{:>4} {:>7} {:>10} {:>11} {:>10} {:>6} {:>9}",
            "N", "sites", "f_N", "f_N - f", "Ns(f_N-f)", "CG it", "time/s"
        );
        if self.kmc.is_some() {
            s += &format!("  {:>18}", "KMC f_N +- 1 s.e.");
        }
        s
    }

    /// Solves every size in order, `on_row` after each.
    pub fn run(&self, mut on_row: impl FnMut(&ExactRow)) -> Result<Vec<ExactRow>> {
        self.validate()?;
        let (kind, cell) = (self.lattice, self.cell);
        let mut rows = Vec::new();
        for &n in &self.sizes {
            let start = Instant::now();
            let crystal = Crystal::cube(kind, cell, n).context(format!("building the {kind} {n}^3 {cell} cell"))?;
            let data = CrystalData::from_crystal(&crystal);
            let exact = exact_tracer_correlation(&data).context(format!("solving the {kind} {n}^3 cell"))?;
            let seconds = start.elapsed().as_secs_f64();
            let kmc = match self.kmc {
                Some(k) => Some(tracer_kmc(&TracerNetwork::new(&data)?, k.walks, k.steps, k.seed)),
                None => None,
            };
            let row = ExactRow { n, exact, seconds, kmc };
            on_row(&row);
            rows.push(row);
        }
        Ok(rows)
    }

    /// One printed row.
    pub fn line(&self, row: &ExactRow) -> String {
        let reference = self.lattice.tracer_correlation_factor();
        let (e, sites) = (&row.exact, row.exact.num_sites as f64);
        let mut s = format!(
            "{:>4} {:>7} {:>10.6} {:>+11.6} {:>10.4} {:>6} {:>9.3}",
            row.n,
            e.num_sites,
            e.f,
            e.f - reference,
            sites * (e.f - reference),
            e.iterations,
            row.seconds
        );
        if let Some(k) = &row.kmc {
            s += &format!("  {:>9.5} +- {:.5}", k.f, k.std_error);
        }
        s
    }

    /// The extrapolation from the two largest cells (the last two rows), if they differ.
    pub fn extrapolation(&self, rows: &[ExactRow]) -> Option<String> {
        let reference = self.lattice.tracer_correlation_factor();
        let [.., a, b] = rows else { return None };
        let (n1, f1, n2, f2) = (a.exact.num_sites as f64, a.exact.f, b.exact.num_sites as f64, b.exact.f);
        (n1 != n2).then(|| {
            let extrapolated = (n2 * f2 - n1 * f1) / (n2 - n1);
            format!(
                "extrapolated from the two largest cells (f_N = f + c / Nsites): f = {extrapolated:.6} ({:+.1e} from {reference})",
                extrapolated - reference
            )
        })
    }
}
