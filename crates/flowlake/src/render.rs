//! Rendering results as tables, JSON or CSV.

use anyhow::Result;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use flowlake_core::metrics::duration::short_days;
use flowlake_core::metrics::Percentiles;
use flowlake_core::status::toml_entry;
use flowlake_engine::bench::BenchReport;
use flowlake_engine::report::MetricsReport;
use flowlake_engine::sync::SyncReport;
use flowlake_store::schema::DATA_TABLES;
use flowlake_store::{DuckDbStore, QueryResult};

use crate::cli::OutputFormat;

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    crate::term::fit_table(&mut t);
    t
}

fn right(s: impl ToString) -> Cell {
    Cell::new(s.to_string()).set_alignment(CellAlignment::Right)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Prints an ad-hoc query result.
pub fn query_result(r: &QueryResult, format: OutputFormat) -> Result<()> {
    let rows = r.rows_as_text()?;
    match format {
        OutputFormat::Table => {
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
        OutputFormat::Json => {
            let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|row| {
                    r.columns
                        .iter()
                        .zip(row)
                        .map(|(c, v)| {
                            let value = match v {
                                None => serde_json::Value::Null,
                                Some(s) => serde_json::from_str::<serde_json::Number>(s)
                                    .map(serde_json::Value::Number)
                                    .unwrap_or_else(|_| serde_json::Value::String(s.clone())),
                            };
                            (c.clone(), value)
                        })
                        .collect()
                })
                .collect();
            outln!("{}", serde_json::to_string_pretty(&objects)?);
        }
    }
    Ok(())
}

/// Prints what a sync did and the row counts of every table.
pub fn sync_summary(reports: &[SyncReport], store: &DuckDbStore) -> Result<()> {
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
    outln!("store {}:\n{counts}", store.path().display());
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

fn dur(v: Option<i64>) -> String {
    v.map_or_else(|| "-".into(), |s| short_days(s as f64))
}

fn work_hours(v: Option<i64>) -> String {
    v.map_or_else(|| "-".into(), |s| format!("{:.1}h", s as f64 / 3600.0))
}

fn percentile_row(name: &str, p: &Percentiles, fmt: fn(Option<i64>) -> String) -> Vec<Cell> {
    vec![
        Cell::new(name),
        right(p.count),
        right(fmt(p.mean.map(|m| m as i64))),
        right(fmt(p.p50)),
        right(fmt(p.p85)),
        right(fmt(p.p95)),
    ]
}

fn bar(value: u64, max: u64, width: usize) -> String {
    if max == 0 {
        return String::new();
    }
    "█".repeat(((value as f64 / max as f64) * width as f64).round() as usize)
}

/// Prints the metrics report.
pub fn metrics_report(r: &MetricsReport, format: OutputFormat, calendar: &str) -> Result<()> {
    match format {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(r)?),
        OutputFormat::Csv => metrics_csv(r)?,
        OutputFormat::Table => metrics_table(r, calendar)?,
    }
    Ok(())
}

fn metrics_table(r: &MetricsReport, calendar: &str) -> Result<()> {
    outln!(
        "Flow metrics {} … {} · {} items · {} completed in range · business time: {calendar}\n",
        r.from,
        r.to,
        r.items,
        r.completed
    );
    let mut t = table(&[
        "time to done (completed in range)",
        "items",
        "mean",
        "p50",
        "p85",
        "p95",
    ]);
    t.add_row(percentile_row("lead time", &r.lead_time, dur));
    t.add_row(percentile_row(
        "lead time, working hours",
        &r.lead_time_business,
        work_hours,
    ));
    t.add_row(percentile_row("cycle time", &r.cycle_time, dur));
    t.add_row(percentile_row(
        "cycle time, working hours",
        &r.cycle_time_business,
        work_hours,
    ));
    outln!("{t}");
    let eff = r
        .flow_efficiency_mean
        .map_or_else(|| "-".into(), |e| format!("{:.0}%", e * 100.0));
    let reopened = if r.completed > 0 {
        format!("{:.1}%", 100.0 * r.reopened as f64 / r.completed as f64)
    } else {
        "-".into()
    };
    outln!(
        "flow efficiency (mean): {eff} · reopened: {reopened} · WIP now: {}\n",
        r.wip_now
    );
    unmapped_statuses(r)?;

    let mut tp = table(&["bucket", "completed", "WIP at end", ""]);
    let max = r.throughput.iter().map(|(_, c)| *c).max().unwrap_or(0);
    for (i, (start, count)) in r.throughput.iter().enumerate() {
        let end = r
            .throughput
            .get(i + 1)
            .map(|(d, _)| *d - chrono::Duration::days(1))
            .unwrap_or(r.to);
        let wip = r
            .wip
            .iter()
            .rev()
            .find(|(d, _)| *d <= end)
            .map_or("-".into(), |(_, w)| w.to_string());
        tp.add_row(vec![
            Cell::new(start),
            right(count),
            right(wip),
            Cell::new(bar(*count, max, 30)),
        ]);
    }
    outln!("Throughput and WIP\n{tp}\n");

    let mut ts = table(&[
        "status",
        "category",
        "items",
        "visits",
        "share",
        "mean",
        "p50",
        "p85",
        "mean, working h",
    ]);
    for s in &r.time_in_status {
        ts.add_row(vec![
            Cell::new(&s.status),
            Cell::new(s.category),
            right(s.items),
            right(s.visits),
            right(format!("{:.1}%", s.share_percent)),
            right(short_days(s.mean_seconds)),
            right(dur(s.per_item.p50)),
            right(dur(s.per_item.p85)),
            right(format!("{:.1}h", s.mean_business_seconds / 3600.0)),
        ]);
    }
    outln!("Time in status (statuses before done; all matching items, current stays up to now)\n{ts}\n");

    let mut ag = table(&["oldest open items", "status", "age"]);
    for e in &r.oldest {
        ag.add_row(vec![
            Cell::new(&e.item_id),
            Cell::new(&e.status),
            right(short_days(e.age_seconds as f64)),
        ]);
    }
    outln!(
        "Aging of open work: {} items · p50 {} · p85 {} · p95 {}\n{ag}",
        r.aging.count,
        dur(r.aging.p50),
        dur(r.aging.p85),
        dur(r.aging.p95)
    );
    Ok(())
}

/// The statuses whose category was guessed, and the config lines that map them; nothing when there are none.
fn unmapped_statuses(r: &MetricsReport) -> Result<()> {
    if r.unmapped_statuses.is_empty() {
        return Ok(());
    }
    let mut t = table(&["source", "status", "guessed category", "items"]);
    for g in &r.unmapped_statuses {
        t.add_row(vec![
            Cell::new(&g.source),
            Cell::new(&g.status),
            Cell::new(g.category),
            right(g.items),
        ]);
    }
    outln!("Unmapped statuses (category guessed from the name: cycle time and WIP follow the guess)\n{t}");
    let mut lines: Vec<String> = r
        .unmapped_statuses
        .iter()
        .map(|g| toml_entry(&g.status, g.category))
        .collect();
    lines.sort_unstable();
    lines.dedup();
    outln!("Map them in flowlake.toml (or a project's table), then run `flowlake rebuild`:\n  [metrics.status_categories]");
    for l in lines {
        outln!("  {l}");
    }
    outln!();
    Ok(())
}

fn metrics_csv(r: &MetricsReport) -> Result<()> {
    outln!("section,key,metric,value");
    let opt = |v: Option<i64>| v.map_or(String::new(), |v| v.to_string());
    for (name, p) in [
        ("lead_seconds", &r.lead_time),
        ("lead_business_seconds", &r.lead_time_business),
        ("cycle_seconds", &r.cycle_time),
        ("cycle_business_seconds", &r.cycle_time_business),
        ("aging_seconds", &r.aging),
    ] {
        outln!("percentiles,{name},count,{}", p.count);
        outln!("percentiles,{name},p50,{}", opt(p.p50));
        outln!("percentiles,{name},p85,{}", opt(p.p85));
        outln!("percentiles,{name},p95,{}", opt(p.p95));
    }
    for (d, c) in &r.throughput {
        outln!("throughput,{d},completed,{c}");
    }
    for (d, w) in &r.wip {
        outln!("wip,{d},items,{w}");
    }
    for s in &r.time_in_status {
        let key = csv_field(&s.status);
        outln!("time_in_status,{key},items,{}", s.items);
        outln!("time_in_status,{key},mean_seconds,{:.0}", s.mean_seconds);
        outln!("time_in_status,{key},p50_seconds,{}", opt(s.per_item.p50));
        outln!("time_in_status,{key},p85_seconds,{}", opt(s.per_item.p85));
        outln!(
            "time_in_status,{key},mean_business_seconds,{:.0}",
            s.mean_business_seconds
        );
    }
    for g in &r.unmapped_statuses {
        let key = csv_field(&format!("{}:{}", g.source, g.status));
        outln!("unmapped_status,{key},items,{}", g.items);
        outln!("unmapped_status,{key},guessed_category,{}", g.category);
    }
    for (status, (_, counts)) in &r.cumulative_flow {
        for (d, c) in r.cfd_days.iter().zip(counts) {
            outln!("cumulative_flow,{d},{},{c}", csv_field(status));
        }
    }
    Ok(())
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
