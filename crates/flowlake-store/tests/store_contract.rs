//! What every store does, run against each kind: DuckDB in a temporary file, PostgreSQL in a fresh
//! database of a real server on loopback (`flowlake_testkit::servers::postgres_database`), and ClickHouse in
//! a fresh database of the chDB harness (`flowlake_testkit::servers::clickhouse_database`). A case is written
//! once against the `Store` trait and listed in `on_every_store!`.

use flowlake_core::{StatusChange, WorkItem};
use flowlake_store::{
    ClickHouseOptions, CursorUpdate, LoadBatch, OpenMode, PostgresOptions, StateKey, Store,
    StoreOptions,
};
use flowlake_testkit::servers::{clickhouse_database, postgres_database, PostgresDatabase};

mod common;

use common::{batch, item, t};

/// The kinds of store.
#[derive(Debug, Clone, Copy)]
enum Kind {
    DuckDb,
    Postgres,
    ClickHouse,
}

/// Where one test's store lives.
struct Place {
    _dir: tempfile::TempDir,
    options: StoreOptions,
    /// Keeps the database's name for the test's life (it is dropped with the server, at exit).
    _postgres: Option<PostgresDatabase>,
}

impl Place {
    fn new(kind: Kind) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut options = StoreOptions::new(dir.path().join("f.duckdb"), OpenMode::ReadWrite);
        let postgres = match kind {
            Kind::DuckDb => None,
            Kind::Postgres => {
                let db = postgres_database();
                options.postgres = Some(PostgresOptions {
                    url: db.url_without_password(),
                    schema: "flowlake".into(),
                    password: Some(flowlake_testkit::servers::POSTGRES_PASSWORD.into()),
                    ca_file: None,
                });
                Some(db)
            }
            Kind::ClickHouse => {
                let db = clickhouse_database();
                options.clickhouse = Some(ClickHouseOptions {
                    user: flowlake_testkit::servers::CLICKHOUSE_USER.into(),
                    password: Some(flowlake_testkit::servers::CLICKHOUSE_PASSWORD.into()),
                    ..ClickHouseOptions::new(db.url(), db.name)
                });
                None
            }
        };
        Self {
            _dir: dir,
            options,
            _postgres: postgres,
        }
    }

    fn open(&self, mode: OpenMode) -> Box<dyn Store + Send> {
        self.try_open(mode).unwrap()
    }

    fn try_open(
        &self,
        mode: OpenMode,
    ) -> Result<Box<dyn Store + Send>, flowlake_store::StoreError> {
        flowlake_store::open(&StoreOptions {
            mode,
            ..self.options.clone()
        })
    }
}

fn rows(store: &dyn Store, sql: &str) -> Vec<Vec<Option<String>>> {
    store
        .console()
        .unwrap()
        .query(sql)
        .unwrap()
        .rows_as_text()
        .unwrap()
}

fn loading_the_same_batch_twice_changes_nothing(kind: Kind) {
    let place = Place::new(kind);
    let mut store = place.open(OpenMode::ReadWrite);
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
    let labels = rows(&*store, "select labels from work_items where key = 'P-1'");
    assert_eq!(labels[0][0].as_deref(), Some("[a, b]"));
}

/// `item_status_time` is a view; it must say what `time_in_status` says, returns and the current stay
/// included.
fn the_time_in_status_view_matches_the_pure_definition(kind: Kind) {
    use flowlake_core::metrics::{status_intervals, time_in_status};
    use flowlake_core::{BusinessCalendar, StatusMap};
    let place = Place::new(kind);
    let mut store = place.open(OpenMode::ReadWrite);
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
    let got = rows(
        &*store,
        "SELECT status, category, visits, calendar_seconds, business_seconds FROM item_status_time \
         ORDER BY 1, 2, 3, 4, 5",
    );
    assert_eq!(got, expected);
    assert_eq!(
        got.len(),
        3,
        "Open, In Progress (twice), Review (twice, the last one current)"
    );
}

fn the_cursor_commits_with_the_data(kind: Kind) {
    let place = Place::new(kind);
    let key = StateKey::new("demo", "issues");
    {
        let mut store = place.open(OpenMode::ReadWrite);
        store
            .load(
                &mut batch(&[("P-1", 1)]),
                Some(&[CursorUpdate::put(key.clone(), "1")]),
            )
            .unwrap();
    }
    let mut store = place.open(OpenMode::ReadOnly);
    assert_eq!(store.get(&key).unwrap().as_deref(), Some("1"));
    assert_eq!(store.count("work_items").unwrap(), 1);
}

fn a_schema_from_a_newer_flowlake_is_refused_and_left_as_it_is(kind: Kind) {
    let place = Place::new(kind);
    {
        let mut store = place.open(OpenMode::ReadWrite);
        store.load(&mut batch(&[("P-1", 1)]), None).unwrap();
        rows(
            &*store,
            "INSERT INTO schema_migrations VALUES (999, 'from the future', current_timestamp::TIMESTAMP)",
        );
    }
    for mode in [OpenMode::ReadWrite, OpenMode::ReadOnly] {
        let e = place
            .try_open(mode)
            .err()
            .expect("a newer schema is refused");
        let text = e.to_string();
        assert!(text.contains("schema version 999"), "{text}");
        assert!(text.contains("upgrade flowlake"), "{text}");
    }
}

fn raw(key: &str) -> flowlake_core::RawRecord {
    flowlake_core::RawRecord {
        source: "demo".into(),
        stream: "issues".into(),
        key: key.into(),
        updated_at: Some(t("2024-01-02T10:00:00Z")),
        fetched_at: t("2024-01-03T10:00:00Z"),
        payload: serde_json::json!({"key": key}),
    }
}

/// An item seen under a new key retires the old one with its rows and raw record.
fn a_moved_item_leaves_no_rows_under_its_old_key(kind: Kind) {
    let place = Place::new(kind);
    let mut store = place.open(OpenMode::ReadWrite);
    let moved = |key: &str| WorkItem {
        custom_fields: serde_json::json!({"node_id": "N1"}),
        ..item(key, "In Progress")
    };
    let mut b = batch(&[("P-2", 1)]);
    b.work_item(&moved("P-1"));
    b.raw(&raw("P-1"));
    b.status_change(&StatusChange {
        item_id: "demo:P-1".into(),
        change_id: "0".into(),
        at: t("2024-01-01T11:00:00Z"),
        author: None,
        from_status: Some("Open".into()),
        to_status: "In Progress".into(),
    });
    store.load(&mut b, None).unwrap();
    let mut b = LoadBatch::new();
    b.work_item(&moved("P-9"));
    b.raw(&raw("P-9"));
    b.moved("demo", "N1", "demo:P-9");
    store.load(&mut b, None).unwrap();
    assert_eq!(
        rows(&*store, "SELECT id FROM work_items ORDER BY id"),
        vec![vec![Some("demo:P-2".into())], vec![Some("demo:P-9".into())]]
    );
    assert_eq!(
        rows(
            &*store,
            "SELECT item_id FROM status_changes ORDER BY item_id"
        ),
        vec![vec![Some("demo:P-2".into())]]
    );
    assert_eq!(
        rows(&*store, "SELECT key FROM raw_records ORDER BY key"),
        vec![vec![Some("P-9".into())]]
    );
}

/// A record that fails again keeps the time it first failed; once it normalizes its row goes.
fn bad_records_keep_their_first_failure_and_go_once_normalized(kind: Kind) {
    let place = Place::new(kind);
    let mut store = place.open(OpenMode::ReadWrite);
    for (at, error) in [
        ("2024-01-01T10:00:00Z", "first"),
        ("2024-01-05T10:00:00Z", "again"),
    ] {
        let mut b = LoadBatch::new();
        b.bad_record(&raw("P-1"), error, t(at));
        b.bad_record(&raw("P-2"), error, t(at));
        store.load(&mut b, None).unwrap();
    }
    assert_eq!(
        rows(
            &*store,
            "SELECT key, error, first_seen, last_seen FROM bad_records ORDER BY key"
        ),
        ["P-1", "P-2"]
            .map(
                |k| [k, "again", "2024-01-01T10:00:00", "2024-01-05T10:00:00"]
                    .map(|v| Some(v.to_string()))
                    .to_vec()
            )
            .to_vec()
    );
    let mut b = LoadBatch::new();
    b.normalized(&raw("P-1"));
    store.load(&mut b, None).unwrap();
    assert_eq!(
        rows(&*store, "SELECT key FROM bad_records"),
        vec![vec![Some("P-2".into())]]
    );
}

/// Each case once per kind of store, as `duckdb::case`, `postgres::case` and `clickhouse::case`.
macro_rules! on_every_store {
    ($($case:ident),* $(,)?) => {
        mod duckdb {
            $(#[test] fn $case() { super::$case(super::Kind::DuckDb) })*
        }
        mod postgres {
            $(#[test] fn $case() { super::$case(super::Kind::Postgres) })*
        }
        mod clickhouse {
            $(#[test] fn $case() { super::$case(super::Kind::ClickHouse) })*
        }
    };
}

on_every_store!(
    loading_the_same_batch_twice_changes_nothing,
    the_time_in_status_view_matches_the_pure_definition,
    the_cursor_commits_with_the_data,
    a_schema_from_a_newer_flowlake_is_refused_and_left_as_it_is,
    a_moved_item_leaves_no_rows_under_its_old_key,
    bad_records_keep_their_first_failure_and_go_once_normalized,
);
