//! flowlake's stores: one schema description rendered to each dialect, versioned migrations, idempotent
//! loads, and the sync-state back-ends.
//!
//! A store never computes metrics: it receives batches of rows already computed and replaces them by key, so
//! loading the same data twice changes nothing.
// A panic on input a user or an API controls is a bug: code returns errors instead (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod batch;
pub mod check;
pub mod clickhouse_store;
pub mod console;
pub mod copy;
pub mod duckdb_store;
pub mod entity;
pub mod error;
pub mod open;
pub mod postgres_store;
pub mod query_json;
pub mod schema;
pub mod state;
pub mod store;
mod tls;

pub use batch::{HandOver, LoadBatch, MovedItem, RecordKey, ReplacePlan, TableRows};
pub use check::{check_store, CheckReport};
pub use clickhouse_store::{ClickHouseOptions, ClickHouseRetry, ClickHouseStore};
pub use console::{QueryResult, SqlConsole};
pub use copy::{copy_store, CopyReport};
pub use duckdb_store::DuckDbStore;
pub use error::StoreError;
pub use open::{open, open_in_memory, OpenMode, StoreOptions};
pub use postgres_store::{PostgresOptions, PostgresStore};
pub use query_json::JsonRows;
pub use state::{
    CursorUpdate, JsonFileState, RedisState, RedisStateConfig, S3State, S3StateConfig,
    StateBackend, StateKey,
};
pub use store::{FilterField, ItemFilter, OnInterval, OnStatusTime, Store};
