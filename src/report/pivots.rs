//! Pivot views (rows: temperature, columns: student depth) of macro-F1 and
//! Grad-CAM time, each cell formatted by its magnitude and with its spread
//! over seeds only where that spread shows a digit (a time measured once per
//! architecture has none).

use std::fmt::Write as _;

use polars::prelude::*;

use super::format::{esc, spread};
use super::frame::floats;
use super::ReportError;
use crate::tables;

/// One pivot as an HTML table.
fn pivot_html(p: &tables::PivotTable) -> PolarsResult<String> {
    let t = &p.table;
    let scale = if p.metric.ends_with("_s") {
        1000.0
    } else {
        1.0
    };
    let depths: Vec<String> = t
        .get_column_names()
        .iter()
        .filter_map(|n| {
            n.strip_suffix("_mean")
                .and_then(|b| b.strip_prefix('d'))
                .map(str::to_owned)
        })
        .collect();
    let mut h = String::from("<table class=\"pivot\">\n<thead><tr><th>T \\ depth</th>");
    for d in &depths {
        let _ = write!(h, "<th>{}</th>", esc(d));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    let temps = floats(t, "temperature")?;
    let mut cols = Vec::new();
    for d in &depths {
        cols.push((
            floats(t, &format!("d{d}_mean"))?,
            floats(t, &format!("d{d}_std"))?,
        ));
    }
    for (i, temp) in temps.iter().enumerate() {
        let label = temp.map_or_else(|| "— (control)".to_owned(), |x| format!("{x}"));
        let _ = write!(h, "<tr><th>{}</th>", esc(&label));
        for (mean, sd) in &cols {
            let s = |v: Option<f64>| v.map(|v| v * scale);
            let _ = write!(
                h,
                "<td class=\"num\">{}</td>",
                esc(&spread(s(mean[i]), s(sd[i])))
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
    Ok(h)
}

/// The pivots section.
pub(crate) fn section(summary: &DataFrame) -> Result<String, ReportError> {
    let mut h = String::from(
        "<section id=\"pivots\">\n<h2>Pivots (rows: temperature, columns: student depth)</h2>\n\
         <p class=\"meta\">Mean over seeds ± its standard deviation; the spread is left out where \
         it is absent (one seed, or one timing per architecture) or rounds to zero. Times in ms.</p>\n",
    );
    for metric in ["macro_f1", "gradcam_s"] {
        for p in tables::pivot(summary, metric)? {
            let title = tables::pivot_title(&p)
                .replace(" (rows: temperature, columns: depth)", "")
                .replace("gradcam_s", "Grad-CAM time (ms)");
            let _ = write!(
                h,
                "<h3>{}</h3>\n<div class=\"scroll\">{}</div>\n",
                esc(&title),
                pivot_html(&p)?
            );
        }
    }
    h.push_str("</section>\n");
    Ok(h)
}
