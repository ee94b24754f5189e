//! Store errors, each with what the user needs to act on it.

use std::path::PathBuf;

/// What went wrong in a store or state back-end.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened.
    #[error("cannot open store {path}: {reason}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why, in words a user can act on.
        reason: String,
    },
    /// The database was written by a newer flowlake.
    #[error("store {path} has schema version {found}, newer than this flowlake knows ({known}); upgrade flowlake")]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Version found.
        found: i64,
        /// Newest version known.
        known: i64,
    },
    /// A statement failed.
    #[error("{context}: {source}")]
    Sql {
        /// What was being done.
        context: String,
        /// The database's error.
        source: duckdb::Error,
    },
    /// Building a batch of rows failed.
    #[error("building rows for {table}: {message}")]
    Batch {
        /// Table.
        table: String,
        /// Why.
        message: String,
    },
    /// The state file could not be read or written.
    #[error("sync state {path}: {message}")]
    State {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

impl StoreError {
    pub(crate) fn sql(context: impl Into<String>) -> impl FnOnce(duckdb::Error) -> Self {
        let context = context.into();
        move |source| Self::Sql { context, source }
    }

    /// Whether trying again later may succeed (a lock held by another process).
    pub fn is_retriable(&self) -> bool {
        matches!(self, Self::Open { reason, .. } if reason.contains("locked"))
    }
}
