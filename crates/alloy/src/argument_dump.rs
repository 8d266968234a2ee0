//! The published `-dmp`/`-dpf` argument file of `gcnet neb` and `gcnet mc`: every argument
//! as `name:\tvalue`, written by the front end's spelling of them and placed here by the
//! workflow once it holds its directory, so that a refused run writes nothing.

use std::path::PathBuf;

use gcnet_files::{Overwrite, write_atomic};

use crate::error::{Error, Result, Within};

/// The argument file of a run: `text` (the front end's dump of its arguments) goes to
/// `path`, replacing an earlier dump (a rerun continues a run), never one of the run's
/// inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgumentDump {
    pub path: PathBuf,
    pub text: String,
}

impl ArgumentDump {
    /// Refuses a dump file that is one of `inputs`; writes nothing.
    pub(crate) fn check(&self, inputs: &[PathBuf]) -> Result<()> {
        gcnet_files::refuse_input(&self.path, inputs).map_err(|e| Error::Config(format!("-dpf {e}")))
    }

    /// Checks again, writes the file atomically and says so on stderr.
    pub(crate) fn write(&self, inputs: &[PathBuf], bar: &gcnet_progress::ProgressBar) -> Result<()> {
        self.check(inputs)?;
        write_atomic(&self.path, Overwrite::Replace, |f| std::io::Write::write_all(f, self.text.as_bytes()))
            .within_lazy(|| format!("writing the arguments to -dpf {}", self.path.display()))?;
        gcnet_progress::say(bar, format!("Dumping arguments to: {}", self.path.display()));
        Ok(())
    }
}
