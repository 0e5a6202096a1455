//! `kdpipe pin STAGE...`, `kdpipe pin --list`, `kdpipe unpin STAGE...`: keep
//! an artifact through every `gc`, whatever the experiments it is given. A
//! stage is named as `ls` shows it (its last published fingerprint) or by
//! fingerprint (a unique prefix of at least 8 hex digits).

use std::fmt::Write;

use anyhow::anyhow;
use engine::store::Store;
use engine::Fingerprint;

use crate::cli::{GlobalArgs, PinArgs, UnpinArgs};
use crate::exit::{self, CmdResult, Failure};
use crate::session;

/// The published fingerprint `arg` names, with its stage name.
fn resolve(store: &Store, arg: &str) -> Result<(Fingerprint, String), Failure> {
    if let Some(fp) = store.latest_for_name(arg) {
        if store.is_published(&fp) {
            return Ok((fp, arg.to_owned()));
        }
    }
    let hex = arg.len() >= 8 && arg.bytes().all(|b| b.is_ascii_hexdigit());
    if hex {
        let arg = arg.to_ascii_lowercase();
        let shard = store.root().join("objects").join(&arg[..2]);
        let found: Vec<Fingerprint> = std::fs::read_dir(&shard)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| Fingerprint::parse(&e.file_name().to_string_lossy()))
            .filter(|fp| fp.as_str().starts_with(&arg) && store.is_published(fp))
            .collect();
        match found.as_slice() {
            [fp] => {
                let name = store
                    .read_manifest(fp)
                    .ok()
                    .flatten()
                    .map_or_else(String::new, |m| m.name);
                return Ok((fp.clone(), name));
            }
            [] => {}
            many => {
                return Err(Failure::bad_input(anyhow!(
                    "fingerprint prefix '{arg}' matches {} objects; give more digits",
                    many.len()
                )))
            }
        }
    }
    Err(Failure::bad_input(anyhow!(
        "no published stage or fingerprint '{arg}' in the store {} (see `kdpipe ls EXP`)",
        store.root().display()
    )))
}

pub fn pin(args: PinArgs, global: &GlobalArgs) -> CmdResult {
    let store = session::open_store(global)?;
    if args.list {
        let pins = store
            .pins()
            .map_err(|e| Failure::from(anyhow::Error::from(e)))?;
        let mut out = String::new();
        for (fp, name) in &pins {
            let state = if store.is_published(fp) {
                ""
            } else {
                "  (not in the store)"
            };
            let _ = writeln!(out, "{}  {name}{state}", fp.short());
        }
        let _ = writeln!(out, "{} pinned", pins.len());
        print!("{out}");
        return Ok(exit::OK);
    }
    // Every argument resolved before anything is written.
    let resolved = args
        .stages
        .iter()
        .map(|a| resolve(&store, a))
        .collect::<Result<Vec<_>, _>>()?;
    for (fp, name) in resolved {
        let new = store
            .pin(&fp, &name)
            .map_err(|e| Failure::from(anyhow::Error::from(e)))?;
        let what = if new { "pinned" } else { "already pinned" };
        println!("{what}  {}  {name}", fp.short());
    }
    Ok(exit::OK)
}

pub fn unpin(args: UnpinArgs, global: &GlobalArgs) -> CmdResult {
    let store = session::open_store(global)?;
    let pins = store
        .pins()
        .map_err(|e| Failure::from(anyhow::Error::from(e)))?;
    let mut fps = Vec::new();
    for arg in &args.stages {
        // A pinned object may be gone (removed by hand): match pins too.
        let by_pin = pins
            .iter()
            .find(|(fp, name)| {
                *name == arg || (arg.len() >= 8 && fp.as_str().starts_with(arg.as_str()))
            })
            .map(|(fp, name)| (fp.clone(), name.clone()));
        match by_pin {
            Some(p) => fps.push(p),
            None => {
                return Err(Failure::bad_input(anyhow!(
                    "'{arg}' is not pinned (see `kdpipe pin --list`)"
                )))
            }
        }
    }
    for (fp, name) in fps {
        store
            .unpin(&fp)
            .map_err(|e| Failure::from(anyhow::Error::from(e)))?;
        println!("unpinned  {}  {name}", fp.short());
    }
    Ok(exit::OK)
}
