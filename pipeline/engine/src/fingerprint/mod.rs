//! The one hashed struct. A stage's fingerprint is the SHA-256 of the
//! canonical JSON encoding of [`FingerprintInputs`]: keys sorted (every map is
//! a `BTreeMap`, and `serde_json` is built without `preserve_order`), no
//! whitespace, floats in their shortest round-trip form.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bumped when the store layout, the manifest or the canonical encoding
/// changes: every old artifact is then invalidated on purpose.
pub const STORE_SCHEMA_VERSION: u32 = 1;

/// A stage fingerprint: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// Parses 64 lowercase hex digits.
    pub fn parse(s: &str) -> Option<Fingerprint> {
        (s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Fingerprint(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 hex digits, for display.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything a stage's output depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FingerprintInputs {
    /// [`STORE_SCHEMA_VERSION`] at the time of hashing.
    pub schema: u32,
    pub kind: String,
    pub code_version: u32,
    pub params: BTreeMap<String, serde_json::Value>,
    pub upstream: BTreeMap<String, Fingerprint>,
    pub inputs: BTreeMap<String, String>,
}

impl FingerprintInputs {
    /// The canonical byte encoding that is hashed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // serde_json::Value objects are BTreeMaps (no `preserve_order`), and
        // all our maps are BTreeMaps: the encoding is key-sorted at every level.
        serde_json::to_vec(self).expect("fingerprint inputs always serialize")
    }

    pub fn fingerprint(&self) -> Fingerprint {
        let digest = Sha256::digest(self.canonical_bytes());
        Fingerprint(hex(&digest))
    }
}

/// Lowercase hex of a byte slice.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
