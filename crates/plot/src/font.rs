//! plotters' ab_glyph text backend needs a registered TrueType font; we use the system's
//! DejaVu Sans (Debian package fonts-dejavu-core, installed by scripts/setup.sh) rather
//! than shipping a font in the repository.

use std::sync::OnceLock;

use plotters::style::FontStyle;

use crate::{Error, Result};

const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

/// Registers "sans-serif" once per process. `GCNET_PLOT_FONT` overrides the font file.
pub(crate) fn ensure() -> Result<()> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let mut paths: Vec<String> = std::env::var("GCNET_PLOT_FONT").into_iter().collect();
            paths.extend(CANDIDATES.iter().map(|s| s.to_string()));
            let path = paths.iter().find(|p| std::path::Path::new(p).is_file()).ok_or_else(|| {
                format!("none of {} exists; install fonts-dejavu-core (bash scripts/setup.sh)", paths.join(", "))
            })?;
            let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
            // plotters keeps the font for the life of the process.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
                .map_err(|_| format!("{path} is not a usable TrueType font"))
        })
        .clone()
        .map_err(Error::Font)
}
