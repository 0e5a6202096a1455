//! Integrity on read, through the real binary on the toy study (no
//! libtorch): each corruption (a flipped byte, a truncated file, a deleted
//! file, a garbage manifest) of a metrics-like JSON (`result.json` of a
//! square), a model-like binary (`slow.bin` of a square) and an upstream
//! output that downstream stages read, as cached logits are (`values.json`
//! of gen) is shown by `status` and `why`, reported by `verify` and `fsck`,
//! never read by a downstream stage (a forced downstream run recomputes the
//! upstream first; exec-stage itself refuses), repaired by `fsck --repair`
//! and recomputed by `run`. `compare` needs a KD study; its refusal is
//! tested on the tables' read path (`src/tables/read.rs`).

#![allow(clippy::unwrap_used)] // tests panic on purpose

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;

const GEN: &str = "toy/gen/s0";
const SQUARE: &str = "toy/square/s0/x1";
const SUM: &str = "toy/sum/s0";

#[derive(Clone, Copy, Debug)]
enum Damage {
    Flip,
    Truncate,
    Delete,
    GarbageManifest,
}

impl Damage {
    fn apply(self, dir: &Path, file: &str) {
        let path = dir.join(file);
        match self {
            Damage::Flip => {
                let mut b = std::fs::read(&path).unwrap();
                let i = b.len() / 2;
                b[i] ^= 0x01;
                std::fs::write(&path, b).unwrap();
            }
            Damage::Truncate => {
                let f = std::fs::File::options().write(true).open(&path).unwrap();
                let len = f.metadata().unwrap().len();
                f.set_len(len / 2).unwrap();
            }
            Damage::Delete => std::fs::remove_file(&path).unwrap(),
            Damage::GarbageManifest => {
                std::fs::write(dir.join("manifest.json"), b"\x00{garbage").unwrap()
            }
        }
    }

    /// What the reason says.
    fn detail(self, file: &str) -> String {
        match self {
            Damage::Flip => format!("corrupt: {file} hash mismatch"),
            Damage::Truncate => format!("corrupt: {file} size mismatch"),
            Damage::Delete => format!("corrupt: missing file {file}"),
            Damage::GarbageManifest => "corrupt: unreadable manifest (".into(),
        }
    }
}

struct Toy {
    _dir: tempfile::TempDir,
    store: PathBuf,
    exp: String,
    fps: BTreeMap<String, String>,
}

impl Toy {
    /// Values 1 and 2 of seed 0; `slow_write_ms` makes each square also
    /// write the binary `slow.bin`.
    fn run() -> Toy {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let exp = write_toy(
            dir.path(),
            "toy.toml",
            "[0]",
            "values = [1, 2]\nslow_write_ms = 1",
        )
        .to_str()
        .unwrap()
        .to_owned();
        ok(&kdpipe(&store, &["run", &exp, "--plain"]));
        let status = kdpipe(&store, &["status", &exp, "--json"]);
        ok(&status);
        let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
        let fps = v["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_owned(),
                    s["fingerprint"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        Toy {
            _dir: dir,
            store,
            exp,
            fps,
        }
    }

    fn dir(&self, stage: &str) -> PathBuf {
        let fp = &self.fps[stage];
        self.store.join("objects").join(&fp[..2]).join(fp)
    }

    fn k(&self, args: &[&str]) -> std::process::Output {
        kdpipe(&self.store, args)
    }

    /// `status` line of `stage`.
    fn status_line(&self, stage: &str) -> String {
        let out = self.k(&["status", &self.exp]);
        ok(&out);
        stdout(&out)
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == stage))
            .unwrap_or_else(|| panic!("{stage} not in status:\n{}", stdout(&out)))
            .to_owned()
    }

    /// Files of `stage`'s artifact (manifest left out), name → bytes.
    fn files(&self, stage: &str) -> BTreeMap<String, Vec<u8>> {
        let dir = self.dir(stage);
        tree(&dir)
            .into_iter()
            .filter(|f| f != "manifest.json" && dir.join(f).is_file())
            .map(|f| {
                let b = std::fs::read(dir.join(&f)).unwrap();
                (f, b)
            })
            .collect()
    }
}

/// One case: damage `file` of `stage` (downstream: `down`), then check
/// every command's view of it.
fn case(stage: &str, down: &str, file: &str, damage: Damage) {
    let ctx = format!("{damage:?} {stage}/{file}");
    let toy = Toy::run();
    let good = toy.files(stage);
    let good_down = toy.files(down);
    damage.apply(&toy.dir(stage), file);

    // status: not cached, and why.
    let line = toy.status_line(stage);
    assert!(line.contains("will run"), "{ctx}: {line}");
    assert!(line.contains(&damage.detail(file)), "{ctx}: {line}");
    // The downstream artifact was computed from intact bytes: still cached.
    assert!(toy.status_line(down).contains("cached"), "{ctx}");
    let dry = toy.k(&["run", &toy.exp, "--dry-run"]);
    assert!(
        stdout(&dry).contains(&damage.detail(file)),
        "{ctx}: {}",
        stdout(&dry)
    );
    let why = toy.k(&["why", &toy.exp, stage]);
    ok(&why);
    assert!(
        stdout(&why).contains(&damage.detail(file)),
        "{ctx}: {}",
        stdout(&why)
    );

    // verify: the files on disk differ from the manifest.
    let verify = toy.k(&["verify", &toy.exp, stage]);
    let out = stdout(&verify);
    assert_eq!(
        verify.status.code(),
        Some(1),
        "{ctx}: {out}{}",
        stderr(&verify)
    );
    assert!(
        out.contains("files on disk vs manifest: 1 problem(s)"),
        "{ctx}: {out}"
    );
    assert!(out.contains("CORRUPT"), "{ctx}: {out}");
    if !matches!(damage, Damage::GarbageManifest) {
        // The manifest and a rerun agree: the disk is what is wrong.
        assert!(out.contains("rerun vs manifest: identical"), "{ctx}: {out}");
    }

    // fsck finds it, names stage and file.
    let fsck = toy.k(&["fsck"]);
    let out = stdout(&fsck);
    assert_eq!(fsck.status.code(), Some(1), "{ctx}: {out}");
    let detail = damage.detail(file);
    let detail = detail.trim_start_matches("corrupt: ");
    assert!(
        out.lines()
            .any(|l| l.contains("corrupt") && l.contains(stage) && l.contains(detail)),
        "{ctx}: {out}"
    );
    assert!(out.contains("1 problem(s) found"), "{ctx}: {out}");

    // A forced run of the downstream stage recomputes the upstream first and
    // never reads the corrupt bytes.
    let run = toy.k(&["run", &toy.exp, "--force", down, "--plain"]);
    ok(&run);
    let computed = names_with(&last_events(&toy.store), "finished");
    assert!(computed.contains(&stage.to_owned()), "{ctx}: {computed:?}");
    assert!(computed.contains(&down.to_owned()), "{ctx}: {computed:?}");
    assert_eq!(toy.files(stage), good, "{ctx}: upstream not restored");
    assert_eq!(toy.files(down), good_down, "{ctx}: downstream differs");
    // The corrupt object was moved aside, not deleted.
    let quarantined = std::fs::read_dir(toy.store.join("quarantine"))
        .unwrap()
        .count();
    assert_eq!(quarantined, 1, "{ctx}");
    let fsck = toy.k(&["fsck"]);
    assert_eq!(fsck.status.code(), Some(0), "{ctx}: {}", stdout(&fsck));
    assert!(stdout(&fsck).contains("clean"), "{ctx}");
}

#[test]
fn metrics_like_json_flip_truncate_delete_garbage_manifest() {
    for d in [
        Damage::Flip,
        Damage::Truncate,
        Damage::Delete,
        Damage::GarbageManifest,
    ] {
        case(SQUARE, SUM, "result.json", d);
    }
}

#[test]
fn model_like_binary_flip_truncate_delete() {
    for d in [Damage::Flip, Damage::Truncate, Damage::Delete] {
        case(SQUARE, SUM, "slow.bin", d);
    }
}

#[test]
fn upstream_output_read_downstream_flip_truncate_delete_garbage_manifest() {
    for d in [
        Damage::Flip,
        Damage::Truncate,
        Damage::Delete,
        Damage::GarbageManifest,
    ] {
        case(GEN, SQUARE, "values.json", d);
    }
}

#[test]
fn exec_stage_refuses_a_corrupt_upstream_and_publishes_nothing() {
    let toy = Toy::run();
    // The square is gone (so it would run) and its upstream is corrupt.
    std::fs::remove_dir_all(toy.dir(SQUARE)).unwrap();
    Damage::Flip.apply(&toy.dir(GEN), "values.json");
    let out = toy.k(&["exec-stage", &toy.fps[SQUARE]]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("upstream `gen`"), "{err}");
    assert!(err.contains(GEN), "{err}");
    assert!(err.contains("values.json hash mismatch"), "{err}");
    assert!(
        !toy.dir(SQUARE).exists(),
        "published from a corrupt upstream"
    );
    assert!(
        std::fs::read_dir(toy.store.join("tmp"))
            .unwrap()
            .next()
            .is_none(),
        "staging left behind"
    );
}

#[test]
fn a_change_after_the_stamp_is_seen_and_fsck_repair_quarantines() {
    let toy = Toy::run();
    // Let the files settle, so that this status stamps them; the next
    // status trusts the stamp only while the stat tuples are unchanged.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert!(toy.status_line(SQUARE).contains("cached"));
    assert!(toy.store.join("verified.json").is_file());
    Damage::Flip.apply(&toy.dir(SQUARE), "result.json");
    assert!(toy
        .status_line(SQUARE)
        .contains("corrupt: result.json hash mismatch"));

    // A stray staging folder of a dead run, and a name link to nothing.
    let stray = toy
        .store
        .join("tmp")
        .join(format!("{}.1.deadbeef", toy.fps[SUM]));
    std::fs::create_dir_all(&stray).unwrap();
    let dangling = toy.store.join("names").join("0".repeat(32));
    std::fs::write(&dangling, "f".repeat(64)).unwrap();

    let fsck = toy.k(&["fsck"]);
    let out = stdout(&fsck);
    assert_eq!(fsck.status.code(), Some(1), "{out}");
    assert!(out.contains("3 problem(s) found"), "{out}");
    assert!(out.contains("staging   tmp/"), "{out}");
    assert!(out.contains("dangling  names/"), "{out}");

    let repair = toy.k(&["fsck", "--repair"]);
    let out = stdout(&repair);
    assert_eq!(repair.status.code(), Some(1), "{out}");
    assert!(out.contains("3 problem(s) found, 3 repaired"), "{out}");
    assert!(out.contains("quarantined to quarantine/"), "{out}");
    assert!(!toy.dir(SQUARE).exists());
    assert!(!stray.exists() && !dangling.exists());
    let q: Vec<_> = std::fs::read_dir(toy.store.join("quarantine"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(q.len(), 1);
    assert!(q[0].join("result.json").is_file());

    let fsck = toy.k(&["fsck"]);
    assert_eq!(fsck.status.code(), Some(0), "{}", stdout(&fsck));
    // The quarantined stage runs again; nothing else does.
    assert!(toy.status_line(SQUARE).contains("will run"));
    ok(&toy.k(&["run", &toy.exp, "--plain"]));
    assert_eq!(
        names_with(&last_events(&toy.store), "finished"),
        vec![SQUARE.to_owned()]
    );
}

#[test]
fn fsck_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = kdpipe(&dir.path().join("nothing"), &["fsck"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not an artifact store"),
        "{}",
        stderr(&out)
    );
    let toy = Toy::run();
    let out = toy.k(&["fsck"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("4 object(s)"), "{}", stdout(&out));
}
