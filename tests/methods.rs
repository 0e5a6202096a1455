//! The `[sweep] method` axis end to end through the real binaries, on the
//! real built-in brain MRI set with tiny images and models: a Hinton-only
//! study, then all four methods: `status` names exactly the stages the new
//! methods add (the Hinton students, the shared controls and the teacher
//! stay cached), they run, their artifacts say how they were trained, the
//! tables carry a `method` column and pair every method with the control;
//! `[distill] source = "online"` reruns only the Hinton and DKD students;
//! a bad method is refused with exit 2 and nothing written.

#![allow(clippy::unwrap_used)] // tests panic on purpose

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

const STUDY: &str = r#"name = "tiny-methods"
seeds = [0]

[[dataset]]
name = "brain-mri"
source = "builtin:brain-mri"
image_size = 16

[teacher]
depth = 2
width = 4
max_width = 8
epochs = 2

[student]
width = 4
max_width = 8
epochs = 2

[sweep]
depth = [1, 2]
temperature = [2.0]
alpha = [0.0, 0.5]
#METHOD

[evaluate]
latency_warmup = 1
latency_repeats = 2

[explain]
methods = ["gradcam"]
images = 2
deletion_steps = 4
timing_images = 1
timing_repeats = 1
"#;

const ALL: &str = r#"method = ["hinton", "fitnets", "at", "dkd"]"#;

fn json_of(out: &std::process::Output) -> Value {
    ok(out);
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

/// Names of the stages `status --json` says will run.
fn will_run(store: &Path, exp: &str) -> BTreeSet<String> {
    let s = json_of(&kdpipe(store, &["status", exp, "--json"]));
    s["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|st| st["cached"] == false)
        .map(|st| st["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The student, evaluate and explain stages of `students`.
fn with_downstream(students: &[String]) -> BTreeSet<String> {
    students
        .iter()
        .flat_map(|s| [s.clone(), format!("evaluate/{s}"), format!("explain/{s}")])
        .collect()
}

fn students(methods: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for d in [1, 2] {
        for m in methods {
            out.push(match *m {
                "hinton" => format!("student/brain-mri/s0/d{d}-T2-a0.5"),
                m => format!("student/brain-mri/s0/d{d}-{m}-T2-a0.5"),
            });
        }
    }
    out
}

fn artifact(store: &Path, exp: &str, name: &str) -> PathBuf {
    let s = json_of(&kdpipe(store, &["status", exp, "--json"]));
    let fp = s["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["name"] == name)
        .unwrap_or_else(|| panic!("no stage {name}"))["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    store.join("objects").join(&fp[..2]).join(fp)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn four_methods_run_end_to_end_and_status_names_what_each_adds() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let exp = dir.path().join("methods.toml");
    let exp_s = exp.to_str().unwrap();

    // Hinton only (the default axis), run to completion.
    std::fs::write(&exp, STUDY.replace("#METHOD", "")).unwrap();
    ok(&kdpipe(&store, &["run", exp_s, "--jobs", "2", "--plain"]));
    assert!(will_run(&store, exp_s).is_empty());

    // All four: exactly the new methods' students and their evaluate /
    // explain stages will run; the teacher, the controls (one per depth,
    // shared by every method), the Hinton students and timing stay cached.
    std::fs::write(&exp, STUDY.replace("#METHOD", ALL)).unwrap();
    let added = students(&["fitnets", "at", "dkd"]);
    assert_eq!(will_run(&store, exp_s), with_downstream(&added));
    let text = stdout(&kdpipe(&store, &["status", exp_s]));
    for s in &added {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == s))
            .unwrap_or_else(|| panic!("{s} not in status:\n{text}"));
        assert!(line.trim_start().starts_with("will run"), "{line}");
    }
    for cached in [
        "student/brain-mri/s0/d1-control",
        "student/brain-mri/s0/d2-T2-a0.5",
        "teacher/brain-mri/s0",
        "timing/brain-mri",
    ] {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == cached))
            .unwrap_or_else(|| panic!("{cached} not in status:\n{text}"));
        assert!(line.trim_start().starts_with("cached"), "{line}");
    }
    assert_eq!(
        text.lines().filter(|l| l.contains("-control")).count(),
        2 * 3,
        "one control per depth (student, evaluate, explain):\n{text}"
    );

    ok(&kdpipe(&store, &["run", exp_s, "--jobs", "2", "--plain"]));
    let ran: BTreeSet<String> = names_with(&last_events(&store), "finished")
        .into_iter()
        .collect();
    assert_eq!(ran, with_downstream(&added));

    // How each student was trained.
    for (m, online) in [("fitnets", true), ("at", true), ("dkd", false)] {
        let a = artifact(
            &store,
            exp_s,
            &format!("student/brain-mri/s0/d2-{m}-T2-a0.5"),
        );
        let tj = read_json(&a.join("train.json"));
        assert_eq!(tj["distill"]["method"], m, "{tj}");
        assert_eq!(
            tj["distill_source"].as_str().unwrap().starts_with("online"),
            online,
            "{m}: {tj}"
        );
        assert_eq!(
            a.join("hint_regressor.safetensors").is_file(),
            m == "fitnets"
        );
    }

    // The tables: a `method` column, one row per method and depth.
    let rows = json_of(&kdpipe(&store, &["compare", exp_s, "--format", "json"]));
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1 + 1 + 2 + 2 * 4, "{rows:#?}");
    let mut seen: Vec<(i64, String)> = rows
        .iter()
        .filter(|r| r["alpha"] == 0.5)
        .map(|r| {
            let acc = r["accuracy_mean"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&acc), "{r}");
            (
                r["depth"].as_i64().unwrap(),
                r["method"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    let mut want: Vec<(i64, String)> = [1, 2]
        .iter()
        .flat_map(|&d| ["at", "dkd", "fitnets", "hinton"].map(|m| (d, m.to_owned())))
        .collect();
    want.sort();
    assert_eq!(seen, want);
    for r in rows.iter().filter(|r| r["alpha"] == 0.0) {
        assert_eq!(r["method"], Value::Null, "the control has no method: {r}");
    }

    // Paired comparisons: every method at every depth against the (one)
    // control and the teacher.
    let pairs = json_of(&kdpipe(
        &store,
        &["compare", exp_s, "--comparisons", "--format", "json"],
    ));
    let pairs = pairs.as_array().unwrap();
    assert_eq!(pairs.len(), 2 * 4 * 2, "{pairs:#?}");
    for d in [1, 2] {
        for m in ["hinton", "fitnets", "at", "dkd"] {
            for versus in ["control", "teacher"] {
                let n = pairs
                    .iter()
                    .filter(|p| p["depth"] == d && p["method"] == m && p["versus"] == versus)
                    .count();
                assert_eq!(n, 1, "d{d} {m} vs {versus}: {pairs:#?}");
            }
        }
    }

    // One pivot per method (and one for the control), each titled by it.
    let pivot = kdpipe(&store, &["compare", exp_s, "--pivot", "f1"]);
    ok(&pivot);
    let text = stdout(&pivot);
    for title in [
        "brain-mri · α=0 (control) · macro_f1",
        "brain-mri · hinton · α=0.5 · macro_f1",
        "brain-mri · fitnets · α=0.5 · macro_f1",
        "brain-mri · at · α=0.5 · macro_f1",
        "brain-mri · dkd · α=0.5 · macro_f1",
    ] {
        assert_eq!(
            text.matches(title).count(),
            1,
            "{title}:
{text}"
        );
    }

    // An online teacher for Hinton and DKD: only their students move.
    std::fs::write(
        &exp,
        STUDY.replace("#METHOD", ALL) + "\n[distill]\nsource = \"online\"\n",
    )
    .unwrap();
    assert_eq!(
        will_run(&store, exp_s),
        with_downstream(&students(&["hinton", "dkd"]))
    );

    // A bad method: exit 2, key and value named, nothing written.
    let fresh = dir.path().join("fresh-store");
    std::fs::write(
        &exp,
        STUDY.replace("#METHOD", r#"method = ["hinton", "crd"]"#),
    )
    .unwrap();
    let bad = kdpipe(&fresh, &["run", exp_s, "--plain"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    let err = stderr(&bad);
    assert!(
        err.contains("sweep.method[1]") && err.contains("\"crd\""),
        "{err}"
    );
    assert!(
        !fresh.exists(),
        "a refused experiment wrote {}",
        fresh.display()
    );
}
