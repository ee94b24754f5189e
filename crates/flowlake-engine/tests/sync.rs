//! Sync end to end against real DuckDB files: incremental runs, idempotent replays, a crash and its resume,
//! and rebuilds from the raw landing table.

use std::sync::Arc;

use flowlake_connect::http::{LogObserver, Tape};
use std::path::Path;

use chrono::NaiveDate;
use flowlake_connect::generator::GeneratorConfig;
use flowlake_core::StatusCategory;
use flowlake_engine::config::SourceConfig;
use flowlake_engine::sync::{
    build_source, rebuild, sync_source, EngineError, StateTarget, SyncOptions, SyncReport,
};
use flowlake_engine::{FlowSettings, NoProgress};
use flowlake_store::duckdb_store::OpenMode;
use flowlake_store::schema::DATA_TABLES;
use flowlake_store::{DuckDbStore, JsonFileState, StateBackend, StateKey};

fn generator() -> SourceConfig {
    SourceConfig::Generator(GeneratorConfig {
        issues: 450,
        page_size: 100,
        until: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        ..GeneratorConfig::default()
    })
}

fn run(
    store: &mut DuckDbStore,
    cfg: &SourceConfig,
    options: SyncOptions,
) -> Result<SyncReport, EngineError> {
    let mut source = build_source(cfg, &Tape::Off, Arc::new(LogObserver)).unwrap();
    sync_source(
        source.as_mut(),
        store,
        &mut StateTarget::Store,
        &FlowSettings::default(),
        cfg.now(chrono::Utc::now()),
        &NoProgress,
        options,
    )
}

/// Every data table, every row, as sorted text: equal snapshots mean equal tables.
fn snapshot(store: &DuckDbStore) -> Vec<(String, Vec<Vec<Option<String>>>)> {
    DATA_TABLES
        .iter()
        .map(|t| {
            let rows = store
                .query(&format!("SELECT * FROM {} ORDER BY ALL", t.name))
                .unwrap()
                .rows_as_text()
                .unwrap();
            (t.name.to_string(), rows)
        })
        .collect()
}

fn open(path: &Path) -> DuckDbStore {
    DuckDbStore::open(path, OpenMode::ReadWrite).unwrap()
}

#[test]
fn a_second_sync_reads_nothing_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("a.duckdb"));
    let first = run(&mut store, &generator(), SyncOptions::default()).unwrap();
    assert_eq!((first.pages, first.items), (5, 450));
    let before = snapshot(&store);
    let second = run(&mut store, &generator(), SyncOptions::default()).unwrap();
    assert_eq!((second.pages, second.records), (0, 0));
    assert_eq!(snapshot(&store), before);
}

#[test]
fn a_full_refresh_run_twice_yields_identical_tables() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("a.duckdb"));
    let full = SyncOptions {
        full_refresh: true,
        ..SyncOptions::default()
    };
    run(&mut store, &generator(), full).unwrap();
    let once = snapshot(&store);
    let again = run(&mut store, &generator(), full).unwrap();
    assert_eq!(again.pages, 5);
    assert_eq!(snapshot(&store), once);
}

#[test]
fn a_sync_killed_after_two_pages_resumes_without_gaps_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let mut reference = open(&dir.path().join("reference.duckdb"));
    run(&mut reference, &generator(), SyncOptions::default()).unwrap();

    let mut store = open(&dir.path().join("crashed.duckdb"));
    let crash = SyncOptions {
        fail_after_pages: Some(2),
        ..SyncOptions::default()
    };
    let err = run(&mut store, &generator(), crash).unwrap_err();
    assert!(matches!(err, EngineError::Injected(2)));
    assert_eq!(
        store
            .get(&StateKey::new("demo", "issues"))
            .unwrap()
            .as_deref(),
        Some("200")
    );
    assert_eq!(store.count("work_items").unwrap(), 200);

    let resumed = run(&mut store, &generator(), SyncOptions::default()).unwrap();
    assert_eq!(resumed.pages, 3, "the second run reads only the pages left");
    assert_eq!(snapshot(&store), snapshot(&reference));
}

#[test]
fn a_file_state_backend_resumes_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("a.duckdb"));
    let mut state = JsonFileState::new(dir.path().join("state.json"));
    let cfg = generator();
    let go = |store: &mut DuckDbStore, state: &mut JsonFileState, options| {
        let mut source = build_source(&cfg, &Tape::Off, Arc::new(LogObserver)).unwrap();
        sync_source(
            source.as_mut(),
            store,
            &mut StateTarget::External(state),
            &FlowSettings::default(),
            cfg.now(chrono::Utc::now()),
            &NoProgress,
            options,
        )
    };
    assert!(go(
        &mut store,
        &mut state,
        SyncOptions {
            fail_after_pages: Some(1),
            ..SyncOptions::default()
        }
    )
    .is_err());
    assert_eq!(
        state
            .get(&StateKey::new("demo", "issues"))
            .unwrap()
            .as_deref(),
        Some("100")
    );
    let resumed = go(&mut store, &mut state, SyncOptions::default()).unwrap();
    assert_eq!(resumed.pages, 4);
    assert_eq!(store.count("work_items").unwrap(), 450);
    assert_eq!(store.count("raw_records").unwrap(), 450);
}

#[test]
fn a_bad_record_is_a_normalization_error_naming_it() {
    let cfg = generator();
    let source = build_source(&cfg, &Tape::Off, Arc::new(LogObserver)).unwrap();
    let mut raw = {
        let mut s = build_source(&cfg, &Tape::Off, Arc::new(LogObserver)).unwrap();
        s.next_page(None).unwrap().unwrap().records.remove(0)
    };
    raw.payload["created"] = serde_json::json!("yesterday");
    let err = source.normalize(&raw).unwrap_err().to_string();
    assert!(err.contains(&raw.key), "{err}");
}

#[test]
fn rebuild_applies_a_new_status_mapping_from_raw_records_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("a.duckdb"));
    let cfg = generator();
    run(&mut store, &cfg, SyncOptions::default()).unwrap();
    let review_category = |store: &DuckDbStore| {
        store
            .query("SELECT DISTINCT category FROM item_status_time WHERE status = 'Review'")
            .unwrap()
            .rows_as_text()
            .unwrap()
    };
    assert_eq!(
        review_category(&store),
        vec![vec![Some("in_progress".to_string())]]
    );

    // Review becomes a waiting (todo) state: cycle times and categories change, sources are not called.
    let settings = FlowSettings {
        statuses: flowlake_core::StatusMap::new([("Review", StatusCategory::Todo)], None),
        ..FlowSettings::default()
    };
    let report = rebuild(
        &mut store,
        &[cfg],
        &settings,
        chrono::Utc::now(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(report.records, 450);
    assert_eq!(
        review_category(&store),
        vec![vec![Some("todo".to_string())]]
    );
    assert_eq!(store.count("work_items").unwrap(), 450);
}

#[test]
fn rebuild_refuses_raw_records_of_an_unconfigured_source() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("a.duckdb"));
    run(&mut store, &generator(), SyncOptions::default()).unwrap();
    let err = rebuild(
        &mut store,
        &[],
        &FlowSettings::default(),
        chrono::Utc::now(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("`demo`"), "{err}");
}
