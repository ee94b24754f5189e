//! `flowlake tracker-exporter` as a tracker-exporter user runs it: an `.env` from tracker-exporter's own
//! README examples (pointed at the fake Tracker and the ClickHouse test server), `--run-once`, and the
//! per-status rows of the worked example in ClickHouse; a second run changes nothing; bad variables are
//! errors naming them; variables flowlake does not honour are warned about.

mod common;

use std::path::Path;

use common::{fails, flowlake};
use flowlake_testkit::servers::{
    clickhouse_database, ClickHouseDatabase, CLICKHOUSE_PASSWORD, CLICKHOUSE_USER,
};
use flowlake_testkit::yandex_tracker::{FakeTracker, FakeTrackerSpec};

/// The `.env` of tracker-exporter's README ("stateful" with a local JSON file), for `db`.
fn write_env(dir: &Path, db: &ClickHouseDatabase, extra: &str) {
    std::fs::write(
        dir.join(".env"),
        format!(
            "EXPORTER_TRACKER__TOKEN=y0_fake_tracker_token\n\
             EXPORTER_TRACKER__ORG_ID=7654321\n\
             EXPORTER_TRACKER__SEARCH__QUEUES=DEV,SRE,!TRASH\n\
             EXPORTER_STATEFUL=true\n\
             EXPORTER_STATEFUL_INITIAL_RANGE=520w\n\
             EXPORTER_STATE__STORAGE=jsonfile\n\
             EXPORTER_STATE__JSONFILE_STRATEGY=local\n\
             EXPORTER_CLICKHOUSE__HOST=127.0.0.1\n\
             EXPORTER_CLICKHOUSE__PORT={}\n\
             EXPORTER_CLICKHOUSE__USERNAME={CLICKHOUSE_USER}\n\
             EXPORTER_CLICKHOUSE__PASSWORD={CLICKHOUSE_PASSWORD}\n\
             EXPORTER_CLICKHOUSE__DATABASE={}\n\
             EXPORTER_CLICKHOUSE__BACKOFF_BASE_DELAY=0.05\n\
             EXPORTER_CHANGELOG_EXPORT_ENABLED=\"false\"\n\
             {extra}",
            db.port, db.name
        ),
    )
    .unwrap();
}

/// The fake stands in for api.tracker.yandex.net, which tracker-exporter has no variable for.
fn base_url(fake: &FakeTracker) -> [(&'static str, String); 1] {
    [("FLOWLAKE_SOURCES__0__BASE_URL", fake.uri())]
}

fn run_once(dir: &Path, fake: &FakeTracker) -> String {
    let [(k, v)] = base_url(fake);
    let out = flowlake(
        dir,
        &["tracker-exporter", "--env-file", ".env", "--run-once"],
        &[(k, v.as_str())],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

const EXAMPLE_ROWS: &str =
    "select status_name, status_transitions_count, duration, busdays_duration, \
    human_readable_duration, last_seen from tracker_exporter_issue_metrics FINAL \
    where item_id = 'tracker:60000000a1b2c3d4e5f6' order by status_name FORMAT CSV";

#[test]
fn an_env_file_runs_once_into_clickhouse_with_the_worked_example() {
    let fake = FakeTracker::start(&FakeTrackerSpec::default());
    let db = clickhouse_database();
    let dir = tempfile::tempdir().unwrap();
    write_env(dir.path(), &db, "EXPORTER_TRACKER__TIMEOUT=30\n");
    let stderr = run_once(dir.path(), &fake);
    assert!(
        stderr.contains("warning: EXPORTER_TRACKER__TIMEOUT is not supported"),
        "{stderr}"
    );
    assert!(!stderr.contains("y0_fake_tracker_token") && !stderr.contains(CLICKHOUSE_PASSWORD));
    assert_eq!(
        db.query(EXAMPLE_ROWS),
        "\"in_progress\",2,181800,100800,\"2d 2h\",\"2023-10-17 12:00:00.000000\"\n\
         \"open\",1,9000,0,\"2h 30m\",\"2023-10-16 08:30:00.000000\"\n\
         \"review\",1,79200,39600,\"22h\",\"2023-10-18 10:00:00.000000\"\n"
    );
    assert_eq!(
        db.query("select count() from work_items FINAL").trim(),
        "120"
    );
    // Cursors beside tracker-exporter's state file, which is left alone.
    assert!(dir.path().join("flowlake-state.json").exists());
    assert!(!dir.path().join("state.json").exists());
    let before =
        db.query("select count(), sum(duration) from tracker_exporter_issue_metrics FINAL");
    run_once(dir.path(), &fake);
    assert_eq!(
        db.query("select count(), sum(duration) from tracker_exporter_issue_metrics FINAL"),
        before
    );
}

#[test]
fn bad_or_missing_variables_are_errors_naming_them() {
    let db = clickhouse_database();
    let dir = tempfile::tempdir().unwrap();
    write_env(dir.path(), &db, "EXPORTER_WORKDAYS=[0,1,9]\n");
    let err = fails(
        dir.path(),
        &["tracker-exporter", "--env-file", ".env", "--run-once"],
        &[],
    );
    assert!(
        err.contains("EXPORTER_WORKDAYS=[0,1,9]: days are numbers 0 (Monday) to 6 (Sunday)"),
        "{err}"
    );
    let err = fails(
        dir.path(),
        &["tracker-exporter", "--env-file", "missing.env"],
        &[],
    );
    assert!(err.contains("--env-file missing.env"), "{err}");
    // (In a folder of its own: a `.env` in the current folder is read too, as by every command.)
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("empty.env"), "").unwrap();
    let err = fails(
        other.path(),
        &["tracker-exporter", "--env-file", "empty.env"],
        &[],
    );
    assert!(err.contains("EXPORTER_TRACKER__TOKEN: no token"), "{err}");
}

#[test]
fn print_config_shows_the_translation_without_secrets() {
    let db = clickhouse_database();
    let dir = tempfile::tempdir().unwrap();
    write_env(dir.path(), &db, "");
    let out = flowlake(
        dir.path(),
        &["tracker-exporter", "--env-file", ".env", "--print-config"],
        &[],
    );
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "url = \"http://127.0.0.1:{}\"  # EXPORTER_CLICKHOUSE__HOST",
            db.port
        )),
        "{text}"
    );
    assert!(
        text.contains("schedule = \"@every 30m\"  # EXPORTER_ETL_INTERVAL_MINUTES"),
        "{text}"
    );
    assert!(
        text.starts_with(
            "# Set FLOWLAKE_STORE__PASSWORD in the environment (the value of EXPORTER_CLICKHOUSE__PASSWORD).\n"
        ),
        "{text}"
    );
    assert!(
        !text.contains("y0_fake_tracker_token") && !text.contains(CLICKHOUSE_PASSWORD),
        "{text}"
    );
}
