//! Status intervals: the item's life cut into stays in one status each.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use crate::calendar::BusinessCalendar;
use crate::model::{StatusChange, WorkItem};
use crate::status::{StatusCategory, StatusMap};

/// The name given to the first stay when the tracker does not say which status the first change left.
pub const UNKNOWN_INITIAL_STATUS: &str = "(created)";

/// One stay of an item in one status.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusInterval {
    /// Position in the item's life, from 0.
    pub seq: u32,
    /// Status name.
    pub status: String,
    /// Its category.
    pub category: StatusCategory,
    /// When the stay began.
    pub start: DateTime<Utc>,
    /// When it ended; `None` for the current status.
    pub end: Option<DateTime<Utc>>,
    /// Seconds from `start` to `end` (or to `now` for the current status).
    pub calendar_seconds: i64,
    /// The part of those seconds inside working hours.
    pub business_seconds: i64,
}

/// Orders changelog ids numerically when both are numbers (`9` before `10`), as text otherwise.
pub fn cmp_change_id(a: &str, b: &str) -> Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// Cuts the item's life, from creation to `now`, into status intervals.
///
/// Changes are ordered by time, ties by change id. The first interval starts at creation in the status the
/// first change left (the current status if nothing changed). A change to the status the item is already in
/// is ignored. Change times before creation or after `now` are clamped into the item's life, so the
/// intervals always tile `[created_at, max(now, created_at)]` with no gap and no overlap.
pub fn status_intervals(
    item: &WorkItem,
    changes: &[StatusChange],
    map: &StatusMap,
    calendar: &BusinessCalendar,
    now: DateTime<Utc>,
) -> Vec<StatusInterval> {
    let mut ordered: Vec<&StatusChange> = changes.iter().collect();
    ordered.sort_by(|a, b| {
        a.at.cmp(&b.at)
            .then_with(|| cmp_change_id(&a.change_id, &b.change_id))
    });
    let life_end = now.max(item.created_at);
    let clamp = |t: DateTime<Utc>| t.clamp(item.created_at, life_end);
    // An item visits a few statuses many times; the map's answer (a lower-cased copy, lookups, a guess) is
    // asked once per status name.
    let mut known: Vec<(String, StatusCategory)> = Vec::new();
    let mut category = |status: &str| {
        if let Some((_, c)) = known.iter().find(|(s, _)| s == status) {
            return *c;
        }
        let reported = status
            .eq_ignore_ascii_case(&item.status)
            .then_some(item.status_category);
        let c = map.category(status, reported);
        known.push((status.to_string(), c));
        c
    };

    let initial = match ordered.first() {
        Some(first) => first
            .from_status
            .clone()
            .unwrap_or_else(|| UNKNOWN_INITIAL_STATUS.to_string()),
        None => item.status.clone(),
    };
    let mut out = Vec::with_capacity(ordered.len() + 1);
    let mut current = initial;
    let mut start = item.created_at;
    for change in ordered {
        if change.to_status.eq_ignore_ascii_case(&current) {
            continue;
        }
        let at = clamp(change.at);
        out.push(closed(
            out.len(),
            &current,
            category(&current),
            start,
            Some(at),
            calendar,
        ));
        current = change.to_status.clone();
        start = at;
    }
    let mut last = closed(
        out.len(),
        &current,
        category(&current),
        start,
        None,
        calendar,
    );
    last.calendar_seconds = (life_end - start).num_seconds();
    last.business_seconds = calendar.business_seconds(start, life_end);
    out.push(last);
    out
}

fn closed(
    seq: usize,
    status: &str,
    category: StatusCategory,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    calendar: &BusinessCalendar,
) -> StatusInterval {
    let (calendar_seconds, business_seconds) = match end {
        Some(end) => (
            (end - start).num_seconds(),
            calendar.business_seconds(start, end),
        ),
        None => (0, 0),
    };
    StatusInterval {
        seq: seq as u32,
        status: status.to_string(),
        category,
        start,
        end,
        calendar_seconds,
        business_seconds,
    }
}
