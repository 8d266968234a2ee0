//! Validation of a single-step data set against its crystal (SPEC section 3): every sample
//! must be one KMC step of the crystal's jump network.

use std::fmt;
use std::path::Path;

use gcnet_crystal::{CrystalData, JumpNetwork};

use crate::dataset::{Dataset, label_range};
use crate::error::{Error, Result};
use crate::file::DataFile;
use crate::select::select_jump;

/// The largest jump rate the checks accept (rates are per unit time, attempt frequency 1).
/// The tools multiply two rates (1e300 at most) and sum W |dx|^2 over a data set: with
/// every rate at most 1e150, escape rates (z of them) at most 1e153, and displacements at
/// most [`MAX_DISPLACEMENT`] (|dx|^2 <= 1e100), a sum over 10^12 samples stays below
/// 1e266, far from the f64 limit 1.8e308. Physical rates (at most ~1e13 /s) are far below.
pub const MAX_RATE: f64 = 1e150;

/// The largest displacement component the checks accept (see [`MAX_RATE`]).
pub const MAX_DISPLACEMENT: f64 = 1e50;

/// The checks, in the order they are run on each sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckKind {
    /// Every label of s1 and s2 lies in `0..Nlabels` (Nlabels from `SpecDisps`).
    Labels,
    /// s1 and s2 hold the vacancy on site 0 and nowhere else.
    Vacancy,
    /// s1 and s2 hold the same number of each label.
    Species,
    /// `JumpSelects` is a jump and s2 = s1 permuted by `JumpSiteIndexPermutation[j]`.
    Permutation,
    /// The vacancy's `SpecDisps` is a*dx_j, the exchanged label's -a*dx_j, all others 0,
    /// every component at most [`MAX_DISPLACEMENT`].
    Displacements,
    /// `rates` is the row sum of `AllJumpRates_Init`, whose rates lie in [0, [`MAX_RATE`]].
    EscapeRate,
    /// `AllJumpRates_Fin` (the rates out of s2) lie in [0, [`MAX_RATE`]].
    FinalRates,
    /// `randNums`, when present, lies in [0,1) and selects `JumpSelects` from the
    /// cumulative `AllJumpRates_Init`.
    RandNums,
}

impl CheckKind {
    pub const ALL: [CheckKind; 8] = [
        CheckKind::Labels,
        CheckKind::Vacancy,
        CheckKind::Species,
        CheckKind::Permutation,
        CheckKind::Displacements,
        CheckKind::EscapeRate,
        CheckKind::FinalRates,
        CheckKind::RandNums,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CheckKind::Labels => "labels in range",
            CheckKind::Vacancy => "vacancy on site 0",
            CheckKind::Species => "species conserved",
            CheckKind::Permutation => "s2 = s1 after the jump",
            CheckKind::Displacements => "displacements",
            CheckKind::EscapeRate => "escape rate = sum of jump rates",
            CheckKind::FinalRates => "rates out of s2 in range",
            CheckKind::RandNums => "randNums selects the jump",
        }
    }
}

/// What to assume; `None` infers it from the data.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// The vacancy's label; inferred as the label most often on site 0.
    pub vacancy_label: Option<usize>,
    /// a in `SpecDisps` = a * dx; inferred as the median of |SpecDisps[n, v]| / |dx_j|.
    pub lattice_parameter: Option<f64>,
    /// How many failing samples to list.
    pub max_listed: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { vacancy_label: None, lattice_parameter: None, max_listed: 20 }
    }
}

/// One failing sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub sample: usize,
    pub check: CheckKind,
    pub reason: String,
}

/// The outcome of [`check`]: failures counted per check and the first ones listed.
#[derive(Clone, Debug)]
pub struct CheckReport {
    pub samples: usize,
    pub vacancy_label: usize,
    pub lattice_parameter: f64,
    /// Whether `randNums` was present (and so checked).
    pub rand_nums: bool,
    /// Failing samples per check, in [`CheckKind::ALL`] order.
    pub counts: Vec<(CheckKind, usize)>,
    /// The first failures, in sample order.
    pub listed: Vec<Failure>,
    max_listed: usize,
}

impl CheckReport {
    /// True when no sample fails any check.
    pub fn is_ok(&self) -> bool {
        self.counts.iter().all(|(_, c)| *c == 0)
    }

    /// Failing samples for one check.
    pub fn count(&self, kind: CheckKind) -> usize {
        self.counts.iter().find(|(k, _)| *k == kind).map_or(0, |(_, c)| *c)
    }

    fn fail(&mut self, sample: usize, check: CheckKind, reason: String) {
        if let Some(c) = self.counts.iter_mut().find(|(k, _)| *k == check) {
            c.1 += 1;
        }
        if self.listed.len() < self.max_listed {
            self.listed.push(Failure { sample, check, reason });
        }
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "checked {} samples (vacancy label {}, lattice parameter {})",
            self.samples, self.vacancy_label, self.lattice_parameter
        )?;
        for (kind, count) in &self.counts {
            let note = if *kind == CheckKind::RandNums && !self.rand_nums { "  (no randNums)" } else { "" };
            writeln!(f, "  {:<34} {count:>9} failing{note}", kind.name())?;
        }
        if !self.listed.is_empty() {
            writeln!(f, "first failures:")?;
            for x in &self.listed {
                writeln!(f, "  sample {}: {}: {}", x.sample, x.check.name(), x.reason)?;
            }
        }
        write!(f, "{}", if self.is_ok() { "all checks passed" } else { "FAILED" })
    }
}

/// [`check`] for a tool about to use the data set read from `data_path`: any failure is
/// an error carrying the report (`--no-check` is the tools' way to skip this).
pub fn require_valid(
    data: &Dataset,
    crystal: &CrystalData,
    options: &CheckOptions,
    data_path: &Path,
    crystal_path: &Path,
) -> Result<()> {
    let report = check(data, crystal, options)?;
    if report.is_ok() {
        return Ok(());
    }
    Err(Error::CrystalMismatch {
        data: data_path.to_path_buf(),
        crystal: crystal_path.to_path_buf(),
        reason: format!("the checks of `gcnet check` failed (--no-check skips them):\n{report}"),
    })
}

/// Checks an in-memory data set against a crystal.
pub fn check(data: &Dataset, crystal: &CrystalData, options: &CheckOptions) -> Result<CheckReport> {
    if data.num_sites() != crystal.num_sites() || data.z() != crystal.z() {
        return Err(Error::CrystalMismatch {
            data: "in-memory data set".into(),
            crystal: crystal.source_name().into(),
            reason: format!(
                "the data set has {} sites and {} jump rates per state, the crystal {} sites and z = {}",
                data.num_sites(),
                data.z(),
                crystal.num_sites(),
                crystal.z()
            ),
        });
    }
    let network = JumpNetwork::new(crystal);
    let mut report = new_report(data, &network, options);
    check_parallel(data, 0, &network, &mut report);
    report.samples = data.len();
    Ok(report)
}

/// Checks the samples of `data` in blocks spread over the cores, each block into a report
/// of its own, merged in sample order (the first failures listed are the same as one pass
/// in order would list).
fn check_parallel(data: &Dataset, offset: usize, network: &JumpNetwork, report: &mut CheckReport) {
    const BLOCK: usize = 2048;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(data.len().div_ceil(BLOCK)).max(1);
    if threads == 1 {
        return check_rows(data, 0..data.len(), offset, network, report);
    }
    let per = data.len().div_ceil(threads);
    let parts: Vec<CheckReport> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let range = (t * per).min(data.len())..((t + 1) * per).min(data.len());
                let mut part = CheckReport { listed: Vec::new(), counts: report.counts.clone(), ..report.clone() };
                part.counts.iter_mut().for_each(|c| c.1 = 0);
                scope.spawn(move || {
                    check_rows(data, range, offset, network, &mut part);
                    part
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a check thread panicked")).collect()
    });
    for part in parts {
        for (c, p) in report.counts.iter_mut().zip(&part.counts) {
            c.1 += p.1;
        }
        let room = report.max_listed.saturating_sub(report.listed.len());
        report.listed.extend(part.listed.into_iter().take(room));
    }
}

/// Opens the data-set file at `path` and checks it against `crystal` ([`check_file`]):
/// what `gcnet check` does.
pub fn check_path(path: impl AsRef<Path>, crystal: &CrystalData, options: &CheckOptions) -> Result<CheckReport> {
    check_file(&DataFile::open(path)?, crystal, options)
}

/// Checks a data-set file block by block (memory stays bounded for any file size).
pub fn check_file(file: &DataFile, crystal: &CrystalData, options: &CheckOptions) -> Result<CheckReport> {
    file.check_crystal(crystal)?;
    let network = JumpNetwork::new(crystal);
    const BLOCK: usize = 16_384;
    let mut report = None;
    for start in (0..file.len().max(1)).step_by(BLOCK) {
        let block = file.read_range(start, start + BLOCK)?;
        let r = report.get_or_insert_with(|| new_report(&block, &network, options));
        check_parallel(&block, start, &network, r);
    }
    let mut report = report.expect("at least one block is read");
    report.samples = file.len();
    Ok(report)
}

fn new_report(first: &Dataset, network: &JumpNetwork, options: &CheckOptions) -> CheckReport {
    let vacancy_label = options.vacancy_label.unwrap_or_else(|| infer_vacancy(first));
    let lattice_parameter =
        options.lattice_parameter.unwrap_or_else(|| infer_lattice_parameter(first, network, vacancy_label));
    CheckReport {
        samples: 0,
        vacancy_label,
        lattice_parameter,
        rand_nums: first.rand_nums.is_some(),
        counts: CheckKind::ALL.iter().map(|&k| (k, 0)).collect(),
        listed: Vec::new(),
        max_listed: options.max_listed,
    }
}

/// The label most often found on site 0 of s1.
fn infer_vacancy(data: &Dataset) -> usize {
    let mut hits = [0usize; 256];
    for &l in data.init_states.column(0) {
        hits[l as u8 as usize] += 1;
    }
    (0..256).max_by_key(|&l| (hits[l], std::cmp::Reverse(l))).map_or(0, |l| l as i8 as usize)
}

fn infer_lattice_parameter(data: &Dataset, network: &JumpNetwork, vacancy: usize) -> f64 {
    if vacancy >= data.num_labels() {
        return 1.0;
    }
    let mut ratios: Vec<f64> = (0..data.len())
        .filter_map(|n| {
            let j = usize::try_from(data.jump_selects[n]).ok().filter(|&j| j < network.z())?;
            let d = norm([0, 1, 2].map(|i| data.spec_disps[[n, vacancy, i]]));
            Some(d / norm(network.jump_vector(j))).filter(|r| r.is_finite() && *r > 0.0)
        })
        .collect();
    if ratios.is_empty() {
        return 1.0;
    }
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

/// What [`rate_in_range`] requires, for the failure messages.
const RATE_RANGE: &str = "a negative or non-finite rate, or one above MAX_RATE = 1e150";

/// A rate the tools can compute with: finite, >= 0 and at most [`MAX_RATE`].
fn rate_in_range(r: f64) -> bool {
    (0.0..=MAX_RATE).contains(&r)
}

fn norm(x: [f64; 3]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// Checks the samples `rows` of `data`, sample numbers counted from `offset`.
fn check_rows(
    data: &Dataset,
    rows: std::ops::Range<usize>,
    offset: usize,
    network: &JumpNetwork,
    report: &mut CheckReport,
) {
    let nl = data.num_labels();
    let v = report.vacancy_label;
    let a = report.lattice_parameter;
    let tol = 1e-8 * a.max(1.0);
    let mut after = vec![0i8; network.num_sites()];
    let (mut c1, mut c2) = (vec![0usize; nl], vec![0usize; nl]);
    for n in rows {
        let sample = offset + n;
        let s1 = data.init_states.row(n);
        let s2 = data.fin_states.row(n);
        let s1 = s1.as_slice().expect("standard layout");
        let s2 = s2.as_slice().expect("standard layout");
        if let Some((which, site, l)) = [("s1", s1), ("s2", s2)]
            .iter()
            .find_map(|(w, s)| s.iter().position(|&l| l < 0 || l as usize >= nl).map(|site| (*w, site, s[site])))
        {
            report.fail(
                sample,
                CheckKind::Labels,
                format!("{which} site {site} holds label {l}, not one of the labels {}", label_range(nl)),
            );
            continue;
        }
        for (which, s) in [("s1", s1), ("s2", s2)] {
            if s[0] as usize != v {
                report.fail(
                    sample,
                    CheckKind::Vacancy,
                    format!("{which} site 0 holds label {}, not the vacancy ({v})", s[0]),
                );
                break;
            }
            if let Some(site) = s[1..].iter().position(|&l| l as usize == v) {
                report.fail(
                    sample,
                    CheckKind::Vacancy,
                    format!("{which} holds the vacancy label also on site {}", site + 1),
                );
                break;
            }
        }
        c1.fill(0);
        c2.fill(0);
        s1.iter().for_each(|&l| c1[l as usize] += 1);
        s2.iter().for_each(|&l| c2[l as usize] += 1);
        if let Some(l) = (0..nl).find(|&l| c1[l] != c2[l]) {
            report.fail(sample, CheckKind::Species, format!("label {l}: {} sites in s1, {} in s2", c1[l], c2[l]));
        }
        let ri = data.jump_rates_init.row(n);
        let w: f64 = ri.iter().sum();
        if let Some(j) = ri.iter().position(|r| !rate_in_range(*r)) {
            report.fail(sample, CheckKind::EscapeRate, format!("AllJumpRates_Init[{j}] = {} is {RATE_RANGE}", ri[j]));
        } else if !(data.rates[n].is_finite() && (data.rates[n] - w).abs() <= 1e-9 * w.abs().max(f64::MIN_POSITIVE)) {
            report.fail(
                sample,
                CheckKind::EscapeRate,
                format!("rates = {} but AllJumpRates_Init sums to {w}", data.rates[n]),
            );
        }
        let rf = data.jump_rates_fin.row(n);
        if let Some(j) = rf.iter().position(|r| !rate_in_range(*r)) {
            report.fail(sample, CheckKind::FinalRates, format!("AllJumpRates_Fin[{j}] = {} is {RATE_RANGE}", rf[j]));
        }
        let Some(j) = usize::try_from(data.jump_selects[n]).ok().filter(|&j| j < network.z()) else {
            report.fail(
                sample,
                CheckKind::Permutation,
                format!("JumpSelects = {} is not a jump (z = {})", data.jump_selects[n], network.z()),
            );
            continue;
        };
        network.apply_jump(j, s1, &mut after);
        if let Some(site) = (0..after.len()).find(|&s| after[s] != s2[s]) {
            report.fail(
                sample,
                CheckKind::Permutation,
                format!(
                    "s2 differs from s1 after jump {j} at site {site}: label {}, expected {}",
                    s2[site], after[site]
                ),
            );
        }
        let exchanged = s1[network.neighbour(0, j)] as usize;
        for l in 0..nl {
            let sign = if l == v {
                1.0
            } else if l == exchanged {
                -1.0
            } else {
                0.0
            };
            let want = network.jump_vector(j).map(|x| sign * a * x);
            let got = [0, 1, 2].map(|i| data.spec_disps[[n, l, i]]);
            let close = |g: f64, w: f64| (g - w).abs() <= tol;
            if got.iter().any(|g| g.abs() > MAX_DISPLACEMENT) {
                report.fail(
                    sample,
                    CheckKind::Displacements,
                    format!(
                        "label {l} moved {got:?}: a displacement component must be at most 1e50 (MAX_DISPLACEMENT)"
                    ),
                );
                break;
            }
            if (0..3).any(|i| !close(got[i], want[i])) {
                let role = match sign {
                    1.0 => "the vacancy".to_string(),
                    -1.0 => "exchanged with the vacancy".to_string(),
                    _ => "a spectator".to_string(),
                };
                report.fail(
                    sample,
                    CheckKind::Displacements,
                    format!("label {l} ({role}) moved {got:?}, expected {want:?} (jump {j}, a = {a})"),
                );
                break;
            }
        }
        if let Some(r) = &data.rand_nums {
            let u = r[n];
            let target = u * w;
            let picked = select_jump(ri.as_slice().expect("standard layout"), target);
            let before: f64 = ri.iter().take(j).sum();
            let on_edge = (target - before).abs() <= 1e-12 * w || (target - before - ri[j]).abs() <= 1e-12 * w;
            if !(0.0..1.0).contains(&u) {
                report.fail(sample, CheckKind::RandNums, format!("randNums = {u} lies outside [0, 1)"));
            } else if picked != j && !on_edge {
                report.fail(
                    sample,
                    CheckKind::RandNums,
                    format!("randNums = {u} selects jump {picked} from the cumulative rates, JumpSelects = {j}"),
                );
            }
        }
    }
}
