//! Report tests on the fixture store: the folder is self-contained and
//! complete, the top section states the finding for the selected students,
//! pivots carry no meaningless spread, and the gallery says what each map
//! explains. The browser tests are in `browser_tests.rs`.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use engine::store::Store;

use crate::tables::fixture::{self, Model};
use crate::tables::Tables;

const TOML: &str = "[experiment]\nname = \"fixture\"\n# <script> must be escaped\n";

pub(crate) fn write_report(unpublished: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let f = fixture::build(&store, unpublished);
    let out = dir.path().join("report");
    let index = super::write(
        &f.store,
        &f.specs,
        &f.index,
        &Default::default(),
        TOML,
        "fixture",
        &out,
    )
    .expect("write report");
    (dir, index)
}

fn img_sources(html: &str) -> Vec<String> {
    html.split("<img src=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next().map(str::to_owned))
        .collect()
}

/// The text between `<section id="{id}">` and its `</section>`.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no section {id}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap()]
}

/// The configuration keys `headline()` selects, in order.
fn selected_keys(store: &std::path::Path) -> Vec<String> {
    let f = fixture::build(store, &[]);
    let t = Tables::build(&f.store, &f.specs, &f.index, &Default::default()).unwrap();
    let h = t.headline().unwrap();
    let sel = h.column("selected").unwrap().bool().unwrap().clone();
    let keys = h.column("config").unwrap().str().unwrap().clone();
    (0..h.height())
        .filter(|&i| sel.get(i) == Some(true))
        .map(|i| keys.get(i).unwrap().to_owned())
        .collect()
}

#[test]
fn report_is_self_contained_and_complete() {
    let (_d, index) = write_report(&["explain/student/toy/s0/d2-T4-a0.5"]);
    let html = std::fs::read_to_string(&index).expect("index.html");
    let root = index.parent().expect("report dir");
    // The teacher's accuracy over the three seeds: 0.95, 0.96, 0.97, shown
    // with its bootstrap interval.
    let accs: Vec<f64> = fixture::SEEDS
        .iter()
        .map(|&s| fixture::accuracy(Model::Teacher, s))
        .collect();
    let mean = accs.iter().sum::<f64>() / 3.0;
    assert!(
        html.contains(&format!("{mean:.3} [")),
        "teacher accuracy missing"
    );
    for section in [
        "id=\"finding\"",
        "id=\"comparisons\"",
        "id=\"full-table\"",
        "id=\"parallel\"",
        "not shown equivalent",
    ] {
        assert!(html.contains(section), "{section} missing");
    }
    assert!(root.join("tables/comparisons.csv").is_file());
    assert!(html.contains(concat!("kdpipe ", env!("CARGO_PKG_VERSION"))));
    assert!(html.contains("&lt;script&gt; must be escaped"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    let srcs = img_sources(&html);
    // The finding, the sweep, 3 plots + 2 confusion + 2 curves.
    let plots = srcs.iter().filter(|s| s.starts_with("plots/")).count();
    assert_eq!(plots, 9, "{srcs:?}");
    for s in &srcs {
        assert!(!s.starts_with('/'), "absolute link {s}");
        assert!(root.join(s).is_file(), "broken link {s}");
    }
    for p in srcs.iter().filter(|s| s.starts_with("plots/")) {
        assert!(root.join(p).with_extension("svg").is_file());
    }
    assert!(root.join("experiment.toml").is_file());
    assert!(root.join("tables/summary.csv").is_file());
    // Every stage's fingerprint is listed.
    let specs = fixture::build(&root.join("scratch"), &[]).specs;
    for s in &specs {
        assert!(html.contains(s.fingerprint().as_str()), "{}", s.name);
    }
}

#[test]
fn report_top_states_the_finding_for_the_selected_students() {
    let (d, index) = write_report(&[]);
    let html = std::fs::read_to_string(&index).unwrap();
    let top = section(&html, "finding");
    // The finding comes first, before any other section.
    assert!(html.find("id=\"finding\"").unwrap() < html.find("id=\"comparisons\"").unwrap());
    let selected = selected_keys(&d.path().join("again"));
    assert_eq!(selected.len(), fixture::DEPTHS.len());
    let rows: Vec<&str> = top
        .split("<tr data-config=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    let mut want = vec!["toy|teacher".to_owned()];
    want.extend(selected.iter().cloned());
    assert_eq!(rows, want);
    // One sentence for the data set, naming each selected student with its
    // verdict against the teacher and its Grad-CAM time ratio.
    let claims: Vec<&str> = top.split("<p class=\"claim\">").skip(1).collect();
    assert_eq!(claims.len(), 1, "{top}");
    let claim = claims[0].split("</p>").next().unwrap();
    assert!(
        claim.starts_with("On toy, the teacher's test accuracy is "),
        "{claim}"
    );
    for key in &selected {
        let parts: Vec<&str> = key.split('|').collect();
        let (d, t, a) = (&parts[1][1..], &parts[2][1..], &parts[3][1..]);
        assert!(
            claim.contains(&format!("the depth-{d} student (T={t}, α={a}) is")),
            "{key}: {claim}"
        );
    }
    // The fixture's students are clearly below the teacher: the verdict
    // says "less accurate", never "equivalent".
    assert!(
        claim.contains("is less accurate than the teacher"),
        "{claim}"
    );
    assert!(
        !claim.contains("equivalent to the teacher in accuracy"),
        "{claim}"
    );
    assert!(claim.contains("× the teacher's Grad-CAM time"), "{claim}");
    // The figure of the finding is in the top section.
    assert!(top.contains("<img src=\"plots/finding.png\""), "{top}");
}

#[test]
fn report_pivots_and_full_table_show_no_zero_spread() {
    let (_d, index) = write_report(&[]);
    let html = std::fs::read_to_string(&index).unwrap();
    // A spread whose digits are all zero ("± 0", "± 0.000").
    let zero_spread = |s: &str| {
        s.split("± ").skip(1).any(|rest| {
            let digits: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            !digits.is_empty() && digits.chars().all(|c| c == '0' || c == '.')
        })
    };
    assert!(zero_spread("<td>2.50 ± 0.00</td>") && !zero_spread("<td>0.842 ± 0.013</td>"));
    let mut spreads = 0;
    for id in ["pivots", "summary", "finding"] {
        let s = section(&html, id);
        assert!(!zero_spread(s), "{id}: a zero spread is shown");
        spreads += s.matches("± ").count();
    }
    assert!(spreads > 0, "no spread at all");
    // Grad-CAM times are in ms with three significant digits: the teacher's
    // median 0.02 s × (1, 1.1, 1.2) has mean 22.0 ms.
    let pivots = section(&html, "pivots");
    assert!(pivots.contains("Grad-CAM time (ms)"), "{pivots}");
    let summary = section(&html, "summary");
    assert!(summary.contains(">22.0 ± 2.0<"), "{summary}");
}

#[test]
fn report_gallery_shows_teacher_and_selected_students_on_the_same_images() {
    let (d, index) = write_report(&[]);
    let html = std::fs::read_to_string(&index).unwrap();
    let g = section(&html, "explanations");
    let selected = selected_keys(&d.path().join("again"));
    // The fixture explains test images 3 (true "no") and 7 (true "yes"),
    // predicted right by every model.
    for (n, truth) in [(3, "no"), (7, "yes")] {
        assert!(
            g.contains(&format!("Test image {n} · true label: {truth}")),
            "{g}"
        );
    }
    let figures: Vec<&str> = g.split("<figure class=\"map").skip(1).collect();
    assert_eq!(figures.len(), 2 * 2 * (1 + selected.len()), "{g}");
    for f in &figures {
        assert!(f.contains("style=\"width:"), "{f}");
        let px: u32 = f
            .split("style=\"width:")
            .nth(1)
            .unwrap()
            .split("px")
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let panels: u32 = f
            .split("data-panels=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(px / panels >= 160, "{f}");
        assert!(f.contains(": right"), "{f}");
    }
    assert!(g.contains("explains class “no”"), "{g}");
    assert!(g.contains("explains class “yes”"), "{g}");
    assert!(g.contains("not class-specific"), "feature maps: {g}");
    assert!(g.contains("true no, predicted no: right"), "{g}");
    assert!(g.contains("\">teacher</b>"));
    assert_eq!(g.matches("\">depth-").count(), 2 * 2 * selected.len());
}

#[test]
fn report_of_an_unrun_experiment_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = fixture::build(&dir.path().join("elsewhere"), &[]);
    let index = super::write(
        &Store::at(&dir.path().join("empty")),
        &f.specs,
        &f.index,
        &Default::default(),
        TOML,
        "fixture",
        &dir.path().join("r"),
    )
    .expect("write report");
    let html = std::fs::read_to_string(index).expect("index.html");
    assert!(img_sources(&html).is_empty());
    assert!(html.contains("No plot yet"));
    assert!(html.contains("the teacher has not been evaluated yet"));
    assert!(html.contains("0 of"));
}

#[test]
fn report_sentence_says_the_verdict_and_flags_a_one_class_model() {
    use super::finding::{sentence, Paired, Row};
    let row = |student, collapsed, verdict: &str| Row {
        dataset: "d".into(),
        config: String::new(),
        student,
        method: None,
        n_seeds: Some(1.0),
        n_collapsed: Some(collapsed),
        accuracy: [Some(0.6), Some(0.5), Some(0.7)],
        macro_f1: [None; 3],
        gradcam_s: None,
        ratio_gradcam: Some(0.5),
        ratio_eg: None,
        pearson: None,
        iou: None,
        vs_teacher: Some(Paired {
            diff: Some(0.0),
            lo: Some(-0.01),
            hi: Some(0.01),
            verdict: verdict.into(),
        }),
        vs_control: None,
    };
    let s = sentence(
        &[
            row(None, 1.0, ""),
            row(Some((2, 4.0, 0.5)), 0.0, "equivalent"),
            row(Some((3, 1.0, 0.9)), 0.0, "not shown equivalent"),
        ],
        "d",
        0.02,
    );
    assert_eq!(
        s,
        "On d, the teacher's test accuracy is 0.600 [0.500, 0.700] (it predicts one class \
         for every test image on 1 of 1 seed); the depth-2 student (T=4, α=0.5) is equivalent \
         to the teacher in accuracy within ±0.02 (accuracy difference 0.000 [-0.010, 0.010]), \
         at 0.500× the teacher's Grad-CAM time; the depth-3 student (T=1, α=0.9) is neither \
         shown equivalent to the teacher within ±0.02 nor shown different from it (accuracy \
         difference 0.000 [-0.010, 0.010]), at 0.500× the teacher's Grad-CAM time."
    );
}

#[test]
fn report_label_names_a_method_other_than_hintons() {
    use super::finding::Row;
    let row = |method: Option<&str>| Row {
        dataset: "d".into(),
        config: String::new(),
        student: Some((4, 4.0, 0.5)),
        method: method.map(str::to_owned),
        n_seeds: Some(1.0),
        n_collapsed: Some(0.0),
        accuracy: [None; 3],
        macro_f1: [None; 3],
        gradcam_s: None,
        ratio_gradcam: None,
        ratio_eg: None,
        pearson: None,
        iou: None,
        vs_teacher: None,
        vs_control: None,
    };
    assert_eq!(row(Some("hinton")).label(), "depth-4 student (T=4, α=0.5)");
    assert_eq!(row(None).label(), "depth-4 student (T=4, α=0.5)");
    assert_eq!(
        row(Some("fitnets")).label(),
        "depth-4 FitNets student (T=4, α=0.5)"
    );
    assert_eq!(row(Some("at")).label(), "depth-4 AT student (T=4, α=0.5)");
}
