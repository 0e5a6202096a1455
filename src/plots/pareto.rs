//! Accuracy vs explanation time, with the Pareto front (no other model is
//! both faster to explain and more accurate) marked.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use polars::prelude::*;

use super::canvas::{draw_legend, save, Ctx, Figure};
use super::frame::{floats, strs};
use super::{Plot, PlotError};
use crate::tables::CONTROL_LABEL;

/// Indices of the Pareto-optimal points of `(cost, value)` pairs (lower cost
/// and higher value are better), sorted by cost.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..points.len()).collect();
    idx.sort_by(|&a, &b| {
        points[a]
            .0
            .total_cmp(&points[b].0)
            .then(points[b].1.total_cmp(&points[a].1))
    });
    let mut best = f64::NEG_INFINITY;
    idx.into_iter()
        .filter(|&i| {
            let keep = points[i].1 > best;
            if keep {
                best = points[i].1;
            }
            keep
        })
        .collect()
}

struct Point {
    label: String,
    kind: usize,
    time_ms: f64,
    accuracy: f64,
}

struct ParetoFigure {
    title: String,
    points: Vec<Point>,
    front: Vec<usize>,
}

const KINDS: [(&str, RGBColor); 3] = [
    ("teacher", RGBColor(0, 0, 0)),
    ("distilled student", RGBColor(31, 119, 180)),
    ("control student (α=0)", RGBColor(150, 150, 150)),
];

impl Figure for ParetoFigure {
    fn title(&self) -> String {
        self.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (x0, x1) = self
            .points
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), p| {
                (a.min(p.time_ms), b.max(p.time_ms))
            });
        let (y0, y1) = self
            .points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                (a.min(p.accuracy), b.max(p.accuracy))
            });
        let pad = ((y1 - y0) * 0.1).max(0.01);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d((x0 / 1.5..x1 * 1.5).log_scale(), y0 - pad..y1 + pad)
            .ctx()?;
        chart
            .configure_mesh()
            .x_desc("Grad-CAM time per image (ms, median, log scale)")
            .y_desc("test accuracy (mean over seeds)")
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .draw()
            .ctx()?;
        let front: Vec<(f64, f64)> = self
            .front
            .iter()
            .map(|&i| (self.points[i].time_ms, self.points[i].accuracy))
            .collect();
        let red = RGBColor(214, 39, 40);
        chart
            .draw_series(LineSeries::new(front.clone(), red.stroke_width(2)))
            .ctx()?
            .label("Pareto front")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], red.stroke_width(2)));
        for (k, (name, c)) in KINDS.iter().enumerate() {
            let c = *c;
            let pts: Vec<_> = self.points.iter().filter(|p| p.kind == k).collect();
            if pts.is_empty() {
                continue;
            }
            chart
                .draw_series(
                    pts.iter()
                        .map(|p| Circle::new((p.time_ms, p.accuracy), 5, c.filled())),
                )
                .ctx()?
                .label(*name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
        }
        chart
            .draw_series(
                front
                    .iter()
                    .map(|&p| Circle::new(p, 9, red.stroke_width(2))),
            )
            .ctx()?;
        chart
            .draw_series(self.front.iter().map(|&i| {
                let p = &self.points[i];
                Text::new(
                    p.label.clone(),
                    (p.time_ms, p.accuracy),
                    ("sans-serif", 12).into_font().color(&BLACK),
                )
            }))
            .ctx()?;
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        Ok(())
    }
}

/// Accuracy vs Grad-CAM time per configuration of `dataset` (one point per
/// summary row), Pareto front marked and labelled. `None` without data.
pub fn accuracy_vs_time(
    summary: &DataFrame,
    dataset: &str,
    stem: &Path,
) -> Result<Option<Plot>, PlotError> {
    let of_ds = summary
        .clone()
        .lazy()
        .filter(
            col("dataset")
                .eq(lit(dataset))
                .and(col("accuracy_mean").is_not_null())
                .and(col("gradcam_s_mean").gt(lit(0.0))),
        )
        .collect()?;
    let models = strs(&of_ds, "model")?;
    let depth = floats(&of_ds, "depth")?;
    let temp = floats(&of_ds, "temperature")?;
    let alpha = floats(&of_ds, "alpha")?;
    let acc = floats(&of_ds, "accuracy_mean")?;
    let time = floats(&of_ds, "gradcam_s_mean")?;
    let mut points = Vec::new();
    for i in 0..of_ds.height() {
        let (Some(model), Some(a), Some(t)) = (models[i].as_deref(), acc[i], time[i]) else {
            continue;
        };
        let d = depth[i].unwrap_or(f64::NAN);
        let (kind, label) = match model {
            "teacher" => (0, "teacher".to_owned()),
            CONTROL_LABEL => (2, format!(" d{d} control")),
            _ => (
                1,
                format!(
                    " d{d} T{} α{}",
                    temp[i].unwrap_or(f64::NAN),
                    alpha[i].unwrap_or(f64::NAN)
                ),
            ),
        };
        points.push(Point {
            label,
            kind,
            time_ms: t * 1000.0,
            accuracy: a,
        });
    }
    if points.is_empty() {
        return Ok(None);
    }
    let pairs: Vec<(f64, f64)> = points.iter().map(|p| (p.time_ms, p.accuracy)).collect();
    let fig = ParetoFigure {
        title: format!("{dataset}: accuracy vs explanation time"),
        front: pareto_front(&pairs),
        points,
    };
    save(&fig, stem).map(Some)
}

#[cfg(test)]
mod tests {
    use super::pareto_front;

    #[test]
    fn pareto_front_keeps_only_undominated_points() {
        let pts = [
            (1.0, 0.7),
            (2.0, 0.9),
            (1.5, 0.6),
            (3.0, 0.85),
            (0.5, 0.5),
            (2.0, 0.8),
        ];
        assert_eq!(pareto_front(&pts), vec![4, 0, 1]);
    }
}
