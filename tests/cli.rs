//! The head's own errors and edge cases through the real binary: bad
//! arguments and store paths exit 2 with a message that names them, each
//! cause said once; a fully cached run needs no write access to the store.

#![allow(clippy::unwrap_used)] // tests panic on purpose

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use common::*;

#[test]
fn zero_jobs_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let exp = write_toy(dir.path(), "toy.toml", "[0]", "values = [1]");
    for flag in ["-j", "--jobs"] {
        let out = kdpipe(&store, &["run", exp.to_str().unwrap(), flag, "0"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag} 0: {err}");
        assert!(err.contains("--jobs must be at least 1"), "{flag} 0: {err}");
        assert!(!store.exists(), "{flag} 0 wrote the store");
    }
    let out = kdpipe(&store, &["run", exp.to_str().unwrap(), "--jobs", "x"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    ok(&kdpipe(&store, &["run", exp.to_str().unwrap(), "-j", "1"]));
}

#[test]
fn a_store_that_is_a_file_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write_toy(dir.path(), "toy.toml", "[0]", "values = [1]");
    let file = dir.path().join("not-a-store");
    std::fs::write(&file, "x").unwrap();
    let file_s = file.to_str().unwrap();
    for cmd in ["run", "status"] {
        let out = kdpipe(&file, &[cmd, exp.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
        assert!(
            err.contains(&format!("the artifact store {file_s} is not a directory")),
            "{cmd}: {err}"
        );
        // A store path under the file names the file.
        let out = kdpipe(&file.join("sub"), &[cmd, exp.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
        assert!(
            err.contains(&format!("{file_s} is not a directory")),
            "{cmd}: {err}"
        );
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

/// `text` holds `needle` exactly once.
#[track_caller]
fn once(text: &str, needle: &str) {
    assert_eq!(text.matches(needle).count(), 1, "{needle:?} in:\n{text}");
}

#[test]
fn a_missing_experiment_file_is_named_and_its_cause_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let out = kdpipe(
        &dir.path().join("store"),
        &["run", missing.to_str().unwrap()],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(missing.to_str().unwrap()), "{err}");
    once(&err, "No such file or directory (os error 2)");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_missing_input_path_is_named_and_its_cause_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let exp = dir.path().join("exp.toml");
    for (format, path) in [
        ("imagefolder", "no-such-folder"),
        ("medmnist", "no-such.npz"),
    ] {
        std::fs::write(
            &exp,
            format!(
                "name = \"missing\"\nseeds = [0]\n\n[[dataset]]\nname = \"mini\"\n\
                 format = \"{format}\"\npath = \"{path}\"\nimage_size = 16\n\n\
                 [teacher]\narch = \"cnn\"\ndepth = 2\n\n[student]\narch = \"cnn\"\n\n\
                 [sweep]\ndepth = [1]\ntemperature = [1.0]\nalpha = [0.5]\n"
            ),
        )
        .unwrap();
        let out = kdpipe(&dir.path().join("store"), &["run", exp.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{format}: {err}");
        assert!(
            err.contains(&format!("dataset path {}", dir.path().join(path).display())),
            "{format}: {err}"
        );
        once(&err, "No such file or directory");
    }
}

/// Runs `cmd` as `nobody` when this test runs as root: root ignores
/// permission bits, so a store made read-only with `chmod -R a-w` would
/// not be read-only to it.
fn unprivileged(cmd: &mut Command) -> &mut Command {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the effective user.
    if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
        cmd.uid(65534).gid(65534);
    }
    cmd
}

fn kdpipe_read_only(store: &Path, args: &[&str]) -> std::process::Output {
    unprivileged(
        Command::new(kdpipe_bin())
            .arg("--store")
            .arg(store)
            .args(args)
            .env_remove("KDPIPE_STORE"),
    )
    .output()
    .expect("failed to start kdpipe")
}

#[test]
fn a_fully_cached_run_works_on_a_read_only_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let exp = write_toy(dir.path(), "toy.toml", "[0]", "values = [1, 2]");
    let exp_s = exp.to_str().unwrap();
    ok(&kdpipe(&store, &["run", exp_s]));
    let before = tree(&store);
    // Readable for `nobody`: the temp dir is 0700.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let chmod = |mode: &str| {
        let ok = Command::new("chmod")
            .args(["-R", mode])
            .arg(&store)
            .status()
            .unwrap()
            .success();
        assert!(ok, "chmod -R {mode}");
    };
    chmod("a-w");
    // The test is only worth something if the store is really read-only.
    let probe = unprivileged(Command::new("touch").arg(store.join("runs/probe")))
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!probe.success(), "the store is still writable");

    let out = kdpipe_read_only(&store, &["run", exp_s, "--plain"]);
    let err = stderr(&out);
    // The stages are cached; only the run log could not be written.
    assert_eq!(out.status.code(), Some(0), "{err}");
    let cause = format!(
        "failed to create run log `{}/",
        store.join("runs").display()
    );
    assert!(err.contains(&cause), "{err}");
    assert!(err.contains("goes on without a run log"), "{err}");
    assert!(!err.lines().any(|l| l.starts_with("run log: ")), "{err}");

    // With something to run, a read-only store is an error that says so.
    let changed = write_toy(dir.path(), "toy2.toml", "[0]", "values = [1, 3]");
    let out = kdpipe_read_only(&store, &["run", changed.to_str().unwrap(), "--plain"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot register this run in the store"),
        "{err}"
    );
    once(&err, "(os error");

    chmod("u+w");
    assert_eq!(tree(&store), before, "the read-only runs changed the store");
}
