use std::collections::BTreeMap;

use super::*;
use crate::spec::Resources;

pub(crate) fn spec(name: &str, x: i64) -> StageSpec {
    StageSpec {
        name: name.into(),
        kind: "toy.square".into(),
        code_version: 1,
        params: BTreeMap::from([("x".to_string(), serde_json::json!(x))]),
        upstream: BTreeMap::new(),
        inputs: BTreeMap::new(),
        input_root: None,
        resources: Resources::default(),
    }
}

pub(crate) fn manifest(spec: &StageSpec) -> Manifest {
    Manifest {
        schema: STORE_SCHEMA_VERSION,
        name: spec.name.clone(),
        kind: spec.kind.clone(),
        fingerprint: spec.fingerprint(),
        inputs: spec.fingerprint_inputs(),
        outputs: BTreeMap::new(),
        started_at: now_rfc3339(),
        finished_at: now_rfc3339(),
        wall_s: 0.0,
        cpu_s: 0.0,
        host: hostname(),
        kdpipe_version: "test".into(),
        threads: 1,
        device: "cpu".into(),
        executor: "test".into(),
        summary: serde_json::Value::Null,
    }
}

#[test]
fn open_creates_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    Store::open(&root).unwrap();
    for d in DIRS {
        assert!(root.join(d).is_dir(), "{d}");
    }
}

#[test]
fn staging_is_invisible_until_published() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let s = spec("sq/3", 3);
    let fp = s.fingerprint();
    let staging = store.create_staging(&fp).unwrap();
    assert!(staging.starts_with(dir.path().join("tmp")));
    std::fs::write(staging.join("out.txt"), b"9").unwrap();
    assert!(!store.is_published(&fp));
    assert_eq!(store.read_manifest(&fp).unwrap(), None);
    assert_eq!(store.latest_for_name("sq/3"), None);

    let target = store.publish(&staging, &manifest(&s)).unwrap();
    assert_eq!(target, store.artifact_dir(&fp));
    assert!(!staging.exists());
    assert!(store.is_published(&fp));
    assert_eq!(std::fs::read(target.join("out.txt")).unwrap(), b"9");
    assert_eq!(store.read_manifest(&fp).unwrap().unwrap().name, "sq/3");
    assert_eq!(store.latest_for_name("sq/3"), Some(fp.clone()));
    assert!(target.starts_with(dir.path().join("objects").join(&fp.as_str()[..2])));
}

#[test]
fn corrupt_or_foreign_manifest_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let s = spec("sq/1", 1);
    let fp = s.fingerprint();
    let staging = store.create_staging(&fp).unwrap();
    store.publish(&staging, &manifest(&s)).unwrap();
    let mpath = store.artifact_dir(&fp).join(MANIFEST);

    std::fs::write(&mpath, b"{\"schema\": 1, trunc").unwrap();
    assert_eq!(store.read_manifest(&fp).unwrap(), None);
    assert!(!store.is_usable(&fp));

    let mut m = manifest(&s);
    m.schema = STORE_SCHEMA_VERSION + 1;
    std::fs::write(&mpath, serde_json::to_vec(&m).unwrap()).unwrap();
    assert_eq!(store.read_manifest(&fp).unwrap(), None);

    // Republishing over a corrupt artifact replaces it.
    let staging = store.create_staging(&fp).unwrap();
    store.publish(&staging, &manifest(&s)).unwrap();
    assert!(store.is_usable(&fp));
}

#[test]
fn spec_round_trip_and_tamper_check() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let s = spec("sq/2", 2);
    let fp = store.write_spec(&s).unwrap();
    assert_eq!(store.read_spec(&fp).unwrap(), s);

    let other = spec("sq/5", 5).fingerprint();
    let err = store.read_spec(&other).unwrap_err();
    assert!(err.to_string().contains(other.as_str()), "{err}");

    let tampered = spec("sq/2", 7);
    std::fs::write(store.spec_path(&fp), serde_json::to_vec(&tampered).unwrap()).unwrap();
    let err = store.read_spec(&fp).unwrap_err();
    assert!(err.to_string().contains("hashes to"), "{err}");
}

#[test]
fn clean_stale_tmp_spares_locked_staging() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let live = spec("a", 1).fingerprint();
    let dead = spec("b", 2).fingerprint();
    let held = store.lock(&live).unwrap();
    let live_dir = store.create_staging(&live).unwrap();
    let dead_dir = store.create_staging(&dead).unwrap();
    assert_eq!(store.clean_stale_tmp().unwrap(), 1);
    assert!(live_dir.exists());
    assert!(!dead_dir.exists());
    drop(held);
    assert_eq!(store.clean_stale_tmp().unwrap(), 1);
    assert!(!live_dir.exists());
}

#[test]
fn log_and_run_paths() {
    let store = Store::at(Path::new("/s"));
    let fp = spec("a", 1).fingerprint();
    assert_eq!(
        store.log_path(&fp, "20260101T000000Z-abcd"),
        PathBuf::from(format!("/s/logs/{fp}/20260101T000000Z-abcd.log"))
    );
    assert_eq!(store.run_log_path("r"), PathBuf::from("/s/runs/r.jsonl"));
}
