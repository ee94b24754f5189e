//! The engine talks to a `dyn Store`: a store that cannot commit a cursor with its rows (as ClickHouse, which
//! has no multi-statement transactions) is never handed one by `load`, and gets it through `put` once the
//! page is loaded; the data and cursor come out as with DuckDB's one transaction.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use flowlake_connect::generator::GeneratorConfig;
use flowlake_connect::http::{LogObserver, Tape};
use flowlake_core::metrics::ItemMetrics;
use flowlake_core::{GuessedStatus, RawRecord};
use flowlake_engine::config::SourceConfig;
use flowlake_engine::sync::{build_source, sync_source, StateTarget, SyncOptions};
use flowlake_engine::{FlowSettings, NoProgress};
use flowlake_store::{
    CursorUpdate, DuckDbStore, FilterField, ItemFilter, LoadBatch, OnInterval, OnStatusTime,
    SqlConsole, StateBackend, StateKey, Store, StoreError,
};

/// An in-memory DuckDB store that says it cannot save a cursor in a load's transaction, and records the
/// order of the calls that carry cursors.
struct NoCursorInLoad {
    inner: DuckDbStore,
    calls: Vec<String>,
}

impl StateBackend for NoCursorInLoad {
    fn get(&mut self, key: &StateKey) -> Result<Option<String>, StoreError> {
        self.inner.get(key)
    }
    fn put(&mut self, key: &StateKey, cursor: &str) -> Result<(), StoreError> {
        self.calls.push(format!("put {key} {cursor}"));
        self.inner.put(key, cursor)
    }
    fn clear(&mut self, key: &StateKey) -> Result<(), StoreError> {
        self.inner.clear(key)
    }
    fn list(&mut self) -> Result<Vec<(StateKey, String)>, StoreError> {
        self.inner.list()
    }
}

impl Store for NoCursorInLoad {
    fn describe(&self) -> String {
        "a store without transactions".into()
    }
    fn keeps_cursors_in_the_load_transaction(&self) -> bool {
        false
    }
    fn load(
        &mut self,
        batch: &mut LoadBatch,
        cursors: Option<&[CursorUpdate]>,
    ) -> Result<(), StoreError> {
        self.calls.push(match cursors {
            Some(c) => format!("load with {c:?}"),
            None => "load".into(),
        });
        self.inner.load(batch, cursors)
    }
    fn raw_sources(&self) -> Result<Vec<String>, StoreError> {
        self.inner.raw_sources()
    }
    fn count_raw(&self, source: &str) -> Result<u64, StoreError> {
        self.inner.count_raw(source)
    }
    fn raw_page(
        &self,
        source: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<RawRecord>, StoreError> {
        self.inner.raw_page(source, after, limit)
    }
    fn begin_rebuild(&mut self) -> Result<(), StoreError> {
        self.inner.begin_rebuild()
    }
    fn end_rebuild(&mut self) -> Result<(), StoreError> {
        self.inner.end_rebuild()
    }
    fn unfinished_rebuild(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.inner.unfinished_rebuild()
    }
    fn count(&self, table: &str) -> Result<i64, StoreError> {
        self.inner.count(table)
    }
    fn count_items(&self, filter: &ItemFilter) -> Result<u64, StoreError> {
        self.inner.count_items(filter)
    }
    fn filter_values(&self, field: FilterField) -> Result<Vec<String>, StoreError> {
        self.inner.filter_values(field)
    }
    fn for_each_item_metrics(
        &self,
        filter: &ItemFilter,
        f: &mut dyn FnMut(ItemMetrics),
    ) -> Result<(), StoreError> {
        self.inner.for_each_item_metrics(filter, f)
    }
    fn for_each_interval(
        &self,
        filter: &ItemFilter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut OnInterval<'_>,
    ) -> Result<(), StoreError> {
        self.inner.for_each_interval(filter, from, to, f)
    }
    fn for_each_status_time(
        &self,
        filter: &ItemFilter,
        f: &mut OnStatusTime<'_>,
    ) -> Result<(), StoreError> {
        self.inner.for_each_status_time(filter, f)
    }
    fn guessed_statuses(&self, filter: &ItemFilter) -> Result<Vec<GuessedStatus>, StoreError> {
        self.inner.guessed_statuses(filter)
    }
    fn console(&self) -> Option<&dyn SqlConsole> {
        None
    }
}

fn generator() -> SourceConfig {
    SourceConfig::Generator(GeneratorConfig {
        issues: 250,
        page_size: 100,
        until: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        ..GeneratorConfig::default()
    })
}

fn sync(store: &mut dyn Store) {
    let cfg = generator();
    let mut source = build_source(&cfg, &Tape::Off, Arc::new(LogObserver)).unwrap();
    sync_source(
        source.as_mut(),
        store,
        &mut StateTarget::Store,
        &FlowSettings::default(),
        cfg.now(Utc::now()),
        &NoProgress,
        SyncOptions::default(),
    )
    .unwrap();
}

#[test]
fn a_store_without_cursors_in_its_load_transaction_gets_each_cursor_after_its_page() {
    let mut store = NoCursorInLoad {
        inner: DuckDbStore::open_in_memory().unwrap(),
        calls: Vec::new(),
    };
    sync(&mut store);
    assert!(
        store.calls.iter().all(|c| !c.starts_with("load with")),
        "{:?}",
        store.calls
    );
    // Three pages of 100, 100 and 50 issues: each loaded, then its cursor saved.
    let shape: Vec<&str> = store
        .calls
        .iter()
        .map(|c| c.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(shape, ["load", "put", "load", "put", "load", "put"]);

    // The same data and cursor as a store that commits them together.
    let mut duckdb = DuckDbStore::open_in_memory().unwrap();
    sync(&mut duckdb);
    assert_eq!(store.inner.list().unwrap(), duckdb.list().unwrap());
    for table in [
        "work_items",
        "status_changes",
        "item_metrics",
        "raw_records",
    ] {
        assert_eq!(
            Store::count(&store, table).unwrap(),
            duckdb.count(table).unwrap(),
            "{table}"
        );
    }
    assert!(Store::count(&store, "work_items").unwrap() == 250);
}
