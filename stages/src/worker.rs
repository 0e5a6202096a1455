//! Entry point of the `kdpipe-stage` binary:
//! `kdpipe-stage exec-stage <fp> --store DIR [--threads N]`. It runs the
//! engine's exec-stage protocol with [`crate::run_stage`]; exit codes are
//! the protocol's (0 published, 10 published elsewhere, 1 failed, 2 bad
//! input data, with its reason as the last stdout line) and 2 for a bad
//! command line.

use std::path::PathBuf;

use engine::exec_stage::{exec_stage, ExecOutcome};
use engine::store::Store;
use engine::Fingerprint;

fn usage(msg: &str) -> i32 {
    eprintln!("kdpipe-stage: {msg}\nusage: kdpipe-stage exec-stage <fingerprint> --store DIR [--threads N]");
    2
}

/// Parses the command line, runs the stage and returns the exit code.
pub fn main() -> i32 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("exec-stage") {
        return usage("expected the `exec-stage` command");
    }
    let mut fp = None;
    let mut store_root: Option<PathBuf> = std::env::var_os("KDPIPE_STORE").map(PathBuf::from);
    let mut threads = 1usize;
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--store" => match it.next() {
                Some(v) => store_root = Some(v.into()),
                None => return usage("`--store` needs a directory"),
            },
            "--threads" => match it.next().and_then(|v| v.parse().ok()) {
                Some(n) => threads = n,
                None => return usage("`--threads` needs a positive integer"),
            },
            other if fp.is_none() => fp = Some(other.to_string()),
            other => return usage(&format!("unexpected argument `{other}`")),
        }
    }
    let Some(fp) = fp.as_deref().and_then(Fingerprint::parse) else {
        return usage("expected a fingerprint (64 hex digits)");
    };
    let Some(root) = store_root else {
        return usage("no store (`--store DIR` or KDPIPE_STORE)");
    };
    let store = match Store::open(&root) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "kdpipe-stage: failed to open the artifact store at {}: {e}",
                root.display()
            );
            return 1;
        }
    };
    crate::device::set_threads(threads);
    match exec_stage(&store, &fp, threads, &crate::run_stage) {
        Ok(outcome) => {
            if let ExecOutcome::Failed(f) = &outcome {
                eprintln!("stage {fp} failed: {f}");
                if f.bad_input {
                    // The executor reads this line back as the reason.
                    println!("{}", engine::protocol::bad_input_line(&f.message));
                }
            }
            outcome.exit_code()
        }
        Err(e) => {
            eprintln!("kdpipe-stage: {e}");
            1
        }
    }
}
