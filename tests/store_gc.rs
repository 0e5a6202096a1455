//! `gc`, `pin` and `unpin` through the real binary on the toy study: what a
//! dry run lists, what a pass removes and keeps (byte for byte), and that a
//! run in progress on the same store is never disturbed.

#![allow(clippy::unwrap_used)] // tests panic on purpose

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// Fingerprints of every stage `exp` plans (from `run --dry-run --json`).
fn planned(store: &Path, exp: &Path) -> BTreeSet<String> {
    let out = kdpipe(
        store,
        &["run", exp.to_str().unwrap(), "--dry-run", "--json"],
    );
    ok(&out);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["fingerprint"].as_str().unwrap().to_owned())
        .collect()
}

/// Fingerprint → (file → bytes) of every published object.
fn objects(store: &Path) -> BTreeMap<String, BTreeMap<String, Vec<u8>>> {
    published(store)
        .into_iter()
        .map(|dir| {
            let files = std::fs::read_dir(&dir)
                .unwrap()
                .flatten()
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name, std::fs::read(e.path()).unwrap())
                })
                .collect();
            (
                dir.file_name().unwrap().to_string_lossy().into_owned(),
                files,
            )
        })
        .collect()
}

fn removed_published(report: &Value) -> BTreeSet<String> {
    report["removed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["published"] == true)
        .map(|i| i["fingerprint"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn dry_run_lists_exactly_the_unreachable_and_gc_removes_only_those() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let a = write_toy(dir.path(), "a.toml", "[0]", "values = [1, 2]");
    let b = write_toy(dir.path(), "b.toml", "[0]", "values = [3]");
    let c = write_toy(dir.path(), "c.toml", "[0]", "values = [4]");
    for exp in [&a, &b, &c] {
        ok(&kdpipe(&store, &["run", exp.to_str().unwrap(), "--plain"]));
    }
    let (fa, fb, fc) = (
        planned(&store, &a),
        planned(&store, &b),
        planned(&store, &c),
    );
    let before = objects(&store);
    let all: BTreeSet<String> = before.keys().cloned().collect();
    assert_eq!(all, &(&fa | &fb) | &fc);

    let pin = kdpipe(&store, &["pin", "toy/square/s0/x4"]);
    ok(&pin);
    assert!(stdout(&pin).starts_with("pinned  "), "{}", stdout(&pin));
    let pinned: BTreeSet<String> = before
        .iter()
        .filter(|(_, files)| {
            files
                .get("result.json")
                .is_some_and(|r| String::from_utf8_lossy(r).contains("\"x\": 4"))
        })
        .map(|(fp, _)| fp.clone())
        .collect();
    assert_eq!(pinned.len(), 1, "the x = 4 square");
    let list = stdout(&kdpipe(&store, &["pin", "--list"]));
    assert!(
        list.contains("toy/square/s0/x4") && list.ends_with("1 pinned\n"),
        "{list}"
    );

    let a_s = a.to_str().unwrap();
    let dry = kdpipe(&store, &["gc", "--keep", a_s, "--dry-run", "--json"]);
    ok(&dry);
    let report: Value = serde_json::from_str(&stdout(&dry)).unwrap();
    let unreachable: BTreeSet<String> = &(&all - &fa) - &pinned;
    assert_eq!(removed_published(&report), unreachable);
    assert!(
        unreachable.len() >= 3,
        "b's square and sum, c's sum: {unreachable:?}"
    );
    assert_eq!(report["dry_run"], true);
    assert!(report["bytes_freed"].as_u64().unwrap() > 0);
    assert_eq!(objects(&store), before, "a dry run removes nothing");
    let none = kdpipe(&store, &["gc", "--all-unpinned", "--dry-run", "--json"]);
    ok(&none);
    let none: Value = serde_json::from_str(&stdout(&none)).unwrap();
    assert_eq!(removed_published(&none), &all - &pinned);
    let text = stdout(&kdpipe(&store, &["gc", "--keep", a_s, "--dry-run"]));
    assert!(
        text.contains("would remove") && text.contains("toy/square/s0/x3"),
        "{text}"
    );
    assert!(!text.contains("toy/square/s0/x1"), "{text}");

    ok(&kdpipe(&store, &["gc", "--keep", a_s]));
    let after = objects(&store);
    let kept: BTreeSet<String> = after.keys().cloned().collect();
    assert_eq!(kept, &fa | &pinned);
    for (fp, files) in &after {
        assert_eq!(Some(files), before.get(fp), "object {fp} changed");
    }
    ok(&kdpipe(&store, &["fsck"]));
    ok(&kdpipe(&store, &["run", a_s, "--plain"]));
    assert!(names_with(&last_events(&store), "finished").is_empty());

    // b ran before: its square now has to be computed again
    let b_run = kdpipe(&store, &["run", b.to_str().unwrap(), "--dry-run"]);
    assert!(
        stdout(&b_run).contains("would run  toy/square/s0/x3"),
        "{}",
        stdout(&b_run)
    );
    ok(&kdpipe(&store, &["unpin", "toy/square/s0/x4"]));
    let dry = kdpipe(&store, &["gc", "--keep", a_s, "--dry-run", "--json"]);
    let report: Value = serde_json::from_str(&stdout(&dry)).unwrap();
    assert_eq!(removed_published(&report), pinned);
}

#[test]
fn gc_never_disturbs_a_run_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let a = write_toy(dir.path(), "a.toml", "[0]", "values = [1]");
    let a_s = a.to_str().unwrap();
    ok(&kdpipe(&store, &["run", a_s, "--plain"]));
    // Each square writes slow.bin in 10 chunks, 100 ms apart; one at a time.
    let d = write_toy(
        dir.path(),
        "d.toml",
        "[0]",
        "values = [5, 6, 7]\nslow_write_ms = 100",
    );
    let fd = planned(&store, &d);
    let mut child = std::process::Command::new(kdpipe_bin())
        .arg("--store")
        .arg(&store)
        .args(["run", d.to_str().unwrap(), "--plain", "--jobs", "1"])
        .env_remove("KDPIPE_STORE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the run has published a stage a does not plan and is
    // writing another one.
    let fa = planned(&store, &a);
    let start = Instant::now();
    let writing = loop {
        let published: BTreeSet<String> = objects(&store).into_keys().collect();
        let staging: Vec<_> = std::fs::read_dir(store.join("tmp"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        if published.iter().any(|fp| !fa.contains(fp)) && !staging.is_empty() {
            break staging;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the run never got going"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let during = objects(&store);

    let out = kdpipe(&store, &["gc", "--keep", a_s, "--json"]);
    ok(&out);
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["live_runs"], 1, "{report}");
    assert_eq!(removed_published(&report), BTreeSet::new(), "{report}");
    for (fp, files) in &during {
        assert_eq!(objects(&store).get(fp), Some(files), "{fp} was touched");
    }
    // The staging folder being written is still there (or already published).
    for p in &writing {
        let fp = p.file_name().unwrap().to_string_lossy();
        let fp = fp.split('.').next().unwrap();
        assert!(
            p.exists() || objects(&store).contains_key(fp),
            "{}",
            p.display()
        );
    }

    let status = child.wait().unwrap();
    assert!(status.success(), "the concurrent run failed: {status}");
    let done: BTreeSet<String> = objects(&store).into_keys().collect();
    assert!(fd.is_subset(&done), "every stage of d published");
    ok(&kdpipe(&store, &["fsck"]));
    assert_eq!(
        names_with(&last_events(&store), "failed"),
        Vec::<String>::new()
    );
    // Once the run is over, its stages are fair game.
    let dry = kdpipe(&store, &["gc", "--keep", a_s, "--dry-run", "--json"]);
    let report: Value = serde_json::from_str(&stdout(&dry)).unwrap();
    assert_eq!(report["live_runs"], 0);
    assert_eq!(removed_published(&report), &fd - &fa);
}

#[test]
fn bad_arguments_are_named_and_exit_2_with_nothing_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let a = write_toy(dir.path(), "a.toml", "[0]", "values = [1]");
    ok(&kdpipe(&store, &["run", a.to_str().unwrap(), "--plain"]));
    let before = objects(&store);

    let out = kdpipe(&store, &["gc"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--keep"), "{}", stderr(&out));

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "kind = \"toy\"\nname = \"toy\"\nseeds = [0]\n[toy]\nvalues = \"x\"\n",
    )
    .unwrap();
    let out = kdpipe(
        &store,
        &[
            "gc",
            "--keep",
            a.to_str().unwrap(),
            "--keep",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad.toml"), "{}", stderr(&out));

    let out = kdpipe(&store, &["pin", "toy/square/s0/x99"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("toy/square/s0/x99"),
        "{}",
        stderr(&out)
    );
    let out = kdpipe(&store, &["unpin", "toy/square/s0/x1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not pinned"), "{}", stderr(&out));
    assert_eq!(objects(&store), before);
}
