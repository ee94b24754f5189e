//! The seam between the engine (and the CLI) and a store: what `sync`, `rebuild`, `metrics`, `query` and
//! `export` ask of one, and nothing of how a given database does it.
//!
//! Two stores implement it, [`DuckDbStore`](crate::DuckDbStore) and
//! [`PostgresStore`](crate::PostgresStore):
//!
//! - **PostgreSQL**: [`Store::load`] `COPY … FROM STDIN (FORMAT binary)`s each table of the batch into a
//!   temporary stage, deletes the rows sharing a replace key and inserts the stage, and upserts the cursor into
//!   `sync_state`, all in one transaction: [`Store::keeps_cursors_in_the_load_transaction`] is `true`, as for
//!   DuckDB. Its [`SqlConsole`] runs PostgreSQL's dialect.
//! - **ClickHouse**: no multi-statement transactions, so a page's rows and its cursor cannot commit together.
//!   It answers `false` to [`Store::keeps_cursors_in_the_load_transaction`]; the engine then never hands
//!   [`Store::load`] a cursor and saves it through [`StateBackend::put`] once the load has returned (a
//!   ClickHouse store's `StateBackend` would refuse, or delegate to the configured external back-end). Loads
//!   are idempotent (rows replaced by key), so a page replayed after a crash between the two changes nothing.
//!
//! Every method is object-safe: the engine takes `&mut dyn Store` (writes) or `&dyn Store` (reads), as it
//! takes `&mut dyn Source` and `&mut dyn StateBackend`. A store is made by [`crate::open`] from
//! [`crate::StoreOptions`], the one place that names a kind of store. What a benchmark tunes has a default
//! that does nothing ([`Store::set_bulk`], [`Store::loader`]); DuckDB-only tuning (`set`,
//! `set_memory_limit`, `try_clone`) stays on `DuckDbStore`.

use chrono::{DateTime, Utc};
use flowlake_core::metrics::ItemMetrics;
use std::collections::BTreeMap;

use flowlake_core::{GuessedStatus, RawRecord, StatusCategory};

use crate::batch::LoadBatch;
use crate::console::SqlConsole;
use crate::error::StoreError;
use crate::state::{CursorUpdate, StateBackend};

/// Row filter shared by the metric reads ([`Store::for_each_item_metrics`] and the others): which items a
/// report covers. Every value matches ignoring case; the assignee also matches the login after a person id's
/// `:` (`demo:p01` for `p01`), literally.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemFilter {
    /// Only this source.
    pub source: Option<String>,
    /// Only this project.
    pub project: Option<String>,
    /// Only this tracker type or standard type.
    pub item_type: Option<String>,
    /// Only this assignee (person id or login suffix).
    pub assignee: Option<String>,
}

/// A field [`ItemFilter`] can filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterField {
    /// `item_metrics.source`.
    Source,
    /// `item_metrics.project`.
    Project,
    /// `item_metrics.item_type` or `standard_type`.
    ItemType,
    /// `item_metrics.assignee`.
    Assignee,
}

/// The callback of [`Store::for_each_interval`]: `(status, category, started_at, ended_at)`.
pub type OnInterval<'a> =
    dyn FnMut(&str, StatusCategory, DateTime<Utc>, Option<DateTime<Utc>>) + 'a;

/// The callback of [`Store::for_each_status_time`]: `(status, category, visits, calendar s, business s)`.
pub type OnStatusTime<'a> = dyn FnMut(&str, StatusCategory, i64, i64, i64) + 'a;

/// What every flowlake store does. Its cursors ([`StateBackend`], the `sync_state` table) are the default
/// state back-end, so a store is one.
pub trait Store: StateBackend {
    /// Where the store is, for people (the sync summary's `store …:` line): a file path, or a server and
    /// database without credentials.
    fn describe(&self) -> String;

    // --- Loads -------------------------------------------------------------------------------------------

    /// Whether [`Store::load`] can save a cursor in the transaction of the page's rows, so that rows and
    /// cursor commit together or not at all. The engine consults it for `StateTarget::Store`: when `true`
    /// it passes the cursor to `load`; when `false` (ClickHouse) it loads without one and then calls
    /// [`StateBackend::put`], which leaves a window where a crash replays the page — harmless, since loads
    /// replace by key.
    fn keeps_cursors_in_the_load_transaction(&self) -> bool;

    /// Switches bulk-load mode on or off around a long series of loads (a benchmark, a backfill): a store
    /// may then defer work it does after every commit (DuckDB its checkpoints), and switching it off does
    /// that work once. What a load does and commits is the same either way. By default nothing changes.
    fn set_bulk(&mut self, on: bool) -> Result<(), StoreError> {
        let _ = on;
        Ok(())
    }

    /// Another handle on the same store, for loading batches side by side on other threads (`bench
    /// --loaders`): DuckDB clones its connection, a server store would take another connection. Loads on
    /// two handles must not touch the same rows (their transactions would conflict); batches of disjoint
    /// items do not. `None`, the default, for a store that loads on one handle only: the caller then loads
    /// everything on this one.
    fn loader(&self) -> Result<Option<Box<dyn Store + Send>>, StoreError> {
        Ok(None)
    }

    /// Called once a sync run's last page is loaded and its cursors saved, for work that belongs to the run
    /// rather than to each page: ClickHouse with `optimize_after_sync` merges the tables the run loaded into,
    /// once instead of after every page. By default nothing.
    fn finish_sync(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Loads a batch: for each table, the rows sharing a replace key with the batch are replaced by the
    /// batch's, so a replay leaves the table as it was; moved items are retired and the bad records of the
    /// batch's normalized records cleared. With `cursors` (the page's, one per stream it advances, and the
    /// forgetting of a key the source kept before it had one per stream), they are saved in the same
    /// transaction; a store whose [`Store::keeps_cursors_in_the_load_transaction`] is `false` is never given
    /// any and may refuse them.
    /// Why here: every `sync`, `rebuild` and benchmark page ends in one call of it.
    fn load(
        &mut self,
        batch: &mut LoadBatch,
        cursors: Option<&[CursorUpdate]>,
    ) -> Result<(), StoreError>;

    // --- Raw records, for `rebuild` ----------------------------------------------------------------------

    /// Names of the sources with landed raw records: what a rebuild must find configured before it starts.
    fn raw_sources(&self) -> Result<Vec<String>, StoreError>;

    /// How many raw records `source` has landed (a rebuild's progress bar).
    fn count_raw(&self, source: &str) -> Result<u64, StoreError>;

    /// Up to `limit` raw records of `source` after `(stream, key)`, in `(stream, key)` order (keyset paging,
    /// so a rebuild reads any number of records in bounded memory). Byte order of the strings, as DuckDB and
    /// PostgreSQL's `COLLATE "C"` compare them: the lookup streams (`_statuses`, …) come first.
    fn raw_page(
        &self,
        source: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<RawRecord>, StoreError>;

    // --- Marks of unfinished work ------------------------------------------------------------------------

    /// Marks the store as being rebuilt, committed before the rebuild changes anything: a rebuild loads page
    /// by page, so one cut short leaves items computed with two configs, and the mark says so until
    /// [`Store::end_rebuild`]. Marking again (the rebuild that finishes an interrupted one) keeps the first
    /// time.
    fn begin_rebuild(&mut self) -> Result<(), StoreError>;

    /// Removes the mark of [`Store::begin_rebuild`]: every item is computed with one config again.
    fn end_rebuild(&mut self) -> Result<(), StoreError>;

    /// When the rebuild that has not finished began, if one has not: every command warns about it.
    fn unfinished_rebuild(&self) -> Result<Option<DateTime<Utc>>, StoreError>;

    // --- Report reads (`flowlake metrics`, the warnings after a sync) ------------------------------------
    //
    // Rows are streamed to a callback rather than collected, so a report over millions of items holds only
    // its aggregates; the callbacks are `&mut dyn FnMut` to keep the trait object-safe.

    /// Rows in `table` (a name of `schema::DATA_TABLES` or `sync_state`), for the sync summary.
    fn count(&self, table: &str) -> Result<i64, StoreError>;

    /// How many items match `filter`: what a report says when nothing matched.
    fn count_items(&self, filter: &ItemFilter) -> Result<u64, StoreError>;

    /// The distinct stored values of `field` (both type columns for [`FilterField::ItemType`]), sorted
    /// ignoring case: the values a filter that matched nothing could have named.
    fn filter_values(&self, field: FilterField) -> Result<Vec<String>, StoreError>;

    /// Streams the `item_metrics` rows matching `filter`.
    fn for_each_item_metrics(
        &self,
        filter: &ItemFilter,
        f: &mut dyn FnMut(ItemMetrics),
    ) -> Result<(), StoreError>;

    /// Streams the status intervals of matching items that overlap `[from, to)`:
    /// `(status, category, started_at, ended_at)` (WIP and cumulative flow).
    fn for_each_interval(
        &self,
        filter: &ItemFilter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut OnInterval<'_>,
    ) -> Result<(), StoreError>;

    /// Streams time in status of matching items: `(status, category, visits, calendar s, business s)`.
    fn for_each_status_time(
        &self,
        filter: &ItemFilter,
        f: &mut OnStatusTime<'_>,
    ) -> Result<(), StoreError>;

    /// The statuses whose category was guessed on the stays of matching items, per source with the number
    /// of items, most items first: `sync` and `rebuild` warn about each once, `metrics` lists them.
    fn guessed_statuses(&self, filter: &ItemFilter) -> Result<Vec<GuessedStatus>, StoreError>;

    // --- SQL ---------------------------------------------------------------------------------------------

    /// The store's SQL console (`flowlake query`, `flowlake export`), if it has one; `None` for a store
    /// without SQL. The dialect is the store's own.
    fn console(&self) -> Option<&dyn SqlConsole>;
}

/// [`Store::guessed_statuses`] from `item_metrics` rows, whatever the store: per source and status, the
/// category guessed and how many items stayed in it.
#[derive(Default)]
pub(crate) struct GuessedTally {
    per_status: BTreeMap<(String, String), (StatusCategory, u64)>,
}

impl GuessedTally {
    /// One item's `guessed_statuses` (a JSON object `{status: category}`); one that is not JSON is an error
    /// naming the item.
    pub(crate) fn add(&mut self, item: &str, source: &str, json: &str) -> Result<(), StoreError> {
        let object: BTreeMap<String, String> =
            serde_json::from_str(json).map_err(|e| StoreError::Batch {
                table: "item_metrics".into(),
                message: format!("{item}: guessed_statuses is not a JSON object of names: {e}"),
            })?;
        for (status, category) in object {
            self.per_status
                .entry((source.to_string(), status))
                .or_insert((category.parse().unwrap_or(StatusCategory::InProgress), 0))
                .1 += 1;
        }
        Ok(())
    }

    /// The statuses, most items first.
    pub(crate) fn finish(self) -> Vec<GuessedStatus> {
        let mut out: Vec<GuessedStatus> = self
            .per_status
            .into_iter()
            .map(|((source, status), (category, items))| {
                GuessedStatus::new(&source, &status, category, items)
            })
            .collect();
        out.sort_by_key(|g| std::cmp::Reverse(g.items));
        out
    }
}
