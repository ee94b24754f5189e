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
    /// A normalizer emitted an entity of a kind no table is declared for: a kind added to the model without
    /// its `declare_table!` (in `schema/entities.rs`, or registered with `flowlake_store::entity::register`).
    #[error("no table is declared for entities of kind {kind}; declare one with flowlake_store::declare_table!")]
    UnknownEntity {
        /// The entity's type.
        kind: String,
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
    /// A failed PostgreSQL call, with the server's message, detail and hint (never the connection string).
    pub(crate) fn pg(context: impl Into<String>) -> impl FnOnce(postgres::Error) -> Self {
        let context = context.into();
        move |e| Self::Sql {
            context,
            message: postgres_message(&e),
        }
    }

    pub(crate) fn sql(context: impl Into<String>) -> impl FnOnce(duckdb::Error) -> Self {
        let context = context.into();
        move |e| Self::Sql {
            context,
            message: duckdb_message(&e),
        }
    }

    /// Whether trying the same thing again later may succeed: a lock another run holds (the store file's, a
    /// source's), a transaction that lost a write-write conflict to one side by side, a state back-end that
    /// timed out or dropped the connection. Not a cursor another run changed ([`StoreError::StateConflict`]:
    /// trying again would undo that run's work), nor anything a retry repeats identically (bad SQL, a newer
    /// schema, a full disk).
    pub fn is_retriable(&self) -> bool {
        match self {
            Self::Open { reason, .. } => reason.contains("locked"),
            Self::StateLocked { .. } => true,
            Self::Sql { message, .. } => {
                let m = message.to_lowercase();
                m.contains("write-write conflict") || m.contains("conflict on tuple")
            }
            Self::State { message, .. } => {
                let m = message.to_lowercase();
                TRANSIENT_IO.iter().any(|t| m.contains(t))
            }
            _ => false,
        }
    }
}

/// What the messages of I/O errors a retry can fix say: a timeout, a dropped or refused connection.
const TRANSIENT_IO: &[&str] = &[
    "timed out",
    "timeout",
    "connection reset",
    "connection refused",
    "connection closed",
    "connection aborted",
    "broken pipe",
];

/// DuckDB's message of `e`, once: the text DuckDB gave, without the `duckdb` crate's wrapping of the C-API
/// code (`Error code 1: Unknown error code`), which says nothing.
/// PostgreSQL's message of `e`: the server's (`ERROR: …` with its SQLSTATE, detail and hint), else the
/// client's with its cause (a connection closed, a type that does not fit).
pub(crate) fn postgres_message(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut out = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
        if let Some(detail) = db.detail() {
            out.push_str(&format!("; {detail}"));
        }
        if let Some(hint) = db.hint() {
            out.push_str(&format!("; hint: {hint}"));
        }
        return out;
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

pub(crate) fn duckdb_message(e: &duckdb::Error) -> String {
    match e {
        duckdb::Error::DuckDBFailure(_, Some(message)) => message.trim_end().to_string(),
        duckdb::Error::DuckDBFailure(_, None) => "DuckDB failed without giving a reason".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_errors_a_later_try_can_fix_are_retriable() {
        let sql = |message: &str| StoreError::Sql {
            context: "committing a load".into(),
            message: message.into(),
        };
        let state = |message: &str| StoreError::State {
            location: "redis://127.0.0.1:6379".into(),
            message: message.into(),
        };
        let open = |reason: &str| StoreError::Open {
            path: "f.duckdb".into(),
            reason: reason.into(),
        };
        let cases: Vec<(StoreError, bool)> = vec![
            (
                open("it is locked by another process (another flowlake run?): IO Error"),
                true,
            ),
            (
                open("permission denied (is the file or its directory read-only?)"),
                false,
            ),
            (
                StoreError::StateLocked {
                    source_name: "jira".into(),
                    holder: "host:1".into(),
                    expires_in_seconds: 30,
                },
                true,
            ),
            (
                sql("TransactionContext Error: Catalog write-write conflict on create with \"x\""),
                true,
            ),
            (
                sql("TransactionContext Error: Conflict on tuple deletion!"),
                true,
            ),
            (
                sql("Parser Error: syntax error at or near \"selec\""),
                false,
            ),
            (
                state("reading the cursor: Connection reset by peer (os error 104)"),
                true,
            ),
            (state("GET: operation timed out"), true),
            (state("connect: Connection refused (os error 111)"), true),
            (state("broken pipe"), true),
            (
                state("the object is not JSON: expected value at line 1"),
                false,
            ),
            (
                StoreError::StateConflict {
                    key: "jira/issues".into(),
                    expected: Some("a".into()),
                    found: Some("b".into()),
                },
                false,
            ),
            (
                StoreError::TooNew {
                    path: "f.duckdb".into(),
                    found: 12,
                    known: 11,
                },
                false,
            ),
            (
                StoreError::EmptyQuery {
                    context: "query".into(),
                },
                false,
            ),
            (
                StoreError::Write {
                    path: "out.csv".into(),
                    message: "No space left on device".into(),
                },
                false,
            ),
            (
                StoreError::Batch {
                    table: "work_items".into(),
                    message: "bad".into(),
                },
                false,
            ),
        ];
        for (e, retriable) in cases {
            assert_eq!(e.is_retriable(), retriable, "{e}");
        }
    }
}
