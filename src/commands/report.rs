//! `kdpipe report EXP`: a self-contained HTML folder with the tables, plots,
//! sample explanations, the experiment file and every stage's fingerprint.

use anyhow::Context;

use crate::cli::{GlobalArgs, ReportArgs};
use crate::exit::{self, CmdResult, Failure};
use crate::report;
use crate::session;
use crate::tables::TablesError;

pub fn report(args: ReportArgs, global: &GlobalArgs) -> CmdResult {
    let study = session::load(&args.experiment, global)?;
    let text = std::fs::read_to_string(&args.experiment)
        .with_context(|| format!("failed to read {}", args.experiment.display()))
        .map_err(Failure::bad_input)?;
    let name = &study.experiment.name;
    let out = args
        .out
        .unwrap_or_else(|| study.store.root().join("reports").join(name));
    let options = study
        .experiment
        .kd()
        .map(|kd| kd.compare.clone())
        .unwrap_or_default();
    let index = report::write(
        &study.store,
        &study.specs,
        &study.index,
        &options,
        &text,
        name,
        &out,
    )
    .map_err(|e| match e {
        // A corrupt artifact is refused with exit 2, naming the stage and
        // file, as `compare` does: nothing of it reaches the page.
        report::ReportError::Tables(TablesError::Corrupt { .. }) => {
            Failure::bad_input(anyhow::Error::from(e))
        }
        e => Failure::from(anyhow::Error::from(e)),
    })?;
    println!("report: {}", index.display());
    Ok(exit::OK)
}
