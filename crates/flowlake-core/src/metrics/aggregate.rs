//! Aggregates over many items: percentiles, throughput, WIP and cumulative flow per day, aging, and time per
//! status. Each is an accumulator fed one item or interval at a time, so callers can stream rows from a store
//! without holding them all.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::status::StatusCategory;

/// Nearest-rank percentile of sorted values: the smallest value with at least `p` percent of the values at or
/// below it. `None` for no values.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// Count, mean and the p50/p85/p95 of a set of durations in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Percentiles {
    /// Number of values.
    pub count: usize,
    /// Arithmetic mean.
    pub mean: Option<f64>,
    /// Median (nearest rank).
    pub p50: Option<i64>,
    /// 85th percentile.
    pub p85: Option<i64>,
    /// 95th percentile.
    pub p95: Option<i64>,
}

impl Percentiles {
    /// Summarizes `values` (any order).
    pub fn of(mut values: Vec<i64>) -> Self {
        values.sort_unstable();
        let count = values.len();
        let mean =
            (count > 0).then(|| values.iter().map(|&v| v as f64).sum::<f64>() / count as f64);
        Self {
            count,
            mean,
            p50: percentile(&values, 50.0),
            p85: percentile(&values, 85.0),
            p95: percentile(&values, 95.0),
        }
    }
}

/// Size of a throughput bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// One local calendar day.
    Day,
    /// One ISO week, Monday to Sunday, labelled by its Monday.
    Week,
}

impl Bucket {
    fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => date,
            Self::Week => date - Duration::days(date.weekday().num_days_from_monday().into()),
        }
    }

    fn next(self, date: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => date + Duration::days(1),
            Self::Week => date + Duration::days(7),
        }
    }
}

/// Items completed per day or week of local dates `[from, to]`, empty buckets included.
#[derive(Debug, Clone)]
pub struct Throughput {
    tz: Tz,
    bucket: Bucket,
    from: NaiveDate,
    to: NaiveDate,
    counts: BTreeMap<NaiveDate, u64>,
}

impl Throughput {
    /// An empty count over local dates `[from, to]` in `tz`.
    pub fn new(tz: Tz, bucket: Bucket, from: NaiveDate, to: NaiveDate) -> Self {
        let mut counts = BTreeMap::new();
        let mut d = bucket.start_of(from);
        while d <= to {
            counts.insert(d, 0);
            d = bucket.next(d);
        }
        Self {
            tz,
            bucket,
            from,
            to,
            counts,
        }
    }

    /// Counts an item completed at `completed_at` if that falls in the range.
    pub fn add(&mut self, completed_at: DateTime<Utc>) {
        let date = completed_at.with_timezone(&self.tz).date_naive();
        if date < self.from || date > self.to {
            return;
        }
        *self.counts.entry(self.bucket.start_of(date)).or_insert(0) += 1;
    }

    /// `(bucket start, items completed)` in date order.
    pub fn buckets(&self) -> Vec<(NaiveDate, u64)> {
        self.counts.iter().map(|(d, c)| (*d, *c)).collect()
    }
}

/// Items per status at the end of each local day of a range: the cumulative flow diagram, and WIP (items in an
/// `in_progress` status) per day. "End of day" is the instant the next local day starts; days after `now`
/// are not sampled.
#[derive(Debug, Clone)]
pub struct DailyFlow {
    days: Vec<NaiveDate>,
    samples: Vec<DateTime<Utc>>,
    /// status → (category, count per day)
    counts: BTreeMap<String, (StatusCategory, Vec<u64>)>,
}

impl DailyFlow {
    /// An empty flow over local dates `[from, to]` in `tz`, sampled no later than `now`.
    pub fn new(tz: Tz, from: NaiveDate, to: NaiveDate, now: DateTime<Utc>) -> Self {
        let mut days = Vec::new();
        let mut samples = Vec::new();
        let mut d = from;
        while d <= to {
            let next = d + Duration::days(1);
            let Some(midnight) = next.and_hms_opt(0, 0, 0) else {
                break;
            };
            let sample = match midnight.and_local_timezone(tz) {
                chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
                    t.with_timezone(&Utc)
                }
                chrono::LocalResult::None => {
                    (midnight + Duration::hours(1)).and_utc() - Duration::hours(1)
                }
            };
            if sample > now {
                break;
            }
            days.push(d);
            samples.push(sample);
            d = next;
        }
        Self {
            days,
            samples,
            counts: BTreeMap::new(),
        }
    }

    /// Adds one status interval `[start, end)`; `end = None` means still in that status.
    pub fn add(
        &mut self,
        status: &str,
        category: StatusCategory,
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
    ) {
        let first = self.samples.partition_point(|s| *s < start);
        let last = match end {
            Some(e) => self.samples.partition_point(|s| *s < e),
            None => self.samples.len(),
        };
        if first >= last {
            return;
        }
        let n = self.samples.len();
        let entry = self
            .counts
            .entry(status.to_string())
            .or_insert_with(|| (category, vec![0; n]));
        for c in &mut entry.1[first..last] {
            *c += 1;
        }
    }

    /// The sampled days.
    pub fn days(&self) -> &[NaiveDate] {
        &self.days
    }

    /// Per status: its category and the count of items in it at the end of each day.
    pub fn cumulative_flow(&self) -> &BTreeMap<String, (StatusCategory, Vec<u64>)> {
        &self.counts
    }

    /// Items in an `in_progress` status at the end of each day.
    pub fn wip(&self) -> Vec<u64> {
        let mut wip = vec![0; self.days.len()];
        for (category, counts) in self.counts.values() {
            if *category == StatusCategory::InProgress {
                for (w, c) in wip.iter_mut().zip(counts) {
                    *w += c;
                }
            }
        }
        wip
    }
}

/// One unfinished item and how long it has been in flight.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AgingEntry {
    /// The item.
    pub item_id: String,
    /// Its current status.
    pub status: String,
    /// Seconds since it started (or since creation when not started).
    pub age_seconds: i64,
}

/// Aging of open work: the oldest items and the age distribution.
#[derive(Debug, Clone, Default)]
pub struct Aging {
    ages: Vec<i64>,
    oldest: Vec<AgingEntry>,
    keep: usize,
}

impl Aging {
    /// Keeps the `keep` oldest items for display.
    pub fn new(keep: usize) -> Self {
        Self {
            ages: Vec::new(),
            oldest: Vec::new(),
            keep,
        }
    }

    /// Adds one unfinished item.
    pub fn add(&mut self, entry: AgingEntry) {
        self.ages.push(entry.age_seconds);
        if self.keep == 0 {
            return;
        }
        let pos = self
            .oldest
            .partition_point(|e| e.age_seconds >= entry.age_seconds);
        if pos < self.keep {
            self.oldest.insert(pos, entry);
            self.oldest.truncate(self.keep);
        }
    }

    /// Distribution of ages.
    pub fn percentiles(&self) -> Percentiles {
        Percentiles::of(self.ages.clone())
    }

    /// The oldest items, oldest first.
    pub fn oldest(&self) -> &[AgingEntry] {
        &self.oldest
    }
}

/// Time spent per status across items.
#[derive(Debug, Clone, Default)]
pub struct StatusTimeSummary {
    per_status: BTreeMap<String, StatusTotals>,
}

/// Totals of one status across items.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StatusTotals {
    /// Category of the status.
    pub category: Option<StatusCategory>,
    /// Items that visited it.
    pub items: u64,
    /// Stays in it.
    pub visits: u64,
    /// Sum of calendar seconds.
    pub calendar_seconds: i64,
    /// Sum of working seconds.
    pub business_seconds: i64,
    /// Per-item calendar seconds, for percentiles.
    #[serde(skip)]
    per_item: Vec<i64>,
}

impl StatusTotals {
    /// Distribution of per-item time in the status.
    pub fn percentiles(&self) -> Percentiles {
        Percentiles::of(self.per_item.clone())
    }
}

impl StatusTimeSummary {
    /// Adds one item's time in one status.
    pub fn add(
        &mut self,
        status: &str,
        category: StatusCategory,
        visits: u32,
        calendar: i64,
        business: i64,
    ) {
        let t = self.per_status.entry(status.to_string()).or_default();
        t.category = Some(category);
        t.items += 1;
        t.visits += u64::from(visits);
        t.calendar_seconds += calendar;
        t.business_seconds += business;
        t.per_item.push(calendar);
    }

    /// Totals per status, by name.
    pub fn statuses(&self) -> &BTreeMap<String, StatusTotals> {
        &self.per_status
    }
}
