//! `item_metrics.guessed_statuses`: which stays of each item got a guessed category, replaced with the item,
//! read back per source and status for `flowlake metrics` and the sync's warnings.

use flowlake_core::metrics::{item_metrics, status_intervals};
use flowlake_core::{
    BusinessCalendar, GuessedStatus, StandardType, StatusCategory, StatusChange, StatusMap,
    WorkItem,
};
use flowlake_store::duckdb_store::{ItemFilter, OpenMode};
use flowlake_store::{DuckDbStore, LoadBatch, SqlConsole, Store};

mod common;

use common::{t, work_item};

/// A batch with `key` of `source`/`project` moving through `path`, the last status being current, and the
/// statuses the default map guesses recorded as the engine records them.
fn item_batch(batch: &mut LoadBatch, source: &str, project: &str, key: &str, path: &[&str]) {
    let map = StatusMap::default().with_known([("Done", StatusCategory::Done)]);
    let id = format!("{source}:{key}");
    let current = path[path.len() - 1];
    let item = WorkItem {
        item_type: "Task".into(),
        standard_type: StandardType::Task,
        status: current.into(),
        status_category: map.category(current, None),
        ..work_item(source, project, key)
    };
    let changes: Vec<StatusChange> = path
        .windows(2)
        .enumerate()
        .map(|(n, w)| StatusChange {
            item_id: id.clone(),
            change_id: n.to_string(),
            at: t("2024-01-01T11:00:00Z") + chrono::Duration::hours(n as i64),
            author: None,
            from_status: Some(w[0].into()),
            to_status: w[1].into(),
        })
        .collect();
    let now = t("2024-02-01T00:00:00Z");
    let calendar = BusinessCalendar::default();
    let intervals = status_intervals(&item, &changes, &map, &calendar, now);
    let metrics = item_metrics(&item, &[], &intervals, &map, &calendar, now);
    let guessed = map.guessed(
        &item.status,
        intervals.iter().map(|i| (i.status.as_str(), i.category)),
    );
    batch.work_item(&item);
    for c in &changes {
        batch.status_change(c);
    }
    for i in &intervals {
        batch.status_interval(&id, i);
    }
    batch.item_metrics(&item, &metrics, &guessed, now);
}

#[test]
fn guessed_statuses_are_counted_per_source_and_status_and_leave_with_a_remapped_item() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DuckDbStore::open(dir.path().join("f.duckdb"), OpenMode::ReadWrite).unwrap();
    let mut b = LoadBatch::new();
    item_batch(
        &mut b,
        "jira",
        "CORE",
        "C-1",
        &["Inbox", "In Progress", "Done"],
    );
    item_batch(
        &mut b,
        "jira",
        "CORE",
        "C-2",
        &["Inbox", "Ready for QA", "Done"],
    );
    item_batch(&mut b, "jira", "WEB", "W-1", &["Inbox", "Done"]);
    item_batch(&mut b, "gitlab", "g/p", "1", &["Inbox", "Done"]);
    // Current statuses take the item's own category: nothing guessed here.
    item_batch(&mut b, "jira", "WEB", "W-2", &["Inbox"]);
    store.load(&mut b, None).unwrap();

    let all = store.guessed_statuses(&ItemFilter::default()).unwrap();
    assert_eq!(
        all,
        [
            GuessedStatus::new("jira", "Inbox", StatusCategory::Todo, 3),
            GuessedStatus::new("gitlab", "Inbox", StatusCategory::Todo, 1),
            GuessedStatus::new("jira", "In Progress", StatusCategory::InProgress, 1),
            GuessedStatus::new("jira", "Ready for QA", StatusCategory::InProgress, 1),
        ]
    );
    let web = store
        .guessed_statuses(&ItemFilter {
            source: Some("jira".into()),
            project: Some("WEB".into()),
            ..ItemFilter::default()
        })
        .unwrap();
    assert_eq!(
        web,
        [GuessedStatus::new("jira", "Inbox", StatusCategory::Todo, 1)]
    );
    let stored = store
        .query("SELECT guessed_statuses FROM item_metrics WHERE item_id = 'jira:C-2'")
        .unwrap();
    assert_eq!(
        stored.rows_as_text().unwrap()[0][0].as_deref(),
        Some(r#"{"Inbox":"todo","Ready for QA":"in_progress"}"#)
    );

    // Reloaded with no guessed stay (mapped, or a history that no longer visits them): its guesses go.
    let mut again = LoadBatch::new();
    item_batch(&mut again, "jira", "CORE", "C-2", &["Done"]);
    store.load(&mut again, None).unwrap();
    let after = store.guessed_statuses(&ItemFilter::default()).unwrap();
    assert!(
        !after.iter().any(|g| g.status == "Ready for QA"),
        "{after:?}"
    );
    assert_eq!(
        after[0],
        GuessedStatus::new("jira", "Inbox", StatusCategory::Todo, 2)
    );
}

/// A store made before schema 9 gains the column, NULL (nothing known to be guessed) until rebuilt.
#[test]
fn a_schema_8_file_gains_guessed_statuses_as_null() {
    use flowlake_store::duckdb_store::ddl::{duckdb_migrations, SCHEMA_MIGRATIONS_DDL};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.duckdb");
    {
        let conn = duckdb::Connection::open(&path).unwrap();
        conn.execute_batch(SCHEMA_MIGRATIONS_DDL).unwrap();
        for m in duckdb_migrations().iter().filter(|m| m.version <= 8) {
            for s in &m.statements {
                conn.execute_batch(s).unwrap();
            }
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)",
                duckdb::params![m.version, m.description],
            )
            .unwrap();
        }
        // Migration 1 renders today's item_metrics: drop the column to stand for a store of schema 8.
        conn.execute_batch(
            "ALTER TABLE item_metrics DROP COLUMN guessed_statuses;
             INSERT INTO item_metrics (item_id, source, project, item_type, standard_type, created_at,
                 reopen_count, status_path, status_changes, current_status, current_category, computed_at)
             VALUES ('jira:C-1', 'jira', 'CORE', 'Task', 'task', '2024-01-01 10:00:00', 0, 'Inbox', 0,
                 'Inbox', 'todo', '2024-01-02 10:00:00');",
        )
        .unwrap();
    }
    let store = DuckDbStore::open(&path, OpenMode::ReadWrite).unwrap();
    let stored = store
        .query("SELECT item_id, guessed_statuses IS NULL AS none FROM item_metrics")
        .unwrap();
    assert_eq!(
        stored.rows_as_text().unwrap(),
        [[Some("jira:C-1".to_string()), Some("true".to_string())]]
    );
    assert!(store
        .guessed_statuses(&ItemFilter::default())
        .unwrap()
        .is_empty());
}
