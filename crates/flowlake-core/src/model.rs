//! The domain model every source is normalized into.
//!
//! Identifiers are source-qualified (`"{source}:{native id}"`, see [`qualified_id`]) so that two sources can
//! never collide and the same record always gets the same id, which makes loads idempotent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entity::{AnyEntity, Entity};
use crate::status::StatusCategory;

/// Builds the stable, source-qualified identifier of a record: `github:octo/repo#12`, `jira:PROJ-7`.
pub fn qualified_id(source: &str, native: &str) -> String {
    let mut id = String::with_capacity(source.len() + native.len() + 1);
    id.push_str(source);
    id.push(':');
    id.push_str(native);
    id
}

/// The tracker-independent kind of a work item, so that "bug" means the same in Jira, GitHub and GitLab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StandardType {
    /// A defect.
    Bug,
    /// New behaviour: story, feature, improvement.
    Feature,
    /// Routine work.
    Task,
    /// A container of other items.
    Epic,
    /// A part of another item.
    Subtask,
    /// An operational incident tracked as an issue.
    Incident,
    /// Anything the mapping does not know.
    Other,
}

impl StandardType {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bug => "bug",
            Self::Feature => "feature",
            Self::Task => "task",
            Self::Epic => "epic",
            Self::Subtask => "subtask",
            Self::Incident => "incident",
            Self::Other => "other",
        }
    }

    /// Guesses the standard type from a tracker's type name; explicit mappings in config take precedence.
    pub fn guess(type_name: &str) -> Self {
        let t = type_name.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
        if has(&["bug", "defect", "ошибка"]) {
            Self::Bug
        } else if has(&["incident", "outage", "инцидент"]) {
            Self::Incident
        } else if has(&["epic", "эпик"]) {
            Self::Epic
        } else if has(&["sub-task", "subtask", "подзадача"]) {
            Self::Subtask
        } else if has(&[
            "story",
            "feature",
            "improvement",
            "enhancement",
            "история",
            "улучшение",
        ]) {
            Self::Feature
        } else if has(&["task", "chore", "задача"]) {
            Self::Task
        } else {
            Self::Other
        }
    }
}

/// An issue, ticket or story: the unit flow metrics are computed for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkItem {
    /// Source-qualified id, e.g. `jira:PROJ-7`.
    pub id: String,
    /// The configured name of the source it came from.
    pub source: String,
    /// Project, queue or repository.
    pub project: String,
    /// The tracker's human key (`PROJ-7`, `#12`).
    pub key: String,
    /// Title or summary.
    pub title: String,
    /// The tracker's own type name.
    pub item_type: String,
    /// The type mapped to a tracker-independent kind.
    pub standard_type: StandardType,
    /// Current status name as the tracker shows it.
    pub status: String,
    /// Category of the current status.
    pub status_category: StatusCategory,
    /// Priority name, if any.
    pub priority: Option<String>,
    /// Person id of the reporter.
    pub author: Option<String>,
    /// Person id of the assignee.
    pub assignee: Option<String>,
    /// Labels or tags.
    pub labels: Vec<String>,
    /// Components.
    pub components: Vec<String>,
    /// Source-qualified id of the parent item.
    pub parent: Option<String>,
    /// When the item was created.
    pub created_at: DateTime<Utc>,
    /// When the tracker last changed it.
    pub updated_at: DateTime<Utc>,
    /// When the tracker says it was resolved, if it does.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Link to the item in the tracker's UI.
    pub url: Option<String>,
    /// Custom fields kept by configuration, as a JSON object.
    pub custom_fields: serde_json::Value,
}

/// One move of a work item from one status to another: the input of every flow metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    /// Id of the work item.
    pub item_id: String,
    /// Id of the changelog entry that carried the change; breaks ties between changes in the same second.
    pub change_id: String,
    /// When the change happened.
    pub at: DateTime<Utc>,
    /// Person id of whoever made it.
    pub author: Option<String>,
    /// The status left; `None` when the tracker does not say.
    pub from_status: Option<String>,
    /// The status entered.
    pub to_status: String,
}

/// One changed field of a changelog entry (status changes included), kept for audit and custom metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Id of the work item.
    pub item_id: String,
    /// Id of the changelog entry.
    pub change_id: String,
    /// When the change happened.
    pub at: DateTime<Utc>,
    /// Person id of whoever made it.
    pub author: Option<String>,
    /// Name of the changed field.
    pub field: String,
    /// Value before, rendered as text.
    pub from_value: Option<String>,
    /// Value after, rendered as text.
    pub to_value: Option<String>,
}

/// A person as one source knows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// Source-qualified id.
    pub id: String,
    /// The source.
    pub source: String,
    /// Login or account name.
    pub login: String,
    /// Display name.
    pub name: Option<String>,
    /// E-mail, lower-cased.
    pub email: Option<String>,
}

/// The state of a pull or merge request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PullRequestState {
    /// Open (draft or ready).
    Open,
    /// Closed without merging.
    Closed,
    /// Merged.
    Merged,
}

/// A pull request (GitHub) or merge request (GitLab).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    /// Source-qualified id.
    pub id: String,
    /// The source.
    pub source: String,
    /// Repository, `owner/name`.
    pub repository: String,
    /// Number within the repository.
    pub number: i64,
    /// Title.
    pub title: String,
    /// Person id of the author.
    pub author: Option<String>,
    /// Current state.
    pub state: PullRequestState,
    /// Whether it is a draft now.
    pub draft: bool,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it was last marked ready for review (its creation time if it never was a draft).
    pub ready_at: Option<DateTime<Utc>>,
    /// When it was merged.
    pub merged_at: Option<DateTime<Utc>>,
    /// When it was closed (merged or not).
    pub closed_at: Option<DateTime<Utc>>,
    /// Target branch.
    pub base_branch: Option<String>,
    /// Source branch.
    pub head_branch: Option<String>,
    /// Lines added.
    pub additions: Option<i64>,
    /// Lines deleted.
    pub deletions: Option<i64>,
    /// Link to it.
    pub url: Option<String>,
}

/// A review submitted on a pull request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// Source-qualified id.
    pub id: String,
    /// Id of the pull request.
    pub pull_request_id: String,
    /// Person id of the reviewer.
    pub author: Option<String>,
    /// `approved`, `changes_requested`, `commented` or `dismissed`.
    pub state: String,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
}

/// A deployment of a service to an environment, for DORA metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// Source-qualified id.
    pub id: String,
    /// The source.
    pub source: String,
    /// Service or repository deployed.
    pub service: String,
    /// Target environment (`production`, …).
    pub environment: String,
    /// Deployed commit.
    pub commit_sha: Option<String>,
    /// `success`, `failure`, `in_progress`, …
    pub status: String,
    /// When it started.
    pub created_at: DateTime<Utc>,
    /// When it reached its final status.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A published release of a repository (DORA's deployment frequency where deployments are not recorded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// Source-qualified id.
    pub id: String,
    /// The source.
    pub source: String,
    /// Repository, `owner/name`.
    pub repository: String,
    /// Git tag.
    pub tag: String,
    /// Title.
    pub name: Option<String>,
    /// Person id of the author.
    pub author: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was published; `None` for drafts.
    pub published_at: Option<DateTime<Utc>>,
    /// A draft.
    pub draft: bool,
    /// A pre-release.
    pub prerelease: bool,
    /// Link to it.
    pub url: Option<String>,
}

/// Time logged on a work item (Jira and Yandex Tracker worklogs), for effort next to flow time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Worklog {
    /// The tracker's worklog id (unique within the item).
    pub id: String,
    /// Id of the work item.
    pub item_id: String,
    /// Person id of whoever logged it.
    pub author: Option<String>,
    /// When the work started.
    pub started_at: DateTime<Utc>,
    /// Time spent, in seconds.
    pub seconds: i64,
    /// When the entry was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When the entry was last edited.
    pub updated_at: Option<DateTime<Utc>>,
}

/// A sprint (Jira Software), as the issues in it describe it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sprint {
    /// Source-qualified id.
    pub id: String,
    /// The source.
    pub source: String,
    /// The board it belongs to.
    pub board_id: Option<i64>,
    /// Name.
    pub name: String,
    /// `future`, `active` or `closed`.
    pub state: String,
    /// Sprint goal.
    pub goal: Option<String>,
    /// Planned start.
    pub start_at: Option<DateTime<Utc>>,
    /// Planned end.
    pub end_at: Option<DateTime<Utc>>,
    /// When it was completed.
    pub complete_at: Option<DateTime<Utc>>,
}

/// A CI pipeline run (GitLab pipelines), for build and DORA metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    /// Source-qualified id.
    pub id: String,
    /// The source.
    pub source: String,
    /// Project or repository.
    pub project: String,
    /// Branch or tag.
    pub git_ref: Option<String>,
    /// Commit.
    pub commit_sha: Option<String>,
    /// `success`, `failed`, `running`, `canceled`, …
    pub status: String,
    /// What started it (`push`, `merge_request_event`, `schedule`, …).
    pub trigger: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed (its finish, once finished).
    pub updated_at: DateTime<Utc>,
    /// Link to it.
    pub url: Option<String>,
}

/// An operational incident, for time to detect, acknowledge, recover and RCA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Source-qualified id.
    pub id: String,
    /// The source.
    pub source: String,
    /// Affected service.
    pub service: Option<String>,
    /// Title.
    pub title: String,
    /// Severity as the source names it.
    pub severity: Option<String>,
    /// Current status.
    pub status: String,
    /// When the impact began.
    pub started_at: DateTime<Utc>,
    /// When someone or something noticed.
    pub detected_at: Option<DateTime<Utc>>,
    /// When a responder acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When service was restored.
    pub resolved_at: Option<DateTime<Utc>>,
    /// When the root-cause analysis was published.
    pub rca_at: Option<DateTime<Utc>>,
}

/// Anything else that happened at a time and is worth counting (the SLA DSL works on these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Source-qualified id.
    pub id: String,
    /// The source.
    pub source: String,
    /// Kind of event (`comment`, `label_added`, …).
    pub kind: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Person id of the actor.
    pub actor: Option<String>,
    /// Id of the entity it is about.
    pub subject_id: Option<String>,
    /// Everything else, as JSON.
    pub attributes: serde_json::Value,
}

/// A work item with its full history: the unit a normalizer emits and the metric engine consumes.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemHistory {
    /// The item itself.
    pub item: WorkItem,
    /// Its status changes, in any order.
    pub status_changes: Vec<StatusChange>,
    /// Every other changed field (status moves are in `status_changes`).
    pub field_changes: Vec<FieldChange>,
    /// The people the record mentions (reporter, assignee, authors of changes).
    pub people: Vec<Person>,
    /// When the item is a pull request: its review-side facts (the item is its flow-side view).
    pub pull_request: Option<PullRequest>,
    /// Reviews of that pull request.
    pub reviews: Vec<Review>,
    /// Time logged on the item (when the source's worklogs are enabled).
    pub worklogs: Vec<Worklog>,
    /// The sprints the item is in now.
    pub sprints: Vec<Sprint>,
    /// Set when the item moved under a new key-based id (a GitHub issue transferred to another repository):
    /// the tracker's own id that survived the move, stored in `custom_fields.node_id`. A load removes every
    /// other stored item of the source with this node id — the item under its old key — so it is counted
    /// once.
    pub moved_node_id: Option<String>,
    /// Exits from statuses as the tracker itself records each stay, for the tracker-exporter compatible rows:
    /// Yandex Tracker's `IssueWorkflow` entries carry the stay's own start (`statusStartTime.from`), which a
    /// queue move that resets the status makes differ from the previous status change. `None`: the rows
    /// derive them from `status_changes` (every other source).
    pub workflow_exits: Option<Vec<crate::metrics::tracker_exporter::WorkflowExit>>,
}

/// What a normalizer makes of one record: work items with their histories (what the metric engine reads),
/// and entities of any kind outside the work-item flow — deployments, releases, pipelines, people known apart
/// from any item, and kinds to come — each stored as a row of its own table.
///
/// The entities are an open set ([`crate::entity`]): a new kind is a type implementing [`Entity`], with no
/// field here and no edit to the engine, which hands every entity to the store as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Normalized {
    /// Work items with their histories.
    pub histories: Vec<ItemHistory>,
    /// Entities of any kind, in the order the normalizer emitted them.
    pub entities: Vec<Box<dyn AnyEntity>>,
}

impl Normalized {
    /// One entity.
    pub fn entity(e: impl Entity) -> Self {
        Self {
            entities: vec![Box::new(e)],
            ..Self::default()
        }
    }

    /// Entities of one kind (none, for an empty iterator or a `None`).
    pub fn entities<E: Entity>(es: impl IntoIterator<Item = E>) -> Self {
        Self {
            entities: es
                .into_iter()
                .map(|e| Box::new(e) as Box<dyn AnyEntity>)
                .collect(),
            ..Self::default()
        }
    }

    /// Adds an entity.
    pub fn push(&mut self, e: impl Entity) {
        self.entities.push(Box::new(e));
    }

    /// The entities of kind `E`, for readers that know the kind they look for (tests, guards).
    pub fn of<E: Entity>(&self) -> impl Iterator<Item = &E> {
        self.entities
            .iter()
            .filter_map(|e| e.as_any().downcast_ref::<E>())
    }
}

impl From<ItemHistory> for Normalized {
    fn from(h: ItemHistory) -> Self {
        Self {
            histories: vec![h],
            ..Self::default()
        }
    }
}

/// One API record exactly as the source returned it, landed before anything interprets it, so that
/// `flowlake rebuild` can re-normalize everything without calling the API again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawRecord {
    /// The configured source name.
    pub source: String,
    /// The stream within the source (`issues`, `pull_requests`, …).
    pub stream: String,
    /// The record's primary key within the stream.
    pub key: String,
    /// The record's own last-modified time, when it has one.
    pub updated_at: Option<DateTime<Utc>>,
    /// When flowlake fetched it.
    pub fetched_at: DateTime<Utc>,
    /// The payload, untouched.
    pub payload: serde_json::Value,
}
