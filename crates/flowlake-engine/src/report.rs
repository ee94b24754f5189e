//! The metrics report `flowlake metrics` prints: percentiles, throughput, WIP, cumulative flow, time per
//! status and aging, computed by the core's aggregates over rows streamed from the store.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use flowlake_core::metrics::{
    Aging, AgingEntry, Bucket, DailyFlow, Percentiles, StatusTimeSummary, Throughput,
};
use flowlake_core::{GuessedStatus, StatusCategory};
use flowlake_store::duckdb_store::ItemFilter;
use flowlake_store::{DuckDbStore, StoreError};
use serde::Serialize;

/// What to report on.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Which items.
    pub filter: ItemFilter,
    /// First local date of the range.
    pub from: NaiveDate,
    /// Last local date of the range.
    pub to: NaiveDate,
    /// Throughput bucket.
    pub bucket: Bucket,
    /// Time zone of the dates (the calendar's).
    pub tz: Tz,
    /// The report's "now".
    pub now: DateTime<Utc>,
    /// How many of the oldest open items to list.
    pub aging_top: usize,
}

/// Time in one status across the selected items.
#[derive(Debug, Clone, Serialize)]
pub struct StatusTimeRow {
    /// Status name.
    pub status: String,
    /// Its category.
    pub category: StatusCategory,
    /// Items that visited it.
    pub items: u64,
    /// Stays in it.
    pub visits: u64,
    /// Share of all time spent in it, percent.
    pub share_percent: f64,
    /// Mean per visiting item, seconds.
    pub mean_seconds: f64,
    /// Per-item distribution, seconds.
    pub per_item: Percentiles,
    /// Mean working seconds per visiting item.
    pub mean_business_seconds: f64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct MetricsReport {
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub to: NaiveDate,
    /// Items matching the filter.
    pub items: u64,
    /// Items completed in the range.
    pub completed: u64,
    /// Lead time of items completed in the range, seconds.
    pub lead_time: Percentiles,
    /// The same in working seconds.
    pub lead_time_business: Percentiles,
    /// Cycle time of items completed in the range, seconds.
    pub cycle_time: Percentiles,
    /// The same in working seconds.
    pub cycle_time_business: Percentiles,
    /// Mean flow efficiency of items completed in the range.
    pub flow_efficiency_mean: Option<f64>,
    /// Completed items that were reopened at least once.
    pub reopened: u64,
    /// `(bucket start, items completed)`.
    pub throughput: Vec<(NaiveDate, u64)>,
    /// Items in progress now.
    pub wip_now: u64,
    /// `(day, items in progress at its end)`.
    pub wip: Vec<(NaiveDate, u64)>,
    /// Days of the cumulative flow.
    pub cfd_days: Vec<NaiveDate>,
    /// Per status: category and items in it at the end of each day.
    pub cumulative_flow: BTreeMap<String, (StatusCategory, Vec<u64>)>,
    /// Time per not-done status over all matching items.
    pub time_in_status: Vec<StatusTimeRow>,
    /// Age of unfinished work, seconds.
    pub aging: Percentiles,
    /// The oldest unfinished items.
    pub oldest: Vec<AgingEntry>,
    /// Statuses of matching items whose category was guessed from the name, per source, most items first,
    /// each with the config line that maps it: cycle time, WIP and flow depend on these guesses.
    pub unmapped_statuses: Vec<GuessedStatus>,
}

/// Builds the report from the store.
pub fn metrics_report(store: &DuckDbStore, o: &ReportOptions) -> Result<MetricsReport, StoreError> {
    let in_range = |t: DateTime<Utc>| {
        let d = t.with_timezone(&o.tz).date_naive();
        d >= o.from && d <= o.to
    };
    let mut items = 0;
    let (mut lead, mut lead_b, mut cycle, mut cycle_b, mut eff) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut reopened = 0;
    let mut wip_now = 0;
    let mut throughput = Throughput::new(o.tz, o.bucket, o.from, o.to);
    let mut aging = Aging::new(o.aging_top);
    store.for_each_item_metrics(&o.filter, |m| {
        items += 1;
        if m.current_category == StatusCategory::InProgress {
            wip_now += 1;
        }
        match m.completed_at {
            Some(done) => {
                throughput.add(done);
                if in_range(done) {
                    lead.extend(m.lead_seconds);
                    lead_b.extend(m.lead_business_seconds);
                    cycle.extend(m.cycle_seconds);
                    cycle_b.extend(m.cycle_business_seconds);
                    eff.extend(m.flow_efficiency);
                    if m.reopen_count > 0 {
                        reopened += 1;
                    }
                }
            }
            None => aging.add(AgingEntry {
                item_id: m.item_id.clone(),
                status: m.current_status.clone(),
                age_seconds: (o.now - m.started_at.unwrap_or(m.created_at))
                    .num_seconds()
                    .max(0),
            }),
        }
    })?;
    let completed = lead.len() as u64;

    let mut flow = DailyFlow::new(o.tz, o.from, o.to, o.now);
    let range_start = o
        .from
        .and_hms_opt(0, 0, 0)
        .map_or(o.now, |d| d.and_utc() - Duration::days(1));
    let range_end = (o.to + Duration::days(2))
        .and_hms_opt(0, 0, 0)
        .map_or(o.now, |d| d.and_utc());
    store.for_each_interval(
        &o.filter,
        range_start,
        range_end,
        |status, cat, start, end| {
            flow.add(status, cat, start, end);
        },
    )?;
    let wip: Vec<(NaiveDate, u64)> = flow.days().iter().copied().zip(flow.wip()).collect();

    let mut summary = StatusTimeSummary::default();
    store.for_each_status_time(&o.filter, |status, cat, visits, cal, bus| {
        summary.add(status, cat, visits as u32, cal, bus);
    })?;
    // Time after completion says nothing about flow, so done statuses are left out of the shares and rows.
    let in_flow = |t: &&flowlake_core::metrics::aggregate::StatusTotals| {
        t.category != Some(StatusCategory::Done)
    };
    let total: i64 = summary
        .statuses()
        .values()
        .filter(in_flow)
        .map(|t| t.calendar_seconds)
        .sum();
    let mut time_in_status: Vec<StatusTimeRow> = summary
        .statuses()
        .iter()
        .filter(|(_, t)| in_flow(t))
        .map(|(name, t)| StatusTimeRow {
            status: name.clone(),
            category: t.category.unwrap_or(StatusCategory::InProgress),
            items: t.items,
            visits: t.visits,
            share_percent: if total > 0 {
                100.0 * t.calendar_seconds as f64 / total as f64
            } else {
                0.0
            },
            mean_seconds: t.calendar_seconds as f64 / t.items.max(1) as f64,
            per_item: t.percentiles(),
            mean_business_seconds: t.business_seconds as f64 / t.items.max(1) as f64,
        })
        .collect();
    time_in_status.sort_by(|a, b| {
        a.category
            .cmp(&b.category)
            .then(b.share_percent.total_cmp(&a.share_percent))
    });

    Ok(MetricsReport {
        from: o.from,
        to: o.to,
        items,
        completed,
        lead_time: Percentiles::of(lead),
        lead_time_business: Percentiles::of(lead_b),
        cycle_time: Percentiles::of(cycle),
        cycle_time_business: Percentiles::of(cycle_b),
        flow_efficiency_mean: (!eff.is_empty()).then(|| eff.iter().sum::<f64>() / eff.len() as f64),
        reopened,
        throughput: throughput.buckets(),
        wip_now,
        wip,
        cfd_days: flow.days().to_vec(),
        cumulative_flow: flow.cumulative_flow().clone(),
        time_in_status,
        aging: aging.percentiles(),
        oldest: aging.oldest().to_vec(),
        unmapped_statuses: store.guessed_statuses(&o.filter)?,
    })
}

/// The statuses of `source`'s stored items whose category was guessed, each warned about once with the
/// config line that maps it; `sync` and `rebuild` call it after loading a source, so a guess is never silent.
pub fn warn_guessed_statuses(
    store: &DuckDbStore,
    source: &str,
) -> Result<Vec<GuessedStatus>, StoreError> {
    let guessed = store.guessed_statuses(&ItemFilter {
        source: Some(source.to_string()),
        ..ItemFilter::default()
    })?;
    for g in &guessed {
        tracing::warn!(source = %g.source, items = g.items, "{}", g.warning());
    }
    Ok(guessed)
}
