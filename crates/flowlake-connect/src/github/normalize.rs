//! A GitHub issue (GraphQL `Issue` node with `timelineItems`) into an [`ItemHistory`].
//!
//! GitHub has two states, so the status is derived: `Open` at creation; a label mapped by config (say
//! `status: in progress` → `In Progress`) moves the issue to that status when added, and removing it falls
//! back to the newest mapped label still on the issue, else `Open`; `ClosedEvent` moves it to `Done` (state
//! reason `COMPLETED`) or `Cancelled` (`NOT_PLANNED`, `DUPLICATE`); `ReopenedEvent` back to the label-derived
//! status. Assignment, label and transfer events become field changes.

use chrono::{DateTime, Utc};
use flowlake_core::{
    qualified_id, FieldChange, ItemHistory, Person, PullRequest, PullRequestState, Review,
    StandardType, StatusCategory, StatusChange, WorkItem,
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
    /// The default rules with `labels` (label → status, as a config's `status_labels` gives them).
    pub fn from_labels(labels: &std::collections::BTreeMap<String, String>) -> Self {
        Self {
            labels: labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            ..Self::default()
        }
    }
}

impl StatusRules {
    /// The status a label maps to, if any (case-insensitive).
    pub fn mapped(&self, label: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(label))
            .map(|(_, s)| s.as_str())
    }

    /// The statuses these rules name themselves, with their [`StatusRules::category`]: the source's own
    /// vocabulary, so past stays in them are not guesses. Statuses of mapped labels are the user's names and
    /// are left to `[metrics.status_categories]`.
    pub fn known(&self) -> Vec<(String, StatusCategory)> {
        [
            self.open.as_str(),
            self.done.as_str(),
            self.cancelled.as_str(),
            pr_status::DRAFT,
            pr_status::READY,
            pr_status::IN_REVIEW,
            pr_status::APPROVED,
            pr_status::MERGED,
            pr_status::CLOSED,
        ]
        .into_iter()
        .map(|s| (s.to_string(), self.category(s)))
        .collect()
    }

    /// The category of a status these rules produce.
    pub fn category(&self, status: &str) -> StatusCategory {
        if status == self.open {
            StatusCategory::Todo
        } else if status == self.done
            || status == self.cancelled
            || status == pr_status::MERGED
            || status == pr_status::CLOSED
        {
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
    /// The issue or pull request was closed (a merged pull request has one too).
    ClosedEvent {
        /// When.
        #[serde(rename = "createdAt")]
        created_at: DateTime<Utc>,
        /// Who.
        actor: Option<Actor>,
        /// `COMPLETED`, `NOT_PLANNED`, `DUPLICATE` (absent on old events and pull requests).
        #[serde(rename = "stateReason", default)]
        state_reason: Option<String>,
    },
    /// It was reopened.
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
    /// A draft pull request was marked ready for review.
    ReadyForReviewEvent {
        /// When.
        #[serde(rename = "createdAt")]
        created_at: DateTime<Utc>,
        /// Who.
        actor: Option<Actor>,
    },
    /// A pull request went back to draft.
    ConvertToDraftEvent {
        /// When.
        #[serde(rename = "createdAt")]
        created_at: DateTime<Utc>,
        /// Who.
        actor: Option<Actor>,
    },
    /// A pull request was merged.
    MergedEvent {
        /// When.
        #[serde(rename = "createdAt")]
        created_at: DateTime<Utc>,
        /// Who.
        actor: Option<Actor>,
    },
    /// A review was requested.
    ReviewRequestedEvent {
        /// When.
        #[serde(rename = "createdAt")]
        created_at: DateTime<Utc>,
        /// Who.
        actor: Option<Actor>,
        /// From whom (a user or a team: `login` or `name`).
        #[serde(rename = "requestedReviewer")]
        requested_reviewer: Option<Reviewer>,
    },
    /// Any other item type: kept in the raw payload, not in the history.
    #[serde(other)]
    Other,
}

impl TimelineItem {
    /// When and by whom, `None` for [`TimelineItem::Other`].
    fn when_who(&self) -> Option<(DateTime<Utc>, &Option<Actor>)> {
        match self {
            Self::LabeledEvent {
                created_at, actor, ..
            }
            | Self::UnlabeledEvent {
                created_at, actor, ..
            }
            | Self::ClosedEvent {
                created_at, actor, ..
            }
            | Self::ReopenedEvent { created_at, actor }
            | Self::AssignedEvent {
                created_at, actor, ..
            }
            | Self::UnassignedEvent {
                created_at, actor, ..
            }
            | Self::TransferredEvent {
                created_at, actor, ..
            }
            | Self::ReadyForReviewEvent { created_at, actor }
            | Self::ConvertToDraftEvent { created_at, actor }
            | Self::MergedEvent { created_at, actor }
            | Self::ReviewRequestedEvent {
                created_at, actor, ..
            } => Some((*created_at, actor)),
            Self::Other => None,
        }
    }
}

/// A requested reviewer: a user (`login`) or a team (`name`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reviewer {
    /// User login.
    pub login: Option<String>,
    /// Team name.
    pub name: Option<String>,
}

/// A submitted pull request review.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GithubReview {
    /// Node id.
    pub id: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED` or `PENDING`.
    pub state: String,
    /// Submission time; absent while pending.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Reviewer.
    pub author: Option<Actor>,
}

/// A comment on an issue or pull request (its body is not read).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GithubComment {
    /// Node id.
    pub id: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// Who wrote it.
    pub author: Option<Actor>,
}

/// A GitHub issue or pull request as the connector's GraphQL queries return it. The pull-request-only fields
/// are absent on issues.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GithubIssue {
    /// Global node id.
    pub id: String,
    /// Number within the repository.
    pub number: i64,
    /// Title.
    pub title: String,
    /// `OPEN` or `CLOSED`; pull requests also `MERGED`. Search results name a pull request's state
    /// `pullRequestState` (see the search query).
    #[serde(alias = "pullRequestState")]
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
    #[serde(default)]
    pub issue_type: Option<Named>,
    /// Milestone.
    #[serde(default)]
    pub milestone: Option<Named>,
    /// Status-like events, oldest first.
    #[serde(default)]
    pub timeline_items: Nodes<TimelineItem>,
    /// Comments, oldest first.
    #[serde(default)]
    pub comments: Nodes<GithubComment>,
    /// Pull requests: whether it is a draft now.
    #[serde(default)]
    pub is_draft: Option<bool>,
    /// Pull requests: merge time.
    #[serde(default)]
    pub merged_at: Option<DateTime<Utc>>,
    /// Pull requests: target branch.
    #[serde(default)]
    pub base_ref_name: Option<String>,
    /// Pull requests: source branch.
    #[serde(default)]
    pub head_ref_name: Option<String>,
    /// Pull requests: lines added.
    #[serde(default)]
    pub additions: Option<i64>,
    /// Pull requests: lines deleted.
    #[serde(default)]
    pub deletions: Option<i64>,
    /// Pull requests: submitted reviews. Its presence makes the node a pull request.
    #[serde(default)]
    pub reviews: Option<Nodes<GithubReview>>,
}

/// Status names of pull requests, in the order a pull request usually moves through them.
pub mod pr_status {
    /// Opened as a draft or converted back to one.
    pub const DRAFT: &str = "Draft";
    /// Open and not a draft, no review yet.
    pub const READY: &str = "Ready for Review";
    /// A review was submitted (comments or changes requested).
    pub const IN_REVIEW: &str = "In Review";
    /// The latest decisive review approved it.
    pub const APPROVED: &str = "Approved";
    /// Merged.
    pub const MERGED: &str = "Merged";
    /// Closed without merging.
    pub const CLOSED: &str = "Closed";
}

/// One step of the merged timeline: a timeline item or a submitted review.
enum Step<'a> {
    Item(&'a TimelineItem),
    Review(&'a GithubReview),
}

impl<'a> Step<'a> {
    fn actor(&self) -> &'a Option<Actor> {
        match self {
            Self::Item(i) => i.when_who().map_or(&None, |(_, a)| a),
            Self::Review(r) => &r.author,
        }
    }
}

/// The state a status is derived from while walking the timeline.
struct Walk<'r> {
    rules: &'r StatusRules,
    pull_request: bool,
    /// Mapped labels on the item, in the order they were added.
    mapped_on: Vec<String>,
    /// Done-side status once closed or merged.
    closed: Option<String>,
    draft: bool,
    review: Option<&'static str>,
}

impl Walk<'_> {
    fn status(&self) -> String {
        if let Some(c) = &self.closed {
            return c.clone();
        }
        if let Some(m) = self.mapped_on.last() {
            return m.clone();
        }
        if !self.pull_request {
            return self.rules.open.clone();
        }
        if self.draft {
            return pr_status::DRAFT.into();
        }
        self.review.unwrap_or(pr_status::READY).into()
    }
}

/// Normalizes one issue or pull request. `source` qualifies the ids.
pub fn normalize_issue(source: &str, issue: &GithubIssue, rules: &StatusRules) -> ItemHistory {
    let key = format!("{}#{}", issue.repository.name, issue.number);
    let id = qualified_id(source, &key);
    let person = |a: &Option<Actor>| a.as_ref().map(|a| qualified_id(source, &a.login));
    let author_login = issue.author.as_ref().map(|a| a.login.as_str());
    let pull_request = issue.reviews.is_some();
    let reviews: &[GithubReview] = issue.reviews.as_ref().map_or(&[], |r| &r.nodes);
    let mut status_changes = Vec::new();
    let mut field_changes = Vec::new();
    let mut logins: Vec<&str> = author_login.into_iter().collect();

    let first_draft_event = issue.timeline_items.nodes.iter().find(|i| {
        matches!(
            i,
            TimelineItem::ReadyForReviewEvent { .. } | TimelineItem::ConvertToDraftEvent { .. }
        )
    });
    let mut walk = Walk {
        rules,
        pull_request,
        mapped_on: Vec::new(),
        closed: None,
        draft: match first_draft_event {
            Some(e) => matches!(e, TimelineItem::ReadyForReviewEvent { .. }),
            None => issue.is_draft == Some(true),
        },
        review: None,
    };
    let mut status = walk.status();
    let mut ready_at = (!walk.draft).then_some(issue.created_at);

    let mut steps: Vec<(DateTime<Utc>, String, Step)> = Vec::new();
    for (n, item) in issue.timeline_items.nodes.iter().enumerate() {
        if let Some((at, _)) = item.when_who() {
            steps.push((at, n.to_string(), Step::Item(item)));
        }
    }
    for r in reviews {
        if let (Some(at), false) = (r.submitted_at, r.state == "PENDING") {
            steps.push((at, format!("review:{}", r.id), Step::Review(r)));
        }
    }
    steps.sort_by_key(|s| s.0);

    for (at, change_id, step) in &steps {
        let at = *at;
        let actor = step.actor();
        logins.extend(actor.as_ref().map(|a| a.login.as_str()));
        let field = |field: &str, from: Option<String>, to: Option<String>| FieldChange {
            item_id: id.clone(),
            change_id: change_id.clone(),
            at,
            author: person(actor),
            field: field.into(),
            from_value: from,
            to_value: to,
        };
        match step {
            Step::Review(r) => {
                let by_author = r.author.as_ref().map(|a| a.login.as_str()) == author_login;
                if !by_author {
                    walk.review = match r.state.as_str() {
                        "APPROVED" => Some(pr_status::APPROVED),
                        "CHANGES_REQUESTED" => Some(pr_status::IN_REVIEW),
                        "COMMENTED" => walk.review.or(Some(pr_status::IN_REVIEW)),
                        _ => walk.review,
                    };
                }
            }
            Step::Item(item) => match item {
                TimelineItem::LabeledEvent { label, .. } => {
                    field_changes.push(field("labels", None, Some(label.name.clone())));
                    if let Some(s) = rules.mapped(&label.name) {
                        walk.mapped_on.retain(|m| m != s);
                        walk.mapped_on.push(s.to_string());
                    }
                }
                TimelineItem::UnlabeledEvent { label, .. } => {
                    field_changes.push(field("labels", Some(label.name.clone()), None));
                    if let Some(s) = rules.mapped(&label.name) {
                        walk.mapped_on.retain(|m| m != s);
                    }
                }
                TimelineItem::ClosedEvent { state_reason, .. } => {
                    let not_planned =
                        matches!(state_reason.as_deref(), Some("NOT_PLANNED" | "DUPLICATE"));
                    if walk.closed.as_deref() != Some(pr_status::MERGED) {
                        walk.closed = Some(if pull_request {
                            pr_status::CLOSED.into()
                        } else if not_planned {
                            rules.cancelled.clone()
                        } else {
                            rules.done.clone()
                        });
                    }
                }
                TimelineItem::MergedEvent { .. } => walk.closed = Some(pr_status::MERGED.into()),
                TimelineItem::ReopenedEvent { .. } => walk.closed = None,
                TimelineItem::ReadyForReviewEvent { .. } => {
                    walk.draft = false;
                    ready_at = Some(at);
                }
                TimelineItem::ConvertToDraftEvent { .. } => walk.draft = true,
                TimelineItem::AssignedEvent { assignee, .. } => {
                    logins.extend(assignee.iter().map(|a| a.login.as_str()));
                    field_changes.push(field("assignee", None, person(assignee)));
                }
                TimelineItem::UnassignedEvent { assignee, .. } => {
                    field_changes.push(field("assignee", person(assignee), None));
                }
                TimelineItem::ReviewRequestedEvent {
                    requested_reviewer, ..
                } => {
                    let whom = requested_reviewer
                        .as_ref()
                        .and_then(|r| r.login.clone().or_else(|| r.name.clone()));
                    field_changes.push(field("review_requested", None, whom));
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
            },
        }
        let next = walk.status();
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
    // Comments are changes by their authors (first response counts them), not status moves.
    for c in &issue.comments.nodes {
        logins.extend(c.author.as_ref().map(|a| a.login.as_str()));
        field_changes.push(FieldChange {
            item_id: id.clone(),
            change_id: format!("comment:{}", c.id),
            at: c.created_at,
            author: person(&c.author),
            field: "comment".into(),
            from_value: None,
            to_value: None,
        });
    }
    // The timeline may be cut (more than one page of events): the item's own state has the last word.
    if issue.state != "OPEN" && rules.category(&status) != StatusCategory::Done {
        let last = match (issue.state.as_str(), pull_request) {
            ("MERGED", _) => pr_status::MERGED.to_string(),
            (_, true) => pr_status::CLOSED.to_string(),
            _ => rules.done.clone(),
        };
        status_changes.push(StatusChange {
            item_id: id.clone(),
            change_id: "closed".into(),
            at: issue
                .merged_at
                .or(issue.closed_at)
                .unwrap_or(issue.updated_at),
            author: None,
            from_status: Some(std::mem::replace(&mut status, last.clone())),
            to_status: last,
        });
    }

    let item_type = if pull_request {
        "Pull Request".to_string()
    } else {
        issue
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
            .unwrap_or_else(|| "Issue".into())
    };
    logins.extend(issue.assignees.nodes.iter().map(|a| a.login.as_str()));
    logins.sort_unstable();
    logins.dedup();
    let closed = issue.state != "OPEN";
    let item = WorkItem {
        id: id.clone(),
        source: source.to_string(),
        project: issue.repository.name.clone(),
        key,
        title: issue.title.clone(),
        standard_type: if pull_request {
            StandardType::Other
        } else {
            StandardType::guess(&item_type)
        },
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
        resolved_at: if closed {
            issue.merged_at.or(issue.closed_at)
        } else {
            None
        },
        url: issue.url.clone(),
        custom_fields: serde_json::json!({
            "node_id": issue.id,
            "milestone": issue.milestone.as_ref().map(|m| &m.name),
        }),
    };
    let transferred = issue
        .timeline_items
        .nodes
        .iter()
        .any(|i| matches!(i, TimelineItem::TransferredEvent { .. }));
    let (pull_request, reviews) = if pull_request {
        let pr = PullRequest {
            id: id.clone(),
            source: source.to_string(),
            repository: issue.repository.name.clone(),
            number: issue.number,
            title: issue.title.clone(),
            author: person(&issue.author),
            state: match issue.state.as_str() {
                "MERGED" => PullRequestState::Merged,
                "CLOSED" => PullRequestState::Closed,
                _ => PullRequestState::Open,
            },
            draft: issue.is_draft == Some(true),
            created_at: issue.created_at,
            ready_at: if issue.is_draft == Some(true) {
                None
            } else {
                ready_at
            },
            merged_at: issue.merged_at,
            closed_at: issue.closed_at,
            base_branch: issue.base_ref_name.clone(),
            head_branch: issue.head_ref_name.clone(),
            additions: issue.additions,
            deletions: issue.deletions,
            url: issue.url.clone(),
        };
        let reviews = reviews
            .iter()
            .filter(|r| r.state != "PENDING")
            .filter_map(|r| {
                Some(Review {
                    id: qualified_id(source, &r.id),
                    pull_request_id: id.clone(),
                    author: person(&r.author),
                    state: r.state.to_ascii_lowercase(),
                    submitted_at: r.submitted_at?,
                })
            })
            .collect();
        (Some(pr), reviews)
    } else {
        (None, Vec::new())
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
        pull_request,
        reviews,
        moved_node_id: transferred.then(|| issue.id.clone()),
        workflow_exits: None,
        worklogs: vec![],
        sprints: vec![],
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

    /// A pull request node with the given draft flag, state, timeline items and reviews.
    fn pull_request(
        state: &str,
        draft: bool,
        items: serde_json::Value,
        reviews: serde_json::Value,
    ) -> GithubIssue {
        serde_json::from_value(serde_json::json!({
            "id": "PR_kwDOA9", "number": 12, "title": "Faster save", "state": state, "isDraft": draft,
            "url": "https://github.com/acme/app/pull/12",
            "createdAt": "2026-03-02T09:00:00Z", "updatedAt": "2026-03-06T12:00:00Z",
            "closedAt": if state == "OPEN" { serde_json::Value::Null } else { "2026-03-06T12:00:00Z".into() },
            "mergedAt": if state == "MERGED" { "2026-03-06T12:00:00Z".into() } else { serde_json::Value::Null },
            "author": {"login": "alice"}, "repository": {"nameWithOwner": "acme/app"},
            "baseRefName": "main", "headRefName": "fast-save", "additions": 120, "deletions": 30,
            "assignees": {"nodes": []}, "labels": {"nodes": []},
            "timelineItems": {"nodes": items},
            "reviews": {"nodes": reviews}
        }))
        .expect("a valid pull request node")
    }

    #[test]
    fn a_pull_request_moves_from_draft_through_review_to_merge() {
        let h = normalize_issue(
            "gh",
            &pull_request(
                "MERGED",
                false,
                serde_json::json!([
                    {"__typename": "ReadyForReviewEvent", "createdAt": "2026-03-03T09:00:00Z", "actor": {"login": "alice"}},
                    {"__typename": "ReviewRequestedEvent", "createdAt": "2026-03-03T09:00:00Z", "actor": {"login": "alice"}, "requestedReviewer": {"login": "bob"}},
                    {"__typename": "MergedEvent", "createdAt": "2026-03-06T12:00:00Z", "actor": {"login": "alice"}},
                    {"__typename": "ClosedEvent", "createdAt": "2026-03-06T12:00:00Z", "actor": {"login": "alice"}}
                ]),
                serde_json::json!([
                    {"id": "R1", "state": "COMMENTED", "submittedAt": "2026-03-03T10:00:00Z", "author": {"login": "alice"}},
                    {"id": "R2", "state": "CHANGES_REQUESTED", "submittedAt": "2026-03-04T09:00:00Z", "author": {"login": "bob"}},
                    {"id": "R3", "state": "APPROVED", "submittedAt": "2026-03-05T09:00:00Z", "author": {"login": "bob"}},
                    {"id": "R4", "state": "PENDING", "submittedAt": null, "author": {"login": "carol"}}
                ]),
            ),
            &rules(),
        );
        assert_eq!(
            path(&h),
            [
                "03T09 Ready for Review",
                "04T09 In Review",
                "05T09 Approved",
                "06T12 Merged"
            ],
            "the author's own comment is no review"
        );
        assert_eq!(h.status_changes[0].from_status.as_deref(), Some("Draft"));
        assert_eq!(
            (h.item.item_type.as_str(), h.item.status_category),
            ("Pull Request", StatusCategory::Done)
        );
        let pr = h.pull_request.as_ref().expect("a pull request");
        assert_eq!(pr.state, PullRequestState::Merged);
        assert_eq!(pr.ready_at, Some("2026-03-03T09:00:00Z".parse().unwrap()));
        assert_eq!(pr.base_branch.as_deref(), Some("main"));
        let states: Vec<&str> = h.reviews.iter().map(|r| r.state.as_str()).collect();
        assert_eq!(states, ["commented", "changes_requested", "approved"]);
        assert!(h
            .field_changes
            .iter()
            .any(|c| c.field == "review_requested" && c.to_value.as_deref() == Some("bob")));
    }

    #[test]
    fn a_pull_request_closed_unmerged_and_one_still_a_draft() {
        let closed = normalize_issue(
            "gh",
            &pull_request(
                "CLOSED",
                false,
                serde_json::json!([]),
                serde_json::json!([]),
            ),
            &rules(),
        );
        assert_eq!(path(&closed), ["06T12 Closed"]);
        assert_eq!(
            closed.pull_request.as_ref().map(|p| (p.state, p.ready_at)),
            Some((
                PullRequestState::Closed,
                Some("2026-03-02T09:00:00Z".parse().unwrap())
            ))
        );
        let draft = normalize_issue(
            "gh",
            &pull_request("OPEN", true, serde_json::json!([]), serde_json::json!([])),
            &rules(),
        );
        assert_eq!(
            (draft.item.status.as_str(), draft.item.status_category),
            ("Draft", StatusCategory::InProgress)
        );
        assert_eq!(draft.pull_request.and_then(|p| p.ready_at), None);
    }

    #[test]
    fn comments_are_changes_by_their_authors() {
        let mut i = issue("OPEN", None, serde_json::json!([]));
        i.comments = serde_json::from_value(serde_json::json!({"nodes": [
            {"id": "IC_1", "createdAt": "2026-03-02T11:00:00Z", "author": {"login": "erin"}},
            {"id": "IC_2", "createdAt": "2026-03-02T12:00:00Z", "author": null}
        ]}))
        .unwrap();
        let h = normalize_issue("gh", &i, &rules());
        let comments: Vec<(&str, Option<&str>)> = h
            .field_changes
            .iter()
            .filter(|c| c.field == "comment")
            .map(|c| (c.change_id.as_str(), c.author.as_deref()))
            .collect();
        assert_eq!(
            comments,
            [("comment:IC_1", Some("gh:erin")), ("comment:IC_2", None)]
        );
        assert!(h.people.iter().any(|p| p.login == "erin"));
    }

    /// Every status GitHub's and GitLab's items move through is named by these rules, so only the statuses of
    /// mapped labels — the config's own names — can be guessed on past stays.
    #[test]
    fn statuses_the_rules_name_are_known_and_only_label_statuses_can_be_guessed() {
        let rules = StatusRules {
            labels: vec![("status: review".into(), "Review".into())],
            ..StatusRules::default()
        };
        let known = rules.known();
        for (status, category) in &known {
            assert_eq!(rules.category(status), *category, "{status}");
        }
        let map = flowlake_core::StatusMap::default().with_known(known);
        let stays = [
            "Open",
            "Review",
            "Draft",
            pr_status::READY,
            pr_status::IN_REVIEW,
            pr_status::APPROVED,
            pr_status::MERGED,
            pr_status::CLOSED,
            "Done",
            "Cancelled",
        ]
        .map(|s| (s, map.category(s, None)));
        assert_eq!(
            map.guessed("Cancelled", stays),
            [("Review".to_string(), StatusCategory::InProgress)]
        );
    }
}
