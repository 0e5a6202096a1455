//! Line plots against student depth: macro F1 (one line per temperature and
//! alpha, the control its own line, the teacher as a reference) and explain
//! time per method.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use polars::prelude::*;

use super::canvas::{color, draw_legend, save, Ctx, Figure};
use super::frame::{floats, strs};
use super::{Plot, PlotError};
use crate::tables::{CONTROL_LABEL, METHODS};

/// A labelled line of (depth, mean, std) points.
struct Line {
    label: String,
    color: RGBColor,
    points: Vec<(i64, f64, Option<f64>)>,
}

struct DepthFigure {
    title: String,
    y_desc: String,
    lines: Vec<Line>,
    /// Horizontal dashed reference lines (label, y, colour).
    references: Vec<(String, f64, RGBColor)>,
    log_y: bool,
}

impl DepthFigure {
    fn depth_range(&self) -> (i64, i64) {
        let ds = self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
        let (lo, hi) = ds.fold((i64::MAX, i64::MIN), |(a, b), d| (a.min(d), b.max(d)));
        (lo, hi)
    }

    fn y_range(&self) -> (f64, f64) {
        let ys = self
            .lines
            .iter()
            .flat_map(|l| {
                l.points.iter().flat_map(|&(_, m, s)| {
                    let s = s.unwrap_or(0.0);
                    [m - s, m + s]
                })
            })
            .chain(self.references.iter().map(|r| r.1))
            .filter(|y| !self.log_y || *y > 0.0);
        let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
            (a.min(y), b.max(y))
        });
        if self.log_y {
            (lo / 1.5, hi * 1.5)
        } else {
            let pad = ((hi - lo) * 0.1).max(0.01);
            (lo - pad, hi + pad)
        }
    }

    fn draw_on<DB: DrawingBackend, Y>(
        &self,
        root: &DrawingArea<DB, Shift>,
        y: Y,
    ) -> Result<(), String>
    where
        Y: plotters::coord::ranged1d::AsRangedCoord<Value = f64>,
        Y::CoordDescType: plotters::coord::ranged1d::ValueFormatter<f64>,
    {
        let (lo, hi) = self.depth_range();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d((lo..hi).into_segmented(), y)
            .ctx()?;
        chart
            .configure_mesh()
            .x_desc("student depth (conv blocks)")
            .y_desc(self.y_desc.as_str())
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .draw()
            .ctx()?;
        for r in &self.references {
            let c = r.2;
            let pts = [(SegmentValue::Exact(lo), r.1), (SegmentValue::Last, r.1)];
            chart
                .draw_series(DashedLineSeries::new(pts, 8, 5, c.stroke_width(2)))
                .ctx()?
                .label(r.0.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
        }
        for line in &self.lines {
            let c = line.color;
            let pts: Vec<_> = line
                .points
                .iter()
                .map(|&(d, m, _)| (SegmentValue::CenterOf(d), m))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                .ctx()?
                .label(line.label.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
            chart
                .draw_series(pts.iter().map(|p| Circle::new(p.clone(), 4, c.filled())))
                .ctx()?;
            chart
                .draw_series(line.points.iter().filter_map(|&(d, m, s)| {
                    let s = s?;
                    Some(PathElement::new(
                        [
                            (SegmentValue::CenterOf(d), m - s),
                            (SegmentValue::CenterOf(d), m + s),
                        ],
                        c.stroke_width(1),
                    ))
                }))
                .ctx()?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        Ok(())
    }
}

impl Figure for DepthFigure {
    fn title(&self) -> String {
        self.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (lo, hi) = self.y_range();
        if self.log_y {
            self.draw_on(root, (lo..hi).log_scale())
        } else {
            self.draw_on(root, lo..hi)
        }
    }
}

/// Macro F1 (mean ± std over seeds) vs student depth for `dataset`: one line
/// per (temperature, alpha), the control as its own line and the teacher as a
/// dashed reference. `None` when no student has been evaluated.
pub fn f1_vs_depth(
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
                .and(col("macro_f1_mean").is_not_null()),
        )
        .collect()?;
    let models = strs(&of_ds, "model")?;
    let depth = floats(&of_ds, "depth")?;
    let temp = floats(&of_ds, "temperature")?;
    let alpha = floats(&of_ds, "alpha")?;
    let method = match of_ds.column("method") {
        Ok(_) => strs(&of_ds, "method")?,
        Err(_) => vec![None; of_ds.height()],
    };
    let mean = floats(&of_ds, "macro_f1_mean")?;
    let std = floats(&of_ds, "macro_f1_std")?;
    let mut lines: Vec<Line> = Vec::new();
    let mut references = Vec::new();
    for i in 0..of_ds.height() {
        let (Some(model), Some(m)) = (models[i].as_deref(), mean[i]) else {
            continue;
        };
        if model == "teacher" {
            references.push(("teacher".to_owned(), m, RGBColor(0, 0, 0)));
            continue;
        }
        let label = if model == CONTROL_LABEL {
            "control (no distillation, α=0)".to_owned()
        } else {
            // Hinton's method unnamed, as in the stage names.
            let m = match method[i].as_deref() {
                None | Some("hinton") => String::new(),
                Some(m) => format!("{m}, "),
            };
            format!(
                "{m}T={}, α={}",
                temp[i].unwrap_or(f64::NAN),
                alpha[i].unwrap_or(f64::NAN)
            )
        };
        let Some(d) = depth[i] else { continue };
        let point = (d as i64, m, std[i]);
        let n = lines.len();
        match lines.iter_mut().find(|l| l.label == label) {
            Some(l) => l.points.push(point),
            None => lines.push(Line {
                color: if model == CONTROL_LABEL {
                    RGBColor(110, 110, 110)
                } else {
                    color(n)
                },
                label,
                points: vec![point],
            }),
        }
    }
    if lines.is_empty() {
        return Ok(None);
    }
    for l in &mut lines {
        l.points.sort_by_key(|p| p.0);
    }
    references.truncate(1);
    let fig = DepthFigure {
        title: format!("{dataset}: macro F1 vs student depth"),
        y_desc: "macro F1 on the test split (mean ± std over seeds)".into(),
        lines,
        references,
        log_y: false,
    };
    save(&fig, stem).map(Some)
}

/// Median explain time per image vs student depth for `dataset`, one line
/// per method (mean over temperatures, alphas and seeds), teacher dashed.
/// `None` when no student has been timed.
pub fn explain_time_vs_depth(
    gathered: &DataFrame,
    dataset: &str,
    stem: &Path,
) -> Result<Option<Plot>, PlotError> {
    let of_ds = gathered
        .clone()
        .lazy()
        .filter(col("dataset").eq(lit(dataset)));
    let aggs: Vec<Expr> = METHODS
        .iter()
        .map(|m| col(format!("{m}_s")).mean() * lit(1000.0))
        .collect();
    let students = of_ds
        .clone()
        .filter(col("model").eq(lit("student")))
        .group_by([col("depth")])
        .agg(aggs.clone())
        .sort(["depth"], SortMultipleOptions::default())
        .collect()?;
    let teacher = of_ds
        .filter(col("model").eq(lit("teacher")))
        .select(aggs)
        .collect()?;
    let depth = floats(&students, "depth")?;
    let mut lines = Vec::new();
    let mut references = Vec::new();
    for (i, m) in METHODS.iter().enumerate() {
        let name = format!("{m}_s");
        let ys = floats(&students, &name)?;
        let points: Vec<_> = depth
            .iter()
            .zip(&ys)
            .filter_map(|(d, y)| Some((d.as_ref()?.round() as i64, (*y)?, None)))
            .filter(|p| p.1 > 0.0)
            .collect();
        let label = m.replace('_', " ");
        if !points.is_empty() {
            lines.push(Line {
                color: color(i),
                label: format!("student, {label}"),
                points,
            });
        }
        if let Some(Some(t)) = floats(&teacher, &name)?.first() {
            if *t > 0.0 {
                references.push((format!("teacher, {label}"), *t, color(i)));
            }
        }
    }
    if lines.is_empty() {
        return Ok(None);
    }
    let fig = DepthFigure {
        title: format!("{dataset}: explanation time vs student depth"),
        y_desc: "median time per image (ms, log scale)".into(),
        lines,
        references,
        log_y: true,
    };
    save(&fig, stem).map(Some)
}
