//! Snapshots of the plain-text output of `status`, `run --dry-run` and
//! `why` on a toy experiment (no libtorch), through the real binary: what a
//! user reads must not change by accident. Timestamps are replaced by
//! `<time>`; everything else (names, 12-digit fingerprints, reasons) is
//! deterministic.

#![allow(clippy::unwrap_used)] // tests panic on purpose

mod common;

use common::*;

/// Replaces RFC 3339 timestamps (`2026-12-01T19:43:23.123Z`, with an
/// offset or not) by `<time>`.
fn no_times(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let digits = |s: &[char]| s.iter().all(char::is_ascii_digit);
    while i < chars.len() {
        let rest = &chars[i..];
        if rest.len() >= 19
            && digits(&rest[0..4])
            && rest[4] == '-'
            && digits(&rest[5..7])
            && rest[7] == '-'
            && digits(&rest[8..10])
            && rest[10] == 'T'
        {
            let mut j = 11;
            while j < rest.len() && !rest[j].is_whitespace() && rest[j] != ')' {
                j += 1;
            }
            out.push_str("<time>");
            i += j;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[test]
fn status_dry_run_and_why_read_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let exp = write_toy(dir.path(), "toy.toml", "[0]", "values = [1, 2, 3]");
    let exp = exp.to_str().unwrap();

    let status = kdpipe(&store, &["status", exp]);
    ok(&status);
    insta::assert_snapshot!("status_fresh", stdout(&status));

    let dry = kdpipe(&store, &["run", exp, "--dry-run"]);
    ok(&dry);
    insta::assert_snapshot!("dry_run_fresh", stdout(&dry));

    let why_new = kdpipe(&store, &["why", exp, "toy/sum/s0"]);
    ok(&why_new);
    insta::assert_snapshot!("why_new", stdout(&why_new));

    ok(&kdpipe(&store, &["run", exp]));
    let status = kdpipe(&store, &["status", exp]);
    ok(&status);
    insta::assert_snapshot!("status_cached", stdout(&status));

    let why_cached = kdpipe(&store, &["why", exp, "toy/sum/s0"]);
    ok(&why_cached);
    insta::assert_snapshot!("why_cached", no_times(&stdout(&why_cached)));

    // One value changed: 3 -> 4.
    write_toy(dir.path(), "toy.toml", "[0]", "values = [1, 2, 4]");
    let status = kdpipe(&store, &["status", exp]);
    ok(&status);
    insta::assert_snapshot!("status_one_value_changed", stdout(&status));

    let dry = kdpipe(&store, &["run", exp, "--dry-run"]);
    ok(&dry);
    insta::assert_snapshot!("dry_run_one_value_changed", stdout(&dry));

    let why_changed = kdpipe(&store, &["why", exp, "toy/sum/s0"]);
    ok(&why_changed);
    insta::assert_snapshot!("why_changed", no_times(&stdout(&why_changed)));
}

#[test]
fn no_times_replaces_only_timestamps() {
    assert_eq!(
        no_times("x (2026-12-01T19:43:23.5+00:00) since 2026-12-01T19:43:23Z\n"),
        "x (<time>) since <time>\n"
    );
    assert_eq!(no_times("2026-12-01 no T"), "2026-12-01 no T");
}
