//! Running the `flowlake` binary in a scratch directory, as a user does.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

pub fn flowlake(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowlake"));
    cmd.args(args).current_dir(dir).env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("flowlake runs")
}

pub fn ok(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = flowlake(dir, args, env);
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn fails(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = flowlake(dir, args, env);
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn count(dir: &Path, table: &str) -> u64 {
    let out = ok(
        dir,
        &[
            "query",
            &format!("select count(*) as n from {table}"),
            "--format",
            "json",
        ],
        &[],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v[0]["n"].as_u64().unwrap()
}

/// Every data table as sorted text rows, without the columns that record when flowlake fetched.
pub fn dump(dir: &Path) -> String {
    let mut out = String::new();
    for t in [
        "work_items",
        "status_changes",
        "field_changes",
        "people",
        "item_metrics",
        "status_intervals",
        "item_status_time",
        "pull_requests",
        "pull_request_reviews",
        "deployments",
        "releases",
        "worklogs",
        "sprints",
        "item_sprints",
        "pipelines",
    ] {
        out += &ok(
            dir,
            &[
                "query",
                &format!("select * from {t} order by all"),
                "--format",
                "csv",
            ],
            &[],
        );
    }
    out + &ok(
        dir,
        &[
            "query",
            "select source, stream, key, updated_at, payload from raw_records order by all",
            "--format",
            "csv",
        ],
        &[],
    )
}

/// The single integer `sql` returns.
pub fn scalar(dir: &Path, sql: &str) -> i64 {
    let out = ok(
        dir,
        &["query", &format!("select ({sql}) as v"), "--format", "json"],
        &[],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v[0]["v"]
        .as_i64()
        .unwrap_or_else(|| panic!("{sql} gave {out}"))
}

/// Requests a fake API answered, by operation and status, as `op:status=count` in order.
pub fn answered(counts: BTreeMap<(String, u16), u64>) -> Vec<String> {
    counts
        .into_iter()
        .map(|((op, status), n)| format!("{op}:{status}={n}"))
        .collect()
}
