//! The exec-stage protocol: how an executor starts one stage and how the
//! stage process reports back. Every executor (local, Slurm) and the binary
//! that implements `exec-stage` use these, and nothing else spells them.
//!
//! - command line: `<kdpipe> exec-stage <fingerprint> --store <root> --threads <n>`
//!   ([`exec_stage_args`]);
//! - progress: lines `@kdpipe {json}` on stdout ([`PROGRESS_PREFIX`], the
//!   JSON is a [`crate::exec::Progress`]);
//! - exit status: 0 published, [`EXIT_PUBLISHED_ELSEWHERE`] when another run
//!   published the artifact first, [`EXIT_FAILED`] when the stage failed,
//!   [`EXIT_BAD_INPUT`] when its input data is bad (a corrupt image, one
//!   class); then the stage's last stdout line is [`BAD_INPUT_PREFIX`] and
//!   the reason, one line naming the file and the problem
//!   ([`bad_input_line`], read back by [`bad_input_reason`]).

use std::ffi::OsString;
use std::path::Path;

use crate::fingerprint::Fingerprint;

/// The subcommand that runs one stage.
pub const EXEC_STAGE: &str = "exec-stage";

/// Prefix of a progress line on a stage's stdout.
pub const PROGRESS_PREFIX: &str = "@kdpipe ";

/// Exit status of `exec-stage` when the stage published its artifact.
pub const EXIT_PUBLISHED: i32 = 0;

/// Exit status of `exec-stage` when another run published the artifact.
pub const EXIT_PUBLISHED_ELSEWHERE: i32 = 10;

/// Exit status of `exec-stage` when the stage failed (nothing published).
pub const EXIT_FAILED: i32 = 1;

/// Exit status of `exec-stage` when the stage's input data is bad (nothing
/// published); the same code as the CLI's "bad input".
pub const EXIT_BAD_INPUT: i32 = 2;

/// Prefix of the line on a stage's stdout that says why its input is bad.
pub const BAD_INPUT_PREFIX: &str = "@kdpipe-bad-input ";

/// The line a stage prints before exiting with [`EXIT_BAD_INPUT`]: the
/// prefix and `reason` with its line breaks turned into spaces.
pub fn bad_input_line(reason: &str) -> String {
    let one: Vec<&str> = reason
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    format!("{BAD_INPUT_PREFIX}{}", one.join(" "))
}

/// The reason in a [`bad_input_line`], if `line` is one.
pub fn bad_input_reason(line: &str) -> Option<&str> {
    line.trim_end().strip_prefix(BAD_INPUT_PREFIX)
}

/// The reason in the last [`bad_input_line`] of a stage log, if any.
pub fn bad_input_reason_in(log_text: &str) -> Option<String> {
    log_text
        .lines()
        .rev()
        .find_map(bad_input_reason)
        .map(str::to_owned)
}

/// Environment variable naming the executor that launched a stage (recorded
/// in its manifest).
pub const EXECUTOR_ENV: &str = "KDPIPE_EXECUTOR";

/// The arguments after the program name:
/// `exec-stage <fp> --store <store_root> --threads <threads>`.
pub fn exec_stage_args(fp: &Fingerprint, store_root: &Path, threads: usize) -> Vec<OsString> {
    vec![
        EXEC_STAGE.into(),
        fp.as_str().into(),
        "--store".into(),
        store_root.as_os_str().to_owned(),
        "--threads".into(),
        threads.to_string().into(),
    ]
}

/// The JSON of a progress line, if `line` is one.
pub fn progress_json(line: &str) -> Option<&str> {
    line.trim_end().strip_prefix(PROGRESS_PREFIX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn args_are_the_documented_command_line() {
        let fp = Fingerprint::parse(&"ab".repeat(32)).unwrap();
        let args = exec_stage_args(&fp, Path::new("/s t/store"), 3);
        let args: Vec<&str> = args.iter().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            args,
            [
                "exec-stage",
                &"ab".repeat(32),
                "--store",
                "/s t/store",
                "--threads",
                "3"
            ]
        );
    }

    #[test]
    fn progress_lines_are_recognised() {
        assert_eq!(
            progress_json("@kdpipe {\"done\":1}\n"),
            Some("{\"done\":1}")
        );
        assert_eq!(progress_json("epoch 1"), None);
    }

    #[test]
    fn bad_input_lines_round_trip_on_one_line() {
        let line = bad_input_line("corrupt image `a/b.png`:\n  truncated\n");
        assert_eq!(line, "@kdpipe-bad-input corrupt image `a/b.png`: truncated");
        assert_eq!(
            bad_input_reason(&format!("{line}\n")),
            Some("corrupt image `a/b.png`: truncated")
        );
        assert_eq!(bad_input_reason("@kdpipe {}"), None);
        let log = format!("epoch 1\n{line}\nstage x failed: y\n");
        assert_eq!(
            bad_input_reason_in(&log).as_deref(),
            Some("corrupt image `a/b.png`: truncated")
        );
        assert_eq!(bad_input_reason_in("nothing\n"), None);
    }
}
