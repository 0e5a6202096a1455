//! Tests of the toy study: validation, expansion and its fingerprints, and
//! the committed 1,020-stage benchmark experiment.

use std::collections::BTreeSet;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::experiment::{load, load_str};
use crate::test_support::{expand_with, load_text, manifest_dir, problems, timed};

#[test]
fn toy_validation() {
    let ps = problems("kind = \"toy\"\nname = \"t\"\n[toy]\nvalues = [1, 1]\nfail = [9]\nn = -1\n");
    let keys: Vec<&str> = ps.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["toy.values[1]", "toy.fail[0]", "toy.n"]);
}

/// 2^63 - 1 used to wrap silently in `toy.square` (x * x in release);
/// now planning names the value.
#[test]
fn toy_values_that_overflow_are_named() {
    let ps = problems("kind = \"toy\"\nname = \"t\"\n[toy]\nvalues = [3, 9223372036854775807]\n");
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!(ps[0].key, "toy.values[1]");
    assert_eq!(
        ps[0].message,
        "9223372036854775807: its square overflows a 64-bit integer (|value| must be at most 3037000499)"
    );
    // The largest allowed value is fine alone; two of them overflow the sum.
    assert!(load_text("kind = \"toy\"\nname = \"t\"\n[toy]\nvalues = [3037000499]\n").is_ok());
    let ps = problems("kind = \"toy\"\nname = \"t\"\n[toy]\nvalues = [3037000499, -3037000499]\n");
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert!(ps[0].message.contains("sum of the squares"), "{ps:?}");
}

#[test]
fn toy_expansion() {
    let exp = load(&manifest_dir().join("../../experiments/toy.toml")).expect("valid");
    assert_eq!(exp.kind(), "toy");
    let specs = expand_with(&exp, Path::new("/nonexistent"), false).expect("expands");
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "toy/gen/s0",
            "toy/square/s0/x1",
            "toy/square/s0/x2",
            "toy/square/s0/x3",
            "toy/sum/s0",
            "toy/gen/s1",
            "toy/square/s1/x1",
            "toy/square/s1/x2",
            "toy/square/s1/x3",
            "toy/sum/s1",
        ]
    );
    let gen = &specs[0];
    assert_eq!(gen.kind, "toy.gen");
    assert_eq!(
        serde_json::to_string(&gen.params).expect("json"),
        r#"{"n":4,"seed":0,"sleep_ms":0}"#
    );
    let sq = &specs[2];
    assert_eq!(sq.kind, "toy.square");
    assert_eq!(
        serde_json::to_string(&sq.params).expect("json"),
        r#"{"fail":false,"sleep_ms":0,"slow_write_ms":0,"x":2}"#
    );
    assert_eq!(sq.upstream["gen"], gen.fingerprint());
    let sum = &specs[4];
    assert_eq!(sum.kind, "toy.sum");
    assert_eq!(
        sum.upstream.keys().collect::<Vec<_>>(),
        ["sq_1", "sq_2", "sq_3"]
    );
    assert_eq!(sum.upstream["sq_2"], sq.fingerprint());

    // Adding a value adds exactly its square per seed and changes each sum.
    let text = std::fs::read_to_string(&exp.path)
        .expect("read")
        .replace("[1, 2, 3]", "[1, 2, 3, 4]");
    let exp2 = load_str(&exp.path, &text).expect("valid");
    let specs2 = expand_with(&exp2, Path::new("/nonexistent"), false).expect("expands");
    let before: BTreeSet<String> = specs.iter().map(|s| s.fingerprint().to_string()).collect();
    let new: Vec<&str> = specs2
        .iter()
        .filter(|s| !before.contains(s.fingerprint().as_str()))
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        new,
        [
            "toy/square/s0/x4",
            "toy/sum/s0",
            "toy/square/s1/x4",
            "toy/sum/s1"
        ]
    );
}

#[test]
fn toy_fail_and_slow_write() {
    let exp = load_text(
        "kind = \"toy\"\nname = \"t\"\n[toy]\nvalues = [5, 6]\nfail = [6]\nslow_write_ms = 50\n",
    )
    .expect("valid");
    let specs = expand_with(&exp, Path::new("/x"), false).expect("expands");
    let x6 = specs
        .iter()
        .find(|s| s.name == "toy/square/s0/x6")
        .expect("x6");
    assert_eq!(x6.params["fail"], true);
    assert_eq!(x6.params["slow_write_ms"], 50);
}

/// Every fingerprint of `experiments/toy.toml` (at code version 1), pinned.
#[test]
fn toy_fingerprints_are_pinned() {
    let exp = load(&manifest_dir().join("../../experiments/toy.toml")).expect("valid");
    let specs = expand_with(&exp, Path::new("/nonexistent"), false).expect("expands");
    let fps: std::collections::BTreeMap<String, String> = specs
        .iter()
        .map(|s| (s.name.clone(), s.fingerprint().to_string()))
        .collect();
    assert_eq!(
        fps["toy/gen/s0"],
        "e1e01ad75df6195dbae9ef021b798de651787e96146c42975e3f9bffaaf5c6e1"
    );
    let lines: String = fps.iter().map(|(n, fp)| format!("{n} {fp}\n")).collect();
    assert_eq!(
        engine::fingerprint::hex(&Sha256::digest(lines)),
        "a4fa6b34241d4a01a7f56ea93634324684dc6efc131418175c2c19dc8c7a6453"
    );
}

#[test]
fn bench_1000_toy_expands_quickly() {
    let exp = load(&manifest_dir().join("../../experiments/bench-1000.toml")).expect("valid");
    let (specs, dt) = timed(|| expand_with(&exp, Path::new("/x"), false).expect("expands"));
    assert_eq!(specs.len(), 1020);
    eprintln!(
        "bench-1000 (toy): {} stages expanded in {dt:?}",
        specs.len()
    );
}

#[test]
#[ignore = "profiling aid"]
fn profile_fingerprint_share() {
    let exp = load(&manifest_dir().join("../../experiments/bench-1000.toml")).expect("valid");
    let (specs, total) = timed(|| expand_with(&exp, Path::new("/x"), false).expect("expands"));
    let (_, fp) = timed(|| specs.iter().map(|s| s.fingerprint()).collect::<Vec<_>>());
    let (_, clone) = timed(|| {
        specs
            .iter()
            .map(|s| s.fingerprint_inputs())
            .collect::<Vec<_>>()
    });
    eprintln!("expand {total:?}, fingerprints alone {fp:?}, clones alone {clone:?}");
}
