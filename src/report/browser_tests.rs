//! The report in a real headless browser (Debian's `chromium`) on the
//! fixture store, through `tests/report_browser/driver.rs`: every image
//! loads, the full table sorts on a click (the page's own script), nothing
//! is wider than a 1280 px viewport, every gallery map panel is at least
//! 160 px wide, and the top section names the students `headline()`
//! selects. Skipped when chromium is absent, unless `CI=true`.
#![allow(clippy::unwrap_used)]

#[path = "../../tests/report_browser/driver.rs"]
mod driver;

use driver::{check_page, find_chromium, measure, screenshot};

use super::tests::write_report;
use crate::tables::fixture;
use crate::tables::Tables;

#[test]
fn browser_report_sorts_fits_1280px_and_names_the_selected_students() {
    let Some(bin) = find_chromium() else {
        return;
    };
    let (dir, index) = write_report(&[]);
    let f = fixture::build(&dir.path().join("again"), &[]);
    let t = Tables::build(&f.store, &f.specs, &f.index, &Default::default()).unwrap();
    let headline = t.headline().unwrap();
    let sel = headline.column("selected").unwrap().bool().unwrap().clone();
    let keys = headline.column("config").unwrap().str().unwrap().clone();
    let selected: Vec<String> = (0..headline.height())
        .filter(|&i| sel.get(i) == Some(true))
        .map(|i| keys.get(i).unwrap().to_owned())
        .collect();
    assert_eq!(selected.len(), fixture::DEPTHS.len());
    let configs = t.summary.column("config").unwrap().str().unwrap().clone();
    let acc = t
        .summary
        .column("accuracy_mean")
        .unwrap()
        .f64()
        .unwrap()
        .clone();
    let by_accuracy: Vec<(String, Option<f64>)> = (0..t.summary.height())
        .map(|i| (configs.get(i).unwrap().to_owned(), acc.get(i)))
        .collect();
    let r = measure(&bin, &index, &dir.path().join("profile"));
    check_page(&r, &selected, &by_accuracy);
    // The fixture's rows start out of accuracy order, so the click moved them.
    assert_ne!(r["before"], r["ascending"], "{r}");
    // Plots (the finding, the sweep, 7 others) and 2 images × 2 methods ×
    // (teacher + 2 selected students).
    assert_eq!(r["images"], 9 + 12, "{r}");
    assert_eq!(r["maps"].as_array().unwrap().len(), 12);
    let shot = dir.path().join("shot.png");
    screenshot(
        &bin,
        &index,
        &dir.path().join("profile"),
        &shot,
        (1280, 900),
    );
}
