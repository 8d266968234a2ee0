//! `gcnet kinosons`: `gcnet_srb::onsager::TemperatureSeries` (the kinosons of `gcnet
//! onsager` runs at several temperatures, L(T) and the Arrhenius fit) printed, its plot
//! written.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use gcnet_srb::onsager::TemperatureSeries;

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
    let prefix = if a.vce { "kinosons_vce" } else { "kinosons" };
    let series = TemperatureSeries::read(&a.dir, prefix, &a.td, a.label).context("reading the kinosons")?;
    print!("{series}");
    let plot = a.dir.join(format!("kinosons_{}_temperatures.png", a.label));
    series.save_plot(&plot)?;
    eprintln!("gcnet: wrote {}", plot.display());
    Ok(ExitCode::SUCCESS)
}
