//! Sync state: the cursor of each source stream, saved only after the data it covers is committed.
//!
//! Back-ends: the store's own `sync_state` table (the default: the cursor commits in the same transaction as
//! the data), and a JSON file written atomically (temp file, fsync, rename). S3 and Redis implement the same
//! trait.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// Identifies one cursor: a source and one of its streams.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StateKey {
    /// Source name.
    pub source: String,
    /// Stream name.
    pub stream: String,
}

impl StateKey {
    /// The key of `source`/`stream`.
    pub fn new(source: impl Into<String>, stream: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            stream: stream.into(),
        }
    }
}

/// Where cursors live between runs.
pub trait StateBackend {
    /// The saved cursor, if any.
    fn get(&mut self, key: &StateKey) -> Result<Option<String>, StoreError>;
    /// Saves a cursor, durably, before returning.
    fn put(&mut self, key: &StateKey, cursor: &str) -> Result<(), StoreError>;
    /// Forgets a cursor (`--full-refresh`).
    fn clear(&mut self, key: &StateKey) -> Result<(), StoreError>;
    /// Every saved cursor.
    fn list(&mut self) -> Result<Vec<(StateKey, String)>, StoreError>;
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    /// `source → stream → cursor`
    cursors: BTreeMap<String, BTreeMap<String, String>>,
}

/// Cursors in a local JSON file, replaced atomically on every write so a crash leaves the old or the new file,
/// never half of one.
#[derive(Debug)]
pub struct JsonFileState {
    path: PathBuf,
}

impl JsonFileState {
    /// A back-end on `path` (created on first write).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    fn err(&self, message: impl std::fmt::Display) -> StoreError {
        StoreError::State {
            path: self.path.clone(),
            message: message.to_string(),
        }
    }

    fn read(&self) -> Result<StateFile, StoreError> {
        match fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| self.err(format!("not a flowlake state file: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StateFile {
                version: 1,
                ..StateFile::default()
            }),
            Err(e) => Err(self.err(e)),
        }
    }

    fn write(&self, state: &StateFile) -> Result<(), StoreError> {
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let body = serde_json::to_vec_pretty(state).map_err(|e| self.err(e))?;
        let result = (|| {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&body)?;
            f.sync_all()?;
            fs::rename(&tmp, &self.path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(|e| self.err(e))
    }
}

impl StateBackend for JsonFileState {
    fn get(&mut self, key: &StateKey) -> Result<Option<String>, StoreError> {
        Ok(self
            .read()?
            .cursors
            .get(&key.source)
            .and_then(|s| s.get(&key.stream))
            .cloned())
    }

    fn put(&mut self, key: &StateKey, cursor: &str) -> Result<(), StoreError> {
        let mut state = self.read()?;
        state.version = 1;
        state
            .cursors
            .entry(key.source.clone())
            .or_default()
            .insert(key.stream.clone(), cursor.to_string());
        self.write(&state)
    }

    fn clear(&mut self, key: &StateKey) -> Result<(), StoreError> {
        let mut state = self.read()?;
        if let Some(streams) = state.cursors.get_mut(&key.source) {
            streams.remove(&key.stream);
        }
        self.write(&state)
    }

    fn list(&mut self) -> Result<Vec<(StateKey, String)>, StoreError> {
        Ok(self
            .read()?
            .cursors
            .into_iter()
            .flat_map(|(src, streams)| {
                streams
                    .into_iter()
                    .map(move |(st, c)| (StateKey::new(src.clone(), st), c))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_survive_a_reopen_and_clear_forgets_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let key = StateKey::new("demo", "issues");
        let mut s = JsonFileState::new(&path);
        assert_eq!(s.get(&key).unwrap(), None);
        s.put(&key, "1000").unwrap();
        s.put(&StateKey::new("demo", "other"), "x").unwrap();
        let mut again = JsonFileState::new(&path);
        assert_eq!(again.get(&key).unwrap().as_deref(), Some("1000"));
        again.clear(&key).unwrap();
        assert_eq!(again.get(&key).unwrap(), None);
        assert_eq!(again.list().unwrap().len(), 1);
        // No temp files are left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_corrupt_file_is_a_clear_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        fs::write(&path, "{not json").unwrap();
        let err = JsonFileState::new(&path)
            .get(&StateKey::new("a", "b"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("state.json") && err.contains("not a flowlake state file"),
            "{err}"
        );
    }
}
