//! Sync end to end against real DuckDB files: incremental runs, idempotent replays, a crash and its resume,
//! and rebuilds from the raw landing table.

use std::sync::Arc;

use flowlake_connect::http::{LogObserver, Tape};
use flowlake_connect::{Checked, Source, SourceError, StreamCursors};
use std::path::Path;

use chrono::NaiveDate;
use flowlake_connect::generator::GeneratorConfig;
use flowlake_core::StatusCategory;
use flowlake_engine::config::SourceConfig;
use flowlake_engine::sync::{
    build_source, rebuild, rebuild_source, sync_source, EngineError, StateTarget, SyncOptions,
    SyncReport,
};
use flowlake_engine::{FlowSettings, NoProgress};
use flowlake_store::duckdb_store::OpenMode;
use flowlake_store::schema::DATA_TABLES;
use flowlake_store::{DuckDbStore, JsonFileState, SqlConsole, StateBackend, StateKey, Store};

fn generator() -> SourceConfig {
    SourceConfig::Generator(GeneratorConfig {
        issues: 450,
        page_size: 100,
        until: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        ..GeneratorConfig::default()
    })
}

fn run(
    store: &mut dyn Store,
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
fn snapshot(store: &dyn SqlConsole) -> Vec<(String, Vec<Vec<Option<String>>>)> {
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
    run(&mut store, &generator(), full.clone()).unwrap();
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
    let go = |store: &mut dyn Store, state: &mut JsonFileState, options| {
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
        s.next_page(&StreamCursors::new())
            .unwrap()
            .unwrap()
            .records
            .remove(0)
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
    let review_category = |store: &dyn SqlConsole| {
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

/// The generator with a normalizer that fails on one record (`reject`): with a `BadRecord` (a payload it
/// cannot read) or, with `hard`, another error. `reject: None` is the fixed normalizer that reads every record.
fn picky(reject: Option<&str>, hard: bool) -> Checked {
    let inner = build_source(&generator(), &Tape::Off, Arc::new(LogObserver)).unwrap();
    let reject = reject.map(str::to_string);
    Checked::new(inner, move |inner, raw| {
        if reject.as_deref() != Some(raw.key.as_str()) {
            return inner.normalize(raw);
        }
        Err(match hard {
            true => SourceError::Api("the normalizer lost its lookup table".into()),
            false => SourceError::BadRecord {
                source_name: raw.source.clone(),
                stream: raw.stream.clone(),
                key: raw.key.clone(),
                message: "created: `yesterday` is not a date".into(),
            },
        })
    })
}

fn sync_with(store: &mut dyn Store, source: &mut dyn Source) -> Result<SyncReport, EngineError> {
    sync_source(
        source,
        store,
        &mut StateTarget::Store,
        &FlowSettings::default(),
        generator().now(chrono::Utc::now()),
        &NoProgress,
        SyncOptions::default(),
    )
}

fn rebuild_with(store: &mut dyn Store, source: &mut dyn Source) -> u64 {
    rebuild_source(
        store,
        source,
        &FlowSettings::default(),
        generator().now(chrono::Utc::now()),
        &NoProgress,
    )
    .unwrap()
    .bad_records
}

fn text(store: &dyn SqlConsole, sql: &str) -> Vec<Vec<Option<String>>> {
    store.query(sql).unwrap().rows_as_text().unwrap()
}

/// The key of the 150th record: in the second of five pages.
fn second_page_key() -> String {
    let mut s = build_source(&generator(), &Tape::Off, Arc::new(LogObserver)).unwrap();
    s.next_page(&StreamCursors::one("issues", "100"))
        .unwrap()
        .unwrap()
        .records[49]
        .key
        .clone()
}

#[test]
fn a_record_that_cannot_be_normalized_is_kept_and_the_page_and_the_run_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("a.duckdb"));
    let key = second_page_key();
    let report = sync_with(&mut store, &mut picky(Some(&key), false)).unwrap();
    assert_eq!(
        (
            report.pages,
            report.records,
            report.items,
            report.bad_records
        ),
        (5, 450, 449, 1),
        "every page committed; only the bad record is missing from the rows"
    );
    assert_eq!(report.cursor.as_deref(), Some("450"));
    assert_eq!(
        store
            .get(&StateKey::new("demo", "issues"))
            .unwrap()
            .as_deref(),
        Some("450"),
        "the cursor moved past the bad record's page"
    );
    assert_eq!(
        store.count("raw_records").unwrap(),
        450,
        "landed raw all the same"
    );
    assert_eq!(
        text(
            &store,
            &format!("SELECT count(*) FROM work_items WHERE key = '{key}'")
        ),
        [[Some("0".to_string())]]
    );
    assert_eq!(
        text(
            &store,
            "SELECT source, stream, key, error, first_seen = last_seen FROM bad_records"
        ),
        [[
            Some("demo".to_string()),
            Some("issues".to_string()),
            Some(key.clone()),
            Some("created: `yesterday` is not a date".to_string()),
            Some("true".to_string())
        ]]
    );
    let first_seen = text(&store, "SELECT first_seen FROM bad_records");

    // A rebuild with the same normalizer fails it again: the row stays, first seen when it first failed.
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(rebuild_with(&mut store, &mut picky(Some(&key), false)), 1);
    assert_eq!(
        text(&store, "SELECT first_seen FROM bad_records"),
        first_seen
    );
    assert_eq!(
        text(&store, "SELECT last_seen > first_seen FROM bad_records"),
        [[Some("true".to_string())]]
    );

    // Once the normalizer reads it (a new binary or config), a rebuild loads it and clears its row.
    assert_eq!(rebuild_with(&mut store, &mut picky(None, false)), 0);
    assert_eq!(store.count("bad_records").unwrap(), 0);
    assert_eq!(store.count("work_items").unwrap(), 450);
}

#[test]
fn a_record_that_normalizes_on_a_later_sync_leaves_bad_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("a.duckdb"));
    let key = second_page_key();
    sync_with(&mut store, &mut picky(Some(&key), false)).unwrap();
    let full = SyncOptions {
        full_refresh: true,
        ..SyncOptions::default()
    };
    let report = sync_source(
        &mut picky(None, false),
        &mut store,
        &mut StateTarget::Store,
        &FlowSettings::default(),
        generator().now(chrono::Utc::now()),
        &NoProgress,
        full,
    )
    .unwrap();
    assert_eq!(report.bad_records, 0);
    assert_eq!(store.count("bad_records").unwrap(), 0);
    assert_eq!(store.count("work_items").unwrap(), 450);
}

#[test]
fn a_normalizer_error_other_than_a_bad_record_still_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("a.duckdb"));
    let mut source = picky(Some(&second_page_key()), true);
    let err = sync_with(&mut store, &mut source).unwrap_err();
    assert!(err.to_string().contains("lookup table"), "{err}");
    assert_eq!(
        store
            .get(&StateKey::new("demo", "issues"))
            .unwrap()
            .as_deref(),
        Some("100"),
        "the failing page did not commit"
    );
    assert_eq!(store.count("raw_records").unwrap(), 100);
    assert_eq!(store.count("bad_records").unwrap(), 0);
}
