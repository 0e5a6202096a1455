//! `kdpipe data fetch NAME` / `kdpipe data path`.

use crate::builtin;
use crate::cli::DataCommand;
use crate::exit::{self, CmdResult, Failure};

pub fn data(cmd: DataCommand) -> CmdResult {
    match cmd {
        DataCommand::Fetch { name } => {
            let b = builtin::find(&name).map_err(Failure::bad_input)?;
            let dir = builtin::ensure(b)?;
            println!("{}", dir.display());
        }
        DataCommand::Path => println!("{}", builtin::builtin_root().display()),
    }
    Ok(exit::OK)
}
