//! A PostgreSQL store's `sync_state` table: the default back-end of sync cursors.

use postgres::GenericClient;

use super::PostgresStore;
use crate::error::StoreError;
use crate::state::{CursorUpdate, StateBackend, StateKey};

/// Saves or deletes one cursor on `client` (a load's transaction, or [`StateBackend::put_all`]'s).
pub(super) fn write_cursor(
    client: &mut impl GenericClient,
    update: &CursorUpdate,
) -> Result<(), StoreError> {
    let key = &update.key;
    match &update.cursor {
        Some(c) => client
            .execute(
                "INSERT INTO sync_state VALUES ($1, $2, $3, now() AT TIME ZONE 'UTC') \
                 ON CONFLICT (source, stream) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = EXCLUDED.updated_at",
                &[&key.source, &key.stream, c],
            )
            .map_err(StoreError::pg("saving the sync cursor")),
        None => client
            .execute(
                "DELETE FROM sync_state WHERE source = $1 AND stream = $2",
                &[&key.source, &key.stream],
            )
            .map_err(StoreError::pg("clearing the sync cursor")),
    }
    .map(|_| ())
}

impl StateBackend for PostgresStore {
    fn get(&mut self, key: &StateKey) -> Result<Option<String>, StoreError> {
        let row = self
            .client
            .get_mut()
            .query_opt(
                "SELECT cursor FROM sync_state WHERE source = $1 AND stream = $2",
                &[&key.source, &key.stream],
            )
            .map_err(StoreError::pg("reading the sync cursor"))?;
        Ok(row.map(|r| r.get(0)))
    }

    fn put(&mut self, key: &StateKey, cursor: &str) -> Result<(), StoreError> {
        write_cursor(
            self.client.get_mut(),
            &CursorUpdate::put(key.clone(), cursor),
        )
    }

    fn clear(&mut self, key: &StateKey) -> Result<(), StoreError> {
        write_cursor(self.client.get_mut(), &CursorUpdate::clear(key.clone()))
    }

    /// In one transaction: all or none.
    fn put_all(&mut self, updates: &[CursorUpdate]) -> Result<(), StoreError> {
        let mut tx = self
            .client
            .get_mut()
            .transaction()
            .map_err(StoreError::pg("saving the sync cursors"))?;
        for u in updates {
            write_cursor(&mut tx, u)?;
        }
        tx.commit()
            .map_err(StoreError::pg("saving the sync cursors"))
    }

    fn list(&mut self) -> Result<Vec<(StateKey, String)>, StoreError> {
        let rows = self
            .client
            .get_mut()
            .query(
                "SELECT source, stream, cursor FROM sync_state ORDER BY 1, 2",
                &[],
            )
            .map_err(StoreError::pg("listing sync cursors"))?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    StateKey::new(r.get::<_, String>(0), r.get::<_, String>(1)),
                    r.get(2),
                )
            })
            .collect())
    }
}
