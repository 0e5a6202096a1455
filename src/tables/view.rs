//! Row and column selection on a table: `--sort`, `--filter`, `--only-changed`.
//! A metric of a summary is addressed by its base name (`accuracy` means
//! `accuracy_mean`).

use polars::prelude::*;

use super::TablesError;

/// Column names as the user sees them: `X_mean` with its `X_std`, `X_lo`
/// and `X_hi` becomes `X`.
pub(crate) fn display_names(df: &DataFrame) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in df.get_column_names() {
        let n = name.as_str();
        let base = n
            .strip_suffix("_mean")
            .or_else(|| n.strip_suffix("_std"))
            .or_else(|| n.strip_suffix("_lo"))
            .or_else(|| n.strip_suffix("_hi"))
            .filter(|b| df.column(&format!("{b}_mean")).is_ok())
            .unwrap_or(n);
        if !out.iter().any(|o| o == base) {
            out.push(base.to_owned());
        }
    }
    out
}

/// The real column behind a user-given name: `name` itself, or `name_mean`.
pub fn resolve_column(df: &DataFrame, name: &str) -> Result<String, TablesError> {
    if df.column(name).is_ok() {
        return Ok(name.to_owned());
    }
    let mean = format!("{name}_mean");
    if df.column(&mean).is_ok() {
        return Ok(mean);
    }
    Err(TablesError::UnknownColumn {
        column: name.to_owned(),
        available: display_names(df),
    })
}

/// Sorts by one column; a leading `-` sorts descending. Nulls go last.
pub fn sort(df: &DataFrame, column: &str) -> Result<DataFrame, TablesError> {
    let (name, descending) = match column.strip_prefix('-') {
        Some(rest) => (rest, true),
        None => (column, false),
    };
    let real = resolve_column(df, name)?;
    Ok(df.sort(
        [real.as_str()],
        SortMultipleOptions::default()
            .with_order_descending(descending)
            .with_nulls_last(true)
            .with_maintain_order(true),
    )?)
}

/// Comparison operator of a [`Filter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl FilterOp {
    fn parse(s: &str) -> Option<FilterOp> {
        Some(match s {
            "<" => FilterOp::Lt,
            "<=" => FilterOp::Le,
            ">" => FilterOp::Gt,
            ">=" => FilterOp::Ge,
            "==" => FilterOp::Eq,
            "!=" => FilterOp::Ne,
            _ => return None,
        })
    }

    fn apply(self, lhs: Expr, rhs: Expr) -> Expr {
        match self {
            FilterOp::Lt => lhs.lt(rhs),
            FilterOp::Le => lhs.lt_eq(rhs),
            FilterOp::Gt => lhs.gt(rhs),
            FilterOp::Ge => lhs.gt_eq(rhs),
            FilterOp::Eq => lhs.eq(rhs),
            FilterOp::Ne => lhs.neq(rhs),
        }
    }
}

/// A parsed `--filter` expression: `column op value`, e.g. `depth<=2`,
/// `model==teacher`, `accuracy>0.8`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub expr: String,
    pub column: String,
    pub op: FilterOp,
    pub value: String,
}

impl Filter {
    /// Parses `column op value` with op one of `<`, `<=`, `>`, `>=`, `==`, `!=`.
    pub fn parse(expr: &str) -> Result<Filter, TablesError> {
        let bad = |reason: String| TablesError::BadFilter {
            expr: expr.to_owned(),
            reason,
        };
        let is_op = |c: char| matches!(c, '<' | '>' | '=' | '!');
        let start = expr.find(is_op).ok_or_else(|| {
            bad("expected 'column op value' with op one of <, <=, >, >=, ==, !=".into())
        })?;
        let rest = &expr[start..];
        let len = rest.find(|c: char| !is_op(c)).unwrap_or(rest.len());
        let op_text = &rest[..len];
        let op = FilterOp::parse(op_text).ok_or_else(|| {
            bad(format!(
                "unknown operator '{op_text}' (use <, <=, >, >=, ==, !=)"
            ))
        })?;
        let column = expr[..start].trim();
        if column.is_empty() {
            return Err(bad("missing column name before the operator".into()));
        }
        let value = rest[len..].trim().trim_matches(|c| c == '\'' || c == '"');
        if value.is_empty() {
            return Err(bad(format!("missing value after '{op_text}'")));
        }
        Ok(Filter {
            expr: expr.to_owned(),
            column: column.to_owned(),
            op,
            value: value.to_owned(),
        })
    }

    fn predicate(&self, df: &DataFrame) -> Result<Expr, TablesError> {
        let bad = |reason: String| TablesError::BadFilter {
            expr: self.expr.clone(),
            reason,
        };
        let real = resolve_column(df, &self.column)?;
        let dtype = df.column(&real)?.dtype().clone();
        let lhs = col(real.as_str());
        if dtype.is_primitive_numeric() {
            let v: f64 = self.value.parse().map_err(|_| {
                bad(format!(
                    "value '{}' is not a number, but column '{}' is numeric",
                    self.value, self.column
                ))
            })?;
            return Ok(self.op.apply(lhs.cast(DataType::Float64), lit(v)));
        }
        let ordered = !matches!(self.op, FilterOp::Eq | FilterOp::Ne);
        if dtype == DataType::Boolean {
            let v: bool = self.value.parse().map_err(|_| {
                bad(format!(
                    "value '{}' is not true or false, but column '{}' is boolean",
                    self.value, self.column
                ))
            })?;
            if ordered {
                return Err(bad(format!(
                    "column '{}' is boolean: use == or !=",
                    self.column
                )));
            }
            return Ok(self.op.apply(lhs, lit(v)));
        }
        if ordered {
            return Err(bad(format!(
                "column '{}' is text: use == or !=",
                self.column
            )));
        }
        Ok(self.op.apply(lhs, lit(self.value.clone())))
    }
}

/// Keeps the rows matching every filter (a null never matches).
pub fn filter(df: &DataFrame, filters: &[Filter]) -> Result<DataFrame, TablesError> {
    let mut lf = df.clone().lazy();
    for f in filters {
        lf = lf.filter(f.predicate(df)?);
    }
    Ok(lf.collect()?)
}

/// Drops the columns whose value (null included) is the same on every row;
/// a `_mean` / `_std` pair is dropped only when both are constant. A table of
/// fewer than two rows is returned whole.
pub fn only_changed(df: &DataFrame) -> Result<DataFrame, TablesError> {
    if df.height() < 2 {
        return Ok(df.clone());
    }
    let mut constant = std::collections::HashSet::new();
    for c in df.columns() {
        if c.n_unique()? <= 1 {
            constant.insert(c.name().to_string());
        }
    }
    let partner = |n: &str| -> Option<String> {
        n.strip_suffix("_mean")
            .map(|b| format!("{b}_std"))
            .or_else(|| n.strip_suffix("_std").map(|b| format!("{b}_mean")))
            .filter(|p| df.column(p).is_ok())
    };
    let keep: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .filter(|n| !constant.contains(n) || partner(n).is_some_and(|p| !constant.contains(&p)))
        .collect();
    Ok(df.select(keep)?)
}
