//! End to end through real child processes: the scheduler, the local
//! executor, `exec_stage` and the toy stages. The "kdpipe binary" is a shell
//! script that re-runs this test binary's `child_entry` test, which plays
//! `kdpipe exec-stage`. (The binary's own integration tests live in the
//! root `tests/`.)

#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::json;

use engine::events::{new_run_id, Event, EventSink, JsonlLog, Subscriber};
use engine::exec_stage::{exec_stage, ExecOutcome};
use engine::fingerprint::Fingerprint;
use engine::plan::plan;
use engine::scheduler::{run, LocalExecutor, RunOptions, RunSummary};
use engine::spec::{Resources, StageSpec};
use engine::store::Store;
use study::contract::Kind;
use study::toy::run_toy;

/// Records every event, for the assertions.
#[derive(Clone, Default)]
struct Collect(Rc<RefCell<Vec<Event>>>);

impl Subscriber for Collect {
    fn on_event(&mut self, _run_id: &str, event: &Event) {
        self.0.borrow_mut().push(event.clone());
    }
}

/// Plays `kdpipe exec-stage` when KDPIPE_E2E_ARGS is set; a no-op otherwise.
#[test]
fn child_entry() {
    let Ok(args) = std::env::var("KDPIPE_E2E_ARGS") else {
        return;
    };
    let args: Vec<&str> = args.split(' ').collect();
    assert_eq!(&args[..1], ["exec-stage"], "{args:?}");
    let fp = Fingerprint::parse(args[1]).unwrap();
    let store = Store::at(Path::new(args[3]));
    let threads: usize = args[5].parse().unwrap();
    let code = match exec_stage(&store, &fp, threads, &run_toy) {
        Ok(out) => {
            if let ExecOutcome::Failed(f) = &out {
                eprintln!("error: {f}");
            }
            out.exit_code()
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    };
    std::process::exit(code);
}

fn fake_kdpipe(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let me = std::env::current_exe().unwrap();
    let p = dir.join("kdpipe");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\nKDPIPE_E2E_ARGS=\"$*\" exec '{}' --exact child_entry --nocapture --test-threads=1 -q\n",
            me.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn toy(
    name: &str,
    kind: &str,
    params: serde_json::Value,
    ups: &[(String, &StageSpec)],
) -> StageSpec {
    StageSpec {
        name: name.into(),
        kind: kind.into(),
        code_version: Kind::from_name(kind).unwrap().code_version(),
        params: serde_json::from_value(params).unwrap(),
        upstream: ups
            .iter()
            .map(|(r, s)| (r.clone(), s.fingerprint()))
            .collect(),
        inputs: Default::default(),
        input_root: None,
        resources: Resources::default(),
    }
}

/// gen → square(x) for each x → sum.
fn study(xs: &[i64], square_extra: serde_json::Value) -> Vec<StageSpec> {
    let g = toy("gen", "toy.gen", json!({"seed": 1, "n": 5}), &[]);
    let mut out = vec![g.clone()];
    let mut squares = Vec::new();
    for &x in xs {
        let mut p = json!({"x": x});
        for (k, v) in square_extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        squares.push(toy(
            &format!("sq/{x}"),
            "toy.square",
            p,
            &[("gen".into(), &g)],
        ));
    }
    let ups: Vec<(String, &StageSpec)> = xs
        .iter()
        .zip(&squares)
        .map(|(x, s)| (format!("sq_{x}"), s))
        .collect();
    let sum = toy("sum", "toy.sum", json!({}), &ups);
    out.extend(squares.iter().cloned());
    out.push(sum);
    out
}

struct Env {
    _dir: tempfile::TempDir,
    exe: PathBuf,
    store: Store,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let exe = fake_kdpipe(dir.path());
    let store = Store::open(&dir.path().join("store")).unwrap();
    Env {
        _dir: dir,
        exe,
        store,
    }
}

fn run_once(env: &Env, stages: &[StageSpec], opts: &RunOptions) -> (RunSummary, Vec<Event>) {
    let p = plan(stages, &env.store, &[]).unwrap();
    let mut ex = LocalExecutor::new(env.exe.clone(), env.store.root().to_path_buf(), vec![]);
    let collect = Collect::default();
    let run_id = new_run_id();
    let mut sink = EventSink::new(run_id.clone());
    sink.subscribe(Box::new(collect.clone()));
    sink.subscribe(Box::new(
        JsonlLog::create(&env.store.run_log_path(&run_id)).unwrap(),
    ));
    let summary = run(&p, &env.store, &mut ex, opts, &mut sink).unwrap();
    let events = collect.0.borrow().clone();
    (summary, events)
}

fn computed(events: &[Event]) -> Vec<String> {
    let mut v: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Finished {
                name,
                computed: true,
                ..
            } => Some(name.clone()),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

fn opts(jobs: usize) -> RunOptions {
    RunOptions {
        jobs,
        ..RunOptions::default()
    }
}

#[test]
fn cache_hits_and_exact_reruns() {
    let env = env();
    let (s, ev) = run_once(&env, &study(&[1, 2, 3], json!({})), &opts(2));
    assert!(s.ok, "{s:?}");
    assert_eq!(computed(&ev), ["gen", "sq/1", "sq/2", "sq/3", "sum"]);
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::Progress { name, .. } if name == "sum")));

    let (s, ev) = run_once(&env, &study(&[1, 2, 3], json!({})), &opts(2));
    assert_eq!((s.computed, s.cached, s.ok), (0, 5, true));
    assert!(computed(&ev).is_empty());

    // One sweep value changed: exactly the new square and the sum rerun.
    let (s, ev) = run_once(&env, &study(&[1, 2, 4], json!({})), &opts(2));
    assert_eq!(computed(&ev), ["sq/4", "sum"]);
    assert_eq!(s.cached, 3);
    // The run logs agree: 7 computed stages over the three runs.
    let mut n = 0;
    for f in std::fs::read_dir(env.store.root().join("runs")).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        n += text
            .lines()
            .filter(|l| l.contains("\"event\":\"finished\"") && l.contains("\"computed\":true"))
            .count();
    }
    assert_eq!(n, 7);
    let sum_fp = study(&[1, 2, 4], json!({}))[4].fingerprint();
    let m = env.store.read_manifest(&sum_fp).unwrap().unwrap();
    assert_eq!(m.summary["count"], json!(3));
}

#[test]
fn failure_publishes_nothing_and_keeps_its_log() {
    let env = env();
    let stages = study(&[1], json!({"fail": true}));
    let (s, ev) = run_once(&env, &stages, &opts(1));
    assert_eq!((s.computed, s.failed, s.skipped), (1, 1, 1));
    let f = &s.failures[0];
    assert_eq!(
        (f.name.as_str(), f.reason.as_str()),
        ("sq/1", "exit status 1")
    );
    let log = std::fs::read_to_string(&f.log).unwrap();
    assert!(log.contains("toy.square x=1 failed on purpose"), "{log}");
    assert!(!env.store.is_published(&stages[1].fingerprint()));
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::Skipped { name, .. } if name == "sum")));
    assert_eq!(
        std::fs::read_dir(env.store.root().join("tmp"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn killed_mid_write_leaves_nothing_and_is_redone_alone() {
    let env = env();
    let slow = study(&[1, 2], json!({"slow_write_ms": 150}));
    let cancel = Arc::new(AtomicBool::new(false));
    let o = RunOptions {
        jobs: 1,
        cancel: cancel.clone(),
        ..RunOptions::default()
    };
    let flag = cancel.clone();
    let sq1 = slow[1].fingerprint();
    let store = env.store.clone();
    let watcher = std::thread::spawn(move || {
        // Kill (SIGKILL via cancel_all) once sq/1 has started writing.
        let t0 = std::time::Instant::now();
        while t0.elapsed() < std::time::Duration::from_secs(20) {
            let writing = std::fs::read_dir(store.root().join("tmp"))
                .map(|d| {
                    d.flatten().any(|e| {
                        e.file_name().to_string_lossy().starts_with(sq1.as_str())
                            && e.path().join("slow.bin").exists()
                    })
                })
                .unwrap_or(false);
            if writing {
                std::thread::sleep(std::time::Duration::from_millis(150));
                flag.store(true, Ordering::SeqCst);
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    });
    let (s, _) = run_once(&env, &slow, &o);
    watcher.join().unwrap();
    assert!(s.cancelled, "{s:?}");
    assert_eq!(s.computed, 1, "only gen finished: {s:?}");
    assert!(!env.store.is_published(&slow[1].fingerprint()));
    std::thread::sleep(std::time::Duration::from_millis(100));
    // A half-written staging dir is left behind, unpublished.
    assert_eq!(
        std::fs::read_dir(env.store.root().join("tmp"))
            .unwrap()
            .count(),
        1
    );

    let (s, ev) = run_once(&env, &slow, &opts(2));
    assert!(s.ok, "{s:?}");
    assert_eq!(computed(&ev), ["sq/1", "sq/2", "sum"]);
    assert_eq!(
        std::fs::read_dir(env.store.root().join("tmp"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn two_concurrent_runs_compute_each_stage_once() {
    let env = std::sync::Arc::new(env());
    let stages = study(&[1, 2, 3], json!({"sleep_ms": 150}));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let env = env.clone();
            let stages = stages.clone();
            std::thread::spawn(move || {
                let (s, ev) = run_once(&env, &stages, &opts(2));
                assert!(s.ok, "{s:?}");
                computed(&ev)
            })
        })
        .collect();
    let mut all: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort();
    assert_eq!(all, ["gen", "sq/1", "sq/2", "sq/3", "sum"]);
}

#[test]
fn force_reruns_only_the_matching_stage() {
    let env = env();
    let stages = study(&[1, 2], json!({}));
    run_once(&env, &stages, &opts(2));
    let p = plan(&stages, &env.store, &["sq/1".into()]).unwrap();
    assert_eq!(p.to_run(), 1);
    let mut ex = LocalExecutor::new(env.exe.clone(), env.store.root().to_path_buf(), vec![]);
    let collect = Collect::default();
    let mut sink = EventSink::new("forced");
    sink.subscribe(Box::new(collect.clone()));
    let s = run(&p, &env.store, &mut ex, &opts(2), &mut sink).unwrap();
    assert!(s.ok, "{s:?}");
    assert_eq!(computed(&collect.0.borrow()), ["sq/1"]);
    assert_eq!(
        env.store.check(&stages[1].fingerprint()),
        engine::store::Integrity::Intact
    );
}
