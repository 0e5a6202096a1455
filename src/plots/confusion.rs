//! Confusion matrix heat map from an evaluate stage's `metrics.json`.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use study::contract::artifacts::Metrics;

use super::canvas::{save, Ctx, Figure};
use super::{Plot, PlotError};

struct ConfusionFigure {
    title: String,
    classes: Vec<String>,
    /// counts[true][predicted]
    counts: Vec<Vec<f64>>,
}

impl Figure for ConfusionFigure {
    fn title(&self) -> String {
        self.title.clone()
    }

    fn size(&self) -> (u32, u32) {
        let n = self.classes.len() as u32;
        let side = (n * 90).clamp(360, 900);
        (side + 200, side + 140)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let n = self.classes.len() as i32;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(110)
            .build_cartesian_2d((0..n - 1).into_segmented(), (0..n - 1).into_segmented())
            .ctx()?;
        let classes = &self.classes;
        let name = |v: &SegmentValue<i32>, flip: bool| match v {
            SegmentValue::CenterOf(i) => {
                let i = if flip { n - 1 - *i } else { *i };
                classes.get(i as usize).cloned().unwrap_or_default()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("predicted class")
            .y_desc("true class")
            .x_labels(n as usize)
            .y_labels(n as usize)
            .x_label_formatter(&|v| name(v, false))
            .y_label_formatter(&|v| name(v, true))
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .draw()
            .ctx()?;
        let edge = |v: i32| {
            if v >= n {
                SegmentValue::Last
            } else {
                SegmentValue::Exact(v)
            }
        };
        for (t, row) in self.counts.iter().enumerate() {
            let total: f64 = row.iter().sum::<f64>().max(1.0);
            for (p, &v) in row.iter().enumerate() {
                let frac = v / total;
                let shade = (255.0 * (1.0 - 0.85 * frac)) as u8;
                let y = n - 1 - t as i32;
                let x = p as i32;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [
                            (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                            (edge(x + 1), edge(y + 1)),
                        ],
                        RGBColor(shade, shade, 255).filled(),
                    )))
                    .ctx()?;
                let text_color = if frac > 0.6 { WHITE } else { BLACK };
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{v}"),
                        (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                        ("sans-serif", 16)
                            .into_font()
                            .color(&text_color)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    )))
                    .ctx()?;
            }
        }
        Ok(())
    }
}

/// Draws the confusion matrix of an evaluate stage's metrics (read from
/// `metrics_json`, named in errors).
pub fn confusion_matrix(
    metrics: &Metrics,
    metrics_json: &Path,
    title: &str,
    stem: &Path,
) -> Result<Plot, PlotError> {
    let read_err = |reason: String| PlotError::Read {
        path: metrics_json.to_owned(),
        reason,
    };
    let counts: Vec<Vec<f64>> = metrics
        .confusion
        .iter()
        .map(|row| row.iter().map(|&v| v as f64).collect())
        .collect();
    let classes = metrics.classes.clone();
    if counts.is_empty()
        || classes.len() != counts.len()
        || counts.iter().any(|r| r.len() != counts.len())
    {
        return Err(read_err(format!(
            "confusion matrix is not {0}×{0} for {0} classes",
            classes.len()
        )));
    }
    save(
        &ConfusionFigure {
            title: title.to_owned(),
            classes,
            counts,
        },
        stem,
    )
}
