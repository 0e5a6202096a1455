//! Positions in the experiment file: key path ↔ byte span ↔ line and column,
//! from toml's spanned document. Used to point every error at the text.

use std::fmt;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A key path such as `sweep.temperature[2]` or `dataset[0].path`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(pub(crate) Vec<Seg>);

impl KeyPath {
    pub(crate) fn key(&self, k: &str) -> KeyPath {
        let mut v = self.0.clone();
        v.push(Seg::Key(k.to_owned()));
        KeyPath(v)
    }

    pub(crate) fn index(&self, i: usize) -> KeyPath {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        KeyPath(v)
    }

    /// The path without its last step.
    pub(crate) fn parent(&self) -> KeyPath {
        let mut v = self.0.clone();
        v.pop();
        KeyPath(v)
    }

    /// How the enclosing table reads in an error: `the top level`,
    /// `[teacher]`, `[[dataset]] #1` (0-based, as in key paths).
    pub(crate) fn table_label(&self) -> String {
        match self.0.as_slice() {
            [] => "the top level".to_owned(),
            [Seg::Key(k), Seg::Index(i)] => format!("[[{k}]] #{i}"),
            _ => format!("[{self}]"),
        }
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// The parsed document with its source text.
pub(crate) struct Doc<'a> {
    pub(crate) text: &'a str,
    pub(crate) root: DeTable<'a>,
}

impl<'a> Doc<'a> {
    pub(crate) fn parse(text: &'a str) -> Result<Doc<'a>, toml::de::Error> {
        let root = DeTable::parse(text)?.into_inner();
        Ok(Doc { text, root })
    }

    /// A top-level string value (`kind`), with its span.
    pub(crate) fn top_level(&self, key: &str) -> Option<&Spanned<DeValue<'a>>> {
        self.root
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| v)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(self.text, offset)
    }

    /// The span of the value at `path`, if the file sets it.
    pub(crate) fn span_of(&self, path: &KeyPath) -> Option<Range<usize>> {
        let mut table = &self.root;
        let mut current: Option<&Spanned<DeValue<'a>>> = None;
        for seg in &path.0 {
            let next = match (seg, current.map(|v| v.get_ref())) {
                (Seg::Key(k), None) => find_key(table, k)?,
                (Seg::Key(k), Some(DeValue::Table(t))) => find_key(t, k)?,
                (Seg::Index(i), Some(DeValue::Array(a))) => a.get(*i)?,
                _ => return None,
            };
            if let DeValue::Table(t) = next.get_ref() {
                table = t;
            }
            current = Some(next);
        }
        current.map(|v| v.span())
    }

    /// The text of the value at `path` as written, if the file sets it.
    pub(crate) fn text_of(&self, path: &KeyPath) -> Option<&'a str> {
        let span = self.span_of(path)?;
        let t = self.text.get(span)?;
        // Tables span their whole section: show scalars and short arrays only.
        (!t.contains('\n') && t.len() <= 80).then_some(t)
    }

    /// The key path of the innermost key or scalar value whose span holds
    /// `offset` (where a deserialization error points).
    pub(crate) fn path_at(&self, offset: usize) -> Option<KeyPath> {
        path_in_table(&self.root, offset, &KeyPath::default())
    }
}

fn find_key<'t, 'a>(table: &'t DeTable<'a>, key: &str) -> Option<&'t Spanned<DeValue<'a>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && (offset < span.end || span.start == span.end)
}

fn path_in_table(table: &DeTable<'_>, offset: usize, prefix: &KeyPath) -> Option<KeyPath> {
    for (k, v) in table.iter() {
        let here = prefix.key(k.get_ref());
        if let Some(p) = path_in_value(v, offset, &here) {
            return Some(p);
        }
        if contains(&k.span(), offset) {
            return Some(here);
        }
    }
    None
}

fn path_in_value(v: &Spanned<DeValue<'_>>, offset: usize, here: &KeyPath) -> Option<KeyPath> {
    match v.get_ref() {
        DeValue::Table(t) => path_in_table(t, offset, here),
        DeValue::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                if let Some(p) = path_in_value(item, offset, &here.index(i)) {
                    return Some(p);
                }
            }
            contains(&v.span(), offset).then(|| here.clone())
        }
        _ => contains(&v.span(), offset).then(|| here.clone()),
    }
}

/// 1-based line and column (in characters) of a byte offset in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}
