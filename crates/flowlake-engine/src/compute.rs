//! From normalized histories to rows: applies the configured mappings, computes every metric of an item and
//! puts it all in a [`LoadBatch`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use flowlake_core::metrics::tracker_exporter::{exits_from_status_changes, issue_metrics};
use flowlake_core::metrics::{
    item_metrics, pull_request_metrics, status_intervals, time_in_status,
};
use flowlake_core::{BusinessCalendar, ItemHistory, StandardType, StatusMap};
use flowlake_store::LoadBatch;

/// tracker-exporter compatibility settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackerExporterSettings {
    /// Its working hours.
    pub calendar: BusinessCalendar,
    /// Snake-cased closed statuses.
    pub closed_statuses: Vec<String>,
}

/// Everything the metric computation needs besides the data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlowSettings {
    /// Working hours.
    pub calendar: BusinessCalendar,
    /// Status categories and the active set.
    pub statuses: StatusMap,
    /// Lower-cased type name → standard type.
    pub standard_types: HashMap<String, StandardType>,
    /// tracker-exporter rows, when enabled.
    pub tracker_exporter: Option<TrackerExporterSettings>,
}

/// Adds an item, its changelog and all its metric rows to `batch`; returns the number of status changes.
pub fn add_history(
    batch: &mut LoadBatch,
    history: &ItemHistory,
    s: &FlowSettings,
    now: DateTime<Utc>,
) -> usize {
    let mut item = history.item.clone();
    item.status_category = s
        .statuses
        .category(&item.status, Some(item.status_category));
    if let Some(t) = s.standard_types.get(&item.item_type.to_lowercase()) {
        item.standard_type = *t;
    }
    let item = &item;

    batch.work_item(item);
    for c in &history.status_changes {
        batch.status_change(c);
    }
    for c in &history.field_changes {
        batch.field_change(c);
    }
    for p in &history.people {
        batch.person(p);
    }
    if let Some(pr) = &history.pull_request {
        batch.pull_request(pr, &pull_request_metrics(pr, &history.reviews));
        for r in &history.reviews {
            batch.review(r);
        }
    }
    let intervals = status_intervals(item, &history.status_changes, &s.statuses, &s.calendar, now);
    let metrics = item_metrics(
        item,
        &history.field_changes,
        &intervals,
        &s.statuses,
        &s.calendar,
        now,
    );
    batch.item_metrics(item, &metrics, now);
    for i in &intervals {
        batch.status_interval(&item.id, i);
    }
    for t in time_in_status(&intervals) {
        batch.status_time(&item.id, &t);
    }
    if let Some(te) = &s.tracker_exporter {
        let exits = exits_from_status_changes(&history.status_changes);
        for row in issue_metrics(&item.key, item.created_at, &exits, &te.calendar) {
            batch.tracker_exporter_row(&item.id, &row);
        }
    }
    history.status_changes.len()
}
