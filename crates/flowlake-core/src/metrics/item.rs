//! Per-item flow metrics: lead and cycle time, reopenings, flow efficiency, first response, status path,
//! and time in each status.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::calendar::BusinessCalendar;
use crate::metrics::intervals::StatusInterval;
use crate::model::{FieldChange, WorkItem};
use crate::status::{StatusCategory, StatusMap};

/// The flow metrics of one item, as of `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemMetrics {
    /// The item.
    pub item_id: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// First entry into an `in_progress` status.
    pub started_at: Option<DateTime<Utc>>,
    /// Final entry into `done`: the start of the trailing run of `done` statuses. `None` while not done.
    pub completed_at: Option<DateTime<Utc>>,
    /// `created_at → completed_at`, seconds.
    pub lead_seconds: Option<i64>,
    /// The same, working seconds only.
    pub lead_business_seconds: Option<i64>,
    /// `started_at → completed_at`, seconds.
    pub cycle_seconds: Option<i64>,
    /// The same, working seconds only.
    pub cycle_business_seconds: Option<i64>,
    /// Moves out of a `done` status into any other category.
    pub reopen_count: u32,
    /// Seconds in active statuses between `started_at` and `completed_at`.
    pub active_seconds: Option<i64>,
    /// `active_seconds / cycle_seconds`, in 0..=1; `None` without a positive cycle time.
    pub flow_efficiency: Option<f64>,
    /// First status change, or first change by someone other than the author, whichever is earlier.
    pub first_response_at: Option<DateTime<Utc>>,
    /// `created_at → first_response_at`, seconds.
    pub first_response_seconds: Option<i64>,
    /// Statuses in the order visited, `Open → In Progress → Done`.
    pub status_path: String,
    /// Number of status intervals (stays).
    pub status_changes: u32,
    /// Current status.
    pub current_status: String,
    /// Its category.
    pub current_category: StatusCategory,
    /// For unfinished items: seconds since `started_at`, or since creation when not started.
    pub age_seconds: Option<i64>,
}

/// Total time per status of one item.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusTime {
    /// Status name.
    pub status: String,
    /// Its category.
    pub category: StatusCategory,
    /// How many stays.
    pub visits: u32,
    /// Sum of calendar seconds of the stays, the current one up to `now` included.
    pub calendar_seconds: i64,
    /// Sum of working seconds of the stays.
    pub business_seconds: i64,
}

/// Computes the item's metrics from its intervals and its other field changes (see [`crate::metrics::status_intervals`]).
pub fn item_metrics(
    item: &WorkItem,
    field_changes: &[FieldChange],
    intervals: &[StatusInterval],
    map: &StatusMap,
    calendar: &BusinessCalendar,
    now: DateTime<Utc>,
) -> ItemMetrics {
    let last = intervals.last();
    let current_category = last.map_or(item.status_category, |i| i.category);
    let current_status = last.map_or_else(|| item.status.clone(), |i| i.status.clone());

    let done_from = if current_category == StatusCategory::Done {
        let trailing = intervals
            .iter()
            .rev()
            .take_while(|i| i.category == StatusCategory::Done)
            .count();
        Some(intervals.len() - trailing)
    } else {
        None
    };
    let completed_at = done_from.map(|i| intervals[i].start);
    let start_idx = intervals
        .iter()
        .position(|i| i.category == StatusCategory::InProgress);
    let started_at = start_idx.map(|i| intervals[i].start);

    let lead_seconds = completed_at.map(|c| (c - item.created_at).num_seconds());
    let lead_business_seconds = completed_at.map(|c| calendar.business_seconds(item.created_at, c));
    let (cycle_seconds, cycle_business_seconds, active_seconds) = match (start_idx, done_from) {
        (Some(s), Some(d)) if s < d => {
            let window = &intervals[s..d];
            let active = window
                .iter()
                .filter(|i| map.is_active(&i.status, i.category))
                .map(|i| i.calendar_seconds)
                .sum::<i64>();
            let (from, to) = (intervals[s].start, intervals[d].start);
            (
                Some((to - from).num_seconds()),
                Some(calendar.business_seconds(from, to)),
                Some(active),
            )
        }
        _ => (None, None, None),
    };
    let flow_efficiency = match (active_seconds, cycle_seconds) {
        (Some(a), Some(c)) if c > 0 => Some(a as f64 / c as f64),
        _ => None,
    };

    let reopen_count = intervals
        .windows(2)
        .filter(|w| w[0].category == StatusCategory::Done && w[1].category != StatusCategory::Done)
        .count() as u32;

    let first_status_change = intervals.get(1).map(|i| i.start);
    let first_other_change = field_changes
        .iter()
        .filter(|c| c.author.is_some() && c.author != item.author)
        .map(|c| c.at.max(item.created_at))
        .min();
    let first_response_at = match (first_status_change, first_other_change) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };

    let mut status_path = String::new();
    for (n, i) in intervals.iter().enumerate() {
        if n > 0 {
            status_path.push_str(" → ");
        }
        status_path.push_str(&i.status);
    }

    let age_seconds = match completed_at {
        Some(_) => None,
        None => Some(
            (now - started_at.unwrap_or(item.created_at))
                .num_seconds()
                .max(0),
        ),
    };

    ItemMetrics {
        item_id: item.id.clone(),
        created_at: item.created_at,
        started_at,
        completed_at,
        lead_seconds,
        lead_business_seconds,
        cycle_seconds,
        cycle_business_seconds,
        reopen_count,
        active_seconds,
        flow_efficiency,
        first_response_at,
        first_response_seconds: first_response_at.map(|f| (f - item.created_at).num_seconds()),
        status_path,
        status_changes: intervals.len().saturating_sub(1) as u32,
        current_status,
        current_category,
        age_seconds,
    }
}

/// Sums the intervals per status, in order of first visit.
pub fn time_in_status(intervals: &[StatusInterval]) -> Vec<StatusTime> {
    let mut out: Vec<StatusTime> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for i in intervals {
        let slot = *index.entry(i.status.as_str()).or_insert_with(|| {
            out.push(StatusTime {
                status: i.status.clone(),
                category: i.category,
                visits: 0,
                calendar_seconds: 0,
                business_seconds: 0,
            });
            out.len() - 1
        });
        let t = &mut out[slot];
        t.visits += 1;
        t.calendar_seconds += i.calendar_seconds;
        t.business_seconds += i.business_seconds;
    }
    out
}
