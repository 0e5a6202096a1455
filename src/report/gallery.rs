//! The explanation gallery: per data set and sample test image, the teacher
//! and the selected students side by side on that same image, one row per
//! method, every map panel at least [`PANEL_PX`] wide, each caption saying
//! which class the map explains, the true and predicted labels, and whether
//! the model got the image right.

use std::fmt::Write as _;

use super::format::esc;
use super::overlays::{DatasetSamples, Map, ModelSamples, View};

/// Display width of one square panel of an overlay strip, in CSS pixels.
pub(crate) const PANEL_PX: u32 = 160;

fn method_title(m: &str) -> &str {
    match m {
        "gradcam" => "Grad-CAM",
        "expected_gradients" => "Expected gradients",
        "feature_maps" => "Feature maps (input, then one mean activation per block)",
        other => other,
    }
}

/// The model's name, with its stage and explain fingerprint as a tooltip.
fn name(m: &ModelSamples) -> String {
    format!(
        "<b title=\"{} · explain stage {}\">{}</b>",
        esc(&m.model_stage),
        esc(m.explain_fp.get(..12).unwrap_or(&m.explain_fp)),
        esc(&m.label)
    )
}

fn caption(model: &ModelSamples, truth: Option<&str>, view: &View, map: &Map) -> String {
    let explains = match &map.explains {
        Some(c) => format!("explains class “{c}”"),
        None => "not class-specific".to_owned(),
    };
    let verdict = match (truth, view.predicted.as_deref()) {
        (Some(t), Some(p)) if t == p => format!("true {t}, predicted {p}: right"),
        (Some(t), Some(p)) => format!("true {t}, predicted {p}: wrong"),
        (t, p) => format!(
            "true {}, predicted {}: not recorded in explain.json",
            t.unwrap_or("?"),
            p.unwrap_or("?")
        ),
    };
    format!("{}<br>{}<br>{}", name(model), esc(&explains), esc(&verdict))
}

fn figure(model: &ModelSamples, truth: Option<&str>, view: &View, map: &Map, alt: &str) -> String {
    let ok = match (truth, view.predicted.as_deref()) {
        (Some(t), Some(p)) if t == p => " right",
        (Some(_), Some(_)) => " wrong",
        _ => "",
    };
    let width = PANEL_PX * map.panels;
    format!(
        "<figure class=\"map{ok}\"><img src=\"{}\" alt=\"{}\" data-panels=\"{}\" \
         style=\"width:{width}px\"><figcaption>{}</figcaption></figure>",
        esc(&map.src),
        esc(alt),
        map.panels,
        caption(model, truth, view, map)
    )
}

/// The gallery section.
pub(crate) fn section(samples: &[DatasetSamples]) -> String {
    let mut h = String::from(
        "<section id=\"explanations\">\n<h2>Explanations of sample test images</h2>\n",
    );
    if samples.is_empty() {
        h.push_str("<p>No explanation yet.</p>\n</section>\n");
        return h;
    }
    h.push_str(
        "<p class=\"meta\">The teacher and the selected students on the same test images (each \
         strip: the input, then the map over it). Grad-CAM and expected gradients explain the \
         class the model predicted; a green caption marks a right prediction, a red one a wrong \
         one. Every model's overlays are in its explain stage's <code>overlays/</code>.</p>\n",
    );
    for d in samples {
        let _ = writeln!(h, "<h3>{} (seed {})</h3>", esc(&d.dataset), d.seed);
        for (test_index, truth) in &d.images {
            let _ = writeln!(
                h,
                "<h4>Test image {test_index} · true label: {}</h4>",
                esc(truth.as_deref().unwrap_or("not recorded"))
            );
            for method in &d.methods {
                let _ = write!(
                    h,
                    "<div class=\"gallery\" data-method=\"{}\"><p class=\"method\">{}</p>",
                    esc(method),
                    esc(method_title(method))
                );
                for m in &d.models {
                    let shown = m
                        .views
                        .get(test_index)
                        .and_then(|v| Some((v, v.maps.get(method)?)));
                    match shown {
                        Some((view, map)) => {
                            let alt = format!("{} test image {test_index} {method}", m.label);
                            h.push_str(&figure(m, truth.as_deref(), view, map, &alt));
                        }
                        None => {
                            let _ = write!(
                                h,
                                "<figure class=\"map\"><figcaption>{}<br>not explained \
                                 on this image</figcaption></figure>",
                                name(m)
                            );
                        }
                    }
                }
                h.push_str("</div>\n");
            }
        }
    }
    h.push_str("</section>\n");
    h
}
