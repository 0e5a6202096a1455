//! The sweep in parallel coordinates, one figure per data set: a line per
//! student configuration (controls included) through its depth, temperature,
//! alpha, mean test accuracy and median Grad-CAM time, coloured by accuracy;
//! the validation-selected students drawn thick, the teacher's accuracy and
//! time marked on their axes.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use polars::prelude::*;

use super::canvas::{save, Ctx, Figure};
use super::frame::{datasets, file_safe, floats, strs};
use super::{Plot, PlotError};

const AXES: [&str; 5] = [
    "depth",
    "temperature",
    "alpha",
    "accuracy",
    "Grad-CAM ms (log)",
];

/// One configuration: the five axis values (temperature `None` for the
/// control) and whether it is selected.
struct Line {
    values: [Option<f64>; 5],
    selected: bool,
}

struct ParallelFigure {
    title: String,
    lines: Vec<Line>,
    /// The teacher's accuracy and Grad-CAM ms.
    teacher: (Option<f64>, Option<f64>),
}

/// An axis: the positions in [0, 1] of its values, and its tick labels.
enum Scale {
    /// Discrete sweep values, evenly spaced; `None` (no temperature) first.
    Levels(Vec<Option<f64>>),
    /// A continuous range (log10 when `log`).
    Range { lo: f64, hi: f64, log: bool },
}

impl Scale {
    fn pos(&self, v: Option<f64>) -> Option<f64> {
        match self {
            Scale::Levels(levels) => {
                let i = levels.iter().position(|l| *l == v)?;
                Some(if levels.len() < 2 {
                    0.5
                } else {
                    i as f64 / (levels.len() - 1) as f64
                })
            }
            Scale::Range { lo, hi, log } => {
                let f = |x: f64| if *log { x.log10() } else { x };
                let v = f(v?);
                Some(if hi > lo {
                    (v - f(*lo)) / (f(*hi) - f(*lo))
                } else {
                    0.5
                })
            }
        }
    }

    fn ticks(&self) -> Vec<(f64, String)> {
        match self {
            Scale::Levels(levels) => levels
                .iter()
                .filter_map(|l| {
                    let text = l.map_or_else(|| "none".to_owned(), |x| format!("{x}"));
                    Some((self.pos(*l)?, text))
                })
                .collect(),
            Scale::Range { lo, hi, .. } => {
                vec![(0.0, format!("{lo:.3}")), (1.0, format!("{hi:.3}"))]
                    .into_iter()
                    .map(|(p, t)| (if hi > lo { p } else { 0.5 }, t))
                    .collect()
            }
        }
    }
}

impl ParallelFigure {
    fn scales(&self) -> Vec<Scale> {
        (0..5)
            .map(|k| {
                let mut vals: Vec<Option<f64>> = self.lines.iter().map(|l| l.values[k]).collect();
                if k < 3 {
                    vals.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
                    vals.dedup();
                    return Scale::Levels(vals);
                }
                let extra = if k == 3 {
                    self.teacher.0
                } else {
                    self.teacher.1
                };
                let xs: Vec<f64> = vals.into_iter().chain([extra]).flatten().collect();
                let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                Scale::Range {
                    lo,
                    hi,
                    log: k == 4 && lo > 0.0,
                }
            })
            .collect()
    }
}

/// Blue (lowest accuracy) to red (highest).
fn heat(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    RGBColor((40.0 + 200.0 * t) as u8, 70, (220.0 - 190.0 * t) as u8)
}

impl Figure for ParallelFigure {
    fn title(&self) -> String {
        self.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let scales = self.scales();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(20)
            .build_cartesian_2d(-0.4f64..4.4f64, -0.12f64..1.12f64)
            .ctx()?;
        let right = Pos::new(HPos::Right, VPos::Center);
        let tick = ("sans-serif", 13).into_font().color(&BLACK).pos(right);
        // Unselected lines first, so the selected ones are drawn on top.
        let mut order: Vec<&Line> = self.lines.iter().collect();
        order.sort_by_key(|l| l.selected);
        for l in order {
            let pts: Vec<(f64, f64)> = (0..5)
                .filter_map(|k| Some((k as f64, scales[k].pos(l.values[k])?)))
                .collect();
            let c = heat(scales[3].pos(l.values[3]).unwrap_or(0.5));
            let style = if l.selected {
                c.stroke_width(4)
            } else {
                c.mix(0.6).stroke_width(2)
            };
            chart.draw_series([PathElement::new(pts, style)]).ctx()?;
        }
        // Axes and their labels over the lines.
        for (k, (name, scale)) in AXES.iter().zip(&scales).enumerate() {
            let x = k as f64;
            chart
                .draw_series([PathElement::new(
                    [(x, 0.0), (x, 1.0)],
                    BLACK.stroke_width(1),
                )])
                .ctx()?;
            chart
                .draw_series([Text::new(
                    name.to_string(),
                    (x - 0.25, 1.08),
                    ("sans-serif", 15).into_font().color(&BLACK),
                )])
                .ctx()?;
            for (p, text) in scale.ticks() {
                chart
                    .draw_series([Text::new(text, (x - 0.03, p), tick.clone())])
                    .ctx()?;
            }
        }
        for (k, v) in [(3usize, self.teacher.0), (4, self.teacher.1)] {
            if let Some(p) = scales[k].pos(v) {
                let x = k as f64;
                chart
                    .draw_series([TriangleMarker::new((x, p), 8, BLACK.filled())])
                    .ctx()?;
                chart
                    .draw_series([Text::new(
                        " teacher".to_owned(),
                        (x + 0.03, p),
                        ("sans-serif", 13).into_font().color(&BLACK),
                    )])
                    .ctx()?;
            }
        }
        chart
            .draw_series([Text::new(
                "thick: selected on validation · colour: accuracy (blue low, red high)".to_owned(),
                (-0.35, -0.08),
                ("sans-serif", 13).into_font().color(&BLACK),
            )])
            .ctx()?;
        Ok(())
    }
}

/// The parallel-coordinates figure of `dataset` from a summary frame;
/// `None` without an evaluated student.
pub fn parallel_coordinates(
    summary: &DataFrame,
    dataset: &str,
    stem: &Path,
) -> Result<Option<Plot>, PlotError> {
    let of_ds = summary
        .clone()
        .lazy()
        .filter(col("dataset").eq(lit(dataset)))
        .collect()?;
    let models = strs(&of_ds, "model")?;
    let cols = [
        "depth",
        "temperature",
        "alpha",
        "accuracy_mean",
        "gradcam_s_mean",
    ]
    .map(|c| floats(&of_ds, c));
    let [depth, temp, alpha, acc, time] = cols;
    let (depth, temp, alpha, acc, time) = (depth?, temp?, alpha?, acc?, time?);
    let selected: Vec<bool> = of_ds
        .column("selected")?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    let ms = |v: Option<f64>| v.filter(|t| *t > 0.0).map(|t| t * 1000.0);
    let mut lines = Vec::new();
    let mut teacher = (None, None);
    for i in 0..of_ds.height() {
        match models[i].as_deref() {
            Some("teacher") => teacher = (acc[i], ms(time[i])),
            Some("student") | Some(crate::tables::CONTROL_LABEL) if acc[i].is_some() => {
                lines.push(Line {
                    values: [depth[i], temp[i], alpha[i], acc[i], ms(time[i])],
                    selected: selected[i],
                });
            }
            _ => {}
        }
    }
    if lines.is_empty() {
        return Ok(None);
    }
    let fig = ParallelFigure {
        title: format!("{dataset}: the sweep (depth, T, α → accuracy, Grad-CAM time)"),
        lines,
        teacher,
    };
    save(&fig, stem).map(Some)
}

/// [`parallel_coordinates`] of every data set of `summary`, into `out_dir`.
pub fn parallel_all(summary: &DataFrame, out_dir: &Path) -> Result<Vec<Plot>, PlotError> {
    let mut out = Vec::new();
    for d in datasets(summary)? {
        let stem = out_dir.join(format!("parallel_{}", file_safe(&d)));
        out.extend(parallel_coordinates(summary, &d, &stem)?);
    }
    Ok(out)
}
