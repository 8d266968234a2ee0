//! Analysis frames of a data set (polars), and the description `gcnet describe` prints
//! ([`describe()`]).
//!
//! [`sample_frame`]: one row per sample. [`summary_frame`]: one row per label with the
//! uncorrelated transport coefficient (SPEC section 1 with y = 0)
//!
//! ```text
//! L0_a = 1/(6N) sum_n W_n |SpecDisps[n, a]|^2     (per vacancy, units of a^2 x rate)
//! ```
//!
//! and its standard error (standard deviation of the per-sample terms / sqrt(N)).
//! For a fixed-rate gas, the vacancy swaps with each neighbour at that neighbour's rate,
//! so L0_a = (z |a dx|^2 / 6) * rate_a * n_a / (Nsites - 1), with n_a / (Nsites - 1)
//! the fraction of atom sites held by a; for FCC (z |dx|^2 / 6 = 1) and the SR-2 fast
//! species (rate 1) L0_fast is its atom-site fraction.

use std::fmt;

use gcnet_crystal::CrystalData;
use polars::prelude::{Column, DataFrame, NamedFrom, PolarsResult, Series};

use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::kmc::Estimate;
use crate::units::{LengthUnit, lattice_parameter};

/// What [`describe()`] shows.
#[derive(Clone, Copy, Debug)]
pub struct DescribeOptions<'a> {
    /// Rows of the per-sample frame (default 10).
    pub rows: usize,
    /// The crystal the data was made on: its jump vectors tell whether the displacements
    /// are in units of the lattice parameter (a0) or in Å, the unit L0 is shown in.
    pub crystal: Option<&'a CrystalData>,
}

impl Default for DescribeOptions<'_> {
    fn default() -> Self {
        DescribeOptions { rows: 10, crystal: None }
    }
}

/// The shapes, the first rows of [`sample_frame`] and the [`summary_frame`] of a data set,
/// with L0's unit; displayed, it is what `gcnet describe` prints after the file's name.
#[derive(Clone, Debug)]
pub struct Description {
    pub samples: usize,
    pub num_sites: usize,
    pub num_labels: usize,
    pub z: usize,
    /// The first rows of [`sample_frame`].
    pub head: DataFrame,
    pub summary: DataFrame,
    /// The unit of the displacements, when a crystal told it.
    pub unit: Option<LengthUnit>,
}

/// Describes `data` (see [`Description`]).
pub fn describe(data: &Dataset, options: &DescribeOptions) -> Result<Description> {
    let polars = |e: polars::prelude::PolarsError| Error::Config(format!("building the frames: {e}"));
    let unit = match options.crystal {
        Some(crystal) => Some(LengthUnit::of(lattice_parameter(data, crystal, None)?)),
        None => None,
    };
    Ok(Description {
        samples: data.len(),
        num_sites: data.num_sites(),
        num_labels: data.num_labels(),
        z: data.z(),
        head: sample_frame(data).map_err(polars)?.head(Some(options.rows)),
        summary: summary_frame(data).map_err(polars)?,
        unit,
    })
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} samples, {} sites, {} labels, z = {}", self.samples, self.num_sites, self.num_labels, self.z)?;
        writeln!(f, "{}", self.head)?;
        let unit = match self.unit {
            Some(u) => u.transport(),
            None => "(SpecDisps length unit)^2 x rate; --crystal names the unit".into(),
        };
        writeln!(f, "uncorrelated L0 per vacancy (units of {unit}):")?;
        write!(f, "{}", self.summary)
    }
}

/// The vacancy's label: the label most often on site 0 of s1.
pub fn vacancy_label(data: &Dataset) -> usize {
    let mut hits = vec![0usize; data.num_labels().max(1)];
    for &l in data.init_states.column(0) {
        if (0..hits.len() as i8).contains(&l) {
            hits[l as usize] += 1;
        }
    }
    (0..hits.len()).max_by_key(|&l| (hits[l], std::cmp::Reverse(l))).unwrap_or(0)
}

/// One row per sample: `sample`, `escape_rate` (W), `jump`, `exchanged` (the non-vacancy
/// label that moved, null if none did), `dx_<l>`, `dy_<l>`, `dz_<l>` (SpecDisps of label l)
/// and `count_<l>` (sites holding label l in s1) for every label l.
pub fn sample_frame(data: &Dataset) -> PolarsResult<DataFrame> {
    let n = data.len();
    let nl = data.num_labels();
    let v = vacancy_label(data);
    let exchanged: Vec<Option<i64>> = (0..n)
        .map(|i| {
            (0..nl)
                .filter(|&l| l != v)
                .map(|l| (l, (0..3).map(|k| data.spec_disps[[i, l, k]].powi(2)).sum::<f64>()))
                .filter(|(_, d)| *d > 0.0)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(l, _)| l as i64)
        })
        .collect();
    let mut columns = vec![
        Column::new("sample".into(), (0..n as i64).collect::<Vec<_>>()),
        Column::new("escape_rate".into(), data.rates.to_vec()),
        Column::new("jump".into(), data.jump_selects.to_vec()),
        Column::new("exchanged".into(), exchanged),
    ];
    for l in 0..nl {
        for (k, axis) in ["dx", "dy", "dz"].iter().enumerate() {
            let col: Vec<f64> = (0..n).map(|i| data.spec_disps[[i, l, k]]).collect();
            columns.push(Column::new(format!("{axis}_{l}").into(), col));
        }
    }
    for l in 0..nl {
        let counts: Vec<i64> = data
            .init_states
            .rows()
            .into_iter()
            .map(|row| row.iter().filter(|&&x| x as usize == l).count() as i64)
            .collect();
        columns.push(Column::new(format!("count_{l}").into(), counts));
    }
    DataFrame::new(n, columns)
}

/// The uncorrelated transport coefficient L0 of every label with its standard error
/// (see the module docs), in the data's length unit squared x rate.
pub fn uncorrelated(data: &Dataset) -> Vec<Estimate> {
    (0..data.num_labels())
        .map(|l| {
            let terms: Vec<f64> = (0..data.len())
                .map(|i| data.rates[i] * (0..3).map(|k| data.spec_disps[[i, l, k]].powi(2)).sum::<f64>() / 6.0)
                .collect();
            Estimate::of(&terms)
        })
        .collect()
}

/// One row per label: `label`, `vacancy` (bool), `site_fraction` (mean sites held in s1 /
/// Nsites), `atom_fraction` (mean sites held / (Nsites - 1); null for the vacancy),
/// `L0` and `L0_error` (see the module docs).
pub fn summary_frame(data: &Dataset) -> PolarsResult<DataFrame> {
    let n = data.len();
    let nl = data.num_labels();
    let ns = data.num_sites();
    let v = vacancy_label(data);
    let mut site_fraction = Vec::with_capacity(nl);
    let mut atom_fraction = Vec::with_capacity(nl);
    let l0 = uncorrelated(data);
    for l in 0..nl {
        let held = data.init_states.iter().filter(|&&x| x as usize == l).count() as f64 / n.max(1) as f64;
        site_fraction.push(held / ns as f64);
        atom_fraction.push((l != v).then(|| held / (ns as f64 - 1.0)));
    }
    DataFrame::new(
        nl,
        vec![
            Column::new("label".into(), (0..nl as i64).collect::<Vec<_>>()),
            Column::new("vacancy".into(), (0..nl).map(|l| l == v).collect::<Vec<_>>()),
            Column::new("site_fraction".into(), site_fraction),
            Column::from(Series::new("atom_fraction".into(), atom_fraction)),
            Column::new("L0".into(), l0.iter().map(|e| e.value).collect::<Vec<_>>()),
            Column::new("L0_error".into(), l0.iter().map(|e| e.error).collect::<Vec<_>>()),
        ],
    )
}
