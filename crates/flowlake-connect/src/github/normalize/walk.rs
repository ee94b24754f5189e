//! The status walk: a GitHub item's timeline events and submitted reviews, merged in time order, replayed to
//! derive its status history (GitHub itself has only open and closed), its field changes and the people it
//! names.

use chrono::{DateTime, Utc};
use flowlake_core::{FieldChange, StatusCategory, StatusChange};

use super::payload::{pr_status, Actor, GithubIssue, GithubReview, TimelineItem};
use super::{person, StatusRules};

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

/// What the walk of one item's timeline gives.
pub(super) struct Timeline<'i> {
    /// The status after the last step.
    pub(super) status: String,
    pub(super) status_changes: Vec<StatusChange>,
    pub(super) field_changes: Vec<FieldChange>,
    /// Logins of the author and of everyone the timeline names, unsorted and possibly repeated.
    pub(super) logins: Vec<&'i str>,
    /// When a pull request was last marked ready for review (its creation when it never was a draft).
    pub(super) ready_at: Option<DateTime<Utc>>,
}

/// Walks the timeline of `issue` (whose id is `id`, qualified by `source`).
pub(super) fn timeline<'i>(
    source: &str,
    id: &str,
    issue: &'i GithubIssue,
    rules: &StatusRules,
) -> Timeline<'i> {
    let person = |a: &Option<Actor>| person(source, a);
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
            item_id: id.to_string(),
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
                item_id: id.to_string(),
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
            item_id: id.to_string(),
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
            item_id: id.to_string(),
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

    Timeline {
        status,
        status_changes,
        field_changes,
        logins,
        ready_at,
    }
}
