use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::json;

use super::*;
use crate::spec::Resources;

#[derive(Default)]
struct Fake {
    published: HashSet<Fingerprint>,
    corrupt: HashMap<Fingerprint, crate::store::Corruption>,
    names: HashMap<String, Fingerprint>,
    manifests: HashMap<Fingerprint, Manifest>,
}

impl Fake {
    fn publish(&mut self, spec: &StageSpec) {
        let fp = spec.fingerprint();
        self.published.insert(fp.clone());
        self.names.insert(spec.name.clone(), fp.clone());
        self.manifests
            .insert(fp, crate::store::tests::manifest(spec));
    }
}

impl StoreView for Fake {
    fn check_all(&self, fps: &[Fingerprint]) -> Vec<Integrity> {
        fps.iter()
            .map(|fp| match self.corrupt.get(fp) {
                Some(c) => Integrity::Corrupt(c.clone()),
                None if self.published.contains(fp) => Integrity::Intact,
                None => Integrity::Missing,
            })
            .collect()
    }
    fn latest_for_name(&self, name: &str) -> Option<Fingerprint> {
        self.names.get(name).cloned()
    }
    fn manifest(&self, fp: &Fingerprint) -> Option<Manifest> {
        self.manifests.get(fp).cloned()
    }
}

fn gen(n: u64) -> StageSpec {
    StageSpec {
        name: "gen".into(),
        kind: "toy.gen".into(),
        code_version: 1,
        params: BTreeMap::from([
            ("seed".into(), json!(0)),
            ("n".into(), json!(n)),
            ("opt".into(), json!({"lr": 0.1, "sched": {"kind": "cos"}})),
        ]),
        upstream: BTreeMap::new(),
        inputs: BTreeMap::from([("a.txt".into(), "0".repeat(64))]),
        input_root: None,
        resources: Resources::default(),
    }
}

fn square(x: i64, gen: &StageSpec) -> StageSpec {
    StageSpec {
        name: format!("sq/{x}"),
        kind: "toy.square".into(),
        code_version: 1,
        params: BTreeMap::from([("x".into(), json!(x))]),
        upstream: BTreeMap::from([("gen".into(), gen.fingerprint())]),
        inputs: BTreeMap::new(),
        input_root: None,
        resources: Resources::default(),
    }
}

fn actions(p: &Plan) -> Vec<(String, Action)> {
    p.stages
        .iter()
        .map(|s| (s.spec.name.clone(), s.action.clone()))
        .collect()
}

#[test]
fn everything_new_then_everything_cached() {
    let g = gen(3);
    let stages = vec![square(2, &g), g.clone()];
    let mut store = Fake::default();
    let p = plan(&stages, &store, &[]).unwrap();
    assert_eq!(
        actions(&p),
        vec![
            ("gen".into(), Action::Run(vec![Reason::New])),
            ("sq/2".into(), Action::Run(vec![Reason::New])),
        ]
    );
    assert_eq!(p.stages[1].deps, vec![0]);
    for s in &stages {
        store.publish(s);
    }
    let p = plan(&stages, &store, &[]).unwrap();
    assert_eq!((p.to_run(), p.cached()), (0, 2));
}

#[test]
fn params_change_propagates_as_upstream_change() {
    let mut store = Fake::default();
    let g = gen(3);
    for s in [g.clone(), square(2, &g), square(3, &g)] {
        store.publish(&s);
    }
    let mut g2 = gen(4);
    g2.params
        .insert("opt".into(), json!({"lr": 0.2, "sched": {"kind": "cos"}}));
    let p = plan(&[g2.clone(), square(2, &g2), square(3, &g)], &store, &[]).unwrap();
    let summary: Vec<String> = p
        .stages
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s.spec.name,
                serde_json::to_string(&s.action).unwrap()
            )
        })
        .collect();
    insta::assert_snapshot!(summary.join("\n"), @r#"
    gen: {"action":"run","reasons":[{"reason":"params_changed","keys":["n","opt.lr"]}]}
    sq/2: {"action":"run","reasons":[{"reason":"upstream_changed","roles":["gen"]}]}
    sq/3: {"action":"cached"}
    "#);
}

#[test]
fn input_code_and_schema_reasons() {
    let mut store = Fake::default();
    let g = gen(3);
    store.publish(&g);
    let mut g2 = g.clone();
    g2.inputs.insert("a.txt".into(), "1".repeat(64));
    g2.inputs.insert("b.txt".into(), "2".repeat(64));
    g2.code_version = 2;
    let p = plan(&[g2], &store, &[]).unwrap();
    assert_eq!(
        p.stages[0].reasons(),
        &[
            Reason::CodeVersionChanged { from: 1, to: 2 },
            Reason::InputChanged {
                count: 2,
                keys: vec!["a.txt".into(), "b.txt".into()]
            },
        ]
    );
    assert_eq!(
        p.stages[0].reasons()[1].to_string(),
        "2 input file(s) changed: a.txt, b.txt"
    );

    let mut old = g.fingerprint_inputs();
    old.schema = 0;
    assert_eq!(
        reasons(&old, &g.fingerprint_inputs()),
        vec![Reason::SchemaChanged]
    );
}

#[test]
fn force_and_missing() {
    let mut store = Fake::default();
    let g = gen(3);
    let s2 = square(2, &g);
    store.publish(&g);
    store.publish(&s2);
    let p = plan(&[g.clone(), s2.clone()], &store, &["sq/*".into()]).unwrap();
    assert_eq!(p.stages[0].action, Action::Cached);
    assert_eq!(p.stages[1].action, Action::Run(vec![Reason::Forced]));

    // The artifact of the same fingerprint was deleted.
    store.published.remove(&s2.fingerprint());
    let p = plan(&[g, s2], &store, &[]).unwrap();
    assert_eq!(p.stages[1].action, Action::Run(vec![Reason::Missing]));
}

#[test]
fn corrupt_artifact_runs_with_its_reason_and_downstream_stays_cached() {
    let mut store = Fake::default();
    let g = gen(3);
    let s2 = square(2, &g);
    store.publish(&g);
    store.publish(&s2);
    store.corrupt.insert(
        g.fingerprint(),
        crate::store::Corruption::HashMismatch {
            file: "values.json".into(),
        },
    );
    let p = plan(&[g.clone(), s2.clone()], &store, &["sq/*".into()]).unwrap();
    assert_eq!(
        p.stages[0].action,
        Action::Run(vec![Reason::Corrupt {
            detail: "values.json hash mismatch".into()
        }])
    );
    assert_eq!(
        p.stages[0].reasons()[0].to_string(),
        "corrupt: values.json hash mismatch"
    );
    assert_eq!(p.stages[1].action, Action::Run(vec![Reason::Forced]));
    assert_eq!(p.stages[1].deps, vec![0]);
    // Not forced: the square was computed from intact bytes of the same
    // fingerprint, so it stays cached.
    let p = plan(&[g.clone(), s2], &store, &[]).unwrap();
    assert_eq!((p.to_run(), p.cached()), (1, 1));
    // A corrupt upstream outside the plan cannot be recomputed: an error.
    let err = plan(&[square(5, &g)], &store, &[]).unwrap_err();
    assert!(
        err.to_string().contains("values.json hash mismatch"),
        "{err}"
    );
}

#[test]
fn published_downstream_of_unpublished_upstream_is_cached() {
    let mut store = Fake::default();
    let g = gen(3);
    let s2 = square(2, &g);
    store.publish(&s2);
    let p = plan(&[g, s2], &store, &[]).unwrap();
    assert!(p.stages[0].will_run());
    assert_eq!(p.stages[1].action, Action::Cached);
}

#[test]
fn unpublished_external_upstream_is_an_error() {
    let g = gen(3);
    let err = plan(&[square(2, &g)], &Fake::default(), &[]).unwrap_err();
    assert!(err.to_string().contains(g.fingerprint().as_str()), "{err}");
}

#[test]
fn diff_inputs_field_by_field() {
    let g = gen(3);
    let mut g2 = gen(5);
    g2.params.insert(
        "opt".into(),
        json!({"lr": 0.1, "sched": {"kind": "step"}, "wd": 1}),
    );
    g2.params.remove("seed");
    g2.inputs.clear();
    g2.code_version = 3;
    let d = diff_inputs(&g.fingerprint_inputs(), &g2.fingerprint_inputs());
    insta::assert_json_snapshot!(d, @r#"
    [
      {
        "path": "code_version",
        "old": 1,
        "new": 3
      },
      {
        "path": "params.n",
        "old": 3,
        "new": 5
      },
      {
        "path": "params.opt.sched.kind",
        "old": "cos",
        "new": "step"
      },
      {
        "path": "params.opt.wd",
        "old": null,
        "new": 1
      },
      {
        "path": "params.seed",
        "old": 0,
        "new": null
      },
      {
        "path": "inputs.a.txt",
        "old": "0000000000000000000000000000000000000000000000000000000000000000",
        "new": null
      }
    ]
    "#);
}

#[test]
fn glob() {
    assert!(glob_match("*", "a/b"));
    assert!(glob_match("student/*/s0/*", "student/mri/s0/d2-T4-a0.5"));
    assert!(glob_match("sq/?", "sq/2"));
    assert!(!glob_match("sq/?", "sq/22"));
    assert!(!glob_match("teacher/*", "student/x"));
    assert!(glob_match("a*b*c", "aXXbYYc"));
}

/// Not a timed benchmark (see BENCHMARKS.md): a guard against accidentally
/// quadratic or I/O-heavy planning. 1,000 stages against a real store.
#[test]
fn planning_a_thousand_stages_is_cheap() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut stages = Vec::new();
    for seed in 0..10 {
        let mut g = gen(seed);
        g.name = format!("gen/{seed}");
        for x in 0..99 {
            let mut s = square(x, &g);
            s.name = format!("sq/{seed}/{x}");
            stages.push(s);
        }
        stages.push(g);
    }
    let t0 = std::time::Instant::now();
    let p = plan(&stages, &store, &[]).unwrap();
    let cold = t0.elapsed();
    assert_eq!(p.to_run(), 1000);
    for s in &p.stages {
        // A real manifest (planning checks it), without publish()'s fsyncs.
        let dir = store.artifact_dir(&s.fingerprint);
        std::fs::create_dir_all(&dir).unwrap();
        let m = crate::store::tests::manifest(&s.spec);
        std::fs::write(dir.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    }
    let t0 = std::time::Instant::now();
    let p = plan(&stages, &store, &[]).unwrap();
    let warm = t0.elapsed();
    assert_eq!(p.cached(), 1000);
    eprintln!("plan of 1000 stages: all new {cold:?}, all cached {warm:?}");
    assert!(cold.as_millis() < 1000 && warm.as_millis() < 1000);
}
