//! The ML study end to end through the real binaries, on the real built-in
//! brain MRI set (fetched by `make data`) with tiny images and models:
//! every stage kind runs, outputs land in the artifacts, a second run is all
//! cache hits, editing `[explain]` reruns only explain and timing stages, and
//! `verify` reproduces a training stage bit for bit.

#![allow(clippy::unwrap_used)] // tests panic on purpose

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

const STUDY: &str = r#"name = "tiny-study"
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

[evaluate]
latency_warmup = 1
latency_repeats = 3

[explain]
images = 2
eg_samples = 4
eg_background = 4
deletion_steps = 4
timing_images = 1
timing_repeats = 2
"#;

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Published artifact of the stage named `name` in the last run's events.
fn artifact_of(store: &Path, events: &[Value], name: &str) -> std::path::PathBuf {
    let fp = events
        .iter()
        .find(|e| e["event"] == "planned" && e["name"] == name)
        .unwrap_or_else(|| panic!("no stage {name}"))["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    store.join("objects").join(&fp[..2]).join(fp)
}

#[test]
fn tiny_study_runs_caches_and_reruns_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let exp = dir.path().join("tiny.toml");
    std::fs::write(&exp, STUDY).unwrap();
    let exp_s = exp.to_str().unwrap();

    // A target runs that stage kind and what it needs upstream, nothing else.
    let status = kdpipe(&store, &["status", exp_s, "teacher/*"]);
    ok(&status);
    assert!(stdout(&status).contains("2 stages"), "{}", stdout(&status));
    ok(&kdpipe(&store, &["run", exp_s, "teacher/*", "--plain"]));
    let first = names_with(&last_events(&store), "finished");
    assert_eq!(
        first,
        ["prepare/brain-mri", "teacher/brain-mri/s0"],
        "{first:#?}"
    );
    let bad = kdpipe(&store, &["run", exp_s, "techer/*"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("target 'techer/*' matches no stage"),
        "{}",
        stderr(&bad)
    );

    let out = kdpipe(&store, &["run", exp_s, "--jobs", "2", "--plain"]);
    ok(&out);
    let ev = last_events(&store);
    let mut computed = names_with(&ev, "finished");
    // prepare, teacher, 2 depths × (control + T2-a0.5) students = 5 models,
    // each evaluated and explained; one timing stage (teacher, d1, d2 side
    // by side); prepare and teacher ran above.
    assert_eq!(computed.len(), 5 + 5 + 5 + 1 - 1, "{computed:#?}");
    computed.extend(first);

    // every model's metrics are real numbers in range
    for model in [
        "teacher/brain-mri/s0",
        "student/brain-mri/s0/d1-control",
        "student/brain-mri/s0/d1-T2-a0.5",
        "student/brain-mri/s0/d2-control",
        "student/brain-mri/s0/d2-T2-a0.5",
    ] {
        let m =
            read_json(&artifact_of(&store, &ev, &format!("evaluate/{model}")).join("metrics.json"));
        let acc = m["accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc), "{model}: accuracy {acc}");
        assert_eq!(
            m["confusion"].as_array().unwrap().len(),
            2,
            "two classes: no, yes"
        );
        let ex =
            read_json(&artifact_of(&store, &ev, &format!("explain/{model}")).join("explain.json"));
        let del = ex["methods"]["gradcam"]["deletion_auc"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&del), "{model}: deletion AUC {del}");
        if model.starts_with("student/") {
            let r = ex["agreement"]["gradcam_pearson"].as_f64().unwrap_or(0.0);
            assert!((-1.0..=1.0).contains(&r), "{model}: agreement {r}");
        }
        let overlays = artifact_of(&store, &ev, &format!("explain/{model}")).join("overlays");
        let pngs = std::fs::read_dir(&overlays).unwrap().count();
        assert_eq!(
            pngs,
            2 * 3,
            "{model}: 2 images × 3 methods in {}",
            overlays.display()
        );
    }
    let prep = read_json(&artifact_of(&store, &ev, "prepare/brain-mri").join("dataset.json"));
    assert_eq!(
        prep["duplicates_removed"], 25,
        "the built-in set has 25 exact duplicates"
    );
    let t = read_json(&artifact_of(&store, &ev, "timing/brain-mri").join("timing.json"));
    let timed: Vec<&String> = t["models"].as_object().unwrap().keys().collect();
    assert_eq!(timed, ["student-d1", "student-d2", "teacher"], "{t}");
    for arch in timed {
        let median = t["models"][arch]["methods"]["gradcam"]["median_s"]
            .as_f64()
            .unwrap();
        assert!(median > 0.0 && median < 10.0, "{arch}: {median}");
    }
    // ... and the table reads them: every row has its architecture's time.
    let json = kdpipe(&store, &["compare", exp_s, "--format", "json"]);
    ok(&json);
    let rows: Vec<Value> = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(rows.len(), 6, "majority, teacher and 4 students: {rows:#?}");
    assert_eq!(rows[0]["model"], "majority class", "{rows:#?}");
    for row in &rows[1..] {
        let v = row["gradcam_s_mean"].as_f64().unwrap_or(0.0);
        assert!(v > 0.0, "{row}");
        // Intervals from the per-image predictions bracket the mean.
        let (lo, m, hi) = (
            row["accuracy_lo"].as_f64().unwrap(),
            row["accuracy_mean"].as_f64().unwrap(),
            row["accuracy_hi"].as_f64().unwrap(),
        );
        assert!(lo <= m && m <= hi && hi - lo > 0.0, "{row}");
        assert!(row["n_test"].as_i64().unwrap() > 20, "{row}");
        assert!(row["val_loss_mean"].as_f64().unwrap() > 0.0, "{row}");
    }
    // One distilled configuration per depth, so it is the selected one.
    let selected: Vec<&Value> = rows.iter().filter(|r| r["selected"] == true).collect();
    assert_eq!(selected.len(), 2, "{rows:#?}");
    let cmp = kdpipe(
        &store,
        &["compare", exp_s, "--comparisons", "--format", "json"],
    );
    ok(&cmp);
    let pairs: Vec<Value> = serde_json::from_str(&stdout(&cmp)).unwrap();
    assert_eq!(
        pairs.len(),
        4,
        "2 students × (control, teacher): {pairs:#?}"
    );
    for p in &pairs {
        let p_holm = p["p_holm"].as_f64().unwrap();
        assert!(
            p_holm >= p["p_mcnemar"].as_f64().unwrap() && p_holm <= 1.0,
            "{p}"
        );
        let verdict = p["verdict"].as_str().unwrap();
        assert!(
            ["equivalent", "not shown equivalent", "worse", "better"].contains(&verdict),
            "{p}"
        );
    }
    let md = kdpipe(&store, &["compare", exp_s, "--format", "markdown"]);
    ok(&md);
    let md = stdout(&md);
    assert!(
        md.contains("Headline") && md.contains("Full grid (exploratory"),
        "{md}"
    );
    // diff of two students: the parameters that differ, then the metrics.
    let d = kdpipe(
        &store,
        &[
            "diff",
            exp_s,
            "student/brain-mri/s0/d1-control",
            "student/brain-mri/s0/d1-T2-a0.5",
        ],
    );
    ok(&d);
    let text = stdout(&d);
    assert!(
        text.contains(r#"params.distill: null -> {"alpha":0.5,"temperature":2.0}"#),
        "{text}"
    );
    assert!(text.contains("upstream.teacher: (absent) -> "), "{text}");
    let acc = text
        .lines()
        .find(|l| l.trim_start().starts_with("accuracy "))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(acc.split_whitespace().count(), 4, "{acc}");
    assert!(text.contains("95 % paired bootstrap"), "{text}");

    // second run: all cache hits
    ok(&kdpipe(&store, &["run", exp_s, "--plain"]));
    let ev2 = last_events(&store);
    assert!(names_with(&ev2, "finished").is_empty());
    assert_eq!(names_with(&ev2, "cached").len(), computed.len());

    // a training stage reruns bit for bit
    let verify = kdpipe(
        &store,
        &["verify", exp_s, "student/brain-mri/s0/d1-T2-a0.5"],
    );
    ok(&verify);
    assert!(stdout(&verify).contains("identical"), "{}", stdout(&verify));

    // editing [explain] reruns explain and timing stages only
    std::fs::write(&exp, STUDY.replace("eg_samples = 4", "eg_samples = 6")).unwrap();
    ok(&kdpipe(&store, &["run", exp_s, "--plain"]));
    let rerun = names_with(&last_events(&store), "finished");
    assert_eq!(rerun.len(), 5 + 1, "{rerun:#?}");
    assert!(
        rerun
            .iter()
            .all(|n| n.starts_with("explain/") || n.starts_with("timing/")),
        "{rerun:#?}"
    );

    // Corrupt artifacts of a real study (issue 13): a digit flipped in a
    // student's published metrics.json and a byte in its model.safetensors.
    let model = "student/brain-mri/s0/d1-T2-a0.5";
    let eval = format!("evaluate/{model}");
    let metrics = artifact_of(&store, &ev, &eval).join("metrics.json");
    let weights = artifact_of(&store, &ev, model).join("model.safetensors");
    let good = (
        std::fs::read(&metrics).unwrap(),
        std::fs::read(&weights).unwrap(),
    );
    let mut m = good.0.clone();
    let i = m.iter().position(u8::is_ascii_digit).unwrap();
    m[i] = if m[i] == b'9' { b'8' } else { m[i] + 1 };
    std::fs::write(&metrics, &m).unwrap();
    let mut w = good.1.clone();
    let j = w.len() - 3;
    w[j] ^= 0x10;
    std::fs::write(&weights, &w).unwrap();
    let status = stdout(&kdpipe(&store, &["status", exp_s]));
    for (stage, file) in [
        (eval.as_str(), "metrics.json"),
        (model, "model.safetensors"),
    ] {
        let line = status
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == stage))
            .unwrap();
        assert!(
            line.contains(&format!("corrupt: {file} hash mismatch")),
            "{line}"
        );
    }
    // compare shows no number from the corrupt artifact: it refuses.
    let cmp = kdpipe(&store, &["compare", exp_s]);
    assert_eq!(cmp.status.code(), Some(2), "{}", stdout(&cmp));
    let err = stderr(&cmp);
    assert!(
        err.contains(&eval) && err.contains("metrics.json hash mismatch"),
        "{err}"
    );
    // and so does the report, writing no page
    let out = dir.path().join("report-of-corrupt");
    let rep = kdpipe(&store, &["report", exp_s, "--out", out.to_str().unwrap()]);
    assert_eq!(rep.status.code(), Some(2), "{}", stdout(&rep));
    assert!(
        stderr(&rep).contains("metrics.json hash mismatch"),
        "{}",
        stderr(&rep)
    );
    assert!(!out.join("index.html").exists());
    // run recomputes exactly the two corrupt stages, bit for bit (what was
    // computed from the intact model stays cached).
    ok(&kdpipe(&store, &["run", exp_s, "--plain"]));
    let mut again = names_with(&last_events(&store), "finished");
    again.sort();
    assert_eq!(again, vec![eval.clone(), model.to_owned()]);
    assert_eq!(std::fs::read(&metrics).unwrap(), good.0);
    assert_eq!(std::fs::read(&weights).unwrap(), good.1);
    ok(&kdpipe(&store, &["compare", exp_s]));

    // Cached teacher logits (what every distilled student trains on),
    // truncated: status says so, and a student forced to rerun never reads
    // them: the teacher is recomputed first, bit for bit.
    let teacher = "teacher/brain-mri/s0";
    let logits = artifact_of(&store, &ev, teacher).join("logits.safetensors");
    let good_logits = std::fs::read(&logits).unwrap();
    std::fs::write(&logits, &good_logits[..good_logits.len() / 2]).unwrap();
    let status = stdout(&kdpipe(&store, &["status", exp_s]));
    let line = status
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == teacher))
        .unwrap();
    assert!(line.contains("corrupt: logits.safetensors"), "{line}");
    ok(&kdpipe(
        &store,
        &["run", exp_s, "--force", model, "--plain"],
    ));
    let ev = last_events(&store);
    let ran = names_with(&ev, "finished");
    assert_eq!(ran, vec![model.to_owned(), teacher.to_owned()], "{ran:?}");
    let at = |kind: &str, name: &str| {
        ev.iter()
            .position(|e| e["event"] == kind && e["name"] == name)
            .unwrap()
    };
    assert!(
        at("finished", teacher) < at("started", model),
        "the student started before its teacher was recomputed"
    );
    assert_eq!(std::fs::read(&logits).unwrap(), good_logits);

    // Two whole experiments: B trains every student one epoch longer.
    let exp_b = dir.path().join("tiny-b.toml");
    // (the file as the test left it: eg_samples = 6)
    let a_text = std::fs::read_to_string(&exp).unwrap();
    let b_text = a_text.replace(
        "[student]\nwidth = 4\nmax_width = 8\nepochs = 2",
        "[student]\nwidth = 4\nmax_width = 8\nepochs = 3",
    );
    assert_ne!(b_text, a_text);
    std::fs::write(&exp_b, &b_text).unwrap();
    let exp_b_s = exp_b.to_str().unwrap();
    ok(&kdpipe(&store, &["run", exp_b_s, "--plain"]));
    let d = kdpipe(&store, &["diff", exp_s, exp_b_s, "--format", "json"]);
    ok(&d);
    let d: Value = serde_json::from_str(&stdout(&d)).unwrap();
    assert_eq!(d["compares"], "experiments");
    let inputs = d["inputs"].as_array().unwrap();
    let epochs = inputs
        .iter()
        .find(|i| i["field"] == "params.train.epochs")
        .unwrap_or_else(|| panic!("{d:#}"));
    assert_eq!(
        (epochs["a"].as_i64(), epochs["b"].as_i64()),
        (Some(2), Some(3))
    );
    let students = epochs["stages"].as_array().unwrap();
    assert_eq!(
        students.len(),
        4,
        "two depths x (control, distilled): {epochs}"
    );
    assert!(students
        .iter()
        .all(|s| s.as_str().unwrap().starts_with("student/")));
    assert_eq!(inputs.len(), 1, "only the epochs differ: {inputs:?}");
    // the teacher and prepare stages are the same; evaluate etc. follow upstream
    assert!(d["identical"].as_u64().unwrap() >= 2, "{d:#}");
    assert!(d["upstream_only"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "evaluate/student/brain-mri/s0/d1-T2-a0.5"));
    let models: std::collections::BTreeSet<&str> = d["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(models.len(), 4, "{models:?}");
    for m in d["metrics"].as_array().unwrap() {
        let (a, b, diff) = (
            m["a"].as_f64().unwrap(),
            m["b"].as_f64().unwrap(),
            m["b_minus_a"].as_f64().unwrap(),
        );
        assert!((b - a - diff).abs() < 1e-12, "{m}");
    }
    let paired = d["paired"].as_array().unwrap();
    assert!(!paired.is_empty(), "{d:#}");
    for p in paired {
        let (lo, est, hi) = (
            p["lower"].as_f64().unwrap(),
            p["estimate"].as_f64().unwrap(),
            p["upper"].as_f64().unwrap(),
        );
        assert!(lo <= est && est <= hi, "{p}");
    }
    let md = stdout(&kdpipe(
        &store,
        &["diff", exp_s, exp_b_s, "--format", "markdown"],
    ));
    assert!(
        md.contains("| `params.train.epochs` | `2` | `3` | 4 stage(s): "),
        "{md}"
    );
}
