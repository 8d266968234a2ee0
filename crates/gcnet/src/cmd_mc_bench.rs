//! `gcnet mc-bench`: Metropolis trials per second of one chain with its persistent LAMMPS
//! session against a bare `lmp` process per trial (a data file and an input written, LAMMPS
//! started, the potential read, the relaxation, the energy read back: what the published
//! script pays; then again with the session's neighbour skin), on the same cell and the
//! same trials in one run; then --chains chains side by side and the CPU time their
//! LAMMPS processes used.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use gcnet_alloy::{
    Chain, EnergyModel, Lammps, MC_NEIGHBOR_SKIN, Potential, ProcessEnergy, SessionEnergy, StateEnergy,
    available_cores, fcc_geometry, random_start,
};

/// Benchmark Monte Carlo trials: one chain with a persistent LAMMPS session against a
/// fresh `lmp` process per trial (the same trials), then --chains chains side by side.
#[derive(Debug, Parser)]
#[command(name = "gcnet mc-bench", bin_name = "gcnet mc-bench")]
struct BenchArgs {
    /// [-pp] Potential directory (library.meam, params.meam).
    #[arg(long = "potPath", value_name = "DIR")]
    pot_path: PathBuf,
    /// [-u] Unit cells per side of the cubic FCC cell (one vacancy; equiatomic Co Ni Cr
    /// Fe Mn, the remainder to the first elements).
    #[arg(long = "Nunits", default_value_t = 3)]
    n_units: usize,
    /// [-T] Temperature (K).
    #[arg(long = "Temp", default_value_t = 1173.0)]
    temp: f64,
    /// [-ftol] Force tolerance of the relaxations.
    #[arg(long = "ForceTol", default_value_t = 1e-3)]
    force_tol: f64,
    /// Trials of each measurement.
    #[arg(long, default_value_t = 40)]
    trials: usize,
    /// Chains of the side-by-side run (default: one per core).
    #[arg(long)]
    chains: Option<usize>,
    /// On-lattice energies instead of relaxations.
    #[arg(long = "no-relax")]
    no_relax: bool,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The lmp executable (default: GCNET_LMP, the project's .venv, PATH).
    #[arg(long)]
    lmp: Option<PathBuf>,
}

pub fn run(args: &[OsString]) -> anyhow::Result<ExitCode> {
    let a = BenchArgs::parse_from(crate::spellings::long_spellings(
        args,
        &[("-pp", "--potPath"), ("-u", "--Nunits"), ("-T", "--Temp"), ("-ftol", "--ForceTol")],
    ));
    if a.trials == 0 {
        bail!("--trials must be at least 1");
    }
    let elements: Vec<String> = gcnet_alloy::CANTOR_ELEMENTS.iter().map(|e| e.to_string()).collect();
    let potential = Potential::new(&a.pot_path).with_context(|| format!("-pp {}", a.pot_path.display()))?;
    potential.check_elements(&elements)?;
    let (_, geometry) = fcc_geometry(a.n_units, false, 3.595)?;
    let lammps = Lammps::locate(a.lmp.as_deref()).context("finding LAMMPS (--lmp)")?;
    let model = if a.no_relax {
        EnergyModel::OnLattice
    } else {
        EnergyModel::Relaxed { force_tol: a.force_tol, energy_tol: 0.0 }
    };
    let n = geometry.num_sites();
    let counts: Vec<usize> = (0..5).map(|k| (n - 1) / 5 + usize::from(k < (n - 1) % 5)).collect();
    let cores = available_cores();
    let chains = a.chains.unwrap_or(cores);
    let scratch = tempfile::tempdir().context("creating a scratch directory")?;
    let load = || std::fs::read_to_string("/proc/loadavg").map(|s| s.trim().to_string()).unwrap_or_default();
    println!(
        "gcnet mc-bench: {n} sites (-u {} cubic, one vacancy), {}, T = {} K, {} trials per measurement, {cores} cores; load average before: {}",
        a.n_units,
        if a.no_relax { "on-lattice energies".to_string() } else { format!("CG to -ftol {}", a.force_tol) },
        a.temp,
        a.trials,
        load()
    );

    // One chain, persistent session.
    let start = random_start(&counts, n, true, a.seed, 0)?;
    let dir = scratch.path().join("session");
    std::fs::create_dir_all(&dir)?;
    let mut session = SessionEnergy::start(&lammps, &dir, &geometry, &potential, &elements, &start, model)?;
    let t0 = Instant::now();
    let e0 = session.energy(&start)?;
    let mut chain = Chain::new(start.clone(), e0, a.seed, 0)?;
    for _ in 0..a.trials {
        chain.step(&mut session, a.temp)?;
    }
    let session_rate = (a.trials + 1) as f64 / t0.elapsed().as_secs_f64();
    drop(session);

    // The same trials, one lmp process each: with the published input's neighbour skin
    // (the LAMMPS default), then with the session's, to tell the two gains apart.
    let bare_run = |name: &str, neighbor_skin: Option<f64>| -> anyhow::Result<(f64, Chain)> {
        let dir = scratch.path().join(name);
        std::fs::create_dir_all(&dir)?;
        let mut process = ProcessEnergy {
            lammps: &lammps,
            dir,
            geometry: &geometry,
            potential: &potential,
            elements: &elements,
            model,
            neighbor_skin,
        };
        let t0 = Instant::now();
        let e0 = process.energy(&start)?;
        let mut bare = Chain::new(start.clone(), e0, a.seed, 0)?;
        for _ in 0..a.trials {
            bare.step(&mut process, a.temp)?;
        }
        Ok(((a.trials + 1) as f64 / t0.elapsed().as_secs_f64(), bare))
    };
    let (process_rate, bare) = bare_run("process", None)?;
    let (skin_rate, bare_skin) = bare_run("process_skin", Some(MC_NEIGHBOR_SKIN))?;
    let max_diff = [&bare, &bare_skin]
        .iter()
        .flat_map(|b| chain.history().energies.iter().zip(&b.history().energies))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    let same_path =
        chain.history().accepts == bare.history().accepts && chain.history().accepts == bare_skin.history().accepts;
    println!("one chain, persistent LAMMPS session (skin {MC_NEIGHBOR_SKIN} A): {session_rate:.2} trials/s");
    println!(
        "one chain, bare lmp process per trial (the published input, default skin 2 A): {process_rate:.2} trials/s"
    );
    println!("one chain, bare lmp process per trial with the session's skin: {skin_rate:.2} trials/s");
    println!(
        "ratio: {:.2}x against the published input, {:.2}x against the bare process with the same skin (the same {} trials: largest energy difference {max_diff:.2e} eV, {} acceptances)",
        session_rate / process_rate,
        session_rate / skin_rate,
        a.trials,
        if same_path { "the same" } else { "different" }
    );

    // Chains side by side.
    let wall = Instant::now();
    let results: Vec<anyhow::Result<(f64, f64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..chains)
            .map(|c| {
                let (lammps, geometry, potential, elements, counts) =
                    (&lammps, &geometry, &potential, &elements, &counts);
                let dir = scratch.path().join(format!("chain_{c}"));
                scope.spawn(move || -> anyhow::Result<(f64, f64)> {
                    std::fs::create_dir_all(&dir)?;
                    let start = random_start(counts, n, true, a.seed, c)?;
                    let mut s = SessionEnergy::start(lammps, &dir, geometry, potential, elements, &start, model)?;
                    let t0 = Instant::now();
                    let e0 = s.energy(&start)?;
                    let mut chain = Chain::new(start, e0, a.seed, c)?;
                    for _ in 0..a.trials {
                        chain.step(&mut s, a.temp)?;
                    }
                    let rate = (a.trials + 1) as f64 / t0.elapsed().as_secs_f64();
                    Ok((rate, cpu_seconds(s.pid()).unwrap_or(f64::NAN)))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a bench thread panicked")).collect()
    });
    let wall = wall.elapsed().as_secs_f64();
    let mut rates = Vec::new();
    let mut cpu = 0.0;
    for r in results {
        let (rate, c) = r?;
        rates.push(rate);
        cpu += c;
    }
    let total = (chains * (a.trials + 1)) as f64 / wall;
    println!(
        "{chains} chains side by side: {} trials/s per chain, {total:.2} trials/s in all; their LAMMPS processes used {cpu:.1} CPU s in {wall:.1} s on {cores} cores ({:.0}% of {} cores busy)",
        rates.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(", "),
        100.0 * cpu / (wall * chains.min(cores) as f64),
        chains.min(cores)
    );
    println!("load average after: {}", load());
    Ok(ExitCode::SUCCESS)
}

/// User + system CPU seconds of a running process (Linux /proc; clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state is field 3, utime 14 and stime 15 (1-based, man proc).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
