//! The commented `flowlake.toml` that `flowlake init` writes.

use super::SourceConfig;

/// The commented `flowlake.toml` that `flowlake init` writes: every key with its meaning and default.
pub fn template(until: chrono::NaiveDate) -> String {
    format!(
        r#"# flowlake configuration. Every key is optional; the values shown are the defaults unless noted.
# Environment variables override keys: FLOWLAKE_STORE__PATH=other.duckdb, FLOWLAKE_SOURCES__0__ISSUES=500.
# A .env file in the working directory is read too.

[store]
# Store kind: "duckdb" (embedded, a single file, nothing to set up).
kind = "duckdb"
# The DuckDB file.
path = "flowlake.duckdb"
# Cap on DuckDB's memory, e.g. "1GB". Unset: DuckDB's default (80% of RAM).
# memory_limit = "1GB"

[state]
# Where sync cursors live: "store" (the store's sync_state table, committed together with the data),
# "file" (a JSON file replaced atomically), "s3" or "redis".
backend = "store"
# The JSON file for backend = "file".
path = "flowlake-state.json"
# backend = "s3": url = "s3://bucket/flowlake/state.json"; credentials from AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY; endpoint = "http://127.0.0.1:9000" and allow_http = true for a local MinIO;
# region = "eu-west-1" (unset: AWS_REGION, else us-east-1).
# Writes are conditional (If-Match), so two runs cannot both advance one cursor.
# backend = "redis": url = "redis://127.0.0.1:6379/0" (put a password in FLOWLAKE_STATE__URL, not here);
# each source is locked while it syncs (key_prefix = "flowlake", lock_ttl_seconds = 600).

[calendar]
# Working hours for business-time metrics.
# IANA time zone of the working hours; daylight-saving changes are handled.
time_zone = "UTC"
# Working days of the week.
work_days = ["mon", "tue", "wed", "thu", "fri"]
# Start and end of the working day, local time (HH:MM; "24:00" allowed as an end).
day_start = "09:00"
day_end = "18:00"
# Non-working dates, YYYY-MM-DD.
holidays = []
# A built-in holiday list added to `holidays`: "ru" (Russian public holidays with the days off moved by
# decree, from the `holidays` package 0.109, 1991-2040) or "ru-holidays-0.34" (tracker-exporter's pin). Unset: none.
# holiday_preset = "ru"

[metrics]
# Statuses counted as active work in flow efficiency. Unset: every in_progress status.
active_statuses = ["In Progress", "Testing"]

# Status name -> category (todo, in_progress, done), overriding the source's own categories and the
# built-in guesses (open/backlog/new -> todo; done/closed/resolved/cancelled/released -> done; else in_progress).
[metrics.status_categories]
"Open" = "todo"
"In Progress" = "in_progress"
"Review" = "in_progress"
"Testing" = "in_progress"
"Done" = "done"
"Cancelled" = "done"

# Tracker type name -> standard type (bug, feature, task, epic, subtask, incident, other).
[metrics.standard_types]
"Story" = "feature"

# Per project (Jira project key, Tracker queue, owner/repo, GitLab project path): mappings that override the
# ones above for that project's items (status_categories, active_statuses, standard_types), e.g.
# [metrics.projects.OPS.status_categories]
# "Fixing" = "in_progress"

[tracker_exporter]
# Compute tracker-exporter 2.0.0 compatible per-status rows (table tracker_exporter_issue_metrics).
enabled = true
# Statuses that count as closed, as tracker-exporter names them (lower-cased, then snake-cased: "закрыт").
closed_statuses = ["closed", "rejected", "resolved", "cancelled", "released"]

# Its working hours, as tracker-exporter evaluates them: Mon-Fri 09:00-22:00 UTC minus Russian holidays.
[tracker_exporter.calendar]
time_zone = "UTC"
work_days = ["mon", "tue", "wed", "thu", "fri"]
day_start = "09:00"
day_end = "22:00"
holiday_preset = "ru"

{sources}"#,
        sources = sources_template(until)
    )
}

/// The `[[sources]]` part of the template: the registry's example blocks, the first (the generator) as is,
/// the others commented out, after a paragraph naming them.
fn sources_template(until: chrono::NaiveDate) -> String {
    let examples = SourceConfig::examples();
    let others: Vec<&str> = examples
        .iter()
        .skip(1)
        .map(|(_, label, _)| *label)
        .collect();
    let others = match others.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => "none".into(),
    };
    let mut out = format!(
        "# Sources: one [[sources]] block each. \"generator\" is a synthetic tracker with realistic, deterministic\n\
         # histories; the commented blocks below it are {others}. To use one, remove\n\
         # the first two characters of each of its lines (its doubly commented lines stay comments: optional keys),\n\
         # set its token variable, and run `flowlake sync`. Names must differ: each qualifies its items' ids.\n"
    );
    let blocks: Vec<String> = examples
        .iter()
        .map(|(_, _, block)| block.replace("{until}", &until.to_string()))
        .collect();
    out.push_str(&blocks.join("\n"));
    out
}
