//! `gcnet kmc` (the multi-step KMC reference) and `gcnet bench-data`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::{Duration, KmcConfig, KmcResult, LatticeGas, LengthUnit};

use super::{GasArgs, progress_bar, read_crystal};

/// Multi-step KMC trajectories of the lattice gas: transport coefficients per vacancy
/// L_ab = <X_a . X_b> / (6t) for every pair of labels, tracer coefficients and the tracer
/// correlation factor, with standard errors from independent trajectories.
#[derive(Debug, Parser)]
#[command(name = "gcnet kmc", bin_name = "gcnet kmc")]
struct KmcArgs {
    /// Crystal data file.
    #[arg(long)]
    crystal: PathBuf,
    #[command(flatten)]
    gas: GasArgs,
    /// Independent trajectories (at least 2).
    #[arg(long, default_value_t = 64)]
    trajectories: usize,
    /// Duration of each trajectory (units of 1/rate).
    #[arg(long, conflicts_with = "steps", required_unless_present = "steps")]
    time: Option<f64>,
    /// Vacancy jumps per trajectory instead of --time.
    #[arg(long)]
    steps: Option<u64>,
    /// Seed (trajectory k uses a seed derived from this and k).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Also write the results as JSON.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    force: bool,
}

pub(super) fn kmc(args: &[OsString]) -> anyhow::Result<ExitCode> {
    let args = KmcArgs::parse_from(args);
    if let Some(out) = &args.output
        && out.exists()
        && !args.force
    {
        bail!("{} already exists (pass --force to overwrite)", out.display());
    }
    let crystal = read_crystal(&args.crystal)?;
    let duration = match (args.time, args.steps) {
        (Some(t), None) => Duration::Time(t),
        (None, Some(s)) => Duration::Steps(s),
        _ => bail!("give one of --time or --steps"),
    };
    let config = KmcConfig {
        gas: args.gas.to_gas()?,
        trajectories: args.trajectories,
        duration,
        seed: args.seed,
        threads: args.threads,
    };
    let bar = progress_bar(args.trajectories as u64, "trajectories");
    let result = gcnet_data::kmc::run(&crystal, &config, &|n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    print!("{}", format_result(&result, LengthUnit::of(config.gas.lattice_parameter)));
    if let Some(out) = &args.output {
        write_json(out, &result, args.force)
            .with_context(|| format!("writing the results given by --output {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The table; L in the unit of the displacements (a0 x the crystal's jump vectors).
fn format_result(r: &KmcResult, unit: LengthUnit) -> String {
    let nl = r.num_labels;
    let name = |l: usize| if l == r.vacancy_label { format!("{l} (vac)") } else { l.to_string() };
    let mut s = format!(
        "{} trajectories, {} jumps in all, mean time {:.6} per trajectory\n",
        r.trajectories, r.steps, r.mean_time
    );
    s += &format!("L_ab per vacancy ({}), mean +- standard error:\n", unit.transport());
    for a in 0..nl {
        for b in 0..nl {
            s += &format!(
                "  L[{}][{}] = {:.6e} +- {:.2e}\n",
                name(a),
                name(b),
                r.onsager[[a, b]],
                r.onsager_error[[a, b]]
            );
        }
    }
    s += "per label: tracer L*, uncorrelated L0, tracer correlation factor f = L*/L0\n";
    for a in 0..nl {
        s += &format!(
            "  {:>7}  L* = {:.6e} +- {:.2e}  L0 = {:.6e} +- {:.2e}  f = {:.5} +- {:.5}\n",
            name(a),
            r.tracer[a].value,
            r.tracer[a].error,
            r.uncorrelated[a].value,
            r.uncorrelated[a].error,
            r.correlation[a].value,
            r.correlation[a].error
        );
    }
    s
}

fn write_json(path: &PathBuf, r: &KmcResult, force: bool) -> anyhow::Result<()> {
    let est = |e: &gcnet_data::Estimate| serde_json::json!({"value": e.value, "error": e.error});
    let matrix = |m: &ndarray::Array2<f64>| m.outer_iter().map(|row| row.to_vec()).collect::<Vec<_>>();
    let json = serde_json::json!({
        "vacancy_label": r.vacancy_label,
        "trajectories": r.trajectories,
        "steps": r.steps,
        "mean_time": r.mean_time,
        "onsager": matrix(&r.onsager),
        "onsager_error": matrix(&r.onsager_error),
        "tracer": r.tracer.iter().map(est).collect::<Vec<_>>(),
        "uncorrelated": r.uncorrelated.iter().map(est).collect::<Vec<_>>(),
        "correlation": r.correlation.iter().map(est).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&json)?;
    gcnet_files::write_atomic(path, gcnet_files::Overwrite::force(force), |f| {
        std::io::Write::write_all(f, text.as_bytes())
    })?;
    Ok(())
}

/// Single-step generation throughput (in memory and with HDF5 writing) and KMC steps per
/// second, on one core.
#[derive(Debug, Parser)]
#[command(name = "gcnet bench-data", bin_name = "gcnet bench-data")]
struct BenchArgs {
    /// FCC primitive supercell size N (N x N x N sites).
    #[arg(long, default_value_t = 8)]
    size: usize,
    /// Samples to generate (SR-2, equal fractions).
    #[arg(long, default_value_t = 500_000)]
    samples: usize,
    /// KMC steps to time.
    #[arg(long, default_value_t = 20_000_000)]
    kmc_steps: u64,
    /// Directory for the scratch file.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
}

pub(super) fn bench(args: &[OsString]) -> anyhow::Result<ExitCode> {
    let args = BenchArgs::parse_from(args);
    let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, args.size)?);
    let gas = LatticeGas::sr2(0.5);
    let r = gcnet_data::bench::run(&crystal, &gas, args.samples, args.kmc_steps, &args.dir)?;
    println!(
        "FCC {0}x{0}x{0} primitive ({1} sites), SR-2 at fast fraction 0.5, one core:",
        args.size,
        crystal.num_sites()
    );
    println!(
        "  generation in memory:      {:.3e} samples/s ({} samples in {:.3} s)",
        r.generate_per_second(),
        r.samples,
        r.generate_seconds
    );
    println!(
        "  generation + HDF5 writing: {:.3e} samples/s ({:.3} s, {:.1} MB); writing is {:.0}% of the time",
        r.write_per_second(),
        r.write_seconds,
        r.file_bytes as f64 / 1e6,
        100.0 * r.write_fraction()
    );
    println!(
        "  KMC:                       {:.3e} steps/s ({} steps in {:.3} s)",
        r.kmc_steps_per_second(),
        r.kmc_steps,
        r.kmc_seconds
    );
    Ok(ExitCode::SUCCESS)
}
