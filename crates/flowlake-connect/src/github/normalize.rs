//! A GitHub issue (GraphQL `Issue` node with `timelineItems`) into an [`ItemHistory`].
//!
//! GitHub has two states, so the status is derived: `Open` at creation; a label mapped by config (say
//! `status: in progress` → `In Progress`) moves the issue to that status when added, and removing it falls
//! back to the newest mapped label still on the issue, else `Open`; `ClosedEvent` moves it to `Done` (state
//! reason `COMPLETED`) or `Cancelled` (`NOT_PLANNED`, `DUPLICATE`); `ReopenedEvent` back to the label-derived
//! status. Assignment, label and transfer events become field changes.

use chrono::{DateTime, Utc};
use flowlake_core::{
    qualified_id, FieldChange, ItemHistory, Person, StandardType, StatusCategory, StatusChange,
    WorkItem,
};
use serde::Deserialize;

/// How GitHub's states and labels become statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRules {
    /// Label (case-insensitive) → status, e.g. `status: in progress` → `In Progress`.
    pub labels: Vec<(String, String)>,
    /// Status of an open issue without a mapped label. Default `Open`.
    pub open: String,
    /// Status of an issue closed as completed. Default `Done`.
    pub done: String,
    /// Status of an issue closed as not planned or duplicate. Default `Cancelled`.
    pub cancelled: String,
}

impl Default for StatusRules {
    fn default() -> Self {
        Self {
            labels: Vec::new(),
            open: "Open".into(),
            done: "Done".into(),
            cancelled: "Cancelled".into(),
        }
    }
}

impl StatusRules {
    fn mapped(&self, label: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(label))
            .map(|(_, s)| s.as_str())
    }

    /// The category of a status these rules produce.
    pub fn category(&self, status: &str) -> StatusCategory {
        if status == self.open {
            StatusCategory::Todo
        } else if status == self.done || status == self.cancelled {
            StatusCategory::Done
        } else {
            StatusCategory::InProgress
        }
    }
}

/// `{ login }` of an actor, absent for deleted accounts (`ghost`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Actor {
    /// Login.
    pub login: String,
}

/// `{ nodes: [...] }` of a GraphQL connection.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
pub struct Nodes<T> {
    /// The nodes (nulls, which GitHub sends for inaccessible items, are skipped).
    #[serde(default, deserialize_with = "skip_nulls")]
    pub nodes: Vec<T>,
}

impl<T> Default for Nodes<T> {
    fn default() -> Self {
        Self { nodes: Vec::new() }
    }
}

fn skip_nulls<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    let v: Vec<Option<T>> = Deserialize::deserialize(d)?;
    Ok(v.into_iter().flatten().collect())
}

/// `{ name }` of a label, issue type or milestone (`title`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Named {
    /// Name.
    #[serde(alias = "title", alias = "nameWithOwner")]
    pub name: String,
}

/// One timeline item; `__typename` tells which.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "__typename")]
pub enum TimelineItem {
    /// A label was added.
    LabeledEvent {
        /// When.
        #[serde(rename = "createdAt")]
        created_at: DateTime<Utc>,
        /// Who.
        actor: Option<Actor>,
        /// Which.
        label: Named,
    },
    /// A label was removed.
    UnlabeledEvent {
        /// When.
        #[serde(rename = "createdAt")]
        created_at: DateTime<Utc>,
        /// Who.
        actor: Option<Actor>,
        /// Which.
        label: Named,
    },
    /// The issue was closed.
    ClosedEvent {
        /// When.
        #[serde(rename = "createdAt")]
        created_at: DateTime<Utc>,
        /// Who.
        actor: Option<Actor>,
        /// `COMPLETED`, `NOT_PLANNED`, `DUPLICATE` (absent on old events).
        #[serde(rename = "stateReason")]
        state_reason: Option<String>,
    },
    /// The issue was reopened.
    ReopenedEvent {
        /// When.
        #[serde(rename = "createdAt")]
        created_at: DateTime<Utc>,
        /// Who.
        actor: Option<Actor>,
    },
    /// Someone was assigned.
    AssignedEvent {
        /// When.
        #[serde(rename = "createdAt")]
        created_at: DateTime<Utc>,
        /// Who.
        actor: Option<Actor>,
        /// Whom (a user, a bot or a mannequin).
        assignee: Option<Actor>,
    },
    /// Someone was unassigned.
    UnassignedEvent {
        /// When.
        #[serde(rename = "createdAt")]
        created_at: DateTime<Utc>,
        /// Who.
        actor: Option<Actor>,
        /// Whom.
        assignee: Option<Actor>,
    },
    /// The issue came from another repository.
    TransferredEvent {
        /// When.
        #[serde(rename = "createdAt")]
        created_at: DateTime<Utc>,
        /// Who.
        actor: Option<Actor>,
        /// From where.
        #[serde(rename = "fromRepository")]
        from_repository: Option<Named>,
    },
    /// Any other item type: kept in the raw payload, not in the history.
    #[serde(other)]
    Other,
}

/// A GitHub issue as the connector's GraphQL query returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GithubIssue {
    /// Global node id.
    pub id: String,
    /// Number within the repository.
    pub number: i64,
    /// Title.
    pub title: String,
    /// `OPEN` or `CLOSED`.
    pub state: String,
    /// Web URL.
    pub url: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last update.
    pub updated_at: DateTime<Utc>,
    /// Last close, if closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Author.
    pub author: Option<Actor>,
    /// `owner/name`.
    pub repository: Named,
    /// Assignees now.
    #[serde(default)]
    pub assignees: Nodes<Actor>,
    /// Labels now.
    #[serde(default)]
    pub labels: Nodes<Named>,
    /// The organization's issue type (Bug, Feature, Task), when set.
    pub issue_type: Option<Named>,
    /// Milestone.
    pub milestone: Option<Named>,
    /// Status-like events, oldest first.
    #[serde(default)]
    pub timeline_items: Nodes<TimelineItem>,
}

/// Normalizes one issue. `source` qualifies the ids.
pub fn normalize_issue(source: &str, issue: &GithubIssue, rules: &StatusRules) -> ItemHistory {
    let key = format!("{}#{}", issue.repository.name, issue.number);
    let id = qualified_id(source, &key);
    let person = |a: &Option<Actor>| a.as_ref().map(|a| qualified_id(source, &a.login));
    let mut status_changes = Vec::new();
    let mut field_changes = Vec::new();
    let mut logins: Vec<&str> = issue.author.iter().map(|a| a.login.as_str()).collect();

    let mut status = rules.open.clone();
    // Mapped labels on the issue, in the order they were added.
    let mut mapped_on: Vec<String> = Vec::new();
    let mut closed: Option<String> = None;
    for (n, item) in issue.timeline_items.nodes.iter().enumerate() {
        let change_id = format!("{n}");
        let (at, actor) = match item {
            TimelineItem::LabeledEvent {
                created_at, actor, ..
            }
            | TimelineItem::UnlabeledEvent {
                created_at, actor, ..
            }
            | TimelineItem::ClosedEvent {
                created_at, actor, ..
            }
            | TimelineItem::ReopenedEvent { created_at, actor }
            | TimelineItem::AssignedEvent {
                created_at, actor, ..
            }
            | TimelineItem::UnassignedEvent {
                created_at, actor, ..
            }
            | TimelineItem::TransferredEvent {
                created_at, actor, ..
            } => (*created_at, actor),
            TimelineItem::Other => continue,
        };
        logins.extend(actor.iter().map(|a| a.login.as_str()));
        let field = |field: &str, from: Option<String>, to: Option<String>| FieldChange {
            item_id: id.clone(),
            change_id: change_id.clone(),
            at,
            author: person(actor),
            field: field.into(),
            from_value: from,
            to_value: to,
        };
        match item {
            TimelineItem::LabeledEvent { label, .. } => {
                field_changes.push(field("labels", None, Some(label.name.clone())));
                if let Some(s) = rules.mapped(&label.name) {
                    mapped_on.retain(|m| m != s);
                    mapped_on.push(s.to_string());
                }
            }
            TimelineItem::UnlabeledEvent { label, .. } => {
                field_changes.push(field("labels", Some(label.name.clone()), None));
                if let Some(s) = rules.mapped(&label.name) {
                    mapped_on.retain(|m| m != s);
                }
            }
            TimelineItem::ClosedEvent { state_reason, .. } => {
                let not_planned =
                    matches!(state_reason.as_deref(), Some("NOT_PLANNED" | "DUPLICATE"));
                closed = Some(if not_planned {
                    rules.cancelled.clone()
                } else {
                    rules.done.clone()
                });
            }
            TimelineItem::ReopenedEvent { .. } => closed = None,
            TimelineItem::AssignedEvent { assignee, .. } => {
                logins.extend(assignee.iter().map(|a| a.login.as_str()));
                field_changes.push(field("assignee", None, person(assignee)));
            }
            TimelineItem::UnassignedEvent { assignee, .. } => {
                field_changes.push(field("assignee", person(assignee), None));
            }
            TimelineItem::TransferredEvent {
                from_repository, ..
            } => {
                field_changes.push(field(
                    "repository",
                    from_repository.as_ref().map(|r| r.name.clone()),
                    Some(issue.repository.name.clone()),
                ));
            }
            TimelineItem::Other => {}
        }
        let next = closed
            .clone()
            .or_else(|| mapped_on.last().cloned())
            .unwrap_or_else(|| rules.open.clone());
        if next != status {
            status_changes.push(StatusChange {
                item_id: id.clone(),
                change_id: change_id.clone(),
                at,
                author: person(actor),
                from_status: Some(std::mem::replace(&mut status, next.clone())),
                to_status: next,
            });
        }
    }
    // The timeline may be cut (more than one page of events): the issue's own state has the last word.
    if issue.state == "CLOSED" && rules.category(&status) != StatusCategory::Done {
        let at = issue.closed_at.unwrap_or(issue.updated_at);
        status_changes.push(StatusChange {
            item_id: id.clone(),
            change_id: "closed".into(),
            at,
            author: None,
            from_status: Some(std::mem::replace(&mut status, rules.done.clone())),
            to_status: rules.done.clone(),
        });
    }

    let item_type = issue
        .issue_type
        .as_ref()
        .map(|t| t.name.clone())
        .or_else(|| {
            issue
                .labels
                .nodes
                .iter()
                .map(|l| l.name.to_ascii_lowercase())
                .find(|l| {
                    matches!(
                        l.as_str(),
                        "bug" | "feature" | "enhancement" | "task" | "epic"
                    )
                })
        })
        .unwrap_or_else(|| "Issue".into());
    logins.extend(issue.assignees.nodes.iter().map(|a| a.login.as_str()));
    logins.sort_unstable();
    logins.dedup();
    let item = WorkItem {
        id: id.clone(),
        source: source.to_string(),
        project: issue.repository.name.clone(),
        key,
        title: issue.title.clone(),
        standard_type: StandardType::guess(&item_type),
        item_type,
        status_category: rules.category(&status),
        status,
        priority: None,
        author: person(&issue.author),
        assignee: issue
            .assignees
            .nodes
            .first()
            .map(|a| qualified_id(source, &a.login)),
        labels: issue.labels.nodes.iter().map(|l| l.name.clone()).collect(),
        components: Vec::new(),
        parent: None,
        created_at: issue.created_at,
        updated_at: issue.updated_at,
        resolved_at: if issue.state == "CLOSED" {
            issue.closed_at
        } else {
            None
        },
        url: issue.url.clone(),
        custom_fields: serde_json::json!({
            "node_id": issue.id,
            "milestone": issue.milestone.as_ref().map(|m| &m.name),
        }),
    };
    ItemHistory {
        item,
        status_changes,
        field_changes,
        people: logins
            .into_iter()
            .map(|login| Person {
                id: qualified_id(source, login),
                source: source.to_string(),
                login: login.to_string(),
                name: None,
                email: None,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> StatusRules {
        StatusRules {
            labels: vec![
                ("status: in progress".into(), "In Progress".into()),
                ("status: review".into(), "Review".into()),
            ],
            ..StatusRules::default()
        }
    }

    /// An issue node shaped like GitHub's GraphQL answer, with the given timeline items.
    fn issue(state: &str, closed_at: Option<&str>, items: serde_json::Value) -> GithubIssue {
        serde_json::from_value(serde_json::json!({
            "id": "I_kwDOA1", "number": 7, "title": "Crash on save", "state": state,
            "url": "https://github.com/acme/app/issues/7",
            "createdAt": "2026-03-02T09:00:00Z", "updatedAt": "2026-03-06T12:00:00Z", "closedAt": closed_at,
            "author": {"login": "alice"}, "repository": {"nameWithOwner": "acme/app"},
            "assignees": {"nodes": [{"login": "bob"}]},
            "labels": {"nodes": [{"name": "bug"}, null]},
            "issueType": null, "milestone": {"title": "v2"},
            "timelineItems": {"nodes": items}
        }))
        .expect("a valid issue node")
    }

    /// `"<day>T<hour> <status>"` per status change.
    fn path(h: &ItemHistory) -> Vec<String> {
        h.status_changes
            .iter()
            .map(|c| format!("{} {}", c.at.format("%dT%H"), c.to_status))
            .collect()
    }

    #[test]
    fn labels_and_close_events_make_a_status_history() {
        let h = normalize_issue(
            "gh",
            &issue(
                "CLOSED",
                Some("2026-03-06T12:00:00Z"),
                serde_json::json!([
                    {"__typename": "AssignedEvent", "createdAt": "2026-03-02T10:00:00Z", "actor": {"login": "alice"}, "assignee": {"login": "bob"}},
                    {"__typename": "LabeledEvent", "createdAt": "2026-03-03T09:00:00Z", "actor": {"login": "bob"}, "label": {"name": "Status: In Progress"}},
                    {"__typename": "LabeledEvent", "createdAt": "2026-03-04T09:00:00Z", "actor": {"login": "bob"}, "label": {"name": "status: review"}},
                    {"__typename": "UnlabeledEvent", "createdAt": "2026-03-04T15:00:00Z", "actor": {"login": "carol"}, "label": {"name": "status: review"}},
                    {"__typename": "CrossReferencedEvent", "createdAt": "2026-03-05T09:00:00Z"},
                    {"__typename": "ClosedEvent", "createdAt": "2026-03-06T12:00:00Z", "actor": null, "stateReason": "COMPLETED"}
                ]),
            ),
            &rules(),
        );
        assert_eq!(
            path(&h),
            [
                "03T09 In Progress",
                "04T09 Review",
                "04T15 In Progress",
                "06T12 Done"
            ]
        );
        assert_eq!(h.item.id, "gh:acme/app#7");
        assert_eq!(h.item.status, "Done");
        assert_eq!(h.item.status_category, StatusCategory::Done);
        assert_eq!(h.item.standard_type, StandardType::Bug);
        assert_eq!(h.item.assignee.as_deref(), Some("gh:bob"));
        assert_eq!(
            h.item.resolved_at,
            Some("2026-03-06T12:00:00Z".parse().unwrap())
        );
        assert_eq!(h.status_changes[0].from_status.as_deref(), Some("Open"));
        assert_eq!(
            h.status_changes[3].author, None,
            "a ghost actor is no author"
        );
        let people: Vec<&str> = h.people.iter().map(|p| p.login.as_str()).collect();
        assert_eq!(people, ["alice", "bob", "carol"]);
        assert_eq!(
            h.field_changes
                .iter()
                .filter(|c| c.field == "labels")
                .count(),
            3
        );
    }

    #[test]
    fn reopening_and_not_planned() {
        let h = normalize_issue(
            "gh",
            &issue(
                "CLOSED",
                Some("2026-03-06T12:00:00Z"),
                serde_json::json!([
                    {"__typename": "ClosedEvent", "createdAt": "2026-03-03T09:00:00Z", "actor": {"login": "alice"}, "stateReason": "COMPLETED"},
                    {"__typename": "ReopenedEvent", "createdAt": "2026-03-04T09:00:00Z", "actor": {"login": "alice"}},
                    {"__typename": "LabeledEvent", "createdAt": "2026-03-05T09:00:00Z", "actor": {"login": "bob"}, "label": {"name": "status: in progress"}},
                    {"__typename": "ClosedEvent", "createdAt": "2026-03-06T12:00:00Z", "actor": {"login": "bob"}, "stateReason": "NOT_PLANNED"}
                ]),
            ),
            &rules(),
        );
        assert_eq!(
            path(&h),
            [
                "03T09 Done",
                "04T09 Open",
                "05T09 In Progress",
                "06T12 Cancelled"
            ]
        );
    }

    #[test]
    fn a_cut_timeline_still_ends_in_the_issue_state() {
        let h = normalize_issue(
            "gh",
            &issue(
                "CLOSED",
                Some("2026-03-06T12:00:00Z"),
                serde_json::json!([]),
            ),
            &rules(),
        );
        assert_eq!(path(&h), ["06T12 Done"]);
        let open = normalize_issue("gh", &issue("OPEN", None, serde_json::json!([])), &rules());
        assert!(open.status_changes.is_empty());
        assert_eq!(
            (open.item.status.as_str(), open.item.resolved_at),
            ("Open", None)
        );
    }

    #[test]
    fn transfers_are_recorded_as_a_repository_change() {
        let h = normalize_issue(
            "gh",
            &issue(
                "OPEN",
                None,
                serde_json::json!([
                    {"__typename": "TransferredEvent", "createdAt": "2026-03-03T09:00:00Z", "actor": {"login": "alice"}, "fromRepository": {"nameWithOwner": "acme/old"}}
                ]),
            ),
            &rules(),
        );
        let c = &h.field_changes[0];
        assert_eq!(
            (
                c.field.as_str(),
                c.from_value.as_deref(),
                c.to_value.as_deref()
            ),
            ("repository", Some("acme/old"), Some("acme/app"))
        );
    }
}
