use std::collections::BTreeSet;

use super::tests::{manifest, spec};
use super::*;

fn publish(store: &Store, name: &str, x: i64) -> Fingerprint {
    let s = spec(name, x);
    store.write_spec(&s).unwrap();
    let staging = store.create_staging(&s.fingerprint()).unwrap();
    std::fs::write(staging.join("out.txt"), x.to_string().repeat(100)).unwrap();
    store.publish(&staging, &manifest(&s)).unwrap();
    s.fingerprint()
}

fn set(fps: &[&Fingerprint]) -> BTreeSet<Fingerprint> {
    fps.iter().map(|f| (*f).clone()).collect()
}

fn removed(r: &GcReport) -> BTreeSet<Fingerprint> {
    r.removed.iter().map(|i| i.fingerprint.clone()).collect()
}

#[test]
fn dry_run_lists_the_unrooted_and_removes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = publish(&store, "a", 1);
    let b = publish(&store, "b", 2);
    let opts = GcOptions {
        dry_run: true,
        keep_runs: None,
    };
    let r = gc(&store, &set(&[&a]), &opts).unwrap();
    assert_eq!(removed(&r), set(&[&b]));
    assert!(r.removed[0].published);
    assert_eq!(r.removed[0].name.as_deref(), Some("b"));
    // 200 bytes of output plus the manifest and the spec
    assert!(r.bytes_freed() > 200, "{}", r.bytes_freed());
    assert_eq!(r.kept_objects, 1);
    assert!(store.is_published(&b));
}

#[test]
fn gc_removes_object_spec_logs_and_name_and_keeps_roots_and_pins() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = publish(&store, "a", 1);
    let b = publish(&store, "b", 2);
    let c = publish(&store, "c", 3);
    std::fs::create_dir_all(store.log_path(&b, "r1").parent().unwrap()).unwrap();
    std::fs::write(store.log_path(&b, "r1"), b"log").unwrap();
    assert!(store.pin(&c, "c").unwrap());
    let r = gc(&store, &set(&[&a]), &GcOptions::default()).unwrap();
    assert_eq!(removed(&r), set(&[&b]));
    assert_eq!(r.names, 1);
    assert!(!store.artifact_dir(&b).exists());
    assert!(!store.spec_path(&b).exists());
    assert!(!store.log_path(&b, "r1").exists());
    assert_eq!(store.latest_for_name("b"), None);
    assert_eq!(store.check(&a), Integrity::Intact);
    assert_eq!(store.check(&c), Integrity::Intact);
    // unpinned, c goes on the next pass
    assert!(store.unpin(&c).unwrap());
    let r = gc(&store, &set(&[&a]), &GcOptions::default()).unwrap();
    assert_eq!(removed(&r), set(&[&c]));
}

#[test]
fn a_locked_object_is_left_alone_and_reported_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let b = publish(&store, "b", 2);
    let held = store.lock(&b).unwrap();
    let r = gc(&store, &BTreeSet::new(), &GcOptions::default()).unwrap();
    assert!(r.removed.is_empty());
    assert_eq!(r.in_use.len(), 1);
    assert!(store.is_published(&b));
    drop(held);
    let r = gc(&store, &BTreeSet::new(), &GcOptions::default()).unwrap();
    assert_eq!(removed(&r), set(&[&b]));
}

#[test]
fn a_live_run_roots_its_fingerprints_and_a_dead_one_is_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let b = publish(&store, "b", 2);
    let run = store
        .register_run("r-live", std::slice::from_ref(&b))
        .unwrap();
    let r = gc(&store, &BTreeSet::new(), &GcOptions::default()).unwrap();
    assert!(r.removed.is_empty());
    assert_eq!((r.live_runs, r.live_fingerprints), (1, 1));
    // a run killed without cleaning up: its file stays, its lock does not
    let dead = dir.path().join("active").join("r-dead.json");
    std::fs::write(&dead, br#"{"fingerprints": []}"#).unwrap();
    drop(run);
    let r = gc(&store, &BTreeSet::new(), &GcOptions::default()).unwrap();
    assert_eq!(removed(&r), set(&[&b]));
    assert_eq!(r.live_runs, 0);
    assert!(!dead.exists());
}

#[test]
fn keep_runs_keeps_the_newest_run_logs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for id in [
        "20261201T100000Z-0001",
        "20261201T110000Z-0002",
        "20261202T090000Z-0003",
    ] {
        std::fs::write(store.run_log_path(id), b"{}\n").unwrap();
    }
    let opts = GcOptions {
        dry_run: false,
        keep_runs: Some(1),
    };
    let r = gc(&store, &BTreeSet::new(), &opts).unwrap();
    assert_eq!(r.run_logs.len(), 2);
    assert!(store.run_log_path("20261202T090000Z-0003").exists());
    assert!(!store.run_log_path("20261201T100000Z-0001").exists());
}

#[test]
fn stale_staging_goes_a_held_one_stays() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let s1 = spec("s1", 1).fingerprint();
    let s2 = spec("s2", 2).fingerprint();
    let stale = store.create_staging(&s1).unwrap();
    let live = store.create_staging(&s2).unwrap();
    let held = store.lock(&s2).unwrap();
    let r = gc(&store, &BTreeSet::new(), &GcOptions::default()).unwrap();
    assert_eq!(r.staging.len(), 1);
    assert!(!stale.exists());
    assert!(live.exists());
    drop(held);
}
