//! Running the `flowlake` binary in a scratch directory, as a user does.

#![allow(dead_code)]

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
