//! A GitLab issue or merge request with its resource state and label events into an [`ItemHistory`].
//!
//! GitLab workflows are label-driven (`workflow::in progress`), so the status is derived as on GitHub:
//! `Open`, then the status of the newest mapped label on the item (`status_labels`), `Done` (issues) or
//! `Merged`/`Closed` (merge requests) when closed or merged; reopening goes back.

use chrono::{DateTime, Utc};
use flowlake_core::{
    qualified_id, FieldChange, ItemHistory, Person, PullRequest, PullRequestState, StandardType,
    StatusChange, WorkItem,
};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::github::{pr_status, StatusRules};

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// Login.
    pub username: String,
    /// Shown name.
    pub name: Option<String>,
}

/// A list that may come as `null`: empty then.
fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// An issue or merge request as the list endpoints return it.
///
/// Only `id`, `iid`, `title`, `state` and `created_at` are required. What GitLab sends as `null` on real items
/// (airbytehq/airbyte `airbyte-integrations/connectors/source-gitlab/integration_tests/expected_records.jsonl`:
/// `description`, `closed_at`, `closed_by`, `milestone`, `assignee`, `due_date`, `merged_by`, `merged_at`,
/// `merge_user`, …) is either optional here or not read.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GitlabItem {
    /// Global id.
    pub id: i64,
    /// Number within the project.
    pub iid: i64,
    /// Title.
    pub title: String,
    /// `opened`, `closed`, `locked`, `merged`.
    pub state: String,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last update (the creation when missing).
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// Close time.
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    /// Merge time (merge requests).
    #[serde(default)]
    pub merged_at: Option<DateTime<Utc>>,
    /// Labels now.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub labels: Vec<String>,
    /// Author.
    #[serde(default)]
    pub author: Option<User>,
    /// Assignees.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub assignees: Vec<User>,
    /// `issue`, `incident`, `test_case` (issues).
    #[serde(default)]
    pub issue_type: Option<String>,
    /// Draft (merge requests).
    #[serde(default)]
    pub draft: Option<bool>,
    /// Target branch (merge requests).
    #[serde(default)]
    pub target_branch: Option<String>,
    /// Source branch (merge requests).
    #[serde(default)]
    pub source_branch: Option<String>,
    /// Web URL.
    #[serde(default)]
    pub web_url: Option<String>,
}

impl GitlabItem {
    /// The last update, else the creation.
    fn updated(&self) -> DateTime<Utc> {
        self.updated_at.unwrap_or(self.created_at)
    }
}

/// A resource state event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StateEvent {
    /// Event id.
    pub id: i64,
    /// Who.
    pub user: Option<User>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// `opened`, `closed`, `reopened`, `merged`.
    pub state: String,
}

/// A resource label event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LabelEvent {
    /// Event id.
    pub id: i64,
    /// Who.
    pub user: Option<User>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The label (absent when it was deleted since).
    pub label: Option<LabelRef>,
    /// `add` or `remove`.
    pub action: String,
}

/// A label reference.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LabelRef {
    /// Name.
    pub name: String,
}

/// A note (comment) on an issue or merge request; its body is not read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Note {
    /// Note id.
    pub id: i64,
    /// Who wrote it.
    pub author: Option<User>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Written by GitLab itself (`changed the description`, `added ~bug`): not a comment.
    #[serde(default)]
    pub system: bool,
}

/// The landed record: the item and its events.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GitlabRecord {
    /// `issue` or `merge_request`.
    pub kind: String,
    /// `group/project`.
    pub project: String,
    /// The item.
    pub item: GitlabItem,
    /// Its state events.
    #[serde(default)]
    pub state_events: Vec<StateEvent>,
    /// Its label events.
    #[serde(default)]
    pub label_events: Vec<LabelEvent>,
    /// Its notes (when the source reads them).
    #[serde(default)]
    pub notes: Vec<Note>,
}

/// Normalizes one issue or merge request.
pub fn normalize_item(source: &str, record: &GitlabRecord, rules: &StatusRules) -> ItemHistory {
    let mr = record.kind == "merge_request";
    let it = &record.item;
    let key = format!("{}{}{}", record.project, if mr { "!" } else { "#" }, it.iid);
    let id = qualified_id(source, &key);
    let mut people: Vec<Person> = Vec::new();
    let mut person = |u: &Option<User>| -> Option<String> {
        let u = u.as_ref()?;
        if !people.iter().any(|p| p.login == u.username) {
            people.push(Person {
                id: qualified_id(source, &u.username),
                source: source.to_string(),
                login: u.username.clone(),
                name: u.name.clone(),
                email: None,
            });
        }
        Some(qualified_id(source, &u.username))
    };
    let author = person(&it.author);
    let assignee = it.assignees.first().cloned().and_then(|a| person(&Some(a)));
    let open = if mr {
        pr_status::READY.to_string()
    } else {
        rules.open.clone()
    };

    enum Ev<'a> {
        State(&'a StateEvent),
        Label(&'a LabelEvent),
    }
    impl Ev<'_> {
        fn at(&self) -> (DateTime<Utc>, i64) {
            match self {
                Self::State(e) => (e.created_at, e.id),
                Self::Label(e) => (e.created_at, e.id),
            }
        }
        fn change_id(&self) -> String {
            match self {
                Self::State(e) => format!("state:{}", e.id),
                Self::Label(e) => format!("label:{}", e.id),
            }
        }
        fn who(&self) -> &Option<User> {
            match self {
                Self::State(e) => &e.user,
                Self::Label(e) => &e.user,
            }
        }
    }
    let mut events: Vec<Ev> = record
        .state_events
        .iter()
        .map(Ev::State)
        .chain(record.label_events.iter().map(Ev::Label))
        .collect();
    events.sort_by_key(Ev::at);
    let mut mapped_on: Vec<String> = Vec::new();
    let mut closed: Option<String> = None;
    let mut status = open.clone();
    let mut status_changes = Vec::new();
    let mut field_changes = Vec::new();
    for ev in &events {
        let (at, _) = ev.at();
        let at = &at;
        let change_id = &ev.change_id();
        let who = ev.who();
        let author = person(who);
        match ev {
            Ev::State(e) => match e.state.as_str() {
                "closed" if closed.as_deref() != Some(pr_status::MERGED) => {
                    closed = Some(if mr {
                        pr_status::CLOSED.into()
                    } else {
                        rules.done.clone()
                    });
                }
                "merged" => closed = Some(pr_status::MERGED.into()),
                "reopened" | "opened" => closed = None,
                _ => {}
            },
            Ev::Label(e) => {
                let name = e.label.as_ref().map(|l| l.name.clone());
                let add = e.action == "add";
                field_changes.push(FieldChange {
                    item_id: id.clone(),
                    change_id: change_id.clone(),
                    at: *at,
                    author: author.clone(),
                    field: "labels".into(),
                    from_value: if add { None } else { name.clone() },
                    to_value: if add { name.clone() } else { None },
                });
                if let Some(s) = name.as_deref().and_then(|n| rules.mapped(n)) {
                    mapped_on.retain(|m| m != s);
                    if add {
                        mapped_on.push(s.to_string());
                    }
                }
            }
        }
        let next = closed
            .clone()
            .or_else(|| mapped_on.last().cloned())
            .unwrap_or_else(|| open.clone());
        if next != status {
            status_changes.push(StatusChange {
                item_id: id.clone(),
                change_id: change_id.clone(),
                at: *at,
                author,
                from_status: Some(std::mem::replace(&mut status, next.clone())),
                to_status: next,
            });
        }
    }
    for n in record.notes.iter().filter(|n| !n.system) {
        let author = person(&n.author);
        field_changes.push(FieldChange {
            item_id: id.clone(),
            change_id: format!("note:{}", n.id),
            at: n.created_at,
            author,
            field: "comment".into(),
            from_value: None,
            to_value: None,
        });
    }
    let finished = matches!(it.state.as_str(), "closed" | "merged");
    if finished && closed.is_none() {
        let last = match (it.state.as_str(), mr) {
            ("merged", _) => pr_status::MERGED.to_string(),
            (_, true) => pr_status::CLOSED.to_string(),
            _ => rules.done.clone(),
        };
        status_changes.push(StatusChange {
            item_id: id.clone(),
            change_id: "closed".into(),
            at: it
                .merged_at
                .or(it.closed_at)
                .unwrap_or_else(|| it.updated()),
            author: None,
            from_status: Some(std::mem::replace(&mut status, last.clone())),
            to_status: last,
        });
    }
    let item_type = if mr {
        "Merge Request".to_string()
    } else {
        it.issue_type.clone().unwrap_or_else(|| "issue".into())
    };
    let standard_type = if mr {
        StandardType::Other
    } else if it.labels.iter().any(|l| l.eq_ignore_ascii_case("bug")) {
        StandardType::Bug
    } else {
        StandardType::guess(&item_type)
    };
    let item = WorkItem {
        id: id.clone(),
        source: source.to_string(),
        project: record.project.clone(),
        key,
        title: it.title.clone(),
        standard_type,
        item_type,
        status_category: rules.category(&status),
        status,
        priority: None,
        author: author.clone(),
        assignee,
        labels: it.labels.clone(),
        components: Vec::new(),
        parent: None,
        created_at: it.created_at,
        updated_at: it.updated(),
        resolved_at: if finished {
            it.merged_at.or(it.closed_at)
        } else {
            None
        },
        url: it.web_url.clone(),
        custom_fields: serde_json::json!({"gitlab_id": it.id}),
    };
    let pull_request = mr.then(|| PullRequest {
        id: id.clone(),
        source: source.to_string(),
        repository: record.project.clone(),
        number: it.iid,
        title: it.title.clone(),
        author,
        state: match it.state.as_str() {
            "merged" => PullRequestState::Merged,
            "closed" | "locked" => PullRequestState::Closed,
            _ => PullRequestState::Open,
        },
        draft: it.draft == Some(true),
        created_at: it.created_at,
        ready_at: (it.draft != Some(true)).then_some(it.created_at),
        merged_at: it.merged_at,
        closed_at: it.closed_at,
        base_branch: it.target_branch.clone(),
        head_branch: it.source_branch.clone(),
        additions: None,
        deletions: None,
        url: it.web_url.clone(),
    });
    ItemHistory {
        item,
        status_changes,
        field_changes,
        people,
        pull_request,
        reviews: Vec::new(),
        moved_node_id: None,
        workflow_exits: None,
        worklogs: vec![],
        sprints: vec![],
    }
}

/// What a source reads about an item besides the item: its events and, when enabled, its notes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemExtras {
    /// Resource state events.
    pub states: Vec<Value>,
    /// Resource label events.
    pub labels: Vec<Value>,
    /// Notes, when read.
    pub notes: Option<Vec<Value>>,
}

/// The record a source lands for one item.
pub fn record_payload(kind: &str, project: &str, item: Value, extras: ItemExtras) -> Value {
    let mut v = serde_json::json!({"kind": kind, "project": project, "item": item,
        "state_events": extras.states, "label_events": extras.labels});
    if let Some(notes) = extras.notes {
        v["notes"] = Value::from(notes);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_driven_workflow_with_close_and_reopen() {
        let record: GitlabRecord = serde_json::from_value(serde_json::json!({
            "kind": "issue", "project": "acme/api",
            "item": {"id": 900, "iid": 6, "title": "Timeout", "state": "closed",
                     "created_at": "2026-03-02T09:00:00.000Z", "updated_at": "2026-03-06T12:00:00.000Z",
                     "closed_at": "2026-03-06T12:00:00.000Z", "labels": ["bug"],
                     "author": {"username": "alice", "name": "Alice"}, "assignees": [{"username": "bob", "name": "Bob"}],
                     "issue_type": "issue", "web_url": "https://gitlab.com/acme/api/-/issues/6"},
            "state_events": [
                {"id": 2, "user": {"username": "bob"}, "created_at": "2026-03-04T09:00:00.000Z", "state": "closed"},
                {"id": 3, "user": {"username": "bob"}, "created_at": "2026-03-05T09:00:00.000Z", "state": "reopened"},
                {"id": 4, "user": {"username": "bob"}, "created_at": "2026-03-06T12:00:00.000Z", "state": "closed"}
            ],
            "label_events": [
                {"id": 1, "user": {"username": "bob"}, "created_at": "2026-03-03T09:00:00.000Z", "label": {"name": "workflow::in progress"}, "action": "add"},
                {"id": 5, "user": {"username": "bob"}, "created_at": "2026-03-05T10:00:00.000Z", "label": null, "action": "remove"}
            ]
        }))
        .unwrap();
        let rules = StatusRules {
            labels: vec![("workflow::in progress".into(), "In Progress".into())],
            ..StatusRules::default()
        };
        let h = normalize_item("gl", &record, &rules);
        let path: Vec<String> = h
            .status_changes
            .iter()
            .map(|c| format!("{} {}", c.at.format("%dT%H"), c.to_status))
            .collect();
        assert_eq!(
            path,
            [
                "03T09 In Progress",
                "04T09 Done",
                "05T09 In Progress",
                "06T12 Done"
            ]
        );
        assert_eq!(h.item.id, "gl:acme/api#6");
        assert_eq!(h.item.standard_type, StandardType::Bug);
        assert_eq!(h.item.assignee.as_deref(), Some("gl:bob"));
    }

    #[test]
    fn comments_are_changes_by_their_authors_and_system_notes_are_not() {
        let record: GitlabRecord = serde_json::from_value(serde_json::json!({
            "kind": "merge_request", "project": "acme/api",
            "item": {"id": 901, "iid": 7, "title": "Fix", "state": "opened",
                     "created_at": "2026-03-02T09:00:00Z", "updated_at": "2026-03-02T12:00:00Z", "closed_at": null,
                     "author": {"username": "alice"}},
            "notes": [
                {"id": 10, "author": {"username": "alice"}, "created_at": "2026-03-02T09:01:00Z", "system": true},
                {"id": 11, "author": {"username": "dmitry", "name": "Дмитрий"}, "created_at": "2026-03-02T10:30:00Z", "system": false}
            ]
        }))
        .unwrap();
        let h = normalize_item("gl", &record, &StatusRules::default());
        let comments: Vec<(&str, Option<&str>)> = h
            .field_changes
            .iter()
            .filter(|c| c.field == "comment")
            .map(|c| (c.change_id.as_str(), c.author.as_deref()))
            .collect();
        assert_eq!(comments, [("note:11", Some("gl:dmitry"))]);
        assert!(h
            .people
            .iter()
            .any(|p| p.name.as_deref() == Some("Дмитрий")));
    }

    /// Merge request !30 as airbytehq/airbyte records it
    /// (`airbyte-integrations/connectors/source-gitlab/integration_tests/expected_records.jsonl`), trimmed:
    /// every `null` it carries is read as absent.
    #[test]
    fn a_recorded_merge_request_with_its_nulls_normalizes() {
        let record: GitlabRecord = serde_json::from_value(serde_json::json!({
            "kind": "merge_request", "project": "airbyte.io/ci-test-project",
            "item": {"id": 92098762, "iid": 30, "project_id": 25156633, "title": "Id blanditiis consequatur ut.",
                     "description": null, "state": "opened", "created_at": "2021-02-15T15:55:38.117Z",
                     "updated_at": "2021-02-15T15:55:38.117Z", "merged_by": null, "merge_user": null,
                     "merged_at": null, "closed_by": null, "closed_at": null, "target_branch": "master",
                     "source_branch": "laudantium-unde-et-iste-et",
                     "author": {"id": 8375961, "username": "airbyte", "name": "Airbyte Team", "state": "active"},
                     "assignees": [], "assignee": null, "reviewers": [],
                     "labels": ["asperiores-ex", "quidem-labore", "sed-consequuntur"], "draft": false,
                     "milestone": null, "merge_commit_sha": null, "squash_commit_sha": null,
                     "discussion_locked": null, "web_url": "https://gitlab.com/airbyte.io/ci-test-project/-/merge_requests/30",
                     "closed_by_id": null, "milestone_id": null, "merged_by_id": null},
            "state_events": [], "label_events": []
        }))
        .unwrap();
        let h = normalize_item("gl", &record, &StatusRules::default());
        assert_eq!(h.item.id, "gl:airbyte.io/ci-test-project!30");
        assert_eq!((h.item.assignee, h.item.resolved_at), (None, None));
        assert_eq!(h.item.updated_at, h.item.created_at);
    }

    #[test]
    fn null_lists_and_a_missing_updated_at_read_as_empty_and_the_creation() {
        let record: GitlabRecord = serde_json::from_value(serde_json::json!({
            "kind": "issue", "project": "acme/api",
            "item": {"id": 1, "iid": 1, "title": "t", "state": "opened", "created_at": "2026-03-02T09:00:00Z",
                     "labels": null, "assignees": null, "author": null}
        }))
        .unwrap();
        let h = normalize_item("gl", &record, &StatusRules::default());
        assert!(h.item.labels.is_empty());
        assert_eq!(h.item.updated_at, h.item.created_at);
    }
}
