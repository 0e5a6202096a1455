//! `kdpipe report EXP`: the HTML report (filled in with src/report).

use anyhow::anyhow;

use crate::cli::{GlobalArgs, ReportArgs};
use crate::exit::{CmdResult, Failure};

pub fn report(_args: ReportArgs, _global: &GlobalArgs) -> CmdResult {
    Err(Failure::from(anyhow!("report is not implemented yet")))
}
