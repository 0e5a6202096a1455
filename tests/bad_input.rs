//! Bad experiment files: a clear message naming the file, key or value,
//! exit code 2, nothing run and nothing written to the store.

#![allow(clippy::unwrap_used)] // tests panic on purpose

mod common;

use std::path::Path;

use common::*;

const BASE: &str = r#"name = "bad-input"
seeds = [0]

[[dataset]]
name = "mini"
format = "imagefolder"
path = "mini"
image_size = 16

[teacher]
arch = "cnn"
depth = 2

[student]
arch = "cnn"

[sweep]
depth = [1, 2]
temperature = [1.0, 4.0]
alpha = [0.0, 0.5]
"#;

/// Writes `text` as an experiment next to a (tiny) dataset folder, runs
/// `kdpipe run` and `kdpipe status` on it, and checks exit 2 + an untouched store.
#[track_caller]
fn rejects(text: &str, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mini");
    make_dataset(&data);
    let exp = dir.path().join("exp.toml");
    std::fs::write(&exp, text).unwrap();
    let store = dir.path().join("store");
    for cmd in ["run", "status"] {
        let out = kdpipe(&store, &[cmd, exp.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "`kdpipe {cmd}` must exit 2; stderr:\n{err}"
        );
        for n in needles {
            assert!(err.contains(n), "`kdpipe {cmd}` error lacks {n:?}:\n{err}");
        }
        assert!(err.contains("exp.toml"), "error must name the file:\n{err}");
        assert_store_untouched(&store);
    }
}

/// Two classes of one (not decoded: planning only hashes files) image each.
fn make_dataset(dir: &Path) {
    for class in ["a", "b"] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        std::fs::write(dir.join(class).join("x.png"), class.as_bytes()).unwrap();
    }
}

fn assert_store_untouched(store: &Path) {
    assert!(
        !store.exists() || tree(store).is_empty(),
        "bad input wrote to the store: {:?}",
        tree(store)
    );
}

fn with(find: &str, replace: &str) -> String {
    assert!(BASE.contains(find), "{find}");
    BASE.replacen(find, replace, 1)
}

#[test]
fn base_experiment_is_valid() {
    // the fixture itself must be accepted, or every case below proves nothing
    let dir = tempfile::tempdir().unwrap();
    make_dataset(&dir.path().join("mini"));
    let exp = dir.path().join("exp.toml");
    std::fs::write(&exp, BASE).unwrap();
    let out = kdpipe(
        &dir.path().join("store"),
        &["run", exp.to_str().unwrap(), "--dry-run"],
    );
    ok(&out);
}

#[test]
fn malformed_toml_names_line_and_column() {
    rejects(
        &with("image_size = 16", "image_size = = 16"),
        &["exp.toml:8:14", "invalid toml"],
    );
}

#[test]
fn unknown_key_names_the_key_and_the_allowed_ones() {
    rejects(
        &with("depth = 2\n", "depth = 2\ndepht = 3\n"),
        &["depht", "teacher", "allowed", "epochs"],
    );
}

#[test]
fn temperature_must_be_positive() {
    rejects(
        &with("temperature = [1.0, 4.0]", "temperature = [1.0, 0.0]"),
        &["sweep.temperature", "0"],
    );
    rejects(
        &with("temperature = [1.0, 4.0]", "temperature = [-2.0]"),
        &["sweep.temperature", "-2"],
    );
}

#[test]
fn alpha_must_be_in_the_unit_interval() {
    rejects(
        &with("alpha = [0.0, 0.5]", "alpha = [0.0, 1.5]"),
        &["sweep.alpha", "1.5"],
    );
    rejects(
        &with("alpha = [0.0, 0.5]", "alpha = [-0.1]"),
        &["sweep.alpha", "-0.1"],
    );
}

#[test]
fn depth_must_be_at_least_one() {
    rejects(
        &with("depth = [1, 2]", "depth = [0, 2]"),
        &["sweep.depth", "0"],
    );
}

#[test]
fn empty_sweep_axis_is_rejected() {
    rejects(
        &with("temperature = [1.0, 4.0]", "temperature = []"),
        &["sweep.temperature", "empty"],
    );
    rejects(
        &with("depth = [1, 2]", "depth = []"),
        &["sweep.depth", "empty"],
    );
}

#[test]
fn missing_dataset_path_is_named() {
    rejects(
        &with("path = \"mini\"", "path = \"no-such-folder\""),
        &["no-such-folder", "dataset"],
    );
}

#[test]
fn duplicate_dataset_names_are_rejected() {
    let dup = format!(
        "{BASE}\n[[dataset]]\nname = \"mini\"\nformat = \"imagefolder\"\npath = \"mini\"\n"
    );
    rejects(&dup, &["duplicate", "mini"]);
}
