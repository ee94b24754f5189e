//! The DuckDB store against real database files: idempotent loads, cursors committed with data, and clear
//! errors for files that cannot be opened.

use flowlake_core::StatusChange;
use flowlake_store::duckdb_store::OpenMode;
use flowlake_store::{DuckDbStore, LoadBatch, SqlConsole, Store};

mod common;

use common::{batch, item, t};

fn rows(store: &DuckDbStore, sql: &str) -> Vec<Vec<Option<String>>> {
    store.query(sql).unwrap().rows_as_text().unwrap()
}

/// One row of [`rows`] without NULLs.
fn row(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some(v.to_string())).collect()
}

fn change(item: &str, n: usize, author: Option<&str>, from: &str, to: &str) -> StatusChange {
    StatusChange {
        item_id: item.into(),
        change_id: n.to_string(),
        at: t("2024-01-01T11:00:00Z"),
        author: author.map(Into::into),
        from_status: Some(from.into()),
        to_status: to.into(),
    }
}

/// The version an upgrade ends at.
fn latest_version() -> i64 {
    flowlake_store::duckdb_store::ddl::duckdb_migrations()
        .last()
        .map_or(0, |m| m.version)
}

/// A database file at schema `version`, holding the rows `inserts` adds.
fn file_at_version(path: &std::path::Path, version: i64, inserts: &str) {
    use flowlake_store::duckdb_store::ddl::{duckdb_migrations, SCHEMA_MIGRATIONS_DDL};
    let conn = duckdb::Connection::open(path).unwrap();
    conn.execute_batch(SCHEMA_MIGRATIONS_DDL).unwrap();
    for m in duckdb_migrations().iter().filter(|m| m.version <= version) {
        for s in &m.statements {
            conn.execute_batch(s).unwrap();
        }
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)",
            duckdb::params![m.version, m.description],
        )
        .unwrap();
    }
    conn.execute_batch(inserts).unwrap();
}

/// The tables and views whose rows an upgrade must leave as they read.
const UPGRADED: [&str; 5] = [
    "status_changes",
    "status_intervals",
    "item_status_time",
    "tracker_exporter_issue_metrics",
    "changelog",
];

/// Every row of each of [`UPGRADED`] as JSON, sorted.
fn rows_as_json(path: &std::path::Path) -> Vec<Vec<String>> {
    let conn = duckdb::Connection::open(path).unwrap();
    UPGRADED
        .iter()
        .map(|table| {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT to_json(t)::VARCHAR AS r FROM {table} t ORDER BY r"
                ))
                .unwrap();
            let rows = stmt.query_map([], |r| r.get(0)).unwrap();
            rows.collect::<Result<_, _>>().unwrap()
        })
        .collect()
}

/// Opens the file at `path` for writing, which upgrades it, and checks every row reads as before.
fn upgrade_reads_the_same(path: &std::path::Path) {
    let before = rows_as_json(path);
    drop(DuckDbStore::open(path, OpenMode::ReadWrite).unwrap());
    for ((table, expected), found) in UPGRADED.iter().zip(&before).zip(rows_as_json(path)) {
        assert!(!expected.is_empty(), "{table}");
        assert_eq!(&found, expected, "{table}");
    }
}

/// A file written before schema 7 (labels and item ids as text in the status tables) reads the same after the
/// upgrade, and later loads number new labels after the ones the upgrade gave out.
#[test]
fn a_schema_6_file_reads_the_same_once_its_labels_and_items_are_codes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.duckdb");
    file_at_version(
        &path,
        6,
        "INSERT INTO status_changes VALUES
            ('demo:P-1', '1', '2024-01-01 11:00:00', 'demo:alice', 'Open', 'In Progress'),
            ('demo:P-1', '2', '2024-01-01 12:00:00', NULL, 'In Progress', 'Готово');
         INSERT INTO status_intervals VALUES
            ('demo:P-1', 0, 'Open', 'todo', '2024-01-01 10:00:00', '2024-01-01 11:00:00', 3600, 3600),
            ('demo:P-1', 1, 'In Progress', 'in_progress', '2024-01-01 11:00:00', '2024-01-01 12:00:00', 3600, 3600),
            ('demo:P-1', 2, 'Готово', 'done', '2024-01-01 12:00:00', NULL, 0, 0);
         INSERT INTO tracker_exporter_issue_metrics VALUES
            ('demo:P-1', '2024-01-01 11:00:00', 'P-1', 'open', 1, 3600, '1h', 3600, '1h');",
    );
    upgrade_reads_the_same(&path);
    let mut store = DuckDbStore::open(&path, OpenMode::ReadWrite).unwrap();
    assert_eq!(store.schema_version().unwrap(), latest_version());
    assert_eq!(
        rows(
            &store,
            "SELECT string_agg(label, ',' ORDER BY code) FROM labels"
        ),
        [row(&[
            "In Progress,Open,demo:alice,Готово,done,in_progress,todo,open"
        ])],
        "each table's new labels in order, after those of the tables before it"
    );
    let mut b = LoadBatch::new();
    b.work_item(&item("P-2", "Blocked"));
    b.status_change(&change("demo:P-2", 1, Some("demo:bob"), "Open", "Blocked"));
    store.load(&mut b, None).unwrap();
    assert_eq!(
        rows(
            &store,
            "SELECT code, label FROM labels WHERE code > 8 ORDER BY code"
        ),
        [
            [Some("9".to_string()), Some("demo:bob".to_string())],
            [Some("10".to_string()), Some("Blocked".to_string())],
        ]
    );
    assert_eq!(
        rows(
            &store,
            "SELECT author, from_status, to_status FROM status_changes WHERE item_id = 'demo:P-2'"
        ),
        [[
            Some("demo:bob".to_string()),
            Some("Open".to_string()),
            Some("Blocked".to_string())
        ]]
    );
}

/// A file of schema 7 (item ids as text in the status tables) reads the same once its item ids are codes;
/// a later load replaces an upgraded item's rows through its code and gives a new item the next code.
#[test]
fn a_schema_7_file_reads_the_same_once_its_item_ids_are_codes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.duckdb");
    file_at_version(
        &path,
        7,
        "INSERT INTO labels VALUES (1, 'Open'), (2, 'In Progress'), (3, 'todo'), (4, 'in_progress'), (5, 'open');
         INSERT INTO work_items SELECT * FROM (VALUES
            ('demo:P-1', 'demo', 'P', 'P-1', 'title', 'Bug', 'bug', 'In Progress', 'in_progress', NULL, NULL, NULL,
             []::VARCHAR[], []::VARCHAR[], NULL, TIMESTAMP '2024-01-01 10:00:00', TIMESTAMP '2024-01-01 11:00:00',
             NULL, NULL, '{}'));
         INSERT INTO status_changes_coded VALUES
            ('demo:P-1', '1', '2024-01-01 11:00:00', NULL, 1, 2),
            ('demo:P-9', '1', '2024-01-01 11:00:00', NULL, 1, 2);
         INSERT INTO status_intervals_coded VALUES
            ('demo:P-1', 0, 1, 3, '2024-01-01 10:00:00', '2024-01-01 11:00:00', 3600, 3600),
            ('demo:P-1', 1, 2, 4, '2024-01-01 11:00:00', NULL, 0, 0);
         INSERT INTO tracker_exporter_issue_metrics_coded VALUES
            ('demo:P-1', '2024-01-01 11:00:00', 'P-1', 5, 1, 3600, '1h', 3600, '1h');",
    );
    upgrade_reads_the_same(&path);
    let mut store = DuckDbStore::open(&path, OpenMode::ReadWrite).unwrap();
    assert_eq!(store.schema_version().unwrap(), latest_version());
    assert_eq!(
        rows(&store, "SELECT code, item_id FROM item_codes ORDER BY code"),
        [row(&["1", "demo:P-1"]), row(&["2", "demo:P-9"])],
        "every stored item id, work items and rows without one alike"
    );
    store
        .load(&mut batch(&[("P-1", 3), ("P-2", 1)]), None)
        .unwrap();
    assert_eq!(
        rows(
            &store,
            "SELECT item_id, count(*) FROM status_changes GROUP BY item_id ORDER BY item_id"
        ),
        [
            row(&["demo:P-1", "3"]),
            row(&["demo:P-2", "1"]),
            row(&["demo:P-9", "1"])
        ],
        "P-1's rows replaced, P-2's added"
    );
    assert_eq!(
        rows(
            &store,
            "SELECT max(code), count(*), count(DISTINCT item_id) FROM item_codes"
        ),
        [[
            Some("3".to_string()),
            Some("3".to_string()),
            Some("3".to_string())
        ]],
        "one code per item id"
    );
}

/// Codes handed out by a load that rolls back were never stored: the next load must not use them as if
/// they were.
#[test]
fn labels_of_a_load_that_rolled_back_are_given_again() {
    use flowlake_core::Deployment;
    use flowlake_store::schema::DEPLOYMENTS;
    let dir = tempfile::tempdir().unwrap();
    let mut store = DuckDbStore::open(dir.path().join("f.duckdb"), OpenMode::ReadWrite).unwrap();
    let deployment = Deployment {
        id: "demo:d1".into(),
        source: "demo".into(),
        service: "api".into(),
        environment: "production".into(),
        commit_sha: None,
        status: "success".into(),
        created_at: t("2024-01-01T10:00:00Z"),
        finished_at: None,
    };
    let mut first = LoadBatch::new();
    first.entity(&deployment);
    store.load(&mut first, None).unwrap();
    // The deployments table goes away, so the next load fails after its status changes were appended.
    store.query("DROP TABLE deployments").unwrap();
    let with_new_label = |key: &str| {
        let mut b = LoadBatch::new();
        b.work_item(&item(key, "Parked"));
        b.status_change(&change(&format!("demo:{key}"), 1, None, "Open", "Parked"));
        b.entity(&deployment);
        b
    };
    assert!(store.load(&mut with_new_label("P-1"), None).is_err());
    assert_eq!(store.count("status_changes").unwrap(), 0);
    store.query(&DEPLOYMENTS.duckdb_ddl()).unwrap();
    store.load(&mut with_new_label("P-2"), None).unwrap();
    assert_eq!(
        rows(
            &store,
            "SELECT item_id, from_status, to_status FROM status_changes"
        ),
        [[
            Some("demo:P-2".to_string()),
            Some("Open".to_string()),
            Some("Parked".to_string())
        ]]
    );
    assert_eq!(
        rows(&store, "SELECT count(*) FROM labels"),
        [[Some("2".to_string())]]
    );
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

#[test]
fn loads_side_by_side_on_clones_give_each_new_label_and_item_one_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.duckdb");
    let store = DuckDbStore::open(&path, OpenMode::ReadWrite).unwrap();
    // Two loaders, each bringing the same statuses (new to the store) with items of its own.
    let loads: Vec<_> = (0..2)
        .map(|n| {
            let mut clone = store.try_clone().unwrap();
            std::thread::spawn(move || {
                for round in 0..5 {
                    let mut b = LoadBatch::new();
                    for i in 0..20 {
                        let key = format!("L{n}-{round}-{i}");
                        b.work_item(&item(&key, "Parked"));
                        b.status_change(&change(&format!("demo:{key}"), 1, None, "Open", "Parked"));
                        b.status_change(&change(
                            &format!("demo:{key}"),
                            2,
                            Some("demo:bob"),
                            "Parked",
                            &format!("Waiting {round}"),
                        ));
                    }
                    clone.load(&mut b, None).unwrap();
                }
            })
        })
        .collect();
    for l in loads {
        l.join().unwrap();
    }
    assert_eq!(store.count("work_items").unwrap(), 200);
    // Open, Parked, five "Waiting" statuses and one author, whichever loader brought them first.
    assert_eq!(
        rows(&store, "SELECT count(*), count(DISTINCT label) FROM labels"),
        [[Some("8".to_string()), Some("8".to_string())]]
    );
    assert_eq!(
        rows(
            &store,
            "SELECT count(*) FROM status_changes WHERE to_status IS NULL OR from_status IS NULL"
        ),
        [[Some("0".to_string())]]
    );
    assert_eq!(
        rows(
            &store,
            "SELECT count(*) FROM status_changes WHERE author = 'demo:bob'"
        ),
        [[Some("200".to_string())]]
    );
    // Each item got a code of its own, and its rows read back under its id.
    assert_eq!(
        rows(
            &store,
            "SELECT count(*), count(DISTINCT code), count(DISTINCT item_id) FROM item_codes"
        ),
        [row(&["200", "200", "200"])]
    );
    assert_eq!(
        rows(
            &store,
            "SELECT count(*) FROM status_changes s JOIN work_items w ON w.id = s.item_id"
        ),
        [[Some("400".to_string())]]
    );
    // A fresh handle on the file reads the same labels.
    drop(store);
    let reopened = DuckDbStore::open(&path, OpenMode::ReadOnly).unwrap();
    assert_eq!(
        rows(
            &reopened,
            "SELECT count(*) FROM status_changes WHERE to_status LIKE 'Waiting %'"
        ),
        [[Some("200".to_string())]]
    );
}
