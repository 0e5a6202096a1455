//! What every artifact file type shares: its name and its byte format.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A JSON file of a stage's artifact.
pub trait ArtifactFile: Serialize + DeserializeOwned {
    /// The file's name inside the artifact folder.
    const FILE: &'static str;

    /// The file's bytes as the stages write them: pretty-printed JSON (two
    /// spaces) and a final newline.
    fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Parses the file's bytes.
    fn from_bytes(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}
