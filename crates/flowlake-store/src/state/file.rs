//! Cursors in a local JSON file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{CursorUpdate, Seen, StateBackend, StateDoc, StateKey};
use crate::error::StoreError;

/// Cursors in a local JSON file, replaced atomically on every write so a crash leaves the old or the new file,
/// never half of one.
#[derive(Debug)]
pub struct JsonFileState {
    path: PathBuf,
    seen: Seen,
}

impl JsonFileState {
    /// A back-end on `path` (created on first write).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            seen: Seen::default(),
        }
    }

    fn err(&self, message: impl std::fmt::Display) -> StoreError {
        StoreError::State {
            location: self.path.display().to_string(),
            message: message.to_string(),
        }
    }

    fn read(&self) -> Result<StateDoc, StoreError> {
        match fs::read(&self.path) {
            Ok(bytes) => StateDoc::parse(&bytes).map_err(|m| self.err(m)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StateDoc::default()),
            Err(e) => Err(self.err(e)),
        }
    }

    fn write(&self, state: &StateDoc) -> Result<(), StoreError> {
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
        let body = state.to_bytes();
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
        let value = self.read()?.get(key).cloned();
        self.seen.record(key, value.as_deref());
        Ok(value)
    }

    fn put(&mut self, key: &StateKey, cursor: &str) -> Result<(), StoreError> {
        let mut state = self.read()?;
        self.seen.check(key, state.get(key).map(String::as_str))?;
        state.set(key, Some(cursor));
        self.write(&state)?;
        self.seen.record(key, Some(cursor));
        Ok(())
    }

    fn clear(&mut self, key: &StateKey) -> Result<(), StoreError> {
        let mut state = self.read()?;
        state.set(key, None);
        self.write(&state)?;
        self.seen.record(key, None);
        Ok(())
    }

    /// One rename of the file for all of them: a crash leaves every key old or every key new.
    fn put_all(&mut self, updates: &[CursorUpdate]) -> Result<(), StoreError> {
        let mut state = self.read()?;
        state.apply(&self.seen, updates)?;
        self.write(&state)?;
        self.seen.record_all(updates);
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<(StateKey, String)>, StoreError> {
        Ok(self.read()?.list())
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
    fn a_second_run_cannot_advance_a_cursor_the_first_one_moved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let key = StateKey::new("gh", "issues");
        let (mut a, mut b) = (JsonFileState::new(&path), JsonFileState::new(&path));
        assert_eq!(a.get(&key).unwrap(), None);
        assert_eq!(b.get(&key).unwrap(), None);
        a.put(&key, "page-2").unwrap();
        let err = b.put(&key, "page-9").unwrap_err();
        assert!(matches!(err, StoreError::StateConflict { .. }), "{err}");
        assert_eq!(a.get(&key).unwrap().as_deref(), Some("page-2"));
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
