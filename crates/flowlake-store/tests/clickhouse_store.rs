//! The ClickHouse store's own faults and guarantees, against the chDB harness on loopback: what a user sees
//! for a wrong password, a missing database and a server that is not there, that no password reaches an
//! error or `Debug`, and that loads replayed or cut short leave the views as one load would.

use std::time::Duration;

use flowlake_core::StatusChange;
use flowlake_store::{
    ClickHouseOptions, ClickHouseRetry, ClickHouseStore, LoadBatch, OpenMode, SqlConsole, Store,
};
use flowlake_testkit::servers::{
    clickhouse_database, free_port, ClickHouseDatabase, OwnClickHouse, CLICKHOUSE_PASSWORD,
    CLICKHOUSE_USER,
};

mod common;

use common::{t, work_item};

fn options(db: &ClickHouseDatabase, password: Option<&str>) -> ClickHouseOptions {
    ClickHouseOptions {
        user: CLICKHOUSE_USER.into(),
        password: password.map(String::from),
        retry: ClickHouseRetry {
            tries: 2,
            base_delay: Duration::from_millis(10),
            ..ClickHouseRetry::default()
        },
        ..ClickHouseOptions::new(db.url(), db.name.clone())
    }
}

fn open_error(options: &ClickHouseOptions, mode: OpenMode) -> String {
    let e = ClickHouseStore::open(options, mode).expect_err("the store cannot be opened");
    let text = e.to_string();
    assert!(!text.contains(CLICKHOUSE_PASSWORD), "no password in {text}");
    text
}

#[test]
fn a_wrong_password_names_the_store_and_what_to_check() {
    let db = clickhouse_database();
    let text = open_error(&options(&db, Some("wrong")), OpenMode::ReadWrite);
    assert!(
        text.contains(&format!(
            "http://{CLICKHOUSE_USER}@127.0.0.1:{} (database {})",
            db.port, db.name
        )),
        "{text}"
    );
    assert!(text.contains("Code: 516. DB::Exception"), "{text}");
    assert!(text.contains("Authentication failed"), "{text}");
    assert!(text.contains("FLOWLAKE_STORE__PASSWORD"), "{text}");
}

#[test]
fn a_missing_database_read_says_to_create_it() {
    let db = clickhouse_database();
    let text = open_error(&options(&db, Some(CLICKHOUSE_PASSWORD)), OpenMode::ReadOnly);
    assert!(text.contains("Code: 81. DB::Exception"), "{text}");
    assert!(text.contains(&db.name), "{text}");
    assert!(text.contains("flowlake sync"), "{text}");
}

#[test]
fn a_database_without_flowlake_tables_says_what_to_run_when_read() {
    let db = clickhouse_database();
    ClickHouseDatabase {
        name: "default".into(),
        ..db.clone()
    }
    .query(&format!("CREATE DATABASE {}", db.name));
    let text = open_error(&options(&db, Some(CLICKHOUSE_PASSWORD)), OpenMode::ReadOnly);
    assert!(text.contains("run `flowlake sync` first"), "{text}");
}

#[test]
fn a_server_that_is_not_there_is_named() {
    let db = ClickHouseDatabase {
        port: free_port(),
        name: "db".into(),
    };
    let text = open_error(
        &options(&db, Some(CLICKHOUSE_PASSWORD)),
        OpenMode::ReadWrite,
    );
    assert!(text.contains("cannot connect"), "{text}");
    assert!(text.contains("is ClickHouse running"), "{text}");
}

#[test]
fn no_password_reaches_debug_output_or_errors() {
    let db = clickhouse_database();
    let with_password = options(&db, Some(CLICKHOUSE_PASSWORD));
    let shown = format!("{with_password:?}");
    assert!(!shown.contains(CLICKHOUSE_PASSWORD), "{shown}");
    let store = ClickHouseStore::open(&with_password, OpenMode::ReadWrite).unwrap();
    let shown = format!("{store:?} {}", store.describe());
    assert!(!shown.contains(CLICKHOUSE_PASSWORD), "{shown}");
    let e = store
        .query("SELECT * FROM no_such_table")
        .unwrap_err()
        .to_string();
    assert!(e.contains("Code: 60. DB::Exception"), "{e}");
    assert!(!e.contains(CLICKHOUSE_PASSWORD), "{e}");
}

fn batch(key: &str, changes: usize) -> LoadBatch {
    let mut b = LoadBatch::new();
    b.work_item(&work_item("demo", "P", key));
    for n in 0..changes {
        b.status_change(&StatusChange {
            item_id: format!("demo:{key}"),
            change_id: n.to_string(),
            at: t("2024-01-01T11:00:00Z"),
            author: None,
            from_status: Some("Open".into()),
            to_status: "In Progress".into(),
        });
    }
    b
}

fn text(store: &ClickHouseStore, sql: &str) -> Vec<Vec<Option<String>>> {
    store.query(sql).unwrap().rows_as_text().unwrap()
}

/// A replayed page (a crash between the load and its cursor) and a history that shrinks leave the views
/// as they should, however many row versions the tables hold until ClickHouse merges them.
#[test]
fn replays_and_shrinking_histories_read_like_one_load() {
    let db = clickhouse_database();
    let mut store = ClickHouseStore::open(
        &options(&db, Some(CLICKHOUSE_PASSWORD)),
        OpenMode::ReadWrite,
    )
    .unwrap();
    for _ in 0..3 {
        store.load(&mut batch("P-1", 4), None).unwrap();
    }
    assert_eq!(store.count("status_changes").unwrap(), 4);
    store.load(&mut batch("P-1", 2), None).unwrap();
    assert_eq!(store.count("status_changes").unwrap(), 2);
    assert_eq!(
        text(&store, "SELECT change_id FROM status_changes ORDER BY 1"),
        vec![vec![Some("0".into())], vec![Some("1".into())]]
    );
    // Tombstones and older versions stay in the stored rows until merged; the views never show them.
    let stored = text(&store, "SELECT count() FROM status_changes_rows");
    assert!(
        stored[0][0].as_deref().unwrap().parse::<i64>().unwrap() > 2,
        "{stored:?}"
    );
    assert_eq!(store.count("work_items").unwrap(), 1);
    // A merge changes nothing the views show.
    text(&store, "OPTIMIZE TABLE status_changes_rows FINAL");
    assert_eq!(store.count("status_changes").unwrap(), 2);
}

/// A read-only or sandboxed store sends every statement as a `GET`, which ClickHouse runs read-only.
#[test]
fn a_read_only_store_cannot_write() {
    let db = clickhouse_database();
    let options = options(&db, Some(CLICKHOUSE_PASSWORD));
    ClickHouseStore::open(&options, OpenMode::ReadWrite)
        .unwrap()
        .load(&mut batch("P-1", 1), None)
        .unwrap();
    for mode in [OpenMode::ReadOnly, OpenMode::Sandboxed] {
        let mut store = ClickHouseStore::open(&options, mode).unwrap();
        assert_eq!(store.count("work_items").unwrap(), 1);
        for sql in [
            "INSERT INTO schema_migrations VALUES (2, 'x', now64(6))",
            "CREATE TABLE t (a Int8) ENGINE = Memory",
            "DROP TABLE work_items_rows",
        ] {
            let e = store.query(sql).expect_err(sql).to_string();
            assert!(
                e.contains("Code: 164") && e.contains("readonly"),
                "{sql}: {e}"
            );
        }
        let e = store
            .load(&mut batch("P-2", 1), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("readonly"), "{e}");
        assert_eq!(store.count("work_items").unwrap(), 1);
    }
}

/// `bench --loaders`: another handle loads beside the first, into the same tables.
#[test]
fn a_loader_is_another_handle_on_the_same_database() {
    let db = clickhouse_database();
    let options = options(&db, Some(CLICKHOUSE_PASSWORD));
    let mut store = ClickHouseStore::open(&options, OpenMode::ReadWrite).unwrap();
    let mut other = store.loader().unwrap().expect("a second handle");
    std::thread::scope(|s| {
        s.spawn(|| other.load(&mut batch("P-2", 2), None).unwrap());
        store.load(&mut batch("P-1", 3), None).unwrap();
    });
    assert_eq!(store.count("work_items").unwrap(), 2);
    assert_eq!(store.count("status_changes").unwrap(), 5);
    let reader = ClickHouseStore::open(&options, OpenMode::ReadOnly).unwrap();
    assert!(reader.loader().unwrap().is_none());
}

/// Versions come from the clock; a writer whose clock is behind the newest stored version still wins.
#[test]
fn a_writer_behind_the_stored_versions_still_replaces_them() {
    use flowlake_store::{StateBackend, StateKey};
    let db = clickhouse_database();
    let options = options(&db, Some(CLICKHOUSE_PASSWORD));
    drop(ClickHouseStore::open(&options, OpenMode::ReadWrite).unwrap());
    // A cursor written by a writer whose clock ran a day ahead.
    let ahead = (chrono::Utc::now().timestamp_micros() + 86_400_000_000).to_string();
    db.query(&format!(
        "INSERT INTO sync_state_rows VALUES ('demo', 'issues', 'old', now64(6), {ahead}, 0)"
    ));
    let mut store = ClickHouseStore::open(&options, OpenMode::ReadWrite).unwrap();
    let key = StateKey::new("demo", "issues");
    assert_eq!(store.get(&key).unwrap().as_deref(), Some("old"));
    store.put(&key, "new").unwrap();
    assert_eq!(store.get(&key).unwrap().as_deref(), Some("new"));
}

/// Compressed inserts (the default) and plain ones leave the same tables; the harness saw the rows arrive
/// gzip-compressed only with compression on.
#[test]
fn compressed_and_plain_inserts_leave_the_same_tables() {
    let mut dumps = Vec::new();
    for compress in [true, false] {
        let db = clickhouse_database();
        let options = ClickHouseOptions {
            compress,
            ..options(&db, Some(CLICKHOUSE_PASSWORD))
        };
        let mut store = ClickHouseStore::open(&options, OpenMode::ReadWrite).unwrap();
        let pages = [vec![("P-1", 3), ("P-2", 1), ("P-3", 0)], vec![("P-1", 2)]];
        for page in &pages {
            store.load(&mut common::batch(page), None).unwrap();
        }
        let dump: Vec<_> = flowlake_store::schema::loaded_tables()
            .map(|t| {
                let sql = format!("SELECT * FROM {} ORDER BY ALL", t.name);
                (t.name, text(&store, &sql))
            })
            .collect();
        let seen = db.request_encodings();
        let gzipped = seen.get("gzip").and_then(|v| v.as_u64()).unwrap_or(0);
        match compress {
            // At least the work_items and status_changes rows of each page.
            true => assert!(gzipped >= 2 * pages.len() as u64, "{seen:?}"),
            false => assert_eq!(gzipped, 0, "{seen:?}"),
        }
        dumps.push(dump);
    }
    let rows = |name: &str| dumps[0].iter().find(|(t, _)| *t == name).unwrap().1.len();
    assert_eq!((rows("work_items"), rows("status_changes")), (3, 3));
    assert_eq!(dumps[0], dumps[1]);
}

/// `https://` with `ca_file`: the store trusts the harness's private CA and loads through it; without the
/// file the server's certificate is not trusted, and the error says which key to set.
#[test]
fn https_trusts_the_ca_file_and_nothing_else() {
    let server = OwnClickHouse::start_tls();
    let db = server.database("tls");
    let mut options = ClickHouseOptions {
        url: server.url(),
        ca_file: Some(server.ca_file()),
        ..options(&db, Some(CLICKHOUSE_PASSWORD))
    };
    let mut store = ClickHouseStore::open(&options, OpenMode::ReadWrite).unwrap();
    store.load(&mut batch("P-1", 2), None).unwrap();
    assert_eq!(store.count("status_changes").unwrap(), 2);
    assert!(
        store.describe().starts_with("https://"),
        "{}",
        store.describe()
    );
    options.ca_file = None;
    let text = open_error(&options, OpenMode::ReadOnly);
    assert!(
        text.contains("not trusted") && text.contains("store.ca_file"),
        "{text}"
    );
}

/// A `ca_file` that is missing, or holds no PEM certificate, is named with its key before any request.
#[test]
fn a_ca_file_that_is_missing_or_not_pem_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = ClickHouseDatabase {
        port: free_port(),
        name: "db".into(),
    };
    let not_pem = dir.path().join("ca.der");
    std::fs::write(&not_pem, [0x30, 0x82, 0x01, 0x0a]).unwrap();
    for (file, why) in [
        (dir.path().join("missing.pem"), ""),
        (not_pem, "no PEM certificate"),
    ] {
        let options = ClickHouseOptions {
            url: format!("https://127.0.0.1:{}", db.port),
            ca_file: Some(file.clone()),
            ..options(&db, Some(CLICKHOUSE_PASSWORD))
        };
        let text = open_error(&options, OpenMode::ReadWrite);
        assert!(
            text.contains(&format!("store.ca_file {}", file.display())),
            "{text}"
        );
        assert!(text.contains(why), "{text}");
        assert!(
            !text.contains("cannot connect"),
            "no request was made: {text}"
        );
    }
}

/// The row versions of `table_rows` beyond the newest of each key (its sorting key): what a merge removes.
fn superseded(db: &ClickHouseDatabase, table: &str) -> i64 {
    let key = db.query(&format!(
        "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = '{table}_rows'"
    ));
    let key = key.trim();
    let extra = db.query(&format!(
        "SELECT count() - uniqExact(tuple({key})) FROM {table}_rows"
    ));
    extra.trim().parse().unwrap()
}

/// `optimize_after_sync`: at the end of a sync each table it loaded into holds one row version per key, and
/// the views read as before; without it the superseded versions stay until ClickHouse merges.
#[test]
fn optimize_after_sync_leaves_one_version_per_key_and_the_views_unchanged() {
    for optimize in [false, true] {
        let db = clickhouse_database();
        let options = ClickHouseOptions {
            optimize_after_sync: optimize,
            ..options(&db, Some(CLICKHOUSE_PASSWORD))
        };
        let mut store = ClickHouseStore::open(&options, OpenMode::ReadWrite).unwrap();
        // No background merge may beat the check (the harness's engine merges small parts within moments).
        let merges = |what: &str| {
            for t in flowlake_store::schema::loaded_tables() {
                db.query(&format!("SYSTEM {what} MERGES {}_rows", t.name));
            }
        };
        merges("STOP");
        for changes in [4, 4, 4, 2] {
            store.load(&mut batch("P-1", changes), None).unwrap();
        }
        store.load(&mut batch("P-2", 1), None).unwrap();
        let views = |store: &ClickHouseStore| -> Vec<_> {
            flowlake_store::schema::loaded_tables()
                .map(|t| text(store, &format!("SELECT * FROM {} ORDER BY ALL", t.name)))
                .collect()
        };
        let before = views(&store);
        assert!(superseded(&db, "status_changes") > 0);
        assert!(superseded(&db, "work_items") > 0);
        if optimize {
            // OPTIMIZE is a merge: it waits for merges to be allowed.
            merges("START");
        }
        store.finish_sync().unwrap();
        assert_eq!(views(&store), before, "the views read as before");
        if optimize {
            for t in flowlake_store::schema::loaded_tables() {
                assert_eq!(
                    superseded(&db, t.name),
                    0,
                    "{}: one version per key",
                    t.name
                );
            }
        } else {
            assert!(superseded(&db, "status_changes") > 0, "nothing merged");
            merges("START");
        }
        assert_eq!(store.count("status_changes").unwrap(), 3);
    }
}
