//! Charts for results people look at: training curves, correlation factors against epoch,
//! distributions. One [`Chart`] renders to SVG (inline in notebooks, via
//! [`Chart::evcxr_display`]) or to a PNG file (written atomically).
//!
//! ```
//! use gcnet_plot::{Chart, Series};
//! let chart = Chart::new("L against epoch", "epoch", "L")
//!     .with(Series::line("train", vec![(0.0, 1.0), (1.0, 0.5), (2.0, 0.4)]))
//!     .with_hline("KMC", 0.45);
//! let svg = chart.to_svg().unwrap();
//! assert!(svg.contains("<svg") && svg.contains("KMC"));
//! ```

#![forbid(unsafe_code)]

mod chart;
mod font;
mod heatmap;
mod svg;

pub use chart::{Chart, Mark, Series};
pub use heatmap::Heatmap;

/// Errors while drawing or writing a chart.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no font for plot labels: {0}")]
    Font(String),
    #[error("drawing the chart failed: {0}")]
    Draw(String),
    #[error(transparent)]
    Files(#[from] gcnet_files::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
