//! Report tests on the fixture store, including a real headless browser
//! (Debian's `chromium`) that renders the page and checks every image loads.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use engine::store::Store;

use crate::tables::fixture::{self, Model};

const TOML: &str = "[experiment]\nname = \"fixture\"\n# <script> must be escaped\n";

fn write_report(unpublished: &[&str]) -> (tempfile::TempDir, PathBuf) {
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
        "id=\"headline\"",
        "id=\"comparisons\"",
        "not shown equivalent",
    ] {
        assert!(html.contains(section), "{section} missing");
    }
    assert!(root.join("tables/comparisons.csv").is_file());
    assert!(html.contains(concat!("kdpipe ", env!("CARGO_PKG_VERSION"))));
    assert!(html.contains("&lt;script&gt; must be escaped"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    let srcs = img_sources(&html);
    // 3 plots + 2 confusion + 2 curves, and 2 images × 2 methods × 7 models
    // of seed 0, one of which has no explain stage yet.
    let plots = srcs.iter().filter(|s| s.starts_with("plots/")).count();
    assert_eq!(plots, 7, "{srcs:?}");
    let overlays = srcs.iter().filter(|s| s.starts_with("overlays/")).count();
    assert_eq!(overlays, 4 * 6, "{srcs:?}");
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
    assert!(html.contains("0 of"));
}

/// Runs `cmd`, killing it after `limit`; returns its stdout.
fn run_with_timeout(mut cmd: Command, limit: Duration) -> (bool, String) {
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

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
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
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
fn browser_renders_report_without_broken_images() {
    let Some(bin) = find_chromium() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("chromium is not installed, and CI=true requires the browser test");
        }
        eprintln!("SKIPPED browser test: chromium not found (apt-get install chromium)");
        return;
    };
    let (dir, index) = write_report(&[]);
    let url = format!("file://{}", index.display());
    let profile = dir.path().join("profile");

    let mut dump = chromium(&bin, &profile);
    dump.arg("--dump-dom").arg(&url);
    let (ok, dom) = run_with_timeout(dump, Duration::from_secs(120));
    assert!(ok, "chromium --dump-dom failed");
    let marker = dom
        .split("data-images-ok=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| {
            panic!(
                "no data-images-ok on <body>; DOM starts {:?}",
                &dom[..dom.len().min(300)]
            )
        });
    let (loaded, total) = marker.split_once('/').expect("ok/total");
    let total: usize = total.parse().expect("total");
    assert!(total > 0, "the report has no image");
    assert_eq!(loaded, total.to_string(), "broken images: {marker}");
    // 7 plots + 2 images × 2 methods × 7 models.
    assert_eq!(total, 7 + 28);

    let shot = dir.path().join("shot.png");
    let mut cmd = chromium(&bin, &profile);
    cmd.arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1280,2000")
        .arg(&url);
    let (ok, _) = run_with_timeout(cmd, Duration::from_secs(120));
    assert!(ok, "chromium --screenshot failed");
    let img = image::open(&shot).expect("screenshot is a PNG").to_rgb8();
    assert_eq!(img.dimensions(), (1280, 2000));
    let mut colors: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    colors.sort_unstable();
    colors.dedup();
    assert!(
        colors.len() > 100,
        "screenshot looks blank: {} colours",
        colors.len()
    );
}
