//! GitLab's payload shapes, `null`s included: users as the `UserBasic` and `User` entities write them, notes,
//! and issues and merge requests as GitLab lists them, with every key of the items recorded from gitlab.com.

use chrono::Duration as Span;
use serde_json::{json, Value};

use super::spec::PEOPLE;
use super::Item;

/// A user as GitLab's `UserBasic` entity writes one in issues, merge requests, notes and events (DevLake's
/// recorded issues: `fixtures/gitlab/recorded/issues.json`).
pub(super) fn user(n: usize) -> Value {
    let u = PEOPLE[n % PEOPLE.len()];
    let id = n % 3 + 1;
    json!({"id": id, "username": u, "name": u.to_uppercase(), "state": "active",
           "avatar_url": format!("https://gitlab.example.com/uploads/-/system/user/avatar/{id}/avatar.png"),
           "web_url": format!("https://gitlab.example.com/{u}")})
}

/// A deployment's user: `UserBasic` with `locked`, as the recorded deployments have it.
pub(super) fn user_locked(n: usize) -> Value {
    let mut u = user(n);
    u["locked"] = json!(false);
    u
}

/// A job's user: the whole `User` entity, as the recorded deployments' jobs have it.
pub(super) fn user_full(n: usize) -> Value {
    let mut u = user_locked(n);
    if let Value::Object(m) = &mut u {
        m.insert("created_at".into(), json!("2025-01-06T09:00:00.000Z"));
        for key in [
            "bio",
            "location",
            "public_email",
            "skype",
            "linkedin",
            "twitter",
            "discord",
            "website_url",
            "organization",
            "job_title",
        ] {
            m.insert(key.into(), json!(""));
        }
        for (key, value) in [
            ("pronouns", Value::Null),
            ("bot", json!(false)),
            ("work_information", Value::Null),
            ("followers", json!(0)),
            ("following", json!(0)),
            ("local_time", Value::Null),
        ] {
            m.insert(key.into(), value);
        }
    }
    u
}

/// The notes of an item: a system note a minute after creation, and for even iids a comment 90 minutes
/// after it; the golden item (`acme/api#1`, by bob) has carol's comment an hour after creation.
pub(super) fn notes(i: &Item) -> Vec<Value> {
    let mut v = vec![json!({
        "id": i.id * 10, "body": "changed the description", "author": user(i.iid as usize),
        "created_at": i.created + Span::minutes(1), "updated_at": i.created + Span::minutes(1),
        "system": true, "noteable_id": i.id, "noteable_type": if i.mr { "MergeRequest" } else { "Issue" },
        "noteable_iid": i.iid, "resolvable": false, "confidential": false, "type": null, "attachment": null,
        "commands_changes": {}
    })];
    let comment = if i.id == 5000 {
        Some((Span::minutes(60), 2))
    } else {
        (i.iid % 2 == 0).then_some((Span::minutes(90), i.iid as usize + 2))
    };
    if let Some((after, who)) = comment {
        v.push(json!({
            "id": i.id * 10 + 1, "body": "Looks right to me", "author": user(who),
            "created_at": i.created + after, "updated_at": i.created + after, "system": false,
            "noteable_id": i.id, "noteable_type": if i.mr { "MergeRequest" } else { "Issue" },
            "noteable_iid": i.iid, "resolvable": false, "confidential": false, "type": null, "attachment": null,
            "commands_changes": {}
        }));
    }
    v
}

/// An issue or merge request as GitLab lists it: every key of the items DevLake recorded from gitlab.com
/// (`fixtures/gitlab/recorded/{issues,merge_requests}.json`), with the `null`s of real items (and of
/// airbytehq/airbyte `airbyte-integrations/connectors/source-gitlab/integration_tests/expected_records.jsonl`:
/// a `null` description).
pub(super) fn item_json(path: &str, i: &Item) -> Value {
    let (kind, sep) = if i.mr {
        ("merge_requests", "!")
    } else {
        ("issues", "#")
    };
    let closed = i.state == "closed";
    let v = json!({
        "id": i.id, "iid": i.iid, "project_id": 1, "title": format!("Change {}", i.iid),
        "description": if i.iid % 2 == 0 { json!("") } else { Value::Null },
        "state": i.state, "created_at": i.created, "updated_at": i.updated,
        "closed_at": if closed { json!(i.updated) } else { Value::Null },
        "closed_by": if closed { user(i.iid as usize) } else { Value::Null },
        "milestone": null, "assignee": user(i.iid as usize + 1),
        "labels": i.labels, "author": user(i.iid as usize), "assignees": [user(i.iid as usize + 1)],
        "user_notes_count": i64::from(i.iid % 2 == 0), "upvotes": 0, "downvotes": 0, "discussion_locked": null,
        "web_url": format!("https://gitlab.example.com/{path}/-/{kind}/{}", i.iid),
        "references": {"short": format!("{sep}{}", i.iid), "relative": format!("{sep}{}", i.iid),
                       "full": format!("{path}{sep}{}", i.iid)},
        "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": null,
                       "human_total_time_spent": null},
        "task_completion_status": {"count": 0, "completed_count": 0},
    });
    let Value::Object(mut m) = v else {
        return v;
    };
    if i.mr {
        let merged = i.state == "merged";
        let merger = if merged {
            user(i.iid as usize)
        } else {
            Value::Null
        };
        for (key, value) in [
            ("merged_by", merger.clone()),
            ("merge_user", merger),
            (
                "merged_at",
                if merged {
                    json!(i.updated)
                } else {
                    Value::Null
                },
            ),
            ("target_branch", json!("main")),
            ("source_branch", json!(format!("change-{}", i.iid))),
            ("reviewers", json!([])),
            ("source_project_id", json!(1)),
            ("target_project_id", json!(1)),
            ("draft", json!(false)),
            ("work_in_progress", json!(false)),
            ("merge_when_pipeline_succeeds", json!(false)),
            ("merge_status", json!("can_be_merged")),
            ("sha", json!(format!("{:040x}", i.id))),
            (
                "merge_commit_sha",
                if merged {
                    json!(format!("{:040x}", i.id + 1))
                } else {
                    Value::Null
                },
            ),
            ("squash_commit_sha", Value::Null),
            ("should_remove_source_branch", Value::Null),
            ("force_remove_source_branch", json!(true)),
            ("reference", json!(format!("!{}", i.iid))),
            ("squash", json!(false)),
            ("has_conflicts", json!(false)),
            ("blocking_discussions_resolved", json!(true)),
            ("approvals_before_merge", json!(0)),
        ] {
            m.insert(key.into(), value);
        }
    } else {
        let api = format!(
            "https://gitlab.example.com/api/v4/projects/1/issues/{}",
            i.iid
        );
        for (key, value) in [
            ("type", json!("ISSUE")),
            ("issue_type", json!("issue")),
            ("merge_requests_count", json!(0)),
            ("due_date", Value::Null),
            ("confidential", json!(false)),
            ("weight", Value::Null),
            ("blocking_issues_count", json!(0)),
            ("has_tasks", json!(false)),
            (
                "_links",
                json!({"self": api, "notes": format!("{api}/notes"), "award_emoji": format!("{api}/award_emoji"),
                              "project": "https://gitlab.example.com/api/v4/projects/1", "closed_as_duplicate_of": null}),
            ),
            ("severity", json!("UNKNOWN")),
            ("moved_to_id", Value::Null),
            ("service_desk_reply_to", Value::Null),
            ("epic_iid", Value::Null),
            ("epic", Value::Null),
            ("iteration", Value::Null),
            ("health_status", Value::Null),
        ] {
            m.insert(key.into(), value);
        }
    }
    Value::Object(m)
}
