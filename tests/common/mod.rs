//! Helpers for tests that drive the real `kdpipe` binary.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // tests panic on purpose

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn kdpipe_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kdpipe"))
}

/// `kdpipe --store <store> args...`, run to completion.
pub fn kdpipe(store: &Path, args: &[&str]) -> Output {
    Command::new(kdpipe_bin())
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("KDPIPE_STORE")
        .output()
        .expect("failed to start kdpipe")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success, printing both streams otherwise.
#[track_caller]
pub fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "kdpipe failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

/// A toy experiment file in `dir`.
pub fn write_toy(dir: &Path, file: &str, seeds: &str, toy_table: &str) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(
        &path,
        format!("kind = \"toy\"\nname = \"toy\"\nseeds = {seeds}\n\n[toy]\n{toy_table}\n"),
    )
    .expect("write toy experiment");
    path
}

/// Run logs of the store, oldest first: by the time of their first event,
/// then by when the file was last written (run ids only have one-second
/// resolution and event times a millisecond, written at a fixed width so
/// that they sort as strings; two quick runs can share both, but the later
/// run's log is always written last).
pub fn run_logs(store: &Path) -> Vec<PathBuf> {
    let mut logs: Vec<(String, std::time::SystemTime, PathBuf)> =
        std::fs::read_dir(store.join("runs"))
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                let first = std::fs::read_to_string(&p)
                    .ok()
                    .and_then(|t| t.lines().next().map(str::to_owned))
                    .and_then(|l| serde_json::from_str::<Value>(&l).ok())
                    .and_then(|v| v["t"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                let written = std::fs::metadata(&p)
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                (first, written, p)
            })
            .collect();
    logs.sort();
    logs.into_iter().map(|(_, _, p)| p).collect()
}

/// Events of one run log.
pub fn events(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .expect("read run log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("run log line is JSON"))
        .collect()
}

/// Events of the most recent run.
pub fn last_events(store: &Path) -> Vec<Value> {
    let logs = run_logs(store);
    events(logs.last().expect("no run log"))
}

/// Names of stages with event `kind` (e.g. "finished") and, for finished,
/// `computed == true`.
pub fn names_with(events: &[Value], kind: &str) -> Vec<String> {
    let mut names: Vec<String> = events
        .iter()
        .filter(|e| e["event"] == kind)
        .filter(|e| kind != "finished" || e["computed"] == true)
        .map(|e| e["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names
}

/// Published artifact directories (those with a manifest) in the store.
pub fn published(store: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(shards) = std::fs::read_dir(store.join("objects")) else {
        return out;
    };
    for shard in shards.flatten() {
        for art in std::fs::read_dir(shard.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if art.path().join("manifest.json").is_file() {
                out.push(art.path());
            }
        }
    }
    out.sort();
    out
}

/// Everything under `dir`, recursively (paths relative to it).
pub fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(base).unwrap_or(&p).display().to_string());
            if p.is_dir() {
                walk(base, &p, out);
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}
