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
