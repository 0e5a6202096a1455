//! Planning: a pure function from (stage specs, store state, force patterns)
//! to an ordered [`Plan`] saying, for each stage, whether it is cached or
//! will run and why. `run`, `run --dry-run` and `status` share it.
//!
//! A published artifact is cached only if its files still match its
//! manifest ([`Store::check`]); a corrupt one runs again, with the reason
//! (`corrupt: metrics.json hash mismatch`).
//!
//! Speed: a cached stage whose files are unchanged since they were last
//! verified costs one `stat` per file (verification stamps); only stages
//! that will run read their name index and previous manifest to explain why.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fingerprint::{Fingerprint, FingerprintInputs};
use crate::graph::Graph;
use crate::spec::StageSpec;
use crate::store::{Integrity, Manifest, Store};

/// Why a stage will run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// No artifact was ever published under this stage name.
    New,
    /// Parameters differ from the last published artifact (dotted paths).
    ParamsChanged {
        keys: Vec<String>,
    },
    /// Upstream fingerprints differ (roles).
    UpstreamChanged {
        roles: Vec<String>,
    },
    /// External input files differ: how many, and the first few keys.
    InputChanged {
        count: usize,
        keys: Vec<String>,
    },
    CodeVersionChanged {
        from: u32,
        to: u32,
    },
    /// Store schema version (or stage kind) differs.
    SchemaChanged,
    /// Same fingerprint as the last published one, whose artifact is gone.
    Missing,
    /// Published, but its files do not match its manifest (or the manifest
    /// is unreadable): `detail` says which file and how.
    Corrupt {
        detail: String,
    },
    /// `--force` matched the stage name.
    Forced,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::New => f.write_str("new"),
            Reason::ParamsChanged { keys } => write!(f, "params changed: {}", keys.join(", ")),
            Reason::UpstreamChanged { roles } => {
                write!(f, "upstream changed: {}", roles.join(", "))
            }
            Reason::InputChanged { count, keys } => {
                write!(f, "{count} input file(s) changed: {}", keys.join(", "))?;
                if *count > keys.len() {
                    f.write_str(", ...")?;
                }
                Ok(())
            }
            Reason::CodeVersionChanged { from, to } => {
                write!(f, "code version changed: {from} -> {to}")
            }
            Reason::SchemaChanged => f.write_str("store schema changed"),
            Reason::Missing => f.write_str("artifact missing"),
            Reason::Corrupt { detail } => write!(f, "corrupt: {detail}"),
            Reason::Forced => f.write_str("forced"),
        }
    }
}

/// What the run will do with a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", content = "reasons", rename_all = "snake_case")]
pub enum Action {
    Cached,
    Run(Vec<Reason>),
}

/// One stage of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedStage {
    pub spec: StageSpec,
    pub fingerprint: Fingerprint,
    pub action: Action,
    /// Positions (in [`Plan::stages`]) of in-plan upstream stages.
    pub deps: Vec<usize>,
}

impl PlannedStage {
    pub fn will_run(&self) -> bool {
        matches!(self.action, Action::Run(_))
    }

    pub fn reasons(&self) -> &[Reason] {
        match &self.action {
            Action::Cached => &[],
            Action::Run(r) => r,
        }
    }
}

/// Stages in topological order with what will happen to each.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub stages: Vec<PlannedStage>,
}

impl Plan {
    pub fn to_run(&self) -> usize {
        self.stages.iter().filter(|s| s.will_run()).count()
    }

    pub fn cached(&self) -> usize {
        self.stages.len() - self.to_run()
    }

    /// The stage named `name`.
    pub fn find(&self, name: &str) -> Option<&PlannedStage> {
        self.stages.iter().find(|s| s.spec.name == name)
    }
}

/// What planning needs to know about the store.
pub trait StoreView {
    /// Whether each of `fps` is published with intact files.
    fn check_all(&self, fps: &[Fingerprint]) -> Vec<Integrity>;
    fn latest_for_name(&self, name: &str) -> Option<Fingerprint>;
    fn manifest(&self, fp: &Fingerprint) -> Option<Manifest>;
}

impl StoreView for Store {
    fn check_all(&self, fps: &[Fingerprint]) -> Vec<Integrity> {
        Store::check_all(self, fps)
    }
    fn latest_for_name(&self, name: &str) -> Option<Fingerprint> {
        Store::latest_for_name(self, name)
    }
    fn manifest(&self, fp: &Fingerprint) -> Option<Manifest> {
        self.read_manifest(fp).ok().flatten()
    }
}

/// Plans `stages`: deduplicates and orders them, and decides for each
/// whether it is cached or runs (and why). `force` holds glob patterns
/// (`*`, `?`) matched against stage names.
pub fn plan(stages: &[StageSpec], store: &dyn StoreView, force: &[String]) -> Result<Plan> {
    let graph = Graph::build(stages)?;
    let external: Vec<Fingerprint> = graph.external.iter().map(|e| e.2.clone()).collect();
    let mut all = graph.fps.clone();
    all.extend(external);
    let mut integrity = store.check_all(&all);
    let external = integrity.split_off(graph.fps.len());
    for ((i, role, fp), state) in graph.external.iter().zip(external) {
        let name = format!("{} (upstream `{role}`)", graph.specs[*i].name);
        match state {
            Integrity::Intact => {}
            Integrity::Missing => {
                return Err(Error::UnknownUpstream {
                    name,
                    fingerprint: fp.to_string(),
                })
            }
            Integrity::Corrupt(c) => {
                return Err(Error::Other(format!(
                    "{name}: the artifact {} is corrupt ({c}) and not in the plan to recompute it",
                    fp.short()
                )))
            }
        }
    }
    let mut out = Vec::with_capacity(graph.len());
    for (i, (spec, fp)) in graph.specs.iter().zip(&graph.fps).enumerate() {
        let forced = force.iter().any(|p| glob_match(p, &spec.name));
        let action = if integrity[i] == Integrity::Intact && !forced {
            Action::Cached
        } else {
            let mut reasons = match &integrity[i] {
                Integrity::Intact => Vec::new(),
                Integrity::Corrupt(c) => vec![Reason::Corrupt {
                    detail: c.to_string(),
                }],
                Integrity::Missing => reasons_against_previous(spec, fp, store),
            };
            if forced {
                reasons.push(Reason::Forced);
            }
            Action::Run(reasons)
        };
        out.push(PlannedStage {
            spec: StageSpec::clone(spec),
            fingerprint: fp.clone(),
            action,
            deps: graph.deps[i].clone(),
        });
    }
    Ok(Plan { stages: out })
}

/// The manifest of the last published artifact of stage `name`, for `why`.
pub fn previous_manifest(store: &dyn StoreView, name: &str) -> Option<Manifest> {
    store
        .latest_for_name(name)
        .and_then(|fp| store.manifest(&fp))
}

fn reasons_against_previous(
    spec: &StageSpec,
    fp: &Fingerprint,
    store: &dyn StoreView,
) -> Vec<Reason> {
    let Some(prev) = previous_manifest(store, &spec.name) else {
        return vec![Reason::New];
    };
    if &prev.fingerprint == fp {
        return vec![Reason::Missing];
    }
    reasons(&prev.inputs, &spec.fingerprint_inputs())
}

/// Why `new` differs from `old`, one reason per kind of change.
pub fn reasons(old: &FingerprintInputs, new: &FingerprintInputs) -> Vec<Reason> {
    let mut out = Vec::new();
    if old.schema != new.schema || old.kind != new.kind {
        out.push(Reason::SchemaChanged);
    }
    if old.code_version != new.code_version {
        out.push(Reason::CodeVersionChanged {
            from: old.code_version,
            to: new.code_version,
        });
    }
    let mut keys = Vec::new();
    diff_map(&old.params, &new.params, "", &mut |path, _, _| {
        keys.push(path)
    });
    if !keys.is_empty() {
        out.push(Reason::ParamsChanged { keys });
    }
    let roles = changed_keys(&old.upstream, &new.upstream);
    if !roles.is_empty() {
        out.push(Reason::UpstreamChanged { roles });
    }
    let inputs = changed_keys(&old.inputs, &new.inputs);
    if !inputs.is_empty() {
        out.push(Reason::InputChanged {
            count: inputs.len(),
            keys: inputs.into_iter().take(3).collect(),
        });
    }
    if out.is_empty() {
        // Only possible when the encodings differ but every field compares
        // equal (e.g. 1 vs 1.0): report it rather than say nothing.
        out.push(Reason::SchemaChanged);
    }
    out
}

fn changed_keys<V: PartialEq>(old: &BTreeMap<String, V>, new: &BTreeMap<String, V>) -> Vec<String> {
    let mut keys: Vec<String> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    keys.extend(old.keys().filter(|k| !new.contains_key(*k)).cloned());
    keys.sort();
    keys
}

/// One changed field of the fingerprint inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Dotted path, e.g. `params.train.lr`, `upstream.data`, `inputs.yes/Y1.jpg`.
    pub path: String,
    /// `None` when the field was added.
    pub old: Option<serde_json::Value>,
    /// `None` when the field was removed.
    pub new: Option<serde_json::Value>,
}

/// Field-by-field difference, for `kdpipe why`. Nested params objects are
/// compared recursively; lists are compared whole (their order matters).
pub fn diff_inputs(old: &FingerprintInputs, new: &FingerprintInputs) -> Vec<FieldChange> {
    use serde_json::{json, Value};
    let mut out = Vec::new();
    let mut push = |path: String, o: Option<&Value>, n: Option<&Value>| {
        out.push(FieldChange {
            path,
            old: o.cloned(),
            new: n.cloned(),
        })
    };
    if old.schema != new.schema {
        push(
            "schema".into(),
            Some(&json!(old.schema)),
            Some(&json!(new.schema)),
        );
    }
    if old.kind != new.kind {
        push(
            "kind".into(),
            Some(&json!(old.kind)),
            Some(&json!(new.kind)),
        );
    }
    if old.code_version != new.code_version {
        push(
            "code_version".into(),
            Some(&json!(old.code_version)),
            Some(&json!(new.code_version)),
        );
    }
    diff_map(&old.params, &new.params, "params.", &mut |p, o, n| {
        push(p, o, n)
    });
    let to_values = |m: &BTreeMap<String, String>| -> BTreeMap<String, Value> {
        m.iter().map(|(k, v)| (k.clone(), json!(v))).collect()
    };
    let up = |m: &BTreeMap<String, Fingerprint>| -> BTreeMap<String, Value> {
        m.iter()
            .map(|(k, v)| (k.clone(), json!(v.as_str())))
            .collect()
    };
    diff_flat(
        &up(&old.upstream),
        &up(&new.upstream),
        "upstream.",
        &mut push,
    );
    diff_flat(
        &to_values(&old.inputs),
        &to_values(&new.inputs),
        "inputs.",
        &mut push,
    );
    out
}

type Sink<'a> = dyn FnMut(String, Option<&serde_json::Value>, Option<&serde_json::Value>) + 'a;

fn diff_flat(
    old: &BTreeMap<String, serde_json::Value>,
    new: &BTreeMap<String, serde_json::Value>,
    prefix: &str,
    sink: &mut Sink<'_>,
) {
    for key in changed_keys(old, new) {
        sink(format!("{prefix}{key}"), old.get(&key), new.get(&key));
    }
}

fn diff_map(
    old: &BTreeMap<String, serde_json::Value>,
    new: &BTreeMap<String, serde_json::Value>,
    prefix: &str,
    sink: &mut Sink<'_>,
) {
    use serde_json::Value;
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let path = format!("{prefix}{key}");
        match (old.get(key), new.get(key)) {
            (Some(Value::Object(o)), Some(Value::Object(n))) => {
                let o: BTreeMap<String, Value> = o.clone().into_iter().collect();
                let n: BTreeMap<String, Value> = n.clone().into_iter().collect();
                diff_map(&o, &n, &format!("{path}."), sink);
            }
            (o, n) if o != n => sink(path, o, n),
            _ => {}
        }
    }
}

/// Shell-style glob: `*` matches any run of characters (including `/`),
/// `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
