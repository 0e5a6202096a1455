//! `kdpipe compare EXP`: accuracy, F1, explain time and faithfulness side by
//! side across the sweep, gathered with polars from the published
//! artifacts. Table and markdown output open with the headline (majority
//! baseline, teacher, and per depth the control and the student selected on
//! validation), then the full grid, labelled exploratory; every accuracy-type
//! number carries a bootstrap interval over test images × seeds. Stages
//! that have not run show as missing.

use anyhow::anyhow;
use polars::prelude::DataFrame;

use crate::cli::{CompareArgs, Format as CliFormat, GlobalArgs};
use crate::exit::{self, CmdResult, Failure};
use crate::session;
use crate::tables::{self, Format, Tables, TablesError};

pub fn compare(args: CompareArgs, global: &GlobalArgs) -> CmdResult {
    let study = session::load(&args.experiment, global)?;
    let format = match args.format {
        CliFormat::Table => Format::Table,
        CliFormat::Markdown => Format::Markdown,
        CliFormat::Csv => Format::Csv,
        CliFormat::Json => Format::Json,
    };
    if study.index.models.is_empty() {
        return Err(Failure::bad_input(anyhow!(
            "{} has no model stages to compare",
            args.experiment.display()
        )));
    }
    let options = study
        .experiment
        .kd()
        .map(|kd| kd.compare.clone())
        .unwrap_or_default();
    // A corrupt artifact is refused with exit 2, naming the stage and file.
    let t =
        Tables::build(&study.store, &study.specs, &study.index, &options).map_err(|e| match e {
            TablesError::Corrupt { .. } => user(e),
            e => internal(e),
        })?;
    let human = matches!(format, Format::Table | Format::Markdown);
    let text = if let Some(metric) = &args.pivot {
        let pivots = tables::pivot(&t.summary, metric).map_err(user)?;
        tables::render_pivots(&pivots, format).map_err(internal)?
    } else if args.comparisons {
        let df = select_rows(t.comparisons.clone(), &args)?;
        let mut text = String::new();
        if human {
            text.push_str(&comparisons_title(&t, format));
        }
        text.push_str(&tables::render(&df, format).map_err(internal)?);
        text
    } else if args.seeds {
        let df = select_rows(t.gathered.clone(), &args)?;
        tables::render(&df, format).map_err(internal)?
    } else if !human || args.grid {
        // csv/json keep every column; the grid alone on request.
        let grid = if human {
            tables::compact(&t.summary).map_err(internal)?
        } else {
            t.summary.clone()
        };
        tables::render(&select_rows(grid, &args)?, format).map_err(internal)?
    } else {
        let headline = tables::compact(&t.headline().map_err(internal)?).map_err(internal)?;
        let grid = select_rows(tables::compact(&t.summary).map_err(internal)?, &args)?;
        let mut text = headline_title(&t, format);
        text.push_str(&tables::render(&headline, format).map_err(internal)?);
        text.push_str(&section(
            format,
            "Full grid (exploratory: every configuration; choosing among these by their test \
             numbers would be selection on the test set)",
        ));
        text.push_str(&tables::render(&grid, format).map_err(internal)?);
        text
    };
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    Ok(exit::OK)
}

/// `--filter`, `--sort`, `--only-changed` on a table.
fn select_rows(mut df: DataFrame, args: &CompareArgs) -> Result<DataFrame, Failure> {
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
    Ok(df)
}

fn section(format: Format, title: &str) -> String {
    match format {
        Format::Markdown => format!("\n**{title}**\n\n"),
        _ => format!("\n{title}\n"),
    }
}

fn confidence_pct(t: &Tables) -> String {
    format!("{}", (t.options.confidence * 100.0 * 10.0).round() / 10.0)
}

fn headline_title(t: &Tables, format: Format) -> String {
    let majority: Vec<String> = t
        .majority
        .iter()
        .map(|(d, c)| format!("{d}: '{c}'"))
        .collect();
    section(
        format,
        &format!(
            "Headline: per depth the control and, per distillation method, the student whose \
             (T, alpha) has the best mean {} over seeds (selected = true); test scores with {}% bootstrap intervals \
             over test images × seeds ({} resamples). Majority class predicts {}.",
            t.options.select_on.name(),
            confidence_pct(t),
            t.options.bootstrap_resamples,
            if majority.is_empty() {
                "-".to_owned()
            } else {
                majority.join(", ")
            }
        ),
    )
}

fn comparisons_title(t: &Tables, format: Format) -> String {
    section(
        format,
        &format!(
            "Paired comparisons: student − reference on the same seeds and test images; {}% \
             paired-bootstrap intervals; McNemar exact on pooled discordant pairs, Holm-adjusted \
             over all rows; verdict on accuracy with equivalence margin ±{} (TOST at α = {}).",
            confidence_pct(t),
            t.options.equivalence_margin,
            ((1.0 - t.options.confidence) * 1000.0).round() / 1000.0
        ),
    )
}

/// A problem with the arguments (unknown column, bad filter): exit 2.
fn user(e: TablesError) -> Failure {
    Failure::bad_input(anyhow::Error::from(e))
}

fn internal(e: TablesError) -> Failure {
    Failure::from(anyhow::Error::from(e))
}
