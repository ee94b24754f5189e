//! What the store's tests build their batches from: a time from RFC 3339 text and a work item with plain
//! values, which each test changes where its case needs (`WorkItem { status, ..work_item(…) }`).

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use flowlake_core::{StandardType, StatusCategory, StatusChange, WorkItem};
use flowlake_store::LoadBatch;

/// `s`, an RFC 3339 time.
pub fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("an RFC 3339 time")
}

/// A done bug `key` of `source`/`project`, created 2024-01-01 10:00 and updated a day later, with nobody
/// assigned, no labels and no custom fields.
pub fn work_item(source: &str, project: &str, key: &str) -> WorkItem {
    WorkItem {
        id: format!("{source}:{key}"),
        source: source.into(),
        project: project.into(),
        key: key.into(),
        title: "title".into(),
        item_type: "Bug".into(),
        standard_type: StandardType::Bug,
        status: "Done".into(),
        status_category: StatusCategory::Done,
        priority: None,
        author: None,
        assignee: None,
        labels: vec![],
        components: vec![],
        parent: None,
        created_at: t("2024-01-01T10:00:00Z"),
        updated_at: t("2024-01-02T10:00:00Z"),
        resolved_at: None,
        url: None,
        custom_fields: serde_json::json!({}),
    }
}

/// An in-progress item `key` of `demo`/`P` in `status`, assigned to alice, labelled `a` and `b`, with a
/// story-points custom field.
pub fn item(key: &str, status: &str) -> WorkItem {
    WorkItem {
        status: status.into(),
        status_category: StatusCategory::InProgress,
        assignee: Some("demo:alice".into()),
        labels: vec!["a".into(), "b".into()],
        custom_fields: serde_json::json!({"story_points": 3}),
        ..work_item("demo", "P", key)
    }
}

/// A batch of [`item`]s `(key, n)`, each with `n` moves from Open to In Progress.
pub fn batch(items: &[(&str, usize)]) -> LoadBatch {
    let mut b = LoadBatch::new();
    for (key, changes) in items {
        b.work_item(&item(key, "In Progress"));
        for n in 0..*changes {
            b.status_change(&StatusChange {
                item_id: format!("demo:{key}"),
                change_id: n.to_string(),
                at: t("2024-01-01T11:00:00Z"),
                author: None,
                from_status: Some("Open".into()),
                to_status: "In Progress".into(),
            });
        }
    }
    b
}
