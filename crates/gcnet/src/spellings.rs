//! The published command lines' conventions, shared by every subcommand that takes them:
//! single-dash multi-letter options (argparse style) mapped onto clap's long names, and
//! Python's spelling of float values for the argument dumps (-d/-dpf).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context;
use gcnet_files::{Overwrite, write_atomic};

/// Rewrites the published single-dash options of `table` (`-DP x`, `-DP=x`) into their
/// long names so that clap can parse them; every other word (the program name, values
/// such as `-1`, `-h`) is kept.
pub fn long_spellings(args: &[OsString], table: &[(&str, &str)]) -> Vec<OsString> {
    args.iter()
        .enumerate()
        .map(|(i, a)| {
            let Some(s) = a.to_str().filter(|_| i > 0) else { return a.clone() };
            let (flag, value) = s.split_once('=').map_or((s, None), |(f, v)| (f, Some(v)));
            match (table.iter().find(|(short, _)| *short == flag), value) {
                (Some((_, long)), Some(v)) => OsString::from(format!("{long}={v}")),
                (Some((_, long)), None) => OsString::from(*long),
                (None, _) => a.clone(),
            }
        })
        .collect()
}

/// clap's value parser for counts, indices and seeds. With negative numbers allowed as
/// values (every numeric option takes them, so that `-th -1` reaches our checks instead of
/// failing as an unknown option), a negative count gets this message rather than
/// "invalid digit found in string".
pub fn whole<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    if s.trim().starts_with('-') {
        return Err(format!("{s} is negative: this option takes a whole number >= 0"));
    }
    s.trim().parse::<T>().map_err(|_| format!("`{s}` is not a whole number >= 0 (or is too large)"))
}

/// A float as Python's `repr` writes it: shortest round trip, `1.0` for whole numbers,
/// exponent form below 1e-4 and from 1e16 (`1e-05`, `1.5e+16`).
pub fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 || (1e-4..1e16).contains(&x.abs()) {
        let s = format!("{x}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{x:e}"); // e.g. 1.5e-5
    let (mant, exp) = s.split_once('e').expect("exponent form");
    let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
    format!("{mant}e{sign}{digits:0>2}")
}

/// Writes the argument dump of -dmp/-d to `path` (atomically): never over one of the run's
/// `inputs`, whatever `overwrite` says.
/// The refusal of [`write_dump`] alone, for a run to give before it takes its directory.
pub fn check_dump(path: &Path, inputs: &[PathBuf]) -> anyhow::Result<()> {
    gcnet_files::refuse_input(path, inputs).map_err(|e| anyhow::anyhow!("-dpf {e}"))
}

pub fn write_dump(path: &Path, inputs: &[PathBuf], overwrite: Overwrite, text: &str) -> anyhow::Result<()> {
    check_dump(path, inputs)?;
    write_atomic(path, overwrite, |f| std::io::Write::write_all(f, text.as_bytes()))
        .with_context(|| format!("writing the arguments to -dpf {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_written_as_python_repr_writes_them() {
        for (x, want) in [
            (1.0, "1.0"),
            (0.001, "0.001"),
            (0.0005, "0.0005"),
            (0.0001, "0.0001"),
            (5e-5, "5e-05"),
            (1.5e-7, "1.5e-07"),
            (3.595, "3.595"),
            (-0.02, "-0.02"),
            (0.0, "0.0"),
            (0.71, "0.71"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789.0, "123456789.0"),
            (2.5e-123, "2.5e-123"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(py_float(x), want, "{x:e}");
        }
    }

    #[test]
    fn class5_negative_counts_get_our_message() {
        assert_eq!(whole::<usize>("12"), Ok(12));
        assert!(whole::<usize>("-3").unwrap_err().contains("-3 is negative: this option takes a whole number >= 0"));
        assert!(whole::<u64>("x").unwrap_err().contains("`x` is not a whole number"));
    }

    #[test]
    fn only_the_table_spellings_are_rewritten() {
        let os = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        let table = [("-DP", "--DataPath"), ("-nl", "--Nlayers")];
        assert_eq!(
            long_spellings(&os(&["gcnet", "-DP", "d.h5", "-nl", "-1", "-DP=x", "-h", "-x"]), &table),
            os(&["gcnet", "--DataPath", "d.h5", "--Nlayers", "-1", "--DataPath=x", "-h", "-x"])
        );
        // the program name is never rewritten
        assert_eq!(long_spellings(&os(&["-DP", "-x"]), &table), os(&["-DP", "-x"]));
    }
}
