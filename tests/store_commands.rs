//! Run targets, `ls` and `show` through the real binary on the toy study.

#![allow(clippy::unwrap_used)] // tests panic on purpose

mod common;

use common::*;

#[test]
fn a_target_runs_its_upstream_only_and_ls_show_find_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let exp = write_toy(dir.path(), "toy.toml", "[0, 1]", "values = [1, 2]\nn = 3");
    let exp_s = exp.to_str().unwrap();

    ok(&kdpipe(
        &store,
        &["run", exp_s, "toy/square/s1/*", "--plain"],
    ));
    let mut ran = names_with(&last_events(&store), "finished");
    ran.sort();
    assert_eq!(ran, ["toy/gen/s1", "toy/square/s1/x1", "toy/square/s1/x2"]);

    let ls = kdpipe(&store, &["ls", exp_s]);
    ok(&ls);
    let text = stdout(&ls);
    let line = |name: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not in\n{text}"))
            .to_owned()
    };
    assert!(line("toy/square/s1/x2").contains("cached"), "{text}");
    assert!(line("toy/sum/s0").contains("will run"), "{text}");
    assert!(line("toy/gen/s1").contains(store.join("objects").to_str().unwrap()));
    assert!(
        text.ends_with("stages, 2.2 KiB in the store\n") || text.contains("8 stages"),
        "{text}"
    );
    let only = stdout(&kdpipe(&store, &["ls", exp_s, "toy/gen/*"]));
    assert_eq!(
        only.lines().count(),
        3,
        "two gen stages and the total: {only}"
    );

    let show = kdpipe(&store, &["show", "toy/square/s1/x2"]);
    ok(&show);
    let text = stdout(&show);
    assert!(text.starts_with("toy/square/s1/x2\n"), "{text}");
    assert!(text.contains("kind         toy.square"), "{text}");
    assert!(text.contains("result.json"), "{text}");
    let path = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("path"))
        .unwrap()
        .trim();
    assert!(
        std::path::Path::new(path).join("result.json").is_file(),
        "{path}"
    );

    let missing = kdpipe(&store, &["show", "toy/sum/s1"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no published stage named 'toy/sum/s1'"),
        "{}",
        stderr(&missing)
    );
    let bad = kdpipe(&store, &["run", exp_s, "toy/nope/*"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("target 'toy/nope/*' matches no stage"));
}

#[test]
fn diff_of_two_experiments_groups_changes_by_field_and_names_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let a = write_toy(dir.path(), "a.toml", "[0]", "values = [1, 2]\nn = 3");
    let b = write_toy(dir.path(), "b.toml", "[0]", "values = [1, 3]\nn = 4");
    let (a_s, b_s) = (a.to_str().unwrap(), b.to_str().unwrap());
    let out = kdpipe(&store, &["diff", a_s, b_s, "--format", "json"]);
    ok(&out);
    let d: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(d["compares"], "experiments");
    assert_eq!(
        d["inputs"],
        serde_json::json!([{"field": "params.n", "a": 3, "b": 4, "stages": ["toy/gen/s0"]}])
    );
    assert_eq!(
        d["upstream_only"],
        serde_json::json!(["toy/square/s0/x1", "toy/sum/s0"])
    );
    assert_eq!(d["only_a"], serde_json::json!(["toy/square/s0/x2"]));
    assert_eq!(d["only_b"], serde_json::json!(["toy/square/s0/x3"]));
    assert_eq!(d["identical"], 0);

    let text = stdout(&kdpipe(&store, &["diff", a_s, b_s]));
    assert!(
        text.contains("params.n: 3 -> 4  (1 stage(s): toy/gen/s0)"),
        "{text}"
    );
    assert!(
        text.contains("0 identical, 1 with own inputs changed, 2 changed only upstream, 1 only in A, 1 only in B"),
        "{text}"
    );
    // two stages of one experiment
    let text = stdout(&kdpipe(
        &store,
        &["diff", a_s, "toy/square/s0/x1", "toy/square/s0/x2"],
    ));
    assert!(text.contains("params.x: 1 -> 2"), "{text}");
    // two names that are not experiment files: told how to call it
    let out = kdpipe(&store, &["diff", "toy/square/s0/x1", "toy/square/s0/x2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("diff EXP toy/square/s0/x1"),
        "{}",
        stderr(&out)
    );
    let out = kdpipe(&store, &["diff", a_s, "toy/nope", "toy/square/s0/x2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no stage 'toy/nope'"),
        "{}",
        stderr(&out)
    );
}
