//! The finding's figure: per data set (one panel each), the teacher and the
//! validation-selected student of every depth, test accuracy with its
//! interval as a vertical bar against the median Grad-CAM time per image.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{save, Ctx, Figure};
use super::{Plot, PlotError};

/// One model of the finding.
#[derive(Debug, Clone)]
pub struct FindingPoint {
    pub dataset: String,
    /// `teacher`, `d1`, ...
    pub label: String,
    pub teacher: bool,
    pub time_s: f64,
    pub accuracy: f64,
    pub lo: f64,
    pub hi: f64,
}

struct FindingFigure {
    datasets: Vec<String>,
    points: Vec<FindingPoint>,
}

const TEACHER: RGBColor = RGBColor(0, 0, 0);
const STUDENT: RGBColor = RGBColor(31, 119, 180);

impl FindingFigure {
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        dataset: &str,
    ) -> Result<(), String> {
        let pts: Vec<&FindingPoint> = self
            .points
            .iter()
            .filter(|p| p.dataset == dataset)
            .collect();
        let ms = |p: &FindingPoint| p.time_s * 1000.0;
        let (x0, x1) = pts.iter().fold((f64::INFINITY, 0.0f64), |(a, b), p| {
            (a.min(ms(p)), b.max(ms(p)))
        });
        let (y0, y1) = pts
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                (a.min(p.lo), b.max(p.hi))
            });
        let pad = ((y1 - y0) * 0.1).max(0.01);
        let mut chart = ChartBuilder::on(area)
            .caption(dataset, ("sans-serif", 20))
            .margin(14)
            .x_label_area_size(45)
            .y_label_area_size(65)
            .build_cartesian_2d(
                (x0 / 2.0..x1 * 2.0).log_scale(),
                (y0 - pad).max(0.0)..(y1 + pad).min(1.0),
            )
            .ctx()?;
        chart
            .configure_mesh()
            .x_desc("Grad-CAM time per image (ms, median, log scale)")
            .y_desc("test accuracy (mean, interval)")
            .x_label_formatter(&|v| format!("{}", (v * 1000.0).round() / 1000.0))
            .light_line_style(RGBColor(238, 238, 238))
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 15))
            .draw()
            .ctx()?;
        for p in &pts {
            let c = if p.teacher { TEACHER } else { STUDENT };
            // The teacher's label to the left of its point, students' to the
            // right, so a student as fast and as accurate stays readable.
            let (label, pos) = if p.teacher {
                (
                    format!("{}  ", p.label),
                    Pos::new(HPos::Right, VPos::Center),
                )
            } else {
                (format!("  {}", p.label), Pos::new(HPos::Left, VPos::Center))
            };
            let x = ms(p);
            let cap = |y: f64| PathElement::new([(x / 1.06, y), (x * 1.06, y)], c.stroke_width(2));
            chart
                .draw_series([
                    PathElement::new([(x, p.lo), (x, p.hi)], c.stroke_width(2)),
                    cap(p.lo),
                    cap(p.hi),
                ])
                .ctx()?;
            chart
                .draw_series([Circle::new((x, p.accuracy), 6, c.filled())])
                .ctx()?;
            chart
                .draw_series([Text::new(
                    label,
                    (x, p.accuracy),
                    ("sans-serif", 14).into_font().color(&c).pos(pos),
                )])
                .ctx()?;
        }
        Ok(())
    }
}

impl Figure for FindingFigure {
    fn title(&self) -> String {
        "Teacher and selected students: accuracy vs Grad-CAM time".to_owned()
    }

    fn size(&self) -> (u32, u32) {
        (900.max(460 * self.datasets.len() as u32), 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = root.titled(&self.title(), ("sans-serif", 22)).ctx()?;
        let panels = root.split_evenly((1, self.datasets.len().max(1)));
        for (area, d) in panels.iter().zip(&self.datasets) {
            self.panel(area, d)?;
        }
        Ok(())
    }
}

/// Draws the finding's figure into `<stem>.png` / `.svg`; `None` when no
/// model has both an accuracy interval and a Grad-CAM time.
pub fn finding_figure(points: &[FindingPoint], stem: &Path) -> Result<Option<Plot>, PlotError> {
    let points: Vec<FindingPoint> = points
        .iter()
        .filter(|p| p.time_s > 0.0 && p.time_s.is_finite())
        .cloned()
        .collect();
    if points.is_empty() {
        return Ok(None);
    }
    let mut datasets: Vec<String> = points.iter().map(|p| p.dataset.clone()).collect();
    datasets.dedup();
    save(&FindingFigure { datasets, points }, stem).map(Some)
}
