//! The status walk and the normalization of GitHub items, case by case.

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
