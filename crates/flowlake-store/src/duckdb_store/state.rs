//! A DuckDB store's `sync_state` table: the default back-end of sync cursors.

use duckdb::{params, Connection};

use super::DuckDbStore;
use crate::error::StoreError;
use crate::state::{CursorUpdate, StateBackend, StateKey};

/// Saves or deletes one cursor on `conn` (a load's transaction, or [`StateBackend::put_all`]'s).
pub(super) fn write_cursor(conn: &Connection, update: &CursorUpdate) -> Result<(), StoreError> {
    match &update.cursor {
        Some(c) => put_cursor(conn, &update.key, c),
        None => delete_cursor(conn, &update.key),
    }
}

fn delete_cursor(conn: &Connection, key: &StateKey) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM sync_state WHERE source = ? AND stream = ?",
        params![key.source, key.stream],
    )
    .map(|_| ())
    .map_err(StoreError::sql("clearing the sync cursor"))
}

fn put_cursor(conn: &Connection, key: &StateKey, cursor: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO sync_state VALUES (?, ?, ?, current_timestamp::TIMESTAMP)",
        params![key.source, key.stream, cursor],
    )
    .map(|_| ())
    .map_err(StoreError::sql("saving the sync cursor"))
}

impl StateBackend for DuckDbStore {
    fn get(&mut self, key: &StateKey) -> Result<Option<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT cursor FROM sync_state WHERE source = ? AND stream = ?")
            .map_err(StoreError::sql("reading the sync cursor"))?;
        let mut rows = stmt
            .query(params![key.source, key.stream])
            .map_err(StoreError::sql("reading the sync cursor"))?;
        match rows
            .next()
            .map_err(StoreError::sql("reading the sync cursor"))?
        {
            Some(r) => Ok(Some(
                r.get(0)
                    .map_err(StoreError::sql("reading the sync cursor"))?,
            )),
            None => Ok(None),
        }
    }

    fn put(&mut self, key: &StateKey, cursor: &str) -> Result<(), StoreError> {
        put_cursor(&self.conn, key, cursor)
    }

    fn clear(&mut self, key: &StateKey) -> Result<(), StoreError> {
        delete_cursor(&self.conn, key)
    }

    /// In one transaction: all or none.
    fn put_all(&mut self, updates: &[CursorUpdate]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction()
            .map_err(StoreError::sql("saving the sync cursors"))?;
        for u in updates {
            write_cursor(&tx, u)?;
        }
        tx.commit()
            .map_err(StoreError::sql("saving the sync cursors"))
    }

    fn list(&mut self) -> Result<Vec<(StateKey, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT source, stream, cursor FROM sync_state ORDER BY 1, 2")
            .map_err(StoreError::sql("listing sync cursors"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    StateKey::new(r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                    r.get(2)?,
                ))
            })
            .map_err(StoreError::sql("listing sync cursors"))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::sql("listing sync cursors"))
    }
}
