//! The published command lines' conventions, shared by every subcommand that takes them:
//! single-dash multi-letter options (argparse style) mapped onto clap's long names, and
//! Python's spelling of float values for the argument dumps (-d/-dpf, from gcnet-files).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context;
pub use gcnet_files::py_float;
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
