//! A DuckDB store's schema versions: the migrations of [`crate::schema`] applied in order.

use duckdb::params;

use super::ddl::{duckdb_migrations, SCHEMA_MIGRATIONS_DDL};
use super::DuckDbStore;
use crate::error::StoreError;

impl DuckDbStore {
    /// The applied schema version (0 for an empty file).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let exists: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'",
                [],
                |r| r.get(0),
            )
            .map_err(StoreError::sql("reading the schema version"))?;
        if exists == 0 {
            return Ok(0);
        }
        self.conn
            .query_row(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )
            .map_err(StoreError::sql("reading the schema version"))
    }

    pub(super) fn check_version(&self) -> Result<(), StoreError> {
        let found = self.schema_version()?;
        let known = duckdb_migrations().last().map_or(0, |m| m.version);
        if found > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        if found < known {
            return Err(StoreError::Open {
                path: self.path.clone(),
                reason: format!("schema version {found} is older than {known}; run `flowlake sync` once to upgrade it"),
            });
        }
        Ok(())
    }

    /// Applies the migrations not applied yet, each in its own transaction.
    pub fn migrate(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute_batch(SCHEMA_MIGRATIONS_DDL)
            .map_err(StoreError::sql("creating schema_migrations"))?;
        let current = self.schema_version()?;
        let migrations = duckdb_migrations();
        let known = migrations.last().map_or(0, |m| m.version);
        if current > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: current,
                known,
            });
        }
        for m in migrations.into_iter().filter(|m| m.version > current) {
            let context = format!("applying migration {} ({})", m.version, m.description);
            let tx = self
                .conn
                .transaction()
                .map_err(StoreError::sql(context.clone()))?;
            for s in &m.statements {
                tx.execute_batch(s)
                    .map_err(StoreError::sql(context.clone()))?;
            }
            tx.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, current_timestamp::TIMESTAMP)",
                params![m.version, m.description],
            )
            .map_err(StoreError::sql(context.clone()))?;
            tx.commit().map_err(StoreError::sql(context))?;
        }
        Ok(())
    }
}
