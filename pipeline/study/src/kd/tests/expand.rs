//! Tests of the KD study's expansion: counts, names and upstream roles,
//! fingerprint stability and sensitivity, input files, and the shipped
//! experiments.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::experiment::{load, load_str, ExperimentError};
use crate::test_support::{
    builtin_root, count, expand_with, fps, load_text, manifest_dir, timed, BASE, STUDY,
};
use engine::spec::StageSpec;

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
        assert_eq!(crate::specs::fingerprint(s), s.fingerprint(), "{}", s.name);
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
         [explain]\nmethods = [\"expected_gradients\", \"gradcam\", \"feature_maps\"]\ngradcam_layer = -1\nimages = \"all\"\n\
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
        ("gradcam_layer = \"common\"", true, true),
        ("images = \"all\"", false, false),
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
        "Testing/b/5.png",
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
        // Headers only: the magic (u8, 3 or 1 dims) and the count, which
        // planning checks; the pixels are `prepare`'s to read.
        let mut bytes = if f.contains("images") {
            [0x803u32, 2, 4, 4]
                .iter()
                .flat_map(|v| v.to_be_bytes())
                .collect::<Vec<u8>>()
        } else {
            [0x801u32, 2].iter().flat_map(|v| v.to_be_bytes()).collect()
        };
        if f.ends_with(".gz") {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(&bytes).expect("gzip");
            bytes = gz.finish().expect("gzip");
        }
        std::fs::write(idx.join(f), bytes).expect("write");
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
        [
            "Testing/a/3.png",
            "Testing/b/5.png",
            "Training/a/1.png",
            "Training/b/2.png"
        ]
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

// ---- pinned fingerprints ----

/// Every fingerprint of `STUDY` (every kind at code version 1, on the
/// fixture data set of `builtin_root`), pinned: a change to a stage's
/// params, their encoding, its inputs or its upstream wiring moves them,
/// and goes with a code-version or schema bump (last moved by prepare's new
/// keys: resize, val_dir, near_duplicates, near_dup_*, label_conflicts,
/// and the cpu_isa param).
/// `[run] cpu_isa` is a param of every KD stage (default `avx2`): each
/// value gives every stage a fingerprint of its own.
#[test]
fn cpu_isa_is_in_every_fingerprint() {
    let root = builtin_root();
    let exp = load_text(STUDY).expect("valid");
    let specs = expand_with(&exp, root.path(), false).expect("expands");
    assert!(specs
        .iter()
        .all(|s| s.params.get("cpu_isa") == Some(&serde_json::Value::from("avx2"))));
    let avx2 = fps(STUDY, root.path());
    assert_eq!(
        fps(
            &format!("{STUDY}\n[run]\ncpu_isa = \"avx2\"\n"),
            root.path()
        ),
        avx2
    );
    for isa in ["avx512", "native"] {
        let other = fps(
            &format!("{STUDY}\n[run]\ncpu_isa = \"{isa}\"\n"),
            root.path(),
        );
        assert_eq!(other.len(), avx2.len());
        let same: Vec<&String> = other
            .iter()
            .filter(|(n, fp)| avx2.get(*n) == Some(fp))
            .map(|(n, _)| n)
            .collect();
        assert!(same.is_empty(), "{isa}: unchanged {same:?}");
    }
}

#[test]
fn study_fingerprints_are_pinned() {
    let root = builtin_root();
    let fps = fps(STUDY, root.path());
    assert_eq!(fps.len(), 335);
    // Moved last by the merge of issues 11–13: prepare's new keys and code
    // version 3, `cpu_isa` in every KD stage's params, explain / timing's
    // `images: null` ("all") and `gradcam_common_block`, and the code
    // versions teacher/student 2, evaluate/explain 3, timing 4.
    let lines: String = fps.iter().map(|(n, fp)| format!("{n} {fp}\n")).collect();
    let got = format!(
        "prepare {}\nteacher {}\nstudy {}",
        fps["prepare/brain-mri"],
        fps["teacher/brain-mri/s0"],
        engine::fingerprint::hex(&Sha256::digest(lines))
    );
    assert_eq!(got, "prepare 1b5523adaec5c160d2a749e2354c1705864de8cd23c7983eba8646df4f54dbec\nteacher 4907c0961d0f8f2756c4f1ff373d2434f2ba1ea87ff031f3ad61a07b3279a7e9\nstudy 572945b3afd3421823b36fc3cd07a633e6047176b6b51687280980018484953c");
}

// ---- shipped files and the 1,000-stage benchmark ----

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
    // apart from the teacher's epochs, the experiment's own keys and its
    // shorter deletion curves (10 steps, to stay within 15 minutes).
    let study = fps(
        &format!(
            "{}\n[explain]\ndeletion_steps = 10\n",
            STUDY.replace("epochs = 3", "")
        ),
        root.path(),
    );
    let default: BTreeMap<String, String> = specs
        .iter()
        .map(|s| (s.name.clone(), s.fingerprint().to_string()))
        .collect();
    assert_eq!(study, default);
}

/// The KD benchmark study that `scripts/bench.sh` writes (BENCHMARKS.md
/// §1): the text of its `bench-large.toml` here-document.
fn bench_script_kd_experiment() -> String {
    let script = std::fs::read_to_string(manifest_dir().join("../../scripts/bench.sh"))
        .expect("read scripts/bench.sh");
    let (_, rest) = script
        .split_once("cat >\"$B/kd/bench-large.toml\" <<'EOF'\n")
        .expect("scripts/bench.sh writes bench-large.toml");
    let (text, _) = rest.split_once("\nEOF\n").expect("the here-document ends");
    format!("{text}\n")
}

#[test]
fn bench_script_kd_experiment_has_1001_stages() {
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
    let text = bench_script_kd_experiment();
    let exp = load_str(&dir.path().join("bench-large.toml"), &text).expect("valid");
    let (specs, dt) = timed(|| expand_with(&exp, dir.path(), false).expect("expands"));
    // One prepare; per seed a teacher plus 4 depths × (1 control + 4 T × 2
    // alphas) students, each model with evaluate and explain; one timing
    // stage that times every model (`timing_scope = "model"`).
    let models_per_seed = 1 + 4 * (1 + 4 * 2);
    assert_eq!(exp.seeds.len(), 9);
    assert_eq!(specs.len(), 1 + 9 * models_per_seed * 3 + 1);
    assert_eq!(specs.len(), 1001);
    eprintln!(
        "bench-large (kd): {} stages expanded in {dt:?}",
        specs.len()
    );
}

/// `gradcam_layer = "common"` resolves to the shallowest depth swept (and
/// of a CNN teacher): block 1 for depths 1–4, block 2 for depths 2 and 3,
/// and the same in the explain and timing stages.
#[test]
fn common_gradcam_layer_is_the_shallowest_block() {
    let root = builtin_root();
    for (sweep, block) in [("[1, 2, 3, 4]", 1), ("[3, 2]", 2)] {
        let text = format!(
            "{}\n[explain]\ngradcam_layer = \"common\"\n",
            STUDY.replace("depth = [1, 2, 3, 4]", &format!("depth = {sweep}"))
        );
        let exp = load_text(&text).expect("valid");
        let specs = expand_with(&exp, root.path(), false).expect("expands");
        let mut seen = 0;
        for s in specs
            .iter()
            .filter(|s| s.kind == "explain" || s.kind == "timing")
        {
            assert_eq!(
                s.params["gradcam_common_block"],
                serde_json::json!(block),
                "{}",
                s.name
            );
            assert_eq!(
                s.params["gradcam_layer"],
                serde_json::json!(block - 1),
                "{}",
                s.name
            );
            seen += 1;
        }
        assert!(seen > 0);
    }
    // The default: the last layer, no common block; every test image.
    let specs =
        expand_with(&load_text(STUDY).expect("valid"), root.path(), false).expect("expands");
    let e = specs
        .iter()
        .find(|s| s.kind == "explain")
        .expect("an explain stage");
    assert_eq!(e.params["gradcam_common_block"], serde_json::Value::Null);
    assert_eq!(e.params["images"], serde_json::Value::Null);
}

/// `experiments/paper.toml` validates once its three Kaggle folders exist
/// (made here with one file per class), and sweeps the paper's settings in
/// kdpipe's alpha convention: kdpipe's alpha weighs the soft term, so the
/// paper's {0.4, 0.7} on the hard term is kdpipe's {0.6, 0.3}.
#[test]
fn paper_toml_validates_and_sweeps_the_papers_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let layouts: [(&str, &[&str], &[&str]); 3] = [
        (
            "brain-tumor-mri",
            &["Training", "Testing"],
            &["glioma", "meningioma", "notumor", "pituitary"],
        ),
        (
            "eye-diseases",
            &[""],
            &["cataract", "diabetic_retinopathy", "glaucoma", "normal"],
        ),
        (
            "augmented-alzheimer-mri",
            &[""],
            &[
                "MildDemented",
                "ModerateDemented",
                "NonDemented",
                "VeryMildDemented",
            ],
        ),
    ];
    for (name, splits, classes) in layouts {
        for split in splits {
            for class in classes {
                let d = dir.path().join(name).join(split).join(class);
                std::fs::create_dir_all(&d).expect("mkdir");
                std::fs::write(d.join("1.png"), b"not decoded at planning").expect("write");
            }
        }
    }
    let text = std::fs::read_to_string(manifest_dir().join("../../experiments/paper.toml"))
        .expect("read paper.toml")
        .replace("/data/kaggle/", &format!("{}/", dir.path().display()));
    let exp = load_str(&dir.path().join("paper.toml"), &text).expect("paper.toml is valid");
    let kd = exp.kd().expect("a KD study");
    assert_eq!(kd.sweep.alpha, vec![0.0, 0.3, 0.6]);
    assert_eq!(kd.sweep.temperature, vec![5.0, 10.0, 15.0]);
    assert_eq!(kd.sweep.depth, vec![2, 4, 6]);
    // The paper's best settings, in kdpipe's convention, are grid points:
    // brain (T 10, alpha 0.3), eye (T 15, alpha 0.6), Alzheimer (T 5, alpha 0.6).
    for (t, a) in [(10.0, 0.3), (15.0, 0.6), (5.0, 0.6)] {
        assert!(kd.sweep.temperature.contains(&t) && kd.sweep.alpha.contains(&a));
    }
    assert_eq!(kd.datasets.len(), 3);
    assert!(text.contains("the paper's alpha {0.4, 0.7} is kdpipe's {0.6, 0.3}"));
}
