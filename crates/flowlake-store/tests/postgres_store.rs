//! The PostgreSQL store's own faults, against a real server on loopback: what a user sees for a wrong
//! password, a missing database, a server that is not there and a read-only role, that no password reaches
//! an error or `Debug`, and two loads of different sources into one database at once.

use flowlake_core::StatusChange;
use flowlake_store::{LoadBatch, OpenMode, PostgresOptions, PostgresStore, Store};
use flowlake_testkit::servers::{free_port, postgres_database, POSTGRES_PASSWORD};

mod common;

use common::{t, work_item};

fn options(url: String, password: Option<&str>) -> PostgresOptions {
    PostgresOptions {
        url,
        schema: "flowlake".into(),
        password: password.map(String::from),
        ca_file: None,
    }
}

fn open_error(options: &PostgresOptions, mode: OpenMode) -> String {
    let e = PostgresStore::open(options, mode).expect_err("the store cannot be opened");
    let text = e.to_string();
    assert!(!text.contains(POSTGRES_PASSWORD), "no password in {text}");
    text
}

#[test]
fn a_wrong_password_names_the_store_and_what_to_check() {
    let db = postgres_database();
    let text = open_error(
        &options(db.url_without_password(), Some("wrong")),
        OpenMode::ReadWrite,
    );
    assert!(
        text.contains(&format!(
            "postgres://flowlake@127.0.0.1:{}/{}",
            db.port, db.name
        )),
        "{text}"
    );
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(text.contains("FLOWLAKE_STORE__PASSWORD"), "{text}");
}

#[test]
fn a_missing_database_says_to_create_it() {
    let db = postgres_database();
    let url = format!(
        "postgres://flowlake@127.0.0.1:{}/no_such_db?sslmode=disable",
        db.port
    );
    let text = open_error(&options(url, Some(POSTGRES_PASSWORD)), OpenMode::ReadWrite);
    assert!(text.contains("\"no_such_db\" does not exist"), "{text}");
    assert!(text.contains("createdb"), "{text}");
}

#[test]
fn a_server_that_is_not_there_is_named() {
    let url = format!(
        "postgres://flowlake@127.0.0.1:{}/db?connect_timeout=2",
        free_port()
    );
    let text = open_error(&options(url, Some(POSTGRES_PASSWORD)), OpenMode::ReadWrite);
    assert!(text.contains("is PostgreSQL running"), "{text}");
}

#[test]
fn a_store_never_created_says_what_to_run_when_read() {
    let db = postgres_database();
    let text = open_error(&options(db.url(), None), OpenMode::ReadOnly);
    assert!(text.contains("run `flowlake sync` first"), "{text}");
}

#[test]
fn no_password_reaches_debug_output() {
    let db = postgres_database();
    let with_password = options(db.url(), Some(POSTGRES_PASSWORD));
    let shown = format!("{with_password:?}");
    assert!(!shown.contains(POSTGRES_PASSWORD), "{shown}");
    let store = PostgresStore::open(&with_password, OpenMode::ReadWrite).unwrap();
    let shown = format!("{store:?} {}", store.describe());
    assert!(!shown.contains(POSTGRES_PASSWORD), "{shown}");
}

/// A role that may only read: writing is refused naming the permission, reading works.
#[test]
fn a_read_only_role_reads_and_is_refused_writes() {
    let db = postgres_database();
    drop(PostgresStore::open(&options(db.url(), None), OpenMode::ReadWrite).unwrap());
    db.psql(
        "CREATE ROLE reader LOGIN PASSWORD 'reader-password'; \
         GRANT USAGE ON SCHEMA flowlake TO reader; \
         GRANT SELECT ON ALL TABLES IN SCHEMA flowlake TO reader",
    );
    let url = format!(
        "postgres://reader@127.0.0.1:{}/{}?sslmode=disable",
        db.port, db.name
    );
    let reader = options(url, Some("reader-password"));
    let mut store = PostgresStore::open(&reader, OpenMode::ReadOnly).unwrap();
    assert_eq!(store.count("work_items").unwrap(), 0);
    let e = store
        .load(&mut batch("demo", 1), None)
        .expect_err("a read-only store refuses a load");
    let text = e.to_string();
    assert!(
        text.contains("read-only") || text.contains("permission denied"),
        "{text}"
    );
    let text = open_error(&reader, OpenMode::ReadWrite);
    assert!(text.contains("permission denied"), "{text}");
}

fn batch(source: &str, items: usize) -> LoadBatch {
    let mut b = LoadBatch::new();
    for n in 0..items {
        let key = format!("P-{n}");
        let item = work_item(source, "P", &key);
        b.work_item(&item);
        b.status_change(&StatusChange {
            item_id: item.id.clone(),
            change_id: "1".into(),
            at: t("2024-01-01T11:00:00Z"),
            author: None,
            from_status: Some("Open".into()),
            to_status: "Done".into(),
        });
    }
    b
}

/// Two syncs of different sources into one database at once: both commit every page.
#[test]
fn loads_of_two_sources_side_by_side_both_commit() {
    let db = postgres_database();
    drop(PostgresStore::open(&options(db.url(), None), OpenMode::ReadWrite).unwrap());
    let handles: Vec<_> = ["one", "two"]
        .into_iter()
        .map(|source| {
            let o = options(db.url(), None);
            std::thread::spawn(move || {
                let mut store = PostgresStore::open(&o, OpenMode::ReadWrite).unwrap();
                for _ in 0..20 {
                    store.load(&mut batch(source, 50), None).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let store = PostgresStore::open(&options(db.url(), None), OpenMode::ReadOnly).unwrap();
    assert_eq!(store.count("work_items").unwrap(), 100);
    assert_eq!(store.count("status_changes").unwrap(), 100);
}

#[test]
fn a_missing_password_says_where_to_set_it() {
    let db = postgres_database();
    let text = open_error(
        &options(db.url_without_password(), None),
        OpenMode::ReadWrite,
    );
    assert!(text.contains("set FLOWLAKE_STORE__PASSWORD"), "{text}");
}

/// TLS: with the server's CA the store connects encrypted (the server says so); without it the certificate
/// is not trusted, and the error says what to set.
#[test]
fn tls_verifies_the_server_against_the_ca_file() {
    let db = postgres_database();
    let mut tls = options(db.tls_url(), Some(POSTGRES_PASSWORD));
    tls.ca_file = Some(db.ca_file());
    let store = PostgresStore::open(&tls, OpenMode::ReadWrite).unwrap();
    let console = flowlake_store::Store::console(&store).unwrap();
    let encrypted = console
        .query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .unwrap()
        .rows_as_text()
        .unwrap();
    assert_eq!(encrypted, [[Some("true".to_string())]]);
    tls.ca_file = None;
    let text = open_error(&tls, OpenMode::ReadWrite);
    assert!(
        text.contains("not trusted") && text.contains("store.ca_file"),
        "{text}"
    );
}
