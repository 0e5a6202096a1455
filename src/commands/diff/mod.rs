//! `kdpipe diff EXP STAGE_A STAGE_B` and `kdpipe diff EXP_A.toml EXP_B.toml`.
//!
//! Two stages of one experiment: every input field that differs (params,
//! upstream stages, code version; as `why` shows them). Two experiments:
//! their stages matched by name, and each parameter change with the stages
//! it touches (stages that differ only because an upstream stage did are
//! counted, not listed field by field). Then, for every pair of models
//! that differ, their test metrics with B − A and, when both wrote
//! per-image predictions of the same test images, the paired-bootstrap
//! interval of the accuracy difference. Table, markdown, CSV or JSON
//! (`render.rs`); the report itself is built in `build.rs`.

mod build;
mod render;

use std::path::Path;

use anyhow::anyhow;

use crate::cli::{DiffArgs, GlobalArgs};
use crate::exit::{self, CmdResult, Failure};
use crate::session;

pub fn diff(args: DiffArgs, global: &GlobalArgs) -> CmdResult {
    let report = match args.args.as_slice() {
        [exp, a, b] => {
            let study = session::load(Path::new(exp), global)?;
            build::stages(&study, exp, a, b)?
        }
        [a, b] if is_experiment(a) && is_experiment(b) => {
            let (sa, sb) = (
                session::load(Path::new(a), global)?,
                session::load(Path::new(b), global)?,
            );
            build::experiments(&sa, &sb, a, b)?
        }
        [a, b] => {
            return Err(Failure::bad_input(anyhow!(
                "`diff {a} {b}`: two arguments are two experiment files (`.toml`); \
                 for two stages give the experiment first: `diff EXP {a} {b}`"
            )))
        }
        _ => unreachable!("clap takes 2 or 3 arguments"),
    };
    print!("{}", render::render(&report, args.format)?);
    Ok(exit::OK)
}

fn is_experiment(arg: &str) -> bool {
    arg.ends_with(".toml") || Path::new(arg).is_file()
}
