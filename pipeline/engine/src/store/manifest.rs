//! The manifest kept next to every published artifact: the fingerprint
//! inputs that produced it (so `why` can diff them), its output file hashes
//! and how, where and how long it ran.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fingerprint::{Fingerprint, FingerprintInputs};

/// `manifest.json` of a published artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`crate::STORE_SCHEMA_VERSION`] when written; another value on read
    /// means "not usable" (treated as missing).
    pub schema: u32,
    pub name: String,
    pub kind: String,
    pub fingerprint: Fingerprint,
    pub inputs: FingerprintInputs,
    /// Output file (path relative to the artifact dir) → SHA-256.
    pub outputs: BTreeMap<String, String>,
    /// Output file → size in bytes (absent in manifests written before it
    /// existed: then only the hash is checked).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub output_sizes: BTreeMap<String, u64>,
    /// RFC 3339 UTC timestamps.
    pub started_at: String,
    pub finished_at: String,
    pub wall_s: f64,
    /// User + system CPU seconds of the stage process and its children.
    pub cpu_s: f64,
    pub host: String,
    pub kdpipe_version: String,
    pub threads: usize,
    pub device: String,
    pub executor: String,
    #[serde(default)]
    pub summary: serde_json::Value,
}

/// User + system CPU seconds used so far by this process and its waited-for
/// children (`getrusage`).
pub fn cpu_seconds() -> f64 {
    fn tv(t: libc::timeval) -> f64 {
        t.tv_sec as f64 + t.tv_usec as f64 * 1e-6
    }
    let mut total = 0.0;
    for who in [libc::RUSAGE_SELF, libc::RUSAGE_CHILDREN] {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage writes a full `rusage` into the pointer we pass;
        // the zeroed MaybeUninit is a valid rusage either way.
        #[allow(unsafe_code)]
        let usage = unsafe {
            if libc::getrusage(who, usage.as_mut_ptr()) != 0 {
                continue;
            }
            usage.assume_init()
        };
        total += tv(usage.ru_utime) + tv(usage.ru_stime);
    }
    total
}

/// This machine's host name.
pub fn hostname() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// Now, as RFC 3339 UTC with exactly three fractional digits
/// (`2026-12-02T13:50:40.120Z`).
///
/// Fixed width on purpose: run logs and manifests are ordered by comparing
/// these strings, and the shortest form (`…:40.12Z`, `…:40Z`) sorts wrongly
/// against `…:40.123Z` (`'Z'` > `'2'`, `'.'` < `'Z'`).
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cpu_seconds_is_positive_after_work() {
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_seconds() > 0.0);
    }

    #[test]
    fn now_is_rfc3339_utc() {
        let t = now_rfc3339();
        assert!(t.ends_with('Z'), "{t}");
        assert!(t.parse::<jiff::Timestamp>().is_ok(), "{t}");
    }

    #[test]
    fn now_is_fixed_width_so_strings_sort_as_times() {
        let t = now_rfc3339();
        assert_eq!(t.len(), "2026-12-02T13:50:40.120Z".len(), "{t}");
        assert_eq!(&t[19..20], ".", "{t}");
    }
}
