//! `gcnet srb` as one call: the data set, its crystal and the four getY -aj outputs read
//! and checked (their records against the data set and the species set), the correction
//! computed, and the report written if asked for. Messages name the command's options.

use std::fmt;
use std::path::PathBuf;

use gcnet_crystal::CrystalData;
use gcnet_data::Dataset;
use gcnet_files::{Input, Overwrite};

use super::files::YProvenance;
use super::{RelaxationVectors, SrbConfig, SrbReport, scaled_residual_bias};
use crate::error::{Context, Error, Result};

/// Reads the published spelling of S: a string of single-digit labels ("1", "12"), or
/// labels separated by commas ("1,2", "10,11").
pub fn parse_species(text: &str) -> Result<Vec<usize>> {
    gcnet_data::parse_labels(text).ok_or_else(|| {
        Error::Species(format!("cannot read species labels from `{}` (write e.g. 1, 12 or 1,2)", text.trim()))
    })
}

/// The files of one correction and what to compute from them.
#[derive(Clone, Debug)]
pub struct SrbRun {
    /// [--data, -DP] The single-step data set.
    pub data: PathBuf,
    /// [--crystal, -cr] The crystal data file the data set was made on.
    pub crystal: PathBuf,
    /// [--y-st1, --y-st2, --y-st1-exits, --y-st2-exits] The getY -aj outputs.
    pub y: [PathBuf; 4],
    pub config: SrbConfig,
    /// [-o] Where to write theta, W, b and the L values (.npz), if anywhere.
    pub output: Option<PathBuf>,
    /// [--force] Whether an existing output is replaced (an input never is).
    pub overwrite: Overwrite,
}

impl SrbRun {
    /// Reads, checks, computes and (with an output) writes the report.
    pub fn run(&self) -> Result<SrbReport> {
        if let Some(out) = &self.output {
            let mut inputs = vec![self.data.clone(), self.crystal.clone()];
            inputs.extend(self.y.iter().cloned());
            gcnet_files::check_output(out, &inputs, self.overwrite).context(format!(
                "--output {}: an input is never written over, an existing file only with --force",
                out.display()
            ))?;
        }
        let (data_path, crystal_path) = (&self.data, &self.crystal);
        let crystal =
            CrystalData::read(crystal_path).context(format!("reading --crystal {}", crystal_path.display()))?;
        let data = Dataset::read(data_path).context(format!("reading --data {}", data_path.display()))?;
        let data_input = Input::of(data_path).context(format!("--data {}", data_path.display()))?;
        let config = &self.config;
        let expected = YProvenance { data: &data_input, species: &config.species, vacancy: config.vacancy };
        let [a, b, c, d] = &self.y;
        let y = RelaxationVectors::read_checked([a, b, c, d], Some(&expected))
            .context("reading --y-st1, --y-st2, --y-st1-exits and --y-st2-exits")?;
        let report = scaled_residual_bias(&data, &crystal, &y, config).context("scaled residual bias")?;
        if let Some(path) = &self.output {
            report.write_npz(path, self.overwrite).context(format!("writing --output {}", path.display()))?;
        }
        Ok(report)
    }
}

/// The report as `gcnet srb` prints it: theta per basis label, the condition number, and
/// L0, L[y] and L[y + theta.B] with their standard errors on the training and validation
/// samples.
pub struct Table<'a> {
    pub config: &'a SrbConfig,
    pub report: &'a SrbReport,
}

impl SrbReport {
    /// The printed form of the report for `config`.
    pub fn table<'a>(&'a self, config: &'a SrbConfig) -> Table<'a> {
        Table { config, report: self }
    }
}

impl fmt::Display for Table<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (config, report) = (self.config, self.report);
        writeln!(
            f,
            "scaled residual bias: S = {:?}, vacancy label {}, residual on label {}, basis labels {:?}",
            config.species, config.vacancy, report.expanded, report.basis_labels
        )?;
        for (label, theta) in report.basis_labels.iter().zip(&report.coefficients.theta) {
            writeln!(f, "theta[B_{label}] = {theta:+.8e}")?;
        }
        writeln!(f, "condition number of W (unit diagonal): {:.3e}", report.coefficients.condition)?;
        for dropped in &report.coefficients.dropped {
            writeln!(f, "left out of the fit: {dropped}")?;
        }
        writeln!(f, "values are mean +- one standard error over the samples (theta held fixed)")?;
        writeln!(f, "{:<11} {:>6} {:>28} {:>28} {:>28} {:>9}", "samples", "N", "L0", "L[y]", "L[y+theta.B]", "change")?;
        let mut sets = vec![("training", report.train)];
        sets.extend(report.validation.map(|v| ("validation", v)));
        let pm = |value: f64, error: f64| format!("{value:.8e} +- {error:.2e}");
        for (name, set) in sets {
            writeln!(
                f,
                "{name:<11} {:>6} {:>28} {:>28} {:>28} {:>+8.3}%",
                set.samples,
                pm(set.l0, set.l0_error),
                pm(set.l_y, set.l_y_error),
                pm(set.l_srb, set.l_srb_error),
                100.0 * (set.l_srb - set.l_y) / set.l_y
            )?;
        }
        Ok(())
    }
}
