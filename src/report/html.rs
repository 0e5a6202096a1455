//! Assembly of `index.html`.

use std::fmt::Write as _;
use std::path::Path;

use engine::store::Store;
use engine::StageSpec;
use polars::prelude::*;

use super::overlays::DatasetSamples;
use super::ReportError;
use crate::plots::Plot;
use crate::tables::{self, Tables};

pub(crate) struct Inputs<'a> {
    pub store: &'a Store,
    pub specs: &'a [StageSpec],
    pub experiment_name: &'a str,
    pub experiment_toml_text: &'a str,
    pub gathered: &'a DataFrame,
    pub summary: &'a DataFrame,
    pub headline: &'a DataFrame,
    pub comparisons: &'a DataFrame,
    pub tables: &'a Tables,
    pub plots: &'a [Plot],
    pub samples: &'a [DatasetSamples],
    pub out_dir: &'a Path,
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = r#"
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1400px; }
h1 { margin-bottom: 0.2em; }
.meta { color: #555; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; }
th { background: #f0f0f0; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { overflow-x: auto; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figure img { max-width: 680px; border: 1px solid #ddd; }
.samples img { height: 64px; image-rendering: pixelated; }
.samples td { vertical-align: middle; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
code { font-size: 0.9em; }
"#;

/// Marks `<body data-images-ok="<loaded>/<total>">` once the page has loaded,
/// so a headless browser can check that no image is broken.
const IMAGE_CHECK: &str = r#"<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images-ok', ok + '/' + imgs.length);
});
</script>"#;

fn rel(out_dir: &Path, p: &Path) -> String {
    p.strip_prefix(out_dir)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

pub(crate) fn page(i: &Inputs<'_>) -> Result<String, ReportError> {
    let mut h = String::new();
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
         <title>kdpipe report: {name}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>kdpipe report: {name}</h1>\n\
         <p class=\"meta\">kdpipe {version} · {published} of {} stages computed · \
         numbers are means over seeds with {conf}% bootstrap intervals over test images × seeds \
         (or ± std over seeds); <em>missing</em> = stage not run yet</p>\n\
         <nav><a href=\"#headline\">Headline</a> · <a href=\"#comparisons\">Comparisons</a> · \
         <a href=\"#summary\">Full grid</a> · <a href=\"#pivots\">Pivots</a> · \
         <a href=\"#plots\">Plots</a> · <a href=\"#explanations\">Explanations</a> · \
         <a href=\"#runs\">Runs</a> · <a href=\"#stages\">Stages</a> · \
         <a href=\"#experiment\">Experiment</a></nav>\n",
        i.specs.len(),
        conf = i.tables.options.confidence * 100.0,
    );

    let opts = &i.tables.options;
    let _ = write!(
        h,
        "<h2 id=\"headline\">Headline</h2>\n<p>Per data set: the majority-class baseline, the \
         teacher, and per student depth the control (α = 0) and the distilled student whose \
         (T, α) has the best mean {} over seeds (<code>selected</code>). Test numbers never \
         select anything.</p>\n<div class=\"scroll\">{}</div>\n",
        esc(opts.select_on.name()),
        tables::html_table(&tables::compact(i.headline)?)?
    );
    let _ = write!(
        h,
        "<h2 id=\"comparisons\">Paired comparisons</h2>\n<p>Each distilled student against its \
         control and the teacher, on the same seeds and test images: differences with paired \
         bootstrap intervals, McNemar's exact test on pooled discordant pairs (Holm-adjusted over \
         the table), and the verdict on accuracy with equivalence margin ±{} \
         (<a href=\"tables/comparisons.csv\">csv</a>).</p>\n<div class=\"scroll\">{}</div>\n",
        opts.equivalence_margin,
        tables::html_table(i.comparisons)?
    );

    let _ = write!(
        h,
        "<h2 id=\"summary\">Full grid (exploratory)</h2>\n<p>Downloads: <a href=\"tables/summary.csv\">csv</a> · \
         <a href=\"tables/summary.json\">json</a> · <a href=\"tables/summary.md\">markdown</a> · \
         <a href=\"tables/runs.csv\">every run (csv)</a></p>\n<div class=\"scroll\">{}</div>\n",
        tables::html_table(&tables::compact(i.summary)?)?
    );

    h.push_str("<h2 id=\"pivots\">Pivots (rows: temperature, columns: student depth)</h2>\n");
    for metric in ["macro_f1", "gradcam_s"] {
        for p in tables::pivot(i.summary, metric)? {
            let _ = write!(
                h,
                "<h3>{}</h3>\n<div class=\"scroll\">{}</div>\n",
                esc(&tables::pivot_title(&p)),
                tables::html_table(&p.table)?
            );
        }
    }

    h.push_str("<h2 id=\"plots\">Plots</h2>\n");
    if i.plots.is_empty() {
        h.push_str("<p>No plot yet: no model has been evaluated.</p>\n");
    }
    for p in i.plots {
        let _ = writeln!(
            h,
            "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{} (<a href=\"{}\">SVG</a>)</figcaption></figure>",
            esc(&rel(i.out_dir, &p.png)),
            esc(&p.title),
            esc(&p.title),
            esc(&rel(i.out_dir, &p.svg)),
        );
    }

    h.push_str("<h2 id=\"explanations\">Explanations of sample test images</h2>\n");
    if i.samples.is_empty() {
        h.push_str("<p>No explanation yet.</p>\n");
    }
    for d in i.samples {
        let _ = write!(
            h,
            "<h3>{} (seed {})</h3>\n<div class=\"scroll\"><table class=\"samples\">\n<thead><tr><th>model</th><th>explain stage</th>",
            esc(&d.dataset),
            d.seed
        );
        let images: Vec<u32> = d
            .models
            .first()
            .map(|m| m.images.keys().cloned().collect())
            .unwrap_or_default();
        for n in &images {
            for m in &d.methods {
                let _ = write!(h, "<th>image {n}: {}</th>", esc(&m.replace('_', " ")));
            }
        }
        h.push_str("</tr></thead>\n<tbody>\n");
        for m in &d.models {
            let _ = write!(
                h,
                "<tr><td>{}</td><td><code title=\"{}\">{}</code></td>",
                esc(&m.model_stage),
                esc(&m.explain_fp),
                esc(m.explain_fp.get(..12).unwrap_or(&m.explain_fp))
            );
            for n in &images {
                for method in &d.methods {
                    match m.images.get(n).and_then(|x| x.get(method)) {
                        Some(src) => {
                            let _ = write!(
                                h,
                                "<td><img src=\"{}\" alt=\"{} image {n} {}\"></td>",
                                esc(src),
                                esc(&m.model_stage),
                                esc(method)
                            );
                        }
                        None => h.push_str("<td>missing</td>"),
                    }
                }
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody></table></div>\n");
    }

    let runs = i.gathered.select([
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
        "<h2 id=\"runs\">Runs and the fingerprints behind each number</h2>\n\
         <p>Hover a fingerprint for all 64 digits; the artifacts are in \
         <code>objects/&lt;fp[0:2]&gt;/&lt;fp&gt;/</code> of the store.</p>\n<div class=\"scroll\">{}</div>\n",
        tables::html_table(&runs)?
    );

    h.push_str("<h2 id=\"stages\">Every stage</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th>stage</th><th>kind</th><th>fingerprint</th><th>status</th></tr></thead>\n<tbody>\n");
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
    h.push_str("</tbody></table></div>\n");

    let _ = write!(
        h,
        "<h2 id=\"experiment\">Experiment file (<a href=\"experiment.toml\">experiment.toml</a>)</h2>\n<pre>{}</pre>\n\
         <p class=\"meta\">Written by kdpipe {version}.</p>\n{IMAGE_CHECK}\n</body>\n</html>\n",
        esc(i.experiment_toml_text)
    );
    Ok(h)
}
