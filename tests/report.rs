//! The report of a tiny real study through the real binaries (the built-in
//! brain MRI set at 16 px, models of a few channels, as in `study.rs`), in
//! headless Chromium at 1280 px: every image loads, the full table sorts on a
//! click, no element is wider than the viewport, every gallery map panel is
//! at least 160 px wide, and the top section names the student of each depth
//! that `compare` marks selected (`Tables::headline`'s selection). Skipped
//! when chromium is absent, unless `CI=true`.

#![allow(clippy::unwrap_used)] // tests panic on purpose

mod common;
#[path = "report_browser/driver.rs"]
mod driver;

use common::*;
use serde_json::Value;

/// The study (also the one `docs/report-top.png` shows).
const STUDY: &str = include_str!("report_browser/tiny.toml");

#[test]
fn tiny_study_report_reads_in_a_browser() {
    let Some(bin) = driver::find_chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let exp = dir.path().join("tiny.toml");
    std::fs::write(&exp, STUDY).unwrap();
    let exp_s = exp.to_str().unwrap();
    ok(&kdpipe(&store, &["run", exp_s, "--jobs", "2", "--plain"]));
    let out = dir.path().join("report");
    let r = kdpipe(&store, &["report", exp_s, "--out", out.to_str().unwrap()]);
    ok(&r);
    let index = out.join("index.html");
    assert!(
        stdout(&r).contains(index.to_str().unwrap()),
        "{}",
        stdout(&r)
    );

    // What the tables select and measure, from `compare` (the same
    // `Tables` the report reads).
    let json = kdpipe(&store, &["compare", exp_s, "--format", "json"]);
    ok(&json);
    let rows: Vec<Value> = serde_json::from_str(&stdout(&json)).unwrap();
    let config = |r: &Value| r["config"].as_str().unwrap().to_owned();
    let selected: Vec<String> = rows
        .iter()
        .filter(|r| r["selected"] == true)
        .map(config)
        .collect();
    assert_eq!(
        selected,
        ["brain-mri|d1|T2|a0.5", "brain-mri|d2|T2|a0.5"],
        "one distilled configuration per depth is the selected one"
    );
    let by_accuracy: Vec<(String, Option<f64>)> = rows
        .iter()
        .map(|r| (config(r), r["accuracy_mean"].as_f64()))
        .collect();

    let m = driver::measure(&bin, &index, &dir.path().join("profile"));
    driver::check_page(&m, &selected, &by_accuracy);
    // The finding, the sweep, 3 plots + 2 confusion + 2 curves, and 2 test
    // images × 3 methods × (teacher + 2 selected students).
    assert_eq!(m["images"], 9 + 18, "{m}");
    assert_eq!(m["maps"].as_array().unwrap().len(), 18, "{m}");
    let html = std::fs::read_to_string(&index).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(html.contains("explains class “"), "gallery captions");
    let shot = dir.path().join("top.png");
    driver::screenshot(
        &bin,
        &index,
        &dir.path().join("profile"),
        &shot,
        (1280, 900),
    );
}
