//! The top section of the page: the finding's sentences, its compact table
//! (one row per teacher and selected student, intervals on a second line so
//! the table fits the page) and its figure.

use std::fmt::Write as _;

use study::kd::CompareConfig;

use super::finding::{sentence, Paired, Row};
use super::format::{esc, interval, ms, num, times};
use crate::plots::Plot;

/// A number with its interval below it.
fn est(v: &[Option<f64>; 3]) -> String {
    match v {
        [Some(m), Some(l), Some(h)] => {
            let full = interval(Some(*m), Some(*l), Some(*h));
            let (mean, ci) = full.split_once(' ').unwrap_or((&full, ""));
            format!("{mean}<span class=\"ci\">{}</span>", esc(ci))
        }
        [m, _, _] => num(*m),
    }
}

fn vs(p: Option<&Paired>, what: &str) -> String {
    match p {
        Some(p) => format!(
            "{}<span class=\"ci\">{}</span>",
            esc(&interval(p.diff, p.lo, p.hi)),
            esc(&p.verdict)
        ),
        None => format!("<span class=\"ci\">{what}</span>"),
    }
}

fn row_html(r: &Row) -> String {
    let student = r.student.is_some();
    let dash = |s: String| if student { s } else { "—".to_owned() };
    let cells = [
        format!("<td class=\"model\">{}</td>", esc(&r.label())),
        format!(
            "<td class=\"num\">{}</td>",
            r.n_seeds.map_or_else(|| num(None), |n| format!("{n}"))
        ),
        format!("<td class=\"num\">{}</td>", est(&r.accuracy)),
        format!("<td class=\"num\">{}</td>", est(&r.macro_f1)),
        format!(
            "<td class=\"num\">{}</td>",
            dash(vs(r.vs_teacher.as_ref(), "no comparison"))
        ),
        format!(
            "<td class=\"num\">{}</td>",
            dash(vs(r.vs_control.as_ref(), "no comparison"))
        ),
        format!("<td class=\"num\">{}</td>", ms(r.gradcam_s)),
        format!(
            "<td class=\"num\">{}</td>",
            dash(format!(
                "Grad-CAM {}<span class=\"ci\">exp. gradients {}</span>",
                times(r.ratio_gradcam),
                times(r.ratio_eg)
            ))
        ),
        format!(
            "<td class=\"num\">{}</td>",
            dash(format!(
                "r {}<span class=\"ci\">IoU top-10 % {}</span>",
                num(r.pearson),
                num(r.iou)
            ))
        ),
    ];
    format!(
        "<tr data-config=\"{}\">{}</tr>\n",
        esc(&r.config),
        cells.concat()
    )
}

/// The whole top section.
pub(crate) fn section(
    rows: &[Row],
    datasets: &[String],
    figure: Option<(&Plot, String)>,
    opts: &CompareConfig,
) -> String {
    let margin = opts.equivalence_margin;
    let mut h = String::from("<section id=\"finding\">\n<h2>Finding</h2>\n");
    if rows.is_empty() {
        h.push_str("<p>No result yet: no teacher or student has been evaluated.</p>\n</section>\n");
        return h;
    }
    for d in datasets {
        let _ = writeln!(
            h,
            "<p class=\"claim\">{}</p>",
            esc(&sentence(rows, d, margin))
        );
    }
    let _ = writeln!(
        h,
        "<p class=\"meta\">Per data set, the teacher and, per depth, the distilled student whose \
         (T, α) has the best mean {} over seeds; test numbers never select. Intervals: {conf} % \
         bootstrap over test images × seeds; Δ is student minus reference, paired on the same \
         images and seeds, with the verdict of the equivalence and McNemar tests \
         (see <a href=\"#comparisons\">Paired comparisons</a>). Times are medians per image; \
         agreement is the Grad-CAM Pearson r and top-10 % IoU with the teacher's maps.</p>",
        esc(opts.select_on.name()),
        conf = opts.confidence * 100.0,
    );
    h.push_str(
        "<div class=\"scroll\"><table class=\"finding\" id=\"finding-table\">\n<thead><tr>\
         <th>model</th><th>seeds</th><th>accuracy</th><th>macro-F1</th>\
         <th>vs teacher (Δ accuracy)</th><th>vs control α=0 (Δ accuracy)</th>\
         <th>Grad-CAM time</th><th>explain time vs teacher</th>\
         <th>agreement with teacher</th></tr></thead>\n<tbody>\n",
    );
    for d in datasets {
        if datasets.len() > 1 {
            let _ = writeln!(
                h,
                "<tr class=\"group\"><th colspan=\"9\">{}</th></tr>",
                esc(d)
            );
        }
        for r in rows.iter().filter(|r| &r.dataset == d) {
            h.push_str(&row_html(r));
        }
    }
    h.push_str("</tbody></table></div>\n");
    if let Some((p, src)) = figure {
        let _ = writeln!(
            h,
            "<figure class=\"wide\"><img src=\"{}\" alt=\"{}\"><figcaption>{}: mean test accuracy \
             with its interval against the median Grad-CAM time per image (log scale).</figcaption></figure>",
            esc(&src),
            esc(&p.title),
            esc(&p.title)
        );
    }
    h.push_str("</section>\n");
    h
}
