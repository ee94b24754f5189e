//! Opening a store: the one place that names a kind of store. The engine and the CLI describe what they want
//! ([`StoreOptions`]) and get a [`Store`] back; everything after talks to the trait.

use std::path::{Path, PathBuf};

use crate::clickhouse_store::{ClickHouseOptions, ClickHouseStore};
use crate::duckdb_store::{DuckDbStore, OpenOptions};
use crate::error::StoreError;
use crate::postgres_store::{PostgresOptions, PostgresStore};
use crate::store::Store;

/// How to open a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create if missing, migrate, write.
    ReadWrite,
    /// Only read; the store must exist and be migrated. Several readers may share it.
    ReadOnly,
    /// Read-only, and the SQL it runs can reach nothing but the store: no file is read or written (`COPY … TO`,
    /// `read_csv`, `ATTACH`, `EXPORT DATABASE`), no extension is installed or loaded, no environment
    /// variable is read (`getenv`), and no setting can be changed back (`lock_configuration`). For anything
    /// that runs SQL on behalf of someone else (a server, KPI definitions); [`OpenMode::ReadOnly`] runs any
    /// SQL with the rights of the process.
    Sandboxed,
}

/// Which store to open, and how. A DuckDB file, or a PostgreSQL or ClickHouse server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// The DuckDB file.
    pub path: PathBuf,
    /// Read-write (creates and migrates), read-only or sandboxed.
    pub mode: OpenMode,
    /// The store's memory cap (DuckDB's `memory_limit`: `"1GB"`, `"80%"`), checked before anything is created.
    pub memory_limit: Option<String>,
    /// Further settings as `(name, value)`, applied once the store is open (`bench --duckdb-setting`).
    pub settings: Vec<(String, String)>,
    /// A PostgreSQL store instead of the DuckDB file (`path`, `memory_limit` and `settings` then unused).
    pub postgres: Option<PostgresOptions>,
    /// A ClickHouse store instead of the DuckDB file (`path`, `memory_limit` and `settings` then unused).
    pub clickhouse: Option<ClickHouseOptions>,
}

impl StoreOptions {
    /// The store at `path`, opened in `mode`, with no settings.
    pub fn new(path: impl AsRef<Path>, mode: OpenMode) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            mode,
            memory_limit: None,
            settings: Vec::new(),
            postgres: None,
            clickhouse: None,
        }
    }
}

/// Opens the store `options` describe (creating and migrating it in [`OpenMode::ReadWrite`]); its settings
/// are checked before a file is created, so a bad memory cap leaves nothing behind.
pub fn open(options: &StoreOptions) -> Result<Box<dyn Store + Send>, StoreError> {
    if let Some(clickhouse) = &options.clickhouse {
        return Ok(Box::new(ClickHouseStore::open(clickhouse, options.mode)?));
    }
    if let Some(postgres) = &options.postgres {
        return Ok(Box::new(PostgresStore::open(postgres, options.mode)?));
    }
    let open = OpenOptions {
        memory_limit: options.memory_limit.clone(),
    };
    let store = DuckDbStore::open_with(&options.path, options.mode, &open)?;
    for (name, value) in &options.settings {
        store.set(name, value)?;
    }
    Ok(Box::new(store))
}

/// A store in memory, created and migrated, gone when dropped: for tests and benchmarks of the engine.
pub fn open_in_memory() -> Result<Box<dyn Store + Send>, StoreError> {
    Ok(Box::new(DuckDbStore::open_in_memory()?))
}
