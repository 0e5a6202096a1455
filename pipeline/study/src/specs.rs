//! Building stage specs, shared by every study's expansion: a spec of a
//! kind at its code version ([`spec`]), typed params as the spec's map
//! ([`to_params`]), and the list of specs deduped by fingerprint
//! ([`Specs`]), with a borrowed encoder of the fingerprint so that dedupe
//! clones nothing.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::contract::Kind;
use engine::fingerprint::{Fingerprint, STORE_SCHEMA_VERSION};
use engine::spec::{Resources, StageSpec};

/// Specs in insertion order, deduped by fingerprint.
pub(crate) struct Specs {
    pub(crate) specs: Vec<StageSpec>,
    seen: HashSet<Fingerprint>,
    /// Params every pushed spec gets (e.g. the KD study's `cpu_isa`).
    common: BTreeMap<String, Value>,
}

impl Specs {
    pub(crate) fn new() -> Self {
        Specs {
            specs: Vec::new(),
            seen: HashSet::new(),
            common: BTreeMap::new(),
        }
    }

    /// Specs that each get the params `common` (hashed like their own).
    pub(crate) fn with_common_params(common: BTreeMap<String, Value>) -> Self {
        Specs {
            common,
            ..Specs::new()
        }
    }

    /// Adds `spec` (with the common params) unless a spec with its
    /// fingerprint is already in; returns the fingerprint either way.
    pub(crate) fn push(&mut self, mut spec: StageSpec) -> Fingerprint {
        for (k, v) in &self.common {
            spec.params.insert(k.clone(), v.clone());
        }
        let fp = fingerprint(&spec);
        if self.seen.insert(fp.clone()) {
            self.specs.push(spec);
        }
        fp
    }
}

/// `spec.fingerprint()` without cloning the spec's maps: the same canonical
/// encoding of [`engine::fingerprint::FingerprintInputs`], field for field,
/// from borrowed data (a test checks both agree on every spec).
pub(crate) fn fingerprint(spec: &StageSpec) -> Fingerprint {
    #[derive(Serialize)]
    struct Borrowed<'a> {
        schema: u32,
        kind: &'a str,
        code_version: u32,
        params: &'a BTreeMap<String, Value>,
        upstream: &'a BTreeMap<String, Fingerprint>,
        inputs: &'a BTreeMap<String, String>,
    }
    let bytes = serde_json::to_vec(&Borrowed {
        schema: STORE_SCHEMA_VERSION,
        kind: &spec.kind,
        code_version: spec.code_version,
        params: &spec.params,
        upstream: &spec.upstream,
        inputs: &spec.inputs,
    })
    .unwrap_or_default();
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 15)]));
    }
    Fingerprint::parse(&hex).unwrap_or_else(|| spec.fingerprint())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A params struct as the spec's key-sorted map.
pub(crate) fn to_params<T: Serialize>(value: &T) -> BTreeMap<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map.into_iter().collect(),
        // Every params type is a struct of plain fields.
        _ => unreachable!("stage params serialize to a json object"),
    }
}

/// The code-version table of an expansion (copied out of the context so
/// that spec builders need no borrow of it).
pub(crate) type Versions<'a> = &'a dyn Fn(Kind) -> u32;

pub(crate) fn spec(v: Versions<'_>, name: String, kind: Kind) -> StageSpec {
    StageSpec {
        name,
        kind: kind.name().to_owned(),
        code_version: v(kind),
        params: BTreeMap::new(),
        upstream: BTreeMap::new(),
        inputs: BTreeMap::new(),
        input_root: None,
        resources: Resources::default(),
    }
}
