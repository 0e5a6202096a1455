//! One file per command; [`main`] parses the command line and maps errors
//! to the documented exit codes (see `exit.rs`).

mod compare;
mod data;
mod diff;
mod exec_stage;
mod fsck;
mod gc;
mod ls;
mod pin;
mod report;
mod run;
mod show;
mod status;
mod verify;
mod why;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::exit;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::BAD_INPUT
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_tracing(cli.global.verbose);
    let result = match cli.command {
        Command::Run(args) => run::run(args, &cli.global),
        Command::Status(args) => status::status(args, &cli.global),
        Command::Why(args) => why::why(args, &cli.global),
        Command::Compare(args) => compare::compare(args, &cli.global),
        Command::Report(args) => report::report(args, &cli.global),
        Command::Verify(args) => verify::verify(args, &cli.global),
        Command::Diff(args) => diff::diff(args, &cli.global),
        Command::Ls(args) => ls::ls(args, &cli.global),
        Command::Show(args) => show::show(args, &cli.global),
        Command::Fsck(args) => fsck::fsck(args, &cli.global),
        Command::Gc(args) => gc::gc(args, &cli.global),
        Command::Pin(args) => pin::pin(args, &cli.global),
        Command::Unpin(args) => pin::unpin(args, &cli.global),
        Command::Data(cmd) => data::data(cmd),
        Command::ExecStage(args) => exec_stage::exec_stage(args, &cli.global),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.code)
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("KDPIPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
