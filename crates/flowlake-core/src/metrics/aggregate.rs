//! Aggregates over many items: percentiles, throughput, WIP and cumulative flow per day, aging, and time per
//! status. Each is an accumulator fed one item or interval at a time, so callers can stream rows from a store
//! without holding them all.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, Utc};
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// One local calendar day.
    Day,
    /// One ISO week, Monday to Sunday, labelled by its Monday.
    Week,
}

impl Bucket {
    /// The first day of the bucket holding `date` (`date` itself at the very start of the calendar, where no
    /// Monday precedes it).
    pub fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => date,
            Self::Week => date
                .checked_sub_days(Days::new(date.weekday().num_days_from_monday().into()))
                .unwrap_or(date),
        }
    }

    /// Days in one bucket.
    pub fn days(self) -> u64 {
        match self {
            Self::Day => 1,
            Self::Week => 7,
        }
    }

    /// The last day of the bucket starting at `start`, or `None` past the end of the calendar.
    pub fn last_day(self, start: NaiveDate) -> Option<NaiveDate> {
        start.checked_add_days(Days::new(self.days() - 1))
    }

    /// How many buckets cover local dates `[from, to]` (0 when `to < from`); what a report over the range
    /// will hold, known before computing it.
    pub fn count(self, from: NaiveDate, to: NaiveDate) -> u64 {
        let first = self.start_of(from);
        let days = (to - first).num_days();
        if days < 0 {
            return 0;
        }
        days.unsigned_abs() / self.days() + 1
    }
}

/// Items completed per day or week of local dates `[from, to]`, empty buckets included.
#[derive(Debug, Clone)]
pub struct Throughput {
    tz: Tz,
    bucket: Bucket,
    from: NaiveDate,
    to: NaiveDate,
    /// The first bucket's start; bucket `i` starts `i` bucket lengths later.
    first: NaiveDate,
    counts: Vec<u64>,
}

impl Throughput {
    /// An empty count over local dates `[from, to]` in `tz`.
    pub fn new(tz: Tz, bucket: Bucket, from: NaiveDate, to: NaiveDate) -> Self {
        let first = bucket.start_of(from);
        let n = usize::try_from(bucket.count(from, to)).unwrap_or(usize::MAX);
        Self {
            tz,
            bucket,
            from,
            to,
            first,
            counts: vec![0; n],
        }
    }

    /// Counts an item completed at `completed_at` if that falls in the range.
    pub fn add(&mut self, completed_at: DateTime<Utc>) {
        let date = completed_at.with_timezone(&self.tz).date_naive();
        if date < self.from || date > self.to {
            return;
        }
        let offset = (date - self.first).num_days().unsigned_abs() / self.bucket.days();
        if let Some(c) = usize::try_from(offset)
            .ok()
            .and_then(|i| self.counts.get_mut(i))
        {
            *c += 1;
        }
    }

    /// `(bucket start, items completed)` in date order.
    pub fn buckets(&self) -> Vec<(NaiveDate, u64)> {
        let mut start = Some(self.first);
        let mut out = Vec::with_capacity(self.counts.len());
        for c in &self.counts {
            let Some(s) = start else { break };
            out.push((s, *c));
            start = s.checked_add_days(Days::new(self.bucket.days()));
        }
        out
    }
}

/// Items per status at the end of each local day of a range: the cumulative flow diagram, and WIP (items in an
/// `in_progress` status) per day. "End of day" is the instant the next local day starts; days that have not
/// ended by `now` are not sampled: their counts are `None`, so every series covers every day of the range.
///
/// Each interval is counted in constant time (a difference array over the sampled days, summed once when read),
/// so the work grows with intervals plus days, never with their product.
#[derive(Debug, Clone)]
pub struct DailyFlow {
    days: Vec<NaiveDate>,
    /// End instants of the days that ended by `now`: a prefix of `days`.
    samples: Vec<DateTime<Utc>>,
    /// status → (category, +1 where a stay starts being sampled, −1 where it stops; one slot past the end)
    deltas: BTreeMap<String, (StatusCategory, Vec<i64>)>,
}

/// One status's line of the cumulative flow diagram.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlowSeries {
    /// The status.
    pub status: String,
    /// Its category.
    pub category: StatusCategory,
    /// Items in it at the end of each day of the range; `None` for days that had not ended by `now`.
    pub items: Vec<Option<u64>>,
}

/// The instant local date `date` starts in `tz` (the first instant after a DST gap at midnight).
fn start_of_day(tz: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    match midnight.and_local_timezone(tz) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            Some(t.with_timezone(&Utc))
        }
        chrono::LocalResult::None => (midnight + Duration::hours(1))
            .and_local_timezone(tz)
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
    }
}

impl DailyFlow {
    /// An empty flow over local dates `[from, to]` in `tz`, sampled no later than `now`.
    pub fn new(tz: Tz, from: NaiveDate, to: NaiveDate, now: DateTime<Utc>) -> Self {
        let mut days = Vec::new();
        let mut samples = Vec::new();
        let mut d = from;
        while d <= to {
            days.push(d);
            let next = d.succ_opt();
            if samples.len() + 1 == days.len() {
                match next.and_then(|n| start_of_day(tz, n)) {
                    Some(end) if end <= now => samples.push(end),
                    _ => {}
                }
            }
            match next {
                Some(n) => d = n,
                None => break,
            }
        }
        Self {
            days,
            samples,
            deltas: BTreeMap::new(),
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
        let n = self.samples.len() + 1;
        let entry = self
            .deltas
            .entry(status.to_string())
            .or_insert_with(|| (category, vec![0; n]));
        entry.1[first] += 1;
        entry.1[last] -= 1;
    }

    /// Every day of the range, sampled or not.
    pub fn days(&self) -> &[NaiveDate] {
        &self.days
    }

    /// How many days, from the first, ended by `now` and were sampled.
    pub fn sampled_days(&self) -> usize {
        self.samples.len()
    }

    /// Counts per sampled day from a difference array, then `None` for each day not sampled.
    fn series(&self, deltas: &[i64]) -> Vec<Option<u64>> {
        let mut out = Vec::with_capacity(self.days.len());
        let mut running = 0i64;
        for d in &deltas[..self.samples.len()] {
            running += d;
            out.push(Some(running.unsigned_abs()));
        }
        out.resize(self.days.len(), None);
        out
    }

    /// Per status, in flow order (to do, in progress, done; by name within a category): the items in it at the
    /// end of each day.
    pub fn cumulative_flow(&self) -> Vec<FlowSeries> {
        let mut out: Vec<FlowSeries> = self
            .deltas
            .iter()
            .map(|(status, (category, deltas))| FlowSeries {
                status: status.clone(),
                category: *category,
                items: self.series(deltas),
            })
            .collect();
        out.sort_by(|a, b| a.category.cmp(&b.category).then(a.status.cmp(&b.status)));
        out
    }

    /// Items in an `in_progress` status at the end of each day; `None` for days not sampled.
    pub fn wip(&self) -> Vec<Option<u64>> {
        let mut total = vec![0i64; self.samples.len() + 1];
        for (category, deltas) in self.deltas.values() {
            if *category == StatusCategory::InProgress {
                for (t, d) in total.iter_mut().zip(deltas) {
                    *t += d;
                }
            }
        }
        self.series(&total)
    }

    /// The value of `series` (one entry per day of the range, as [`Self::wip`] gives) at the end of `date`:
    /// found by its offset from the first day, so joining any number of buckets to the days is linear.
    pub fn at(&self, series: &[Option<u64>], date: NaiveDate) -> Option<u64> {
        let first = *self.days.first()?;
        let i = usize::try_from((date - first).num_days()).ok()?;
        series.get(i).copied().flatten()
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
    /// Keeps the `keep` oldest items for display, oldest first and equal ages by item id.
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
        // Oldest first, and among equal ages by item id: the list must not depend on the order a store
        // returns its rows in.
        let pos = self
            .oldest
            .partition_point(|e| (e.age_seconds, &entry.item_id) > (entry.age_seconds, &e.item_id));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn aging_entry((id, age): (&str, i64)) -> AgingEntry {
        AgingEntry {
            item_id: id.into(),
            status: "Open".into(),
            age_seconds: age,
        }
    }

    fn oldest_of(entries: &[(&str, i64)], keep: usize) -> Vec<(String, i64)> {
        let mut aging = Aging::new(keep);
        for &e in entries {
            aging.add(aging_entry(e));
        }
        aging
            .oldest()
            .iter()
            .map(|e| (e.item_id.clone(), e.age_seconds))
            .collect()
    }

    #[test]
    fn the_oldest_items_do_not_depend_on_the_order_they_arrive_in() {
        let entries = [("b", 5), ("a", 5), ("c", 9), ("d", 1), ("e", 5)];
        let want = [("c", 9), ("a", 5), ("b", 5)].map(|(i, a)| (i.to_string(), a));
        assert_eq!(oldest_of(&entries, 3), want);
        let mut reversed = entries;
        reversed.reverse();
        assert_eq!(oldest_of(&reversed, 3), want);
    }

    proptest::proptest! {
        #[test]
        fn the_oldest_items_are_the_sorted_head_of_any_arrival_order(
            mut ages in proptest::collection::vec(0i64..4, 0..12), keep in 0usize..6, rot in 0usize..12,
        ) {
            let ids: Vec<String> = (0..ages.len()).map(|i| format!("i{i:02}")).collect();
            let mut entries: Vec<(&str, i64)> = ids.iter().map(String::as_str).zip(ages.drain(..)).collect();
            let mut want: Vec<(String, i64)> = entries.iter().map(|&(i, a)| (i.to_string(), a)).collect();
            want.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
            want.truncate(keep);
            if !entries.is_empty() {
                let n = rot % entries.len();
                entries.rotate_left(n);
            }
            proptest::prop_assert_eq!(oldest_of(&entries, keep), want);
        }
    }

    #[test]
    fn days_that_have_not_ended_keep_their_place_unsampled() {
        let mut flow = DailyFlow::new(
            chrono_tz::UTC,
            d("2024-01-01"),
            d("2024-01-04"),
            t("2024-01-02T12:00:00Z"),
        );
        flow.add(
            "Doing",
            StatusCategory::InProgress,
            t("2023-12-01T00:00:00Z"),
            None,
        );
        assert_eq!(flow.days().len(), 4);
        assert_eq!(flow.sampled_days(), 1, "only 2024-01-01 ended by now");
        let wip = flow.wip();
        assert_eq!(wip, [Some(1), None, None, None]);
        assert_eq!(flow.at(&wip, d("2024-01-01")), Some(1));
        assert_eq!(flow.at(&wip, d("2024-01-02")), None, "not ended yet");
        assert_eq!(flow.at(&wip, d("2023-12-31")), None, "before the range");
        assert_eq!(flow.at(&wip, d("2024-02-01")), None, "after the range");
    }

    #[test]
    fn an_interval_over_many_days_is_counted_in_constant_time() {
        let from = d("1990-01-01");
        let to = d("2089-12-31");
        let mut flow = DailyFlow::new(chrono_tz::UTC, from, to, t("2100-01-01T00:00:00Z"));
        flow.add(
            "Doing",
            StatusCategory::InProgress,
            t("1990-01-01T12:00:00Z"),
            None,
        );
        flow.add(
            "Doing",
            StatusCategory::InProgress,
            t("2000-01-01T12:00:00Z"),
            Some(t("2000-01-03T12:00:00Z")),
        );
        // Two adds over 36,524 days touched four slots, not the days between them.
        let touched = flow.deltas["Doing"].1.iter().filter(|d| **d != 0).count();
        assert_eq!(
            touched, 4,
            "1990-01-01 +1, 2000-01-01 +1, 2000-01-03 -1, past the end -1"
        );
        let wip = flow.wip();
        assert_eq!(wip.len(), flow.days().len());
        assert_eq!(flow.at(&wip, d("1999-12-31")), Some(1));
        assert_eq!(flow.at(&wip, d("2000-01-01")), Some(2));
        assert_eq!(flow.at(&wip, d("2000-01-02")), Some(2));
        assert_eq!(flow.at(&wip, d("2000-01-03")), Some(1));
        assert_eq!(flow.at(&wip, to), Some(1));
    }

    #[test]
    fn ranges_at_the_ends_of_the_calendar_do_not_overflow() {
        let now = t("2026-01-01T00:00:00Z");
        let end = NaiveDate::MAX;
        let start = end.checked_sub_days(Days::new(10)).unwrap();
        for bucket in [Bucket::Day, Bucket::Week] {
            let mut tp = Throughput::new(chrono_tz::UTC, bucket, start, end);
            tp.add(now);
            let buckets = tp.buckets();
            assert!(!buckets.is_empty());
            assert!(buckets.iter().all(|(s, c)| *s <= end && *c == 0));
            let tp = Throughput::new(
                chrono_tz::UTC,
                bucket,
                NaiveDate::MIN,
                NaiveDate::MIN.checked_add_days(Days::new(10)).unwrap(),
            );
            assert_eq!(tp.buckets()[0].0, NaiveDate::MIN);
        }
        let flow = DailyFlow::new(chrono_tz::UTC, start, end, DateTime::<Utc>::MAX_UTC);
        assert_eq!(flow.days().len(), 11);
        let flow = DailyFlow::new(
            chrono_tz::Europe::Berlin,
            NaiveDate::MIN,
            NaiveDate::MIN.checked_add_days(Days::new(3)).unwrap(),
            now,
        );
        assert_eq!(flow.days().len(), 4);
    }

    #[test]
    fn bucket_count_is_known_before_computing() {
        // 2024-01-03 is a Wednesday: its week starts on Monday 2024-01-01.
        assert_eq!(Bucket::Day.count(d("2024-01-03"), d("2024-01-03")), 1);
        assert_eq!(Bucket::Day.count(d("2024-01-03"), d("2024-01-12")), 10);
        assert_eq!(Bucket::Week.count(d("2024-01-03"), d("2024-01-07")), 1);
        assert_eq!(Bucket::Week.count(d("2024-01-03"), d("2024-01-08")), 2);
        assert_eq!(Bucket::Day.count(d("2024-01-03"), d("2024-01-02")), 0);
        for (bucket, from, to) in [
            (Bucket::Week, "2024-01-03", "2024-03-31"),
            (Bucket::Day, "2024-01-03", "2024-03-31"),
        ] {
            let n = Throughput::new(chrono_tz::UTC, bucket, d(from), d(to))
                .buckets()
                .len();
            assert_eq!(bucket.count(d(from), d(to)), n as u64);
        }
        assert_eq!(
            Bucket::Week.last_day(d("2024-01-01")),
            Some(d("2024-01-07"))
        );
        assert_eq!(Bucket::Week.last_day(NaiveDate::MAX), None);
    }
}
