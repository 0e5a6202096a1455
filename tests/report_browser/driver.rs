//! Driving headless Chromium for the report's browser tests, shared by the
//! fixture test (`src/report/browser_tests.rs`) and the tiny real study
//! (`tests/report.rs`), both of which include this file by path: run the
//! page with `harness.js` injected, read back what it measured, and assert
//! what every report must satisfy at 1280 px.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const HARNESS: &str = include_str!("harness.js");

/// Runs `cmd`, killing it after `limit`; returns success and its stdout.
pub fn run_with_timeout(mut cmd: Command, limit: Duration) -> (bool, String) {
    let out_file = tempfile::NamedTempFile::new().expect("tempfile");
    let mut child = cmd
        .stdout(out_file.reopen().expect("reopen"))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn chromium");
    let start = Instant::now();
    let ok = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.success();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (
        ok,
        std::fs::read_to_string(out_file.path()).unwrap_or_default(),
    )
}

/// Chromium on `PATH`; `None` (test skipped) unless `CI=true`.
pub fn find_chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("chromium is not installed, and CI=true requires the browser test");
        }
        eprintln!("SKIPPED browser test: chromium not found (apt-get install chromium)");
    }
    found
}

fn chromium(bin: &Path, profile: &Path) -> Command {
    let mut c = Command::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--hide-scrollbars",
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Loads a copy of `index` with the harness injected and returns what the
/// harness measured.
pub fn measure(bin: &Path, index: &Path, profile: &Path) -> Value {
    let html = std::fs::read_to_string(index).unwrap();
    let probe = index.with_file_name("harness.html");
    let injected = html.replace("</body>", &format!("<script>{HARNESS}</script>\n</body>"));
    std::fs::write(&probe, injected).unwrap();
    let mut dump = chromium(bin, profile);
    dump.arg("--window-size=1280,900")
        .arg("--dump-dom")
        .arg(format!("file://{}", probe.display()));
    let (ok, dom) = run_with_timeout(dump, Duration::from_secs(120));
    assert!(ok, "chromium --dump-dom failed");
    let json = dom
        .rsplit("<pre id=\"kd-test\">")
        .next()
        .filter(|_| dom.contains("<pre id=\"kd-test\">"))
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| {
            panic!(
                "no harness result; DOM starts {:?}",
                &dom[..dom.len().min(300)]
            )
        });
    let json = json
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| {
        panic!(
            "harness result is not JSON ({e}): {:?}",
            &json[..json.len().min(400)]
        )
    })
}

/// A screenshot of `index` at `width` × `height`; asserts it is a PNG of
/// that size with more than 100 colours (not blank).
pub fn screenshot(bin: &Path, index: &Path, profile: &Path, shot: &Path, size: (u32, u32)) {
    let mut cmd = chromium(bin, profile);
    cmd.arg(format!("--screenshot={}", shot.display()))
        .arg(format!("--window-size={},{}", size.0, size.1))
        .arg(format!("file://{}", index.display()));
    let (ok, _) = run_with_timeout(cmd, Duration::from_secs(120));
    assert!(ok, "chromium --screenshot failed");
    let img = image::open(shot).expect("screenshot is a PNG").to_rgb8();
    assert_eq!(img.dimensions(), size);
    let mut colors: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    colors.sort_unstable();
    colors.dedup();
    assert!(
        colors.len() > 100,
        "screenshot looks blank: {} colours",
        colors.len()
    );
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The assertions every browser test makes on a harness result; `selected`
/// are the configuration keys `headline()` selects, `by_accuracy` every
/// configuration's mean accuracy (`None` when missing).
pub fn check_page(r: &Value, selected: &[String], by_accuracy: &[(String, Option<f64>)]) {
    assert_eq!(r["innerWidth"], 1280, "{r}");
    assert!(r["images"].as_u64().unwrap() > 0, "the report has no image");
    assert_eq!(strings(&r["broken"]), Vec::<String>::new(), "broken images");
    assert_eq!(
        strings(&r["wide"]),
        Vec::<String>::new(),
        "wider than 1280 px"
    );
    assert!(r["scrollWidth"].as_u64().unwrap() <= 1280, "{r}");
    let maps = r["maps"].as_array().unwrap();
    assert!(!maps.is_empty(), "no gallery map");
    for m in maps {
        assert!(m.as_f64().unwrap() >= 160.0, "a map panel is {m} px wide");
    }
    // The top section names exactly the selected students, teacher first.
    let named = strings(&r["finding_configs"]);
    let students: Vec<&String> = named.iter().filter(|c| !c.ends_with("|teacher")).collect();
    assert_eq!(students, selected.iter().collect::<Vec<_>>(), "{r}");
    assert!(named.iter().any(|c| c.ends_with("|teacher")), "{named:?}");
    let text = r["finding_text"].as_str().unwrap();
    for key in selected {
        let depth = key.split('|').nth(1).unwrap().trim_start_matches('d');
        assert!(
            text.contains(&format!("depth-{depth} student (T=")),
            "{key} not named in {text}"
        );
    }
    // A click sorts by accuracy ascending (missing last), a second descending.
    let before = strings(&r["before"]);
    let mut want: Vec<(String, Option<f64>)> = by_accuracy.to_vec();
    want.sort_by(|a, b| match (a.1, b.1) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let asc: Vec<String> = want.iter().map(|w| w.0.clone()).collect();
    assert_eq!(before.len(), asc.len());
    let acc_of = |c: &String| by_accuracy.iter().find(|w| &w.0 == c).and_then(|w| w.1);
    let got: Vec<Option<f64>> = strings(&r["ascending"]).iter().map(acc_of).collect();
    let wanted: Vec<Option<f64>> = asc.iter().map(acc_of).collect();
    assert_eq!(got, wanted, "ascending order");
    assert_eq!(r["aria"], "ascending");
    let mut desc: Vec<Option<f64>> = strings(&r["descending"]).iter().map(acc_of).collect();
    let missing = desc.iter().filter(|v| v.is_none()).count();
    desc.truncate(desc.len() - missing);
    let mut rev: Vec<Option<f64>> = wanted.iter().copied().flatten().map(Some).collect();
    rev.reverse();
    assert_eq!(desc, rev, "descending order");
    let mut filtered = strings(&r["filtered"]);
    filtered.sort();
    let controls: Vec<String> = before
        .iter()
        .filter(|c| c.ends_with("|control"))
        .cloned()
        .collect();
    let mut controls = controls;
    controls.sort();
    assert!(!controls.is_empty());
    assert_eq!(filtered, controls, "filter 'control'");
}
