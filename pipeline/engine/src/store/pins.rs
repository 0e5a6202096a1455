//! Pinned artifacts: `pins/<fp>`, one file per pinned fingerprint holding
//! the stage name it was pinned as. `gc` keeps every pinned object whatever
//! the experiments it is given.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::{IoContext, Result};
use crate::fingerprint::Fingerprint;
use crate::hashing::write_atomic;

use super::Store;

impl Store {
    fn pin_path(&self, fp: &Fingerprint) -> PathBuf {
        self.root().join("pins").join(fp.as_str())
    }

    /// Pins `fp` (labelled with its stage name). Returns false if it was
    /// pinned already.
    pub fn pin(&self, fp: &Fingerprint, name: &str) -> Result<bool> {
        let path = self.pin_path(fp);
        let existed = path.is_file();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).ctx("create directory", dir)?;
        }
        write_atomic(&path, name.as_bytes())?;
        Ok(!existed)
    }

    /// Unpins `fp`. Returns false if it was not pinned.
    pub fn unpin(&self, fp: &Fingerprint) -> Result<bool> {
        let path = self.pin_path(fp);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(crate::error::Error::io("remove", path, e)),
        }
    }

    /// Every pinned fingerprint with the stage name it was pinned as.
    pub fn pins(&self) -> Result<BTreeMap<Fingerprint, String>> {
        let mut out = BTreeMap::new();
        for entry in super::fsck::entries(&self.root().join("pins"))? {
            let file = entry.file_name().to_string_lossy().into_owned();
            let Some(fp) = Fingerprint::parse(&file) else {
                continue;
            };
            let name = std::fs::read_to_string(entry.path()).unwrap_or_default();
            out.insert(fp, name.trim().to_owned());
        }
        Ok(out)
    }
}
