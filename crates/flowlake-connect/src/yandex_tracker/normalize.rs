//! A Yandex Tracker issue and its changelog into an [`ItemHistory`].
//!
//! Status changes come from `IssueWorkflow` entries whose first field is `status`, exactly the entries
//! tracker-exporter counts; their time is the entry's `statusStartTime.to` when present (the moment the new
//! status began), else the entry's `updatedAt`. Every other changed field is a field change.
//!
//! The tracker-exporter compatible rows get their own list of stays ([`workflow_exits`]), read from each entry
//! the way tracker-exporter 2.0.0 reads it (`models/issue.py`, `_on_changelog_issue_workflow`): a stay runs
//! from the entry's own `fields[1].from` to its `fields[1].to`, never from the previous status change, since a
//! queue move that resets the status (an `IssueMoved` entry) starts a new stay without a workflow entry.

use chrono::{DateTime, Utc};
use flowlake_core::metrics::tracker_exporter::WorkflowExit;
use flowlake_core::{
    qualified_id, FieldChange, ItemHistory, Person, StandardType, StatusCategory, StatusChange,
    WorkItem,
};
use serde::Deserialize;
use serde_json::Value;

use super::activity::{parse_duration, time as activity_time, TrackerComment, TrackerWorklog};
use crate::jira::parse_time;

/// Tracker's status types → categories: `new` → todo; `paused`, `inProgress` → in progress; `done`,
/// `cancelled` → done.
pub fn category_of(kind: &str) -> Option<StatusCategory> {
    match kind {
        "new" => Some(StatusCategory::Todo),
        "paused" | "inProgress" => Some(StatusCategory::InProgress),
        "done" | "cancelled" => Some(StatusCategory::Done),
        _ => None,
    }
}

/// A `{ key?, id?, display }` reference (status, type, queue, user, …).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Ref {
    /// Key (statuses, types, queues).
    pub key: Option<String>,
    /// Id (users, issues).
    pub id: Option<String>,
    /// Shown name.
    pub display: Option<String>,
}

impl Ref {
    fn shown(&self) -> Option<String> {
        self.display.clone().or_else(|| self.key.clone())
    }
}

/// Times: Tracker writes `2024-01-15T10:30:00.000+0000`.
fn time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s = String::deserialize(d)?;
    parse_time(&s).ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a Tracker time")))
}

fn opt_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| {
            parse_time(&s)
                .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a Tracker time")))
        })
        .transpose()
}

/// An issue as `/v2/issues/_search` returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackerIssue {
    /// Immutable id.
    pub id: String,
    /// Key; changes when the issue moves to another queue.
    pub key: String,
    /// Title.
    pub summary: Option<String>,
    /// Current status.
    pub status: Ref,
    /// Type.
    #[serde(rename = "type")]
    pub kind: Option<Ref>,
    /// Priority.
    pub priority: Option<Ref>,
    /// Queue.
    pub queue: Ref,
    /// Author.
    pub created_by: Option<Ref>,
    /// Assignee.
    pub assignee: Option<Ref>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Components.
    #[serde(default)]
    pub components: Vec<Ref>,
    /// Parent issue.
    pub parent: Option<Ref>,
    /// Creation time.
    #[serde(deserialize_with = "time")]
    pub created_at: DateTime<Utc>,
    /// Last update.
    #[serde(deserialize_with = "time")]
    pub updated_at: DateTime<Utc>,
    /// Resolution time.
    #[serde(default, deserialize_with = "opt_time")]
    pub resolved_at: Option<DateTime<Utc>>,
}

/// One changed field of a changelog entry; values are references, strings or lists.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EntryField {
    /// Which field: `{ id, display }`.
    pub field: Ref,
    /// Old value.
    #[serde(default)]
    pub from: Value,
    /// New value.
    #[serde(default)]
    pub to: Value,
}

/// A changelog entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Entry id.
    pub id: String,
    /// When.
    #[serde(deserialize_with = "time")]
    pub updated_at: DateTime<Utc>,
    /// Who.
    pub updated_by: Option<Ref>,
    /// `IssueWorkflow`, `IssueUpdated`, `IssueCreated`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Changed fields.
    #[serde(default)]
    pub fields: Vec<EntryField>,
}

/// The landed record: the issue with its whole changelog, and its comments and worklogs when read.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IssueWithChangelog {
    /// The issue.
    pub issue: TrackerIssue,
    /// Its changelog, oldest first.
    #[serde(default)]
    pub changelog: Vec<Entry>,
    /// Its comments.
    #[serde(default)]
    pub comments: Vec<TrackerComment>,
    /// Its worklog.
    #[serde(default)]
    pub worklogs: Vec<TrackerWorklog>,
}

/// A changed value as text: a reference's display name, a string, or a list of them joined by `, `.
fn shown(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(shown).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        Value::Object(_) => Ref::deserialize(v).ok().and_then(|r| r.shown()),
        other => Some(other.to_string()),
    }
}

/// A status-move entry tracker-exporter would count but whose stay cannot be measured: left out of the
/// rows, as tracker-exporter leaves out an entry without an end (it would stop on the other cases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedExit {
    /// The changelog entry's id.
    pub entry_id: String,
    /// What is missing or wrong, naming the field.
    pub reason: String,
}

/// A time field of a changelog entry: `Ok(None)` when empty (null or `""`, which Python's `or` passes over),
/// `Err` with the value when it is not a Tracker time.
fn entry_time(v: &Value) -> Result<Option<DateTime<Utc>>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => parse_time(s)
            .map(Some)
            .ok_or_else(|| format!("`{s}` is not a Tracker time")),
        other => Err(format!("`{other}` is not a Tracker time")),
    }
}

/// The stays tracker-exporter 2.0.0 closes, in changelog order as received: one per `IssueWorkflow` entry
/// with at least two fields whose first is `status`; the status left is `fields[0].from`, the stay runs from
/// `fields[1].from` (in Tracker's data `statusStartTime`; empty for the first move out of the initial
/// status, then the issue's `createdAt` applies) to `fields[1].to`. Entries without an end, without a status
/// left or with a time that does not parse are returned as skipped.
pub fn workflow_exits(record: &IssueWithChangelog) -> (Vec<WorkflowExit>, Vec<SkippedExit>) {
    let mut exits = Vec::new();
    let mut skipped = Vec::new();
    for e in &record.changelog {
        let [first, span, ..] = e.fields.as_slice() else {
            continue;
        };
        if e.kind != "IssueWorkflow" || first.field.id.as_deref() != Some("status") {
            continue;
        }
        let skip = |reason: String| SkippedExit {
            entry_id: e.id.clone(),
            reason,
        };
        let Some(status_display) = shown(&first.from) else {
            skipped.push(skip("no status left: `fields[0].from` is empty".into()));
            continue;
        };
        let started = match entry_time(&span.from) {
            Ok(t) => t,
            Err(why) => {
                skipped.push(skip(format!("`fields[1].from`: {why}")));
                continue;
            }
        };
        let ended = match entry_time(&span.to) {
            Ok(Some(t)) => t,
            Ok(None) => {
                skipped.push(skip("the stay has no end: `fields[1].to` is empty".into()));
                continue;
            }
            Err(why) => {
                skipped.push(skip(format!("`fields[1].to`: {why}")));
                continue;
            }
        };
        exits.push(WorkflowExit {
            status_display,
            started,
            ended,
        });
    }
    (exits, skipped)
}

/// Normalizes one issue with its changelog. `web` is the base of links (`https://tracker.yandex.ru`).
/// Returns the history and the workflow entries left out of the tracker-exporter rows, for the caller to log.
pub fn normalize_issue(
    source: &str,
    web: &str,
    record: &IssueWithChangelog,
) -> (ItemHistory, Vec<SkippedExit>) {
    let issue = &record.issue;
    let id = qualified_id(source, &issue.id);
    let mut people: Vec<Person> = Vec::new();
    let mut person = |r: &Option<Ref>| -> Option<String> {
        let r = r.as_ref()?;
        let login = r.id.clone().or_else(|| r.key.clone())?;
        if !people.iter().any(|p| p.login == login) {
            people.push(Person {
                id: qualified_id(source, &login),
                source: source.to_string(),
                login: login.clone(),
                name: r.display.clone(),
                email: None,
            });
        }
        Some(qualified_id(source, &login))
    };
    let author = person(&issue.created_by);
    let assignee = person(&issue.assignee);
    let mut status_changes = Vec::new();
    let mut field_changes = Vec::new();
    for e in &record.changelog {
        let who = person(&e.updated_by);
        let workflow = e.kind == "IssueWorkflow"
            && e.fields.first().and_then(|f| f.field.id.as_deref()) == Some("status");
        if workflow {
            let f = &e.fields[0];
            let at = e
                .fields
                .iter()
                .find(|f| f.field.id.as_deref() == Some("statusStartTime"))
                .and_then(|f| f.to.as_str())
                .and_then(parse_time)
                .unwrap_or(e.updated_at);
            if let Some(to) = shown(&f.to) {
                status_changes.push(StatusChange {
                    item_id: id.clone(),
                    change_id: e.id.clone(),
                    at,
                    author: who.clone(),
                    from_status: shown(&f.from),
                    to_status: to,
                });
            }
        }
        for (n, f) in e.fields.iter().enumerate() {
            let field = f.field.id.clone().unwrap_or_default();
            if (workflow && n == 0) || field == "statusStartTime" || field.is_empty() {
                continue;
            }
            field_changes.push(FieldChange {
                item_id: id.clone(),
                change_id: format!("{}.{n}", e.id),
                at: e.updated_at,
                author: who.clone(),
                field,
                from_value: shown(&f.from),
                to_value: shown(&f.to),
            });
        }
    }
    for c in &record.comments {
        let Some(at) = activity_time(&c.created_at) else {
            continue;
        };
        let author = person(&c.created_by);
        field_changes.push(FieldChange {
            item_id: id.clone(),
            change_id: format!("comment:{}", c.id),
            at,
            author,
            field: "comment".into(),
            from_value: None,
            to_value: None,
        });
    }
    let mut worklogs = Vec::new();
    for w in &record.worklogs {
        let (Some(started_at), Some(seconds)) =
            (activity_time(&w.start), parse_duration(&w.duration))
        else {
            continue;
        };
        let author = person(&w.created_by);
        worklogs.push(flowlake_core::Worklog {
            id: w.id.clone(),
            item_id: id.clone(),
            author,
            started_at,
            seconds,
            created_at: w.created_at.as_deref().and_then(activity_time),
            updated_at: w.updated_at.as_deref().and_then(activity_time),
        });
    }
    let status = issue.status.shown().unwrap_or_default();
    let item_type = issue
        .kind
        .as_ref()
        .and_then(Ref::shown)
        .unwrap_or_else(|| "Issue".into());
    let queue = issue.queue.key.clone().unwrap_or_default();
    let item = WorkItem {
        id: id.clone(),
        source: source.to_string(),
        project: queue,
        key: issue.key.clone(),
        title: issue.summary.clone().unwrap_or_default(),
        standard_type: StandardType::guess(
            issue
                .kind
                .as_ref()
                .and_then(|k| k.key.as_deref())
                .unwrap_or(&item_type),
        ),
        item_type,
        status_category: flowlake_core::status::guess_category(&status),
        status,
        priority: issue.priority.as_ref().and_then(Ref::shown),
        author,
        assignee,
        labels: issue.tags.clone(),
        components: issue.components.iter().filter_map(Ref::shown).collect(),
        parent: issue
            .parent
            .as_ref()
            .and_then(|p| p.id.clone().or_else(|| p.key.clone()))
            .map(|p| qualified_id(source, &p)),
        created_at: issue.created_at,
        updated_at: issue.updated_at,
        resolved_at: issue.resolved_at,
        url: Some(format!("{}/{}", web.trim_end_matches('/'), issue.key)),
        custom_fields: Value::Object(serde_json::Map::new()),
    };
    let (exits, skipped) = workflow_exits(record);
    let history = ItemHistory {
        item,
        status_changes,
        field_changes,
        people,
        pull_request: None,
        reviews: Vec::new(),
        moved_node_id: None,
        worklogs,
        sprints: vec![],
        workflow_exits: Some(exits),
    };
    (history, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_entries_are_status_changes_at_their_status_start_time() {
        let record: IssueWithChangelog = serde_json::from_value(serde_json::json!({
            "issue": {
                "id": "5f1a", "key": "DEV-3", "summary": "Отчёт", "createdAt": "2023-10-16T06:00:00.000+0000",
                "updatedAt": "2023-10-19T09:00:00.000+0000",
                "status": {"id": "3", "key": "inProgress", "display": "In Progress"},
                "type": {"key": "bug", "display": "Ошибка"}, "queue": {"key": "DEV", "display": "Dev"},
                "createdBy": {"id": "11", "display": "Alice"}, "tags": ["backend"]
            },
            "changelog": [
                {"id": "c1", "updatedAt": "2023-10-16T08:30:01.000+0000", "updatedBy": {"id": "12", "display": "Bob"},
                 "type": "IssueWorkflow", "fields": [
                    {"field": {"id": "status", "display": "Статус"}, "from": {"key": "open", "display": "Open"}, "to": {"key": "inProgress", "display": "In Progress"}},
                    {"field": {"id": "statusStartTime"}, "from": "2023-10-16T06:00:00.000+0000", "to": "2023-10-16T08:30:00.000+0000"},
                    {"field": {"id": "resolution"}, "from": null, "to": null}]},
                {"id": "c2", "updatedAt": "2023-10-16T09:00:00.000+0000", "updatedBy": {"id": "12", "display": "Bob"},
                 "type": "IssueUpdated", "fields": [
                    {"field": {"id": "assignee", "display": "Исполнитель"}, "from": null, "to": {"id": "12", "display": "Bob"}},
                    {"field": {"id": "tags"}, "from": [], "to": ["backend", "urgent"]}]},
                {"id": "c3", "updatedAt": "2023-10-17T12:00:00.000+0000", "updatedBy": null,
                 "type": "IssueUpdated", "fields": [
                    {"field": {"id": "status", "display": "Статус"}, "from": {"display": "In Progress"}, "to": {"display": "Review"}}]}
            ]
        }))
        .unwrap();
        let (h, skipped) = normalize_issue("yt", "https://tracker.yandex.ru/", &record);
        assert!(skipped.is_empty());
        assert_eq!(h.item.id, "yt:5f1a");
        assert_eq!(
            h.item.url.as_deref(),
            Some("https://tracker.yandex.ru/DEV-3")
        );
        assert_eq!(h.item.standard_type, StandardType::Bug);
        let moves: Vec<(String, Option<&str>, &str)> = h
            .status_changes
            .iter()
            .map(|c| {
                (
                    c.at.to_rfc3339(),
                    c.from_status.as_deref(),
                    c.to_status.as_str(),
                )
            })
            .collect();
        assert_eq!(
            moves,
            [(
                "2023-10-16T08:30:00+00:00".to_string(),
                Some("Open"),
                "In Progress"
            )],
            "only IssueWorkflow entries move the status, at statusStartTime.to"
        );
        let fields: Vec<(&str, Option<&str>)> = h
            .field_changes
            .iter()
            .map(|c| (c.field.as_str(), c.to_value.as_deref()))
            .collect();
        assert_eq!(
            fields,
            [
                ("resolution", None),
                ("assignee", Some("Bob")),
                ("tags", Some("backend, urgent")),
                ("status", Some("Review"))
            ]
        );
        let logins: Vec<&str> = h.people.iter().map(|p| p.login.as_str()).collect();
        assert_eq!(logins, ["11", "12"]);
    }

    fn moved_issue() -> IssueWithChangelog {
        // Shapes: yandex-cloud/docs en/tracker/concepts/issues/get-changelog.md (IssueCreated with a `status`
        // field from null; IssueWorkflow with `status` then `statusStartTime {from, to}`; IssueMoved is in its
        // list of change types). The fields of the move entry are modelled on the workflow entry: a move with
        // `InitialStatus` (en/tracker/concepts/issues/move-issue.md) changes the queue, the key and the status,
        // and the status's start time with it.
        serde_json::from_value(serde_json::json!({
            "issue": {
                "id": "6033f986bd6c4a04", "key": "SRE-3", "summary": "Перенос",
                "createdAt": "2023-10-16T06:00:00.000+0000", "updatedAt": "2023-10-18T10:00:00.000+0000",
                "status": {"id": "4", "key": "review", "display": "Review"}, "queue": {"key": "SRE", "display": "SRE"}
            },
            "changelog": [
                {"id": "m1", "updatedAt": "2023-10-16T06:00:00.000+0000", "type": "IssueCreated", "transport": "front",
                 "fields": [{"field": {"id": "status", "display": "Status"}, "from": null, "to": {"id": "1", "key": "open", "display": "Open"}}]},
                {"id": "m2", "updatedAt": "2023-10-16T08:00:00.000+0000", "type": "IssueWorkflow", "transport": "front",
                 "fields": [
                    {"field": {"id": "status", "display": "Status"}, "from": {"id": "1", "key": "open", "display": "Open"}, "to": {"id": "3", "key": "inProgress", "display": "In Progress"}},
                    {"field": {"id": "statusStartTime", "display": "Status updated"}, "from": null, "to": "2023-10-16T08:00:00.000+0000"}]},
                {"id": "m3", "updatedAt": "2023-10-17T08:00:00.000+0000", "type": "IssueMoved", "transport": "front",
                 "fields": [
                    {"field": {"id": "queue", "display": "Queue"}, "from": {"id": "1", "key": "DEV", "display": "DEV"}, "to": {"id": "2", "key": "SRE", "display": "SRE"}},
                    {"field": {"id": "key", "display": "Key"}, "from": "DEV-7", "to": "SRE-3"},
                    {"field": {"id": "status", "display": "Status"}, "from": {"id": "3", "key": "inProgress", "display": "In Progress"}, "to": {"id": "1", "key": "open", "display": "Open"}},
                    {"field": {"id": "statusStartTime", "display": "Status updated"}, "from": "2023-10-16T08:00:00.000+0000", "to": "2023-10-17T08:00:00.000+0000"}]},
                {"id": "m4", "updatedAt": "2023-10-18T10:00:00.000+0000", "type": "IssueWorkflow", "transport": "front",
                 "fields": [
                    {"field": {"id": "status", "display": "Status"}, "from": {"id": "1", "key": "open", "display": "Open"}, "to": {"id": "4", "key": "review", "display": "Review"}},
                    {"field": {"id": "statusStartTime", "display": "Status updated"}, "from": "2023-10-17T08:00:00.000+0000", "to": "2023-10-18T10:00:00.000+0000"}]}
            ]
        }))
        .unwrap()
    }

    /// The reset to Open at the move starts the stay the next workflow entry closes: 26 h (93600 s) from the
    /// move, as tracker-exporter 2.0.0 computes it, not 50 h (180000 s) from the previous status change.
    #[test]
    fn a_queue_move_that_resets_the_status_starts_the_next_stay_at_its_own_status_start_time() {
        use flowlake_core::metrics::tracker_exporter::{exits_from_status_changes, issue_metrics};
        use flowlake_core::BusinessCalendar;
        let record = moved_issue();
        let (h, skipped) = normalize_issue("yt", "https://tracker.yandex.ru", &record);
        assert!(skipped.is_empty(), "{skipped:?}");
        let exits = h.workflow_exits.clone().unwrap();
        let stays: Vec<(&str, i64)> = exits
            .iter()
            .map(|x| {
                let start = x.started.unwrap_or(h.item.created_at);
                (x.status_display.as_str(), (x.ended - start).num_seconds())
            })
            .collect();
        assert_eq!(stays, [("Open", 7200), ("Open", 93_600)]);
        assert_eq!(
            exits[0].started, None,
            "the first move out of the initial status has no start"
        );
        let derived = exits_from_status_changes(&h.status_changes);
        assert_eq!(
            (derived[1].ended - derived[1].started.unwrap()).num_seconds(),
            180_000,
            "pairing status changes measures from the previous change"
        );
        let cal = BusinessCalendar::tracker_exporter();
        let m = issue_metrics(&h.item.key, h.item.created_at, &exits, &cal);
        let rows: Vec<(&str, u32, i64)> = m
            .rows
            .iter()
            .map(|r| {
                (
                    r.status_name.as_str(),
                    r.status_transitions_count,
                    r.duration,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [("open", 2, 7200 + 93_600)],
            "tracker-exporter 2.0.0's own code gives open, 2, 100800 on this changelog"
        );
    }

    #[test]
    fn workflow_entries_without_an_end_are_skipped_with_their_id() {
        let mut record = moved_issue();
        record.changelog[3].fields[1].to = Value::Null;
        // Not status moves to tracker-exporter: one field only, or a first field other than `status`.
        record.changelog[1].fields.truncate(1);
        record.changelog[2].kind = "IssueWorkflow".into();
        let (h, skipped) = normalize_issue("yt", "https://tracker.yandex.ru", &record);
        assert_eq!(h.workflow_exits, Some(vec![]));
        assert_eq!(
            skipped,
            [SkippedExit {
                entry_id: "m4".into(),
                reason: "the stay has no end: `fields[1].to` is empty".into()
            }]
        );
        record.changelog[3].fields[1].to = Value::String("yesterday".into());
        let (_, skipped) = normalize_issue("yt", "https://tracker.yandex.ru", &record);
        assert!(skipped[0].reason.contains("`yesterday`"), "{skipped:?}");
    }
}
