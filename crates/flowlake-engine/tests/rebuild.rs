//! A rebuild cut short: the store says it is mid-rebuild until a rebuild completes, and the one that completes
//! gives what a clean rebuild gives.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use flowlake_connect::generator::GeneratorConfig;
use flowlake_connect::http::{LogObserver, Tape};
use flowlake_core::StatusCategory;
use flowlake_engine::config::SourceConfig;
use flowlake_engine::sync::{
    build_source, rebuild, rebuild_with, sync_source, EngineError, RebuildOptions, StateTarget,
    SyncOptions,
};
use flowlake_engine::{FlowSettings, NoProgress};
use flowlake_store::duckdb_store::OpenMode;
use flowlake_store::schema::DATA_TABLES;
use flowlake_store::{DuckDbStore, SqlConsole, Store};

/// Two sources, each rebuilt in one page of raw records: a rebuild killed after its first page has
/// recomputed one and not the other.
fn sources() -> Vec<SourceConfig> {
    ["alpha", "beta"]
        .into_iter()
        .enumerate()
        .map(|(n, name)| {
            SourceConfig::Generator(GeneratorConfig {
                name: name.into(),
                seed: 7 + n as u64,
                issues: 200,
                page_size: 100,
                until: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
                ..GeneratorConfig::default()
            })
        })
        .collect()
}

/// A store with both sources synced under the default settings.
fn synced(path: &Path) -> DuckDbStore {
    let mut store = DuckDbStore::open(path, OpenMode::ReadWrite).unwrap();
    for cfg in sources() {
        let mut source = build_source(&cfg, &Tape::Off, Arc::new(LogObserver)).unwrap();
        sync_source(
            source.as_mut(),
            &mut store,
            &mut StateTarget::Store,
            &FlowSettings::default(),
            cfg.now(chrono::Utc::now()),
            &NoProgress,
            SyncOptions::default(),
        )
        .unwrap();
    }
    store
}

/// Review becomes a waiting state: every item with a Review stay changes.
fn remapped() -> FlowSettings {
    FlowSettings {
        statuses: flowlake_core::StatusMap::new([("Review", StatusCategory::Todo)], None),
        ..FlowSettings::default()
    }
}

/// The category of Review per source.
fn review_categories(store: &dyn SqlConsole) -> Vec<Vec<Option<String>>> {
    store
        .query(
            "SELECT m.source, string_agg(DISTINCT t.category, ',') FROM item_status_time t \
             JOIN item_metrics m USING (item_id) WHERE t.status = 'Review' GROUP BY 1 ORDER BY 1",
        )
        .unwrap()
        .rows_as_text()
        .unwrap()
}

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

#[test]
fn a_rebuild_killed_midway_marks_the_store_until_the_next_rebuild_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now();
    let mut reference = synced(&dir.path().join("reference.duckdb"));
    rebuild(&mut reference, &sources(), &remapped(), now, &NoProgress).unwrap();
    assert_eq!(reference.unfinished_rebuild().unwrap(), None);

    let mut store = synced(&dir.path().join("killed.duckdb"));
    let kill = RebuildOptions {
        fail_after_pages: Some(1),
    };
    let err =
        rebuild_with(&mut store, &sources(), &remapped(), now, &NoProgress, kill).unwrap_err();
    assert!(matches!(err, EngineError::Injected(1)), "{err}");
    // The store is mixed (what the mark is for) and says so, to this and to any later process.
    let in_progress =
        |source: &str, category: &str| vec![Some(source.to_string()), Some(category.to_string())];
    assert_eq!(
        review_categories(&store),
        [
            in_progress("alpha", "todo"),
            in_progress("beta", "in_progress")
        ]
    );
    let since = store.unfinished_rebuild().unwrap();
    assert!(since.is_some());
    let path = store.path().to_path_buf();
    drop(store);
    let reader = DuckDbStore::open(&path, OpenMode::ReadOnly).unwrap();
    assert_eq!(reader.unfinished_rebuild().unwrap(), since);
    drop(reader);

    // The next rebuild finishes the job: no mark, and the tables of a clean rebuild.
    let mut store = DuckDbStore::open(&path, OpenMode::ReadWrite).unwrap();
    let report = rebuild(&mut store, &sources(), &remapped(), now, &NoProgress).unwrap();
    assert_eq!(report.items, 400);
    assert_eq!(store.unfinished_rebuild().unwrap(), None);
    assert_eq!(snapshot(&store), snapshot(&reference));
}

#[test]
fn a_rebuild_that_cannot_start_changes_nothing_and_leaves_no_mark() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = synced(&dir.path().join("a.duckdb"));
    let before = snapshot(&store);
    // `beta` is stored but no longer configured: refused before `alpha` is touched.
    let only_alpha: Vec<SourceConfig> = sources().into_iter().take(1).collect();
    let err = rebuild(
        &mut store,
        &only_alpha,
        &remapped(),
        chrono::Utc::now(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(
        matches!(err, EngineError::UnknownSource(ref s) if s == "beta"),
        "{err}"
    );
    assert_eq!(store.unfinished_rebuild().unwrap(), None);
    assert_eq!(snapshot(&store), before);
}
