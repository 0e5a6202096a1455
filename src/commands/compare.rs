//! `kdpipe compare EXP`: accuracy, F1, explain time and faithfulness side by
//! side across the sweep (mean ± std over seeds), gathered with polars from
//! the published artifacts. Stages that have not run show as missing.

use anyhow::anyhow;

use crate::cli::{CompareArgs, Format as CliFormat, GlobalArgs};
use crate::exit::{self, CmdResult, Failure};
use crate::session;
use crate::tables::{self, Format, TablesError};

pub fn compare(args: CompareArgs, global: &GlobalArgs) -> CmdResult {
    let study = session::load(&args.experiment, global)?;
    let format = match args.format {
        CliFormat::Table => Format::Table,
        CliFormat::Markdown => Format::Markdown,
        CliFormat::Csv => Format::Csv,
        CliFormat::Json => Format::Json,
    };
    // A corrupt artifact is refused with exit 2, naming the stage and file.
    let gathered =
        tables::gather(&study.store, &study.specs, &study.index).map_err(|e| match e {
            TablesError::Corrupt { .. } => user(e),
            e => internal(e),
        })?;
    if gathered.height() == 0 {
        return Err(Failure::bad_input(anyhow!(
            "{} has no model stages to compare",
            args.experiment.display()
        )));
    }
    let summary = tables::summarize(&gathered).map_err(internal)?;
    let text = if let Some(metric) = &args.pivot {
        let pivots = tables::pivot(&summary, metric).map_err(user)?;
        tables::render_pivots(&pivots, format).map_err(internal)?
    } else {
        // Human formats get the compact column set; csv/json keep everything.
        let mut df = match format {
            Format::Table | Format::Markdown => tables::compact(&summary).map_err(internal)?,
            Format::Csv | Format::Json => summary,
        };
        let filters = args
            .filter
            .iter()
            .map(|f| tables::Filter::parse(f))
            .collect::<Result<Vec<_>, _>>()
            .map_err(user)?;
        if !filters.is_empty() {
            df = tables::filter(&df, &filters).map_err(user)?;
        }
        if let Some(col) = &args.sort {
            df = tables::sort(&df, col).map_err(user)?;
        }
        if args.only_changed {
            df = tables::only_changed(&df).map_err(internal)?;
        }
        tables::render(&df, format).map_err(internal)?
    };
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    Ok(exit::OK)
}

/// A problem with the arguments (unknown column, bad filter): exit 2.
fn user(e: TablesError) -> Failure {
    Failure::bad_input(anyhow::Error::from(e))
}

fn internal(e: TablesError) -> Failure {
    Failure::from(anyhow::Error::from(e))
}
