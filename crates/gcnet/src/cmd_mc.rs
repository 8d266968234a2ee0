//! `gcnet mc`: Metropolis swap Monte Carlo on LAMMPS with the published Init_state_MC.py
//! command line (SPEC section 9); `gcnet mc-extract`: the states after thermalisation for
//! `gcnet neb -if`; `gcnet mc-bench` (in cmd_mc_bench.rs).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use gcnet_alloy::{
    EnergyModel, Lammps, McEvent, McPhysics, McRun, Potential, available_cores, chain_dirs, extract, fcc_geometry,
    provenance, warren_cowley,
};
use gcnet_files::Overwrite;
use gcnet_files::numpy::{NpArray, write_npy};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use ndarray::Array1;

use crate::spellings::{long_spellings, py_float, whole};

#[path = "cmd_mc_bench.rs"]
mod bench;

pub fn run(sub: &str, args: &[OsString]) -> anyhow::Result<ExitCode> {
    match sub {
        "mc" => mc(McArgs::parse_from(long_spellings(args, SPELLINGS))),
        "mc-extract" => extract_states(ExtractArgs::parse_from(args)),
        "mc-bench" => bench::run(args),
        _ => bail!("unknown Monte Carlo subcommand `{sub}`"),
    }
}

/// The published single-dash spellings of Init_state_MC.py and their long names.
pub const SPELLINGS: &[(&str, &str)] = &[
    ("-pp", "--potPath"),
    ("-na", "--Natoms"),
    ("-ckp", "--UseLastChkPt"),
    ("-u", "--Nunits"),
    ("-pr", "--Prim"),
    ("-nosr", "--NoSrun"),
    ("-a0", "--LatPar"),
    ("-nv", "--NoVac"),
    ("-T", "--Temp"),
    ("-nt", "--Nsteps"),
    ("-ne", "--NEqb"),
    ("-ns", "--Nsave"),
    ("-ftol", "--ForceTol"),
    ("-etol", "--EnTol"),
    ("-dmp", "--DumpArguments"),
    ("-dpf", "--DumpFile"),
];

/// Metropolis swap Monte Carlo with LAMMPS (the published Init_state_MC.py interface;
/// single-dash spellings in brackets). Each trial swaps the elements of two occupied sites
/// holding different elements, relaxes (conjugate gradients from the ideal FCC positions
/// to -ftol/-etol) and accepts with probability min(1, exp(-dE / kB T)). The cell is
/// -u FCC unit cells per side (cubic, or primitive with -pr), in the site order of
/// `gcnet crystal --lattice fcc --cell cubic --size U`, the vacancy on site 0. Each chain
/// writes chain_{c}/ in the working directory: Eng_all_steps.npy, accepts_all_steps.npy,
/// rands_all_steps.npy, swap_atoms_all_steps.npy, timing.txt and chkpt/state_{N}.npy
/// every -ns trials.
#[derive(Debug, Parser)]
#[command(name = "gcnet mc", bin_name = "gcnet mc", args_override_self = true, allow_negative_numbers = true)]
struct McArgs {
    /// [-pp] Directory holding the MEAM potential's library.meam and params.meam.
    #[arg(long = "potPath", value_name = "DIR")]
    pot_path: PathBuf,
    /// [-na] Number of atoms of each element (Co Ni Cr Fe Mn, in that order); they must
    /// add up to the occupied sites.
    #[arg(long = "Natoms", num_args = 1.., required = true, value_name = "N", value_parser = whole::<usize>)]
    natoms: Vec<usize>,
    /// [-ckp] Continue every chain from its last complete checkpoint.
    #[arg(long = "UseLastChkPt")]
    use_last_chk_pt: bool,
    /// [-u] Unit cells per side (three equal numbers: the cell is a cube).
    #[arg(long = "Nunits", num_args = 3, default_values_t = [5, 5, 5], value_name = "N", value_parser = whole::<usize>)]
    nunits: Vec<usize>,
    /// [-pr] Primitive FCC cells instead of conventional cubic ones.
    #[arg(long = "Prim")]
    prim: bool,
    /// [-nosr] Accepted for the published job scripts: LAMMPS always runs locally here,
    /// one serial process per chain.
    #[arg(long = "NoSrun")]
    no_srun: bool,
    /// [-a0] Lattice parameter (A).
    #[arg(long = "LatPar", default_value_t = 3.595, value_name = "A0")]
    lat_par: f64,
    /// [-nv] No vacancy (every site occupied).
    #[arg(long = "NoVac")]
    no_vac: bool,
    /// [-T] Temperature (K).
    #[arg(long = "Temp", value_name = "K")]
    temp: f64,
    /// [-nt] Total trials per chain.
    #[arg(long = "Nsteps", default_value_t = 60_000, value_name = "N", value_parser = whole::<usize>)]
    nsteps: usize,
    /// [-ne] Thermalisation trials (recorded; gcnet mc-extract starts after them).
    #[arg(long = "NEqb", default_value_t = 2000, value_name = "N", value_parser = whole::<usize>)]
    neqb: usize,
    /// [-ns] Trials between checkpoints (the states gcnet mc-extract can pick).
    #[arg(long = "Nsave", default_value_t = 200, value_name = "N", value_parser = whole::<usize>)]
    nsave: usize,
    /// [-ftol] Force tolerance (eV/A, max-norm) of each trial's relaxation.
    #[arg(long = "ForceTol", default_value_t = 1e-3, value_name = "F")]
    force_tol: f64,
    /// [-etol] Relative energy tolerance of each trial's relaxation.
    #[arg(long = "EnTol", default_value_t = 0.0, value_name = "E")]
    en_tol: f64,
    /// [-dmp] Write every argument to the -dpf file.
    #[arg(long = "DumpArguments")]
    dump_arguments: bool,
    /// [-dpf] File for -dmp.
    #[arg(long = "DumpFile", default_value = "ArgFiles", value_name = "PATH")]
    dump_file: PathBuf,
    /// gcnet extension: seed of the start states and trials (chain c, trial t draw from a
    /// generator of (seed, c, t) only).
    #[arg(long, default_value_t = 0, value_parser = whole::<u64>)]
    seed: u64,
    /// gcnet extension: independent chains run side by side, one LAMMPS each (default:
    /// one per core).
    #[arg(long, value_name = "N", value_parser = whole::<usize>)]
    chains: Option<usize>,
    /// gcnet extension: on-lattice energies (no relaxation): an approximation that
    /// ignores the relaxation energy of each arrangement.
    #[arg(long = "no-relax")]
    no_relax: bool,
    /// gcnet extension: replace the outputs of an earlier run in this directory.
    #[arg(long)]
    force: bool,
    /// gcnet extension: the element of label 1, 2, ...
    #[arg(long, value_delimiter = ',', default_value = "Co,Ni,Cr,Fe,Mn")]
    elements: Vec<String>,
    /// gcnet extension: the lmp executable (default: GCNET_LMP, the project's .venv, PATH).
    #[arg(long, value_name = "PATH")]
    lmp: Option<PathBuf>,
}

impl McArgs {
    fn energy_model(&self) -> EnergyModel {
        if self.no_relax {
            EnergyModel::OnLattice
        } else {
            EnergyModel::Relaxed { force_tol: self.force_tol, energy_tol: self.en_tol }
        }
    }

    /// The published -dmp format: `name:\tvalue` per argument, as Python prints them.
    fn dump(&self) -> String {
        let list = |v: &[usize]| format!("[{}]", v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", "));
        let b = |x: bool| if x { "True" } else { "False" }.to_string();
        let rows: Vec<(&str, String)> = vec![
            ("potPath", self.pot_path.display().to_string()),
            ("Natoms", list(&self.natoms)),
            ("UseLastChkPt", b(self.use_last_chk_pt)),
            ("Nunits", list(&self.nunits)),
            ("Prim", b(self.prim)),
            ("NoSrun", b(self.no_srun)),
            ("LatPar", py_float(self.lat_par)),
            ("NoVac", b(self.no_vac)),
            ("Temp", py_float(self.temp)),
            ("Nsteps", self.nsteps.to_string()),
            ("NEqb", self.neqb.to_string()),
            ("Nsave", self.nsave.to_string()),
            ("ForceTol", py_float(self.force_tol)),
            ("EnTol", py_float(self.en_tol)),
            ("DumpArguments", b(self.dump_arguments)),
            ("DumpFile", self.dump_file.display().to_string()),
            ("seed", self.seed.to_string()),
            ("chains", self.chains.map_or("None".into(), |n| n.to_string())),
            ("no_relax", b(self.no_relax)),
            ("elements", self.elements.join(",")),
        ];
        rows.into_iter().map(|(k, v)| format!("{k}:\t{v}\n")).collect()
    }
}

fn mc(a: McArgs) -> anyhow::Result<ExitCode> {
    gcnet_alloy::kmc::check_temperature(a.temp).with_context(|| format!("-T {}", a.temp))?;
    if a.nsteps == 0 || a.nsave == 0 {
        bail!("-nt and -ns must be at least 1");
    }
    let [u, v, w] = a.nunits[..] else { bail!("-u takes three numbers") };
    if u != v || v != w || u == 0 {
        bail!("-u {u} {v} {w}: gcnet mc builds cubes of unit cells only (three equal positive numbers)");
    }
    a.energy_model().validate().context("-ftol and -etol")?;
    let potential = Potential::new(&a.pot_path).with_context(|| format!("-pp {}", a.pot_path.display()))?;
    potential.check_elements(&a.elements).context("--elements")?;
    if a.natoms.len() != a.elements.len() {
        bail!(
            "-na gives {} counts; one per element is needed ({}, in that order)",
            a.natoms.len(),
            a.elements.join(" ")
        );
    }
    let (crystal, geometry) =
        fcc_geometry(u, a.prim, a.lat_par).with_context(|| format!("building the FCC cell of -u {u} {u} {u}"))?;
    let occupied = geometry.num_sites() - usize::from(!a.no_vac);
    let total: usize = a.natoms.iter().sum();
    if total != occupied {
        bail!(
            "-na {}: the counts add up to {total}, but the {u}x{u}x{u} {} cell has {occupied} occupied sites ({} sites{})",
            a.natoms.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(" "),
            if a.prim { "primitive" } else { "cubic" },
            geometry.num_sites(),
            if a.no_vac { ", -nv" } else { ", one vacancy" }
        );
    }
    let lammps = Lammps::locate(a.lmp.as_deref()).context("finding LAMMPS (--lmp)")?;
    let chains = a.chains.unwrap_or_else(available_cores);
    if chains == 0 {
        bail!("--chains must be at least 1");
    }
    let physics = McPhysics {
        crystal_hash: provenance::crystal_hash(&crystal)?,
        num_sites: geometry.num_sites(),
        units: u,
        primitive: a.prim,
        lattice_parameter: a.lat_par,
        vacancy: !a.no_vac,
        elements: a.elements.clone(),
        counts: a.natoms.clone(),
        potential_hash: provenance::hex(potential.hash()),
        temperature: a.temp,
        energy: a.energy_model(),
    };
    let out_dir = std::env::current_dir().context("reading the working directory")?;
    let run = McRun {
        lammps: &lammps,
        geometry: &geometry,
        potential: &potential,
        physics,
        seed: a.seed,
        chains,
        trials: a.nsteps,
        thermalisation: a.neqb,
        save_every: a.nsave,
        out_dir,
        restart: a.use_last_chk_pt,
        force: a.force,
    };
    // -dpf may replace an earlier dump (-ckp reruns), never an input
    let inputs = [a.pot_path.join("library.meam"), a.pot_path.join("params.meam")];
    if a.dump_arguments {
        crate::spellings::check_dump(&a.dump_file, &inputs)?;
    }
    let start = run.start().context(if a.use_last_chk_pt { "-ckp" } else { "gcnet mc" })?;
    if a.dump_arguments {
        crate::spellings::write_dump(&a.dump_file, &inputs, Overwrite::Replace, &a.dump())?;
        eprintln!("Dumping arguments to: {}", a.dump_file.display());
    }
    eprintln!(
        "gcnet mc: {chains} chain(s), {} sites ({}), T = {} K, {} trials each, {}, LAMMPS {} ({})",
        geometry.num_sites(),
        a.elements.iter().zip(&a.natoms).map(|(e, n)| format!("{e} {n}")).collect::<Vec<_>>().join(", "),
        a.temp,
        a.nsteps,
        if a.no_relax {
            "on-lattice energies (--no-relax)".to_string()
        } else {
            format!("CG relaxation to -ftol {} -etol {}", a.force_tol, a.en_tol)
        },
        lammps.version(),
        lammps.exe().display()
    );
    let multi = MultiProgress::new();
    let style = ProgressStyle::with_template(
        "{prefix} {elapsed_precise} [{bar:30}] {pos}/{len} trials {msg} ({per_sec}, {eta} left)",
    )
    .expect("valid template");
    let bars: Vec<ProgressBar> = (0..chains)
        .map(|c| {
            let bar = multi.add(ProgressBar::new(a.nsteps as u64));
            bar.set_style(style.clone());
            bar.set_prefix(format!("chain {c}"));
            bar
        })
        .collect();
    let on_event = |e: McEvent| match e {
        McEvent::Started { chain, trial, energy } => {
            bars[chain].set_position(trial as u64);
            bars[chain].reset_eta();
            bars[chain].set_message(format!("E {energy:.4} eV"));
            if trial > 0 {
                gcnet_progress::say(&bars[chain], format!("chain {chain}: continuing after trial {trial}"));
            }
        }
        McEvent::Trial { chain, trial, energy, acceptance } => {
            bars[chain].set_position(trial as u64);
            bars[chain].set_message(format!("acceptance {acceptance:.3}, E {energy:.4} eV"));
        }
        McEvent::Checkpoint { .. } => {}
    };
    let summaries = run.run(start, &on_event).context("gcnet mc")?;
    for b in &bars {
        b.finish_and_clear();
    }
    for s in &summaries {
        println!(
            "chain {}: {} trials ({} in this run), acceptance ratio {:.4}, energy {:.6} eV, {:.4} s per trial -> {}",
            s.chain,
            s.trials,
            s.trials - s.trials_before,
            s.acceptance,
            s.energy,
            s.seconds_per_trial,
            s.dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Collect the states of `gcnet mc` chains after thermalisation (what the published
/// Extract_states notebook did): statesAll_{T}.npy (int8 (Nstates, Nsites), the vacancy
/// label 0 on site 0, labels 1..5) and statesEnergies_{T}.npy (eV), exactly what
/// `gcnet neb -if` reads (with the crystal file of `gcnet crystal --lattice fcc --cell
/// cubic --size U`). The last --validation-chains chains go to OUT/validation/ under the
/// same names. Prints the first-shell Warren-Cowley parameters of the training states.
#[derive(Debug, Parser)]
#[command(name = "gcnet mc-extract", bin_name = "gcnet mc-extract", allow_negative_numbers = true)]
struct ExtractArgs {
    /// The directory gcnet mc ran in (holding chain_0/, chain_1/, ...).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// First trial whose state is taken (default: the run's -ne).
    #[arg(long, value_parser = whole::<usize>)]
    start: Option<usize>,
    /// Trials between the states taken (a multiple of the run's -ns; default: -ns).
    #[arg(long, value_parser = whole::<usize>)]
    every: Option<usize>,
    /// Chains (the last ones) whose states form the validation set.
    #[arg(long = "validation-chains", default_value_t = 0, value_parser = whole::<usize>)]
    validation_chains: usize,
    /// Output directory.
    #[arg(short = 'o', long, default_value = ".")]
    output: PathBuf,
    /// Replace existing output files.
    #[arg(long)]
    force: bool,
}

fn extract_states(a: ExtractArgs) -> anyhow::Result<ExitCode> {
    let dirs = chain_dirs(&a.dir).with_context(|| format!("--dir {}", a.dir.display()))?;
    if dirs.is_empty() {
        bail!("--dir {}: no gcnet mc chain directories (chain_N/ with gcnet_mc.json)", a.dir.display());
    }
    if a.validation_chains >= dirs.len() {
        bail!("--validation-chains {} leaves no training chain ({} chains)", a.validation_chains, dirs.len());
    }
    let split = dirs.len() - a.validation_chains;
    let mut sets = vec![(a.output.clone(), &dirs[..split])];
    if a.validation_chains > 0 {
        sets.push((a.output.join("validation"), &dirs[split..]));
    }
    let mut extracted = Vec::new();
    for (out, chains) in &sets {
        let e = extract(chains, a.start, a.every).with_context(|| {
            let opt = |name: &str, v: Option<usize>| v.map_or_else(String::new, |v| format!(" {name} {v}"));
            format!("extracting from {}{}{}", a.dir.display(), opt("--start", a.start), opt("--every", a.every))
        })?;
        let t = e.record.physics.temperature;
        let files = [out.join(format!("statesAll_{t}.npy")), out.join(format!("statesEnergies_{t}.npy"))];
        for f in &files {
            if f.exists() && !a.force {
                bail!("{} already exists (pass --force to replace it)", f.display());
            }
        }
        extracted.push((files, e));
    }
    for (files, e) in &extracted {
        if let Some(parent) = files[0].parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let ow = Overwrite::force(a.force);
        write_npy(&files[0], &NpArray::from(e.states.clone()), ow).with_context(|| files[0].display().to_string())?;
        write_npy(&files[1], &NpArray::from(Array1::from(e.energies.clone())), ow)
            .with_context(|| files[1].display().to_string())?;
        let chains: std::collections::BTreeSet<&Path> = e.origin.iter().map(|(d, _)| d.as_path()).collect();
        println!(
            "wrote {} and {}: {} states of {} chain(s), trials {}..={}",
            files[0].display(),
            files[1].display(),
            e.states.nrows(),
            chains.len(),
            e.origin.iter().map(|o| o.1).min().unwrap_or(0),
            e.origin.iter().map(|o| o.1).max().unwrap_or(0),
        );
    }
    let e = &extracted[0].1;
    let p = &e.record.physics;
    let (_, geometry) = fcc_geometry(p.units, p.primitive, p.lattice_parameter)?;
    let rows: Vec<Vec<u8>> = e.states.rows().into_iter().map(|r| r.iter().map(|&l| l as u8).collect()).collect();
    let alpha = warren_cowley(rows.iter().map(|r| r.as_slice()), &geometry, p.elements.len());
    println!("first-shell Warren-Cowley parameters alpha_ij of the training states (row i, column j):");
    println!("      {}", p.elements.iter().map(|e| format!("{e:>8}")).collect::<String>());
    for (i, row) in alpha.iter().enumerate() {
        println!("  {:>4}{}", p.elements[i], row.iter().map(|x| format!("{x:>8.4}")).collect::<String>());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_published_ones() {
        let a = McArgs::parse_from(long_spellings(
            &["gcnet mc", "-pp", "pot", "-na", "100", "100", "100", "100", "99", "-T", "1173"].map(OsString::from),
            SPELLINGS,
        ));
        assert_eq!(a.nunits, [5, 5, 5]);
        assert_eq!((a.lat_par, a.nsteps, a.neqb, a.nsave, a.force_tol, a.en_tol), (3.595, 60000, 2000, 200, 1e-3, 0.0));
        assert_eq!(
            (a.prim, a.no_vac, a.no_srun, a.use_last_chk_pt, a.dump_arguments),
            (false, false, false, false, false)
        );
        assert_eq!(a.natoms, [100, 100, 100, 100, 99]);
        assert_eq!(a.dump_file, PathBuf::from("ArgFiles"));
        assert!(a.dump().starts_with(
            "potPath:\tpot\nNatoms:\t[100, 100, 100, 100, 99]\nUseLastChkPt:\tFalse\nNunits:\t[5, 5, 5]\n"
        ));
        assert!(a.dump().contains("Temp:\t1173.0\n"));
        let b = McArgs::parse_from(long_spellings(
            &["gcnet mc", "-pp", "p", "-na", "1", "-u", "3", "3", "3", "-T", "1", "-nosr", "-ckp", "-nv", "-pr"]
                .map(OsString::from),
            SPELLINGS,
        ));
        assert_eq!(
            (b.nunits.clone(), b.no_srun, b.use_last_chk_pt, b.no_vac, b.prim),
            (vec![3, 3, 3], true, true, true, true)
        );
    }
}
