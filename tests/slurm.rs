//! `kdpipe run --executor slurm` against a real single-node Slurm (started by
//! `scripts/slurm-up.sh`, which `make test` runs first), on the toy stages:
//! the same artifacts as the local executor, a rerun submits nothing, a
//! `scancel`led stage is reported failed and publishes nothing and only it is
//! resubmitted, and a bad partition fails with Slurm's own message.
//!
//! Without a usable Slurm (`sinfo` fails) each test prints why and passes,
//! except under `CI=true`, where it fails.

#![allow(clippy::unwrap_used)] // tests panic on purpose

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn slurm_or_skip(test: &str) -> bool {
    let usable = Command::new("sinfo")
        .args(["-h", "-o", "%n"])
        .output()
        .map(|o| o.status.success() && !o.stdout.is_empty())
        .unwrap_or(false);
    if usable {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: Slurm is not usable (sinfo failed) and CI=true; scripts/slurm-up.sh should have started it");
    }
    eprintln!(
        "skipping {test}: Slurm is not usable (sinfo failed); run scripts/slurm-up.sh as root"
    );
    false
}

fn kdpipe_command(store: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kdpipe"));
    c.args(args)
        .arg("--store")
        .arg(store)
        .env_remove("KDPIPE_STORE")
        .stdin(Stdio::null());
    c
}

fn kdpipe(store: &Path, args: &[&str]) -> Output {
    kdpipe_command(store, args)
        .output()
        .expect("failed to start kdpipe")
}

#[track_caller]
fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "kdpipe failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A toy experiment: one seed, values 1..=3 (5 stages: gen, 3 squares, sum).
fn write_toy(dir: &Path, file: &str, toy_table: &str) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(
        &path,
        format!(
            "kind = \"toy\"\nname = \"toy\"\nseeds = [0]\n\n[toy]\nvalues = [1, 2, 3]\nn = 4\n{toy_table}\n"
        ),
    )
    .expect("write toy experiment");
    path
}

fn run_logs(store: &Path) -> Vec<PathBuf> {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(store.join("runs"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    logs.sort_by_key(|p| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH)
    });
    logs
}

fn events(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .expect("read run log")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("run log line is JSON"))
        .collect()
}

fn last_events(store: &Path) -> Vec<Value> {
    events(run_logs(store).last().expect("no run log"))
}

fn names_with(events: &[Value], kind: &str) -> Vec<String> {
    let mut names: Vec<String> = events
        .iter()
        .filter(|e| e["event"] == kind)
        .filter(|e| kind != "finished" || e["computed"] == true)
        .map(|e| e["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names
}

/// Fingerprint → the manifest's `outputs` of every published artifact.
fn published_outputs(store: &Path) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for shard in std::fs::read_dir(store.join("objects"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for art in std::fs::read_dir(shard.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let manifest = art.path().join("manifest.json");
            let Ok(text) = std::fs::read_to_string(&manifest) else {
                continue;
            };
            let m: Value = serde_json::from_str(&text).expect("manifest is JSON");
            out.insert(
                art.file_name().to_string_lossy().into_owned(),
                m["outputs"].clone(),
            );
        }
    }
    out
}

/// Every job id the controller knows (with `MinJobAge=3600`, finished jobs
/// stay listed for an hour).
fn slurm_job_ids() -> BTreeSet<String> {
    let o = Command::new("squeue")
        .args(["-h", "-t", "all", "-o", "%i"])
        .output()
        .expect("squeue");
    assert!(o.status.success(), "{o:?}");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

fn job_state(id: &str) -> String {
    let o = Command::new("squeue")
        .args(["-h", "-t", "all", "-o", "%T", "-j", id])
        .output()
        .expect("squeue");
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// A store under a path with a blank and quotes (argument vectors, not shell
/// strings, must carry it to the job).
fn store_in(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name} st'o\"re"))
}

#[test]
fn slurm_gives_the_same_artifacts_as_local_and_a_rerun_submits_nothing() {
    if !slurm_or_skip("slurm_gives_the_same_artifacts_as_local_and_a_rerun_submits_nothing") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let exp = write_toy(dir.path(), "toy.toml", "");
    let exp = exp.to_str().expect("utf-8 path");
    let local = store_in(dir.path(), "local");
    let slurm = store_in(dir.path(), "slurm");

    let t = Instant::now();
    ok(&kdpipe(&local, &["run", exp]));
    let local_wall = t.elapsed();
    let t = Instant::now();
    ok(&kdpipe(&slurm, &["run", exp, "--executor", "slurm"]));
    let slurm_wall = t.elapsed();
    eprintln!("5 toy stages: local {local_wall:?}, slurm {slurm_wall:?}");

    // Same fingerprints, same output hashes.
    let a = published_outputs(&local);
    let b = published_outputs(&slurm);
    assert_eq!(a.len(), 5, "{a:#?}");
    assert_eq!(a, b);

    // Every stage ran as a Slurm job, named after its fingerprint.
    let ev = last_events(&slurm);
    let started: Vec<&Value> = ev.iter().filter(|e| e["event"] == "started").collect();
    assert_eq!(started.len(), 5, "{ev:#?}");
    for s in &started {
        let job = s["job"].as_str().expect("started event has a job id");
        assert!(
            job.bytes().all(|b| b.is_ascii_digit()),
            "slurm job id: {job}"
        );
        let fp = s["fingerprint"].as_str().expect("fingerprint");
        let o = Command::new("scontrol")
            .args(["show", "job", "-o", job])
            .output()
            .expect("scontrol");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains(&format!("JobName=kdpipe-{}", &fp[..12])),
            "{text}"
        );
        assert!(text.contains("JobState=COMPLETED"), "{text}");
    }
    assert_eq!(names_with(&ev, "finished").len(), 5, "{ev:#?}");

    // A rerun is all cache hits and submits no job.
    let before = slurm_job_ids();
    ok(&kdpipe(&slurm, &["run", exp, "--executor", "slurm"]));
    let ev = last_events(&slurm);
    assert!(names_with(&ev, "started").is_empty(), "{ev:#?}");
    assert_eq!(names_with(&ev, "cached").len(), 5, "{ev:#?}");
    let done = ev.last().expect("events");
    assert_eq!(done["event"], "run_finished");
    assert_eq!(done["computed"], 0);
    // (no `started` event above: no job was submitted by this run)
    let _ = before;
}

#[test]
fn scancelled_stage_fails_publishes_nothing_and_is_the_only_one_resubmitted() {
    if !slurm_or_skip("scancelled_stage_fails_publishes_nothing_and_is_the_only_one_resubmitted") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // Squares pause 4 s in the middle of writing their output.
    let exp = write_toy(dir.path(), "toy.toml", "slow_write_ms = 4000");
    let exp = exp.to_str().expect("utf-8 path");
    let store = store_in(dir.path(), "cancel");
    let victim = "toy/square/s0/x2";

    let head: Child = kdpipe_command(&store, &["run", exp, "--executor", "slurm", "--keep-going"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kdpipe");

    // Its `started` event names the Slurm job; cancel it once it runs.
    let start = Instant::now();
    let (job, fp) = loop {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{victim} never started"
        );
        let found = run_logs(&store).last().and_then(|log| {
            events(log)
                .into_iter()
                .find(|e| e["event"] == "started" && e["name"] == victim)
        });
        if let Some(e) = found {
            let job = e["job"].as_str().expect("job id").to_owned();
            if job_state(&job) == "RUNNING" {
                break (job, e["fingerprint"].as_str().expect("fp").to_owned());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Let it get into its slow write, then kill it there.
    std::thread::sleep(Duration::from_millis(500));
    let o = Command::new("scancel").arg(&job).output().expect("scancel");
    assert!(o.status.success(), "{o:?}");

    let out = head.wait_with_output().expect("kdpipe run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed stage exits 1: {out:?}"
    );
    let ev = last_events(&store);
    let failed: Vec<&Value> = ev.iter().filter(|e| e["event"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{ev:#?}");
    assert_eq!(failed[0]["name"], victim);
    let reason = failed[0]["reason"].as_str().expect("reason");
    assert!(
        reason.contains(&format!("slurm job {job} CANCELLED")),
        "reason: {reason}"
    );
    // The cancelled stage published nothing; the others did (--keep-going);
    // the sum, downstream of it, was skipped.
    let outputs = published_outputs(&store);
    assert!(!outputs.contains_key(&fp), "cancelled stage published");
    assert_eq!(outputs.len(), 3, "gen and two squares: {outputs:#?}");
    assert_eq!(names_with(&ev, "skipped"), ["toy/sum/s0"], "{ev:#?}");

    // The next run submits only the cancelled stage (and the sum it gates).
    let before = slurm_job_ids();
    ok(&kdpipe(&store, &["run", exp, "--executor", "slurm"]));
    let ev = last_events(&store);
    assert_eq!(
        names_with(&ev, "started"),
        [victim, "toy/sum/s0"],
        "{ev:#?}"
    );
    // Exactly two new jobs, named by this run's `started` events (other
    // test binaries may submit jobs to the same cluster meanwhile).
    let jobs: BTreeSet<String> = ev
        .iter()
        .filter(|e| e["event"] == "started")
        .map(|e| e["job"].as_str().expect("job id").to_owned())
        .collect();
    assert_eq!(jobs.len(), 2, "{ev:#?}");
    assert!(
        jobs.iter().all(|j| !before.contains(j)),
        "{jobs:?} were already queued"
    );
    assert!(published_outputs(&store).contains_key(&fp));
}

#[test]
fn bad_partition_fails_with_slurms_message() {
    if !slurm_or_skip("bad_partition_fails_with_slurms_message") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let exp = write_toy(dir.path(), "toy.toml", "");
    let store = store_in(dir.path(), "bad");
    let before = slurm_job_ids();
    let out = kdpipe(
        &store,
        &[
            "run",
            exp.to_str().expect("utf-8 path"),
            "--executor",
            "slurm",
            "--partition",
            "no-such-partition",
        ],
    );
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // sbatch's own words: "sbatch: error: invalid partition specified: ...".
    assert!(
        stderr.contains("invalid partition specified: no-such-partition"),
        "stderr: {stderr}"
    );
    assert!(published_outputs(&store).is_empty());
    let ev = last_events(&store);
    assert!(
        names_with(&ev, "started").is_empty(),
        "a job was submitted: {ev:#?}"
    );
    let _ = before;
}
