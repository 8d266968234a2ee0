//! Progress output shared by the long-running commands.

use indicatif::ProgressBar;

/// A log line above the progress bar, or plainly on stderr when the bar is hidden (stderr
/// is not a terminal, as in cluster job logs).
pub fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}
