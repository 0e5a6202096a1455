//! Tests of the KD study's validation: every problem reported at once, with
//! its key, position and value (insta snapshots of the messages).

use crate::test_support::{err, load_text, problems, BASE};

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

/// `select`, `class_weight` and `cpu_isa` take only their documented values.
#[test]
fn training_and_kernel_choices_are_checked() {
    let text = format!(
        "{BASE}\n[teacher]\nselect = \"best\"\n[student]\nclass_weight = \"auto\"\n[run]\ncpu_isa = \"sse4\"\n"
    );
    let ps = problems(&text);
    let got: Vec<(String, String)> = ps
        .iter()
        .map(|p| (p.key.clone(), p.message.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "teacher.select".to_string(),
                "unknown value; expected one of \"val_loss\", \"val_accuracy\", \"val_balanced_accuracy\", \"last\"".to_string()
            ),
            (
                "student.class_weight".to_string(),
                "unknown value; expected one of \"none\", \"balanced\"".to_string()
            ),
            (
                "run.cpu_isa".to_string(),
                "unknown value; expected one of \"avx2\", \"avx512\", \"native\"".to_string()
            ),
        ]
    );
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
fn near_duplicate_and_resize_keys_are_checked() {
    let text = format!(
        "{BASE}resize = \"squash\"\nnear_dup_hamming = 65\nnear_dup_min_corr = 0.0\nlabel_conflicts = \"keep\"\n"
    );
    let ps = problems(&text);
    let got: Vec<(&str, &str)> = ps
        .iter()
        .map(|p| (p.key.as_str(), p.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "dataset[0].resize",
                "unknown value; expected one of \"pad\", \"crop\", \"stretch\""
            ),
            (
                "dataset[0].label_conflicts",
                "unknown value; expected one of \"error\", \"drop\""
            ),
            ("dataset[0].near_dup_hamming", "must be between 0 and 64"),
            ("dataset[0].near_dup_min_corr", "must be in (0, 1]"),
        ]
    );
}

/// Split folders must stay inside the dataset path (`"../../.."` used to
/// be accepted), and `val_dir` needs the other two.
#[test]
fn split_folders_stay_inside_the_dataset_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in [
        "mri/tr/a/1.png",
        "mri/tr/b/2.png",
        "mri/te/a/3.png",
        "mri/te/b/4.png",
    ] {
        let p = dir.path().join(f);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, b"x").expect("write");
    }
    let base =
        "name = \"t\"\n[[dataset]]\nname = \"mri\"\nformat = \"imagefolder\"\npath = \"mri\"\n";
    let load = |extra: &str| {
        crate::experiment::load_str(&dir.path().join("exp.toml"), &format!("{base}{extra}"))
    };
    assert!(load("train_dir = \"tr\"\ntest_dir = \"te\"\n").is_ok());
    let problems_of = |extra: &str| match load(extra) {
        Err(crate::experiment::ExperimentError::Invalid { problems, .. }) => problems,
        other => panic!("expected problems, got {other:?}"),
    };
    let ps = problems_of("train_dir = \"../../..\"\ntest_dir = \"te\"\n");
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!(ps[0].key, "dataset[0].train_dir");
    assert_eq!(ps[0].value.as_deref(), Some("\"../../..\""));
    assert!(
        ps[0]
            .message
            .starts_with("must be a folder inside the dataset path"),
        "{ps:?}"
    );
    let ps = problems_of("train_dir = \"tr\"\ntest_dir = \"/etc\"\n");
    assert_eq!(ps[0].key, "dataset[0].test_dir");
    let ps = problems_of("val_dir = \"tr\"\n");
    assert_eq!(ps[0].key, "dataset[0].val_dir");
    assert_eq!(
        ps[0].message,
        "needs `train_dir` and `test_dir` (a pre-made split)"
    );
    let ps = problems_of("train_dir = \"tr\"\ntest_dir = \"te\"\nval_dir = \"va\"\n");
    assert_eq!(ps[0].key, "dataset[0].val_dir");
    assert!(ps[0].message.ends_with("does not exist"), "{ps:?}");
}

/// `images` takes "all" or a count ≥ 1; `gradcam_layer` an index or
/// "common". Anything else names both forms.
#[test]
fn explain_images_and_gradcam_layer_forms() {
    for ok in [
        "images = \"all\"",
        "images = 5",
        "gradcam_layer = \"common\"",
        "gradcam_layer = -2",
    ] {
        assert!(
            load_text(&format!("{BASE}\n[explain]\n{ok}\n")).is_ok(),
            "{ok}"
        );
    }
    for (bad, value, message) in [
        (
            "images = 0",
            "0",
            "must be an integer of at least 1 or \"all\"",
        ),
        (
            "images = \"some\"",
            "\"some\"",
            "must be an integer of at least 1 or \"all\"",
        ),
        (
            "images = 2.5",
            "2.5",
            "must be an integer of at least 1 or \"all\"",
        ),
        (
            "gradcam_layer = \"last\"",
            "\"last\"",
            "must be an integer between -2147483648 and 2147483647 or \"common\"",
        ),
    ] {
        let ps = problems(&format!("{BASE}\n[explain]\n{bad}\n"));
        assert_eq!(ps.len(), 1, "{bad}: {ps:?}");
        assert_eq!(
            ps[0].key,
            bad.split(' ')
                .next()
                .map(|k| format!("explain.{k}"))
                .unwrap()
        );
        assert_eq!(ps[0].value.as_deref(), Some(value), "{bad}");
        assert_eq!(ps[0].message, message, "{bad}");
    }
}
