//! The engine through the real `kdpipe` binary, on the toy stages (small
//! Rust functions, no libtorch): caching, reruns of exactly what changed,
//! killed stages, concurrent runs, dry runs, status and why.

#![allow(clippy::unwrap_used)] // tests panic on purpose

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn second_run_is_all_cache_hits() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let exp = write_toy(dir.path(), "toy.toml", "[0, 1]", "values = [1, 2, 3]");

    let first = kdpipe(&store, &["run", exp.to_str().unwrap(), "--jobs", "2"]);
    ok(&first);
    let ev = last_events(&store);
    // 2 seeds × (gen + 3 squares + sum)
    assert_eq!(names_with(&ev, "finished").len(), 10, "{ev:#?}");
    assert_eq!(published(&store).len(), 10);

    let second = kdpipe(&store, &["run", exp.to_str().unwrap()]);
    ok(&second);
    let ev = last_events(&store);
    assert!(
        names_with(&ev, "finished").is_empty(),
        "second run computed something: {ev:#?}"
    );
    assert_eq!(names_with(&ev, "cached").len(), 10);
    let done = ev.last().unwrap();
    assert_eq!(done["event"], "run_finished");
    assert_eq!(done["cached"], 10);
    assert_eq!(done["computed"], 0);

    // status agrees: everything cached
    let status = kdpipe(&store, &["status", exp.to_str().unwrap()]);
    ok(&status);
    assert!(
        stdout(&status).contains("10 stages, 10 cached, 0 will run"),
        "{}",
        stdout(&status)
    );
}

#[test]
fn changing_one_sweep_value_reruns_exactly_the_new_stages() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let exp = write_toy(dir.path(), "toy.toml", "[0, 1]", "values = [1, 2, 3]");
    ok(&kdpipe(&store, &["run", exp.to_str().unwrap()]));

    // 3 -> 4: per seed, one new square and the sum that reads it.
    write_toy(dir.path(), "toy.toml", "[0, 1]", "values = [1, 2, 4]");
    let dry = kdpipe(
        &store,
        &["run", exp.to_str().unwrap(), "--dry-run", "--json"],
    );
    ok(&dry);
    let plan: serde_json::Value = serde_json::from_str(&stdout(&dry)).unwrap();
    let mut would: Vec<&str> = plan["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["will_run"] == true)
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    would.sort();
    let expected = [
        "toy/square/s0/x4",
        "toy/square/s1/x4",
        "toy/sum/s0",
        "toy/sum/s1",
    ];
    assert_eq!(would, expected);

    ok(&kdpipe(&store, &["run", exp.to_str().unwrap()]));
    assert_eq!(names_with(&last_events(&store), "finished"), expected);

    // `status` says why the sums run; `why` names the changed upstream role.
    write_toy(dir.path(), "toy.toml", "[0, 1]", "values = [1, 2, 5]");
    let status = stdout(&kdpipe(&store, &["status", exp.to_str().unwrap()]));
    assert!(
        status.contains("toy/square/s0/x5") && status.contains("new"),
        "{status}"
    );
    assert!(status.contains("upstream changed"), "{status}");
    let why = kdpipe(&store, &["why", exp.to_str().unwrap(), "toy/sum/s0"]);
    ok(&why);
    let why = stdout(&why);
    assert!(
        why.contains("upstream.sq_4") && why.contains("upstream.sq_5"),
        "{why}"
    );
    // A new upstream: absent before, its short fingerprint now.
    let line = why.lines().find(|l| l.contains("upstream.sq_5")).unwrap();
    let (old, new) = line.split_once(": ").unwrap().1.split_once(" -> ").unwrap();
    assert_eq!(old, "(absent)", "{line}");
    assert!(
        new.len() == 12 && new.bytes().all(|b| b.is_ascii_hexdigit()),
        "{line}"
    );
}

#[test]
fn a_killed_stage_publishes_nothing_and_only_it_reruns() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    // Each square writes `slow.bin` in 10 chunks, 300 ms apart (3 s).
    let exp = write_toy(
        dir.path(),
        "toy.toml",
        "[0]",
        "values = [1, 2, 3]\nslow_write_ms = 300",
    );
    let exp_s = exp.to_str().unwrap();
    let mut run = Command::new(kdpipe_bin())
        .args([
            "--store",
            store.to_str().unwrap(),
            "run",
            exp_s,
            "--jobs",
            "1",
            "--keep-going",
            "--plain",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // Wait for the first square to start and write part of its output.
    let deadline = Instant::now() + Duration::from_secs(60);
    let victim = loop {
        assert!(Instant::now() < deadline, "toy/square/s0/x1 never started");
        std::thread::sleep(Duration::from_millis(50));
        let Some(log) = run_logs(&store).pop() else {
            continue;
        };
        if let Some(e) = events(&log)
            .into_iter()
            .find(|e| e["event"] == "started" && e["name"] == "toy/square/s0/x1")
        {
            break e;
        }
    };
    let fp = victim["fingerprint"].as_str().unwrap().to_owned();
    let staging = loop {
        assert!(Instant::now() < deadline, "no staging directory for {fp}");
        std::thread::sleep(Duration::from_millis(50));
        let found = std::fs::read_dir(store.join("tmp"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name().unwrap().to_string_lossy().starts_with(&fp)
                    && p.join("slow.bin").exists()
            });
        if let Some(p) = found {
            break p;
        }
    };
    std::thread::sleep(Duration::from_millis(400));
    let pid = victim["job"].as_str().unwrap();
    assert!(Command::new("kill")
        .args(["-9", pid])
        .status()
        .unwrap()
        .success());
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(1), "a run with a failed stage exits 1");

    // Nothing published for the killed stage; its partial output never became an artifact.
    let art = store.join("objects").join(&fp[..2]).join(&fp);
    assert!(!art.exists(), "killed stage published {}", art.display());
    let ev = last_events(&store);
    let failed: Vec<_> = ev.iter().filter(|e| e["event"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{ev:#?}");
    assert_eq!(failed[0]["name"], "toy/square/s0/x1");
    assert!(
        failed[0]["reason"].as_str().unwrap().contains("signal 9"),
        "{:?}",
        failed[0]
    );
    assert_eq!(names_with(&ev, "skipped"), ["toy/sum/s0"]);
    assert_eq!(
        names_with(&ev, "finished"),
        ["toy/gen/s0", "toy/square/s0/x2", "toy/square/s0/x3"]
    );
    let _ = staging;

    // The next run redoes the killed stage (and the sum it blocked), nothing else.
    ok(&kdpipe(&store, &["run", exp_s]));
    let ev = last_events(&store);
    assert_eq!(
        names_with(&ev, "finished"),
        ["toy/square/s0/x1", "toy/sum/s0"]
    );
    assert!(art.join("manifest.json").is_file());
    // and the stale staging directory was cleaned up
    let leftovers: Vec<_> = std::fs::read_dir(store.join("tmp"))
        .unwrap()
        .flatten()
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
}

#[test]
fn concurrent_runs_compute_each_stage_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let exp = write_toy(
        dir.path(),
        "toy.toml",
        "[0, 1]",
        "values = [1, 2, 3, 4]\nsleep_ms = 300",
    );
    let spawn = || {
        Command::new(kdpipe_bin())
            .args([
                "--store",
                store.to_str().unwrap(),
                "run",
                exp.to_str().unwrap(),
                "--jobs",
                "2",
                "--plain",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    ok(&a);
    ok(&b);

    let logs = run_logs(&store);
    assert_eq!(logs.len(), 2);
    let mut computed: Vec<String> = logs
        .iter()
        .flat_map(|l| names_with(&events(l), "finished"))
        .collect();
    computed.sort();
    let n = computed.len();
    computed.dedup();
    assert_eq!(
        n,
        computed.len(),
        "a stage was computed twice: {computed:?}"
    );
    // 2 seeds × (gen + 4 squares + sum), each computed by exactly one run
    assert_eq!(n, 12);
    assert_eq!(published(&store).len(), 12);
    // every stage finished in both runs (computed or published by the other)
    for log in &logs {
        let ev = events(log);
        let done = ev.last().unwrap();
        assert_eq!(done["event"], "run_finished");
        assert_eq!(done["failed"], 0);
    }
}

#[test]
fn force_reruns_matching_stages_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let exp = write_toy(dir.path(), "toy.toml", "[0]", "values = [1, 2]");
    let exp_s = exp.to_str().unwrap();
    ok(&kdpipe(&store, &["run", exp_s]));
    ok(&kdpipe(
        &store,
        &["run", exp_s, "--force", "toy/square/*/x2"],
    ));
    assert_eq!(
        names_with(&last_events(&store), "finished"),
        ["toy/square/s0/x2"]
    );
}

#[test]
fn failing_stage_exits_1_keeps_its_log_and_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let exp = write_toy(dir.path(), "toy.toml", "[0]", "values = [1, 2]\nfail = [2]");
    let out = kdpipe(&store, &["run", exp.to_str().unwrap(), "--plain"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let ev = last_events(&store);
    let failed: Vec<_> = ev.iter().filter(|e| e["event"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    let log = std::path::PathBuf::from(failed[0]["log"].as_str().unwrap());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("fail"), "log of the failed stage: {text}");
    let fp = failed[0]["fingerprint"].as_str().unwrap();
    assert!(!store.join("objects").join(&fp[..2]).join(fp).exists());
    assert!(
        stderr(&out).contains("toy/square/s0/x2"),
        "{}",
        stderr(&out)
    );
}
