//! `kdpipe`: the head process. Parses the command line, then hands over to
//! one file per command in `commands/`. It never loads libtorch: ML stages
//! run in `kdpipe-stage` child processes.

mod builtin;
mod cli;
mod commands;
mod display;
mod exit;
mod plots;
mod progress;
mod report;
mod session;
mod tables;

fn main() -> std::process::ExitCode {
    commands::main()
}
