//! The metrics report `flowlake metrics` prints: percentiles, throughput, WIP, cumulative flow, time per
//! status and aging, computed by the core's aggregates over rows streamed from the store.
//!
//! [`MetricsReport`] is the report's one shape: its fields are in the order the table prints them, and JSON
//! is that struct serialized, so every format carries the same facts under the same names, with their units
//! in the names (`_seconds`, `_share`).

use std::fmt;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use flowlake_core::metrics::{
    Aging, AgingEntry, Bucket, DailyFlow, FlowSeries, Percentiles, StatusTimeSummary, Throughput,
};
use flowlake_core::{GuessedStatus, StatusCategory};
use flowlake_store::{FilterField, ItemFilter, Store, StoreError};
use serde::Serialize;

/// The longest range a report covers, in days (100 years): longer ranges reach before any tracker and only
/// cost time and memory (one entry per day in the WIP and cumulative flow series).
pub const MAX_RANGE_DAYS: u64 = 36_525;

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
    /// The working-time calendar, described for the reader (business seconds are measured in it).
    pub business_calendar: String,
}

/// Why there is no report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The range ends before it starts.
    #[error("the range starts on {from}, after its last day {to}")]
    Reversed {
        /// First day asked for.
        from: NaiveDate,
        /// Last day asked for.
        to: NaiveDate,
    },
    /// The range is longer than [`MAX_RANGE_DAYS`].
    #[error(
        "the range {from} … {to} is {days} days long; a report covers at most {MAX_RANGE_DAYS} days (100 years)"
    )]
    TooLong {
        /// First day asked for.
        from: NaiveDate,
        /// Last day asked for.
        to: NaiveDate,
        /// Its length.
        days: u64,
    },
    /// The filters match no stored item.
    #[error("{0}")]
    NothingMatched(NoMatch),
}

/// Which filter values matched nothing, and what the store holds instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoMatch {
    /// Filters that alone match no stored item, each with the values that would.
    pub unknown: Vec<UnknownValue>,
    /// When every filter matches items alone but not together: each filter and its item count.
    pub each_alone: Vec<(FilterField, String, u64)>,
}

/// A filter value no stored item has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// The field.
    pub field: FilterField,
    /// The value asked for.
    pub value: String,
    /// The stored values of the field, sorted ignoring case.
    pub known: Vec<String>,
}

/// How many known values an error lists before it says how many more there are.
const KNOWN_SHOWN: usize = 20;

/// The option a filter field is given with, and the plural of what it names.
fn field_words(field: FilterField) -> (&'static str, &'static str) {
    match field {
        FilterField::Source => ("source", "sources"),
        FilterField::Project => ("project", "projects"),
        FilterField::ItemType => ("type", "types (tracker or standard)"),
        FilterField::Assignee => ("assignee", "assignees (the id, or the login after its `:`)"),
    }
}

impl fmt::Display for NoMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unknown.is_empty() {
            let each: Vec<String> = self
                .each_alone
                .iter()
                .map(|(field, value, n)| format!("{} `{value}` ({n})", field_words(*field).0))
                .collect();
            return write!(
                f,
                "nothing matched: no item matches {} together, though each matches items alone",
                each.join(" and ")
            );
        }
        for (i, u) in self.unknown.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let (name, plural) = field_words(u.field);
            write!(
                f,
                "nothing matched: no item has {name} `{}` (matching ignores case); ",
                u.value
            )?;
            if u.known.is_empty() {
                write!(f, "the store holds no items")?;
                continue;
            }
            let shown: Vec<&str> = u
                .known
                .iter()
                .take(KNOWN_SHOWN)
                .map(String::as_str)
                .collect();
            write!(f, "known {plural}: {}", shown.join(", "))?;
            if u.known.len() > KNOWN_SHOWN {
                write!(
                    f,
                    " … and {} more ({} in all)",
                    u.known.len() - KNOWN_SHOWN,
                    u.known.len()
                )?;
            }
        }
        Ok(())
    }
}

/// The filters of a report, as given.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReportFilter {
    /// `--source`.
    pub source: Option<String>,
    /// `--project`.
    pub project: Option<String>,
    /// `--type`.
    #[serde(rename = "type")]
    pub item_type: Option<String>,
    /// `--assignee`.
    pub assignee: Option<String>,
}

/// One throughput bucket, with the WIP at its end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThroughputRow {
    /// First day (a Monday for weeks; the range's first day may fall inside the first week).
    pub start: NaiveDate,
    /// Last day in the range.
    pub end: NaiveDate,
    /// Items completed in it.
    pub completed: u64,
    /// Items in progress at the end of `end`; `None` when that day had not ended by the report's `now`.
    pub wip_at_end: Option<u64>,
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
    /// Share of all not-done time spent in it, 0–1.
    pub time_share: f64,
    /// Mean per visiting item, seconds.
    pub mean_seconds: f64,
    /// Median per visiting item, seconds.
    pub p50_seconds: Option<i64>,
    /// 85th percentile per visiting item, seconds.
    pub p85_seconds: Option<i64>,
    /// Mean working seconds per visiting item.
    pub mean_business_seconds: f64,
}

/// The report, its fields in the order the table prints them.
#[derive(Debug, Clone, Serialize)]
pub struct MetricsReport {
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub to: NaiveDate,
    /// The instant "now" of the report: ages and current stays run to it, and days that had not ended by it
    /// are not sampled.
    pub now: DateTime<Utc>,
    /// The working-time calendar of the business seconds.
    pub business_calendar: String,
    /// The throughput bucket.
    pub bucket: Bucket,
    /// The filters.
    pub filter: ReportFilter,
    /// Items matching the filter.
    pub items: u64,
    /// Items completed in the range.
    pub completed_in_range: u64,
    /// Lead time of items completed in the range.
    pub lead_time_seconds: Percentiles,
    /// The same in working seconds.
    pub lead_time_business_seconds: Percentiles,
    /// Cycle time of items completed in the range.
    pub cycle_time_seconds: Percentiles,
    /// The same in working seconds.
    pub cycle_time_business_seconds: Percentiles,
    /// Mean flow efficiency of items completed in the range, 0–1.
    pub flow_efficiency_mean_share: Option<f64>,
    /// Items completed in the range that were reopened at least once.
    pub reopened_items: u64,
    /// The same as a share of the items completed in the range, 0–1.
    pub reopened_share: Option<f64>,
    /// Items in progress now.
    pub wip_now: u64,
    /// Statuses of matching items whose category was guessed from the name, per source, most items first,
    /// each with the config line that maps it: cycle time, WIP and flow depend on these guesses.
    pub unmapped_statuses: Vec<GuessedStatus>,
    /// Items completed per bucket, and WIP at each bucket's end.
    pub throughput: Vec<ThroughputRow>,
    /// Time per not-done status over all matching items.
    pub time_in_status: Vec<StatusTimeRow>,
    /// Age of unfinished work.
    pub aging_seconds: Percentiles,
    /// The oldest unfinished items, oldest first.
    pub oldest: Vec<AgingEntry>,
    /// Every day of the range: the index of `wip` and of each `cumulative_flow` series.
    pub days: Vec<NaiveDate>,
    /// Items in progress at the end of each day; `None` for days that had not ended by `now`.
    pub wip: Vec<Option<u64>>,
    /// Per status, in flow order: items in it at the end of each day (`None` as for `wip`).
    pub cumulative_flow: Vec<FlowSeries>,
}

/// Checks a range before anything is read: it must not be reversed nor longer than [`MAX_RANGE_DAYS`].
pub fn check_range(from: NaiveDate, to: NaiveDate) -> Result<(), ReportError> {
    if from > to {
        return Err(ReportError::Reversed { from, to });
    }
    let days = (to - from).num_days().unsigned_abs() + 1;
    if days > MAX_RANGE_DAYS {
        return Err(ReportError::TooLong { from, to, days });
    }
    Ok(())
}

/// The filter's fields that are set, with their values, each as a filter of its own.
fn filter_parts(f: &ItemFilter) -> Vec<(FilterField, String, ItemFilter)> {
    let mut out = Vec::new();
    if let Some(v) = &f.source {
        let alone = ItemFilter {
            source: Some(v.clone()),
            ..ItemFilter::default()
        };
        out.push((FilterField::Source, v.clone(), alone));
    }
    if let Some(v) = &f.project {
        let alone = ItemFilter {
            project: Some(v.clone()),
            ..ItemFilter::default()
        };
        out.push((FilterField::Project, v.clone(), alone));
    }
    if let Some(v) = &f.item_type {
        let alone = ItemFilter {
            item_type: Some(v.clone()),
            ..ItemFilter::default()
        };
        out.push((FilterField::ItemType, v.clone(), alone));
    }
    if let Some(v) = &f.assignee {
        let alone = ItemFilter {
            assignee: Some(v.clone()),
            ..ItemFilter::default()
        };
        out.push((FilterField::Assignee, v.clone(), alone));
    }
    out
}

/// `Err(NothingMatched)` when filters are set and no stored item matches them: a report of zeros would read
/// as "no work", when the likelier story is a misspelt name.
fn check_filter(store: &dyn Store, filter: &ItemFilter) -> Result<(), ReportError> {
    let parts = filter_parts(filter);
    if parts.is_empty() || store.count_items(filter)? > 0 {
        return Ok(());
    }
    let mut no = NoMatch {
        unknown: Vec::new(),
        each_alone: Vec::new(),
    };
    for (field, value, alone) in parts {
        match store.count_items(&alone)? {
            0 => no.unknown.push(UnknownValue {
                field,
                value,
                known: store.filter_values(field)?,
            }),
            n => no.each_alone.push((field, value, n)),
        }
    }
    Err(ReportError::NothingMatched(no))
}

/// Builds the report from the store.
pub fn metrics_report(store: &dyn Store, o: &ReportOptions) -> Result<MetricsReport, ReportError> {
    check_range(o.from, o.to)?;
    check_filter(store, &o.filter)?;
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
    store.for_each_item_metrics(&o.filter, &mut |m| {
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
    // A day around the range on either side covers every time zone's midnights; the ends of the calendar
    // clamp to the widest instants there are.
    let range_start = o
        .from
        .and_hms_opt(0, 0, 0)
        .and_then(|d| d.and_utc().checked_sub_signed(TimeDelta::days(1)))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let range_end =
        o.to.and_hms_opt(0, 0, 0)
            .and_then(|d| d.and_utc().checked_add_signed(TimeDelta::days(2)))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
    store.for_each_interval(
        &o.filter,
        range_start,
        range_end,
        &mut |status, cat, start, end| {
            flow.add(status, cat, start, end);
        },
    )?;
    let wip = flow.wip();
    let throughput = throughput_rows(&throughput.buckets(), o.bucket, o.to, &flow, &wip);

    let mut summary = StatusTimeSummary::default();
    store.for_each_status_time(&o.filter, &mut |status, cat, visits, cal, bus| {
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
        .map(|(name, t)| {
            let per_item = t.percentiles();
            StatusTimeRow {
                status: name.clone(),
                category: t.category.unwrap_or(StatusCategory::InProgress),
                items: t.items,
                visits: t.visits,
                time_share: if total > 0 {
                    t.calendar_seconds as f64 / total as f64
                } else {
                    0.0
                },
                mean_seconds: t.calendar_seconds as f64 / t.items.max(1) as f64,
                p50_seconds: per_item.p50,
                p85_seconds: per_item.p85,
                mean_business_seconds: t.business_seconds as f64 / t.items.max(1) as f64,
            }
        })
        .collect();
    time_in_status.sort_by(|a, b| {
        a.category
            .cmp(&b.category)
            .then(b.time_share.total_cmp(&a.time_share))
    });

    Ok(MetricsReport {
        from: o.from,
        to: o.to,
        now: o.now,
        business_calendar: o.business_calendar.clone(),
        bucket: o.bucket,
        filter: ReportFilter {
            source: o.filter.source.clone(),
            project: o.filter.project.clone(),
            item_type: o.filter.item_type.clone(),
            assignee: o.filter.assignee.clone(),
        },
        items,
        completed_in_range: completed,
        lead_time_seconds: Percentiles::of(lead),
        lead_time_business_seconds: Percentiles::of(lead_b),
        cycle_time_seconds: Percentiles::of(cycle),
        cycle_time_business_seconds: Percentiles::of(cycle_b),
        flow_efficiency_mean_share: (!eff.is_empty())
            .then(|| eff.iter().sum::<f64>() / eff.len() as f64),
        reopened_items: reopened,
        reopened_share: (completed > 0).then(|| reopened as f64 / completed as f64),
        wip_now,
        unmapped_statuses: store.guessed_statuses(&o.filter)?,
        throughput,
        time_in_status,
        aging_seconds: aging.percentiles(),
        oldest: aging.oldest().to_vec(),
        days: flow.days().to_vec(),
        wip,
        cumulative_flow: flow.cumulative_flow(),
    })
}

/// Each bucket with its last day in the range and the WIP at that day's end, looked up by the day's offset:
/// one step per bucket, so a report of many days costs no more than its days.
fn throughput_rows(
    buckets: &[(NaiveDate, u64)],
    bucket: Bucket,
    to: NaiveDate,
    flow: &DailyFlow,
    wip: &[Option<u64>],
) -> Vec<ThroughputRow> {
    buckets
        .iter()
        .map(|&(start, completed)| {
            let end = bucket.last_day(start).map_or(to, |d| d.min(to));
            ThroughputRow {
                start,
                end,
                completed,
                wip_at_end: flow.at(wip, end),
            }
        })
        .collect()
}

/// The statuses of `source`'s stored items whose category was guessed, each warned about once with the
/// config line that maps it; `sync` and `rebuild` call it after loading a source, so a guess is never silent.
pub fn warn_guessed_statuses(
    store: &dyn Store,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_filter_that_matches_nothing_names_the_known_values_and_cuts_long_lists() {
        let no = NoMatch {
            unknown: vec![
                UnknownValue {
                    field: FilterField::Project,
                    value: "nosuch".into(),
                    known: vec!["CORE".into(), "WEB".into()],
                },
                UnknownValue {
                    field: FilterField::Assignee,
                    value: "Farid".into(),
                    known: (0..25).map(|i| format!("demo:p{i:02}")).collect(),
                },
            ],
            each_alone: vec![],
        };
        let text = no.to_string();
        assert!(
            text.contains(
                "no item has project `nosuch` (matching ignores case); known projects: CORE, WEB"
            ),
            "{text}"
        );
        assert!(text.contains("demo:p19 … and 5 more (25 in all)"), "{text}");
        assert!(!text.contains("demo:p20"), "{text}");
        let together = NoMatch {
            unknown: vec![],
            each_alone: vec![
                (FilterField::Project, "CORE".into(), 120),
                (FilterField::ItemType, "bug".into(), 30),
            ],
        };
        assert_eq!(
            together.to_string(),
            "nothing matched: no item matches project `CORE` (120) and type `bug` (30) together, though each matches items alone"
        );
    }

    #[test]
    fn ranges_are_checked_before_anything_is_read() {
        assert!(check_range(d("2026-01-01"), d("2026-01-01")).is_ok());
        assert!(matches!(
            check_range(d("2026-01-02"), d("2026-01-01")),
            Err(ReportError::Reversed { .. })
        ));
        let from = d("1926-01-01");
        let longest = from
            .checked_add_days(chrono::Days::new(MAX_RANGE_DAYS - 1))
            .unwrap();
        assert!(check_range(from, longest).is_ok());
        let e = check_range(from, longest.succ_opt().unwrap()).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("is 36526 days long; a report covers at most 36525 days (100 years)"),
            "{e}"
        );
        assert!(check_range(NaiveDate::MIN, NaiveDate::MAX).is_err());
    }
}
