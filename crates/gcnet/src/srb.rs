//! `gcnet srb`: the options mapped onto `gcnet_srb::srb::SrbRun`; the report is printed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use gcnet_srb::srb::{DEFAULT_MAX_CONDITION, SrbRun, parse_species};
use gcnet_srb::{SingularPolicy, SrbConfig};

/// The published single-dash spellings that `gcnet srb` takes, and their long names.
pub const SPELLINGS: &[(&str, &str)] = &[
    ("-DP", "--data"),
    ("-cr", "--crystal"),
    ("-a0", "--a0"),
    ("-sp", "--species"),
    ("-vSp", "--vacancy"),
    ("-nt", "--n-train"),
];

/// Scaled residual bias correction (SPEC section 7). From a data set, its crystal file and
/// the getY outputs with exit states (getY -aj: y_st1, y_st2, y_st1_exits, y_st2_exits,
/// each the published bare .npy or our .npz with the f64 array `y`), builds one basis
/// vector per species label,
/// fits the coefficients theta on the training samples (the first --n-train) and reports
/// L[0], L[y] and the corrected L[y + theta.B] on the training and validation samples.
///
/// The published spellings -DP, -cr, -a0, -sp, -vSp and -nt are accepted for --data,
/// --crystal, --a0, --species, --vacancy and --n-train.
///
/// With one fixed rate per species (e.g. SR-2 gases) the atoms' biases are linearly
/// dependent (sum_sp B_sp / rate_sp = 0): leave one label out with --basis, or pass
/// --pseudo-inverse.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Single-step data set (HDF5, SPEC section 3).
    #[arg(long)]
    data: PathBuf,
    /// Crystal data file the data set was made on.
    #[arg(long)]
    crystal: PathBuf,
    /// getY output: y of the initial states, (N, 3).
    #[arg(long)]
    y_st1: PathBuf,
    /// getY output: y of the final states, (N, 3).
    #[arg(long)]
    y_st2: PathBuf,
    /// getY output: y of the exit states of s1, (N*z, 3), row n*z + j.
    #[arg(long)]
    y_st1_exits: PathBuf,
    /// getY output: y of the exit states of s2, (N*z, 3).
    #[arg(long)]
    y_st2_exits: PathBuf,
    /// Species set S: a string of labels as in training ("1", "12") or comma-separated.
    #[arg(long)]
    species: String,
    /// Vacancy label.
    #[arg(long, default_value_t = 0)]
    vacancy: usize,
    /// Lattice parameter of the data (SpecDisps = a0 * dx).
    #[arg(long, default_value_t = 1.0)]
    a0: f64,
    /// Training samples: the first N fit theta, the rest are the validation samples.
    #[arg(long)]
    n_train: usize,
    /// Labels that get a basis vector, comma-separated (default: every label, vacancy
    /// included).
    #[arg(long, value_delimiter = ',')]
    basis: Option<Vec<usize>>,
    /// Largest condition number of W (scaled to unit diagonal) that is solved.
    #[arg(long, default_value_t = DEFAULT_MAX_CONDITION)]
    max_condition: f64,
    /// Solve a singular W in its well-conditioned subspace instead of stopping, and list
    /// the basis combinations left out.
    #[arg(long)]
    pseudo_inverse: bool,
    /// Write theta, W, b and the L values to this .npz file (an existing file only with
    /// --force; never one of the inputs).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Replace an existing --output file.
    #[arg(long)]
    force: bool,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let species = parse_species(&a.species).context("--species")?;
    let (vacancy, a0, n_train, basis_labels, max_condition) = (a.vacancy, a.a0, a.n_train, a.basis, a.max_condition);
    let singular = if a.pseudo_inverse { SingularPolicy::Truncate } else { SingularPolicy::Refuse };
    let config = SrbConfig { species, vacancy, a0, n_train, basis_labels, max_condition, singular };
    let srb = SrbRun {
        data: a.data,
        crystal: a.crystal,
        y: [a.y_st1, a.y_st2, a.y_st1_exits, a.y_st2_exits],
        config,
        output: a.output,
        overwrite: gcnet_files::Overwrite::force(a.force),
    };
    let report = srb.run()?;
    print!("{}", report.table(&srb.config));
    if let Some(path) = &srb.output {
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;

    #[test]
    fn published_spellings_map_onto_long_names() {
        let args: Vec<OsString> =
            ["srb", "-DP", "d.h5", "-cr", "c.h5", "-sp", "12", "-vSp", "0", "-nt", "10", "-a0", "2", "--basis", "1"]
                .iter()
                .map(OsString::from)
                .collect();
        let mapped: Vec<String> =
            crate::spellings::long_spellings(&args, SPELLINGS).into_iter().map(|a| a.into_string().unwrap()).collect();
        assert_eq!(
            mapped,
            [
                "srb",
                "--data",
                "d.h5",
                "--crystal",
                "c.h5",
                "--species",
                "12",
                "--vacancy",
                "0",
                "--n-train",
                "10",
                "--a0",
                "2",
                "--basis",
                "1"
            ]
        );
    }
}
