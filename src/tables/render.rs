//! Output formats of a table: an aligned terminal table, markdown, csv, json
//! (and HTML for the report). Terminal, markdown and HTML show a
//! `X_mean` / `X_lo` / `X_hi` triple as one column `X` with cells like
//! `0.842 [0.712, 0.931]` (an interval), else a `X_mean` / `X_std` pair as
//! `0.842 ± 0.013`; csv and json keep the raw columns. A missing number
//! reads `missing`.

use comfy_table::{presets, CellAlignment, Table};
use polars::prelude::*;

use super::{PivotTable, TablesError};

/// Output format of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Markdown,
    Csv,
    Json,
}

/// Columns whose null means "not applicable" rather than "not run yet".
const KEY_COLUMNS: [&str; 10] = [
    "dataset",
    "model",
    "method",
    "arch",
    "depth",
    "temperature",
    "alpha",
    "control",
    "seed",
    "model_stage",
];

/// One raw cell value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Raw {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

pub(crate) fn raw(c: &Column, i: usize) -> Result<Raw, TablesError> {
    Ok(match c.get(i)? {
        AnyValue::Null => Raw::Null,
        AnyValue::String(s) => Raw::Str(s.to_owned()),
        AnyValue::StringOwned(s) => Raw::Str(s.to_string()),
        AnyValue::Boolean(b) => Raw::Bool(b),
        AnyValue::Int8(v) => Raw::Int(v.into()),
        AnyValue::Int16(v) => Raw::Int(v.into()),
        AnyValue::Int32(v) => Raw::Int(v.into()),
        AnyValue::Int64(v) => Raw::Int(v),
        AnyValue::UInt8(v) => Raw::Int(v.into()),
        AnyValue::UInt16(v) => Raw::Int(v.into()),
        AnyValue::UInt32(v) => Raw::Int(v.into()),
        AnyValue::UInt64(v) => Raw::Int(v as i64),
        AnyValue::Float32(v) if v.is_finite() => Raw::Float(v.into()),
        AnyValue::Float64(v) if v.is_finite() => Raw::Float(v),
        AnyValue::Float32(_) | AnyValue::Float64(_) => Raw::Null,
        other => Raw::Str(other.to_string()),
    })
}

/// A table as display strings.
pub(crate) struct Display {
    pub headers: Vec<String>,
    /// Per column: right-aligned (numeric).
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
    /// Per column: the underlying column names (for the HTML fingerprints).
    pub sources: Vec<String>,
}

/// Decimals for a float column: three significant digits of its smallest
/// non-zero magnitude, at least 3 and at most 6.
fn decimals(values: &[Raw]) -> usize {
    let min = values
        .iter()
        .filter_map(|v| match v {
            Raw::Float(f) if *f != 0.0 => Some(f.abs()),
            _ => None,
        })
        .fold(f64::INFINITY, f64::min);
    if !min.is_finite() {
        return 3;
    }
    (2 - min.log10().floor() as i64).clamp(3, 6) as usize
}

fn fmt_value(v: &Raw, dec: usize, key: bool) -> String {
    match v {
        Raw::Null if key => "-".to_owned(),
        Raw::Null => "missing".to_owned(),
        Raw::Str(s) => s.clone(),
        Raw::Int(i) => i.to_string(),
        Raw::Bool(b) => b.to_string(),
        Raw::Float(f) if key => format!("{f}"),
        Raw::Float(f) => format!("{f:.dec$}"),
    }
}

fn column_values(c: &Column) -> Result<Vec<Raw>, TablesError> {
    (0..c.len()).map(|i| raw(c, i)).collect()
}

pub(crate) fn display(df: &DataFrame) -> Result<Display, TablesError> {
    let mut out = Display {
        headers: Vec::new(),
        numeric: Vec::new(),
        rows: vec![Vec::new(); df.height()],
        sources: Vec::new(),
    };
    for c in df.columns() {
        let name = c.name().as_str();
        let partner_of_mean = ["_std", "_lo", "_hi"].iter().any(|suffix| {
            name.strip_suffix(suffix)
                .is_some_and(|base| df.column(&format!("{base}_mean")).is_ok())
        });
        if partner_of_mean {
            continue;
        }
        let values = column_values(c)?;
        let key = KEY_COLUMNS.contains(&name);
        let numeric = c.dtype().is_primitive_numeric();
        let std_col = name
            .strip_suffix("_mean")
            .and_then(|b| df.column(&format!("{b}_std")).ok());
        let header = match (name.strip_suffix("_mean"), std_col.is_some()) {
            (Some(base), true) => base.to_owned(),
            _ => name.to_owned(),
        };
        let dec = decimals(&values);
        let stds = std_col.map(column_values).transpose()?;
        let bound = |side: &str| {
            name.strip_suffix("_mean")
                .and_then(|b| df.column(&format!("{b}_{side}")).ok())
                .map(column_values)
                .transpose()
        };
        let bounds = match (bound("lo")?, bound("hi")?) {
            (Some(lo), Some(hi)) => Some((lo, hi)),
            _ => None,
        };
        let header = if bounds.is_some() {
            name.trim_end_matches("_mean").to_owned()
        } else {
            header
        };
        for (i, v) in values.iter().enumerate() {
            let mut cell = fmt_value(v, dec, key);
            // An interval, when there is one, says more than the seed spread.
            if let (Some((lo, hi)), Raw::Float(_)) = (&bounds, v) {
                if let (Raw::Float(l), Raw::Float(h)) = (&lo[i], &hi[i]) {
                    cell = format!("{cell} [{l:.dec$}, {h:.dec$}]");
                }
                out.rows[i].push(cell);
                continue;
            }
            // A time measured once per architecture (`timing_scope =
            // "architecture"`) is shared by every seed: it has no spread.
            let once = header.ends_with("_s");
            if let (Some(stds), Raw::Float(_)) = (&stds, v) {
                if let Raw::Float(s) = &stds[i] {
                    if !(once && *s == 0.0) {
                        cell = format!("{cell} ± {s:.dec$}");
                    }
                }
            }
            out.rows[i].push(cell);
        }
        out.headers.push(header);
        out.numeric.push(numeric);
        out.sources.push(name.to_owned());
    }
    Ok(out)
}

/// Renders a table in `format`.
pub fn render(df: &DataFrame, format: Format) -> Result<String, TablesError> {
    match format {
        Format::Table => Ok(terminal(&display(df)?)),
        Format::Markdown => Ok(markdown(&display(df)?)),
        Format::Csv => csv_text(df),
        Format::Json => json_text(df),
    }
}

fn terminal(d: &Display) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(d.headers.clone());
    for row in &d.rows {
        t.add_row(row.clone());
    }
    for (i, numeric) in d.numeric.iter().enumerate() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(if *numeric {
                CellAlignment::Right
            } else {
                CellAlignment::Left
            });
        }
    }
    t.to_string()
}

fn markdown(d: &Display) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = String::new();
    out.push_str(&format!(
        "| {} |\n",
        d.headers
            .iter()
            .map(|h| esc(h))
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    out.push_str(&format!(
        "|{}|\n",
        d.numeric
            .iter()
            .map(|n| if *n { " ---: " } else { " --- " })
            .collect::<Vec<_>>()
            .join("|")
    ));
    for row in &d.rows {
        out.push_str(&format!(
            "| {} |\n",
            row.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
        ));
    }
    out
}

fn csv_text(df: &DataFrame) -> Result<String, TablesError> {
    let werr = |e: csv::Error| TablesError::Write {
        format: "csv",
        source: Box::new(e),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(df.get_column_names().iter().map(|n| n.as_str()))
        .map_err(werr)?;
    let cols: Vec<Vec<Raw>> = df
        .columns()
        .iter()
        .map(column_values)
        .collect::<Result<_, _>>()?;
    for i in 0..df.height() {
        w.write_record(cols.iter().map(|c| match &c[i] {
            Raw::Null => String::new(),
            Raw::Str(s) => s.clone(),
            Raw::Int(v) => v.to_string(),
            Raw::Float(v) => v.to_string(),
            Raw::Bool(b) => b.to_string(),
        }))
        .map_err(werr)?;
    }
    let bytes = w.into_inner().map_err(|e| TablesError::Write {
        format: "csv",
        source: Box::new(e.into_error()),
    })?;
    String::from_utf8(bytes).map_err(|e| TablesError::Write {
        format: "csv",
        source: Box::new(e),
    })
}

fn json_text(df: &DataFrame) -> Result<String, TablesError> {
    use serde_json::{Map, Value};
    let cols: Vec<Vec<Raw>> = df
        .columns()
        .iter()
        .map(column_values)
        .collect::<Result<_, _>>()?;
    let names = df.get_column_names();
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let mut obj = Map::new();
        for (name, c) in names.iter().zip(&cols) {
            let v = match &c[i] {
                Raw::Null => Value::Null,
                Raw::Str(s) => Value::from(s.clone()),
                Raw::Int(v) => Value::from(*v),
                Raw::Float(v) => Value::from(*v),
                Raw::Bool(b) => Value::from(*b),
            };
            obj.insert(name.to_string(), v);
        }
        rows.push(Value::Object(obj));
    }
    serde_json::to_string_pretty(&rows).map_err(|e| TablesError::Write {
        format: "json",
        source: Box::new(e),
    })
}

/// Renders pivot views: a titled table per (dataset, alpha) for the terminal
/// and markdown; one long csv / json table with `dataset` and `alpha` columns.
pub fn render_pivots(tables: &[PivotTable], format: Format) -> Result<String, TablesError> {
    match format {
        Format::Table | Format::Markdown => {
            let mut out = String::new();
            for t in tables {
                let title = pivot_title(t);
                let body = render(&t.table, format)?;
                if format == Format::Markdown {
                    out.push_str(&format!("### {title}\n\n{body}\n"));
                } else {
                    out.push_str(&format!("{title}\n{body}\n\n"));
                }
            }
            Ok(out)
        }
        Format::Csv | Format::Json => {
            let mut long: Option<DataFrame> = None;
            for t in tables {
                let n = t.table.height();
                let mut cols = vec![
                    Column::new("dataset".into(), vec![t.dataset.clone(); n]),
                    Column::new("alpha".into(), vec![t.alpha; n]),
                    Column::new("metric".into(), vec![t.metric.clone(); n]),
                ];
                cols.extend(t.table.columns().iter().cloned());
                let df = DataFrame::new(n, cols)?;
                long = Some(match long {
                    None => df,
                    Some(mut acc) => {
                        acc.vstack_mut(&df)?;
                        acc
                    }
                });
            }
            render(&long.unwrap_or_default(), format)
        }
    }
}

/// `brain-mri · α=0.5 · macro_f1 (rows: temperature, columns: depth)`.
pub(crate) fn pivot_title(t: &PivotTable) -> String {
    let alpha = match (t.alpha == 0.0, t.method.as_deref()) {
        (true, _) => "α=0 (control)".to_owned(),
        (false, None) => format!("α={}", t.alpha),
        (false, Some(m)) => format!("{m} · α={}", t.alpha),
    };
    format!(
        "{} · {} · {} (rows: temperature, columns: depth)",
        t.dataset, alpha, t.metric
    )
}

/// An HTML `<table>`; `*_fp` columns show the short fingerprint with the
/// full one as a tooltip.
pub(crate) fn html_table(df: &DataFrame) -> Result<String, TablesError> {
    let d = display(df)?;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut out = String::from("<table>\n<thead><tr>");
    for h in &d.headers {
        out.push_str(&format!("<th>{}</th>", esc(h)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &d.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if d.numeric[i] { " class=\"num\"" } else { "" };
            if d.sources[i].ends_with("_fp") && cell.len() == 64 {
                out.push_str(&format!(
                    "<td><code title=\"{}\">{}</code></td>",
                    esc(cell),
                    esc(&cell[..12])
                ));
            } else {
                out.push_str(&format!("<td{class}>{}</td>", esc(cell)));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    Ok(out)
}
