//! The full table of every configuration: the compact summary as an HTML
//! table the page's script sorts (click a header) and filters (a text box).
//! A `X_mean` with `X_lo` / `X_hi` is one cell `mean [lo, hi]`, else with
//! `X_std` one cell `mean ± std` (the spread left out when it rounds to 0);
//! times are in milliseconds. Each cell's `data-v` holds the raw value the
//! script sorts by (empty for a missing one, which sorts last).

use std::fmt::Write as _;

use polars::prelude::*;

use super::format::{esc, interval, num, spread};
use super::frame::{floats, strs};

/// One column of the page's table.
struct Col {
    header: String,
    key: String,
    cells: Vec<(String, String)>,
    numeric: bool,
}

/// Columns whose null means "does not apply" (shown as a dash).
const KEYS: [&str; 5] = ["dataset", "model", "depth", "temperature", "alpha"];

fn sort_key(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

fn metric(df: &DataFrame, base: &str) -> PolarsResult<Col> {
    let mean = floats(df, &format!("{base}_mean"))?;
    let std = floats(df, &format!("{base}_std"))?;
    let lo = floats(df, &format!("{base}_lo"))?;
    let hi = floats(df, &format!("{base}_hi"))?;
    let (scale, header) = match base.strip_suffix("_s") {
        Some(method) => (1000.0, format!("{method} time (ms)")),
        None => (1.0, base.to_owned()),
    };
    let s = |v: Option<f64>| v.map(|v| v * scale);
    let cells = (0..df.height())
        .map(|i| {
            let text = if lo[i].is_some() && hi[i].is_some() {
                interval(s(mean[i]), s(lo[i]), s(hi[i]))
            } else {
                spread(s(mean[i]), s(std[i]))
            };
            (text, sort_key(mean[i]))
        })
        .collect();
    Ok(Col {
        header,
        key: base.to_owned(),
        cells,
        numeric: true,
    })
}

fn plain_column(df: &DataFrame, name: &str) -> PolarsResult<Col> {
    let c = df.column(name)?;
    let numeric = c.dtype().is_primitive_numeric();
    let is_bool = c.dtype() == &DataType::Boolean;
    let key = KEYS.contains(&name);
    let cells = if numeric || is_bool {
        let v = floats(df, name)?;
        v.iter()
            .map(|v| {
                let text = match v {
                    None if key => "—".to_owned(),
                    None => "missing".to_owned(),
                    Some(x) if is_bool => (if *x > 0.0 { "yes" } else { "" }).to_owned(),
                    Some(x) if key || x.fract() == 0.0 => format!("{x}"),
                    Some(x) => num(Some(*x)),
                };
                (text, sort_key(*v))
            })
            .collect()
    } else {
        strs(df, name)?
            .into_iter()
            .map(|v| match v {
                Some(s) => (s.clone(), s),
                None => ("—".to_owned(), String::new()),
            })
            .collect()
    };
    Ok(Col {
        header: name.to_owned(),
        key: name.to_owned(),
        cells,
        numeric: numeric && !key,
    })
}

fn columns(df: &DataFrame) -> PolarsResult<Vec<Col>> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    let mut out = Vec::new();
    for n in &names {
        let partner = ["_std", "_lo", "_hi"]
            .iter()
            .any(|s| n.strip_suffix(s).is_some_and(|b| has(&format!("{b}_mean"))));
        if partner {
            continue;
        }
        out.push(match n.strip_suffix("_mean") {
            Some(base) => metric(df, base)?,
            None => plain_column(df, n)?,
        });
    }
    Ok(out)
}

/// The table with its filter box; `id` names the table (the box points at
/// it) and `configs` gives each row's `data-config`.
pub(crate) fn sortable(
    df: &DataFrame,
    id: &str,
    configs: &[Option<String>],
) -> PolarsResult<String> {
    let cols = columns(df)?;
    let mut h = String::new();
    let _ = write!(
        h,
        "<p class=\"tools\"><label>Filter rows: <input type=\"search\" data-filter=\"{id}\" \
         placeholder=\"e.g. student d2\"></label> <span class=\"count\" data-count=\"{id}\">{n} rows</span> \
         · click a column header to sort</p>\n<div class=\"scroll\"><table class=\"sortable\" id=\"{id}\">\n<thead><tr>",
        n = df.height()
    );
    for c in &cols {
        let _ = write!(
            h,
            "<th data-col=\"{}\" title=\"sort by {}\">{}</th>",
            esc(&c.key),
            esc(&c.header),
            esc(&c.header.replace('_', " "))
        );
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for i in 0..df.height() {
        let config = configs.get(i).cloned().flatten().unwrap_or_default();
        let _ = write!(h, "<tr data-config=\"{}\">", esc(&config));
        for c in &cols {
            let (text, v) = &c.cells[i];
            let class = if c.numeric { " class=\"num\"" } else { "" };
            let _ = write!(h, "<td{class} data-v=\"{}\">{}</td>", esc(v), esc(text));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table></div>\n");
    Ok(h)
}
