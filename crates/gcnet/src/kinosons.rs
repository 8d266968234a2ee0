//! `gcnet kinosons`: the kinosons of `gcnet onsager` runs at several temperatures read back
//! (`gcnet_srb::onsager::temperatures`); the summaries, L(T), the Arrhenius fit and the
//! plot are printed and written.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use gcnet_srb::onsager::{KinosonRun, arrhenius, temperature_chart};

/// Kinosons at several temperatures: for one label, the kinosons that `gcnet onsager`
/// wrote in --dir for each -td tag (a temperature in K), their summary per temperature,
/// L(T) with its standard error over the validation states, the Arrhenius fit (activation
/// energy and prefactor with errors) and the densities of all temperatures on one plot
/// (kinosons_{label}_temperatures.png in --dir).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory of the gcnet onsager runs (their kinosons_{label}_{T}.npy files).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// The -td tags of the runs, temperatures in K, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    td: Vec<String>,
    /// The label whose kinosons are read (the vacancy's or an element's).
    #[arg(long)]
    label: usize,
    /// The runs of `gcnet onsager --vce` (kinosons_vce_*).
    #[arg(long)]
    vce: bool,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let runs =
        a.td.iter()
            .map(|t| KinosonRun::read(&a.dir, if a.vce { "kinosons_vce" } else { "kinosons" }, t, a.label))
            .collect::<Result<Vec<_>, _>>()
            .context("reading the kinosons")?;
    let mut points = Vec::new();
    for run in &runs {
        print!("T = {} K, validation states: {}", run.tag, run.summary());
        let (l, e) = run.l();
        points.push((run.temperature, l, e));
    }
    let fit = arrhenius(&points)?;
    print!("{fit}");
    let plot = a.dir.join(format!("kinosons_{}_temperatures.png", a.label));
    temperature_chart(&runs, 30).save_png(&plot).with_context(|| format!("writing {}", plot.display()))?;
    eprintln!("gcnet: wrote {}", plot.display());
    Ok(ExitCode::SUCCESS)
}
