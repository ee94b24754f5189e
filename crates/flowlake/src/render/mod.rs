//! Rendering results as tables, JSON or CSV.

mod metrics;

use anyhow::Result;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use flowlake_engine::bench::BenchReport;
use flowlake_engine::sync::SyncReport;
use flowlake_store::schema::DATA_TABLES;
use flowlake_store::{QueryResult, Store};

use crate::cli::OutputFormat;

pub use metrics::{metrics_report, MAX_TABLE_BUCKETS};

pub(super) fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    crate::term::fit_table(&mut t);
    t
}

pub(super) fn right(s: impl ToString) -> Cell {
    Cell::new(s.to_string()).set_alignment(CellAlignment::Right)
}

pub(super) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Prints an ad-hoc query result. JSON is an array of objects with the columns in the query's order and
/// typed values (lists as arrays, numbers as numbers): [`QueryResult::json_rows`].
pub fn query_result(r: &QueryResult, format: OutputFormat) -> Result<()> {
    if format == OutputFormat::Json {
        outln!("{}", serde_json::to_string_pretty(&r.json_rows())?);
        return Ok(());
    }
    let rows = r.rows_as_text()?;
    match format {
        OutputFormat::Table | OutputFormat::Json => {
            let mut t = table(&r.columns.iter().map(String::as_str).collect::<Vec<_>>());
            for row in &rows {
                t.add_row(
                    row.iter()
                        .map(|v| Cell::new(v.as_deref().unwrap_or("NULL"))),
                );
            }
            outln!("{t}");
            outln!(
                "({} row{})",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            );
        }
        OutputFormat::Csv => {
            outln!(
                "{}",
                r.columns
                    .iter()
                    .map(|c| csv_field(c))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            for row in &rows {
                outln!(
                    "{}",
                    row.iter()
                        .map(|v| csv_field(v.as_deref().unwrap_or("")))
                        .collect::<Vec<_>>()
                        .join(",")
                );
            }
        }
    }
    Ok(())
}

/// Prints what a sync did and the row counts of every table.
pub fn sync_summary(reports: &[SyncReport], store: &dyn Store) -> Result<()> {
    let mut t = table(&[
        "source",
        "pages",
        "records",
        "items",
        "status changes",
        "bad records",
        "cursor",
    ]);
    for r in reports {
        t.add_row(vec![
            Cell::new(&r.source),
            right(r.pages),
            right(r.records),
            right(r.items),
            right(r.status_changes),
            right(r.bad_records),
            Cell::new(short_cursor(r.cursor.as_deref())),
        ]);
    }
    outln!("{t}");
    let bad: u64 = reports.iter().map(|r| r.bad_records).sum();
    if bad > 0 {
        outln!("{}", bad_records_hint(bad));
    }
    if reports.iter().any(|r| !r.requests.is_empty()) {
        let mut req = table(&[
            "source",
            "stream",
            "requests",
            "304 not modified",
            "retries",
            "rate-limit waits",
            "waited",
        ]);
        for r in reports {
            for (stream, s) in &r.requests {
                req.add_row(vec![
                    Cell::new(&r.source),
                    Cell::new(stream),
                    right(s.requests),
                    right(s.not_modified),
                    right(s.retries),
                    right(s.rate_limit_waits),
                    Cell::new(format!("{}s", s.rate_limit_wait_seconds)),
                ]);
            }
        }
        outln!("API requests:\n{req}");
    }
    let mut counts = table(&["table", "rows"]);
    for d in DATA_TABLES {
        counts.add_row(vec![Cell::new(d.name), right(store.count(d.name)?)]);
    }
    outln!("store {}:\n{counts}", store.describe());
    Ok(())
}

/// What to say when `n` records could not be normalized: they are kept, and where to look.
pub fn bad_records_hint(n: u64) -> String {
    format!(
        "{n} record(s) could not be normalized; they are kept in raw_records, and their errors in bad_records:\n  \
         flowlake query \"select source, stream, key, error from bad_records order by last_seen desc\"\n\
         After a fix (a new flowlake or a config change), `flowlake rebuild` retries them."
    )
}

/// A cursor cut to fit a table cell (API cursors are JSON documents).
fn short_cursor(c: Option<&str>) -> String {
    match c {
        None => "-".into(),
        Some(c) if c.chars().count() > 40 => format!("{}…", c.chars().take(39).collect::<String>()),
        Some(c) => c.into(),
    }
}

/// Prints benchmark figures.
pub fn bench_report(r: &BenchReport, format: OutputFormat) -> Result<()> {
    if format == OutputFormat::Json {
        outln!("{}", serde_json::to_string_pretty(r)?);
        return Ok(());
    }
    let mut t = table(&["measure", "value"]);
    let rows: Vec<(&str, String)> = vec![
        ("issues", r.issues.to_string()),
        ("status changes", r.status_changes.to_string()),
        ("rows loaded (all tables)", r.rows_loaded.to_string()),
        (
            "generation, s (summed over workers)",
            format!("{:.2}", r.generate_seconds),
        ),
        (
            "metric computation, s (summed over workers)",
            format!("{:.2}", r.compute_seconds),
        ),
        (
            "loading, s (summed over loaders)",
            format!("{:.2}", r.load_seconds),
        ),
        ("wall clock, s", format!("{:.2}", r.wall_seconds)),
        (
            "computation, status changes/s",
            format!("{:.0}", r.compute_changes_per_second),
        ),
        ("loading, rows/s", format!("{:.0}", r.load_rows_per_second)),
        (
            "peak RSS, MiB",
            format!("{:.0}", r.peak_rss_bytes as f64 / 1048576.0),
        ),
    ];
    for (k, v) in rows {
        t.add_row(vec![Cell::new(k), right(v)]);
    }
    if format == OutputFormat::Csv {
        outln!("measure,value");
        outln!(
            "issues,{}\nstatus_changes,{}\nrows_loaded,{}\nwall_seconds,{:.2}\npeak_rss_bytes,{}",
            r.issues,
            r.status_changes,
            r.rows_loaded,
            r.wall_seconds,
            r.peak_rss_bytes
        );
        return Ok(());
    }
    outln!("{t}");
    Ok(())
}
