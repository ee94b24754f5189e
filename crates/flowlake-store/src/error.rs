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
    ///
    /// Only DuckDB's own message is kept: the `duckdb` crate's error wraps a C-API error code whose text is
    /// always `Error code 1: Unknown error code`, which an error chain would print after the message.
    #[error("{context}: {message}")]
    Sql {
        /// What was being done.
        context: String,
        /// DuckDB's message (its first line names the kind: `Parser Error: …`, `Catalog Error: …`).
        message: String,
    },
    /// A query with no SQL statement in it (empty, blank, only `;` or comments).
    #[error("{context}: the query is empty; give one SQL statement, e.g. `select count(*) from work_items`")]
    EmptyQuery {
        /// What was being done.
        context: String,
    },
    /// A file the store writes (an export) could not be completed.
    #[error("writing {path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// Building a batch of rows failed.
    #[error("building rows for {table}: {message}")]
    Batch {
        /// Table.
        table: String,
        /// Why.
        message: String,
    },
    /// The sync state could not be read or written.
    #[error("sync state {location}: {message}")]
    State {
        /// The file or URL (without credentials).
        location: String,
        /// Why.
        message: String,
    },
    /// Another run changed a cursor this run was about to advance.
    #[error("sync state of {key} was changed by another run (expected {}, found {}); is another sync of this source running?", show(expected), show(found))]
    StateConflict {
        /// `source/stream`.
        key: String,
        /// The cursor this run last saw.
        expected: Option<String>,
        /// The cursor stored now.
        found: Option<String>,
    },
    /// Another run holds the source's lock.
    #[error("source `{source_name}` is being synced by another run (lock held by {holder}, expires in {expires_in_seconds} s)")]
    StateLocked {
        /// Source name.
        source_name: String,
        /// The holder's token (host and process).
        holder: String,
        /// Seconds until the lease runs out unless renewed.
        expires_in_seconds: i64,
    },
}

fn show(v: &Option<String>) -> String {
    v.as_deref()
        .map_or_else(|| "no cursor".to_string(), |c| format!("`{c}`"))
}

impl StoreError {
    pub(crate) fn sql(context: impl Into<String>) -> impl FnOnce(duckdb::Error) -> Self {
        let context = context.into();
        move |e| Self::Sql {
            context,
            message: duckdb_message(&e),
        }
    }

    /// Whether trying again later may succeed (a lock held by another process).
    pub fn is_retriable(&self) -> bool {
        matches!(self, Self::Open { reason, .. } if reason.contains("locked"))
    }
}

/// DuckDB's message of `e`, once: the text DuckDB gave, without the `duckdb` crate's wrapping of the C-API
/// code (`Error code 1: Unknown error code`), which says nothing.
pub(crate) fn duckdb_message(e: &duckdb::Error) -> String {
    match e {
        duckdb::Error::DuckDBFailure(_, Some(message)) => message.trim_end().to_string(),
        duckdb::Error::DuckDBFailure(_, None) => "DuckDB failed without giving a reason".into(),
        other => other.to_string(),
    }
}
