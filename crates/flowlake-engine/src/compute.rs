//! From normalized histories to rows: applies the configured mappings, computes every metric of an item and
//! puts it all in a [`LoadBatch`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use flowlake_core::metrics::tracker_exporter::{
    exits_from_status_changes, issue_metrics, IssueMetrics,
};
use flowlake_core::metrics::{item_metrics, pull_request_metrics, status_intervals};
use flowlake_core::{BusinessCalendar, ItemHistory, StandardType, StatusCategory, StatusMap};
use flowlake_store::LoadBatch;

/// tracker-exporter compatibility settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackerExporterSettings {
    /// Its working hours.
    pub calendar: BusinessCalendar,
    /// Closed statuses in tracker-exporter's form (lower-cased, then snake-cased: `закрыт`), as
    /// `flowlake_core::metrics::tracker_exporter::is_closed` compares them.
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
    /// Per-project overrides (by project key or repository), layered over the mappings above.
    pub projects: HashMap<String, ProjectSettings>,
}

/// One project's mappings: the global ones with the project's entries on top.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProjectSettings {
    /// Status categories and the active set.
    pub statuses: StatusMap,
    /// Lower-cased type name → standard type.
    pub standard_types: HashMap<String, StandardType>,
}

impl FlowSettings {
    /// The status map items of `project` use.
    pub fn statuses_for(&self, project: &str) -> &StatusMap {
        self.projects
            .get(project)
            .map_or(&self.statuses, |p| &p.statuses)
    }

    /// The standard type configured for `item_type` in `project`, if any.
    pub fn standard_type_for(&self, project: &str, item_type: &str) -> Option<StandardType> {
        let t = item_type.to_lowercase();
        self.projects
            .get(project)
            .and_then(|p| p.standard_types.get(&t))
            .or_else(|| self.standard_types.get(&t))
            .copied()
    }

    /// The same settings with a source's own status categories under every map's explicit entries.
    pub fn with_known(&self, known: &[(String, StatusCategory)]) -> Self {
        let layer = |m: &StatusMap| m.with_known(known.iter().map(|(k, v)| (k.as_str(), *v)));
        Self {
            statuses: layer(&self.statuses),
            projects: self
                .projects
                .iter()
                .map(|(k, p)| {
                    (
                        k.clone(),
                        ProjectSettings {
                            statuses: layer(&p.statuses),
                            standard_types: p.standard_types.clone(),
                        },
                    )
                })
                .collect(),
            ..self.clone()
        }
    }
}

/// Adds an item, its changelog and all its metric rows to `batch`; returns the number of status changes.
pub fn add_history(
    batch: &mut LoadBatch,
    history: &ItemHistory,
    s: &FlowSettings,
    now: DateTime<Utc>,
) -> usize {
    let mut item = history.item.clone();
    let statuses = s.statuses_for(&item.project);
    item.status_category = statuses.category(&item.status, Some(item.status_category));
    if let Some(t) = s.standard_type_for(&item.project, &item.item_type) {
        item.standard_type = t;
    }
    let item = &item;

    batch.work_item(item);
    if let Some(node) = &history.moved_node_id {
        batch.moved(&item.source, node, &item.id);
    }
    for c in &history.status_changes {
        batch.status_change(c);
    }
    for c in &history.field_changes {
        batch.field_change(c);
    }
    for p in &history.people {
        batch.entity(p);
    }
    for w in &history.worklogs {
        batch.worklog(w);
    }
    for sprint in &history.sprints {
        batch.item_sprint(&item.id, sprint);
    }
    if let Some(pr) = &history.pull_request {
        batch.pull_request(pr, &pull_request_metrics(pr, &history.reviews));
        for r in &history.reviews {
            batch.review(r);
        }
    }
    let intervals = status_intervals(item, &history.status_changes, statuses, &s.calendar, now);
    let metrics = item_metrics(
        item,
        &history.field_changes,
        &intervals,
        statuses,
        &s.calendar,
        now,
    );
    // Which stays got a guessed category: recorded next to the metrics, which it does not change.
    let guessed = statuses.guessed(
        &item.status,
        intervals.iter().map(|i| (i.status.as_str(), i.category)),
    );
    batch.item_metrics(item, &metrics, &guessed, now);
    for i in &intervals {
        batch.status_interval(&item.id, i);
    }
    if let Some(te) = &s.tracker_exporter {
        let m = tracker_exporter_rows(history, item, te);
        for c in &m.collisions {
            tracing::warn!(
                issue = %item.key,
                status_name = %c.status_name,
                "statuses {} of one issue share one tracker_exporter_issue_metrics row (tracker-exporter \
                 names them alike and sums their stays)",
                c.display_names.join(", ")
            );
        }
        for row in &m.rows {
            batch.tracker_exporter_row(&item.id, row);
        }
    }
    history.status_changes.len()
}

/// The tracker-exporter compatible rows of an item: from the stays the source recorded itself (Yandex
/// Tracker's `statusStartTime`, see [`ItemHistory::workflow_exits`]) when it did, else derived from the status
/// changes.
pub fn tracker_exporter_rows(
    history: &ItemHistory,
    item: &flowlake_core::WorkItem,
    te: &TrackerExporterSettings,
) -> IssueMetrics {
    let derived;
    let exits = match &history.workflow_exits {
        Some(exits) => exits.as_slice(),
        None => {
            derived = exits_from_status_changes(&history.status_changes);
            derived.as_slice()
        }
    };
    issue_metrics(&item.key, item.created_at, exits, &te.calendar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowlake_connect::yandex_tracker::{normalize_issue, IssueWithChangelog};

    /// A Tracker issue moved to another queue with its status reset to Open (an `IssueMoved` entry), then
    /// moved on to Review: the Open stay the last entry closes began at the move.
    fn moved() -> ItemHistory {
        let record: IssueWithChangelog = serde_json::from_value(serde_json::json!({
            "issue": {"id": "7a1", "key": "SRE-3", "createdAt": "2023-10-16T06:00:00.000+0000",
                      "updatedAt": "2023-10-18T10:00:00.000+0000", "status": {"key": "review", "display": "Review"},
                      "queue": {"key": "SRE"}},
            "changelog": [
                {"id": "1", "updatedAt": "2023-10-16T08:00:00.000+0000", "type": "IssueWorkflow", "fields": [
                    {"field": {"id": "status"}, "from": {"display": "Open"}, "to": {"display": "In Progress"}},
                    {"field": {"id": "statusStartTime"}, "from": null, "to": "2023-10-16T08:00:00.000+0000"}]},
                {"id": "2", "updatedAt": "2023-10-17T08:00:00.000+0000", "type": "IssueMoved", "fields": [
                    {"field": {"id": "queue"}, "from": {"key": "DEV"}, "to": {"key": "SRE"}},
                    {"field": {"id": "status"}, "from": {"display": "In Progress"}, "to": {"display": "Open"}},
                    {"field": {"id": "statusStartTime"}, "from": "2023-10-16T08:00:00.000+0000", "to": "2023-10-17T08:00:00.000+0000"}]},
                {"id": "3", "updatedAt": "2023-10-18T10:00:00.000+0000", "type": "IssueWorkflow", "fields": [
                    {"field": {"id": "status"}, "from": {"display": "Open"}, "to": {"display": "Review"}},
                    {"field": {"id": "statusStartTime"}, "from": "2023-10-17T08:00:00.000+0000", "to": "2023-10-18T10:00:00.000+0000"}]}
            ]
        }))
        .unwrap();
        normalize_issue("tracker", "https://tracker.yandex.ru", &record).0
    }

    fn settings() -> TrackerExporterSettings {
        TrackerExporterSettings {
            calendar: BusinessCalendar::tracker_exporter(),
            closed_statuses: flowlake_core::metrics::tracker_exporter::default_closed_statuses(),
        }
    }

    #[test]
    fn tracker_exporter_rows_measure_a_tracker_stay_from_its_own_status_start_time() {
        let h = moved();
        let rows = tracker_exporter_rows(&h, &h.item, &settings()).rows;
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].status_name.as_str(), rows[0].duration),
            ("open", 7200 + 93_600),
            "2 h from creation, then 26 h from the move (tracker-exporter 2.0.0 gives the same)"
        );
        let derived = ItemHistory {
            workflow_exits: None,
            ..h.clone()
        };
        assert_eq!(
            tracker_exporter_rows(&derived, &h.item, &settings()).rows[0].duration,
            7200 + 180_000,
            "without recorded stays the rows pair status changes"
        );
    }
}
