//! What the store does with SQL and settings it did not write: every DuckDB type rendered, one clean message
//! per error, bad settings refused before a file exists, exports that are all or nothing, a sandbox for SQL
//! run on behalf of others, and the mark of an unfinished rebuild.

use std::path::{Path, PathBuf};

use flowlake_store::duckdb_store::{OpenMode, OpenOptions};
use flowlake_store::{DuckDbStore, SqlConsole, Store, StoreError};

/// A migrated, empty store file in `dir`.
fn store_file(dir: &Path) -> PathBuf {
    let path = dir.join("f.duckdb");
    drop(DuckDbStore::open(&path, OpenMode::ReadWrite).unwrap());
    path
}

/// The one row of `sql`, as text.
fn row(store: &DuckDbStore, sql: &str) -> Vec<Option<String>> {
    let result = store.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut rows = result
        .rows_as_text()
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(rows.len(), 1, "{sql}");
    rows.remove(0)
}

/// The message of an error as the CLI prints it: the error and every cause, joined.
fn chain(e: &StoreError) -> String {
    let mut out = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[test]
fn query_renders_every_duckdb_type() {
    let store = DuckDbStore::open_in_memory().unwrap();
    // DuckDB's own text for each value, except where Arrow's formatter differs (noted).
    let cases: &[(&str, &str)] = &[
        // TIMESTAMPTZ: shown in UTC whatever the session zone (DuckDB names it, e.g. `Etc/UTC`).
        (
            "TIMESTAMPTZ '2026-05-01 12:34:56.789+00'",
            "2026-05-01T12:34:56.789Z",
        ),
        (
            "TIMESTAMPTZ '2026-05-01 12:00:00+03'",
            "2026-05-01T09:00:00Z",
        ),
        ("TIMESTAMP '2026-05-01 12:34:56'", "2026-05-01T12:34:56"),
        ("DATE '2026-05-01'", "2026-05-01"),
        ("TIME '12:34:56.5'", "12:34:56.500"),
        ("INTERVAL '1 month 2 days 3 hours'", "1 mons 2 days 3 hours"),
        ("12.345::DECIMAL(10,3)", "12.345"),
        (
            "123456789012345678901234567890.5::DECIMAL(38,1)",
            "123456789012345678901234567890.5",
        ),
        // HUGEINT (what `sum()` of integers gives) and UHUGEINT at their limits.
        (
            "170141183460469231731687303715884105727::HUGEINT",
            "170141183460469231731687303715884105727",
        ),
        (
            "(-170141183460469231731687303715884105727)::HUGEINT - 1",
            "-170141183460469231731687303715884105728",
        ),
        (
            "340282366920938463463374607431768211455::UHUGEINT",
            "340282366920938463463374607431768211455",
        ),
        (
            "(SELECT sum(x) FROM (VALUES (9223372036854775807), (1)) t(x))",
            "9223372036854775808",
        ),
        ("[1, 2, NULL]", "[1, 2, NULL]"),
        (
            "[TIMESTAMPTZ '2026-05-01 00:00:00+00']",
            "[2026-05-01T00:00:00Z]",
        ),
        ("{'a': 1, 'b': 'x'}", "{a: 1, b: x}"),
        (
            "{'at': TIMESTAMPTZ '2026-05-01 00:00:00+00', 'n': 1}",
            "{at: 2026-05-01T00:00:00Z, n: 1}",
        ),
        ("MAP {'k': 1}", "{k: 1}"),
        ("'\\xAA\\xBB'::BLOB", "aabb"),
        (
            "'4ac7a9e9-607c-4c8a-84f3-843f0191e3fd'::UUID",
            "4ac7a9e9-607c-4c8a-84f3-843f0191e3fd",
        ),
        ("'sad'::ENUM('sad', 'ok')", "sad"),
        ("true", "true"),
        ("1.5::DOUBLE", "1.5"),
        ("'text'", "text"),
        ("'{\"a\": 1}'::JSON", "{\"a\": 1}"),
    ];
    let mut wrong = Vec::new();
    for (expr, want) in cases {
        let sql = format!("SELECT {expr} AS v");
        match store.query(&sql).and_then(|r| r.rows_as_text()) {
            Ok(rows) if rows == [vec![Some(want.to_string())]] => {}
            Ok(rows) => wrong.push(format!("{expr}: {rows:?}, want {want}")),
            Err(e) => wrong.push(format!("{expr}: {e}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // `now()` (the query) and NULL of any type.
    let now = row(&store, "SELECT now() AS now, NULL::TIMESTAMPTZ AS none");
    assert!(
        now[0].as_deref().is_some_and(|t| t.ends_with("Z")),
        "{now:?}"
    );
    assert_eq!(now[1], None);
}

#[test]
fn a_duckdb_error_is_reported_once_without_the_c_api_code() {
    let store = DuckDbStore::open_in_memory().unwrap();
    for sql in ["select * from nosuch", "selec 1", "select 1/'a'::INT"] {
        let e = store.query(sql).unwrap_err();
        let text = chain(&e);
        assert!(!text.contains("Error code"), "{sql}: {text}");
        assert!(!text.contains("Unknown error code"), "{sql}: {text}");
        let first = text.lines().next().unwrap_or_default();
        assert!(first.starts_with("query: "), "{sql}: {text}");
        // DuckDB's message appears once.
        let message = first.trim_start_matches("query: ");
        assert_eq!(text.matches(message).count(), 1, "{sql}: {text}");
    }
}

#[test]
fn an_empty_query_says_it_is_empty() {
    let store = DuckDbStore::open_in_memory().unwrap();
    for sql in [
        "",
        "   \n\t",
        ";",
        " ; ; ",
        "-- only a comment",
        "/* nothing */",
    ] {
        let e = store.query(sql).unwrap_err();
        assert!(matches!(e, StoreError::EmptyQuery { .. }), "{sql:?}: {e:?}");
        let text = chain(&e);
        assert!(text.contains("the query is empty"), "{sql:?}: {text}");
        assert!(!text.contains("Error code"), "{sql:?}: {text}");
    }
    let dir = tempfile::tempdir().unwrap();
    let e = store
        .export("  ", &dir.path().join("q.csv"), "csv")
        .unwrap_err();
    assert!(matches!(e, StoreError::EmptyQuery { .. }), "{e:?}");
}

#[test]
fn a_bad_memory_limit_is_refused_before_the_store_file_exists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.duckdb");
    for limit in ["lots", "12 parsecs", "1GB'; DROP TABLE x; --", "1\u{0}GB"] {
        let e = flowlake_store::duckdb_store::check_memory_limit(limit).unwrap_err();
        assert!(!chain(&e).contains("Error code"), "{limit}: {e}");
        let options = OpenOptions {
            memory_limit: Some(limit.to_string()),
        };
        let e = DuckDbStore::open_with(&path, OpenMode::ReadWrite, &options).unwrap_err();
        assert!(e.to_string().contains("memory_limit"), "{limit}: {e}");
        assert!(!path.exists(), "{limit}: the store file was created");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{limit}");
    }
    for limit in ["512MB", "1GiB", "2 GB"] {
        flowlake_store::duckdb_store::check_memory_limit(limit).unwrap();
    }
    let options = OpenOptions {
        memory_limit: Some("256MB".into()),
    };
    let store = DuckDbStore::open_with(&path, OpenMode::ReadWrite, &options).unwrap();
    let limit = row(&store, "SELECT current_setting('memory_limit')");
    assert_eq!(limit[0].as_deref(), Some("244.1 MiB"));
}

/// A query that writes rows and then fails midway: DuckDB's `error()` on the 150,001st row.
const FAILS_MIDWAY: &str =
    "SELECT i, CASE WHEN i > 150000 THEN error('boom at ' || i) ELSE 'row ' || i END AS v FROM range(300000) t(i)";

#[test]
fn a_failed_export_leaves_the_earlier_file_and_no_partial_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = DuckDbStore::open(store_file(dir.path()), OpenMode::ReadOnly).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for (format, file) in [("csv", "query.csv"), ("parquet", "query.parquet")] {
        let path = out.join(file);
        store.export("SELECT 1 AS good", &path, format).unwrap();
        let good = std::fs::read(&path).unwrap();
        assert!(!good.is_empty());

        let e = store.export(FAILS_MIDWAY, &path, format).unwrap_err();
        assert!(chain(&e).contains("boom at"), "{e}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            good,
            "{format}: the earlier file changed"
        );
        let names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "query.csv" && n != "query.parquet")
            .collect();
        assert!(names.is_empty(), "{format}: left behind {names:?}");

        // And a good export replaces the file, leaving nothing else either.
        store.export("SELECT 2 AS better", &path, format).unwrap();
        assert_ne!(std::fs::read(&path).unwrap(), good);
    }
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[cfg(unix)]
#[test]
fn an_export_into_a_read_only_directory_leaves_the_earlier_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = DuckDbStore::open(store_file(dir.path()), OpenMode::ReadOnly).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let path = out.join("query.csv");
    store.export("SELECT 1 AS good", &path, "csv").unwrap();
    let good = std::fs::read(&path).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
    let result = store.export("SELECT 2 AS better", &path, "csv");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
    if std::fs::File::create(out.join("probe")).is_ok() && result.is_ok() {
        // Running as root: the directory was writable after all; nothing to check.
        return;
    }
    let e = result.unwrap_err();
    assert!(!chain(&e).contains("Error code"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), good);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
}

/// Statements a sandboxed store must refuse: each with what it would do and the words of DuckDB's refusal.
fn escapes(dir: &Path) -> Vec<(String, &'static str, &'static str)> {
    const NO_FILES: &str = "file system operations are disabled by configuration";
    const LOCKED: &str = "the configuration has been locked";
    let outside = dir.join("outside.csv");
    std::fs::write(&outside, "a,b\n1,2\n").unwrap();
    let outside = outside.display().to_string();
    let written = dir.join("written.csv").display().to_string();
    let attached = dir.join("other.duckdb").display().to_string();
    let exported = dir.join("exported").display().to_string();
    vec![
        (
            format!("COPY (SELECT 1) TO '{written}'"),
            "writes a file",
            NO_FILES,
        ),
        (
            format!("SELECT * FROM read_csv('{outside}')"),
            "reads a file",
            NO_FILES,
        ),
        (
            format!("SELECT * FROM '{outside}'"),
            "reads a file by replacement scan",
            NO_FILES,
        ),
        (
            format!("SELECT * FROM read_text('{outside}')"),
            "reads a file as text",
            NO_FILES,
        ),
        (
            format!("SELECT * FROM glob('{}/*')", dir.display()),
            "lists files",
            NO_FILES,
        ),
        (
            format!("ATTACH '{attached}' AS other"),
            "attaches another database",
            NO_FILES,
        ),
        (
            format!("EXPORT DATABASE '{exported}'"),
            "writes the database out",
            NO_FILES,
        ),
        (
            "INSTALL httpfs".into(),
            "installs an extension from the network",
            NO_FILES,
        ),
        (
            "LOAD httpfs".into(),
            "loads an extension",
            "Loading external extensions is disabled",
        ),
        // Only DuckDB's own CLI has getenv; were it ever linked in, external access off disables it too.
        (
            "SELECT getenv('HOME')".into(),
            "reads the environment",
            "getenv",
        ),
        (
            "SET enable_external_access = true".into(),
            "re-enables external access",
            LOCKED,
        ),
        (
            "RESET enable_external_access".into(),
            "re-enables external access",
            LOCKED,
        ),
        (
            "SET lock_configuration = false".into(),
            "unlocks the settings",
            LOCKED,
        ),
        (
            "SET allow_unsigned_extensions = true".into(),
            "allows unsigned extensions",
            LOCKED,
        ),
        (
            "SET autoinstall_known_extensions = true".into(),
            "re-enables autoinstall",
            LOCKED,
        ),
        (
            "SET memory_limit = '100TB'".into(),
            "changes a setting",
            LOCKED,
        ),
        (
            "CREATE TABLE t AS SELECT 1".into(),
            "writes to the store",
            "read-only mode",
        ),
    ]
}

#[test]
fn a_sandboxed_store_refuses_files_extensions_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_file(dir.path());
    let store = DuckDbStore::open(&path, OpenMode::Sandboxed).unwrap();
    for (sql, what, refusal) in escapes(dir.path()) {
        match store.query(&sql) {
            Ok(_) => panic!("`{sql}` {what} in the sandbox"),
            Err(e) => assert!(e.to_string().contains(refusal), "`{sql}`: {e}"),
        }
    }
    for (setting, want) in [
        ("enable_external_access", "false"),
        ("autoinstall_known_extensions", "false"),
        ("autoload_known_extensions", "false"),
        ("lock_configuration", "true"),
    ] {
        let sql = format!("SELECT current_setting('{setting}')::VARCHAR");
        assert_eq!(row(&store, &sql), [Some(want.to_string())], "{setting}");
    }
    assert!(!dir.path().join("written.csv").exists());
    assert!(!dir.path().join("exported").exists());
    assert!(!dir.path().join("other.duckdb").exists());
    // What the sandbox is for still works: reading the store.
    assert_eq!(
        row(&store, "SELECT count(*) FROM work_items"),
        [Some("0".to_string())]
    );
    assert_eq!(
        row(&store, "SELECT count(*) FROM item_status_time"),
        [Some("0".to_string())]
    );
}

#[test]
fn a_read_only_store_still_runs_what_the_sandbox_refuses() {
    // The difference `flowlake query --help` documents: without the sandbox the SQL has the process's rights.
    let dir = tempfile::tempdir().unwrap();
    let path = store_file(dir.path());
    let store = DuckDbStore::open(&path, OpenMode::ReadOnly).unwrap();
    let written = dir.path().join("written.csv");
    store
        .query(&format!("COPY (SELECT 1) TO '{}'", written.display()))
        .unwrap();
    assert!(written.exists());
}

#[test]
fn a_sandboxed_store_needs_an_existing_migrated_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none.duckdb");
    assert!(DuckDbStore::open(&path, OpenMode::Sandboxed).is_err());
    assert!(!path.exists());
}

#[test]
fn a_rebuild_mark_stays_until_the_rebuild_ends_and_keeps_its_first_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_file(dir.path());
    let mut store = DuckDbStore::open(&path, OpenMode::ReadWrite).unwrap();
    assert_eq!(store.unfinished_rebuild().unwrap(), None);
    store.begin_rebuild().unwrap();
    let since = store.unfinished_rebuild().unwrap().unwrap();
    drop(store);
    // The mark is committed: another process (a read-only one) sees it.
    let reader = DuckDbStore::open(&path, OpenMode::ReadOnly).unwrap();
    assert_eq!(reader.unfinished_rebuild().unwrap(), Some(since));
    drop(reader);
    let mut store = DuckDbStore::open(&path, OpenMode::ReadWrite).unwrap();
    store.begin_rebuild().unwrap();
    assert_eq!(store.unfinished_rebuild().unwrap(), Some(since));
    store.end_rebuild().unwrap();
    assert_eq!(store.unfinished_rebuild().unwrap(), None);
    // Not a data table: an export of every table leaves it out.
    assert!(flowlake_store::schema::table("store_marks").is_none());
}
