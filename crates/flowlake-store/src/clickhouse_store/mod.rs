//! The ClickHouse store (`[store] kind = "clickhouse"`): the same tables and views as the DuckDB file, in a
//! database of a ClickHouse server reached over its HTTP interface, for histories that outgrow one machine
//! or teams whose dashboards already read ClickHouse.
//!
//! ClickHouse has no multi-statement transactions, so a page's rows and its cursor cannot commit together:
//! [`Store::keeps_cursors_in_the_load_transaction`] is `false`, the engine saves the cursor after the load
//! returns, and every load step is idempotent (see [`load`]), so a page replayed after a crash between the
//! two changes nothing.
//!
//! Here: options and the report and raw reads; [`open`] connects and migrates, [`ddl`] renders the
//! schema description to ClickHouse's dialect (versioned rows and views of the live ones), [`load`] loads
//! `RowBinary`, [`state`] keeps the cursors in `sync_state`, [`console`] runs `flowlake query` and
//! `export`, [`http`] talks to the server.

mod console;
pub mod ddl;
mod http;
mod load;
mod open;
mod state;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use flowlake_core::metrics::ItemMetrics;
use flowlake_core::{GuessedStatus, RawRecord, StatusCategory};
use serde_json::Value;

pub use http::Retry as ClickHouseRetry;

use crate::batch::LoadBatch;
use crate::console::SqlConsole;
use crate::error::StoreError;
use crate::state::CursorUpdate;
use crate::store::{FilterField, GuessedTally, ItemFilter, OnInterval, OnStatusTime, Store};
use http::{quote, Http};

/// The `store_marks` row of a rebuild under way.
const REBUILD_MARK: &str = "rebuild";

/// Where a ClickHouse store is. Its `Debug` shows no password.
#[derive(Clone, PartialEq, Eq)]
pub struct ClickHouseOptions {
    /// The HTTP interface: `http://host:8123` or `https://host:8443`. Credentials do not go here.
    pub url: String,
    /// The database holding flowlake's tables; created when missing (read-write).
    pub database: String,
    /// The user (`default` on a fresh server).
    pub user: String,
    /// The user's password (from `FLOWLAKE_STORE__PASSWORD` or a file), sent as `X-ClickHouse-Key`.
    pub password: Option<String>,
    /// The cluster the tables span (`ON CLUSTER`, replicated and distributed tables), if any.
    pub cluster: Option<String>,
    /// How failed requests are tried again.
    pub retry: ClickHouseRetry,
    /// How long one request may take.
    pub timeout: Duration,
    /// Whether insert bodies go gzip-compressed (`Content-Encoding: gzip`, which ClickHouse's HTTP interface
    /// decompresses): RowBinary of many similar rows shrinks several times, for some CPU on the loader.
    pub compress: bool,
    /// CA certificates (PEM) an `https://` server's certificate must chain to, instead of the system's
    /// roots: a private CA or a self-signed server. As the PostgreSQL store's `ca_file`.
    pub ca_file: Option<PathBuf>,
    /// Whether a sync ends with `OPTIMIZE TABLE … FINAL` on each table it loaded into (tracker-exporter's
    /// `AUTO_DEDUPLICATE`): the superseded row versions are merged away at once rather than whenever
    /// ClickHouse merges, so `T_rows` holds one version per key — for readers of the raw tables and for a
    /// cheaper `FINAL`. It rewrites each table's parts, so it costs a run time on large tables.
    pub optimize_after_sync: bool,
}

impl Eq for ClickHouseRetry {}

impl ClickHouseOptions {
    /// `url`'s `database` as `user`, without a password or cluster, with the default retries and compressed
    /// inserts.
    pub fn new(url: impl Into<String>, database: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            database: database.into(),
            user: "default".into(),
            password: None,
            cluster: None,
            retry: ClickHouseRetry::default(),
            timeout: Duration::from_secs(300),
            compress: true,
            ca_file: None,
            optimize_after_sync: false,
        }
    }
}

impl std::fmt::Debug for ClickHouseOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseOptions")
            .field("url", &flowlake_core::redact_url(&self.url))
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .field("cluster", &self.cluster)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("compress", &self.compress)
            .field("ca_file", &self.ca_file)
            .field("optimize_after_sync", &self.optimize_after_sync)
            .finish()
    }
}

/// A database of a ClickHouse server holding every flowlake table.
pub struct ClickHouseStore {
    http: Http,
    /// `http://user@host:port (database d)`, without the password.
    describe: String,
    /// What it was opened with, for [`Store::loader`]'s other handles.
    options: ClickHouseOptions,
    /// Whether it loads.
    writes: bool,
    /// The tables loaded into since the last [`Store::finish_sync`]: what `optimize_after_sync` merges.
    loaded: BTreeSet<&'static str>,
}

impl std::fmt::Debug for ClickHouseStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseStore")
            .field("at", &self.describe)
            .finish_non_exhaustive()
    }
}

/// Whether `name` is one flowlake creates and names without quoting: letters, digits and `_`, not starting
/// with a digit.
fn plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

/// The last `_version` handed out in this process: versions only grow, even for two handles opened in the
/// same microsecond.
static LAST_VERSION: AtomicU64 = AtomicU64::new(0);

/// An integer of a JSON answer (a number, or a quoted 64-bit one).
pub(crate) fn json_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX))),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A `DateTime`/`DateTime64` of a JSON answer (`2024-01-01 11:00:00.000000`), in UTC.
pub(crate) fn json_timestamp(v: &Value) -> Option<NaiveDateTime> {
    let s = v.as_str()?;
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
        .ok()
}

fn ts(v: Option<&Value>) -> Option<DateTime<Utc>> {
    v.and_then(json_timestamp).map(|t| t.and_utc())
}

fn category(s: &str) -> StatusCategory {
    s.parse().unwrap_or(StatusCategory::InProgress)
}

/// An [`ItemFilter`] in ClickHouse's SQL: `AND …` conditions over `item_metrics` aliased `m`, values as
/// quoted literals.
fn filter_sql(filter: &ItemFilter) -> String {
    let mut sql = String::new();
    if let Some(s) = &filter.source {
        sql.push_str(&format!(" AND lower(m.source) = lower({})", quote(s)));
    }
    if let Some(p) = &filter.project {
        sql.push_str(&format!(" AND lower(m.project) = lower({})", quote(p)));
    }
    if let Some(t) = &filter.item_type {
        let t = quote(t);
        sql.push_str(&format!(
            " AND (lower(m.item_type) = lower({t}) OR lower(m.standard_type) = lower({t}))"
        ));
    }
    if let Some(a) = &filter.assignee {
        let a = quote(a);
        // The login after a person id's `:`, literally (no LIKE: a `%` in it is no wildcard).
        sql.push_str(&format!(
            " AND (lower(m.assignee) = lower({a}) OR endsWith(lower(m.assignee), concat(':', lower({a}))))"
        ));
    }
    sql
}

fn text_at(r: &[Value], i: usize) -> String {
    r.get(i)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

fn int_at(r: &[Value], i: usize) -> Option<i64> {
    r.get(i).and_then(json_i64)
}

impl Store for ClickHouseStore {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    /// Another handle (its own HTTP client) for loading side by side: loads of disjoint items on two handles
    /// never touch the same rows, and versions stay distinct (one counter per process).
    fn loader(&self) -> Result<Option<Box<dyn Store + Send>>, StoreError> {
        if !self.writes {
            return Ok(None);
        }
        Ok(Some(Box::new(Self::open(
            &self.options,
            crate::open::OpenMode::ReadWrite,
        )?)))
    }

    /// ClickHouse has no transaction a cursor could share with the rows.
    fn keeps_cursors_in_the_load_transaction(&self) -> bool {
        false
    }

    /// Loads the batch; cursors given anyway are saved after the rows, as the engine would.
    fn load(
        &mut self,
        batch: &mut LoadBatch,
        cursors: Option<&[CursorUpdate]>,
    ) -> Result<(), StoreError> {
        self.load_batch(batch)?;
        for u in cursors.unwrap_or_default() {
            self.write_cursor(u)?;
        }
        Ok(())
    }

    /// With `optimize_after_sync`, `OPTIMIZE TABLE … FINAL` on each table the run loaded into (on a cluster,
    /// its replicated local tables), once all its pages are in.
    fn finish_sync(&mut self) -> Result<(), StoreError> {
        let loaded = std::mem::take(&mut self.loaded);
        if !self.options.optimize_after_sync {
            return Ok(());
        }
        let layout = ddl::Layout {
            cluster: self.options.cluster.as_deref(),
        };
        for name in loaded {
            tracing::debug!(table = name, "optimize_after_sync: OPTIMIZE TABLE … FINAL");
            self.http.run(
                &ddl::optimize_final(name, layout),
                &format!(
                    "merging {name} after the sync (optimize_after_sync; its rows and cursors are saved)"
                ),
            )?;
        }
        Ok(())
    }

    fn raw_sources(&self) -> Result<Vec<String>, StoreError> {
        let rows = self.json_rows(
            "SELECT DISTINCT source FROM raw_records ORDER BY 1",
            "listing raw sources",
        )?;
        Ok(rows.iter().map(|r| text_at(r, 0)).collect())
    }

    fn count_raw(&self, source: &str) -> Result<u64, StoreError> {
        let rows = self.json_rows(
            &format!(
                "SELECT count() FROM raw_records WHERE source = {}",
                quote(source)
            ),
            &format!("counting raw records of {source}"),
        )?;
        Ok(rows
            .first()
            .and_then(|r| int_at(r, 0))
            .unwrap_or(0)
            .unsigned_abs())
    }

    fn raw_page(
        &self,
        source: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<RawRecord>, StoreError> {
        let (stream, key) = after.unwrap_or(("", ""));
        let context = format!("reading raw records of {source}");
        let rows = self.json_rows(
            &format!(
                "SELECT stream, key, updated_at, fetched_at, payload FROM raw_records \
                 WHERE source = {} AND (stream, key) > ({}, {}) ORDER BY stream, key LIMIT {limit}",
                quote(source),
                quote(stream),
                quote(key)
            ),
            &context,
        )?;
        rows.iter()
            .map(|r| {
                let (stream, key) = (text_at(r, 0), text_at(r, 1));
                let payload =
                    serde_json::from_str(&text_at(r, 4)).map_err(|e| StoreError::Batch {
                        table: "raw_records".into(),
                        message: format!("{source}/{stream}/{key}: payload is not JSON: {e}"),
                    })?;
                Ok(RawRecord {
                    source: source.to_string(),
                    updated_at: ts(r.get(2)),
                    fetched_at: ts(r.get(3)).unwrap_or_default(),
                    stream,
                    key,
                    payload,
                })
            })
            .collect()
    }

    fn begin_rebuild(&mut self) -> Result<(), StoreError> {
        if self.unfinished_rebuild()?.is_some() {
            return Ok(());
        }
        let version = self.next_version();
        self.http
            .run(
                &format!(
                    "INSERT INTO store_marks_rows (mark, since, _version, _deleted) \
                     VALUES ({}, now64(6, 'UTC'), {version}, 0)",
                    quote(REBUILD_MARK)
                ),
                "marking the store as being rebuilt",
            )
            .map(|_| ())
    }

    fn end_rebuild(&mut self) -> Result<(), StoreError> {
        self.tombstone(
            "store_marks",
            &["mark", "since"],
            &format!("mark = {}", quote(REBUILD_MARK)),
            "unmarking the finished rebuild",
        )
    }

    fn unfinished_rebuild(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let rows = self.json_rows(
            &format!(
                "SELECT since FROM store_marks WHERE mark = {}",
                quote(REBUILD_MARK)
            ),
            "reading store_marks",
        )?;
        Ok(rows.first().and_then(|r| ts(r.first())))
    }

    fn count(&self, table: &str) -> Result<i64, StoreError> {
        let name: String = table
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let rows = self.json_rows(
            &format!("SELECT count() FROM {name}"),
            &format!("counting {table}"),
        )?;
        Ok(rows.first().and_then(|r| int_at(r, 0)).unwrap_or(0))
    }

    fn count_items(&self, filter: &ItemFilter) -> Result<u64, StoreError> {
        let rows = self.json_rows(
            &format!(
                "SELECT count() FROM item_metrics m WHERE true{}",
                filter_sql(filter)
            ),
            "counting item_metrics",
        )?;
        Ok(rows
            .first()
            .and_then(|r| int_at(r, 0))
            .unwrap_or(0)
            .unsigned_abs())
    }

    fn filter_values(&self, field: FilterField) -> Result<Vec<String>, StoreError> {
        let from = match field {
            FilterField::Source => "SELECT source AS v FROM item_metrics",
            FilterField::Project => "SELECT project AS v FROM item_metrics",
            FilterField::ItemType => {
                "SELECT item_type AS v FROM item_metrics UNION DISTINCT SELECT standard_type AS v FROM item_metrics"
            }
            FilterField::Assignee => "SELECT assignee AS v FROM item_metrics",
        };
        let sql = format!(
            "SELECT v FROM (SELECT DISTINCT v FROM ({from}) a WHERE v IS NOT NULL) d ORDER BY lower(v), v"
        );
        let rows = self.json_rows(&sql, "reading item_metrics")?;
        Ok(rows.iter().map(|r| text_at(r, 0)).collect())
    }

    fn for_each_item_metrics(
        &self,
        filter: &ItemFilter,
        f: &mut dyn FnMut(ItemMetrics),
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT item_id, created_at, started_at, completed_at,
                    lead_seconds, lead_business_seconds, cycle_seconds, cycle_business_seconds, reopen_count,
                    active_seconds, flow_efficiency, first_response_at, first_response_seconds,
                    status_path, status_changes, current_status, current_category, age_seconds
             FROM item_metrics m WHERE true{}",
            filter_sql(filter)
        );
        self.each_row(&sql, "reading item_metrics", &mut |r| {
            f(ItemMetrics {
                item_id: text_at(&r, 0),
                created_at: ts(r.get(1)).unwrap_or_default(),
                started_at: ts(r.get(2)),
                completed_at: ts(r.get(3)),
                lead_seconds: int_at(&r, 4),
                lead_business_seconds: int_at(&r, 5),
                cycle_seconds: int_at(&r, 6),
                cycle_business_seconds: int_at(&r, 7),
                reopen_count: int_at(&r, 8).unwrap_or(0).try_into().unwrap_or(u32::MAX),
                active_seconds: int_at(&r, 9),
                flow_efficiency: r.get(10).and_then(Value::as_f64),
                first_response_at: ts(r.get(11)),
                first_response_seconds: int_at(&r, 12),
                status_path: text_at(&r, 13),
                status_changes: int_at(&r, 14).unwrap_or(0).try_into().unwrap_or(u32::MAX),
                current_status: text_at(&r, 15),
                current_category: category(&text_at(&r, 16)),
                age_seconds: int_at(&r, 17),
            });
            Ok(())
        })
    }

    fn for_each_interval(
        &self,
        filter: &ItemFilter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut OnInterval<'_>,
    ) -> Result<(), StoreError> {
        let text =
            |t: DateTime<Utc>| quote(&t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string());
        let sql = format!(
            "SELECT i.status, i.category, i.started_at, i.ended_at
             FROM status_intervals i JOIN item_metrics m USING (item_id)
             WHERE i.started_at < toDateTime64({}, 6, 'UTC')
                   AND (i.ended_at IS NULL OR i.ended_at >= toDateTime64({}, 6, 'UTC')){}",
            text(to),
            text(from),
            filter_sql(filter)
        );
        self.each_row(&sql, "reading status_intervals", &mut |r| {
            let start = ts(r.get(2)).unwrap_or_default();
            f(
                &text_at(&r, 0),
                category(&text_at(&r, 1)),
                start,
                ts(r.get(3)),
            );
            Ok(())
        })
    }

    fn for_each_status_time(
        &self,
        filter: &ItemFilter,
        f: &mut OnStatusTime<'_>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT t.status, t.category, t.visits, t.calendar_seconds, t.business_seconds
             FROM item_status_time t JOIN item_metrics m USING (item_id) WHERE true{}",
            filter_sql(filter)
        );
        self.each_row(&sql, "reading item_status_time", &mut |r| {
            f(
                &text_at(&r, 0),
                category(&text_at(&r, 1)),
                int_at(&r, 2).unwrap_or(0),
                int_at(&r, 3).unwrap_or(0),
                int_at(&r, 4).unwrap_or(0),
            );
            Ok(())
        })
    }

    fn guessed_statuses(&self, filter: &ItemFilter) -> Result<Vec<GuessedStatus>, StoreError> {
        let sql = format!(
            "SELECT m.item_id, m.source, m.guessed_statuses FROM item_metrics m
             WHERE m.guessed_statuses IS NOT NULL{}",
            filter_sql(filter)
        );
        let mut tally = GuessedTally::default();
        self.each_row(&sql, "reading item_metrics.guessed_statuses", &mut |r| {
            tally.add(&text_at(&r, 0), &text_at(&r, 1), &text_at(&r, 2))
        })?;
        Ok(tally.finish())
    }

    fn console(&self) -> Option<&dyn SqlConsole> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open::OpenMode;

    #[test]
    fn debug_shows_no_password() {
        let mut o = ClickHouseOptions::new("http://127.0.0.1:8123", "flowlake");
        o.password = Some("s3cret-pw".into());
        let shown = format!("{o:?}");
        assert!(!shown.contains("s3cret-pw"), "{shown}");
        assert!(shown.contains("<set>"), "{shown}");
    }

    #[test]
    fn a_url_with_credentials_or_another_scheme_is_refused_before_any_request() {
        for url in [
            "http://u:pw@127.0.0.1:1",
            "clickhouse://127.0.0.1:9000",
            "tcp://127.0.0.1:1",
        ] {
            let e = ClickHouseStore::open(&ClickHouseOptions::new(url, "db"), OpenMode::ReadOnly)
                .expect_err(url)
                .to_string();
            assert!(!e.contains("pw@"), "{e}");
        }
    }
}
