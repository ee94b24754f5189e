//! The store as `flowlake` users meet it: SQL of any type, clean errors, bad settings refused before a file
//! exists, exports that are all or nothing, `query --safe`, and a rebuild cut short.

mod common;

use std::path::Path;

use common::{fails, flowlake, ok};

/// A generator source small enough to rebuild in one page.
const CONFIG: &str = r#"
[[sources]]
kind = "generator"
name = "demo"
issues = 300
page_size = 100
until = "2026-06-30"
"#;

fn config(dir: &Path, extra: &str) {
    std::fs::write(dir.join("flowlake.toml"), format!("{extra}\n{CONFIG}")).unwrap();
}

fn stderr_of(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = flowlake(dir, args, env);
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_interrupted_rebuild_is_warned_about_until_a_rebuild_finishes() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "");
    ok(dir.path(), &["sync"], &[]);
    let quiet = stderr_of(dir.path(), &["metrics", "--to", "2026-06-30"], &[]);
    assert!(!quiet.contains("mid-rebuild"), "{quiet}");

    let killed = fails(
        dir.path(),
        &["rebuild"],
        &[("FLOWLAKE_FAIL_AFTER_PAGES", "1")],
    );
    assert!(killed.contains("injected failure"), "{killed}");
    for args in [&["metrics", "--to", "2026-06-30"][..], &["sync"]] {
        let warned = stderr_of(dir.path(), args, &[]);
        assert!(
            warned.contains("mid-rebuild") && warned.contains("flowlake rebuild"),
            "{args:?}: {warned}"
        );
    }
    ok(dir.path(), &["rebuild"], &[]);
    let settled = stderr_of(dir.path(), &["metrics", "--to", "2026-06-30"], &[]);
    assert!(!settled.contains("mid-rebuild"), "{settled}");
}

#[test]
fn a_bad_memory_limit_fails_before_the_store_file_is_created() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "[store]\nmemory_limit = \"lots\"\n");
    for args in [&["sync"][..], &["demo", "--issues", "10"], &["rebuild"]] {
        let err = fails(dir.path(), args, &[]);
        assert!(
            err.contains("store.memory_limit") && err.contains("lots"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("Error code"), "{args:?}: {err}");
        assert!(!dir.path().join("flowlake.duckdb").exists(), "{args:?}");
    }
    // The same from the environment.
    config(dir.path(), "");
    let err = fails(
        dir.path(),
        &["sync"],
        &[("FLOWLAKE_STORE__MEMORY_LIMIT", "12 parsecs")],
    );
    assert!(err.contains("store.memory_limit"), "{err}");
    assert!(!dir.path().join("flowlake.duckdb").exists());
    // A good one is applied.
    config(dir.path(), "[store]\nmemory_limit = \"256MB\"\n");
    ok(dir.path(), &["sync"], &[]);
    let limit = ok(
        dir.path(),
        &[
            "query",
            "select current_setting('memory_limit') as m",
            "-f",
            "csv",
        ],
        &[],
    );
    assert_eq!(limit, "m\n244.1 MiB\n");
}

#[test]
fn an_unreachable_state_backend_fails_before_the_store_file_is_created() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1 on the loopback: nothing listens, the connection is refused at once.
    config(
        dir.path(),
        "[state]\nbackend = \"redis\"\nurl = \"redis://127.0.0.1:1/0\"\n",
    );
    let err = fails(dir.path(), &["sync"], &[]);
    assert!(err.contains("redis://127.0.0.1:1"), "{err}");
    assert!(!dir.path().join("flowlake.duckdb").exists(), "{err}");
}

#[test]
fn query_errors_are_one_clean_message() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "");
    ok(dir.path(), &["sync"], &[]);
    let err = fails(dir.path(), &["query", "select * from nosuch"], &[]);
    assert!(!err.contains("Error code"), "{err}");
    assert_eq!(err.matches("nosuch does not exist").count(), 1, "{err}");
    for empty in ["", "  ", ";", "/* nothing */"] {
        let err = fails(dir.path(), &["query", empty], &[]);
        assert!(err.contains("the query is empty"), "{empty:?}: {err}");
        assert!(!err.contains("Error code"), "{empty:?}: {err}");
    }
}

#[test]
fn query_renders_timestamptz_and_other_types() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "");
    ok(dir.path(), &["sync"], &[]);
    let now = ok(
        dir.path(),
        &["query", "select now() as now", "-f", "csv"],
        &[],
    );
    assert!(
        now.starts_with("now\n") && now.trim_end().ends_with('Z'),
        "{now}"
    );
    let json = ok(
        dir.path(),
        &[
            "query",
            "select TIMESTAMPTZ '2026-05-01 12:00:00+03' as t, INTERVAL 90 MINUTE as i, [1, NULL] as l",
            "-f",
            "json",
        ],
        &[],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["t"], "2026-05-01T09:00:00Z");
    // JSON gives a list as an array, its NULL as null.
    assert_eq!(v[0]["l"], serde_json::json!([1, null]));
}

#[test]
fn query_safe_refuses_files_and_extensions_and_help_says_why() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "");
    ok(dir.path(), &["sync"], &[]);
    std::fs::write(dir.path().join("secret.csv"), "a\n1\n").unwrap();
    for sql in [
        "COPY (select 1) TO 'written.csv'",
        "select * from read_csv('secret.csv')",
        "INSTALL httpfs",
        "SET enable_external_access = true",
    ] {
        fails(dir.path(), &["query", "--safe", sql], &[]);
    }
    assert!(!dir.path().join("written.csv").exists());
    let out = ok(
        dir.path(),
        &[
            "query",
            "--safe",
            "select count(*) as n from work_items",
            "-f",
            "csv",
        ],
        &[],
    );
    assert_eq!(out, "n\n300\n");
    let help = ok(dir.path(), &["query", "--help"], &[]);
    for needle in ["COPY", "read_csv", "INSTALL", "--safe"] {
        assert!(
            help.contains(needle),
            "query --help lacks {needle}:\n{help}"
        );
    }
}

#[test]
fn a_failed_export_keeps_the_earlier_file_and_leaves_no_partial_one() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "");
    ok(dir.path(), &["sync"], &[]);
    let out = dir.path().join("out");
    ok(
        dir.path(),
        &["export", "-o", "out", "--query", "select 1 as good"],
        &[],
    );
    let good = std::fs::read(out.join("query.csv")).unwrap();
    let err = fails(
        dir.path(),
        &[
            "export",
            "-o",
            "out",
            "--query",
            "select i, case when i > 150000 then error('boom') else 'row ' || i end as v from range(300000) t(i)",
        ],
        &[],
    );
    assert!(err.contains("boom") && !err.contains("Error code"), "{err}");
    assert_eq!(std::fs::read(out.join("query.csv")).unwrap(), good);
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["query.csv"]);
    // An unknown table is refused before the directory is created.
    let err = fails(dir.path(), &["export", "-o", "fresh", "-t", "nosuch"], &[]);
    assert!(err.contains("unknown table"), "{err}");
    assert!(!dir.path().join("fresh").exists());
}
