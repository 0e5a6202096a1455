//! `kdpipe fsck [--repair]`: checks every object of the store (each output
//! file hashed against its manifest, the manifest's schema and fingerprint),
//! stray staging folders under `tmp/` and dangling name links under
//! `names/`; `--repair` quarantines broken objects (`quarantine/`) and
//! removes stray staging folders and dangling links, leaving alone whatever a
//! live run holds the lock of. Exit 0 clean, 1 problems found (repaired or
//! not), 2 bad input (no store there).

use anyhow::anyhow;
use engine::store::{fsck as check_store, Finding, Repair, Store};

use crate::cli::{FsckArgs, GlobalArgs};
use crate::exit::{self, CmdResult, Failure};
use crate::session;

pub fn fsck(args: FsckArgs, global: &GlobalArgs) -> CmdResult {
    let root = session::store_root(global);
    if !root.join("objects").is_dir() {
        return Err(Failure::bad_input(anyhow!(
            "{} is not an artifact store (it has no objects/ folder)",
            root.display()
        )));
    }
    let store = Store::at(&root);
    let report = check_store(&store, args.repair).map_err(anyhow::Error::from)?;
    let rel = |p: &std::path::Path| {
        p.strip_prefix(store.root())
            .unwrap_or(p)
            .display()
            .to_string()
    };
    println!(
        "fsck {}: {} object(s), {} file(s) hashed",
        root.display(),
        report.objects,
        report.hashed
    );
    for (finding, repair) in &report.findings {
        match finding {
            Finding::Corrupt {
                fingerprint,
                name,
                problems,
            } => {
                let what = problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                println!(
                    "  corrupt   {} ({}): {what}",
                    name.as_deref().unwrap_or("unknown stage"),
                    fingerprint.short()
                );
            }
            Finding::Stray { path } => {
                println!("  stray     {} (not an object)", rel(path));
            }
            Finding::Staging { path } => {
                println!("  staging   {} (left by a run that is gone)", rel(path));
            }
            Finding::Dangling { path, target } => {
                let t = target.get(..12).unwrap_or(target);
                println!("  dangling  {} -> {t} (no such object)", rel(path));
            }
        }
        match repair {
            Repair::No => {}
            Repair::Done(Some(to)) => println!("            quarantined to {}", rel(to)),
            Repair::Done(None) => println!("            removed"),
            Repair::Skipped(why) => println!("            left alone: {why}"),
        }
    }
    if report.in_use > 0 {
        println!(
            "  ({} staging folder(s) of live runs left alone)",
            report.in_use
        );
    }
    if report.findings.is_empty() {
        println!("clean");
        return Ok(exit::OK);
    }
    if args.repair {
        println!(
            "{} problem(s) found, {} repaired",
            report.findings.len(),
            report.repaired()
        );
    } else {
        println!(
            "{} problem(s) found; `kdpipe fsck --repair` quarantines broken objects and \
             removes stray staging folders and dangling links",
            report.findings.len()
        );
    }
    Ok(exit::STAGE_FAILED)
}
