//! `flowlake sync` into a ClickHouse store, killed (SIGKILL) mid-way and run again, leaves the documented
//! tables as one uninterrupted sync does: ClickHouse saves a page's cursor after its rows, with no
//! transaction around both, so this is where a crash can fall between them (the page is then replayed).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{dump, ok};
use flowlake_testkit::servers::{
    clickhouse_database, ClickHouseDatabase, OwnClickHouse, CLICKHOUSE_PASSWORD, CLICKHOUSE_USER,
};

const ISSUES: u64 = 3000;

/// The instant both reports are made as of, after all the generated history (whose end `init` sets to
/// today): the ages of open items run to the report's "now", so two reports made a moment apart by the clock
/// differ by the seconds between them.
const AS_OF: &str = "2030-01-01T00:00:00Z";

const SIZE: &[(&str, &str)] = &[
    ("FLOWLAKE_SOURCES__0__ISSUES", "3000"),
    ("FLOWLAKE_SOURCES__0__PAGE_SIZE", "100"),
];

/// `flowlake init`'s config with the store in `db`.
fn configure(dir: &Path, db: &ClickHouseDatabase) {
    ok(dir, &["init"], &[]);
    let path = dir.join("flowlake.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let store = format!(
        "[store]\nkind = \"clickhouse\"\nurl = \"{}\"\ndatabase = \"{}\"\nuser = \"{CLICKHOUSE_USER}\"\n\
         password = \"{CLICKHOUSE_PASSWORD}\"\nretry_base_delay_ms = 50\n\n",
        db.url(),
        db.name
    );
    let start = text.find("[store]\n").expect("a [store] section");
    let end = start + text[start..].find("\n[state]").expect("a [state] section") + 1;
    std::fs::write(&path, format!("{}{store}{}", &text[..start], &text[end..])).unwrap();
}

/// Work items stored in `db`, or `None` before its tables exist.
fn work_items(db: &ClickHouseDatabase) -> Option<u64> {
    db.try_query("SELECT count() FROM work_items")
        .and_then(|s| s.trim().parse().ok())
}

#[test]
fn a_sync_killed_mid_way_then_resumed_leaves_the_tables_of_an_uninterrupted_one() {
    let whole = tempfile::tempdir().unwrap();
    let db = clickhouse_database();
    configure(whole.path(), &db);
    ok(whole.path(), &["sync"], SIZE);
    assert_eq!(work_items(&db), Some(ISSUES));

    let cut = tempfile::tempdir().unwrap();
    let db = clickhouse_database();
    configure(cut.path(), &db);
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowlake"))
        .arg("sync")
        .current_dir(cut.path())
        .envs(SIZE.iter().copied())
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if work_items(&db).is_some_and(|n| n >= 300) {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sync ended before a few pages were loaded"
        );
        assert!(Instant::now() < deadline, "no pages loaded within 120 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill = work_items(&db).unwrap();
    assert!(
        at_kill < ISSUES,
        "killed mid-way, not after the end ({at_kill})"
    );

    ok(cut.path(), &["sync"], SIZE);
    assert_eq!(work_items(&db), Some(ISSUES));
    let (want, got) = (dump(whole.path()), dump(cut.path()));
    assert!(want.lines().count() > 3000, "the dump holds rows");
    assert!(
        want == got,
        "the resumed sync differs from the uninterrupted one"
    );

    // The report reads (item metrics, intervals, time in status, guessed statuses) say on ClickHouse what
    // they say on DuckDB.
    let duckdb = tempfile::tempdir().unwrap();
    ok(duckdb.path(), &["init"], &[]);
    ok(duckdb.path(), &["sync"], SIZE);
    let report = |dir: &Path| {
        ok(
            dir,
            &[
                "metrics",
                "--to",
                "2026-06-30",
                "--by",
                "week",
                "--format",
                "json",
                "--as-of",
                AS_OF,
            ],
            &[],
        )
    };
    let (on_duckdb, on_clickhouse) = (report(duckdb.path()), report(cut.path()));
    assert!(on_duckdb.contains("lead_time_seconds"), "{on_duckdb}");
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
    let (a, b) = (parse(&on_duckdb), parse(&on_clickhouse));
    let mut differences = Vec::new();
    differ("", &a, &b, &mut differences);
    assert!(
        differences.is_empty(),
        "the report on DuckDB (left) and on ClickHouse (right) differs at:\n{}",
        differences.join("\n")
    );
}

/// Where `a` and `b` differ, as `path: left != right`; fractions within rounding count as equal, since a mean
/// sums its rows in the order the store returns them.
fn differ(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if !(x.is_i64() && y.is_i64()) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if (x - y).abs() > 1e-9 * x.abs().max(1.0) {
                out.push(format!("{path}: {x} != {y}"));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                differ(&format!("{path}[{i}]"), x, y, out);
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => differ(&format!("{path}.{k}"), v, w, out),
                    None => out.push(format!("{path}.{k}: only on the left")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{path}.{k}: only on the right"));
            }
        }
        _ if a != b => out.push(format!("{path}: {a} != {b}")),
        _ => {}
    }
}

/// The server goes away mid-sync (the harness killed between pages): the sync fails once its retries are
/// spent, naming the store; nothing it had loaded is lost; and once the server is back the next sync leaves
/// the tables of an uninterrupted run.
#[test]
fn a_server_that_goes_away_mid_sync_loses_nothing_and_the_next_sync_resumes() {
    let whole = tempfile::tempdir().unwrap();
    let db = clickhouse_database();
    configure(whole.path(), &db);
    ok(whole.path(), &["sync"], SIZE);

    let mut server = OwnClickHouse::start();
    let db = server.database("flowlake");
    let cut = tempfile::tempdir().unwrap();
    configure(cut.path(), &db);
    let child = Command::new(env!("CARGO_BIN_EXE_flowlake"))
        .arg("sync")
        .current_dir(cut.path())
        .envs(SIZE.iter().copied())
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while work_items(&db).is_none_or(|n| n < 300) {
        assert!(Instant::now() < deadline, "no pages loaded within 120 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = work_items(&db).unwrap();
    server.crash();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the sync fails when its store goes away"
    );
    assert!(
        stderr.contains(&format!("127.0.0.1:{}", db.port)),
        "the error names the store: {stderr}"
    );
    server.restart();
    let after = work_items(&db).unwrap();
    assert!(
        after >= before && after < ISSUES,
        "{before} items loaded before the crash, {after} after"
    );
    ok(cut.path(), &["sync"], SIZE);
    assert_eq!(work_items(&db), Some(ISSUES));
    assert!(
        dump(whole.path()) == dump(cut.path()),
        "the resumed sync differs from the uninterrupted one"
    );
}
