//! Stage processes end with the head that started them: after `kdpipe run`
//! is killed with SIGKILL, or interrupted with one or two Ctrl-Cs, no
//! `kdpipe exec-stage` of its store is left running, every published
//! artifact is whole, and a rerun completes. Toy stages (no libtorch) made
//! slow with `sleep_ms`, so a stage left alive would still be running when
//! the test looks.

#![allow(clippy::unwrap_used)] // tests panic on purpose

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Long enough that a stage outliving its head is still running when
/// [`GONE_WITHIN`] has passed.
const SLEEP_MS: u64 = 4000;
const GONE_WITHIN: Duration = Duration::from_secs(2);

/// Live (not zombie) processes whose command line has `exec-stage` and the
/// store's path as arguments.
fn stage_pids(store: &Path) -> Vec<u32> {
    let store = store.to_str().unwrap().as_bytes();
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
            let ours = args.contains(&&b"exec-stage"[..]) && args.contains(&store);
            (ours && alive(pid)).then_some(pid)
        })
        .collect();
    pids.sort();
    pids
}

/// Running or sleeping, as opposed to gone or a zombie.
fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or("X");
    !matches!(state, "Z" | "X" | "x")
}

#[track_caller]
fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn start_run(store: &Path, exp: &Path, jobs: &str) -> Child {
    Command::new(kdpipe_bin())
        .arg("--store")
        .arg(store)
        .args(["run", exp.to_str().unwrap(), "--jobs", jobs, "--plain"])
        .env_remove("KDPIPE_STORE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `n` stage processes of `store` run.
fn wait_for_stages(store: &Path, n: usize) -> Vec<u32> {
    wait_until(
        &format!("{n} stage processes"),
        Duration::from_secs(60),
        || stage_pids(store).len() >= n,
    );
    stage_pids(store)
}

/// Waits for the head's exit; its exit code and stderr.
fn finish(head: Child, timeout: Duration) -> (Option<i32>, String) {
    let pid = head.id();
    let t0 = Instant::now();
    let out = head.wait_with_output().unwrap();
    assert!(
        t0.elapsed() < timeout,
        "head {pid} took {:?} to exit",
        t0.elapsed()
    );
    (out.status.code(), stderr(&out))
}

#[track_caller]
fn assert_no_stage_left(store: &Path, before: &[u32]) {
    let deadline = Instant::now() + GONE_WITHIN;
    while !stage_pids(store).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = stage_pids(store);
    assert!(
        left.is_empty(),
        "stage processes {left:?} (of {before:?}) outlived their head by {GONE_WITHIN:?}"
    );
}

/// Every published artifact has a manifest of its own fingerprint whose
/// output hashes match the files.
#[track_caller]
fn assert_published_whole(store: &Path) -> usize {
    let view = engine::store::Store::at(store);
    let arts = published(store);
    for dir in &arts {
        let name = dir.file_name().unwrap().to_str().unwrap();
        let fp = engine::Fingerprint::parse(name).unwrap();
        let manifest = view
            .read_manifest(&fp)
            .unwrap_or_else(|e| panic!("manifest of {name}: {e}"))
            .unwrap_or_else(|| panic!("{name} has no usable manifest"));
        assert_eq!(manifest.fingerprint, fp);
        assert!(!manifest.outputs.is_empty(), "{name} lists no outputs");
        for (file, hash) in &manifest.outputs {
            let actual = engine::hashing::sha256_file(&dir.join(file)).unwrap();
            assert_eq!(&actual, hash, "{name}/{file} does not match its manifest");
        }
    }
    arts.len()
}

fn kill(pid: u32, signal: &str) {
    let ok = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {signal} {pid}");
}

#[test]
fn sigkill_of_the_head_kills_its_stages() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let exp = write_toy(
        dir.path(),
        "toy.toml",
        "[0]",
        &format!("values = [1, 2, 3]\nsleep_ms = {SLEEP_MS}"),
    );
    let head = start_run(&store, &exp, "3");
    // gen, then the three squares at once
    let pids = wait_for_stages(&store, 3);
    kill(head.id(), "-KILL");
    let (code, _) = finish(head, Duration::from_secs(5));
    assert_eq!(code, None, "killed by a signal");
    assert_no_stage_left(&store, &pids);
    assert_eq!(assert_published_whole(&store), 1, "only gen was published");

    // The rerun computes the squares and the sum, and all of it is whole.
    ok(&kdpipe(
        &store,
        &["run", exp.to_str().unwrap(), "--jobs", "3", "--plain"],
    ));
    assert_eq!(
        names_with(&last_events(&store), "finished"),
        [
            "toy/square/s0/x1",
            "toy/square/s0/x2",
            "toy/square/s0/x3",
            "toy/sum/s0"
        ]
    );
    assert_eq!(assert_published_whole(&store), 5);
}

/// Two seeds: their two `gen` stages run at once from the start.
fn two_running_stages(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, Child, Vec<u32>) {
    let store = dir.join("store");
    let exp = write_toy(
        dir,
        "toy.toml",
        "[0, 1]",
        &format!("values = [1]\nsleep_ms = {SLEEP_MS}"),
    );
    let head = start_run(&store, &exp, "2");
    let pids = wait_for_stages(&store, 2);
    (store, exp, head, pids)
}

#[test]
fn one_ctrl_c_cancels_the_run_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, head, pids) = two_running_stages(dir.path());
    kill(head.id(), "-INT");
    let (code, err) = finish(head, Duration::from_secs(3));
    assert_eq!(code, Some(130), "{err}");
    assert_no_stage_left(&store, &pids);
    assert_eq!(assert_published_whole(&store), 0);
    let ev = last_events(&store);
    let done = ev.last().unwrap();
    assert_eq!(done["event"], "run_finished", "{ev:#?}");
    assert_eq!(done["ok"], false);
    assert_eq!(done["computed"], 0);
    assert!(names_with(&ev, "finished").is_empty(), "{ev:#?}");
}

#[test]
fn two_ctrl_cs_exit_at_once_and_leave_no_stage() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, head, pids) = two_running_stages(dir.path());
    // Apart, so that they are two signals and not one pending twice; well
    // within the scheduler's 100 ms poll, so the second usually comes
    // before the scheduler has seen the first.
    kill(head.id(), "-INT");
    std::thread::sleep(Duration::from_millis(10));
    kill(head.id(), "-INT");
    let (code, err) = finish(head, Duration::from_secs(3));
    assert_eq!(code, Some(130), "{err}");
    assert_no_stage_left(&store, &pids);
    // Staging folders may remain; no artifact is published half-written.
    assert_eq!(assert_published_whole(&store), 0);
}
