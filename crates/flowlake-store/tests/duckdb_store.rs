//! The DuckDB store against real database files: idempotent loads, cursors committed with data, and clear
//! errors for files that cannot be opened.

use chrono::{DateTime, Utc};
use flowlake_core::{StandardType, StatusCategory, StatusChange, WorkItem};
use flowlake_store::duckdb_store::OpenMode;
use flowlake_store::{DuckDbStore, LoadBatch, StateBackend, StateKey};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn item(key: &str, status: &str) -> WorkItem {
    WorkItem {
        id: format!("demo:{key}"),
        source: "demo".into(),
        project: "P".into(),
        key: key.into(),
        title: "title".into(),
        item_type: "Bug".into(),
        standard_type: StandardType::Bug,
        status: status.into(),
        status_category: StatusCategory::InProgress,
        priority: None,
        author: None,
        assignee: Some("demo:alice".into()),
        labels: vec!["a".into(), "b".into()],
        components: vec![],
        parent: None,
        created_at: t("2024-01-01T10:00:00Z"),
        updated_at: t("2024-01-02T10:00:00Z"),
        resolved_at: None,
        url: None,
        custom_fields: serde_json::json!({"story_points": 3}),
    }
}

fn batch(items: &[(&str, usize)]) -> LoadBatch {
    let mut b = LoadBatch::new();
    for (key, changes) in items {
        b.work_item(&item(key, "In Progress"));
        for n in 0..*changes {
            b.status_change(&StatusChange {
                item_id: format!("demo:{key}"),
                change_id: n.to_string(),
                at: t("2024-01-01T11:00:00Z"),
                author: None,
                from_status: Some("Open".into()),
                to_status: "In Progress".into(),
            });
        }
    }
    b
}

#[test]
fn loading_the_same_batch_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DuckDbStore::open(dir.path().join("f.duckdb"), OpenMode::ReadWrite).unwrap();
    store
        .load(&mut batch(&[("P-1", 3), ("P-2", 2)]), None)
        .unwrap();
    store
        .load(&mut batch(&[("P-1", 3), ("P-2", 2)]), None)
        .unwrap();
    assert_eq!(store.count("work_items").unwrap(), 2);
    assert_eq!(store.count("status_changes").unwrap(), 5);
    // A history that shrinks leaves no stale rows.
    store.load(&mut batch(&[("P-1", 1)]), None).unwrap();
    assert_eq!(store.count("status_changes").unwrap(), 3);
    let labels = store
        .query("select labels::VARCHAR as l from work_items where key = 'P-1'")
        .unwrap();
    assert_eq!(
        labels.rows_as_text().unwrap()[0][0].as_deref(),
        Some("[a, b]")
    );
}

/// `item_status_time` is a view; it must say what `time_in_status` says, returns and the current stay included.
#[test]
fn the_time_in_status_view_matches_the_pure_definition() {
    use flowlake_core::metrics::{status_intervals, time_in_status};
    use flowlake_core::{BusinessCalendar, StatusMap};
    let dir = tempfile::tempdir().unwrap();
    let mut store = DuckDbStore::open(dir.path().join("f.duckdb"), OpenMode::ReadWrite).unwrap();
    let work = item("P-1", "Review");
    let moves = [
        ("2024-01-01T11:00:00Z", "Open", "In Progress"),
        ("2024-01-01T15:00:00Z", "In Progress", "Review"),
        ("2024-01-02T09:00:00Z", "Review", "In Progress"),
        ("2024-01-02T09:00:00Z", "In Progress", "In Progress"),
        ("2024-01-03T12:30:00Z", "In Progress", "Review"),
    ];
    let changes: Vec<StatusChange> = moves
        .iter()
        .enumerate()
        .map(|(n, (at, from, to))| StatusChange {
            item_id: work.id.clone(),
            change_id: n.to_string(),
            at: t(at),
            author: None,
            from_status: Some((*from).into()),
            to_status: (*to).into(),
        })
        .collect();
    let now = t("2024-01-05T10:00:00Z");
    let calendar = BusinessCalendar::default();
    let intervals = status_intervals(&work, &changes, &StatusMap::default(), &calendar, now);
    let mut b = LoadBatch::new();
    b.work_item(&work);
    for i in &intervals {
        b.status_interval(&work.id, i);
    }
    store.load(&mut b, None).unwrap();
    let mut expected: Vec<Vec<Option<String>>> = time_in_status(&intervals)
        .iter()
        .map(|s| {
            [
                s.status.clone(),
                s.category.as_str().to_string(),
                s.visits.to_string(),
                s.calendar_seconds.to_string(),
                s.business_seconds.to_string(),
            ]
            .into_iter()
            .map(Some)
            .collect()
        })
        .collect();
    expected.sort();
    let got = store
        .query("SELECT status, category, visits, calendar_seconds, business_seconds FROM item_status_time ORDER BY ALL")
        .unwrap()
        .rows_as_text()
        .unwrap();
    assert_eq!(got, expected);
    assert_eq!(
        got.len(),
        3,
        "Open, In Progress (twice), Review (twice, the last one current)"
    );
}

#[test]
fn the_cursor_commits_with_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.duckdb");
    let key = StateKey::new("demo", "issues");
    {
        let mut store = DuckDbStore::open(&path, OpenMode::ReadWrite).unwrap();
        store
            .load(&mut batch(&[("P-1", 1)]), Some((&key, "1")))
            .unwrap();
    }
    let mut store = DuckDbStore::open(&path, OpenMode::ReadOnly).unwrap();
    assert_eq!(store.get(&key).unwrap().as_deref(), Some("1"));
    assert_eq!(store.count("work_items").unwrap(), 1);
}

#[test]
fn a_file_that_is_not_a_database_is_a_clear_error_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.duckdb");
    std::fs::write(&path, "these are my notes, not a database\n".repeat(200)).unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = DuckDbStore::open(&path, OpenMode::ReadWrite)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("notes.duckdb") && err.contains("not a valid DuckDB database"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_missing_file_opened_for_reading_says_what_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let err = DuckDbStore::open(dir.path().join("none.duckdb"), OpenMode::ReadOnly)
        .unwrap_err()
        .to_string();
    assert!(err.contains("flowlake sync"), "{err}");
}

#[test]
fn a_directory_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let err = DuckDbStore::open(dir.path(), OpenMode::ReadWrite)
        .unwrap_err()
        .to_string();
    assert!(err.contains("directory"), "{err}");
}

#[test]
fn a_read_only_file_cannot_be_opened_for_writing() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.duckdb");
    drop(DuckDbStore::open(&path, OpenMode::ReadWrite).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    // Root ignores file modes; the check only means something for ordinary users.
    if std::fs::OpenOptions::new().write(true).open(&path).is_ok() {
        return;
    }
    let err = DuckDbStore::open(&path, OpenMode::ReadWrite)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ro.duckdb"), "{err}");
}
