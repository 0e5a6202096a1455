//! Built-in data sets: fetched once into a local data cache, never committed.
//!
//! `brain-mri` is "Brain MRI Images for Brain Tumor Detection" (2 classes,
//! `no` 98 / `yes` 155 files), shipped inside the PyPI wheel
//! `my-unique-datasets-library==0.8.1`. We `pip download --no-deps` the wheel,
//! check its SHA-256 before opening it, and extract only the images.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// One built-in data set.
pub struct Builtin {
    pub name: &'static str,
    pub requirement: &'static str,
    pub wheel_file: &'static str,
    pub wheel_sha256: &'static str,
    /// Folder inside the wheel whose sub-folders are the classes.
    pub prefix: &'static str,
    /// Expected number of image files after extraction.
    pub files: usize,
}

pub const BUILTINS: &[Builtin] = &[Builtin {
    name: "brain-mri",
    requirement: "my-unique-datasets-library==0.8.1",
    wheel_file: "my_unique_datasets_library-0.8.1-py3-none-any.whl",
    wheel_sha256: "1952f714de2824109170989f393283c92d58ff00d62eaee0005cff9fb7c87923",
    prefix: "my_datasets/data/images/brain_tumor_dataset/",
    files: 253,
}];

/// The data cache: `$KDPIPE_DATA_DIR`, else `$XDG_CACHE_HOME/kdpipe`, else
/// `~/.cache/kdpipe`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KDPIPE_DATA_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("kdpipe");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".cache").join("kdpipe")
}

/// Where extracted built-in data sets live: `<cache>/data/<name>/`.
pub fn builtin_root() -> PathBuf {
    cache_dir().join("data")
}

pub fn find(name: &str) -> Result<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name).with_context(|| {
        let known: Vec<_> = BUILTINS.iter().map(|b| b.name).collect();
        format!(
            "unknown built-in data set `{name}` (known: {})",
            known.join(", ")
        )
    })
}

/// Makes sure the data set is extracted; returns its folder.
pub fn ensure(b: &Builtin) -> Result<PathBuf> {
    let dest = builtin_root().join(b.name);
    if dest.is_dir() {
        return Ok(dest);
    }
    let wheel = fetch_wheel(b)?;
    extract(b, &wheel, &dest)?;
    Ok(dest)
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("KDPIPE_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(".venv/bin/python");
    if venv.exists() {
        venv.to_path_buf()
    } else {
        PathBuf::from("python3")
    }
}

fn fetch_wheel(b: &Builtin) -> Result<PathBuf> {
    let dir = cache_dir().join("wheels");
    let wheel = dir.join(b.wheel_file);
    if !wheel.exists() {
        fs::create_dir_all(&dir).with_context(|| format!("failed to create {}", dir.display()))?;
        eprintln!(
            "fetching built-in data set `{}` ({})",
            b.name, b.requirement
        );
        let status = Command::new(python())
            .args([
                "-m",
                "pip",
                "download",
                "--disable-pip-version-check",
                "-q",
                "--no-deps",
            ])
            .arg("-d")
            .arg(&dir)
            .arg(b.requirement)
            .status()
            .context("failed to run `python -m pip download` (is Python with pip installed?)")?;
        if !status.success() {
            bail!("`pip download {}` failed ({status})", b.requirement);
        }
    }
    let actual = sha256_of(&wheel)?;
    if actual != b.wheel_sha256 {
        let _ = fs::remove_file(&wheel);
        bail!(
            "checksum mismatch for {}: expected sha256 {}, got {actual}; the file was removed",
            wheel.display(),
            b.wheel_sha256
        );
    }
    Ok(wheel)
}

fn sha256_of(path: &Path) -> Result<String> {
    engine::hashing::sha256_file(path).with_context(|| format!("failed to hash {}", path.display()))
}

/// Extracts the images under `b.prefix` into `dest` through a temporary
/// folder and one rename, so a killed extraction leaves nothing half-done.
fn extract(b: &Builtin, wheel: &Path, dest: &Path) -> Result<()> {
    let parent = dest.parent().context("data folder has no parent")?;
    fs::create_dir_all(parent).with_context(|| format!("failed to create {}", parent.display()))?;
    let tmp = parent.join(format!(".{}.tmp-{}", b.name, std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let file =
        fs::File::open(wheel).with_context(|| format!("failed to open {}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .with_context(|| format!("{} is not a zip file", wheel.display()))?;
    let mut count = 0;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        let Some(rel) = entry.name().strip_prefix(b.prefix).map(str::to_owned) else {
            continue;
        };
        if entry.is_dir() || rel.is_empty() || rel.split('/').any(|c| c == ".." || c.is_empty()) {
            continue;
        }
        let out = tmp.join(&rel);
        if let Some(dir) = out.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes)?;
        fs::write(&out, bytes).with_context(|| format!("failed to write {}", out.display()))?;
        count += 1;
    }
    if count != b.files {
        let _ = fs::remove_dir_all(&tmp);
        bail!(
            "expected {} images in {}, found {count}",
            b.files,
            wheel.display()
        );
    }
    fs::rename(&tmp, dest)
        .with_context(|| format!("failed to move data into {}", dest.display()))?;
    eprintln!(
        "built-in data set `{}`: {count} images in {}",
        b.name,
        dest.display()
    );
    Ok(())
}
