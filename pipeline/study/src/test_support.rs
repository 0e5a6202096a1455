//! What the crate's tests share: small experiment texts, loading and
//! expanding them against a fixture built-in data set, and a timing helper.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::contract::Kind;
use crate::experiment::{expand, load_str, ExpandContext, Experiment, ExperimentError, Problem};
use engine::spec::StageSpec;

pub(crate) const BASE: &str = r#"
name = "t"
seeds = [0]

[[dataset]]
name = "brain-mri"
source = "builtin:brain-mri"
"#;

pub(crate) const STUDY: &str = r#"
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

pub(crate) fn load_text(text: &str) -> Result<Experiment, ExperimentError> {
    load_str(Path::new("exp.toml"), text)
}

pub(crate) fn err(text: &str) -> String {
    match load_text(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

pub(crate) fn problems(text: &str) -> Vec<Problem> {
    match load_text(text) {
        Err(ExperimentError::Invalid { problems, .. }) => problems,
        other => panic!("expected validation problems, got {other:?}"),
    }
}

/// Every kind at code version 1 (the pinned fingerprints below were made
/// so; the real table is `Kind::code_version`).
pub(crate) fn versions(_: Kind) -> u32 {
    1
}

/// A temp builtin root holding a tiny `brain-mri` ImageFolder.
pub(crate) fn builtin_root() -> tempfile::TempDir {
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

pub(crate) fn expand_with(
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
pub(crate) fn fps(text: &str, root: &Path) -> BTreeMap<String, String> {
    let exp = load_text(text).expect("valid experiment");
    let specs = expand_with(&exp, root, false).expect("expands");
    specs
        .iter()
        .map(|s| (s.name.clone(), s.fingerprint().to_string()))
        .collect()
}

pub(crate) fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn count(specs: &[StageSpec], kind: &str) -> usize {
    specs.iter().filter(|s| s.kind == kind).count()
}

/// The result of `f` and its fastest wall time over 5 runs (a benchmark
/// print, not a timed assertion).
pub(crate) fn timed<T>(f: impl Fn() -> T) -> (T, std::time::Duration) {
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
