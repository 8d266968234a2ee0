//! `gcnet mc`: Metropolis swap Monte Carlo on LAMMPS with the published Init_state_MC.py
//! command line (SPEC section 9); the run is `gcnet_alloy::McConfig::run`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use gcnet_alloy::{ArgumentDump, EnergyModel, McConfig};
use gcnet_files::Overwrite;

use crate::spellings::{py_float, whole};

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
#[derive(Debug, clap::Args)]
#[command(args_override_self = true, allow_negative_numbers = true)]
pub struct Args {
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

impl Args {
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

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let units = <[usize; 3]>::try_from(a.nunits.as_slice()).map_err(|_| anyhow::anyhow!("-u takes three numbers"))?;
    let config = McConfig {
        restart: a.use_last_chk_pt,
        units,
        primitive: a.prim,
        lattice_parameter: a.lat_par,
        vacancy: !a.no_vac,
        trials: a.nsteps,
        thermalisation: a.neqb,
        save_every: a.nsave,
        energy: a.energy_model(),
        seed: a.seed,
        chains: a.chains,
        overwrite: Overwrite::force(a.force),
        elements: a.elements.clone(),
        lmp: a.lmp.clone(),
        out_dir: std::env::current_dir().context("reading the working directory")?,
        argument_dump: a.dump_arguments.then(|| ArgumentDump { path: a.dump_file.clone(), text: a.dump() }),
        ..McConfig::new(&a.pot_path, a.natoms.clone(), a.temp)
    };
    for chain in config.run()? {
        println!("{chain}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn defaults_are_the_published_ones() {
        let crate::Command::Mc(a) =
            crate::parse_words(&["mc", "-pp", "pot", "-na", "100", "100", "100", "100", "99", "-T", "1173"])
        else {
            unreachable!()
        };
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
        let crate::Command::Mc(b) = crate::parse_words(&[
            "mc", "-pp", "p", "-na", "1", "-u", "3", "3", "3", "-T", "1", "-nosr", "-ckp", "-nv", "-pr",
        ]) else {
            unreachable!()
        };
        assert_eq!(
            (b.nunits.clone(), b.no_srun, b.use_last_chk_pt, b.no_vac, b.prim),
            (vec![3, 3, 3], true, true, true, true)
        );
    }
}
