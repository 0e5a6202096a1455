//! Tests of loading: malformed toml, unknown keys and wrong types (insta
//! snapshots of the messages), the `kind` switch, and the top-level keys
//! every study shares.

use super::*;
use crate::test_support::{err, load_text, problems, BASE};

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

// ---- the top-level keys ----

#[test]
fn empty_seeds() {
    let ps = problems(&BASE.replace("seeds = [0]", "seeds = []"));
    assert_eq!(ps[0].key, "seeds");
    assert_eq!(ps[0].message, "must hold at least one seed");
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
