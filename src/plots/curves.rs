//! Training curves from a model stage's `history.csv`.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{color, draw_legend, save, Ctx, Figure};
use super::{Plot, PlotError};

/// Per-epoch training history (`epoch,train_loss,train_acc,val_loss,val_acc,lr`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub epoch: Vec<f64>,
    pub train_loss: Vec<f64>,
    pub train_acc: Vec<f64>,
    pub val_loss: Vec<f64>,
    pub val_acc: Vec<f64>,
}

impl History {
    pub fn read(path: &Path) -> Result<History, PlotError> {
        let err = |reason: String| PlotError::Read {
            path: path.to_owned(),
            reason,
        };
        let mut r = csv::Reader::from_path(path).map_err(|e| err(e.to_string()))?;
        let headers = r.headers().map_err(|e| err(e.to_string()))?.clone();
        let idx = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| err(format!("missing column '{name}'")))
        };
        let cols = [
            idx("epoch")?,
            idx("train_loss")?,
            idx("train_acc")?,
            idx("val_loss")?,
            idx("val_acc")?,
        ];
        let mut h = History::default();
        for rec in r.records() {
            let rec = rec.map_err(|e| err(e.to_string()))?;
            let mut v = [0.0; 5];
            for (k, &c) in cols.iter().enumerate() {
                let field = rec.get(c).unwrap_or_default();
                v[k] = field.parse().map_err(|_| {
                    err(format!(
                        "value '{field}' of column {} is not a number",
                        headers.get(c).unwrap_or_default()
                    ))
                })?;
            }
            h.epoch.push(v[0]);
            h.train_loss.push(v[1]);
            h.train_acc.push(v[2]);
            h.val_loss.push(v[3]);
            h.val_acc.push(v[4]);
        }
        Ok(h)
    }
}

struct CurvesFigure<'a> {
    title: String,
    h: &'a History,
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_desc: &str,
    epochs: &[f64],
    series: [(&str, &[f64]); 2],
) -> Result<(), String> {
    let x1 = epochs.iter().cloned().fold(1.0, f64::max);
    let x0 = epochs.iter().cloned().fold(x1, f64::min);
    let ys = series
        .iter()
        .flat_map(|s| s.1.iter().cloned())
        .filter(|y| y.is_finite());
    let (y0, y1) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
        (a.min(y), b.max(y))
    });
    let (y0, y1) = if y0.is_finite() { (y0, y1) } else { (0.0, 1.0) };
    let pad = ((y1 - y0) * 0.1).max(0.01);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1.max(x0 + 1.0), y0 - pad..y1 + pad)
        .ctx()?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_desc)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .ctx()?;
    for (i, (label, ys)) in series.iter().enumerate() {
        let c = color(i);
        chart
            .draw_series(LineSeries::new(
                epochs.iter().cloned().zip(ys.iter().cloned()),
                c.stroke_width(2),
            ))
            .ctx()?
            .label(*label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
    }
    // plotters' default position
    draw_legend(&mut chart, SeriesLabelPosition::MiddleRight)?;
    Ok(())
}

impl Figure for CurvesFigure<'_> {
    fn title(&self) -> String {
        self.title.clone()
    }

    fn size(&self) -> (u32, u32) {
        (1100, 460)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = root.titled(&self.title, ("sans-serif", 20)).ctx()?;
        let panels = root.split_evenly((1, 2));
        let h = self.h;
        panel(
            &panels[0],
            "loss",
            "cross-entropy loss (training objective for train)",
            &h.epoch,
            [("train", &h.train_loss), ("validation", &h.val_loss)],
        )?;
        panel(
            &panels[1],
            "accuracy",
            "accuracy (fraction correct)",
            &h.epoch,
            [("train", &h.train_acc), ("validation", &h.val_acc)],
        )?;
        Ok(())
    }
}

/// Loss and accuracy per epoch, train and validation, side by side.
pub fn training_curves(history: &History, title: &str, stem: &Path) -> Result<Plot, PlotError> {
    save(
        &CurvesFigure {
            title: title.to_owned(),
            h: history,
        },
        stem,
    )
}
