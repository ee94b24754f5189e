//! The PostgreSQL store (`[store] kind = "postgres"`): the same tables as the DuckDB file, in a schema of a
//! PostgreSQL database, for teams whose BI already reads PostgreSQL or whose history outgrows one machine.
//!
//! Here: the store, its options and the report and raw reads; `connect` connects (TLS from `tls`) and
//! migrates, [`ddl`] renders the schema description to PostgreSQL's dialect, `load` loads with binary
//! `COPY`, `state` keeps the cursors in `sync_state`, `console` runs `flowlake query` and `export`.

mod connect;
mod console;
pub mod ddl;
mod load;
mod state;
mod tls;

use std::cell::RefCell;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDateTime, Utc};
use flowlake_core::metrics::ItemMetrics;
use flowlake_core::{GuessedStatus, RawRecord, StatusCategory};
use postgres::types::ToSql;
use postgres::Client;

use crate::batch::LoadBatch;
use crate::console::SqlConsole;
use crate::error::StoreError;
use crate::open::OpenMode;
use crate::state::CursorUpdate;
use crate::store::{FilterField, GuessedTally, ItemFilter, OnInterval, OnStatusTime, Store};

/// The `store_marks` row of a rebuild under way.
const REBUILD_MARK: &str = "rebuild";

/// Where a PostgreSQL store is. Its `Debug` shows no password.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// `postgres://user[:password]@host:port/database[?sslmode=…]`, or libpq's `key=value` form.
    pub url: String,
    /// The schema holding flowlake's tables; created when missing (read-write).
    pub schema: String,
    /// The password, when not in the URL (from `FLOWLAKE_STORE__PASSWORD` or a file).
    pub password: Option<String>,
    /// CA certificates (PEM) the server's certificate must chain to; the system's roots without it.
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("url", &flowlake_core::redact_url(&self.url))
            .field("schema", &self.schema)
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// A schema of a PostgreSQL database holding every flowlake table.
pub struct PostgresStore {
    /// One connection: the trait's reads take `&self`, and the client needs `&mut` to query.
    client: RefCell<Client>,
    /// `postgres://user@host:port/database (schema s)`, without the password.
    describe: String,
    /// What it was opened with, for [`Store::loader`]'s second connection.
    options: PostgresOptions,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("at", &self.describe)
            .finish_non_exhaustive()
    }
}

fn ts(t: Option<NaiveDateTime>) -> Option<DateTime<Utc>> {
    t.map(|t| t.and_utc())
}

fn category(s: &str) -> StatusCategory {
    s.parse().unwrap_or(StatusCategory::InProgress)
}

/// An [`ItemFilter`] in PostgreSQL's SQL: `AND …` conditions over `item_metrics` aliased `m`, with
/// parameters numbered from `first`.
fn filter_sql(filter: &ItemFilter, first: usize) -> (String, Vec<String>) {
    let mut sql = String::new();
    let mut params: Vec<String> = Vec::new();
    let next = |value: &str, params: &mut Vec<String>| {
        params.push(value.to_string());
        format!("${}", first + params.len() - 1)
    };
    if let Some(s) = &filter.source {
        let p = next(s, &mut params);
        sql.push_str(&format!(" AND lower(m.source) = lower({p})"));
    }
    if let Some(p) = &filter.project {
        let p = next(p, &mut params);
        sql.push_str(&format!(" AND lower(m.project) = lower({p})"));
    }
    if let Some(t) = &filter.item_type {
        let p = next(t, &mut params);
        sql.push_str(&format!(
            " AND (lower(m.item_type) = lower({p}) OR lower(m.standard_type) = lower({p}))"
        ));
    }
    if let Some(a) = &filter.assignee {
        let p = next(a, &mut params);
        // The login after a person id's `:`, literally (no LIKE: a `%` in it is no wildcard).
        sql.push_str(&format!(
            " AND (lower(m.assignee) = lower({p}) OR right(lower(m.assignee), length({p}) + 1) = ':' || lower({p}))"
        ));
    }
    (sql, params)
}

/// Parameters as the client takes them.
fn params(values: &[String]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl PostgresStore {
    /// Runs `sql` with `values` and hands each row to `f`, streaming (a report over millions of items holds
    /// one row at a time).
    fn each_row(
        &self,
        context: &str,
        sql: &str,
        values: &[String],
        mut f: impl FnMut(&postgres::Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut client = self.client.borrow_mut();
        let rows = client
            .query_raw(sql, params(values))
            .map_err(StoreError::pg(context))?;
        use postgres::fallible_iterator::FallibleIterator;
        let mut rows = rows;
        while let Some(row) = rows.next().map_err(StoreError::pg(context))? {
            f(&row)?;
        }
        Ok(())
    }
}

impl PostgresStore {
    /// `e`, said with the store's name and what it means when the connection is gone (the server stopped,
    /// the network failed): the page's transaction did not commit, so nothing is half-loaded.
    fn when_lost(&self, e: StoreError) -> StoreError {
        if !self.client.borrow().is_closed() {
            return e;
        }
        StoreError::Sql {
            context: format!("store {}", self.describe),
            message: format!(
                "{e}: the connection to the server was lost; this page was not committed, and the next sync \
                 resumes after the last page that was"
            ),
        }
    }
}

/// A column of a row, or the store error naming what was read.
fn get<'a, T: postgres::types::FromSql<'a>>(
    row: &'a postgres::Row,
    i: usize,
    context: &str,
) -> Result<T, StoreError> {
    row.try_get(i).map_err(StoreError::pg(context))
}

impl Store for PostgresStore {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    /// Rows, moves and cursor commit in one PostgreSQL transaction.
    fn keeps_cursors_in_the_load_transaction(&self) -> bool {
        true
    }

    /// Another connection to the same schema (`bench --loaders`): PostgreSQL runs their transactions side by
    /// side, each in a backend of its own.
    fn loader(&self) -> Result<Option<Box<dyn Store + Send>>, StoreError> {
        Ok(Some(Box::new(PostgresStore::open(
            &self.options,
            OpenMode::ReadWrite,
        )?)))
    }

    fn load(
        &mut self,
        batch: &mut LoadBatch,
        cursors: Option<&[CursorUpdate]>,
    ) -> Result<(), StoreError> {
        self.load_in_one_transaction(batch, cursors)
            .map_err(|e| self.when_lost(e))
    }

    fn raw_sources(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let context = "listing raw sources";
        self.each_row(
            context,
            "SELECT DISTINCT source FROM raw_records ORDER BY 1",
            &[],
            |r| {
                out.push(get(r, 0, context)?);
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn count_raw(&self, source: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .client
            .borrow_mut()
            .query_one(
                "SELECT count(*) FROM raw_records WHERE source = $1",
                &[&source],
            )
            .map_err(StoreError::pg(format!("counting raw records of {source}")))?
            .get(0);
        Ok(n.unsigned_abs())
    }

    fn raw_page(
        &self,
        source: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<RawRecord>, StoreError> {
        let (stream, key) = after.unwrap_or(("", ""));
        let context = format!("reading raw records of {source}");
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT stream, key, updated_at, fetched_at, payload FROM raw_records
                 WHERE source = $1 AND (stream, key) > ($2, $3) ORDER BY stream, key LIMIT $4",
                &[&source, &stream, &key, &(limit as i64)],
            )
            .map_err(StoreError::pg(context.clone()))?;
        rows.iter()
            .map(|r| {
                let stream: String = get(r, 0, &context)?;
                let key: String = get(r, 1, &context)?;
                let payload: String = get(r, 4, &context)?;
                let payload = serde_json::from_str(&payload).map_err(|e| StoreError::Batch {
                    table: "raw_records".into(),
                    message: format!("{source}/{stream}/{key}: payload is not JSON: {e}"),
                })?;
                Ok(RawRecord {
                    source: source.to_string(),
                    updated_at: ts(get(r, 2, &context)?),
                    fetched_at: ts(get(r, 3, &context)?).unwrap_or_default(),
                    stream,
                    key,
                    payload,
                })
            })
            .collect()
    }

    fn begin_rebuild(&mut self) -> Result<(), StoreError> {
        self.client
            .get_mut()
            .execute(
                "INSERT INTO store_marks VALUES ($1, now() AT TIME ZONE 'UTC') ON CONFLICT DO NOTHING",
                &[&REBUILD_MARK],
            )
            .map(|_| ())
            .map_err(StoreError::pg("marking the store as being rebuilt"))
    }

    fn end_rebuild(&mut self) -> Result<(), StoreError> {
        self.client
            .get_mut()
            .execute("DELETE FROM store_marks WHERE mark = $1", &[&REBUILD_MARK])
            .map(|_| ())
            .map_err(StoreError::pg("unmarking the finished rebuild"))
    }

    fn unfinished_rebuild(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = self
            .client
            .borrow_mut()
            .query_opt(
                "SELECT since FROM store_marks WHERE mark = $1",
                &[&REBUILD_MARK],
            )
            .map_err(StoreError::pg("reading store_marks"))?;
        Ok(row.and_then(|r| ts(r.get(0))))
    }

    fn count(&self, table: &str) -> Result<i64, StoreError> {
        Ok(self
            .client
            .borrow_mut()
            .query_one(
                &format!("SELECT count(*) FROM \"{}\"", table.replace('"', "")),
                &[],
            )
            .map_err(StoreError::pg(format!("counting {table}")))?
            .get(0))
    }

    fn count_items(&self, filter: &ItemFilter) -> Result<u64, StoreError> {
        let (cond, p) = filter_sql(filter, 1);
        let n: i64 = self
            .client
            .borrow_mut()
            .query_one(
                &format!("SELECT count(*) FROM item_metrics m WHERE true{cond}"),
                &params(&p),
            )
            .map_err(StoreError::pg("counting item_metrics"))?
            .get(0);
        Ok(n.unsigned_abs())
    }

    fn filter_values(&self, field: FilterField) -> Result<Vec<String>, StoreError> {
        let from = match field {
            FilterField::Source => "SELECT source AS v FROM item_metrics",
            FilterField::Project => "SELECT project AS v FROM item_metrics",
            FilterField::ItemType => {
                "SELECT item_type AS v FROM item_metrics UNION SELECT standard_type FROM item_metrics"
            }
            FilterField::Assignee => "SELECT assignee AS v FROM item_metrics",
        };
        let sql = format!(
            "SELECT v FROM (SELECT DISTINCT v FROM ({from}) a WHERE v IS NOT NULL) d ORDER BY lower(v), v"
        );
        let context = "reading item_metrics";
        let mut out = Vec::new();
        self.each_row(context, &sql, &[], |r| {
            out.push(get(r, 0, context)?);
            Ok(())
        })?;
        Ok(out)
    }

    fn for_each_item_metrics(
        &self,
        filter: &ItemFilter,
        f: &mut dyn FnMut(ItemMetrics),
    ) -> Result<(), StoreError> {
        let (cond, p) = filter_sql(filter, 1);
        let sql = format!(
            "SELECT item_id, created_at, started_at, completed_at,
                    lead_seconds, lead_business_seconds, cycle_seconds, cycle_business_seconds, reopen_count,
                    active_seconds, flow_efficiency, first_response_at, first_response_seconds,
                    status_path, status_changes, current_status, current_category, age_seconds
             FROM item_metrics m WHERE true{cond}"
        );
        let c = "reading item_metrics";
        self.each_row(c, &sql, &p, |r| {
            let cat: String = get(r, 16, c)?;
            f(ItemMetrics {
                item_id: get(r, 0, c)?,
                created_at: ts(get(r, 1, c)?).unwrap_or_default(),
                started_at: ts(get(r, 2, c)?),
                completed_at: ts(get(r, 3, c)?),
                lead_seconds: get(r, 4, c)?,
                lead_business_seconds: get(r, 5, c)?,
                cycle_seconds: get(r, 6, c)?,
                cycle_business_seconds: get(r, 7, c)?,
                reopen_count: get::<i64>(r, 8, c)?.try_into().unwrap_or(u32::MAX),
                active_seconds: get(r, 9, c)?,
                flow_efficiency: get(r, 10, c)?,
                first_response_at: ts(get(r, 11, c)?),
                first_response_seconds: get(r, 12, c)?,
                status_path: get(r, 13, c)?,
                status_changes: get::<i64>(r, 14, c)?.try_into().unwrap_or(u32::MAX),
                current_status: get(r, 15, c)?,
                current_category: category(&cat),
                age_seconds: get(r, 17, c)?,
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
        let (cond, mut p) = filter_sql(filter, 3);
        let sql = format!(
            "SELECT i.status, i.category, i.started_at, i.ended_at
             FROM status_intervals i JOIN item_metrics m USING (item_id)
             WHERE i.started_at < $1::TEXT::TIMESTAMP
                   AND (i.ended_at IS NULL OR i.ended_at >= $2::TEXT::TIMESTAMP){cond}"
        );
        let text = |t: DateTime<Utc>| t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        p.insert(0, text(from));
        p.insert(0, text(to));
        let c = "reading status_intervals";
        self.each_row(c, &sql, &p, |r| {
            let status: String = get(r, 0, c)?;
            let cat: String = get(r, 1, c)?;
            let start = ts(get(r, 2, c)?).unwrap_or_default();
            f(&status, category(&cat), start, ts(get(r, 3, c)?));
            Ok(())
        })
    }

    fn for_each_status_time(
        &self,
        filter: &ItemFilter,
        f: &mut OnStatusTime<'_>,
    ) -> Result<(), StoreError> {
        let (cond, p) = filter_sql(filter, 1);
        let sql = format!(
            "SELECT t.status, t.category, t.visits, t.calendar_seconds, t.business_seconds
             FROM item_status_time t JOIN item_metrics m USING (item_id) WHERE true{cond}"
        );
        let c = "reading item_status_time";
        self.each_row(c, &sql, &p, |r| {
            let status: String = get(r, 0, c)?;
            let cat: String = get(r, 1, c)?;
            f(
                &status,
                category(&cat),
                get(r, 2, c)?,
                get(r, 3, c)?,
                get(r, 4, c)?,
            );
            Ok(())
        })
    }

    fn guessed_statuses(&self, filter: &ItemFilter) -> Result<Vec<GuessedStatus>, StoreError> {
        let (cond, p) = filter_sql(filter, 1);
        let sql = format!(
            "SELECT m.item_id, m.source, m.guessed_statuses FROM item_metrics m
             WHERE m.guessed_statuses IS NOT NULL{cond}"
        );
        let c = "reading item_metrics.guessed_statuses";
        let mut tally = GuessedTally::default();
        self.each_row(c, &sql, &p, |r| {
            tally.add(
                &get::<String>(r, 0, c)?,
                &get::<String>(r, 1, c)?,
                &get::<String>(r, 2, c)?,
            )
        })?;
        Ok(tally.finish())
    }

    fn console(&self) -> Option<&dyn SqlConsole> {
        Some(self)
    }
}
