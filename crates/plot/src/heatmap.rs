//! A labelled square matrix drawn as coloured cells (diverging blue-white-red around 0),
//! each cell printed with its value: pair tables such as Warren-Cowley parameters.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::{Error, Result, svg};

/// Rows and columns share the labels; `values[i][j]` is row i, column j.
#[derive(Clone, Debug)]
pub struct Heatmap {
    pub title: String,
    pub labels: Vec<String>,
    pub values: Vec<Vec<f64>>,
    pub size: (u32, u32),
}

impl Heatmap {
    pub fn new(title: impl Into<String>, labels: Vec<String>, values: Vec<Vec<f64>>) -> Self {
        Heatmap { title: title.into(), labels, values, size: (520, 480) }
    }

    /// The heat map as an SVG document.
    pub fn to_svg(&self) -> Result<String> {
        svg::document(self.size, |root| self.draw(root))
    }

    /// Shows the heat map inline in an evcxr Jupyter notebook.
    pub fn evcxr_display(&self) {
        svg::show(self.to_svg());
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| Error::Draw(e.to_string());
        root.fill(&WHITE).map_err(err)?;
        let n = self.labels.len();
        let scale = self.values.iter().flatten().filter(|x| x.is_finite()).fold(0.0f64, |m, x| m.max(x.abs()));
        let scale = if scale > 0.0 { scale } else { 1.0 };
        let labels = self.labels.clone();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(0f64..n as f64, n as f64..0f64)
            .map_err(err)?;
        let name = move |v: &f64| {
            let i = v.floor() as usize;
            if (v - v.floor() - 0.5).abs() < 0.01 && i < labels.len() { labels[i].clone() } else { String::new() }
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(2 * n + 1)
            .y_labels(2 * n + 1)
            .x_label_formatter(&name)
            .y_label_formatter(&name)
            .draw()
            .map_err(err)?;
        for (i, row) in self.values.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let t = if v.is_finite() { (v / scale).clamp(-1.0, 1.0) } else { 0.0 };
                let fade = |c: f64| (255.0 - (255.0 - c) * t.abs()) as u8;
                let colour = if t >= 0.0 {
                    RGBColor(fade(214.0), fade(39.0), fade(40.0))
                } else {
                    RGBColor(fade(31.0), fade(119.0), fade(180.0))
                };
                let (x, y) = (j as f64, i as f64);
                chart
                    .draw_series(std::iter::once(Rectangle::new([(x, y), (x + 1.0, y + 1.0)], colour.filled())))
                    .map_err(err)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{v:.3}"),
                        (x + 0.3, y + 0.55),
                        ("sans-serif", 14).into_font(),
                    )))
                    .map_err(err)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_carry_their_values() {
        let h = Heatmap::new("alpha", vec!["A".into(), "B".into()], vec![vec![0.25, -0.5], vec![-0.5, f64::NAN]]);
        let svg = h.to_svg().unwrap();
        assert!(svg.contains("<svg") && svg.contains("-0.500") && svg.contains("0.250") && svg.contains("NaN"));
    }
}
