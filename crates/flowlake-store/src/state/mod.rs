//! Sync state: the cursor of each source stream, saved only after the data it covers is committed.
//!
//! Back-ends: the store's own `sync_state` table (the default: the cursor commits in the same transaction as
//! the data), a JSON file written atomically (temp file, fsync, rename), an S3 object written with
//! conditional PUTs, and a Redis hash guarded by a per-source lock.
//!
//! Every back-end but the store's table is written right after a page commits. Two runs of the same source
//! must not both advance its cursor, so `put` is a compare-and-set: it succeeds only if the stored cursor is
//! still the one this back-end last read or wrote for that key; otherwise it fails with
//! [`StoreError::StateConflict`] and the run stops (its data is already committed and idempotent, so nothing
//! is lost; the other run's cursor stays).

mod file;
mod redis;
mod s3;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::error::StoreError;

pub use self::redis::{RedisState, RedisStateConfig};
pub use file::JsonFileState;
pub use s3::{S3State, S3StateConfig};

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

impl std::fmt::Display for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.source, self.stream)
    }
}

/// One cursor a page commits: `Some` saves it, `None` forgets it (the key a source kept before it had a
/// cursor per stream, once its cursors are saved under the new keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorUpdate {
    /// Whose cursor.
    pub key: StateKey,
    /// The new cursor, `None` to forget it.
    pub cursor: Option<String>,
}

impl CursorUpdate {
    /// Saves `cursor` under `key`.
    pub fn put(key: StateKey, cursor: impl Into<String>) -> Self {
        Self {
            key,
            cursor: Some(cursor.into()),
        }
    }

    /// Forgets `key`.
    pub fn clear(key: StateKey) -> Self {
        Self { key, cursor: None }
    }
}

/// Where cursors live between runs.
pub trait StateBackend {
    /// The saved cursor, if any. The value read becomes what the next `put` of this key expects to replace.
    fn get(&mut self, key: &StateKey) -> Result<Option<String>, StoreError>;
    /// Saves a cursor, durably, before returning; fails with [`StoreError::StateConflict`] when another run
    /// changed it since this back-end last read or wrote it.
    fn put(&mut self, key: &StateKey, cursor: &str) -> Result<(), StoreError>;
    /// Forgets a cursor (`--full-refresh`).
    fn clear(&mut self, key: &StateKey) -> Result<(), StoreError>;
    /// Saves or forgets the cursors of one page (a source's streams share a page), each compared and set as
    /// `put` does, and — where the back-end can (the store's table, a file, an S3 object, a Redis script) — all
    /// at once or none: a failure leaves every key as it was. The default applies them one by one, so a crash
    /// between two leaves the first saved, which a source resuming from a mix of new and old cursors allows.
    fn put_all(&mut self, updates: &[CursorUpdate]) -> Result<(), StoreError> {
        for u in updates {
            match &u.cursor {
                Some(c) => self.put(&u.key, c)?,
                None => self.clear(&u.key)?,
            }
        }
        Ok(())
    }
    /// Every saved cursor.
    fn list(&mut self) -> Result<Vec<(StateKey, String)>, StoreError>;
    /// Reaches the back-end once (reading every cursor, which changes nothing), so that an unreachable
    /// server, a refused login or an unreadable file stops a run before it creates or writes anything.
    fn check(&mut self) -> Result<(), StoreError> {
        self.list().map(|_| ())
    }
    /// Takes an exclusive lease on `source` for one run, failing with [`StoreError::StateLocked`] when another
    /// run holds it. Back-ends without locks rely on the compare-and-set of `put` alone.
    fn lock(&mut self, _source: &str) -> Result<(), StoreError> {
        Ok(())
    }
    /// Gives the lease back.
    fn unlock(&mut self, _source: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The document the file and S3 back-ends keep: `source → stream → cursor`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StateDoc {
    pub(crate) version: u32,
    pub(crate) cursors: BTreeMap<String, BTreeMap<String, String>>,
}

impl StateDoc {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("not a flowlake state file: {e}"))
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let doc = Self {
            version: 1,
            cursors: self.cursors.clone(),
        };
        serde_json::to_vec_pretty(&doc).unwrap_or_default()
    }

    pub(crate) fn get(&self, key: &StateKey) -> Option<&String> {
        self.cursors.get(&key.source)?.get(&key.stream)
    }

    pub(crate) fn set(&mut self, key: &StateKey, cursor: Option<&str>) {
        match cursor {
            Some(c) => {
                self.cursors
                    .entry(key.source.clone())
                    .or_default()
                    .insert(key.stream.clone(), c.to_string());
            }
            None => {
                if let Some(streams) = self.cursors.get_mut(&key.source) {
                    streams.remove(&key.stream);
                    if streams.is_empty() {
                        self.cursors.remove(&key.source);
                    }
                }
            }
        }
    }

    /// Applies `updates` to the document after checking each key against what `seen` last saw of it (a key
    /// being forgotten included), so that one write of the document is one compare-and-set of all of them.
    pub(crate) fn apply(
        &mut self,
        seen: &Seen,
        updates: &[CursorUpdate],
    ) -> Result<(), StoreError> {
        for u in updates {
            seen.check(&u.key, self.get(&u.key).map(String::as_str))?;
        }
        for u in updates {
            self.set(&u.key, u.cursor.as_deref());
        }
        Ok(())
    }

    pub(crate) fn list(&self) -> Vec<(StateKey, String)> {
        self.cursors
            .iter()
            .flat_map(|(src, streams)| {
                streams
                    .iter()
                    .map(move |(st, c)| (StateKey::new(src.clone(), st.clone()), c.clone()))
            })
            .collect()
    }
}

/// What a back-end last read or wrote per key: the value its next `put` expects to find.
#[derive(Debug, Default)]
pub(crate) struct Seen(HashMap<StateKey, Option<String>>);

impl Seen {
    pub(crate) fn record(&mut self, key: &StateKey, value: Option<&str>) {
        self.0.insert(key.clone(), value.map(str::to_string));
    }

    /// What a compare-and-set of `key` expects, if this back-end has seen the key at all.
    pub(crate) fn expected(&self, key: &StateKey) -> Option<Option<&str>> {
        self.0.get(key).map(Option::as_deref)
    }

    /// Records what a successful write of `updates` left.
    pub(crate) fn record_all(&mut self, updates: &[CursorUpdate]) {
        for u in updates {
            self.record(&u.key, u.cursor.as_deref());
        }
    }

    /// Checks that the stored value is still the one seen.
    pub(crate) fn check(&self, key: &StateKey, found: Option<&str>) -> Result<(), StoreError> {
        match self.expected(key) {
            Some(expected) if expected != found => Err(StoreError::StateConflict {
                key: key.to_string(),
                expected: expected.map(str::to_string),
                found: found.map(str::to_string),
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_values_guard_puts() {
        let k = StateKey::new("gh", "issues");
        let mut seen = Seen::default();
        assert!(
            seen.check(&k, Some("anything")).is_ok(),
            "unseen keys are not checked"
        );
        seen.record(&k, None);
        assert!(seen.check(&k, None).is_ok());
        let err = seen.check(&k, Some("5")).unwrap_err().to_string();
        assert!(err.contains("gh/issues") && err.contains('5'), "{err}");
        seen.record(&k, Some("5"));
        assert!(seen.check(&k, Some("5")).is_ok());
    }
}
