//! Small helpers around the Slurm commands: running one, reading its error,
//! recognising transient and "invalid job id" failures, and paths as sbatch
//! wants them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::error::Error;

/// `path` with `%` doubled: sbatch's `--output` reads `%j`, `%x`, ... as
/// patterns and `%%` as one `%`.
pub(super) fn escape_output_pattern(path: &Path) -> std::ffi::OsString {
    let text = path.as_os_str().to_string_lossy();
    if text.contains('%') && path.to_str().is_some() {
        text.replace('%', "%%").into()
    } else {
        path.as_os_str().to_owned()
    }
}

pub(super) fn os_concat(prefix: &str, value: &std::ffi::OsStr) -> std::ffi::OsString {
    let mut s = std::ffi::OsString::from(prefix);
    s.push(value);
    s
}

pub(super) fn absolute(path: &Path) -> crate::Result<PathBuf> {
    std::path::absolute(path).map_err(|e| Error::io("resolve path", path, e))
}

pub(super) fn set_executable(path: &Path) -> crate::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io("set permissions of", path, e))
}

pub(super) fn run(command: &mut Command) -> std::io::Result<Output> {
    command.stdin(std::process::Stdio::null()).output()
}

pub(super) fn stderr_text(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if text.is_empty() {
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    } else {
        text
    }
}

/// Errors after which the same `sbatch` may succeed and that say the job was
/// not queued: the controller is at its job limit for now, or unreachable.
/// Not "Socket timed out": the controller may have queued the job anyway,
/// and a retry would submit it twice (harmless for the store, thanks to the
/// stage lock, but the first job would not be tracked or cancelled).
pub(super) fn is_transient(out: &Output) -> bool {
    let text = String::from_utf8_lossy(&out.stderr);
    [
        "Resource temporarily unavailable",
        "temporarily unable to accept job",
        "Unable to contact slurm controller",
    ]
    .iter()
    .any(|m| text.contains(m))
}

/// `squeue`/`scontrol` say this for a job id the controller no longer has.
pub(super) fn is_invalid_job_id(out: &Output) -> bool {
    String::from_utf8_lossy(&out.stderr).contains("Invalid job id")
}
