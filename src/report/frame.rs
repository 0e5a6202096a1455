//! Reading the tables' polars columns as plain vectors (a column the frame
//! lacks reads as all-null, so an older summary never breaks the page).

use polars::prelude::*;

/// Column `name` as floats (non-finite values are null).
pub(crate) fn floats(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    let Ok(c) = df.column(name) else {
        return Ok(vec![None; df.height()]);
    };
    let c = c.cast(&DataType::Float64)?;
    Ok(c.f64()?
        .iter()
        .map(|v| v.filter(|x| x.is_finite()))
        .collect())
}

/// Column `name` as text.
pub(crate) fn strs(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    let Ok(c) = df.column(name) else {
        return Ok(vec![None; df.height()]);
    };
    let c = c.cast(&DataType::String)?;
    Ok(c.str()?.iter().map(|v| v.map(str::to_owned)).collect())
}

/// Column `name` as booleans (null is false).
pub(crate) fn bools(df: &DataFrame, name: &str) -> PolarsResult<Vec<bool>> {
    let Ok(c) = df.column(name) else {
        return Ok(vec![false; df.height()]);
    };
    Ok(c.bool()?.iter().map(|v| v.unwrap_or(false)).collect())
}
