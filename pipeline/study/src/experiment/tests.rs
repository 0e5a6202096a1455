//! Tests of loading, validation and expansion: error messages (insta
//! snapshots), fingerprint stability and sensitivity, counts, the toy kind.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::*;
use crate::contract::Kind;
use engine::spec::StageSpec;

const BASE: &str = r#"
name = "t"
seeds = [0]

[[dataset]]
name = "brain-mri"
source = "builtin:brain-mri"
"#;

fn load_text(text: &str) -> Result<Experiment, ExperimentError> {
    load_str(Path::new("exp.toml"), text)
}

fn err(text: &str) -> String {
    match load_text(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn problems(text: &str) -> Vec<Problem> {
    match load_text(text) {
        Err(ExperimentError::Invalid { problems, .. }) => problems,
        other => panic!("expected validation problems, got {other:?}"),
    }
}

/// Every kind at code version 1 (the pinned fingerprints below were made
/// so; the real table is `Kind::code_version`).
fn versions(_: Kind) -> u32 {
    1
}

/// A temp builtin root holding a tiny `brain-mri` ImageFolder.
fn builtin_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (class, files) in [("no", ["n1.jpg", "n2.png"]), ("yes", ["y1.jpg", "Y2.JPG"])] {
        let d = dir.path().join("brain-mri").join(class);
        std::fs::create_dir_all(&d).expect("mkdir");
        for f in files {
            std::fs::write(d.join(f), format!("{class}/{f}")).expect("write");
        }
        std::fs::write(d.join(".DS_Store"), "hidden").expect("write");
        std::fs::write(d.join("notes.txt"), "not an image").expect("write");
    }
    dir
}

fn expand_with(
    exp: &Experiment,
    root: &Path,
    cuda: bool,
) -> Result<Vec<StageSpec>, ExperimentError> {
    let mut hash = |p: &Path| -> Result<String, String> {
        let bytes = std::fs::read(p).map_err(|e| e.to_string())?;
        Ok(engine::fingerprint::hex(&Sha256::digest(bytes)))
    };
    let mut ctx = ExpandContext {
        code_version: &versions,
        hash_file: &mut hash,
        builtin_root: root.to_path_buf(),
        cuda_available: cuda,
    };
    expand(exp, &mut ctx).map(|e| e.specs)
}

/// name → fingerprint of every stage of `text`.
fn fps(text: &str, root: &Path) -> BTreeMap<String, String> {
    let exp = load_text(text).expect("valid experiment");
    let specs = expand_with(&exp, root, false).expect("expands");
    specs
        .iter()
        .map(|s| (s.name.clone(), s.fingerprint().to_string()))
        .collect()
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---- malformed toml, unknown keys, wrong types ----

#[test]
fn malformed_toml_names_file_line_and_column() {
    let e = err("name = \"t\"\nseeds = [0,\n[teacher]\n");
    assert!(e.starts_with("exp.toml:3:"), "{e}");
    insta::assert_snapshot!("malformed_toml", e);
}

#[test]
fn unknown_top_level_key() {
    let e = err(&format!("teachr = 1\n{BASE}"));
    assert!(e.contains("in the top level"), "{e}");
    insta::assert_snapshot!("unknown_key_top", e);
}

#[test]
fn unknown_key_in_table_names_table_and_allowed_keys() {
    let text = format!("{BASE}\n[teacher]\narch = \"cnn\"\nepoch = 3\n");
    match load_text(&text) {
        Err(ExperimentError::UnknownKey {
            key,
            table,
            allowed,
            line,
            column,
            ..
        }) => {
            assert_eq!(key, "epoch");
            assert_eq!(table, "[teacher]");
            assert!(allowed.contains(&"epochs".to_owned()), "{allowed:?}");
            assert_eq!((line, column), (11, 1));
        }
        other => panic!("{other:?}"),
    }
    insta::assert_snapshot!("unknown_key_teacher", err(&text));
}

#[test]
fn unknown_key_in_dataset_array() {
    let text = format!(
        "{BASE}\n[[dataset]]\nname = \"b\"\nsource = \"builtin:brain-mri\"\nimagesize = 3\n"
    );
    insta::assert_snapshot!("unknown_key_dataset", err(&text));
}

#[test]
fn unknown_key_in_toy_table() {
    let e = err("kind = \"toy\"\nname = \"t\"\n[toy]\nvalue = [1]\n");
    insta::assert_snapshot!("unknown_key_toy", e);
}

#[test]
fn unknown_key_in_inline_and_dotted_tables() {
    let e = err(&format!(
        "teacher = {{ arch = \"cnn\", epocs = 2 }}\n{BASE}"
    ));
    assert_eq!(
        e.lines().next().unwrap_or_default().split(';').next(),
        Some("exp.toml:1:27: unknown key `epocs` in [teacher]")
    );
    let e = err(&format!("sweep.temperatures = [1]\n{BASE}"));
    assert!(e.starts_with("exp.toml:1:7: unknown key `temperatures` in [sweep]; allowed keys: depth, temperature, alpha"), "{e}");
}

#[test]
fn wrong_type_names_key() {
    let e = err(&format!("{BASE}\n[teacher]\nepochs = \"ten\"\n"));
    assert!(e.contains("`teacher.epochs`"), "{e}");
    insta::assert_snapshot!("wrong_type", e);
}

#[test]
fn unknown_kind() {
    insta::assert_snapshot!("unknown_kind", err("kind = \"kdd\"\nname = \"t\"\n"));
}

// ---- validation ----

#[test]
fn every_bad_value_is_reported_at_once() {
    let text = r#"
name = "t"
seeds = []

[[dataset]]
name = "d"
source = "builtin:brain-mri"
image_size = 4
channels = 2
val_fraction = 1.2

[[dataset]]
name = "d"
format = "imagefolder"
path = "no/such/dir"

[teacher]
arch = "vgg"
depth = 0

[sweep]
depth = [0, 2]
temperature = [1, 2, -1]
alpha = [0.0, 1.5]

[explain]
methods = ["gradcam", "shap"]
"#;
    let ps = problems(text);
    let keys: Vec<&str> = ps.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "seeds",
            "dataset[0].image_size",
            "dataset[0].channels",
            "dataset[0].val_fraction",
            "dataset[1].name",
            "dataset[1].path",
            "teacher.arch",
            "teacher.depth",
            "sweep.depth[0]",
            "sweep.temperature[2]",
            "sweep.alpha[1]",
            "explain.methods[1]",
        ]
    );
    insta::assert_snapshot!("all_problems", err(text));
}

#[test]
fn temperature_not_positive() {
    let ps = problems(&format!("{BASE}\n[sweep]\ntemperature = [1, 2, 0]\n"));
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].key, "sweep.temperature[2]");
    assert_eq!(ps[0].value.as_deref(), Some("0"));
    assert_eq!(ps[0].message, "must be greater than 0");
    assert_eq!((ps[0].line, ps[0].column), (Some(10), Some(22)));
}

#[test]
fn alpha_outside_unit_interval() {
    for bad in ["-0.1", "1.01", "nan"] {
        let ps = problems(&format!("{BASE}\n[sweep]\nalpha = [0.5, {bad}]\n"));
        assert_eq!(ps.len(), 1, "{bad}");
        assert_eq!(ps[0].key, "sweep.alpha[1]");
        assert_eq!(ps[0].value.as_deref(), Some(bad));
        assert_eq!(ps[0].message, "must be in [0, 1]");
    }
}

#[test]
fn depth_below_one() {
    let ps = problems(&format!("{BASE}\n[sweep]\ndepth = [1, 0]\n"));
    assert_eq!(ps[0].key, "sweep.depth[1]");
    assert_eq!(ps[0].message, "must be between 1 and 64");
}

#[test]
fn empty_sweep_axis() {
    let ps = problems(&format!("{BASE}\n[sweep]\nalpha = []\n"));
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].key, "sweep.alpha");
    insta::assert_snapshot!("empty_axis", err(&format!("{BASE}\n[sweep]\nalpha = []\n")));
}

#[test]
fn empty_seeds() {
    let ps = problems(&BASE.replace("seeds = [0]", "seeds = []"));
    assert_eq!(ps[0].key, "seeds");
    assert_eq!(ps[0].message, "must hold at least one seed");
}

#[test]
fn duplicate_dataset_names() {
    let ps = problems(&format!(
        "{BASE}\n[[dataset]]\nname = \"brain-mri\"\nsource = \"builtin:brain-mri\"\n"
    ));
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].key, "dataset[1].name");
    assert_eq!(ps[0].message, "duplicate dataset name `brain-mri`");
}

#[test]
fn dataset_path_missing() {
    let text = "name = \"t\"\n[[dataset]]\nname = \"x\"\nformat = \"imagefolder\"\npath = \"no/such/dir\"\n";
    let ps = problems(text);
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].key, "dataset[0].path");
    assert_eq!(ps[0].value.as_deref(), Some("\"no/such/dir\""));
    assert!(
        ps[0]
            .message
            .starts_with("dataset path ./no/such/dir does not exist"),
        "{}",
        ps[0].message
    );
}

#[test]
fn image_size_channels_and_fractions() {
    let text =
        format!("{BASE}image_size = 2000\nchannels = 0\nval_fraction = 0.5\ntest_fraction = 0.6\n");
    let ps = problems(&text);
    let got: Vec<(&str, &str)> = ps
        .iter()
        .map(|p| (p.key.as_str(), p.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("dataset[0].image_size", "must be between 8 and 1024"),
            ("dataset[0].channels", "must be 1 (grayscale) or 3 (rgb)"),
            (
                "dataset[0].test_fraction",
                "val_fraction + test_fraction = 1.1 must be below 1"
            ),
        ]
    );
}

#[test]
fn unknown_arch_and_method_list_choices() {
    let text = format!("{BASE}\n[student]\narch = \"resnet18\"\n[teacher]\nschedule = \"step\"\n[explain]\nmethods = [\"shap\"]\n");
    insta::assert_snapshot!("unknown_choices", err(&text));
}

#[test]
fn missing_dataset_and_name() {
    insta::assert_snapshot!("missing_required", err("seeds = [1]\n"));
}

#[test]
fn defaulted_value_is_shown_as_default() {
    // The teacher's default width (16) is above this max_width.
    let ps = problems(&format!("{BASE}\n[teacher]\nmax_width = 8\n"));
    assert_eq!(ps[0].key, "teacher.max_width");
    assert_eq!(ps[0].message, "must be at least width (16)");
    let ps = problems(&format!("{BASE}\n[student]\nwidth = 300\n"));
    assert_eq!(ps[0].key, "student.max_width");
    assert_eq!(ps[0].value.as_deref(), Some("128 (default)"));
    assert_eq!(ps[0].line, None);
}

#[test]
fn executor_table() {
    let exp = load_text(&format!(
        "{BASE}\n[executor]\nkind = \"slurm\"\npartition = \"debug\"\ntime = \"0:10:00\"\ngres = \"gpu:1\"\n"
    ))
    .expect("valid");
    assert_eq!(exp.executor.kind, ExecutorKind::Slurm);
    assert_eq!(exp.executor.partition.as_deref(), Some("debug"));
    let ps = problems(&format!(
        "{BASE}\n[executor]\nkind = \"pbs\"\ntime = \"1h; rm -rf\"\n"
    ));
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[1].key, "executor.time");
}

#[test]
fn toy_validation() {
    let ps = problems("kind = \"toy\"\nname = \"t\"\n[toy]\nvalues = [1, 1]\nfail = [9]\nn = -1\n");
    let keys: Vec<&str> = ps.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["toy.values[1]", "toy.fail[0]", "toy.n"]);
}

// ---- expansion ----

const STUDY: &str = r#"
name = "study"
seeds = [0, 1, 2]

[[dataset]]
name = "brain-mri"
source = "builtin:brain-mri"

[teacher]
epochs = 3

[sweep]
depth = [1, 2, 3, 4]
temperature = [1, 2, 4, 8]
alpha = [0.0, 0.5, 0.9]
"#;

fn count(specs: &[StageSpec], kind: &str) -> usize {
    specs.iter().filter(|s| s.kind == kind).count()
}

#[test]
fn counts_and_shared_teacher() {
    let root = builtin_root();
    let exp = load_text(STUDY).expect("valid");
    let specs = expand_with(&exp, root.path(), false).expect("expands");
    assert_eq!(count(&specs, "prepare"), 1);
    assert_eq!(count(&specs, "teacher"), 3);
    assert_eq!(count(&specs, "student"), 4 * 3 * (1 + 2 * 4));
    let models = 3 + 108;
    assert_eq!(count(&specs, "evaluate"), models);
    assert_eq!(count(&specs, "explain"), models);
    // One timing stage per data set ...
    assert_eq!(count(&specs, "timing"), 1);
    assert_eq!(specs.len(), 1 + 3 * models + 1);
    let by_name: BTreeMap<&str, &StageSpec> = specs.iter().map(|s| (s.name.as_str(), s)).collect();
    let timing = by_name["timing/brain-mri"];
    // ... timing_scope = "architecture": the first seed's teacher and
    // control students, one per architecture, labelled by it
    assert_eq!(
        timing.upstream.keys().collect::<Vec<_>>(),
        [
            "data",
            "student-d1",
            "student-d2",
            "student-d3",
            "student-d4",
            "teacher"
        ]
    );
    assert_eq!(
        timing.upstream["student-d2"],
        by_name["student/brain-mri/s0/d2-control"].fingerprint()
    );
    assert_eq!(
        timing.upstream["teacher"],
        by_name["teacher/brain-mri/s0"].fingerprint()
    );
    assert_eq!(
        timing.upstream["data"],
        by_name["prepare/brain-mri"].fingerprint()
    );
    // timing_scope = "model": every model, labelled by its stage name
    assert!(!STUDY.contains("[explain]"));
    let every =
        load_text(&format!("{STUDY}\n[explain]\ntiming_scope = \"model\"\n")).expect("valid");
    let specs_every = expand_with(&every, root.path(), false).expect("expands");
    assert_eq!(count(&specs_every, "timing"), 1);
    let timed = &specs_every
        .iter()
        .find(|s| s.kind == "timing")
        .expect("a timing stage")
        .upstream;
    assert_eq!(timed.len(), 1 + models);
    let every_by_name: BTreeMap<&str, &StageSpec> =
        specs_every.iter().map(|s| (s.name.as_str(), s)).collect();
    for (role, fp) in timed.iter().filter(|(r, _)| *r != "data") {
        assert_eq!(every_by_name[role.as_str()].fingerprint(), *fp, "{role}");
    }

    // Every distilled student of a seed shares that seed's teacher.
    let by_name: BTreeMap<&str, &StageSpec> = specs.iter().map(|s| (s.name.as_str(), s)).collect();
    let teacher_fp = by_name["teacher/brain-mri/s1"].fingerprint();
    let st = by_name["student/brain-mri/s1/d3-T4-a0.5"];
    assert_eq!(st.upstream["teacher"], teacher_fp);
    assert_eq!(
        st.upstream["data"],
        by_name["prepare/brain-mri"].fingerprint()
    );
    assert_eq!(
        st.params["distill"],
        serde_json::json!({"temperature": 4.0, "alpha": 0.5})
    );
    assert_eq!(st.params["model"]["depth"], 3);
    assert_eq!(st.params["train"]["seed"], 1);
    assert_eq!(st.params["train"]["device"], "cpu");

    // The control: no teacher, no temperature.
    let c = by_name["student/brain-mri/s1/d3-control"];
    assert_eq!(c.upstream.keys().collect::<Vec<_>>(), ["data"]);
    assert_eq!(c.params["distill"], serde_json::Value::Null);

    // Names, roles and resources of the downstream stages.
    let m = "student/brain-mri/s1/d3-T4-a0.5";
    let e = by_name[format!("explain/{m}").as_str()];
    assert_eq!(
        e.upstream.keys().collect::<Vec<_>>(),
        ["data", "model", "teacher_explain"]
    );
    assert_eq!(e.upstream["model"], st.fingerprint());
    assert_eq!(
        e.upstream["teacher_explain"],
        by_name["explain/teacher/brain-mri/s1"].fingerprint()
    );
    assert_eq!(
        by_name["explain/teacher/brain-mri/s1"]
            .upstream
            .keys()
            .collect::<Vec<_>>(),
        ["data", "model"]
    );
    assert!(timing.resources.exclusive);
    assert!(
        !by_name[format!("evaluate/{m}").as_str()]
            .resources
            .exclusive
    );
    assert_eq!(
        by_name[format!("evaluate/{m}").as_str()]
            .upstream
            .keys()
            .collect::<Vec<_>>(),
        ["data", "model"]
    );
}

#[test]
fn control_is_one_stage_per_depth_and_seed_whatever_the_temperatures() {
    let root = builtin_root();
    let text = STUDY.replace("alpha = [0.0, 0.5, 0.9]", "alpha = [0.0]");
    let specs =
        expand_with(&load_text(&text).expect("valid"), root.path(), false).expect("expands");
    assert_eq!(count(&specs, "student"), 4 * 3);
    // ...and it is there even when 0 is not listed.
    let text = STUDY.replace("alpha = [0.0, 0.5, 0.9]", "alpha = [0.5]");
    let specs =
        expand_with(&load_text(&text).expect("valid"), root.path(), false).expect("expands");
    assert_eq!(count(&specs, "student"), 4 * 3 * (1 + 4));
    assert!(specs
        .iter()
        .any(|s| s.name == "student/brain-mri/s2/d4-control"));
}

#[test]
fn borrowed_fingerprint_equals_spec_fingerprint() {
    let root = builtin_root();
    let mut specs =
        expand_with(&load_text(STUDY).expect("valid"), root.path(), false).expect("expands");
    let toy = load(&manifest_dir().join("../../experiments/toy.toml")).expect("valid");
    specs.extend(expand_with(&toy, root.path(), false).expect("expands"));
    for s in &specs {
        assert_eq!(super::expand::fingerprint(s), s.fingerprint(), "{}", s.name);
    }
}

#[test]
fn specs_are_topologically_ordered_and_unique() {
    let root = builtin_root();
    let specs =
        expand_with(&load_text(STUDY).expect("valid"), root.path(), false).expect("expands");
    let mut seen = BTreeSet::new();
    let mut names = BTreeSet::new();
    for s in &specs {
        for (role, fp) in &s.upstream {
            assert!(
                seen.contains(fp),
                "{} role {role} comes before its upstream",
                s.name
            );
        }
        assert!(
            seen.insert(s.fingerprint()),
            "duplicate fingerprint {}",
            s.name
        );
        assert!(names.insert(s.name.clone()), "duplicate name {}", s.name);
    }
}

#[test]
fn dataset_inputs_are_sorted_relative_image_files() {
    let root = builtin_root();
    let specs = expand_with(&load_text(BASE).expect("valid"), root.path(), false).expect("expands");
    let p = &specs[0];
    assert_eq!(p.name, "prepare/brain-mri");
    assert_eq!(
        p.inputs.keys().collect::<Vec<_>>(),
        ["no/n1.jpg", "no/n2.png", "yes/Y2.JPG", "yes/y1.jpg"]
    );
    assert_eq!(
        p.input_root.as_deref(),
        Some(root.path().join("brain-mri").as_path())
    );
    assert_eq!(p.params["format"], "imagefolder");
    assert_eq!(p.params["image_size"], 48);
}

#[test]
fn builtin_missing_is_its_own_error() {
    let empty = tempfile::tempdir().expect("tempdir");
    match expand_with(&load_text(BASE).expect("valid"), empty.path(), false) {
        Err(ExperimentError::BuiltinMissing { name, path }) => {
            assert_eq!(name, "brain-mri");
            assert_eq!(path, empty.path().join("brain-mri"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn reordered_tables_and_keys_give_identical_fingerprints() {
    let root = builtin_root();
    let reordered = r#"
[sweep]
alpha = [0.0, 0.5, 0.9]
temperature = [1, 2, 4, 8]
depth = [1, 2, 3, 4]

[teacher]
epochs = 3

[[dataset]]
source = "builtin:brain-mri"
name = "brain-mri"

# top-level keys may not follow a table, so they come first in STUDY only
"#;
    // Top-level keys must precede tables in TOML: use a root table instead.
    let reordered = format!("seeds = [0, 1, 2]\nname = \"study\"\n{reordered}");
    assert_eq!(fps(STUDY, root.path()), fps(&reordered, root.path()));
}

#[test]
fn explicit_defaults_give_identical_fingerprints() {
    let root = builtin_root();
    let explicit = format!(
        "{STUDY}\n[student]\nwidth = 16\nschedule = \"plateau\"\naugment = true\n[evaluate]\nlatency_repeats = 20\n\
         [explain]\nmethods = [\"expected_gradients\", \"gradcam\", \"feature_maps\"]\ngradcam_layer = -1\n\
         [run]\ndevice = \"auto\"\n"
    )
    .replace("name = \"brain-mri\"", "name = \"brain-mri\"\nimage_size = 48\nskip_corrupt = false");
    assert_eq!(fps(STUDY, root.path()), fps(&explicit, root.path()));
}

#[test]
fn changing_one_temperature_changes_exactly_its_stages() {
    let root = builtin_root();
    let before = fps(STUDY, root.path());
    let after = fps(&STUDY.replace("[1, 2, 4, 8]", "[1, 2, 4, 16]"), root.path());
    let gone: BTreeSet<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    let new: BTreeSet<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    assert!(gone.iter().all(|n| n.contains("-T8-")));
    assert!(new.iter().all(|n| n.contains("-T16-")));
    // 3 seeds × 4 depths × 2 alphas, each with evaluate and explain
    // (timing is per architecture, on the control students).
    assert_eq!(gone.len(), 3 * 4 * 2 * 3);
    assert_eq!(new.len(), gone.len());
    for (name, fp) in &before {
        if let Some(fp2) = after.get(name) {
            assert_eq!(fp, fp2, "{name} changed");
        }
    }
}

#[test]
fn changing_teacher_epochs_changes_teacher_and_distilled_students_only() {
    let root = builtin_root();
    let before = fps(STUDY, root.path());
    let after = fps(&STUDY.replace("epochs = 3", "epochs = 4"), root.path());
    for (name, fp) in &before {
        let changed = &after[name] != fp;
        // Control students do not see the teacher, but their explain stage
        // compares with the teacher's explanations; the timing stage times
        // the teacher.
        let expect = !name.starts_with("prepare/")
            && (!name.contains("-control") || name.starts_with("explain/"));
        assert_eq!(changed, expect, "{name}");
    }
}

#[test]
fn editing_explain_changes_only_explain_and_timing() {
    let root = builtin_root();
    let before = fps(STUDY, root.path());
    // (edit, changes explain stages, changes timing stages)
    for (edit, explain, timing) in [
        ("images = 3", true, false),
        ("timing_images = 2", false, true),
        ("gradcam_layer = -2", true, true),
        ("eg_samples = 8", true, true),
        ("timing_repeats = 2", false, true),
        ("methods = [\"gradcam\"]", true, true),
    ] {
        let after = fps(&format!("{STUDY}\n[explain]\n{edit}\n"), root.path());
        assert_eq!(
            before.keys().collect::<Vec<_>>(),
            after.keys().collect::<Vec<_>>()
        );
        for (name, fp) in &before {
            let changed = &after[name] != fp;
            let expect = (explain && name.starts_with("explain/"))
                || (timing && name.starts_with("timing/"));
            assert_eq!(changed, expect, "{edit}: {name}");
        }
    }
    // deletion_steps is not a timing parameter.
    let after = fps(
        &format!("{STUDY}\n[explain]\ndeletion_steps = 5\n"),
        root.path(),
    );
    for (name, fp) in &before {
        assert_eq!(&after[name] != fp, name.starts_with("explain/"), "{name}");
    }
}

#[test]
fn no_methods_means_no_explain_or_timing() {
    let root = builtin_root();
    let exp = load_text(&format!("{STUDY}\n[explain]\nmethods = []\n")).expect("valid");
    let specs = expand_with(&exp, root.path(), false).expect("expands");
    assert_eq!(count(&specs, "explain") + count(&specs, "timing"), 0);
    assert_eq!(count(&specs, "evaluate"), 111);
}

#[test]
fn device_resolution() {
    let root = builtin_root();
    let exp = load_text(BASE).expect("valid");
    let gpu = expand_with(&exp, root.path(), true).expect("expands");
    let teacher = gpu.iter().find(|s| s.kind == "teacher").expect("teacher");
    assert_eq!(teacher.params["train"]["device"], "cuda");
    assert_eq!(teacher.resources.gpu, 1);
    assert_eq!(gpu[0].resources.gpu, 0, "prepare runs on the cpu");
    let cpu = expand_with(&exp, root.path(), false).expect("expands");
    assert_ne!(gpu[1].fingerprint(), cpu[1].fingerprint());
    let exp = load_text(&format!("{BASE}\n[run]\ndevice = \"cuda\"\n")).expect("valid");
    let e = expand_with(&exp, root.path(), false).expect_err("no cuda");
    assert_eq!(
        e.to_string(),
        "exp.toml: run.device = \"cuda\" but no cuda device is available"
    );
}

#[test]
fn teacher_weights_are_an_input() {
    let root = builtin_root();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("t.safetensors"), "weights v1").expect("write");
    let path = dir.path().join("exp.toml");
    let text = format!("{BASE}\n[teacher]\nweights = \"t.safetensors\"\n");
    let exp = load_str(&path, &text).expect("valid");
    let specs = expand_with(&exp, root.path(), false).expect("expands");
    let t = specs.iter().find(|s| s.kind == "teacher").expect("teacher");
    assert_eq!(t.inputs.keys().collect::<Vec<_>>(), ["weights"]);
    assert_eq!(t.params["model"]["weights"], "t.safetensors");
    assert_eq!(t.input_root.as_deref(), Some(dir.path()));
    let fp1 = t.fingerprint();
    std::fs::write(dir.path().join("t.safetensors"), "weights v2").expect("write");
    let specs = expand_with(&exp, root.path(), false).expect("expands");
    let t = specs.iter().find(|s| s.kind == "teacher").expect("teacher");
    assert_ne!(t.fingerprint(), fp1);
    // A missing weights file is a validation problem.
    let ps = match load_str(&path, &text.replace("t.safetensors", "nope.safetensors")) {
        Err(ExperimentError::Invalid { problems, .. }) => problems,
        other => panic!("{other:?}"),
    };
    assert_eq!(ps[0].key, "teacher.weights");
}

#[test]
fn imagefolder_presplit_and_idx_inputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in [
        "Training/a/1.png",
        "Training/b/2.png",
        "Testing/a/3.png",
        "Other/c/4.png",
    ] {
        let p = dir.path().join("mri").join(f);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, f).expect("write");
    }
    let idx = dir.path().join("fashion");
    std::fs::create_dir_all(&idx).expect("mkdir");
    for f in [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        std::fs::write(idx.join(f), f).expect("write");
    }
    let text =
        "name = \"t\"\n[[dataset]]\nname = \"mri\"\nformat = \"imagefolder\"\npath = \"mri\"\n\
                train_dir = \"Training\"\ntest_dir = \"Testing\"\n\
                [[dataset]]\nname = \"fashion\"\nformat = \"idx\"\npath = \"fashion\"\n";
    let exp = load_str(&dir.path().join("exp.toml"), text).expect("valid");
    let specs = expand_with(&exp, dir.path(), false).expect("expands");
    let mri = specs.iter().find(|s| s.name == "prepare/mri").expect("mri");
    assert_eq!(
        mri.inputs.keys().collect::<Vec<_>>(),
        ["Testing/a/3.png", "Training/a/1.png", "Training/b/2.png"]
    );
    assert_eq!(mri.params["train_dir"], "Training");
    let f = specs
        .iter()
        .find(|s| s.name == "prepare/fashion")
        .expect("fashion");
    assert_eq!(f.inputs.len(), 4);
    assert!(f.inputs.contains_key("t10k-images-idx3-ubyte"));
    assert_eq!(f.params["format"], "idx");
}

// ---- toy ----

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

// ---- shipped files and the 1,000-stage benchmarks ----

#[test]
fn shipped_experiments_load() {
    let root = builtin_root();
    let exp = load(&manifest_dir().join("../../experiments/default.toml"))
        .expect("default.toml is valid");
    assert_eq!(exp.name, "brain-mri-kd");
    let specs = expand_with(&exp, root.path(), false).expect("expands");
    assert_eq!(count(&specs, "student"), 108);
    assert_eq!(specs.len(), 1 + 3 * 111 + 1);
    // default.toml spells out (nearly) every default: same stages as STUDY
    // apart from the teacher's epochs and the experiment's own keys.
    let study = fps(&STUDY.replace("epochs = 3", ""), root.path());
    let default: BTreeMap<String, String> = specs
        .iter()
        .map(|s| (s.name.clone(), s.fingerprint().to_string()))
        .collect();
    assert_eq!(study, default);
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
fn generated_large_kd_experiment() {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in [
        "imgs/a/1.png",
        "imgs/a/2.png",
        "imgs/b/3.png",
        "imgs/b/4.png",
    ] {
        let p = dir.path().join(f);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, f).expect("write");
    }
    let text = generate_large_toml(9, "imgs");
    let exp = load_str(&dir.path().join("bench.toml"), &text).expect("valid");
    let (specs, dt) = timed(|| expand_with(&exp, dir.path(), false).expect("expands"));
    assert_eq!(specs.len(), large_kd_stage_count(9));
    assert_eq!(specs.len(), 1001);
    eprintln!("generated kd: {} stages expanded in {dt:?}", specs.len());
}

/// The result of `f` and its fastest wall time over 5 runs (a benchmark
/// print, not a timed assertion).
fn timed<T>(f: impl Fn() -> T) -> (T, std::time::Duration) {
    let mut best = std::time::Duration::MAX;
    let mut out = None;
    for _ in 0..5 {
        drop(out.take());
        let t = std::time::Instant::now();
        out = Some(f());
        best = best.min(t.elapsed());
    }
    (out.expect("ran"), best)
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
