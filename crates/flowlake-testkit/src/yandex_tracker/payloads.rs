//! Tracker's v2 payload shapes, as recorded: times, the `self`/`id`/`display` references to users, fields,
//! issues and statuses, issues as the search returns them, their comments and worklogs.

use chrono::{DateTime, Duration as Span, Utc};
use serde_json::{json, Value};

use super::spec::{PEOPLE, STATUSES};
use super::Issue;

pub(super) fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// The API base the fake's `self` links name, as Tracker's do.
pub(super) const API: &str = "https://api.tracker.yandex.net/v2";

/// A user reference as v2 writes it: `self`, `id`, `display`.
pub(super) fn person((id, display): (&str, &str)) -> Value {
    json!({"self": format!("{API}/users/{id}"), "id": id, "display": display})
}

/// A changed field's reference: `self`, `id`, `display`.
pub(super) fn field_ref(id: &str, display: &str) -> Value {
    json!({"self": format!("{API}/fields/{id}"), "id": id, "display": display})
}

/// An issue reference, as changelog entries and worklog records carry one.
pub(super) fn issue_ref(i: &Issue) -> Value {
    json!({"self": format!("{API}/issues/{}", i.key), "id": i.id, "key": i.key, "display": format!("Задача {}", i.key)})
}

/// A status reference.
pub(super) fn status_ref(n: usize) -> Value {
    let (key, display, _) = STATUSES[n];
    json!({"self": format!("{API}/statuses/{}", n + 1), "id": (n + 1).to_string(), "key": key, "display": display})
}

/// An issue as the search returns it: the keys of the recorded issue
/// (`fixtures/yandex_tracker/recorded/issues.json`) in v2's shape, the fields without a value left out as
/// Tracker leaves them out (no `resolvedAt` before resolution, no `previousStatus` before a transition), plus
/// `tags`.
pub(super) fn issue_json(i: &Issue) -> Value {
    let (_, _, kind) = STATUSES[i.status];
    let author = person(PEOPLE[i.key.len() % PEOPLE.len()]);
    let assignee = person(PEOPLE[0]);
    let mut v = json!({
        "self": format!("{API}/issues/{}", i.key),
        "id": i.id, "key": i.key, "version": i.changelog.len() + 1,
        "summary": format!("Задача {}", i.key),
        "statusStartTime": time(i.status_start),
        "createdAt": time(i.created), "updatedAt": time(i.updated),
        "updatedBy": person(PEOPLE[i.changelog.len() % PEOPLE.len()]),
        "status": status_ref(i.status),
        "statusType": {"id": kind, "display": kind, "key": kind},
        "type": {"self": format!("{API}/issuetypes/2"), "id": "2",
                 "key": if i.created.timestamp() % 3 == 0 { "bug" } else { "task" }, "display": "Задача"},
        "priority": {"self": format!("{API}/priorities/3"), "id": "3", "key": "normal", "display": "Средний"},
        "queue": {"self": format!("{API}/queues/{}", i.queue), "id": "1", "key": i.queue, "display": i.queue},
        "createdBy": author, "assignee": assignee.clone(),
        "commentWithoutExternalMessageCount": comments(i).len(), "commentWithExternalMessageCount": 0,
        "votes": 0, "favorite": false,
        "tags": ["flowlake"]
    });
    if let Some(p) = i.previous {
        v["previousStatus"] = status_ref(p);
        v["previousStatusLastAssignee"] = assignee;
    }
    if i.status == 3 {
        v["resolvedAt"] = json!(time(i.status_start));
        v["resolvedBy"] = person(PEOPLE[1]);
        v["resolution"] = json!({"self": format!("{API}/resolutions/1"), "id": "1", "key": "fixed", "display": "Решен"});
    }
    v
}

/// The number in an issue key (`DEV-12` → 12).
fn number(i: &Issue) -> u64 {
    i.key
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The comments of an issue: the worked example has Борис's comment an hour after Вера created it; issues
/// with even numbers one comment two hours after creation.
pub(super) fn comments(i: &Issue) -> Vec<Value> {
    let first = i.created.format("%Y").to_string() == "2023";
    let (after, who) = if first {
        (Span::hours(1), PEOPLE[1])
    } else if number(i) % 2 == 0 {
        (Span::hours(2), PEOPLE[(number(i) % 3) as usize])
    } else {
        return Vec::new();
    };
    let at = time(i.created + after);
    vec![json!({
        "self": format!("https://api.tracker.yandex.net/v2/issues/{}/comments/{}", i.key, number(i) * 10 + 1),
        "id": number(i) * 10 + 1, "longId": format!("65{:022x}", number(i)), "text": "Посмотрю сегодня",
        "createdBy": person(who), "updatedBy": person(who),
        "createdAt": at, "updatedAt": at, "version": 1, "type": "standard", "transport": "internal"
    })]
}

/// The worklog of an issue: the worked example has `PT1H30M` and `P1D` (a business day, 8 h); issues with
/// numbers divisible by 3 one `PT45M`.
pub(super) fn worklog(i: &Issue) -> Vec<Value> {
    let first = i.created.format("%Y").to_string() == "2023";
    let durations: Vec<&str> = if first {
        vec!["PT1H30M", "P1D"]
    } else if number(i) % 3 == 0 {
        vec!["PT45M"]
    } else {
        Vec::new()
    };
    durations
        .into_iter()
        .enumerate()
        .map(|(k, d)| {
            let who = PEOPLE[k % PEOPLE.len()];
            let start = time(i.created + Span::hours(3 + k as i64));
            json!({
                "self": format!("https://api.tracker.yandex.net/v2/issues/{}/worklog/{}", i.key, number(i) * 10 + k as u64),
                "id": number(i) * 10 + k as u64, "version": 1,
                "issue": issue_ref(i),
                "comment": "", "createdBy": person(who), "updatedBy": person(who),
                "createdAt": start, "updatedAt": start, "start": start, "duration": d
            })
        })
        .collect()
}
