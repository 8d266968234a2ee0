//! A small chart description and its rendering with plotters.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::{Error, Result, font, svg};

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mark {
    Line,
    Points,
    LinePoints,
    /// Vertical bars from 0, centred on each x, `width` wide (histograms).
    Bars {
        width: f64,
    },
}

/// One named data series.
#[derive(Clone, Debug)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub mark: Mark,
    /// Symmetric error bars, one per point, if any.
    pub errors: Option<Vec<f64>>,
}

impl Series {
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series { label: label.into(), points, mark: Mark::Line, errors: None }
    }

    pub fn points(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series { label: label.into(), points, mark: Mark::Points, errors: None }
    }

    pub fn line_points(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series { label: label.into(), points, mark: Mark::LinePoints, errors: None }
    }

    /// A histogram of `values` with `bins` equal bins over their range.
    pub fn histogram(label: impl Into<String>, values: &[f64], bins: usize) -> Self {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let (lo, hi) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let bins = bins.max(1);
        let width = if hi > lo { (hi - lo) / bins as f64 } else { 1.0 };
        let mut counts = vec![0usize; bins];
        for v in &finite {
            counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
        }
        let points = counts.iter().enumerate().map(|(i, &c)| (lo + (i as f64 + 0.5) * width, c as f64)).collect();
        Series { label: label.into(), points, mark: Mark::Bars { width }, errors: None }
    }

    pub fn with_errors(mut self, errors: Vec<f64>) -> Self {
        self.errors = Some(errors);
        self
    }
}

/// A 2-D chart: series plus labelled horizontal reference lines.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub hlines: Vec<(String, f64)>,
    /// Pixel size (width, height).
    pub size: (u32, u32),
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
];

impl Chart {
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>) -> Self {
        Chart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series: Vec::new(),
            hlines: Vec::new(),
            size: (720, 440),
        }
    }

    pub fn with(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    pub fn with_hline(mut self, label: impl Into<String>, y: f64) -> Self {
        self.hlines.push((label.into(), y));
        self
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self) -> Result<String> {
        svg::document(self.size, |root| self.draw(root))
    }

    /// Draws the chart as a PNG into `path` as it is: the temporary file of an
    /// [`gcnet_files::AtomicFile`] that a result set commits with the other results.
    pub fn draw_png_into(&self, path: &Path) -> Result<()> {
        font::ensure()?;
        let root = BitMapBackend::new(path, self.size).into_drawing_area();
        self.draw(&root)?;
        root.present().map_err(|e| Error::Draw(e.to_string()))
    }

    /// Writes the chart as a PNG file, atomically (through [`gcnet_files::AtomicFile`]:
    /// a temporary file, then rename); an existing plot is replaced.
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<()> {
        font::ensure()?;
        let path = path.as_ref();
        let tmp = gcnet_files::AtomicFile::new(path, gcnet_files::Overwrite::Replace)?;
        {
            let root = BitMapBackend::new(tmp.path(), self.size).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(|e| Error::Draw(e.to_string()))?;
        }
        tmp.commit()?;
        Ok(())
    }

    /// Shows the chart inline in an evcxr Jupyter notebook (evcxr calls this for the
    /// value of a cell's last expression).
    pub fn evcxr_display(&self) {
        svg::show(self.to_svg());
    }

    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let mut xs = (f64::INFINITY, f64::NEG_INFINITY);
        let mut ys = (f64::INFINITY, f64::NEG_INFINITY);
        let mut take = |x: f64, y: f64| {
            if x.is_finite() && y.is_finite() {
                xs = (xs.0.min(x), xs.1.max(x));
                ys = (ys.0.min(y), ys.1.max(y));
            }
        };
        for s in &self.series {
            for (i, &(x, y)) in s.points.iter().enumerate() {
                let e = s.errors.as_ref().and_then(|e| e.get(i)).copied().unwrap_or(0.0);
                match s.mark {
                    Mark::Bars { width } => {
                        take(x - width / 2.0, 0.0);
                        take(x + width / 2.0, y);
                    }
                    _ => {
                        take(x, y - e);
                        take(x, y + e);
                    }
                }
            }
        }
        for &(_, y) in &self.hlines {
            if y.is_finite() {
                ys = (ys.0.min(y), ys.1.max(y));
            }
        }
        let pad = |(lo, hi): (f64, f64)| {
            if !lo.is_finite() {
                (0.0, 1.0)
            } else if hi - lo < 1e-12 * lo.abs().max(1.0) {
                (lo - 0.5 * lo.abs().max(1e-3), hi + 0.5 * hi.abs().max(1e-3))
            } else {
                let m = 0.05 * (hi - lo);
                (lo - m, hi + m)
            }
        };
        (pad(xs), pad(ys))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| Error::Draw(e.to_string());
        root.fill(&WHITE).map_err(err)?;
        let ((x0, x1), (y0, y1)) = self.ranges();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(err)?;
        for (i, s) in self.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            if s.mark == Mark::LinePoints {
                chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(err)?;
            }
            let legend = match s.mark {
                Mark::Line | Mark::LinePoints => {
                    chart.draw_series(LineSeries::new(s.points.clone(), color.stroke_width(2))).map_err(err)?
                }
                Mark::Points => {
                    chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(err)?
                }
                Mark::Bars { width } => chart
                    .draw_series(s.points.iter().map(|&(x, y)| {
                        Rectangle::new([(x - width / 2.0, 0.0), (x + width / 2.0, y)], color.mix(0.6).filled())
                    }))
                    .map_err(err)?,
            };
            legend.label(&s.label).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
            if let Some(errors) = &s.errors {
                chart
                    .draw_series(
                        s.points
                            .iter()
                            .zip(errors)
                            .map(|(&(x, y), &e)| ErrorBar::new_vertical(x, y - e, y, y + e, color.stroke_width(1), 6)),
                    )
                    .map_err(err)?;
            }
        }
        for (i, (label, y)) in self.hlines.iter().enumerate() {
            let color = PALETTE[(self.series.len() + i) % PALETTE.len()];
            chart
                .draw_series(DashedLineSeries::new(vec![(x0, *y), (x1, *y)], 8, 5, color.stroke_width(2)))
                .map_err(err)?
                .label(label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        }
        if !self.series.is_empty() || !self.hlines.is_empty() {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 13))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_every_value() {
        let s = Series::histogram("h", &[0.0, 0.1, 0.2, 0.9, 1.0, f64::NAN], 2);
        let total: f64 = s.points.iter().map(|p| p.1).sum();
        assert_eq!(total, 5.0);
        assert_eq!(s.points[0].1, 3.0);
    }

    #[test]
    fn png_is_written_atomically_and_is_a_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.png");
        let chart = Chart::new("t", "x", "y")
            .with(Series::line_points("a", vec![(0.0, 1.0), (1.0, 2.0)]).with_errors(vec![0.1, 0.2]))
            .with(Series::histogram("h", &[0.5, 0.7], 3))
            .with_hline("ref", 1.5);
        chart.save_png(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
        // An unwritable target leaves nothing behind and reports the path.
        let err = chart.save_png(dir.path().join("missing/c.png")).unwrap_err().to_string();
        assert!(err.contains("missing/c.png"), "{err}");
    }
}
