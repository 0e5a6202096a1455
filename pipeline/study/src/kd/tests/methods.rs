//! Tests of the `[sweep] method` axis and `[distill]`: validation (key,
//! value, message), the stages each method adds, their params, and that
//! Hinton students keep the fingerprints they had before the axis existed.

use std::collections::BTreeMap;

use serde_json::json;

use crate::test_support::{builtin_root, count, expand_with, fps, load_text, problems, BASE};
use engine::spec::StageSpec;

const SWEEP: &str = r#"
[teacher]
depth = 3

[sweep]
depth = [1, 2]
temperature = [4.0]
alpha = [0.0, 0.5]
"#;

fn study(extra: &str) -> String {
    format!("{BASE}{SWEEP}{extra}")
}

fn with_methods(methods: &str, extra: &str) -> String {
    study(&format!("method = {methods}\n{extra}"))
}

fn specs(text: &str) -> BTreeMap<String, StageSpec> {
    let root = builtin_root();
    let exp = load_text(text).expect("valid");
    expand_with(&exp, root.path(), false)
        .expect("expands")
        .into_iter()
        .map(|s| (s.name.clone(), s))
        .collect()
}

#[test]
fn every_method_adds_its_students_and_shares_the_control() {
    let all = with_methods(r#"["hinton", "fitnets", "at", "dkd"]"#, "");
    let s = specs(&all);
    let students: Vec<&str> = s
        .keys()
        .filter(|n| n.starts_with("student/"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        students,
        [
            "student/brain-mri/s0/d1-T4-a0.5",
            "student/brain-mri/s0/d1-at-T4-a0.5",
            "student/brain-mri/s0/d1-control",
            "student/brain-mri/s0/d1-dkd-T4-a0.5",
            "student/brain-mri/s0/d1-fitnets-T4-a0.5",
            "student/brain-mri/s0/d2-T4-a0.5",
            "student/brain-mri/s0/d2-at-T4-a0.5",
            "student/brain-mri/s0/d2-control",
            "student/brain-mri/s0/d2-dkd-T4-a0.5",
            "student/brain-mri/s0/d2-fitnets-T4-a0.5",
        ]
    );
    let specs: Vec<StageSpec> = s.values().cloned().collect();
    assert_eq!(count(&specs, "evaluate"), 1 + 10);
    // Each method's parameters, resolved per depth: "last" / "all" blocks.
    let d = |name: &str| s[name].params["distill"].clone();
    assert_eq!(
        d("student/brain-mri/s0/d2-fitnets-T4-a0.5"),
        json!({"temperature": 4.0, "alpha": 0.5, "source": "online",
               "method": {"name": "fitnets", "student_block": 2, "teacher_block": 2,
                          "hint_weight": 1.0}})
    );
    assert_eq!(
        d("student/brain-mri/s0/d1-fitnets-T4-a0.5")["method"]["student_block"],
        1
    );
    assert_eq!(
        d("student/brain-mri/s0/d2-at-T4-a0.5"),
        json!({"temperature": 4.0, "alpha": 0.5, "source": "online",
               "method": {"name": "at", "pairs": [[1, 1], [2, 2]], "p": 2.0, "beta": 1.0}})
    );
    // DKD reads logits only: cached by default.
    assert_eq!(
        d("student/brain-mri/s0/d1-dkd-T4-a0.5"),
        json!({"temperature": 4.0, "alpha": 0.5,
               "method": {"name": "dkd", "alpha": 1.0, "beta": 8.0, "warmup_epochs": 2}})
    );
    // Hinton's params are the ones of before the axis: no method, no source.
    assert_eq!(
        d("student/brain-mri/s0/d1-T4-a0.5"),
        json!({"temperature": 4.0, "alpha": 0.5})
    );
    // One teacher, one control per depth, whatever the methods.
    let c = &s["student/brain-mri/s0/d1-control"];
    assert_eq!(c.upstream.keys().collect::<Vec<_>>(), ["data"]);
    assert_eq!(c.params["distill"], serde_json::Value::Null);
    let teacher = s["teacher/brain-mri/s0"].fingerprint();
    for m in ["fitnets", "at", "dkd"] {
        let st = &s[&format!("student/brain-mri/s0/d2-{m}-T4-a0.5")];
        assert_eq!(st.upstream["teacher"], teacher, "{m}");
        assert!(s.contains_key(&format!("explain/{}", st.name)), "{m}");
    }
}

#[test]
fn hinton_fingerprints_do_not_move() {
    let root = builtin_root();
    let before = fps(&study(""), root.path());
    // The default written out, and the defaults of every [distill] table.
    let explicit = fps(
        &with_methods(
            r#"["hinton"]"#,
            "\n[distill]\nsource = \"cached\"\n[distill.dkd]\nbeta = 2.0\n",
        ),
        root.path(),
    );
    assert_eq!(before, explicit);
    // Adding methods adds stages; the Hinton ones, the control and the
    // teacher keep their fingerprints.
    let more = fps(
        &with_methods(r#"["fitnets", "hinton", "dkd"]"#, ""),
        root.path(),
    );
    for (name, fp) in &before {
        assert_eq!(more.get(name), Some(fp), "{name}");
    }
    assert_eq!(more.len(), before.len() + 2 * 2 * 3);
}

#[test]
fn online_source_moves_hinton_and_dkd_only() {
    let root = builtin_root();
    let methods = r#"["hinton", "fitnets", "at", "dkd"]"#;
    let cached = fps(&with_methods(methods, ""), root.path());
    let online = fps(
        &with_methods(methods, "\n[distill]\nsource = \"online\"\n"),
        root.path(),
    );
    let changed: Vec<&str> = cached
        .iter()
        .filter(|(n, fp)| n.starts_with("student/") && online[*n] != **fp)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        changed,
        [
            "student/brain-mri/s0/d1-T4-a0.5",
            "student/brain-mri/s0/d1-dkd-T4-a0.5",
            "student/brain-mri/s0/d2-T4-a0.5",
            "student/brain-mri/s0/d2-dkd-T4-a0.5",
        ]
    );
}

#[test]
fn method_params_enter_their_students_only() {
    let root = builtin_root();
    let methods = r#"["hinton", "fitnets", "at", "dkd"]"#;
    let base = fps(&with_methods(methods, ""), root.path());
    let edited = fps(
        &with_methods(methods, "\n[distill.fitnets]\nhint_weight = 10.0\n"),
        root.path(),
    );
    let changed: Vec<&str> = base
        .iter()
        .filter(|(n, fp)| n.starts_with("student/") && edited[*n] != **fp)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        changed,
        [
            "student/brain-mri/s0/d1-fitnets-T4-a0.5",
            "student/brain-mri/s0/d2-fitnets-T4-a0.5",
        ]
    );
}

#[test]
fn bad_methods_and_parameters_name_key_and_value() {
    let text = with_methods(
        r#"["hinton", "crd", "hinton", "fitnets", "at"]"#,
        r#"
[distill]
source = "live"
[distill.fitnets]
block = 3
hint_weight = -1.0
[distill.at]
blocks = [1, 1]
p = 0.5
[distill.dkd]
beta = -8.0
warmup_epochs = -1
"#,
    );
    let ps = problems(&text);
    let got: Vec<(&str, Option<&str>)> = ps
        .iter()
        .map(|p| (p.key.as_str(), p.value.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("sweep.method[1]", Some("\"crd\"")),
            ("sweep.method[2]", Some("\"hinton\"")),
            ("distill.source", Some("\"live\"")),
            ("distill.fitnets.block", Some("3")),
            ("distill.fitnets.hint_weight", Some("-1.0")),
            ("distill.at.blocks[1]", Some("1")),
            ("distill.at.p", Some("0.5")),
            ("distill.dkd.beta", Some("-8.0")),
            ("distill.dkd.warmup_epochs", Some("-1")),
        ],
        "{ps:#?}"
    );
    let msg = |k: &str| {
        ps.iter()
            .find(|p| p.key == k)
            .map(|p| p.message.clone())
            .unwrap()
    };
    assert!(msg("sweep.method[1]").contains(r#""hinton", "fitnets", "at", "dkd""#));
    assert!(msg("sweep.method[2]").contains("duplicate"));
    assert!(
        msg("distill.fitnets.block").contains("between 1 and 1"),
        "{}",
        msg("distill.fitnets.block")
    );
    // The block check needs the method in the sweep: fitnets is not here.
    let only_at = with_methods(r#"["at"]"#, "\n[distill.fitnets]\nblock = 3\n");
    assert!(load_text(&only_at).is_ok());
    // Feature methods need a CNN teacher; an empty axis is refused.
    let resnet =
        format!("{BASE}\n[teacher]\narch = \"resnet18\"\n[sweep]\nmethod = [\"dkd\", \"at\"]\n");
    let ps = problems(&resnet);
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].key, "sweep.method[1]");
    assert!(ps[0].message.contains("\"resnet18\""), "{}", ps[0].message);
    let ps = problems(&format!("{BASE}\n[sweep]\nmethod = []\n"));
    assert_eq!(ps[0].key, "sweep.method");
}

#[test]
fn shipped_methods_experiment_sweeps_four_methods() {
    let root = builtin_root();
    let exp = crate::experiment::load(
        &crate::test_support::manifest_dir().join("../../experiments/methods.toml"),
    )
    .expect("methods.toml is valid");
    let specs = expand_with(&exp, root.path(), false).expect("expands");
    // Per seed: 2 controls + 2 depths × 4 methods.
    assert_eq!(count(&specs, "student"), 3 * (2 + 2 * 4));
    assert_eq!(count(&specs, "teacher"), 3);
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    for m in ["fitnets", "at", "dkd"] {
        assert!(
            names.contains(&format!("student/brain-mri/s2/d4-{m}-T4-a0.5").as_str()),
            "{m}"
        );
    }
    // default.toml spells the new keys out at their defaults: nothing moved.
    let default = crate::experiment::load(
        &crate::test_support::manifest_dir().join("../../experiments/default.toml"),
    )
    .expect("default.toml is valid");
    let text = std::fs::read_to_string(
        crate::test_support::manifest_dir().join("../../experiments/default.toml"),
    )
    .unwrap();
    let start = text.find("method = [\"hinton\"]").unwrap();
    let end = text.find("[evaluate]").unwrap();
    let without = format!("{}{}", &text[..start], &text[end..]);
    let a = expand_with(&default, root.path(), false).expect("expands");
    let b = expand_with(&load_text(&without).expect("valid"), root.path(), false).expect("expands");
    let fp = |s: &[StageSpec]| s.iter().map(|s| s.fingerprint()).collect::<Vec<_>>();
    assert_eq!(fp(&a), fp(&b));
}
