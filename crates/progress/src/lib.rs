//! Progress output of long work, shared by every workflow of the library and the `gcnet`
//! binary: one bar style, and log lines that go above the bars on a terminal and plainly
//! to stderr when the bars are hidden (stderr is not a terminal, as in cluster job logs).

#![forbid(unsafe_code)]

use indicatif::ProgressStyle;
pub use indicatif::{MultiProgress, ProgressBar};

/// A bar over `len` units of `what` (e.g. "epochs", "trials"), with elapsed time, count,
/// the bar's message and the time left. `prefix` (empty for none) names the bar when
/// several run at once (a Monte Carlo chain, a shard).
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let b = ProgressBar::new(len);
    b.set_style(style(what));
    b
}

/// [`bar`] added to `multi`, for a workflow that shows several bars at once.
pub fn bar_in(multi: &MultiProgress, len: u64, what: &str) -> ProgressBar {
    multi.add(bar(len, what))
}

/// A bar that only counts (the total is not known in advance).
pub fn counter(what: &str) -> ProgressBar {
    let b = ProgressBar::no_length();
    b.set_style(
        ProgressStyle::with_template(&format!("{{prefix}}{{elapsed_precise}} {{pos}} {what} {{msg}} ({{per_sec}})"))
            .expect("valid template"),
    );
    b
}

fn style(what: &str) -> ProgressStyle {
    ProgressStyle::with_template(&format!(
        "{{prefix}}{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {what} {{msg}} ({{eta}} left)"
    ))
    .expect("valid template")
}

/// A log line above `bar`, or plainly on stderr when the bar is hidden.
pub fn say(bar: &ProgressBar, line: impl AsRef<str>) {
    if bar.is_hidden() {
        eprintln!("{}", line.as_ref());
    } else {
        bar.println(line.as_ref());
    }
}

/// A log line above the bars of `multi`, or plainly on stderr when they are hidden.
pub fn log(multi: &MultiProgress, line: impl AsRef<str>) {
    if multi.is_hidden() {
        eprintln!("{}", line.as_ref());
    } else {
        // A failed write to the terminal loses one progress line, never the work.
        multi.println(line.as_ref()).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_count_what_they_are_given() {
        let b = bar(10, "epochs");
        b.inc(3);
        assert_eq!(b.position(), 3);
        assert_eq!(b.length(), Some(10));
        let c = counter("jumps");
        c.inc(5);
        assert_eq!(c.position(), 5);
        assert_eq!(c.length(), None);
    }
}
