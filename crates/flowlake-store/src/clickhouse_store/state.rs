//! A ClickHouse store's `sync_state`: the default back-end of sync cursors, as versioned rows
//! (`sync_state_rows`, a `ReplacingMergeTree`) read through the `sync_state` view. A cursor is saved by
//! inserting a newer row, cleared by inserting a tombstone. Not in a load's transaction (there is none):
//! the engine saves it after the load returns ([`crate::Store::keeps_cursors_in_the_load_transaction`]).

use super::http::quote;
use super::ClickHouseStore;
use crate::error::StoreError;
use crate::state::{CursorUpdate, StateBackend, StateKey};

impl ClickHouseStore {
    /// Saves or clears one cursor.
    pub(super) fn write_cursor(&self, update: &CursorUpdate) -> Result<(), StoreError> {
        let key = &update.key;
        let version = self.next_version();
        let (cursor, deleted) = match &update.cursor {
            Some(c) => (c.as_str(), 0),
            None => ("", 1),
        };
        self.http
            .run(
                &format!(
                    "INSERT INTO sync_state_rows (source, stream, cursor, updated_at, _version, _deleted) \
                     VALUES ({}, {}, {}, now64(6, 'UTC'), {version}, {deleted})",
                    quote(&key.source),
                    quote(&key.stream),
                    quote(cursor)
                ),
                match deleted {
                    0 => "saving the sync cursor",
                    _ => "clearing the sync cursor",
                },
            )
            .map(|_| ())
    }
}

impl StateBackend for ClickHouseStore {
    fn get(&mut self, key: &StateKey) -> Result<Option<String>, StoreError> {
        let rows = self.json_rows(
            &format!(
                "SELECT cursor FROM sync_state WHERE source = {} AND stream = {}",
                quote(&key.source),
                quote(&key.stream)
            ),
            "reading the sync cursor",
        )?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(|v| v.as_str())
            .map(String::from))
    }

    fn put(&mut self, key: &StateKey, cursor: &str) -> Result<(), StoreError> {
        self.write_cursor(&CursorUpdate::put(key.clone(), cursor))
    }

    fn clear(&mut self, key: &StateKey) -> Result<(), StoreError> {
        self.write_cursor(&CursorUpdate::clear(key.clone()))
    }

    /// One insert per cursor, in order: ClickHouse has no transaction to make them all-or-none. A run cut
    /// short between two leaves the earlier ones saved; the next run replays the rest, as after a crash
    /// between a load and its cursor.
    fn put_all(&mut self, updates: &[CursorUpdate]) -> Result<(), StoreError> {
        for u in updates {
            self.write_cursor(u)?;
        }
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<(StateKey, String)>, StoreError> {
        let rows = self.json_rows(
            "SELECT source, stream, cursor FROM sync_state ORDER BY 1, 2",
            "listing sync cursors",
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                let s = |i: usize| {
                    r.get(i)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string()
                };
                (StateKey::new(s(0), s(1)), s(2))
            })
            .collect())
    }
}
