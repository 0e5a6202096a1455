//! The generic checker of an experiment file: it collects every problem,
//! each with its key path, its position in the file and its value, so that
//! one run of `kdpipe` shows all of them. Each study's validation (the KD
//! study's [`crate::kd`], the toy study's [`crate::toy`]) is written with it.

use super::error::Problem;
use super::locate::{Doc, KeyPath};

/// Collects problems, each pointed at its place in the file.
pub(crate) struct Checker<'d> {
    doc: &'d Doc<'d>,
    pub(crate) problems: Vec<Problem>,
}

impl<'d> Checker<'d> {
    pub(crate) fn new(doc: &'d Doc<'d>) -> Self {
        Checker {
            doc,
            problems: Vec::new(),
        }
    }

    /// Records a problem at `path`; `value` is shown when the file does not
    /// set the key (a default), else the text as written is shown.
    pub(crate) fn report(
        &mut self,
        path: &KeyPath,
        value: Option<String>,
        message: impl Into<String>,
    ) {
        let (line, column) = match self.doc.span_of(path) {
            Some(span) => {
                let (l, c) = self.doc.line_col(span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        let value = match self.doc.text_of(path) {
            Some(t) => Some(t.to_owned()),
            None if line.is_none() => value.map(|v| format!("{v} (default)")),
            None => None,
        };
        self.problems.push(Problem {
            line,
            column,
            key: path.to_string(),
            value,
            message: message.into(),
        });
    }

    /// An integer in `[min, max]`, as `T`; out of range → a problem and `min`.
    pub(crate) fn int<T: TryFrom<i64> + Default>(
        &mut self,
        path: &KeyPath,
        v: i64,
        min: i64,
        max: i64,
    ) -> T {
        if v < min || v > max {
            let msg = if max == i64::MAX || (max == u32::MAX as i64 && min >= 0) {
                format!("must be at least {min}")
            } else {
                format!("must be between {min} and {max}")
            };
            self.report(path, Some(v.to_string()), msg);
            return T::try_from(min).unwrap_or_default();
        }
        T::try_from(v).unwrap_or_default()
    }

    pub(crate) fn u32(&mut self, path: &KeyPath, v: i64, min: i64) -> u32 {
        self.int(path, v, min, u32::MAX as i64)
    }

    pub(crate) fn u64(&mut self, path: &KeyPath, v: i64) -> u64 {
        self.int(path, v, 0, i64::MAX)
    }

    /// A finite float satisfying `ok`, else a problem saying `must`.
    pub(crate) fn float(&mut self, path: &KeyPath, v: f64, ok: bool, must: &str) -> f64 {
        if !v.is_finite() || !ok {
            self.report(path, Some(v.to_string()), format!("must be {must}"));
        }
        v
    }

    /// One of `allowed`, else a problem listing them.
    pub(crate) fn choice<T: Copy>(
        &mut self,
        path: &KeyPath,
        v: &str,
        allowed: &[(&str, T)],
    ) -> Option<T> {
        let found = allowed.iter().find(|(name, _)| *name == v).map(|(_, t)| *t);
        if found.is_none() {
            let names: Vec<String> = allowed.iter().map(|(n, _)| format!("\"{n}\"")).collect();
            self.report(
                path,
                Some(format!("\"{v}\"")),
                format!("unknown value; expected one of {}", names.join(", ")),
            );
        }
        found
    }

    /// A name used in stage names and folders.
    pub(crate) fn name(&mut self, path: &KeyPath, v: Option<&str>) -> String {
        match v {
            None => {
                self.report(path, None, "missing: this key is required");
                String::new()
            }
            Some("") => {
                self.report(path, None, "must not be empty");
                String::new()
            }
            Some(s)
                if !s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                    || s.starts_with('.') =>
            {
                self.report(
                    path,
                    None,
                    "may only hold letters, digits, `.`, `_` and `-` (and not start with `.`)",
                );
                s.to_owned()
            }
            Some(s) => s.to_owned(),
        }
    }
}
