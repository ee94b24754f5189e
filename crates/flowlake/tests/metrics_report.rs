//! `flowlake metrics` as a user runs it: ranges, filters, and the same report in every format.

mod common;

use std::path::Path;

use chrono::{Days, Utc};
use common::{fails, flowlake, ok};
use serde_json::Value;

/// A demo store whose history ends `until` (a small one: 300 issues).
fn demo(until: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ok(
        dir.path(),
        &["demo", "--issues", "300", "--until", until, "-q"],
        &[],
    );
    dir
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["metrics", "--format", "json"];
    all.extend_from_slice(args);
    let out = ok(dir, &all, &[]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn metrics_over_more_days_than_the_calendar_holds_is_refused_not_a_panic() {
    let dir = demo("2026-06-30");
    for args in [
        &["metrics", "--days", "99999999"][..],
        &["metrics", "--days", "4294967295", "-f", "json"],
        &["metrics", "--days", "400000", "--by", "day"],
    ] {
        let out = flowlake(dir.path(), args, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("at most 36525 days (100 years)"),
            "{args:?}: {stderr}"
        );
    }
    // A range given by its dates is held to the same bound, and a day beyond the calendar is no panic either.
    let long = fails(
        dir.path(),
        &["metrics", "--from", "1800-01-01", "--to", "2026-06-30"],
        &[],
    );
    assert!(
        long.contains("a report covers at most 36525 days"),
        "{long}"
    );
    let zero = fails(dir.path(), &["metrics", "--days", "0"], &[]);
    assert!(zero.contains("--days 0"), "{zero}");
    let reversed = fails(
        dir.path(),
        &["metrics", "--from", "2026-07-01", "--to", "2026-06-30"],
        &[],
    );
    assert!(reversed.contains("--from 2026-07-01 is after --to 2026-06-30"));
    // The last and first days chrono handles: a report ends there, none reaches past them.
    for to in ["--to=+262142-12-31", "--to=-262143-01-05"] {
        let report: Value = serde_json::from_str(&ok(
            dir.path(),
            &["metrics", to, "--days", "3", "-f", "json"],
            &[],
        ))
        .unwrap();
        assert_eq!(report["days"].as_array().unwrap().len(), 3, "{to}");
    }
    let before = fails(
        dir.path(),
        &["metrics", "--to=-262143-01-05", "--days", "30"],
        &[],
    );
    assert!(
        before.contains("starts before") && !before.contains("panicked"),
        "{before}"
    );
}

#[test]
fn metrics_shows_no_wip_for_days_that_have_not_ended() {
    let today = Utc::now().date_naive();
    let dir = demo(&today.to_string());
    let to = today.checked_add_days(Days::new(28)).unwrap().to_string();
    let report = json(dir.path(), &["--to", &to, "--days", "60", "--by", "day"]);
    let days = report["days"].as_array().unwrap();
    let wip = report["wip"].as_array().unwrap();
    let throughput = report["throughput"].as_array().unwrap();
    assert_eq!(days.len(), 60);
    assert_eq!(wip.len(), 60, "one WIP entry per day of the range");
    assert_eq!(throughput.len(), 60, "one bucket per day");
    for s in report["cumulative_flow"].as_array().unwrap() {
        assert_eq!(s["items"].as_array().unwrap().len(), 60, "{s}");
    }
    // Today and the days after it have not ended: nothing is sampled there, in any series.
    let today = Value::String(today.to_string());
    let i = days.iter().position(|d| *d == today).unwrap();
    assert!(wip[..i].iter().all(Value::is_u64), "{wip:?}");
    assert!(wip[i..].iter().all(Value::is_null), "{wip:?}");
    assert!(throughput[..i].iter().all(|b| b["wip_at_end"].is_u64()));
    assert!(throughput[i..].iter().all(|b| b["wip_at_end"].is_null()));
    for s in report["cumulative_flow"].as_array().unwrap() {
        assert!(s["items"].as_array().unwrap()[i..]
            .iter()
            .all(Value::is_null));
    }

    // By week the table says "-" for this week and the weeks to come, never a number carried forward.
    let table = ok(dir.path(), &["metrics", "--to", &to, "--days", "60"], &[]);
    let wip_column: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("Throughput and WIP"))
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("│ 2"))
        .map(|l| l.split('┆').nth(2).unwrap().trim())
        .collect();
    assert!(wip_column.len() >= 9, "{table}");
    let first_unended = wip_column.iter().position(|w| *w == "-").unwrap();
    assert!(first_unended > 0, "{table}");
    assert!(
        wip_column[first_unended..].iter().all(|w| *w == "-"),
        "this week and the weeks to come have not ended:\n{table}"
    );
    assert!(
        wip_column[..first_unended]
            .iter()
            .all(|w| w.parse::<u64>().is_ok()),
        "{table}"
    );
    assert!(table.contains("had not ended by"), "{table}");
}

/// The names of `v`'s top-level keys in the order they appear in `text`.
fn keys_in_text_order(text: &str, v: &Value) -> Vec<String> {
    let mut keys: Vec<(usize, String)> = v
        .as_object()
        .unwrap()
        .keys()
        .map(|k| (text.find(&format!("\n  \"{k}\":")).unwrap(), k.clone()))
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

#[test]
fn metrics_json_and_csv_carry_every_figure_of_the_table_with_units_named() {
    let dir = demo("2026-06-30");
    let args = ["metrics", "--to", "2026-06-30", "--days", "120"];
    let text = ok(dir.path(), &[&args[..], &["-f", "json"]].concat(), &[]);
    let report: Value = serde_json::from_str(&text).unwrap();
    // Keys in the order the table reads, not alphabetical.
    assert_eq!(
        keys_in_text_order(&text, &report),
        [
            "from",
            "to",
            "now",
            "business_calendar",
            "bucket",
            "filter",
            "items",
            "completed_in_range",
            "lead_time_seconds",
            "lead_time_business_seconds",
            "cycle_time_seconds",
            "cycle_time_business_seconds",
            "flow_efficiency_mean_share",
            "reopened_items",
            "reopened_share",
            "wip_now",
            "unmapped_statuses",
            "throughput",
            "time_in_status",
            "aging_seconds",
            "oldest",
            "days",
            "wip",
            "cumulative_flow",
        ]
    );
    // Shares are shares, and agree with the counts they come from.
    let completed = report["completed_in_range"].as_f64().unwrap();
    let reopened = report["reopened_items"].as_f64().unwrap();
    assert!(completed > 0.0);
    let share = report["reopened_share"].as_f64().unwrap();
    assert!((share - reopened / completed).abs() < 1e-9, "{share}");
    let eff = report["flow_efficiency_mean_share"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&eff), "{eff}");
    let shares: f64 = report["time_in_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["time_share"].as_f64().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 1e-6, "{shares}");
    // Lists are arrays of objects, never strings.
    for list in ["throughput", "time_in_status", "oldest", "cumulative_flow"] {
        let a = report[list].as_array().unwrap_or_else(|| panic!("{list}"));
        assert!(a.iter().all(Value::is_object), "{list}: {a:?}");
    }
    assert!(report["lead_time_seconds"]["p85"].as_i64().unwrap() > 0);
    assert!(report["lead_time_seconds"]["mean"].as_f64().unwrap() > 0.0);

    // CSV has a row for every field of the JSON, under the JSON's names.
    let csv = ok(dir.path(), &[&args[..], &["-f", "csv"]].concat(), &[]);
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.splitn(4, ',').collect())
        .collect();
    let named = |name: &str| {
        rows.iter()
            .any(|r| r[0] == name || r[1] == name || r[2] == name)
    };
    for key in report.as_object().unwrap().keys() {
        if key == "days" || key == "unmapped_statuses" {
            continue; // the keys of the `wip` rows; no status of the demo is guessed
        }
        assert!(named(key), "CSV lacks {key}:\n{csv}");
    }
    let value = |section: &str, key: &str, metric: &str| {
        rows.iter()
            .find(|r| r[0] == section && r[1] == key && r[2] == metric)
            .map(|r| r[3].to_string())
            .unwrap_or_else(|| panic!("no row {section},{key},{metric}"))
    };
    assert_eq!(
        value("report", "", "reopened_share"),
        report["reopened_share"].to_string()
    );
    assert_eq!(
        value("report", "", "wip_now"),
        report["wip_now"].to_string()
    );
    assert_eq!(
        value("percentiles", "lead_time_seconds", "mean"),
        report["lead_time_seconds"]["mean"].to_string()
    );
    // Ages run to each run's own `now`, a moment apart.
    let oldest = &report["oldest"][0];
    let age: i64 = value("oldest", oldest["item_id"].as_str().unwrap(), "age_seconds")
        .parse()
        .unwrap();
    assert!((age - oldest["age_seconds"].as_i64().unwrap()).abs() < 60);
    let days = report["days"].as_array().unwrap().len();
    assert_eq!(rows.iter().filter(|r| r[0] == "wip").count(), days);

    // The table shows the same figures.
    let table = ok(dir.path(), &args, &[]);
    let reopened_pct = format!(
        "reopened: {:.1}% ({reopened} of {completed})",
        share * 100.0
    );
    assert!(table.contains(&reopened_pct), "{reopened_pct}\n{table}");
    assert!(
        table.contains(&format!("WIP now: {}", report["wip_now"])),
        "{table}"
    );
}

#[test]
fn query_json_keeps_the_column_order_and_gives_lists_as_arrays() {
    let dir = demo("2026-06-30");
    let out = ok(
        dir.path(),
        &[
            "query",
            "select 2 as zeta, 'x' as alpha, ['performance', 'a, b'] as labels, {'b': 1, 'a': [true]} as s, \
             1.5::double as f, null as n, TIMESTAMPTZ '2026-01-02 03:04:05+00' as at",
            "-f",
            "json",
        ],
        &[],
    );
    let z = out.find("\"zeta\"").unwrap();
    let a = out.find("\"alpha\"").unwrap();
    assert!(z < a, "columns in the query's order:\n{out}");
    assert!(
        out.find("\"b\": 1").unwrap() < out.find("\"a\": [").unwrap(),
        "struct fields in order:\n{out}"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["zeta"], 2);
    assert_eq!(v[0]["labels"], serde_json::json!(["performance", "a, b"]));
    assert_eq!(v[0]["s"], serde_json::json!({"b": 1, "a": [true]}));
    assert_eq!(v[0]["f"], 1.5);
    assert!(v[0]["n"].is_null());
    assert_eq!(v[0]["at"], "2026-01-02T03:04:05Z");
    // A stored list column too.
    let out = ok(
        dir.path(),
        &[
            "query",
            "select labels from work_items where len(labels) > 0 limit 1",
            "-f",
            "json",
        ],
        &[],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v[0]["labels"].is_array(), "{out}");
}

#[test]
fn metrics_filters_ignore_case_and_say_when_nothing_matched() {
    let dir = demo("2026-06-30");
    let items = |args: &[&str]| {
        json(dir.path(), &[&["--to", "2026-06-30"], args].concat())["items"].clone()
    };
    let core = items(&["--project", "CORE"]);
    assert!(core.as_u64().unwrap() > 0);
    assert_eq!(items(&["--project", "core"]), core);
    assert_eq!(items(&["--project", "core", "--source", "DEMO"]), core);
    assert!(items(&["--assignee", "Farid.Core"]).as_u64().unwrap() > 0);
    assert!(items(&["--type", "BUG"]).as_u64().unwrap() > 0);

    let source = fails(dir.path(), &["metrics", "--source", "nosuch"], &[]);
    assert!(
        source.contains("nothing matched: no item has source `nosuch` (matching ignores case); known sources: demo"),
        "{source}"
    );
    let project = fails(
        dir.path(),
        &["metrics", "--project", "nosuch", "-f", "json"],
        &[],
    );
    assert!(
        project.contains("known projects: CORE, MOBILE, OPS, WEB"),
        "{project}"
    );
    let assignee = fails(dir.path(), &["metrics", "--assignee", "Farid"], &[]);
    assert!(
        assignee.contains("no item has assignee `Farid`") && assignee.contains("demo:farid.core"),
        "{assignee}"
    );
    // Each filter matches alone, not together: said so, with each one's count.
    let together = fails(
        dir.path(),
        &["metrics", "--project", "CORE", "--assignee", "farid.web"],
        &[],
    );
    assert!(
        together.contains("no item matches project `CORE` (")
            && together.contains("together, though each matches items alone"),
        "{together}"
    );
}

#[test]
fn metrics_by_day_over_more_rows_than_a_table_holds_is_refused_with_a_hint() {
    let dir = demo("2026-06-30");
    let table = fails(
        dir.path(),
        &[
            "metrics",
            "--to",
            "2026-06-30",
            "--days",
            "1001",
            "--by",
            "day",
        ],
        &[],
    );
    assert!(
        table.contains(
            "gives 1001 throughput rows, more than the 1000 a table prints: use --by week"
        ),
        "{table}"
    );
    // The same range in CSV has every day.
    let csv = ok(
        dir.path(),
        &[
            "metrics",
            "--to",
            "2026-06-30",
            "--days",
            "1001",
            "--by",
            "day",
            "-f",
            "csv",
        ],
        &[],
    );
    let days = csv
        .lines()
        .filter(|l| l.starts_with("throughput,") && l.contains(",completed,"))
        .count();
    assert_eq!(days, 1001);
    // A thousand days fit.
    ok(
        dir.path(),
        &[
            "metrics",
            "--to",
            "2026-06-30",
            "--days",
            "1000",
            "--by",
            "day",
        ],
        &[],
    );
    let help = ok(dir.path(), &["metrics", "--help"], &[]);
    assert!(
        help.contains("at most 1000 rows") && help.contains("36525"),
        "{help}"
    );
}
