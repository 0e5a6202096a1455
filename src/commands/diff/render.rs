//! [`DiffReport`] as a terminal table, markdown, CSV (one row per metric)
//! or JSON.

use std::fmt::Write;

use anyhow::Context;

use super::build::DiffReport;
use crate::cli::Format;
use crate::commands::why::field_value;
use crate::exit::Failure;

pub fn render(r: &DiffReport, format: Format) -> Result<String, Failure> {
    Ok(match format {
        Format::Table => table(r),
        Format::Markdown => markdown(r),
        Format::Csv => csv(r)?,
        Format::Json => {
            serde_json::to_string_pretty(r).context("failed to encode the diff")? + "\n"
        }
    })
}

/// "4 stage(s): a, b, c, …" (the first three names).
fn stages_text(stages: &[String]) -> String {
    let shown: Vec<&str> = stages.iter().take(3).map(String::as_str).collect();
    let more = if stages.len() > 3 { ", …" } else { "" };
    format!("{} stage(s): {}{more}", stages.len(), shown.join(", "))
}

fn counts(r: &DiffReport) -> String {
    let differ: std::collections::BTreeSet<&String> =
        r.inputs.iter().flat_map(|i| &i.stages).collect();
    format!(
        "{} identical, {} with own inputs changed, {} changed only upstream, {} only in A, {} only in B",
        r.identical,
        differ.len(),
        r.upstream_only.len(),
        r.only_a.len(),
        r.only_b.len()
    )
}

fn paired_text(p: &super::build::PairedDiff) -> String {
    format!(
        "{:+.4} [{:+.4}, {:+.4}] ({:.0} % paired bootstrap, {} resamples)",
        p.estimate,
        p.lower,
        p.upper,
        p.level * 100.0,
        p.resamples,
    )
}

fn table(r: &DiffReport) -> String {
    let mut out = String::new();
    let stages = r.compares == "stages";
    let _ = writeln!(out, "{} (A) vs {} (B)", r.a, r.b);
    if !stages {
        let _ = writeln!(out, "  stages: {}", counts(r));
        for (side, names) in [("A", &r.only_a), ("B", &r.only_b)] {
            if !names.is_empty() {
                let _ = writeln!(out, "  only in {side}: {}", stages_text(names));
            }
        }
    }
    if r.inputs.is_empty() {
        let _ = writeln!(out, "  inputs: identical (same fingerprint)");
    } else {
        let _ = writeln!(out, "  inputs that differ (A -> B):");
        for i in &r.inputs {
            let _ = write!(
                out,
                "    {}: {} -> {}",
                i.field,
                field_value(&i.a),
                field_value(&i.b)
            );
            if !stages {
                let _ = write!(out, "  ({})", stages_text(&i.stages));
            }
            out.push('\n');
        }
    }
    if !r.metrics.is_empty() {
        let _ = writeln!(out, "  test metrics (A, B, B - A):");
        let width = r.metrics.iter().map(|m| m.model.len()).max().unwrap_or(0);
        let mut last = "";
        for m in &r.metrics {
            if !stages && m.model != last {
                let _ = writeln!(out, "    {:width$}", m.model);
                last = &m.model;
            }
            let _ = writeln!(
                out,
                "    {:18} {:>8.4} {:>8.4} {:>+9.4}",
                m.metric, m.a, m.b, m.b_minus_a
            );
        }
    }
    for p in &r.paired {
        let who = if stages {
            String::new()
        } else {
            format!(" of {}", p.model)
        };
        let _ = writeln!(
            out,
            "  accuracy B - A{who} on the same {} test images: {}",
            p.images,
            paired_text(p)
        );
    }
    if !r.not_computed.is_empty() {
        let _ = writeln!(
            out,
            "  test metrics not computed yet for both sides of {} (run them first)",
            stages_text(&r.not_computed)
        );
    }
    out
}

fn markdown(r: &DiffReport) -> String {
    let mut out = String::new();
    let stages = r.compares == "stages";
    let _ = writeln!(out, "### `{}` (A) vs `{}` (B)\n", r.a, r.b);
    if !stages {
        let _ = writeln!(out, "Stages: {}.\n", counts(r));
    }
    if r.inputs.is_empty() {
        let _ = writeln!(out, "Inputs: identical (same fingerprint).\n");
    } else {
        if stages {
            let _ = writeln!(out, "| input | A | B |\n|---|---|---|");
        } else {
            let _ = writeln!(out, "| input | A | B | stages |\n|---|---|---|---|");
        }
        for i in &r.inputs {
            let _ = write!(
                out,
                "| `{}` | `{}` | `{}` |",
                i.field,
                field_value(&i.a),
                field_value(&i.b)
            );
            if !stages {
                let _ = write!(out, " {} |", stages_text(&i.stages));
            }
            out.push('\n');
        }
        out.push('\n');
    }
    if !r.metrics.is_empty() {
        let _ = writeln!(
            out,
            "| model | metric | A | B | B − A | paired 95 % interval |\n|---|---|---:|---:|---:|---|"
        );
        for m in &r.metrics {
            let paired = r
                .paired
                .iter()
                .find(|p| p.model == m.model && m.metric == "accuracy")
                .map_or_else(String::new, |p| {
                    format!("[{:+.4}, {:+.4}]", p.lower, p.upper)
                });
            let _ = writeln!(
                out,
                "| `{}` | {} | {:.4} | {:.4} | {:+.4} | {paired} |",
                m.model, m.metric, m.a, m.b, m.b_minus_a
            );
        }
        out.push('\n');
    }
    out
}

fn csv(r: &DiffReport) -> Result<String, Failure> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| Failure::from(anyhow::Error::from(e));
    w.write_record([
        "model",
        "metric",
        "a",
        "b",
        "b_minus_a",
        "paired_lower",
        "paired_upper",
    ])
    .map_err(io)?;
    for m in &r.metrics {
        let p = r
            .paired
            .iter()
            .find(|p| p.model == m.model && m.metric == "accuracy");
        w.write_record([
            m.model.clone(),
            m.metric.to_owned(),
            m.a.to_string(),
            m.b.to_string(),
            m.b_minus_a.to_string(),
            p.map_or_else(String::new, |p| p.lower.to_string()),
            p.map_or_else(String::new, |p| p.upper.to_string()),
        ])
        .map_err(io)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Failure::from(anyhow::anyhow!("failed to write CSV: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
