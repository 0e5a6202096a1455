//! Loading: read the file, parse it once with spans, pick the schema from the
//! top-level `kind`, deserialize it (unknown keys and wrong types are errors
//! with their line, column and key), then validate into resolved types.

use std::path::Path;

use serde::de::DeserializeOwned;

use super::error::{ExperimentError, Problem};
use super::locate::{line_col, Doc, KeyPath};
use super::resolved::Experiment;
use crate::kd::schema::KdFile;
use crate::kd::validate::validate_kd;
use crate::toy::schema::ToyFile;
use crate::toy::validate::validate_toy;

/// Reads, parses and validates the experiment file at `path`. Relative paths
/// in the file (datasets, weights) are resolved against its folder.
pub fn load(path: &Path) -> Result<Experiment, ExperimentError> {
    let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    load_str(path, &text)
}

/// As [`load`], with the file's text already read (`path` names it in
/// errors and anchors its relative paths).
pub fn load_str(path: &Path, text: &str) -> Result<Experiment, ExperimentError> {
    let doc = Doc::parse(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
        ExperimentError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: first_line(e.message()),
        }
    })?;
    let kind = match doc.top_level("kind") {
        None => "kd",
        Some(v) => match v.get_ref().as_str() {
            Some(s) => s,
            None => {
                let (line, column) = doc.line_col(v.span().start);
                return Err(ExperimentError::Type {
                    path: path.to_path_buf(),
                    line,
                    column,
                    key: "kind".into(),
                    message: "must be a string: \"kd\" or \"toy\"".into(),
                });
            }
        },
    };
    let invalid = |problems: Vec<Problem>| ExperimentError::Invalid {
        path: path.to_path_buf(),
        problems,
    };
    match kind {
        "kd" => validate_kd(path, &doc, deserialize::<KdFile>(path, &doc)?).map_err(invalid),
        "toy" => validate_toy(path, &doc, deserialize::<ToyFile>(path, &doc)?).map_err(invalid),
        other => {
            let key = KeyPath::default().key("kind");
            let (line, column) = match doc.span_of(&key) {
                Some(s) => {
                    let (l, c) = doc.line_col(s.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            Err(invalid(vec![Problem {
                line,
                column,
                key: "kind".into(),
                value: Some(format!("\"{other}\"")),
                message: "unknown value; expected one of \"kd\", \"toy\"".into(),
            }]))
        }
    }
}

fn first_line(s: &str) -> String {
    s.trim().replace('\n', "; ")
}

fn deserialize<T: DeserializeOwned>(path: &Path, doc: &Doc<'_>) -> Result<T, ExperimentError> {
    toml::from_str::<T>(doc.text).map_err(|e| {
        let message = e
            .message()
            .trim()
            .replace("expected i64", "expected an integer")
            .replace("expected f64", "expected a number");
        let Some(span) = e.span() else {
            return ExperimentError::Schema {
                path: path.to_path_buf(),
                message,
            };
        };
        let (line, column) = doc.line_col(span.start);
        let key_path = doc.path_at(span.start);
        if let Some(rest) = message.strip_prefix("unknown field ") {
            // serde: "unknown field `k`, expected one of `a`, `b`" (or
            // "expected `a`", "expected `a` or `b`", "there are no fields").
            let quoted: Vec<String> = rest
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect();
            if let Some((key, allowed)) = quoted.split_first() {
                let table = key_path
                    .as_ref()
                    .map_or_else(|| "its table".to_owned(), |p| p.parent().table_label());
                return ExperimentError::UnknownKey {
                    path: path.to_path_buf(),
                    line,
                    column,
                    key: key.clone(),
                    table,
                    allowed: allowed.to_vec(),
                };
            }
        }
        ExperimentError::Type {
            path: path.to_path_buf(),
            line,
            column,
            key: key_path.map_or_else(|| "?".to_owned(), |p| p.to_string()),
            message,
        }
    })
}
