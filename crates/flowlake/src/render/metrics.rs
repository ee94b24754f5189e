//! The metrics report as a table (percentiles, throughput with bars, unmapped statuses) or as CSV rows.

use anyhow::Result;
use comfy_table::{Cell, Table};
use flowlake_core::metrics::duration::short_days;
use flowlake_core::metrics::{Bucket, Percentiles};
use flowlake_core::status::toml_entry;
use flowlake_engine::report::MetricsReport;

use crate::cli::OutputFormat;

use super::{csv_field, right, table};

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

/// The most throughput rows the table prints: beyond them a table is no longer read, and JSON or CSV (or a
/// coarser `--by`) serve better. `flowlake metrics --help` and docs/metrics.md say so.
pub const MAX_TABLE_BUCKETS: u64 = 1_000;

/// A share 0–1 as a percentage, `-` when there is none.
fn percent(share: Option<f64>, decimals: usize) -> String {
    share.map_or_else(|| "-".into(), |s| format!("{:.decimals$}%", s * 100.0))
}

/// Prints the metrics report.
pub fn metrics_report(r: &MetricsReport, format: OutputFormat) -> Result<()> {
    match format {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(r)?),
        OutputFormat::Csv => metrics_csv(r)?,
        OutputFormat::Table => metrics_table(r)?,
    }
    Ok(())
}

fn metrics_table(r: &MetricsReport) -> Result<()> {
    outln!(
        "Flow metrics {} … {} · {} items · {} completed in range · as of {} · business time: {}\n",
        r.from,
        r.to,
        r.items,
        r.completed_in_range,
        r.now.format("%Y-%m-%d %H:%M UTC"),
        r.business_calendar
    );
    let mut t = table(&[
        "time to done (completed in range)",
        "items",
        "mean",
        "p50",
        "p85",
        "p95",
    ]);
    t.add_row(percentile_row("lead time", &r.lead_time_seconds, dur));
    t.add_row(percentile_row(
        "lead time, working hours",
        &r.lead_time_business_seconds,
        work_hours,
    ));
    t.add_row(percentile_row("cycle time", &r.cycle_time_seconds, dur));
    t.add_row(percentile_row(
        "cycle time, working hours",
        &r.cycle_time_business_seconds,
        work_hours,
    ));
    outln!("{t}");
    outln!(
        "flow efficiency (mean): {} · reopened: {} ({} of {}) · WIP now: {}\n",
        percent(r.flow_efficiency_mean_share, 0),
        percent(r.reopened_share, 1),
        r.reopened_items,
        r.completed_in_range,
        r.wip_now
    );
    unmapped_statuses(r)?;

    let (tp, unended) = throughput_table(r);
    outln!("Throughput and WIP\n{tp}");
    if unended {
        outln!(
            "(WIP at end is \"-\" for buckets that had not ended by {}: see WIP now)",
            r.now.format("%Y-%m-%d %H:%M UTC")
        );
    }
    outln!();

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
            right(percent(Some(s.time_share), 1)),
            right(short_days(s.mean_seconds)),
            right(dur(s.p50_seconds)),
            right(dur(s.p85_seconds)),
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
        "Aging of open work: {} items · mean {} · p50 {} · p85 {} · p95 {}\n{ag}",
        r.aging_seconds.count,
        dur(r.aging_seconds.mean.map(|m| m as i64)),
        dur(r.aging_seconds.p50),
        dur(r.aging_seconds.p85),
        dur(r.aging_seconds.p95)
    );
    outln!("(per-day WIP and cumulative flow: --format json or csv)");
    Ok(())
}

/// The throughput rows as table cells, one per bucket straight from the report (each row's WIP is already
/// joined to it), so the table grows with its rows alone; and whether a bucket had not ended by `now`.
fn throughput_cells(r: &MetricsReport) -> (Vec<[String; 4]>, bool) {
    let max = r.throughput.iter().map(|b| b.completed).max().unwrap_or(0);
    let mut unended = false;
    let rows = r
        .throughput
        .iter()
        .map(|b| {
            unended |= b.wip_at_end.is_none();
            [
                b.start.to_string(),
                b.completed.to_string(),
                b.wip_at_end.map_or_else(|| "-".into(), |w| w.to_string()),
                bar(b.completed, max, 30),
            ]
        })
        .collect();
    (rows, unended)
}

fn throughput_table(r: &MetricsReport) -> (Table, bool) {
    let mut tp = table(&["bucket", "completed", "WIP at end", ""]);
    let (rows, unended) = throughput_cells(r);
    for [start, completed, wip, bar] in rows {
        tp.add_row(vec![
            Cell::new(start),
            right(completed),
            right(wip),
            Cell::new(bar),
        ]);
    }
    (tp, unended)
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

/// `section,key,metric,value` rows gathered in memory and written at once: a long range has hundreds of
/// thousands of them, and stdout writes each line it is given.
struct CsvRows(String);

impl CsvRows {
    fn row(&mut self, section: &str, key: &str, metric: &str, value: &str) {
        use std::fmt::Write as _;
        let _ = writeln!(
            self.0,
            "{section},{},{},{}",
            csv_field(key),
            csv_field(metric),
            csv_field(value)
        );
    }

    fn percentiles(&mut self, name: &str, p: &Percentiles) {
        self.row("percentiles", name, "count", &p.count.to_string());
        self.row("percentiles", name, "mean", &opt(p.mean));
        self.row("percentiles", name, "p50", &opt(p.p50));
        self.row("percentiles", name, "p85", &opt(p.p85));
        self.row("percentiles", name, "p95", &opt(p.p95));
    }
}

/// A value, or the empty field of CSV.
fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

/// The metrics report as `section,key,metric,value` rows, in the report's order, every JSON field with the
/// JSON name as its metric (docs/metrics.md lists the rows); an absent value is an empty field.
fn metrics_csv_text(r: &MetricsReport) -> String {
    let mut c = CsvRows(String::from("section,key,metric,value\n"));
    c.row("report", "", "from", &r.from.to_string());
    c.row("report", "", "to", &r.to.to_string());
    c.row(
        "report",
        "",
        "now",
        &r.now.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    );
    c.row("report", "", "business_calendar", &r.business_calendar);
    c.row("report", "", "bucket", bucket_name(r.bucket));
    for (name, value) in [
        ("source", &r.filter.source),
        ("project", &r.filter.project),
        ("type", &r.filter.item_type),
        ("assignee", &r.filter.assignee),
    ] {
        c.row("filter", "", name, value.as_deref().unwrap_or(""));
    }
    c.row("report", "", "items", &r.items.to_string());
    c.row(
        "report",
        "",
        "completed_in_range",
        &r.completed_in_range.to_string(),
    );
    c.percentiles("lead_time_seconds", &r.lead_time_seconds);
    c.percentiles("lead_time_business_seconds", &r.lead_time_business_seconds);
    c.percentiles("cycle_time_seconds", &r.cycle_time_seconds);
    c.percentiles(
        "cycle_time_business_seconds",
        &r.cycle_time_business_seconds,
    );
    c.row(
        "report",
        "",
        "flow_efficiency_mean_share",
        &opt(r.flow_efficiency_mean_share),
    );
    c.row(
        "report",
        "",
        "reopened_items",
        &r.reopened_items.to_string(),
    );
    c.row("report", "", "reopened_share", &opt(r.reopened_share));
    c.row("report", "", "wip_now", &r.wip_now.to_string());
    for g in &r.unmapped_statuses {
        let key = format!("{}:{}", g.source, g.status);
        c.row(
            "unmapped_status",
            &key,
            "guessed_category",
            g.category.as_str(),
        );
        c.row("unmapped_status", &key, "items", &g.items.to_string());
        c.row("unmapped_status", &key, "config_line", &g.config_line);
    }
    for b in &r.throughput {
        let key = b.start.to_string();
        c.row("throughput", &key, "end", &b.end.to_string());
        c.row("throughput", &key, "completed", &b.completed.to_string());
        c.row("throughput", &key, "wip_at_end", &opt(b.wip_at_end));
    }
    for s in &r.time_in_status {
        let key = &s.status;
        c.row("time_in_status", key, "category", s.category.as_str());
        c.row("time_in_status", key, "items", &s.items.to_string());
        c.row("time_in_status", key, "visits", &s.visits.to_string());
        c.row(
            "time_in_status",
            key,
            "time_share",
            &s.time_share.to_string(),
        );
        c.row(
            "time_in_status",
            key,
            "mean_seconds",
            &s.mean_seconds.to_string(),
        );
        c.row("time_in_status", key, "p50_seconds", &opt(s.p50_seconds));
        c.row("time_in_status", key, "p85_seconds", &opt(s.p85_seconds));
        c.row(
            "time_in_status",
            key,
            "mean_business_seconds",
            &s.mean_business_seconds.to_string(),
        );
    }
    c.percentiles("aging_seconds", &r.aging_seconds);
    for e in &r.oldest {
        c.row("oldest", &e.item_id, "status", &e.status);
        c.row(
            "oldest",
            &e.item_id,
            "age_seconds",
            &e.age_seconds.to_string(),
        );
    }
    for (d, w) in r.days.iter().zip(&r.wip) {
        c.row("wip", &d.to_string(), "items", &opt(*w));
    }
    for s in &r.cumulative_flow {
        c.row(
            "cumulative_flow_status",
            &s.status,
            "category",
            s.category.as_str(),
        );
    }
    for s in &r.cumulative_flow {
        for (d, n) in r.days.iter().zip(&s.items) {
            c.row("cumulative_flow", &d.to_string(), &s.status, &opt(*n));
        }
    }
    c.0
}

fn metrics_csv(r: &MetricsReport) -> Result<()> {
    use std::io::Write as _;
    std::io::stdout()
        .lock()
        .write_all(metrics_csv_text(r).as_bytes())?;
    Ok(())
}

/// The bucket as JSON names it.
fn bucket_name(b: Bucket) -> &'static str {
    match b {
        Bucket::Day => "day",
        Bucket::Week => "week",
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Days, NaiveDate, Utc};
    use flowlake_engine::report::{ReportFilter, ThroughputRow};

    use super::*;

    /// A report of `n` day buckets and nothing else.
    fn report_of_days(n: u64) -> MetricsReport {
        let from = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
        let day = |i: u64| from.checked_add_days(Days::new(i)).unwrap();
        MetricsReport {
            from,
            to: day(n - 1),
            now: Utc::now(),
            business_calendar: "test".into(),
            bucket: Bucket::Day,
            filter: ReportFilter::default(),
            items: 0,
            completed_in_range: 0,
            lead_time_seconds: Percentiles::default(),
            lead_time_business_seconds: Percentiles::default(),
            cycle_time_seconds: Percentiles::default(),
            cycle_time_business_seconds: Percentiles::default(),
            flow_efficiency_mean_share: None,
            reopened_items: 0,
            reopened_share: None,
            wip_now: 0,
            unmapped_statuses: vec![],
            throughput: (0..n)
                .map(|i| ThroughputRow {
                    start: day(i),
                    end: day(i),
                    completed: i % 7,
                    wip_at_end: (i + 1 < n).then_some(i),
                })
                .collect(),
            time_in_status: vec![],
            aging_seconds: Percentiles::default(),
            oldest: vec![],
            days: (0..n).map(day).collect(),
            wip: (0..n).map(|i| (i + 1 < n).then_some(i)).collect(),
            cumulative_flow: vec![],
        }
    }

    #[test]
    fn each_throughput_row_is_read_from_its_own_bucket_without_a_search() {
        // The old table looked each bucket's WIP up in the whole daily series (buckets × days); the rows now
        // come one per bucket from the fields the engine joined, so a long range is one pass.
        let n = 50_000;
        let r = report_of_days(n);
        let (rows, unended) = throughput_cells(&r);
        assert_eq!(rows.len() as u64, n);
        assert!(unended, "the last bucket has no WIP at its end");
        for (i, row) in rows.iter().enumerate().take(n as usize - 1) {
            assert_eq!(row[0], r.throughput[i].start.to_string());
            assert_eq!(row[2], i.to_string());
        }
        assert_eq!(rows[n as usize - 1][2], "-");
    }

    #[test]
    fn metrics_csv_has_one_wip_row_per_day_and_an_empty_value_for_days_not_sampled() {
        let r = report_of_days(10);
        let csv = metrics_csv_text(&r);
        let wip: Vec<&str> = csv.lines().filter(|l| l.starts_with("wip,")).collect();
        assert_eq!(wip.len(), 10);
        assert_eq!(wip[0], "wip,1950-01-01,items,0");
        assert_eq!(wip[9], "wip,1950-01-10,items,");
        assert!(csv.contains("throughput,1950-01-10,wip_at_end,\n"), "{csv}");
        assert!(csv.contains("report,,business_calendar,test\n"), "{csv}");
    }
}
