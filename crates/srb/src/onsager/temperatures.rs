//! Kinosons at several temperatures: each `gcnet onsager` run's kinosons read back with
//! their record checked, L(T) of a label from its validation states with its error, the
//! Arrhenius fit `L = A exp(-E_a / k_B T)` (activation energy and prefactor with errors),
//! and the kinoson densities of all temperatures on one plot.

use std::fmt;
use std::path::{Path, PathBuf};

use gcnet_files::Record;
use gcnet_plot::{Chart, Series};
use ndarray::{Array2, ArrayD, Axis, s};

use super::kinosons::LogBins;
use super::matrix::mean_and_error;
use crate::error::{Error, Result};

/// Boltzmann's constant in eV/K.
pub const BOLTZMANN_EV: f64 = 8.617333262e-5;

/// One label's kinosons from one `gcnet onsager` run.
#[derive(Clone, Debug)]
pub struct KinosonRun {
    /// The -td tag of the run (in the file names).
    pub tag: String,
    /// The tag read as a temperature in K.
    pub temperature: f64,
    pub label: usize,
    /// `(N, M)` move terms, states in sample order.
    pub moves: Array2<f64>,
    /// `(N, M)` jumping labels.
    pub jumping: Array2<usize>,
    /// The first `n_train` states trained the network; the rest are validation states.
    pub n_train: usize,
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::File { path: path.to_path_buf(), action: "use the kinosons of", reason: reason.into() }
}

impl KinosonRun {
    /// `{prefix}_{label}_{tag}.npy` and `{prefix}_jumping_{tag}.npy` of `dir` (prefix
    /// `kinosons`, or `kinosons_vce` for the cluster expansion's): both must be members of
    /// one result set written by `gcnet onsager` (their records are checked against the
    /// files), and the tag must be a temperature in K.
    pub fn read(dir: &Path, prefix: &str, tag: &str, label: usize) -> Result<KinosonRun> {
        let terms_path = dir.join(format!("{prefix}_{label}_{tag}.npy"));
        let jumping_path = dir.join(format!("{prefix}_jumping_{tag}.npy"));
        let mut records = Vec::new();
        for p in [&terms_path, &jumping_path] {
            let Some((record, _)) = Record::of_file(p)? else {
                return Err(bad(p, "it has no gcnet record: only the kinosons that gcnet onsager writes are read"));
            };
            if record.producer != "gcnet onsager" {
                return Err(bad(p, format!("it was written by {}, not gcnet onsager", record.producer)));
            }
            records.push(record);
        }
        gcnet_files::check_same_set(&[(&terms_path, Some(&records[0])), (&jumping_path, Some(&records[1]))])?;
        let n_train = records[0]
            .settings
            .get("n_train")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| bad(&terms_path, "its record has no n_train (the training states of the network)"))?
            as usize;
        let temperature: f64 = tag
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite() && *t > 0.0)
            .ok_or_else(|| bad(&terms_path, format!("the tag {tag:?} is not a temperature in K")))?;
        let moves: ArrayD<f64> = gcnet_files::numpy::read(&terms_path, "")?;
        let jumping: ArrayD<i64> = gcnet_files::numpy::read(&jumping_path, "")?;
        let shape = |p: &PathBuf, a: &[usize]| {
            if a.len() == 2 { Ok(()) } else { Err(bad(p, format!("shape {a:?}, expected (states, moves)"))) }
        };
        shape(&terms_path, moves.shape())?;
        shape(&jumping_path, jumping.shape())?;
        if moves.shape() != jumping.shape() || n_train >= moves.shape()[0] {
            return Err(bad(
                &terms_path,
                "its shape does not fit the jumping labels or the training states of its record",
            ));
        }
        let moves = moves.into_dimensionality().expect("2-d");
        let jumping = jumping.into_dimensionality().expect("2-d").mapv(|j: i64| j.max(0) as usize);
        Ok(KinosonRun { tag: tag.to_string(), temperature, label, moves, jumping, n_train })
    }

    /// The validation states' move terms.
    pub fn validation(&self) -> ndarray::ArrayView2<'_, f64> {
        self.moves.slice(s![self.n_train.., ..])
    }

    /// The validation states' jumping labels.
    pub fn validation_jumping(&self) -> ndarray::ArrayView2<'_, usize> {
        self.jumping.slice(s![self.n_train.., ..])
    }

    /// The summary of the validation states' kinosons.
    pub fn summary(&self) -> super::KinosonSummary {
        super::summarize(self.label, self.validation(), self.validation_jumping())
    }

    /// L of the label and its standard error over the validation states.
    pub fn l(&self) -> (f64, f64) {
        mean_and_error(self.validation().sum_axis(Axis(1)).view())
    }
}

/// The runs of one label at several temperatures, read back, and their Arrhenius fit
/// (`gcnet kinosons`); `Display` prints each temperature's summary and the fit.
#[derive(Clone, Debug)]
pub struct TemperatureSeries {
    pub runs: Vec<KinosonRun>,
    pub fit: Arrhenius,
}

impl TemperatureSeries {
    /// [`KinosonRun::read`] for every tag, then L(T) over the validation states and
    /// [`arrhenius`].
    pub fn read(dir: &Path, prefix: &str, tags: &[String], label: usize) -> Result<TemperatureSeries> {
        let runs = tags.iter().map(|t| KinosonRun::read(dir, prefix, t, label)).collect::<Result<Vec<_>>>()?;
        let points: Vec<(f64, f64, f64)> = runs
            .iter()
            .map(|r| {
                let (l, e) = r.l();
                (r.temperature, l, e)
            })
            .collect();
        Ok(TemperatureSeries { fit: arrhenius(&points)?, runs })
    }

    /// The densities of every temperature on one plot, written atomically to `path`.
    pub fn save_plot(&self, path: &Path) -> Result<()> {
        temperature_chart(&self.runs, 30).save_png(path).map_err(|e| Error::File {
            path: path.to_path_buf(),
            action: "write the plot",
            reason: e.to_string(),
        })
    }
}

impl fmt::Display for TemperatureSeries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for run in &self.runs {
            write!(f, "T = {} K, validation states: {}", run.tag, run.summary())?;
        }
        write!(f, "{}", self.fit)
    }
}

/// `L = A exp(-E_a / k_B T)` fitted to L(T) with errors: weighted least squares of ln L
/// against 1 / (k_B T), weights (L / error)^2.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrhenius {
    /// `(T, L, error)` per temperature, ascending T.
    pub points: Vec<(f64, f64, f64)>,
    /// E_a in eV and its standard error.
    pub activation: f64,
    pub activation_error: f64,
    /// A (the unit of L) and its standard error.
    pub prefactor: f64,
    pub prefactor_error: f64,
    /// chi^2 per degree of freedom (NaN for two temperatures, which the line goes through).
    pub chi2_per_dof: f64,
}

/// The Arrhenius fit of `(T, L, error)` points (at least two temperatures, L > 0).
pub fn arrhenius(points: &[(f64, f64, f64)]) -> Result<Arrhenius> {
    let mut points = points.to_vec();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    if points.len() < 2 || points.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(Error::Config("an Arrhenius fit needs at least two different temperatures".into()));
    }
    if let Some(p) = points.iter().find(|p| !(p.1 > 0.0 && p.2 > 0.0 && p.1.is_finite() && p.2.is_finite())) {
        return Err(Error::Config(format!(
            "L = {} +- {} at T = {}: the fit needs L > 0 with an error > 0",
            p.1, p.2, p.0
        )));
    }
    let (mut s, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(t, l, e) in &points {
        let (x, y, w) = (1.0 / (BOLTZMANN_EV * t), l.ln(), (l / e).powi(2));
        s += w;
        sx += w * x;
        sy += w * y;
        sxx += w * x * x;
        sxy += w * x * y;
    }
    let delta = s * sxx - sx * sx;
    let slope = (s * sxy - sx * sy) / delta;
    let intercept = (sxx * sy - sx * sxy) / delta;
    let prefactor = intercept.exp();
    let chi2: f64 =
        points.iter().map(|&(t, l, e)| ((l.ln() - intercept - slope / (BOLTZMANN_EV * t)) * l / e).powi(2)).sum();
    let dof = points.len() as f64 - 2.0;
    Ok(Arrhenius {
        activation: -slope,
        activation_error: (s / delta).sqrt(),
        prefactor,
        prefactor_error: prefactor * (sxx / delta).sqrt(),
        chi2_per_dof: if dof > 0.0 { chi2 / dof } else { f64::NAN },
        points,
    })
}

impl fmt::Display for Arrhenius {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:>10} {:>14} {:>10}", "T (K)", "L", "error")?;
        for (t, l, e) in &self.points {
            writeln!(f, "{t:>10} {l:>14.6e} {e:>10.2e}")?;
        }
        writeln!(
            f,
            "Arrhenius fit L = A exp(-E_a / k_B T): E_a = {:.5} +- {:.5} eV, A = {:.5e} +- {:.2e}{}",
            self.activation,
            self.activation_error,
            self.prefactor,
            self.prefactor_error,
            if self.chi2_per_dof.is_nan() { String::new() } else { format!(", chi^2/dof = {:.2}", self.chi2_per_dof) }
        )
    }
}

/// The density of log10 of the states' kinosons (validation states) per temperature.
pub fn temperature_chart(runs: &[KinosonRun], bins: usize) -> Chart {
    let logs: Vec<Vec<f64>> = runs
        .iter()
        .map(|r| r.validation().sum_axis(Axis(1)).iter().filter(|k| **k > 0.0).map(|k| k.log10()).collect())
        .collect();
    let grid = LogBins::over(logs.iter().flatten().copied(), bins);
    let label = runs.first().map_or(0, |r| r.label);
    let mut chart =
        Chart::new(format!("kinosons of label {label} per temperature"), "log10 kinoson of a state", "density");
    for (run, logs) in runs.iter().zip(&logs) {
        let points = grid.density(logs.iter().copied(), run.validation().nrows());
        chart = chart.with(Series::line_points(format!("T = {} K", run.tag), points));
    }
    chart
}

#[cfg(test)]
mod tests {
    use super::{BOLTZMANN_EV, arrhenius};

    #[test]
    fn the_fit_recovers_an_exact_arrhenius_law() {
        let (ea, a) = (0.7, 3.0e4);
        let points: Vec<(f64, f64, f64)> = [900.0, 1000.0, 1100.0, 1250.0]
            .iter()
            .map(|&t| {
                let l = a * (-ea / (BOLTZMANN_EV * t)).exp();
                (t, l, 0.01 * l)
            })
            .collect();
        let fit = arrhenius(&points).unwrap();
        assert!((fit.activation - ea).abs() < 1e-10, "{fit:?}");
        assert!((fit.prefactor / a - 1.0).abs() < 1e-9);
        assert!(fit.chi2_per_dof < 1e-12);
        // 1% errors on ln L over this range of 1/kT: E_a known to a few meV.
        assert!(fit.activation_error > 1e-3 && fit.activation_error < 0.1);
        assert!(arrhenius(&points[..1]).is_err());
    }
}
