//! The shapes flowlake lands from GitHub's GraphQL answers (an `Issue` or `PullRequest` node with its
//! timeline, reviews and comments), read without copying the raw payload, and the pull request status names.

use chrono::{DateTime, Utc};
use serde::Deserialize;

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
    pub(super) fn when_who(&self) -> Option<(DateTime<Utc>, &Option<Actor>)> {
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
