//! `kdpipe ls EXP [PATTERN...]`: where each stage's files are. One line per
//! stage of the experiment (or of those matching a glob): its state
//! (`cached` or `will run`), fingerprint, the size of its artifact and the
//! artifact's folder.

use std::fmt::Write;

use engine::plan::{glob_match, plan};
use engine::store::tree_bytes;

use crate::cli::{GlobalArgs, LsArgs};
use crate::exit::{self, CmdResult, Failure};
use crate::session;

pub fn ls(args: LsArgs, global: &GlobalArgs) -> CmdResult {
    let study = session::load(&args.experiment, global)?;
    let plan = plan(&study.specs, &study.store, &[]).map_err(Failure::bad_input)?;
    let rows: Vec<_> = plan
        .stages
        .iter()
        .filter(|s| {
            args.patterns.is_empty() || args.patterns.iter().any(|p| glob_match(p, &s.spec.name))
        })
        .collect();
    if rows.is_empty() && !args.patterns.is_empty() {
        return Err(Failure::bad_input(anyhow::anyhow!(
            "no stage of {} matches {}",
            args.experiment.display(),
            args.patterns.join(", ")
        )));
    }
    let width = rows.iter().map(|s| s.spec.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    let mut total = 0;
    for s in &rows {
        let dir = study.store.artifact_dir(&s.fingerprint);
        let (state, size, path) = if s.will_run() {
            ("will run", "-".to_owned(), "-".to_owned())
        } else {
            let bytes = tree_bytes(&dir);
            total += bytes;
            ("cached", human_bytes(bytes), dir.display().to_string())
        };
        let _ = writeln!(
            out,
            "{:width$}  {state:8}  {}  {size:>9}  {path}",
            s.spec.name,
            s.fingerprint.short()
        );
    }
    let _ = writeln!(
        out,
        "{} stages, {} in the store",
        rows.len(),
        human_bytes(total)
    );
    print!("{out}");
    Ok(exit::OK)
}

/// `1.5 MiB`-style sizes (binary units, one decimal).
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(super::human_bytes(0), "0 B");
        assert_eq!(super::human_bytes(1023), "1023 B");
        assert_eq!(super::human_bytes(1536), "1.5 KiB");
        assert_eq!(super::human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
