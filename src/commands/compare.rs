//! `kdpipe compare EXP`: the comparison tables (filled in with src/tables).

use anyhow::anyhow;

use crate::cli::{CompareArgs, GlobalArgs};
use crate::exit::{CmdResult, Failure};

pub fn compare(_args: CompareArgs, _global: &GlobalArgs) -> CmdResult {
    Err(Failure::from(anyhow!("compare is not implemented yet")))
}
