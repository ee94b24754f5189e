//! The binary against a PostgreSQL store, as a data engineer runs it: `sync`, `metrics` and `query` read
//! the same as on the DuckDB file, and a sync killed with SIGKILL mid-run resumes to the tables of a run
//! that was never interrupted. The server is real, on loopback, one per test process
//! (`flowlake_testkit::servers::postgres_database`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use flowlake_testkit::servers::{
    clickhouse_database, postgres_database, OwnPostgres, PostgresDatabase, CLICKHOUSE_PASSWORD,
    CLICKHOUSE_USER, POSTGRES_PASSWORD,
};

mod common;

use common::ok;

/// The documented tables a dump compares, and the columns of each that hold the wall clock (left out).
const TABLES: &[(&str, &str)] = &[
    ("work_items", "*"),
    ("status_changes", "*"),
    ("field_changes", "*"),
    ("people", "*"),
    ("pull_requests", "*"),
    ("pull_request_reviews", "*"),
    ("deployments", "*"),
    ("releases", "*"),
    ("item_metrics", "*"),
    ("status_intervals", "*"),
    ("item_status_time", "*"),
    ("tracker_exporter_issue_metrics", "*"),
    ("raw_records", "source, stream, key, updated_at, payload"),
    ("sync_state", "source, stream, cursor"),
];

/// A generator source of `issues` in pages of 50, into `db` (or the DuckDB file when `None`).
fn write_config(dir: &Path, db: Option<&PostgresDatabase>, issues: u32) {
    std::fs::create_dir_all(dir).unwrap();
    let store = match db {
        Some(db) => format!(
            "[store]\nkind = \"postgres\"\nurl = \"{}\"\nschema = \"analytics\"\n",
            db.url_without_password()
        ),
        None => "[store]\npath = \"flowlake.duckdb\"\n".into(),
    };
    std::fs::write(
        dir.join("flowlake.toml"),
        format!(
            "{store}\n[[sources]]\nkind = \"generator\"\nname = \"demo\"\nissues = {issues}\npage_size = 50\n\
             until = \"2026-06-30\"\n"
        ),
    )
    .unwrap();
}

const ENV: &[(&str, &str)] = &[("FLOWLAKE_STORE__PASSWORD", POSTGRES_PASSWORD)];

/// Every table of [`TABLES`] as CSV, its lines sorted.
fn dump(dir: &Path) -> String {
    let mut out = String::new();
    for (table, columns) in TABLES {
        let csv = ok(
            dir,
            &[
                "query",
                &format!("select {columns} from {table}"),
                "--format",
                "csv",
            ],
            ENV,
        );
        let mut lines: Vec<&str> = csv.lines().collect();
        lines.sort();
        out += &format!("== {table}\n{}\n", lines.join("\n"));
    }
    out
}

/// `flowlake metrics` up to 2026-06-30 as of one instant: the ages of open items run to the report's "now",
/// so two reports made a moment apart by the clock differ by the seconds between them.
fn report(dir: &Path) -> String {
    let args = [
        "metrics",
        "--to",
        "2026-06-30",
        "--as-of",
        "2030-01-01T00:00:00Z",
    ];
    ok(dir, &args, ENV)
}

#[test]
fn sync_metrics_and_query_read_the_same_as_on_the_duckdb_file() {
    let (duck, pg) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let db = postgres_database();
    write_config(duck.path(), None, 200);
    write_config(pg.path(), Some(&db), 200);
    ok(duck.path(), &["sync"], &[]);
    let summary = ok(pg.path(), &["sync"], ENV);
    assert!(summary.contains("work_items"), "{summary}");
    assert_eq!(dump(duck.path()), dump(pg.path()));
    assert_eq!(report(duck.path()), report(pg.path()));
    // A rebuild from the raw landing leaves the same tables; an export writes the same CSV.
    let before = dump(pg.path());
    ok(pg.path(), &["rebuild"], ENV);
    assert_eq!(dump(pg.path()), before);
    for dir in [duck.path(), pg.path()] {
        ok(
            dir,
            &["export", "--table", "item_metrics", "-o", "out"],
            ENV,
        );
    }
    let csv = |dir: &Path| {
        let text = std::fs::read_to_string(dir.join("out/item_metrics.csv")).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines.sort();
        lines
    };
    assert_eq!(csv(pg.path()), csv(duck.path()));
    assert!(
        db.psql("select count(*) from analytics.work_items").trim() == "200",
        "the tables are in the configured schema"
    );
}

/// Work items committed in `db`'s `analytics` schema (0 before the first commit or while unreachable).
fn committed_items(db: &PostgresDatabase) -> u32 {
    Command::new("psql")
        .args([
            "-X",
            "-A",
            "-t",
            "-h",
            "127.0.0.1",
            "-p",
            &db.port.to_string(),
        ])
        .args(["-U", "flowlake", "-d", &db.name, "-c"])
        .arg("select count(*) from analytics.work_items")
        .env("PGPASSWORD", POSTGRES_PASSWORD)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

/// Starts `flowlake sync` in `dir` and waits until at least 100 items are committed in `db`.
fn sync_until_some_pages_committed(dir: &Path, db: &PostgresDatabase) -> std::process::Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowlake"))
        .arg("sync")
        .current_dir(dir)
        .env("FLOWLAKE_STORE__PASSWORD", POSTGRES_PASSWORD)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while committed_items(db) < 100 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sync ended before it could be interrupted"
        );
        assert!(Instant::now() < deadline, "no page committed within 120 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn a_sync_killed_mid_run_resumes_to_the_tables_of_an_uninterrupted_one() {
    let issues = 1500;
    let (killed, whole) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (db_killed, db_whole) = (postgres_database(), postgres_database());
    write_config(killed.path(), Some(&db_killed), issues);
    write_config(whole.path(), Some(&db_whole), issues);
    ok(whole.path(), &["sync"], ENV);

    let mut child = sync_until_some_pages_committed(killed.path(), &db_killed);
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill = committed_items(&db_killed);
    assert!(
        at_kill < issues,
        "killed mid-run ({at_kill} of {issues} committed)"
    );
    ok(killed.path(), &["sync"], ENV);
    assert_eq!(dump(killed.path()), dump(whole.path()));
}

/// `store copy` DuckDB → PostgreSQL → ClickHouse → DuckDB gives back the same tables and report, and `store
/// check` finds each consistent; a copy into a store that holds data is refused. The data is `demo --source
/// github`'s: pull requests, reviews, deployments and releases beside issues.
#[test]
fn store_copy_round_trips_duckdb_to_postgres_to_clickhouse_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    ok(path, &["demo", "--source", "github", "-q"], &[]);
    let db = postgres_database();
    write_config(&path.join("pg"), Some(&db), 1);
    write_config(&path.join("back"), None, 1);
    let ch = clickhouse_database();
    let ch_dir = path.join("ch");
    std::fs::create_dir_all(&ch_dir).unwrap();
    std::fs::write(
        ch_dir.join("flowlake.toml"),
        format!(
            "[store]\nkind = \"clickhouse\"\nurl = \"{}\"\ndatabase = \"{}\"\nuser = \"{CLICKHOUSE_USER}\"\n",
            ch.url(),
            ch.name
        ),
    )
    .unwrap();
    let ch_env = [("FLOWLAKE_STORE__PASSWORD", CLICKHOUSE_PASSWORD)];
    let copied = ok(path, &["store", "copy", "--to", "pg/flowlake.toml"], ENV);
    assert!(
        copied.contains("sync cursors from flowlake.duckdb into postgres://"),
        "{copied}"
    );
    let checked = ok(&path.join("pg"), &["store", "check"], ENV);
    assert!(
        checked.contains("schema version 1") && checked.contains("consistent"),
        "{checked}"
    );
    // The PostgreSQL store copied into ClickHouse, and ClickHouse into a new DuckDB file. The target's
    // password comes from the same variable as the source's, so the two servers share one here.
    let pg_url = format!(
        "postgres://flowlake:{POSTGRES_PASSWORD}@127.0.0.1:{}/{}?sslmode=disable",
        db.port, db.name
    );
    std::fs::write(
        path.join("pg/with-password.toml"),
        format!("[store]\nkind = \"postgres\"\nurl = \"{pg_url}\"\nschema = \"analytics\"\n"),
    )
    .unwrap();
    ok(
        &path.join("pg"),
        &[
            "--config",
            "with-password.toml",
            "store",
            "copy",
            "--to",
            "../ch/flowlake.toml",
        ],
        &ch_env,
    );
    let checked = ok(&ch_dir, &["store", "check"], &ch_env);
    assert!(checked.contains("consistent"), "{checked}");
    ok(
        &ch_dir,
        &["store", "copy", "--to", "../back/flowlake.duckdb"],
        &ch_env,
    );
    let original = dump(path);
    assert!(original.contains("== pull_request_reviews\n"), "{original}");
    assert_eq!(dump(&path.join("pg")), original);
    let in_clickhouse = {
        let mut out = String::new();
        for (table, columns) in TABLES {
            let csv = ok(
                &ch_dir,
                &[
                    "query",
                    &format!("select {columns} from {table}"),
                    "--format",
                    "csv",
                ],
                &ch_env,
            );
            let mut lines: Vec<&str> = csv.lines().collect();
            lines.sort();
            out += &format!("== {table}\n{}\n", lines.join("\n"));
        }
        out
    };
    assert_eq!(in_clickhouse, original);
    assert_eq!(dump(&path.join("back")), original);
    assert_eq!(report(&path.join("back")), report(path));
    assert_eq!(report(&path.join("pg")), report(path));
    let refused = common::fails(path, &["store", "copy", "--to", "pg/flowlake.toml"], ENV);
    assert!(
        refused.contains("the target already holds data"),
        "{refused}"
    );
}

/// The server goes away mid-sync (crashed, as `pg_ctl stop -m immediate` does): the sync fails naming the
/// store, nothing committed is lost, and once the server is back the next sync resumes to the tables of a
/// run that was never interrupted.
#[test]
fn a_server_that_goes_away_mid_sync_loses_nothing_and_the_next_sync_resumes() {
    let issues = 1500;
    let server = OwnPostgres::start();
    let db = server.database();
    let (cut, whole) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_config(cut.path(), Some(&db), issues);
    write_config(whole.path(), Some(&postgres_database()), issues);
    ok(whole.path(), &["sync"], ENV);
    let child = sync_until_some_pages_committed(cut.path(), &db);
    let before = committed_items(&db);
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
    let after = committed_items(&db);
    assert!(
        after >= before && after < issues,
        "{before} committed before the crash, {after} after"
    );
    ok(cut.path(), &["sync"], ENV);
    assert_eq!(dump(cut.path()), dump(whole.path()));
}
