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
        output_sizes: BTreeMap::new(),
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
    assert!(matches!(store.check(&fp), Integrity::Corrupt(_)));

    let mut m = manifest(&s);
    m.schema = STORE_SCHEMA_VERSION + 1;
    std::fs::write(&mpath, serde_json::to_vec(&m).unwrap()).unwrap();
    assert_eq!(store.read_manifest(&fp).unwrap(), None);

    // Republishing over a corrupt artifact replaces it.
    let staging = store.create_staging(&fp).unwrap();
    store.publish(&staging, &manifest(&s)).unwrap();
    assert_eq!(store.check(&fp), Integrity::Intact);
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

/// Publishes `sq/<x>` with one output `out.txt` (settled: mtime 10 s ago,
/// so a check may stamp it) and returns its fingerprint.
fn publish_with_output(store: &Store, x: i64, content: &[u8]) -> Fingerprint {
    let s = spec(&format!("sq/{x}"), x);
    let fp = s.fingerprint();
    let staging = store.create_staging(&fp).unwrap();
    std::fs::write(staging.join("out.txt"), content).unwrap();
    let mut m = manifest(&s);
    m.outputs = crate::hashing::hash_dir(&staging, &[]).unwrap();
    m.output_sizes = BTreeMap::from([("out.txt".to_string(), content.len() as u64)]);
    let dir = store.publish(&staging, &m).unwrap();
    age(&dir.join("out.txt"));
    age(&dir.join(MANIFEST));
    fp
}

fn age(path: &Path) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(10))
        .unwrap();
}

#[test]
fn check_finds_each_kind_of_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let fp = publish_with_output(&store, 1, b"0.756");
    assert_eq!(store.check(&fp), Integrity::Intact);
    let out = store.artifact_dir(&fp).join("out.txt");
    let mpath = store.artifact_dir(&fp).join(MANIFEST);
    let good_manifest = std::fs::read(&mpath).unwrap();

    // A flipped digit: same size.
    std::fs::write(&out, b"0.956").unwrap();
    assert_eq!(
        store.check(&fp),
        Integrity::Corrupt(Corruption::HashMismatch {
            file: "out.txt".into()
        })
    );
    // Truncated: the size says it without hashing.
    std::fs::write(&out, b"0.7").unwrap();
    let Integrity::Corrupt(c) = store.check(&fp) else {
        panic!()
    };
    assert_eq!(
        c.to_string(),
        "out.txt size mismatch (3 bytes, the manifest says 5)"
    );
    std::fs::remove_file(&out).unwrap();
    assert_eq!(
        store.check(&fp),
        Integrity::Corrupt(Corruption::MissingFile {
            file: "out.txt".into()
        })
    );
    std::fs::write(&out, b"0.756").unwrap();
    assert_eq!(store.check(&fp), Integrity::Intact);

    std::fs::write(&mpath, b"\x00garbage").unwrap();
    let Integrity::Corrupt(c) = store.check(&fp) else {
        panic!()
    };
    assert!(c.to_string().starts_with("unreadable manifest ("), "{c}");
    assert_eq!(c.file(), MANIFEST);
    // Valid JSON of another fingerprint is not this object's manifest.
    let mut other = manifest(&spec("sq/9", 9));
    other.outputs.insert("out.txt".into(), "0".repeat(64));
    std::fs::write(&mpath, serde_json::to_vec(&other).unwrap()).unwrap();
    assert!(matches!(
        store.check(&fp),
        Integrity::Corrupt(Corruption::ForeignManifest { .. })
    ));
    std::fs::remove_file(&mpath).unwrap();
    assert_eq!(
        store.check(&fp),
        Integrity::Corrupt(Corruption::MissingManifest)
    );
    std::fs::write(&mpath, &good_manifest).unwrap();
    assert_eq!(store.check(&fp), Integrity::Intact);

    let unpublished = spec("sq/2", 2).fingerprint();
    assert_eq!(store.check(&unpublished), Integrity::Missing);
}

#[test]
fn manifest_with_an_unknown_optional_field_is_intact() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let fp = publish_with_output(&store, 1, b"x");
    let mpath = store.artifact_dir(&fp).join(MANIFEST);
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
    v["environment"] = serde_json::json!({"cpu_isa": "avx2"});
    v.as_object_mut().unwrap().remove("output_sizes");
    std::fs::write(&mpath, serde_json::to_vec(&v).unwrap()).unwrap();
    assert_eq!(store.check(&fp), Integrity::Intact);
}

#[test]
fn stamps_spare_the_hash_until_a_stat_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let fp = publish_with_output(&store, 1, b"hello");
    assert_eq!(
        store.check_all(std::slice::from_ref(&fp)),
        vec![Integrity::Intact]
    );
    assert!(store.stamps_path().is_file());

    // A fresh handle trusts the saved stamp: a file rewritten behind the
    // store's back with its old stat restored is not rehashed (the price of
    // the stat cache; `audit` and `fsck` always hash).
    let out = store.artifact_dir(&fp).join("out.txt");
    let meta = std::fs::metadata(&out).unwrap();
    std::fs::write(&out, b"HELLO").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&out)
        .unwrap()
        .set_modified(meta.modified().unwrap())
        .unwrap();
    let fresh = Store::at(dir.path());
    assert_eq!(fresh.check(&fp), Integrity::Intact);
    assert!(!fresh.audit(&fp).unwrap().is_intact());

    // Any stat change (here the mtime) makes the next check hash again.
    age(&out);
    let fresh = Store::at(dir.path());
    assert_eq!(
        fresh.check(&fp),
        Integrity::Corrupt(Corruption::HashMismatch {
            file: "out.txt".into()
        })
    );
}

#[test]
fn files_written_just_now_are_not_stamped() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let fp = publish_with_output(&store, 1, b"hello");
    // Touched now: a write in the same mtime tick could go unseen.
    std::fs::write(store.artifact_dir(&fp).join("out.txt"), b"hello").unwrap();
    assert_eq!(
        store.check_all(std::slice::from_ref(&fp)),
        vec![Integrity::Intact]
    );
    let saved = std::fs::read_to_string(store.stamps_path()).unwrap_or_default();
    assert!(!saved.contains(fp.as_str()), "{saved}");
}

#[test]
fn a_read_only_stamp_file_is_no_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let fp = publish_with_output(&store, 1, b"hello");
    // verified.json as a directory: it cannot be written, by anyone.
    std::fs::create_dir(store.stamps_path()).unwrap();
    assert_eq!(
        store.check_all(std::slice::from_ref(&fp)),
        vec![Integrity::Intact]
    );
    assert!(store.save_stamps().is_err());
}

#[test]
fn quarantine_moves_the_object_aside_and_publish_replaces_a_corrupt_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let fp = publish_with_output(&store, 1, b"good");
    let target = store.artifact_dir(&fp);
    std::fs::write(target.join("out.txt"), b"evil").unwrap();

    let s = spec("sq/1", 1);
    let staging = store.create_staging(&fp).unwrap();
    std::fs::write(staging.join("out.txt"), b"good").unwrap();
    let mut m = manifest(&s);
    m.outputs = crate::hashing::hash_dir(&staging, &[]).unwrap();
    store.publish(&staging, &m).unwrap();
    assert_eq!(std::fs::read(target.join("out.txt")).unwrap(), b"good");
    assert_eq!(store.check(&fp), Integrity::Intact);
    let q: Vec<_> = std::fs::read_dir(dir.path().join("quarantine"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(std::fs::read(q[0].join("out.txt")).unwrap(), b"evil");
    assert!(q[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with(fp.as_str()));

    let aside = store.quarantine(&fp).unwrap();
    assert!(aside.join("out.txt").is_file());
    assert_eq!(store.check(&fp), Integrity::Missing);
}
