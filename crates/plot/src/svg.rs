//! What every figure type shares: rendering to an SVG document, and showing it inline in
//! an evcxr notebook.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::{Error, Result, font};

/// The SVG document of a figure of `size` pixels that `draw` paints.
pub(crate) fn document(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>,
) -> Result<String> {
    font::ensure()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&root)?;
        root.present().map_err(|e| Error::Draw(e.to_string()))?;
    }
    Ok(svg)
}

/// Prints `svg` in evcxr's display protocol (an error goes to stderr instead).
pub(crate) fn show(svg: Result<String>) {
    match svg {
        Ok(svg) => println!("EVCXR_BEGIN_CONTENT image/svg+xml\n{svg}\nEVCXR_END_CONTENT"),
        Err(e) => eprintln!("{e}"),
    }
}
