//! Assembly of `index.html`, in the order of a results section: the
//! finding, the paired comparisons, the full sortable table, the sweep's
//! parallel coordinates, the pivots, the other plots, the explanation
//! gallery, then the provenance (runs, stages, experiment file).

use std::fmt::Write as _;
use std::path::Path;

use engine::store::Store;
use engine::StageSpec;

use super::assets::{SCRIPT, STYLE};
use super::finding::Row;
use super::format::esc;
use super::frame::strs;
use super::overlays::DatasetSamples;
use super::{gallery, pivots, table, top, ReportError};
use crate::plots::Plot;
use crate::tables::{self, Tables};

pub(crate) struct Inputs<'a> {
    pub store: &'a Store,
    pub specs: &'a [StageSpec],
    pub experiment_name: &'a str,
    pub experiment_toml_text: &'a str,
    pub tables: &'a Tables,
    pub finding: &'a [Row],
    pub datasets: &'a [String],
    pub finding_plot: Option<&'a Plot>,
    pub parallel: &'a [Plot],
    pub plots: &'a [Plot],
    pub samples: &'a [DatasetSamples],
    pub out_dir: &'a Path,
}

/// `p` relative to the report folder, with `/`.
pub(crate) fn rel(out_dir: &Path, p: &Path) -> String {
    p.strip_prefix(out_dir)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

fn figure(h: &mut String, out_dir: &Path, p: &Plot) {
    let _ = writeln!(
        h,
        "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{} (<a href=\"{}\">SVG</a>)</figcaption></figure>",
        esc(&rel(out_dir, &p.png)),
        esc(&p.title),
        esc(&p.title),
        esc(&rel(out_dir, &p.svg)),
    );
}

pub(crate) fn page(i: &Inputs<'_>) -> Result<String, ReportError> {
    let mut h = String::new();
    let t = i.tables;
    let published = i
        .specs
        .iter()
        .filter(|s| i.store.is_published(&s.fingerprint()))
        .count();
    let name = esc(i.experiment_name);
    let version = env!("CARGO_PKG_VERSION");
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>kdpipe report: {name}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>kdpipe report: {name}</h1>\n\
         <p class=\"meta\">kdpipe {version} · {published} of {} stages computed · \
         numbers are means over seeds with {conf} % bootstrap intervals over test images × seeds \
         (or ± std over seeds); <em>missing</em> = stage not run yet</p>\n\
         <nav><a href=\"#finding\">Finding</a> · <a href=\"#comparisons\">Comparisons</a> · \
         <a href=\"#summary\">Full table</a> · <a href=\"#parallel\">Sweep</a> · \
         <a href=\"#pivots\">Pivots</a> · <a href=\"#plots\">Plots</a> · \
         <a href=\"#explanations\">Explanations</a> · <a href=\"#runs\">Runs</a> · \
         <a href=\"#stages\">Stages</a> · <a href=\"#experiment\">Experiment</a></nav>\n",
        i.specs.len(),
        conf = t.options.confidence * 100.0,
    );
    let fig = i.finding_plot.map(|p| (p, rel(i.out_dir, &p.png)));
    h.push_str(&top::section(i.finding, i.datasets, fig, &t.options));

    let _ = write!(
        h,
        "<section id=\"comparisons\">\n<h2>Paired comparisons</h2>\n<p>Each distilled student \
         against its control and the teacher, on the same seeds and test images: differences \
         with paired bootstrap intervals, McNemar's exact test on pooled discordant pairs \
         (Holm-adjusted over the table), and the verdict on accuracy with equivalence margin \
         ±{} (<a href=\"tables/comparisons.csv\">csv</a>).</p>\n<div class=\"scroll\">{}</div>\n</section>\n",
        t.options.equivalence_margin,
        tables::html_table(&t.comparisons)?
    );

    let compact = tables::compact(&t.summary)?;
    let configs = strs(&t.summary, "config")?;
    let _ = write!(
        h,
        "<section id=\"summary\">\n<h2>Full table (exploratory)</h2>\n<p>Every configuration; \
         <code>selected</code> marks the students chosen on validation. Downloads: \
         <a href=\"tables/summary.csv\">csv</a> · <a href=\"tables/summary.json\">json</a> · \
         <a href=\"tables/summary.md\">markdown</a> · \
         <a href=\"tables/runs.csv\">every run (csv)</a></p>\n{}</section>\n",
        table::sortable(&compact, "full-table", &configs)?
    );

    h.push_str("<section id=\"parallel\">\n<h2>The sweep in parallel coordinates</h2>\n");
    if i.parallel.is_empty() {
        h.push_str("<p>No student has been evaluated and timed yet.</p>\n");
    }
    for p in i.parallel {
        figure(&mut h, i.out_dir, p);
    }
    h.push_str("</section>\n");

    h.push_str(&pivots::section(&t.summary)?);

    h.push_str("<section id=\"plots\">\n<h2>Plots</h2>\n");
    if i.plots.is_empty() {
        h.push_str("<p>No plot yet: no model has been evaluated.</p>\n");
    }
    for p in i.plots {
        figure(&mut h, i.out_dir, p);
    }
    h.push_str("</section>\n");

    h.push_str(&gallery::section(i.samples));

    let runs = t.gathered.select([
        "model_stage",
        "accuracy",
        "macro_f1",
        "gradcam_s",
        "gradcam_deletion_auc",
        "model_fp",
        "evaluate_fp",
        "explain_fp",
        "timing_fp",
    ])?;
    let _ = write!(
        h,
        "<section id=\"runs\">\n<h2>Runs and the fingerprints behind each number</h2>\n\
         <p>Hover a fingerprint for all 64 digits; the artifacts are in \
         <code>objects/&lt;fp[0:2]&gt;/&lt;fp&gt;/</code> of the store.</p>\n\
         <div class=\"scroll\">{}</div>\n</section>\n",
        tables::html_table(&runs)?
    );

    h.push_str(
        "<section id=\"stages\">\n<h2>Every stage</h2>\n<div class=\"scroll\"><table>\n<thead><tr>\
         <th>stage</th><th>kind</th><th>fingerprint</th><th>status</th></tr></thead>\n<tbody>\n",
    );
    for s in i.specs {
        let fp = s.fingerprint();
        let status = if i.store.is_published(&fp) {
            "computed"
        } else {
            "missing"
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{status}</td></tr>",
            esc(&s.name),
            esc(&s.kind),
            fp
        );
    }
    h.push_str("</tbody></table></div>\n</section>\n");

    let _ = write!(
        h,
        "<section id=\"experiment\">\n<h2>Experiment file (<a href=\"experiment.toml\">experiment.toml</a>)</h2>\n\
         <pre>{}</pre>\n</section>\n<p class=\"meta\">Written by kdpipe {version}.</p>\n{SCRIPT}\n</body>\n</html>\n",
        esc(i.experiment_toml_text)
    );
    Ok(h)
}
