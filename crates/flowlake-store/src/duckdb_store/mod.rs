//! The embedded default store: a single DuckDB file, nothing to set up.
//!
//! Here: opening and tuning, and the report and raw reads; [`migrate`] holds the schema versions, [`load`]
//! loads and the store's codes, [`sql`] the SQL console, [`state`] the `sync_state` cursors, [`filter`] an
//! [`ItemFilter`] in SQL.

pub mod ddl;
mod filter;
mod load;
mod migrate;
mod sql;
mod state;

use filter::FilterSql;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use duckdb::{params, params_from_iter, AccessMode, Config, Connection};
use flowlake_core::metrics::ItemMetrics;
use flowlake_core::{GuessedStatus, RawRecord, StatusCategory};

use crate::batch::LoadBatch;
use crate::console::SqlConsole;
use crate::error::{duckdb_message, StoreError};
use crate::state::CursorUpdate;
pub use crate::store::{FilterField, ItemFilter};
use crate::store::{GuessedTally, OnInterval, OnStatusTime, Store};

pub use crate::open::OpenMode;

/// The DuckDB settings of [`OpenMode::Sandboxed`], in order: the last one locks them all.
const SANDBOX: &[&str] = &[
    "SET enable_external_access = false",
    "SET allow_community_extensions = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET lock_configuration = true",
];

/// The `store_marks` row of a rebuild under way.
const REBUILD_MARK: &str = "rebuild";

/// Settings applied when a store is opened, before the file is created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// DuckDB's `memory_limit` (e.g. `"1GB"`, `"80%"`); checked before anything is created.
    pub memory_limit: Option<String>,
}

/// Checks `limit` as DuckDB's `memory_limit` would take it (`"512MB"`, `"1GiB"`, `"75%"`), on a throwaway
/// in-memory database, so a bad value is refused before any file is created (`flowlake` checks it when it
/// loads the config). The error is DuckDB's, which lists the units it knows.
pub fn check_memory_limit(limit: &str) -> Result<(), StoreError> {
    let context = format!("memory_limit `{limit}`");
    let conn = Connection::open_in_memory().map_err(StoreError::sql(context.clone()))?;
    conn.execute_batch(&format!(
        "SET memory_limit = '{}'",
        limit.replace('\'', "''")
    ))
    .map_err(StoreError::sql(context))
}

/// A DuckDB database file holding every flowlake table.
pub struct DuckDbStore {
    conn: Connection,
    path: PathBuf,
    staged: HashSet<&'static str>,
    /// What the store knows of its codes, shared with its clones.
    codes: Arc<SharedCodes>,
}

/// What a store and all its clones know of the codes they give out, so that loads side by side on cloned
/// connections never give a label or an item two codes, nor two of them one.
#[derive(Default)]
struct SharedCodes {
    /// The `labels` table (`None` until read at the first load that needs it), extended as new labels commit.
    labels: Mutex<Option<HashMap<String, i32>>>,
    /// The last item code given out (`None` until read from `item_codes`), committed or not: a code of a
    /// load that rolled back is never given again, which leaves a harmless gap.
    last_item_code: Mutex<Option<i64>>,
}

impl std::fmt::Debug for DuckDbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DuckDbStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn open_reason(e: &duckdb::Error) -> String {
    let msg = duckdb_message(e);
    let lower = msg.to_lowercase();
    if lower.contains("lock") {
        format!("it is locked by another process (another flowlake run?): {msg}")
    } else if lower.contains("not a valid duckdb database") || lower.contains("corrupt") {
        format!(
            "the file is not a valid DuckDB database (corrupted, or another kind of file): {msg}"
        )
    } else if lower.contains("permission denied")
        || lower.contains("read-only")
        || lower.contains("read only")
    {
        format!("permission denied (is the file or its directory read-only?): {msg}")
    } else {
        msg
    }
}

fn ts(us: Option<i64>) -> Option<DateTime<Utc>> {
    us.and_then(DateTime::from_timestamp_micros)
}

fn category(s: &str) -> StatusCategory {
    s.parse().unwrap_or(StatusCategory::InProgress)
}

impl DuckDbStore {
    /// Opens (and in read-write mode creates and migrates) the store at `path`.
    pub fn open(path: impl AsRef<Path>, mode: OpenMode) -> Result<Self, StoreError> {
        Self::open_with(path, mode, &OpenOptions::default())
    }

    /// [`DuckDbStore::open`] with `options`, which are checked before the file is created: a bad setting
    /// leaves nothing behind.
    pub fn open_with(
        path: impl AsRef<Path>,
        mode: OpenMode,
        options: &OpenOptions,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let open_err = |reason: String| StoreError::Open {
            path: path.clone(),
            reason,
        };
        if mode != OpenMode::ReadWrite && !path.exists() {
            return Err(open_err(
                "no such file (run `flowlake sync` or `flowlake demo` first)".into(),
            ));
        }
        if path.is_dir() {
            return Err(open_err("it is a directory, not a database file".into()));
        }
        let access = match mode {
            OpenMode::ReadWrite => AccessMode::ReadWrite,
            OpenMode::ReadOnly | OpenMode::Sandboxed => AccessMode::ReadOnly,
        };
        let mut config = Config::default()
            .access_mode(access)
            .and_then(|c| c.enable_autoload_extension(false))
            .map_err(|e| open_err(duckdb_message(&e)))?;
        if let Some(limit) = &options.memory_limit {
            check_memory_limit(limit)?;
            config = config
                .max_memory(limit)
                .map_err(|e| open_err(duckdb_message(&e)))?;
        }
        let conn =
            Connection::open_with_flags(&path, config).map_err(|e| open_err(open_reason(&e)))?;
        let mut store = Self {
            conn,
            path,
            staged: HashSet::new(),
            codes: Arc::default(),
        };
        match mode {
            OpenMode::ReadWrite => store.migrate()?,
            OpenMode::ReadOnly => store.check_version()?,
            OpenMode::Sandboxed => {
                store.check_version()?;
                for setting in SANDBOX {
                    store
                        .conn
                        .execute_batch(setting)
                        .map_err(StoreError::sql(format!("sandboxing: {setting}")))?;
                }
            }
        }
        Ok(store)
    }

    /// An in-memory store, for tests and benchmarks of the engine.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| StoreError::Open {
            path: ":memory:".into(),
            reason: duckdb_message(&e),
        })?;
        let mut store = Self {
            conn,
            path: ":memory:".into(),
            staged: HashSet::new(),
            codes: Arc::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Limits DuckDB's own memory (e.g. `"512MB"`), for bounded-memory bulk loads. On an open store: to
    /// refuse a bad value before a file exists, pass it in [`OpenOptions`] or check it with
    /// [`check_memory_limit`] first.
    pub fn set_memory_limit(&self, limit: &str) -> Result<(), StoreError> {
        self.conn
            .execute_batch(&format!(
                "SET memory_limit = '{}'",
                limit.replace('\'', "''")
            ))
            .map_err(StoreError::sql("setting memory_limit"))
    }

    /// Runs a `SET` statement (tuning for bulk loads: `checkpoint_threshold`, `threads`, …).
    pub fn set(&self, setting: &str, value: &str) -> Result<(), StoreError> {
        let name: String = setting
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        self.conn
            .execute_batch(&format!("SET {name} = '{}'", value.replace('\'', "")))
            .map_err(StoreError::sql(format!("setting {name}")))
    }

    /// Another connection to the same database, for loading batches side by side: DuckDB writes the row
    /// groups of concurrent transactions in parallel. Loads on clones must not touch the same rows (their
    /// transactions would conflict); batches of disjoint items do not.
    pub fn try_clone(&self) -> Result<Self, StoreError> {
        let conn = self.conn.try_clone().map_err(|e| StoreError::Open {
            path: self.path.clone(),
            reason: duckdb_message(&e),
        })?;
        Ok(Self {
            conn,
            path: self.path.clone(),
            staged: HashSet::new(),
            codes: Arc::clone(&self.codes),
        })
    }
}

/// The engine's and the CLI's view of the store.
impl Store for DuckDbStore {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    /// Rows, moves and cursor commit in one DuckDB transaction.
    fn keeps_cursors_in_the_load_transaction(&self) -> bool {
        true
    }

    /// Switches bulk-load mode on or off. DuckDB checkpoints whenever its write-ahead log passes
    /// `checkpoint_threshold` (16 MB by default), and a checkpoint rewrites the last, partly filled row group and
    /// the metadata of every table it touches: on a backfill of millions of rows that is one rewrite per batch,
    /// growing with the table. In bulk mode the log may grow to 4 GB before a checkpoint; leaving bulk mode
    /// checkpoints once. The log is durable either way: a crash in bulk mode loses nothing committed.
    fn set_bulk(&mut self, on: bool) -> Result<(), StoreError> {
        if on {
            self.set("checkpoint_threshold", "4GB")
        } else {
            let started = std::time::Instant::now();
            self.conn
                .execute_batch("RESET checkpoint_threshold; CHECKPOINT;")
                .map_err(StoreError::sql("checkpointing after a bulk load"))?;
            tracing::debug!(
                micros = started.elapsed().as_micros() as u64,
                "checkpointed"
            );
            Ok(())
        }
    }

    /// A clone of the connection ([`DuckDbStore::try_clone`]): DuckDB writes the row groups of concurrent
    /// transactions in parallel.
    fn loader(&self) -> Result<Option<Box<dyn Store + Send>>, StoreError> {
        Ok(Some(Box::new(self.try_clone()?)))
    }
    fn load(
        &mut self,
        batch: &mut LoadBatch,
        cursors: Option<&[CursorUpdate]>,
    ) -> Result<(), StoreError> {
        self.load_in_one_transaction(batch, cursors)
    }

    /// Names of the sources with landed raw records.
    fn raw_sources(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT source FROM raw_records ORDER BY 1")
            .map_err(StoreError::sql("listing raw sources"))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(StoreError::sql("listing raw sources"))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::sql("listing raw sources"))
    }

    /// Raw records of `source`.
    fn count_raw(&self, source: &str) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM raw_records WHERE source = ?",
                params![source],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(StoreError::sql(format!("counting raw records of {source}")))
    }

    /// Up to `limit` raw records of `source` after `(stream, key)`, in key order (keyset paging).
    fn raw_page(
        &self,
        source: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<RawRecord>, StoreError> {
        let (stream, key) = after.unwrap_or(("", ""));
        let ctx = || StoreError::sql(format!("reading raw records of {source}"));
        let mut stmt = self
            .conn
            .prepare(
                "SELECT stream, key, epoch_us(updated_at), epoch_us(fetched_at), payload FROM raw_records
                 WHERE source = ? AND (stream, key) > (?, ?) ORDER BY stream, key LIMIT ?",
            )
            .map_err(ctx())?;
        let rows = stmt
            .query_map(params![source, stream, key, limit as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(ctx())?;
        let mut out = Vec::new();
        for row in rows {
            let (stream, key, updated, fetched, payload) = row.map_err(ctx())?;
            let payload = serde_json::from_str(&payload).map_err(|e| StoreError::Batch {
                table: "raw_records".into(),
                message: format!("{source}/{stream}/{key}: payload is not JSON: {e}"),
            })?;
            out.push(RawRecord {
                source: source.to_string(),
                stream,
                key,
                updated_at: ts(updated),
                fetched_at: ts(Some(fetched)).unwrap_or_default(),
                payload,
            });
        }
        Ok(out)
    }

    /// Marks the store as being rebuilt, committed before the rebuild changes anything: a rebuild loads its
    /// pages in transactions of their own, so one cut short leaves some items computed with the old config
    /// and some with the new, and the mark says so until [`Store::end_rebuild`]. Marking again (the
    /// rebuild that finishes an interrupted one) keeps the first time.
    fn begin_rebuild(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO store_marks VALUES (?, current_timestamp::TIMESTAMP) ON CONFLICT DO NOTHING",
                params![REBUILD_MARK],
            )
            .map(|_| ())
            .map_err(StoreError::sql("marking the store as being rebuilt"))
    }

    /// Removes the mark of [`Store::begin_rebuild`]: every item is computed with one config again.
    fn end_rebuild(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute(
                "DELETE FROM store_marks WHERE mark = ?",
                params![REBUILD_MARK],
            )
            .map(|_| ())
            .map_err(StoreError::sql("unmarking the finished rebuild"))
    }

    /// When the rebuild that has not finished began, if one has not: its items mix two configs until a
    /// rebuild completes.
    fn unfinished_rebuild(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let context = "reading store_marks";
        let mut stmt = self
            .conn
            .prepare("SELECT epoch_us(since) FROM store_marks WHERE mark = ?")
            .map_err(StoreError::sql(context))?;
        let mut rows = stmt
            .query(params![REBUILD_MARK])
            .map_err(StoreError::sql(context))?;
        match rows.next().map_err(StoreError::sql(context))? {
            Some(r) => Ok(ts(Some(r.get(0).map_err(StoreError::sql(context))?))),
            None => Ok(None),
        }
    }

    /// Rows in `table`.
    fn count(&self, table: &str) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT count(*) FROM \"{}\"", table.replace('"', "")),
                [],
                |r| r.get(0),
            )
            .map_err(StoreError::sql(format!("counting {table}")))
    }

    /// How many items match `filter`: what a report says when nothing matched.
    fn count_items(&self, filter: &ItemFilter) -> Result<u64, StoreError> {
        let (cond, p) = filter.sql();
        let sql = format!("SELECT count(*) FROM item_metrics m WHERE true{cond}");
        let ctx = || StoreError::sql("counting item_metrics");
        let n: i64 = self
            .conn
            .query_row(&sql, params_from_iter(p), |r| r.get(0))
            .map_err(ctx())?;
        Ok(n.unsigned_abs())
    }

    /// The distinct stored values of `field` (both type columns for [`FilterField::ItemType`]), sorted
    /// ignoring case: the values a filter that matched nothing could have named.
    fn filter_values(&self, field: FilterField) -> Result<Vec<String>, StoreError> {
        let from = match field {
            FilterField::Source => "SELECT source AS v FROM item_metrics",
            FilterField::Project => "SELECT project AS v FROM item_metrics",
            FilterField::ItemType => {
                "SELECT item_type AS v FROM item_metrics UNION SELECT standard_type FROM item_metrics"
            }
            FilterField::Assignee => "SELECT assignee AS v FROM item_metrics",
        };
        let sql =
            format!("SELECT DISTINCT v FROM ({from}) WHERE v IS NOT NULL ORDER BY lower(v), v");
        let ctx = || StoreError::sql("reading item_metrics");
        let mut stmt = self.conn.prepare(&sql).map_err(ctx())?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(ctx())?;
        rows.collect::<Result<_, _>>().map_err(ctx())
    }

    /// Streams the `item_metrics` rows matching `filter`, as the core's [`ItemMetrics`].
    fn for_each_item_metrics(
        &self,
        filter: &ItemFilter,
        f: &mut dyn FnMut(ItemMetrics),
    ) -> Result<(), StoreError> {
        let (cond, p) = filter.sql();
        let sql = format!(
            "SELECT item_id, epoch_us(created_at), epoch_us(started_at), epoch_us(completed_at),
                    lead_seconds, lead_business_seconds, cycle_seconds, cycle_business_seconds, reopen_count,
                    active_seconds, flow_efficiency, epoch_us(first_response_at), first_response_seconds,
                    status_path, status_changes, current_status, current_category, age_seconds
             FROM item_metrics m WHERE true{cond}"
        );
        let ctx = || StoreError::sql("reading item_metrics");
        let mut stmt = self.conn.prepare(&sql).map_err(ctx())?;
        let mut rows = stmt.query(params_from_iter(p)).map_err(ctx())?;
        while let Some(r) = rows.next().map_err(ctx())? {
            let cat: String = r.get(16).map_err(ctx())?;
            f(ItemMetrics {
                item_id: r.get(0).map_err(ctx())?,
                created_at: ts(r.get(1).map_err(ctx())?).unwrap_or_default(),
                started_at: ts(r.get(2).map_err(ctx())?),
                completed_at: ts(r.get(3).map_err(ctx())?),
                lead_seconds: r.get(4).map_err(ctx())?,
                lead_business_seconds: r.get(5).map_err(ctx())?,
                cycle_seconds: r.get(6).map_err(ctx())?,
                cycle_business_seconds: r.get(7).map_err(ctx())?,
                reopen_count: r
                    .get::<_, i64>(8)
                    .map_err(ctx())?
                    .try_into()
                    .unwrap_or(u32::MAX),
                active_seconds: r.get(9).map_err(ctx())?,
                flow_efficiency: r.get(10).map_err(ctx())?,
                first_response_at: ts(r.get(11).map_err(ctx())?),
                first_response_seconds: r.get(12).map_err(ctx())?,
                status_path: r.get(13).map_err(ctx())?,
                status_changes: r
                    .get::<_, i64>(14)
                    .map_err(ctx())?
                    .try_into()
                    .unwrap_or(u32::MAX),
                current_status: r.get(15).map_err(ctx())?,
                current_category: category(&cat),
                age_seconds: r.get(17).map_err(ctx())?,
            });
        }
        Ok(())
    }

    /// Streams status intervals of matching items that overlap `[from, to)`:
    /// `(status, category, started_at, ended_at)`.
    fn for_each_interval(
        &self,
        filter: &ItemFilter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut OnInterval<'_>,
    ) -> Result<(), StoreError> {
        let (cond, mut p) = filter.sql();
        let sql = format!(
            "SELECT i.status, i.category, epoch_us(i.started_at), epoch_us(i.ended_at)
             FROM status_intervals i JOIN item_metrics m USING (item_id)
             WHERE i.started_at < make_timestamp(?::BIGINT) AND (i.ended_at IS NULL OR i.ended_at >= make_timestamp(?::BIGINT)){cond}"
        );
        p.insert(0, from.timestamp_micros().to_string());
        p.insert(0, to.timestamp_micros().to_string());
        let ctx = || StoreError::sql("reading status_intervals");
        let mut stmt = self.conn.prepare(&sql).map_err(ctx())?;
        let mut rows = stmt.query(params_from_iter(p)).map_err(ctx())?;
        while let Some(r) = rows.next().map_err(ctx())? {
            let status: String = r.get(0).map_err(ctx())?;
            let cat: String = r.get(1).map_err(ctx())?;
            let start = ts(r.get(2).map_err(ctx())?).unwrap_or_default();
            f(&status, category(&cat), start, ts(r.get(3).map_err(ctx())?));
        }
        Ok(())
    }

    /// Streams time in status of matching items: `(status, category, visits, calendar s, business s)`.
    fn for_each_status_time(
        &self,
        filter: &ItemFilter,
        f: &mut OnStatusTime<'_>,
    ) -> Result<(), StoreError> {
        let (cond, p) = filter.sql();
        let sql = format!(
            "SELECT t.status, t.category, t.visits, t.calendar_seconds, t.business_seconds
             FROM item_status_time t JOIN item_metrics m USING (item_id) WHERE true{cond}"
        );
        let ctx = || StoreError::sql("reading item_status_time");
        let mut stmt = self.conn.prepare(&sql).map_err(ctx())?;
        let mut rows = stmt.query(params_from_iter(p)).map_err(ctx())?;
        while let Some(r) = rows.next().map_err(ctx())? {
            let status: String = r.get(0).map_err(ctx())?;
            let cat: String = r.get(1).map_err(ctx())?;
            f(
                &status,
                category(&cat),
                r.get(2).map_err(ctx())?,
                r.get(3).map_err(ctx())?,
                r.get(4).map_err(ctx())?,
            );
        }
        Ok(())
    }

    /// The statuses whose category was guessed on the stays of matching items (`item_metrics.guessed_statuses`),
    /// per source with the number of items, most items first. A stored object that is not JSON is an error
    /// naming the item.
    fn guessed_statuses(&self, filter: &ItemFilter) -> Result<Vec<GuessedStatus>, StoreError> {
        let (cond, p) = filter.sql();
        let sql = format!(
            "SELECT m.item_id, m.source, m.guessed_statuses FROM item_metrics m
             WHERE m.guessed_statuses IS NOT NULL{cond}"
        );
        let ctx = || StoreError::sql("reading item_metrics.guessed_statuses");
        let mut stmt = self.conn.prepare(&sql).map_err(ctx())?;
        let mut rows = stmt.query(params_from_iter(p)).map_err(ctx())?;
        let mut tally = GuessedTally::default();
        while let Some(r) = rows.next().map_err(ctx())? {
            let item: String = r.get(0).map_err(ctx())?;
            let source: String = r.get(1).map_err(ctx())?;
            let json: String = r.get(2).map_err(ctx())?;
            tally.add(&item, &source, &json)?;
        }
        Ok(tally.finish())
    }

    fn console(&self) -> Option<&dyn SqlConsole> {
        Some(self)
    }
}
