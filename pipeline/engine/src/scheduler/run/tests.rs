//! Slot logic with an in-process fake executor: each poll completes the
//! oldest running job (publishing it for real in the store).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde_json::json;

use super::*;
use crate::events::Collect;
use crate::fingerprint::Fingerprint;
use crate::plan::plan;
use crate::spec::{Resources, StageSpec};

struct Fake {
    store: Store,
    fail: HashSet<String>,
    /// Names that fail on bad input data.
    bad_input: HashSet<String>,
    running: Vec<(JobId, String, Fingerprint)>,
    next: usize,
    /// Names running together, recorded at each launch.
    snapshots: Vec<Vec<String>>,
    launched: Vec<String>,
    cancelled: bool,
    cancel_after: Option<(usize, Arc<AtomicBool>)>,
}

impl Fake {
    fn new(store: &Store) -> Fake {
        Fake {
            store: store.clone(),
            fail: HashSet::new(),
            bad_input: HashSet::new(),
            running: Vec::new(),
            next: 0,
            snapshots: Vec::new(),
            launched: Vec::new(),
            cancelled: false,
            cancel_after: None,
        }
    }
}

impl Executor for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }
    fn launch(
        &mut self,
        spec: &StageSpec,
        fp: &Fingerprint,
        _threads: usize,
        _log: &Path,
    ) -> Result<JobId> {
        assert!(
            self.store.spec_path(fp).is_file(),
            "spec written before launch"
        );
        for up in spec.upstream.values() {
            assert!(self.store.is_published(up), "{} launched early", spec.name);
        }
        self.next += 1;
        let job = JobId(self.next.to_string());
        self.running
            .push((job.clone(), spec.name.clone(), fp.clone()));
        self.launched.push(spec.name.clone());
        self.snapshots
            .push(self.running.iter().map(|r| r.1.clone()).collect());
        if let Some((n, flag)) = &self.cancel_after {
            if self.launched.len() >= *n {
                flag.store(true, Ordering::SeqCst);
            }
        }
        Ok(job)
    }
    fn poll(&mut self, _timeout: Duration) -> Result<Vec<JobUpdate>> {
        if self.running.is_empty() {
            return Ok(vec![]);
        }
        let (job, name, fp) = self.running.remove(0);
        let outcome = if self.bad_input.contains(&name) {
            JobOutcome::BadInput {
                reason: "corrupt or unreadable image `a/x.png`: truncated".into(),
                log: "x.log".into(),
            }
        } else if self.fail.contains(&name) {
            JobOutcome::Failed {
                reason: "exit status 1".into(),
                log: "x.log".into(),
            }
        } else {
            let spec = self.store.read_spec(&fp)?;
            let staging = self.store.create_staging(&fp)?;
            self.store
                .publish(&staging, &crate::store::tests::manifest(&spec))?;
            JobOutcome::Published
        };
        Ok(vec![JobUpdate::Done { job, outcome }])
    }
    fn cancel_all(&mut self) {
        self.cancelled = true;
    }
}

fn stage(name: &str, cpu: u32, exclusive: bool, ups: &[&StageSpec]) -> StageSpec {
    StageSpec {
        name: name.into(),
        kind: "toy.gen".into(),
        code_version: 1,
        params: BTreeMap::from([("id".into(), json!(name))]),
        upstream: ups
            .iter()
            .map(|s| (s.name.clone(), s.fingerprint()))
            .collect(),
        inputs: BTreeMap::new(),
        input_root: None,
        resources: Resources {
            cpu,
            gpu: 0,
            exclusive,
        },
    }
}

fn go(
    stages: &[StageSpec],
    opts: RunOptions,
    setup: impl FnOnce(&mut Fake),
) -> (RunSummary, Fake, Vec<Event>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let p = plan(stages, &store, &[]).unwrap();
    let mut fake = Fake::new(&store);
    setup(&mut fake);
    let collect = Collect::default();
    let mut sink = EventSink::new("test-run");
    sink.subscribe(Box::new(collect.clone()));
    let summary = run(&p, &store, &mut fake, &opts, &mut sink).unwrap();
    let events = collect.0.borrow().clone();
    (summary, fake, events, dir)
}

fn opts(jobs: usize, keep_going: bool) -> RunOptions {
    RunOptions {
        jobs,
        keep_going,
        ..RunOptions::default()
    }
}

#[test]
fn cpu_slots_bound_concurrency() {
    let stages: Vec<_> = (0..5)
        .map(|i| stage(&format!("s{i}"), 1, false, &[]))
        .collect();
    let (summary, fake, _, _d) = go(&stages, opts(2, false), |_| {});
    assert!(summary.ok);
    assert_eq!(summary.computed, 5);
    assert_eq!(fake.snapshots.iter().map(Vec::len).max(), Some(2));

    // cpu 2 each with 3 slots: one at a time; cpu 8 is clamped to the slots.
    let stages = vec![
        stage("a", 2, false, &[]),
        stage("b", 2, false, &[]),
        stage("big", 8, false, &[]),
    ];
    let (summary, fake, events, _d) = go(&stages, opts(3, false), |_| {});
    assert_eq!(summary.computed, 3);
    assert!(
        fake.snapshots.iter().all(|s| s.len() == 1),
        "{:?}",
        fake.snapshots
    );
    let threads: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            Event::Started { threads, .. } => Some(*threads),
            _ => None,
        })
        .collect();
    assert_eq!(threads, vec![2, 2, 3]);
}

#[test]
fn exclusive_stage_runs_alone() {
    let stages = vec![
        stage("a", 1, false, &[]),
        stage("t", 1, true, &[]),
        stage("b", 1, false, &[]),
        stage("c", 1, false, &[]),
    ];
    let (summary, fake, _, _d) = go(&stages, opts(4, false), |_| {});
    assert_eq!(summary.computed, 4);
    for snap in &fake.snapshots {
        if snap.contains(&"t".to_string()) {
            assert_eq!(snap, &vec!["t".to_string()]);
        }
    }
    assert_eq!(fake.launched, ["a", "t", "b", "c"]);
}

#[test]
fn upstream_order_is_respected_and_second_run_is_cached() {
    let a = stage("a", 1, false, &[]);
    let b = stage("b", 1, false, &[&a]);
    let c = stage("c", 1, false, &[&a, &b]);
    let stages = vec![c, b, a];
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut fake = Fake::new(&store);
    let mut sink = EventSink::new("r");
    let p = plan(&stages, &store, &[]).unwrap();
    let s = run(&p, &store, &mut fake, &opts(4, false), &mut sink).unwrap();
    assert_eq!(fake.launched, ["a", "b", "c"]);
    assert_eq!(s.computed, 3);
    let p = plan(&stages, &store, &[]).unwrap();
    let s = run(&p, &store, &mut fake, &opts(4, false), &mut sink).unwrap();
    assert_eq!((s.computed, s.cached, s.ok), (0, 3, true));
    assert_eq!(fake.launched.len(), 3);
}

#[test]
fn default_stops_after_first_failure() {
    let a = stage("a", 1, false, &[]);
    let b = stage("b", 1, false, &[]);
    let c = stage("c", 1, false, &[]);
    let (summary, fake, events, _d) = go(&[a, b, c], opts(1, false), |f| {
        f.fail.insert("a".into());
    });
    assert_eq!(fake.launched, ["a"]);
    assert_eq!((summary.failed, summary.skipped, summary.ok), (1, 2, false));
    assert_eq!(summary.failures[0].name, "a");
    assert!(events.iter().any(|e| matches!(e,
        Event::Skipped { name, because, .. } if name == "b" && because == "stopped after `a` failed")));
    assert!(matches!(
        events.last(),
        Some(Event::RunFinished {
            ok: false,
            failed: 1,
            skipped: 2,
            ..
        })
    ));
}

#[test]
fn keep_going_skips_only_downstream() {
    let a = stage("a", 1, false, &[]);
    let a2 = stage("a2", 1, false, &[&a]);
    let b = stage("b", 1, false, &[]);
    let b2 = stage("b2", 1, false, &[&b]);
    let (summary, fake, events, _d) = go(&[a, a2, b, b2], opts(1, true), |f| {
        f.fail.insert("a".into());
    });
    assert_eq!(fake.launched, ["a", "b", "b2"]);
    assert_eq!(
        (summary.computed, summary.failed, summary.skipped),
        (2, 1, 1)
    );
    assert!(events.iter().any(|e| matches!(e,
        Event::Skipped { name, because, .. } if name == "a2" && because == "upstream `a` did not complete")));
}

#[test]
fn cancel_flag_cancels_and_returns() {
    let stages: Vec<_> = (0..4)
        .map(|i| stage(&format!("s{i}"), 1, false, &[]))
        .collect();
    let flag = Arc::new(AtomicBool::new(false));
    let o = RunOptions {
        jobs: 2,
        cancel: flag.clone(),
        ..RunOptions::default()
    };
    let (summary, fake, _, _d) = go(&stages, o, |f| f.cancel_after = Some((2, flag.clone())));
    assert!(summary.cancelled);
    assert!(!summary.ok);
    assert!(fake.cancelled);
    assert!(fake.launched.len() < 4);
}

#[test]
fn a_bad_input_failure_carries_its_reason() {
    let a = stage("a", 1, false, &[]);
    let b = stage("b", 1, false, &[&a]);
    let (summary, _fake, events, _d) = go(&[a, b], opts(1, false), |f| {
        f.bad_input.insert("a".into());
    });
    assert_eq!((summary.failed, summary.skipped), (1, 1));
    assert!(summary.failures[0].bad_input);
    assert_eq!(
        summary.failures[0].reason,
        "corrupt or unreadable image `a/x.png`: truncated"
    );
    assert!(events.iter().any(|e| matches!(e,
        Event::Failed { name, reason, bad_input: true, .. }
            if name == "a" && reason.contains("a/x.png"))));
}
