//! A GitHub issue (GraphQL `Issue` node with `timelineItems`) into an [`ItemHistory`].
//!
//! GitHub has two states, so the status is derived: `Open` at creation; a label mapped by config (say
//! `status: in progress` → `In Progress`) moves the issue to that status when added, and removing it falls
//! back to the newest mapped label still on the issue, else `Open`; `ClosedEvent` moves it to `Done` (state
//! reason `COMPLETED`) or `Cancelled` (`NOT_PLANNED`, `DUPLICATE`); `ReopenedEvent` back to the label-derived
//! status. Assignment, label and transfer events become field changes.

use chrono::{DateTime, Utc};
use flowlake_core::{
    qualified_id, ItemHistory, Person, PullRequest, PullRequestState, Review, StandardType,
    StatusCategory, WorkItem,
};

mod payload;
#[cfg(test)]
mod tests;
mod walk;

pub use payload::{pr_status, Actor, GithubIssue, GithubReview, Named, Nodes, TimelineItem};

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

/// Normalizes one issue or pull request. `source` qualifies the ids.
pub fn normalize_issue(source: &str, issue: &GithubIssue, rules: &StatusRules) -> ItemHistory {
    let key = format!("{}#{}", issue.repository.name, issue.number);
    let id = qualified_id(source, &key);
    let walk::Timeline {
        status,
        status_changes,
        field_changes,
        mut logins,
        ready_at,
    } = walk::timeline(source, &id, issue, rules);
    logins.extend(issue.assignees.nodes.iter().map(|a| a.login.as_str()));
    logins.sort_unstable();
    logins.dedup();
    let item = work_item(source, &id, key, issue, rules, status);
    let transferred = issue
        .timeline_items
        .nodes
        .iter()
        .any(|i| matches!(i, TimelineItem::TransferredEvent { .. }));
    let (pull_request, reviews) = match &issue.reviews {
        Some(reviews) => (
            Some(pull_request(source, &id, issue, ready_at)),
            submitted(source, &id, &reviews.nodes),
        ),
        None => (None, Vec::new()),
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

/// The qualified id of an actor, none for a deleted account.
pub(super) fn person(source: &str, a: &Option<Actor>) -> Option<String> {
    a.as_ref().map(|a| qualified_id(source, &a.login))
}

/// The work item of `issue`, in `status` after its walk.
fn work_item(
    source: &str,
    id: &str,
    key: String,
    issue: &GithubIssue,
    rules: &StatusRules,
    status: String,
) -> WorkItem {
    let pull_request = issue.reviews.is_some();
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
    let closed = issue.state != "OPEN";
    WorkItem {
        id: id.to_string(),
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
        author: person(source, &issue.author),
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
    }
}

/// The pull request `issue` is, ready for review at `ready_at` (the walk's).
fn pull_request(
    source: &str,
    id: &str,
    issue: &GithubIssue,
    ready_at: Option<DateTime<Utc>>,
) -> PullRequest {
    PullRequest {
        id: id.to_string(),
        source: source.to_string(),
        repository: issue.repository.name.clone(),
        number: issue.number,
        title: issue.title.clone(),
        author: person(source, &issue.author),
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
    }
}

/// The submitted reviews of a pull request (`id`); pending ones are not reviews yet.
fn submitted(source: &str, id: &str, reviews: &[GithubReview]) -> Vec<Review> {
    reviews
        .iter()
        .filter(|r| r.state != "PENDING")
        .filter_map(|r| {
            Some(Review {
                id: qualified_id(source, &r.id),
                pull_request_id: id.to_string(),
                author: person(source, &r.author),
                state: r.state.to_ascii_lowercase(),
                submitted_at: r.submitted_at?,
            })
        })
        .collect()
}
