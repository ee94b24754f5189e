//! The `flowlake` binary as a user runs it, in a scratch directory.

mod common;

use std::process::{Command, Stdio};

use common::{count, fails, ok};

const SMALL: &[(&str, &str)] = &[
    ("FLOWLAKE_SOURCES__0__ISSUES", "300"),
    ("FLOWLAKE_SOURCES__0__PAGE_SIZE", "100"),
];

#[test]
fn demo_then_metrics_and_query_answer_from_the_duckdb_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(
        dir.path(),
        &["demo", "--issues", "400", "--until", "2026-06-30"],
        &[],
    );
    for needle in [
        "lead time",
        "cycle time",
        "Throughput and WIP",
        "Time in status",
        "Aging of open work",
    ] {
        assert!(out.contains(needle), "demo output lacks {needle}:\n{out}");
    }
    assert!(dir.path().join("flowlake.duckdb").exists());
    assert_eq!(count(dir.path(), "work_items"), 400);

    let json = ok(
        dir.path(),
        &["metrics", "--to", "2026-06-30", "--format", "json"],
        &[],
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["items"], 400);
    assert!(report["lead_time_seconds"]["p85"].as_i64().unwrap() > 0);
    assert!(!report["throughput"].as_array().unwrap().is_empty());
    let csv = ok(
        dir.path(),
        &[
            "metrics",
            "--to",
            "2026-06-30",
            "--project",
            "CORE",
            "--by",
            "day",
            "-f",
            "csv",
        ],
        &[],
    );
    assert!(csv.starts_with("section,key,metric,value\n"));
    assert!(csv.contains("throughput,2026-06-29,completed,"));

    // A reader that goes away early (`flowlake metrics | head`) ends the run quietly, not with a panic.
    for args in [
        &["metrics", "--to", "2026-06-30", "--by", "day", "-f", "csv"][..],
        &["query", "select * from status_changes"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flowlake"))
            .args(args)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

#[test]
fn init_then_sync_twice_leaves_the_same_row_counts() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init"], &[]);
    assert!(fails(dir.path(), &["init"], &[]).contains("--force"));
    let first = ok(dir.path(), &["sync"], SMALL);
    assert!(first.contains("work_items"), "{first}");
    let tables = [
        "raw_records",
        "work_items",
        "status_changes",
        "item_metrics",
        "status_intervals",
        "item_status_time",
    ];
    let before: Vec<u64> = tables.iter().map(|t| count(dir.path(), t)).collect();
    assert_eq!(before[1], 300);
    ok(dir.path(), &["sync"], SMALL);
    ok(dir.path(), &["sync", "--full-refresh"], SMALL);
    let after: Vec<u64> = tables.iter().map(|t| count(dir.path(), t)).collect();
    assert_eq!(before, after);
    ok(dir.path(), &["rebuild"], SMALL);
    assert_eq!(
        tables
            .iter()
            .map(|t| count(dir.path(), t))
            .collect::<Vec<_>>(),
        before
    );
}

#[test]
fn a_killed_sync_resumes_to_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init"], &[]);
    let mut crash = SMALL.to_vec();
    crash.push(("FLOWLAKE_FAIL_AFTER_PAGES", "1"));
    let err = fails(dir.path(), &["sync"], &crash);
    assert!(err.contains("injected failure after page 1"), "{err}");
    assert_eq!(count(dir.path(), "work_items"), 100);
    ok(dir.path(), &["sync"], SMALL);
    assert_eq!(count(dir.path(), "work_items"), 300);
    assert_eq!(count(dir.path(), "raw_records"), 300);
}

#[test]
fn malformed_config_is_reported_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("flowlake.toml"),
        "[store]\npath = \"x.duckdb\"\n\n[calendar]\ntime_zone = \"Mars/Olympus\"\n",
    )
    .unwrap();
    let err = fails(dir.path(), &["sync"], &[]);
    assert!(
        err.contains("flowlake.toml:5:13: calendar.time_zone: ") && err.contains("`Mars/Olympus`"),
        "{err}"
    );
    std::fs::write(
        dir.path().join("flowlake.toml"),
        "[metrics.status_categories]\n\"Review\" = \"waiting\"\n",
    )
    .unwrap();
    let err = fails(dir.path(), &["sync"], &[]);
    assert!(
        err.contains("flowlake.toml:2:") && err.contains("waiting"),
        "{err}"
    );
    assert!(
        !dir.path().join("x.duckdb").exists(),
        "nothing is written for a bad config"
    );
}

#[test]
fn a_store_locked_by_another_process_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init"], &[]);
    ok(dir.path(), &["sync"], SMALL);
    let path = dir.path().join("flowlake.duckdb");
    let holder =
        flowlake_store::DuckDbStore::open(&path, flowlake_store::duckdb_store::OpenMode::ReadWrite)
            .unwrap();
    let err = fails(dir.path(), &["sync", "--full-refresh"], SMALL);
    assert!(
        err.contains("flowlake.duckdb") && err.contains("locked"),
        "{err}"
    );
    drop(holder);
    assert_eq!(count(dir.path(), "work_items"), 300);
}

#[test]
fn a_corrupted_store_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flowlake.duckdb"), vec![7u8; 8192]).unwrap();
    let err = fails(dir.path(), &["query", "select 1"], &[]);
    assert!(err.contains("not a valid DuckDB database"), "{err}");
}

#[test]
fn export_writes_csv_and_parquet_that_read_back() {
    let dir = tempfile::tempdir().unwrap();
    ok(
        dir.path(),
        &["demo", "--issues", "200", "--until", "2026-06-30", "-q"],
        &[],
    );
    let out = ok(
        dir.path(),
        &[
            "export",
            "--format",
            "parquet",
            "--table",
            "item_metrics",
            "--table",
            "work_items",
        ],
        &[],
    );
    assert!(out.contains("item_metrics.parquet"));
    let n = ok(
        dir.path(),
        &[
            "query",
            "select count(*) as n from 'exports/work_items.parquet'",
            "-f",
            "csv",
        ],
        &[],
    );
    assert_eq!(n, "n\n200\n");
    ok(
        dir.path(),
        &[
            "export",
            "--format",
            "csv",
            "--query",
            "select key, status from work_items order by key",
            "-o",
            "out",
        ],
        &[],
    );
    let csv = std::fs::read_to_string(dir.path().join("out/query.csv")).unwrap();
    assert!(csv.starts_with("key,status\n"));
    assert_eq!(csv.lines().count(), 201);
    assert!(fails(dir.path(), &["export", "--table", "nope"], &[]).contains("unknown table `nope`"));
}

#[test]
fn help_explains_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let help = ok(dir.path(), &["--help"], &[]);
    for cmd in [
        "init", "demo", "sync", "rebuild", "metrics", "query", "export", "bench",
    ] {
        assert!(help.contains(cmd), "{cmd} missing from --help");
    }
    let metrics = ok(dir.path(), &["metrics", "--help"], &[]);
    assert!(
        metrics.contains("--project")
            && metrics.contains("--assignee")
            && metrics.contains("--format")
    );
}

#[test]
fn bench_runs_small_and_rejects_bad_duckdb_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(
        dir.path(),
        &[
            "bench", "--issues", "300", "--batch", "100", "--format", "json",
        ],
        &[],
    );
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["issues"], 300);
    assert!(report["status_changes"].as_u64().unwrap() > 300);
    let no_equals = fails(dir.path(), &["bench", "--duckdb-setting", "threads"], &[]);
    assert!(no_equals.contains("expected NAME=VALUE"), "{no_equals}");
    let unknown = fails(
        dir.path(),
        &["bench", "--duckdb-setting", "no_such_setting=1"],
        &[],
    );
    assert!(unknown.contains("no_such_setting"), "{unknown}");
}

/// A throwaway `redis-server` on a free loopback port, stopped when dropped.
struct Redis(std::process::Child, u16);

impl Redis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (Debian package redis-server; .ci/run installs it)");
        let redis = Self(child, port);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        redis
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.1.to_string()])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sync_keeps_its_cursor_in_redis_and_resumes_after_a_crash() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init"], &[]);
    let url = format!("redis://127.0.0.1:{}/0", redis.1);
    let mut env = SMALL.to_vec();
    env.extend([
        ("FLOWLAKE_STATE__BACKEND", "redis"),
        ("FLOWLAKE_STATE__URL", url.as_str()),
    ]);
    let mut crash = env.clone();
    crash.push(("FLOWLAKE_FAIL_AFTER_PAGES", "1"));
    let err = fails(dir.path(), &["sync"], &crash);
    assert!(err.contains("injected failure after page 1"), "{err}");
    assert_eq!(
        redis.cli(&["HGET", "flowlake:cursors", "demo/issues"]),
        "100"
    );
    // The crashed run gave its lock back.
    assert_eq!(redis.cli(&["EXISTS", "flowlake:lock:demo"]), "0");
    // Another run holding the lock keeps this one out, naming the holder.
    redis.cli(&["SET", "flowlake:lock:demo", "other-host:42", "PX", "60000"]);
    let err = fails(dir.path(), &["sync"], &env);
    assert!(
        err.contains("being synced by another run") && err.contains("other-host:42"),
        "{err}"
    );
    redis.cli(&["DEL", "flowlake:lock:demo"]);
    ok(dir.path(), &["sync"], &env);
    assert_eq!(
        redis.cli(&["HGET", "flowlake:cursors", "demo/issues"]),
        "300"
    );
    assert_eq!(count(dir.path(), "work_items"), 300);
    assert_eq!(count(dir.path(), "raw_records"), 300);
    // The store's own table was not used.
    assert_eq!(count(dir.path(), "sync_state"), 0);
}

#[test]
fn a_state_backend_without_a_url_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init"], &[]);
    let err = fails(dir.path(), &["sync"], &[("FLOWLAKE_STATE__BACKEND", "s3")]);
    assert!(err.contains("state.url") && err.contains("s3://"), "{err}");
}

/// A config whose store is `prod.duckdb`, with a small generator source named `prod` and cursors in a
/// state file, as a production setup would have them.
const PROD: &str = "[store]\npath = \"prod.duckdb\"\n\n[state]\nbackend = \"file\"\npath = \"state.json\"\n\n\
[[sources]]\nkind = \"generator\"\nname = \"prod\"\nissues = 300\npage_size = 100\nuntil = \"2026-06-30\"\n";

#[test]
fn demo_refuses_a_store_that_holds_synced_sources() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flowlake.toml"), PROD).unwrap();
    // No store yet: the demo creates one of its own, and keeps its cursor out of the configured state file.
    ok(
        dir.path(),
        &["demo", "--issues", "100", "--until", "2026-06-30", "-q"],
        &[],
    );
    assert!(!dir.path().join("state.json").exists());
    assert_eq!(count(dir.path(), "work_items"), 100);
    // The configured sources replace the demo's data instead of joining it.
    let out = common::flowlake(dir.path(), &["sync"], &[]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("prod.duckdb held only the synthetic data of `flowlake demo`"),
        "{stderr}"
    );
    assert_eq!(count(dir.path(), "work_items"), 300);
    assert_eq!(
        common::scalar(
            dir.path(),
            "select count(*) from work_items where source <> 'prod'"
        ),
        0
    );
    // Now the store holds synced data: the demo leaves it alone and says how to run it elsewhere.
    let err = fails(
        dir.path(),
        &["demo", "--issues", "100", "--until", "2026-06-30"],
        &[],
    );
    assert!(
        err.contains("prod.duckdb holds synced data: 300 work items")
            && err.contains("`prod`")
            && err.contains("FLOWLAKE_STORE__PATH=demo.duckdb flowlake demo"),
        "{err}"
    );
    assert_eq!(count(dir.path(), "work_items"), 300);
    assert_eq!(
        common::scalar(
            dir.path(),
            "select count(*) from work_items where source <> 'prod'"
        ),
        0
    );
    // Its own file, as the message says, works.
    let demo_store = [("FLOWLAKE_STORE__PATH", "demo.duckdb")];
    ok(
        dir.path(),
        &["demo", "--issues", "100", "--until", "2026-06-30", "-q"],
        &demo_store,
    );
    assert_eq!(count(dir.path(), "work_items"), 300);
}

#[test]
fn demo_twice_with_different_seeds_replaces_instead_of_accumulating() {
    let dir = tempfile::tempdir().unwrap();
    ok(
        dir.path(),
        &[
            "demo",
            "--issues",
            "300",
            "--seed",
            "1",
            "--until",
            "2026-06-30",
            "-q",
        ],
        &[],
    );
    assert_eq!(count(dir.path(), "work_items"), 300);
    ok(
        dir.path(),
        &[
            "demo",
            "--issues",
            "200",
            "--seed",
            "2",
            "--until",
            "2026-05-31",
            "-q",
        ],
        &[],
    );
    assert_eq!(count(dir.path(), "work_items"), 200);
    assert_eq!(count(dir.path(), "raw_records"), 200);
    // The GitHub demo replaces a generator demo as well.
    ok(dir.path(), &["demo", "--source", "github", "-q"], &[]);
    assert_eq!(
        common::scalar(
            dir.path(),
            "select count(*) from work_items where source = 'demo'"
        ),
        0
    );
}

#[test]
fn bench_refuses_to_replace_a_store_or_a_text_file() {
    let dir = tempfile::tempdir().unwrap();
    fn bench(db: &str) -> [&str; 10] {
        [
            "bench",
            "--db",
            db,
            "--issues",
            "50",
            "--batch",
            "50",
            "--workers",
            "1",
            "-q",
        ]
    }
    std::fs::write(dir.path().join("notes.txt"), "not a database\n").unwrap();
    let err = fails(dir.path(), &bench("notes.txt"), &[]);
    assert!(
        err.contains("notes.txt holds something that is not a flowlake store"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "not a database\n"
    );
    ok(dir.path(), &["init"], &[]);
    ok(dir.path(), &["sync"], SMALL);
    let err = fails(dir.path(), &bench("flowlake.duckdb"), &[]);
    assert!(
        err.contains("flowlake.duckdb holds synced data: 300 work items"),
        "{err}"
    );
    assert_eq!(count(dir.path(), "work_items"), 300);
    // A new file, then the same file again: an earlier bench store is replaced.
    ok(dir.path(), &bench("b.duckdb"), &[]);
    ok(dir.path(), &bench("b.duckdb"), &[]);
    let b = [("FLOWLAKE_STORE__PATH", "b.duckdb")];
    let n = ok(
        dir.path(),
        &["query", "select count(*) as n from work_items", "-f", "csv"],
        &b,
    );
    assert_eq!(n, "n\n50\n");
}

#[test]
fn out_of_range_arguments_are_refused_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            &["backfill", "--from", "2026-01-01", "--window", "500000000w"][..],
            "longest window",
        ),
        (&["bench", "--batch", "0"][..], "--batch"),
        (&["bench", "--workers", "0"][..], "--workers"),
        (&["bench", "--issues", "0"][..], "--issues"),
    ] {
        let err = fails(dir.path(), args, &[]);
        assert!(
            err.contains(needle) && err.contains("invalid value") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
    // History laid out over more days than the calendar holds.
    std::fs::write(
        dir.path().join("flowlake.toml"),
        "[[sources]]\nkind = \"generator\"\ndays = 4000000000\n",
    )
    .unwrap();
    let err = fails(dir.path(), &["sync"], &[]);
    assert!(
        err.contains("sources[0].days") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn as_of_before_the_data_is_refused_instead_of_loading_zero_lead_times() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init"], &[]);
    let err = fails(
        dir.path(),
        &["sync", "--as-of", "2000-01-01T00:00:00Z"],
        SMALL,
    );
    assert!(
        err.contains("--as-of 2000-01-01T00:00:00Z is before") && err.contains("was created"),
        "{err}"
    );
    assert_eq!(count(dir.path(), "work_items"), 0);
    assert_eq!(count(dir.path(), "item_metrics"), 0);
    // An --as-of after the data loads it all.
    ok(
        dir.path(),
        &["sync", "--as-of", "2100-01-01T00:00:00Z"],
        SMALL,
    );
    assert_eq!(count(dir.path(), "work_items"), 300);
}

#[test]
fn one_failing_source_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("flowlake.toml"),
        "[[sources]]\nkind = \"jira\"\nname = \"jira\"\nbase_url = \"http://127.0.0.1:1\"\n\
         projects = [\"CORE\"]\ntime_zone = \"UTC\"\nmax_attempts = 1\n\n\
         [[sources]]\nkind = \"generator\"\nname = \"demo\"\nissues = 300\npage_size = 100\n",
    )
    .unwrap();
    let out = common::flowlake(dir.path(), &["sync"], &[("JIRA_API_TOKEN", "t0ken")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("FAILED source `jira`"), "{stdout}");
    assert!(
        stderr.contains("1 of 2 sources failed") && stderr.contains("source `jira`"),
        "{stderr}"
    );
    assert!(!stderr.contains("t0ken"), "{stderr}");
    assert_eq!(count(dir.path(), "work_items"), 300);
    // Alone, the failing source fails the run with its own error.
    let err = fails(
        dir.path(),
        &["sync", "--source", "jira"],
        &[("JIRA_API_TOKEN", "t0ken")],
    );
    assert!(err.starts_with("error: source `jira`: "), "{err}");
}

#[test]
fn sync_without_a_config_points_to_init_and_demo() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["sync"][..],
        &["rebuild"],
        &["backfill", "--from", "2026-01-01"],
    ] {
        let err = fails(dir.path(), args, &[]);
        assert!(
            err.contains("flowlake.toml: no such file")
                && err.contains("`flowlake init`")
                && err.contains("`flowlake demo`"),
            "{args:?}: {err}"
        );
    }
    ok(
        dir.path(),
        &["demo", "--issues", "100", "--until", "2026-06-30", "-q"],
        &[],
    );
    let err = fails(dir.path(), &["sync"], &[]);
    assert!(err.contains("`flowlake init`"), "{err}");
}

#[test]
fn stderr_that_is_not_a_terminal_gets_no_colour_and_json_errors_are_objects() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init"], &[]);
    let out = common::flowlake(dir.path(), &["sync", "-v"], SMALL);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("synced"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in a pipe: {stderr:?}"
    );

    let json_lines = |args: &[&str]| -> Vec<serde_json::Value> {
        // The demo into a file of its own: the configured store holds synced data.
        let out = common::flowlake(dir.path(), args, &[("FLOWLAKE_STORE__PATH", "demo.duckdb")]);
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{args:?}: {l:?}: {e}")))
            .collect()
    };
    let lines = json_lines(&[
        "--log-format",
        "json",
        "demo",
        "--issues",
        "50",
        "--until",
        "2026-06-30",
    ]);
    assert!(
        lines.iter().any(|l| l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("flowlake demo: 50 synthetic issues"))),
        "{lines:?}"
    );
    let lines = json_lines(&["--log-format", "json", "query", "select nope"]);
    let last = lines.last().expect("an error line");
    assert_eq!(last["level"], "ERROR");
    assert!(
        last["fields"]["message"].as_str().unwrap().contains("nope"),
        "{last}"
    );
}

#[test]
fn a_terminal_that_reports_no_size_gets_80_column_tables() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    ok(
        dir.path(),
        &["demo", "--issues", "50", "--until", "2026-06-30", "-q"],
        &[],
    );
    // `script` gives the command a pseudo-terminal; with no terminal on its own stdin it never sizes it,
    // so the command sees 0 rows and 0 columns.
    let cmd = format!(
        "{} query \"select 'a fairly long value' as first_column, 'another long value' as second_column\"",
        env!("CARGO_BIN_EXE_flowlake")
    );
    let out = Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .env_remove("COLUMNS")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("first_column") && text.contains("a fairly long value"),
        "columns laid out one character wide:\n{text}"
    );
}
