//! Property tests of every normalizer: whatever a landed payload holds, `Source::normalize` (and `absorb`, for
//! lookup streams) returns a result or a [`SourceError`] with a message, never a panic. A rebuild
//! re-normalizes every raw record ever landed, so one odd payload must cost one bad record, not the run.
//!
//! Each source starts from realistic payloads of each of its streams (the shapes of the unit tests and fakes,
//! which cite the vendors' documents) and mutates them: keys dropped, values set to null, wrong types, huge,
//! negative and fractional numbers, digits inflated inside dates and durations, cut and non-ASCII text, empty
//! and duplicated lists, arbitrary JSON put anywhere. Fully arbitrary JSON goes in too. 256 cases per
//! property by default; `PROPTEST_CASES=100000` runs longer.

use std::collections::BTreeMap;
use std::sync::Arc;

use flowlake_connect::generator::{simulate_issue, GeneratorConfig, GeneratorSource};
use flowlake_connect::github::{GithubConfig, GithubSource};
use flowlake_connect::gitlab::{GitlabConfig, GitlabSource};
use flowlake_connect::http::{LogObserver, Tape};
use flowlake_connect::jira::{JiraConfig, JiraSource};
use flowlake_connect::yandex_tracker::{YandexTrackerConfig, YandexTrackerSource};
use flowlake_connect::{Normalizer, Source, SourceError};
use flowlake_core::RawRecord;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{json, Value};

/// 256 cases unless `PROPTEST_CASES` says otherwise; failures are reported (and shrunk), not persisted:
/// each one found is kept as a named regression test below.
fn runner() -> TestRunner {
    let mut config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 256;
    }
    TestRunner::new(config)
}

/// No token is read: the variable is never set.
const NO_TOKEN: &str = "FLOWLAKE_FUZZ_UNSET_TOKEN";

fn record(stream: &str, payload: Value) -> RawRecord {
    RawRecord {
        source: "fuzz".into(),
        stream: stream.into(),
        key: "k".into(),
        updated_at: None,
        fetched_at: chrono::DateTime::UNIX_EPOCH,
        payload,
    }
}

/// A result, or an error that says what is wrong.
fn check<T>(result: Result<T, SourceError>) -> Result<(), TestCaseError> {
    if let Err(e) = result {
        prop_assert!(!e.to_string().trim().is_empty(), "an empty error: {e:?}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Payload mutation.

/// Values that mean something to some normalizer, or nearly do.
fn interesting() -> Vec<Value> {
    let mut v = vec![
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e308),
        json!(-1e308),
        json!(0.5),
        json!(-0.0),
        json!([]),
        json!({}),
        json!([null]),
        json!({"id": null}),
        json!({"name": "x", "key": "x", "display": "x", "login": "x", "username": "x"}),
        Value::String("x".repeat(10_000)),
    ];
    v.extend(
        [
            "",
            " ",
            "not a date",
            "2026-03-02T09:00:00Z",
            "2024-02-30T00:00:00Z",
            "2024-01-15T10:30:00.000+0300",
            "2024-01-15T10:30:00.000+9999",
            "2024-01-15T10:30:00.000-2400",
            "2024-01-15T10:30:00.000+0000",
            "2024-01-15T24:00:00.000+0000",
            "9999-12-31T23:59:59.999999999+14:00",
            "0000-01-01T00:00:00Z",
            "+262143-12-31T23:59:59Z",
            "-262144-01-01T00:00:00Z",
            "+99999999-01-01T00:00:00.000+0000",
            "1970-01-01T00:00:00.000000000000000000001Z",
            "PT1H30M",
            "P1D",
            "P1W",
            "P9223372036854775807W",
            "P99999999999999999999W",
            "PT9223372036854775807S",
            "P1000000000000000000DT1000000000000000000H",
            "P.W",
            "P1.5.5D",
            "PT",
            "P",
            "P1Y",
            "P1W1W1W",
            "com.atlassian.greenhopper.service.sprint.Sprint@3f[id=1,rapidViewId=7,state=CLOSED,name=A, B,startDate=<null>,goal=]",
            "Sprint@1[=,]",
            "Sprint@1[é=1,,=]",
            "x[",
            "[]",
            "[id=]",
            "Готово 🚀",
            "\u{0}",
            "\u{202e}",
            "status",
            "statusStartTime",
            "IssueWorkflow",
            "IssueMoved",
            "OPEN",
            "CLOSED",
            "MERGED",
            "PENDING",
            "APPROVED",
            "COMMENTED",
            "merge_request",
            "issue",
            "opened",
            "closed",
            "merged",
            "reopened",
            "add",
            "remove",
            "success",
            "failed",
            "COMPLETED",
            "NOT_PLANNED",
            "ClosedEvent",
            "LabeledEvent",
            "UnlabeledEvent",
            "MergedEvent",
            "ReopenedEvent",
            "ReviewRequestedEvent",
            "ReadyForReviewEvent",
            "ConvertToDraftEvent",
            "TransferredEvent",
            "/",
            "~1",
            "/fields/customfield_10016",
            "done",
            "new",
            "indeterminate",
            "inProgress",
            "cancelled",
            "com.pyxis.greenhopper.jira:gh-sprint",
        ]
        .map(Value::from),
    );
    v
}

/// What a mutation does to the node it lands on.
#[derive(Debug, Clone)]
enum Op {
    /// Drop the key (or list entry).
    Remove,
    /// Put this value there instead.
    Replace(Value),
    /// `[node]`.
    Wrap,
    /// The node's JSON text as a string.
    Stringify,
    /// The list entry twice.
    Duplicate,
    /// A key (usually one the payloads use) added to an object.
    Insert(String, Value),
    /// Every digit run of a string or number made huge.
    InflateDigits(&'static str),
    /// A leading minus sign.
    Negate,
    /// The text cut at a character.
    Truncate(Index),
    /// Non-ASCII and control characters appended.
    Garble,
}

/// What digit runs become.
const DIGITS: &[&str] = &[
    "99999999999999999999",
    "9223372036854775807",
    "0",
    "00000000000000000000001",
];

fn op(keys: Vec<String>) -> impl Strategy<Value = Op> {
    let keys = select(keys);
    prop_oneof![
        3 => Just(Op::Remove),
        2 => Just(Op::Replace(Value::Null)),
        3 => select(interesting()).prop_map(Op::Replace),
        1 => json_value().prop_map(Op::Replace),
        1 => Just(Op::Wrap),
        1 => Just(Op::Stringify),
        1 => Just(Op::Duplicate),
        1 => (keys, select(interesting())).prop_map(|(k, v)| Op::Insert(k, v)),
        2 => select(DIGITS)
            .prop_map(Op::InflateDigits),
        1 => Just(Op::Negate),
        1 => any::<Index>().prop_map(Op::Truncate),
        1 => Just(Op::Garble),
    ]
}

/// JSON pointers of every node below the root, parents first.
fn pointers(v: &Value, at: &str, out: &mut Vec<String>) {
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                let p = format!("{at}/{}", escape(k));
                out.push(p.clone());
                pointers(child, &p, out);
            }
        }
        Value::Array(a) => {
            for (n, child) in a.iter().enumerate() {
                let p = format!("{at}/{n}");
                out.push(p.clone());
                pointers(child, &p, out);
            }
        }
        _ => {}
    }
}

fn inflate(text: &str, digits: &str) -> String {
    let mut out = String::new();
    let mut in_run = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_run {
                out.push_str(digits);
            }
            in_run = true;
        } else {
            in_run = false;
            out.push(c);
        }
    }
    out
}

/// Applies `op` to the node `at` picks (the root when the payload has no other node).
fn mutate(root: &mut Value, at: Index, op: &Op) {
    let mut all = Vec::new();
    pointers(root, "", &mut all);
    let ptr = if all.is_empty() {
        String::new()
    } else {
        all[at.index(all.len())].clone()
    };
    if let (Op::Remove | Op::Duplicate, Some((parent, last))) = (op, ptr.rsplit_once('/')) {
        let last = last.replace("~1", "/").replace("~0", "~");
        match root.pointer_mut(parent) {
            Some(Value::Object(o)) if matches!(op, Op::Remove) => {
                o.remove(&last);
            }
            Some(Value::Array(a)) => {
                if let Ok(n) = last.parse::<usize>() {
                    if n < a.len() {
                        if matches!(op, Op::Remove) {
                            a.remove(n);
                        } else {
                            let copy = a[n].clone();
                            a.insert(n, copy);
                        }
                    }
                }
            }
            _ => {}
        }
        return;
    }
    let Some(node) = root.pointer_mut(&ptr) else {
        return;
    };
    match op {
        Op::Remove | Op::Duplicate => *node = Value::Null,
        Op::Replace(v) => *node = v.clone(),
        Op::Wrap => *node = Value::Array(vec![node.take()]),
        Op::Stringify => *node = Value::String(node.to_string()),
        Op::Insert(k, v) => {
            if let Value::Object(o) = node {
                o.insert(k.clone(), v.clone());
            }
        }
        Op::InflateDigits(digits) => match node {
            Value::String(s) => *s = inflate(s, digits),
            Value::Number(n) => {
                let text = inflate(&n.to_string(), digits);
                *node = serde_json::from_str(&text).unwrap_or(Value::String(text));
            }
            _ => {}
        },
        Op::Negate => match node {
            Value::String(s) => s.insert(0, '-'),
            Value::Number(n) => {
                *node = serde_json::from_str(&format!("-{n}")).unwrap_or(Value::Null);
            }
            _ => {}
        },
        Op::Truncate(i) => {
            if let Value::String(s) = node {
                let cuts: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
                s.truncate(cuts[i.index(cuts.len())]);
            }
        }
        Op::Garble => {
            if let Value::String(s) = node {
                s.push_str("é🚀\u{0}\u{202e}");
            }
        }
    }
}

/// Every object key of `seeds`, and a few no payload has.
fn keys_of(seeds: &[(&str, Value)]) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, c) in o {
                    out.push(k.clone());
                    walk(c, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, out)),
            _ => {}
        }
    }
    let mut out = vec!["__typename".to_string(), "".into(), "Ключ".into()];
    for (_, v) in seeds {
        walk(v, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

/// Keys the payloads use.
const JSON_KEYS: &[&str] = &[
    "id",
    "key",
    "name",
    "fields",
    "status",
    "item",
    "issue",
    "kind",
    "project",
    "changelog",
    "histories",
    "nodes",
    "__typename",
    "createdAt",
    "created_at",
    "created",
    "login",
    "display",
];

/// Any JSON, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        select(interesting()),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![select(JSON_KEYS).prop_map(String::from), any::<String>(),],
                    inner,
                ),
                0..6,
            )
            .prop_map(|v| Value::Object(v.into_iter().collect())),
        ]
    })
}

/// A (stream, payload) pair: one of `seeds` with mutations applied, and now and then landed on another
/// stream of the source than its own.
fn mutated(seeds: Vec<(&'static str, Value)>) -> impl Strategy<Value = (String, Value)> {
    let keys = keys_of(&seeds);
    let streams: Vec<&'static str> = seeds.iter().map(|(s, _)| *s).collect();
    (
        select(seeds),
        prop::option::weighted(0.1, select(streams)),
        prop::collection::vec((any::<Index>(), op(keys)), 0..8),
    )
        .prop_map(|((stream, mut payload), other, ops)| {
            for (at, op) in &ops {
                mutate(&mut payload, *at, op);
            }
            (other.unwrap_or(stream).to_string(), payload)
        })
}

/// Arbitrary JSON on one of `streams`.
fn arbitrary(streams: &'static [&'static str]) -> impl Strategy<Value = (String, Value)> {
    (select(streams).prop_map(String::from), json_value())
}

// ---------------------------------------------------------------------------------------------------------
// Seeds: realistic payloads per source and stream.

fn github_seeds() -> Vec<(&'static str, Value)> {
    // The GraphQL shapes of the unit tests in src/github/{normalize,deployment,release}.rs, which follow
    // GitHub's GraphQL schema (the contract flowlake-testkit/src/github/ is checked against).
    vec![
        (
            "issues",
            json!({
                "id": "I_kwDOA1", "number": 7, "title": "Crash on save", "state": "CLOSED",
                "url": "https://github.com/acme/app/issues/7",
                "createdAt": "2026-03-02T09:00:00Z", "updatedAt": "2026-03-06T12:00:00Z",
                "closedAt": "2026-03-06T12:00:00Z",
                "author": {"login": "alice"}, "repository": {"nameWithOwner": "acme/app"},
                "assignees": {"nodes": [{"login": "bob"}]},
                "labels": {"nodes": [{"name": "bug"}, null]},
                "issueType": {"name": "Bug"}, "milestone": {"title": "v2"},
                "timelineItems": {"nodes": [
                    {"__typename": "AssignedEvent", "createdAt": "2026-03-02T10:00:00Z", "actor": {"login": "alice"}, "assignee": {"login": "bob"}},
                    {"__typename": "LabeledEvent", "createdAt": "2026-03-03T09:00:00Z", "actor": {"login": "bob"}, "label": {"name": "Status: In Progress"}},
                    {"__typename": "UnlabeledEvent", "createdAt": "2026-03-04T15:00:00Z", "actor": {"login": "carol"}, "label": {"name": "status: review"}},
                    {"__typename": "CrossReferencedEvent", "createdAt": "2026-03-05T09:00:00Z"},
                    {"__typename": "TransferredEvent", "createdAt": "2026-03-03T09:00:00Z", "actor": {"login": "alice"}, "fromRepository": {"nameWithOwner": "acme/old"}},
                    {"__typename": "UnassignedEvent", "createdAt": "2026-03-05T10:00:00Z", "actor": null, "assignee": {"login": "bob"}},
                    {"__typename": "ClosedEvent", "createdAt": "2026-03-06T12:00:00Z", "actor": null, "stateReason": "COMPLETED"},
                    {"__typename": "ReopenedEvent", "createdAt": "2026-03-06T13:00:00Z", "actor": {"login": "alice"}}
                ]},
                "comments": {"nodes": [
                    {"id": "IC_1", "createdAt": "2026-03-02T11:00:00Z", "author": {"login": "erin"}},
                    {"id": "IC_2", "createdAt": "2026-03-02T12:00:00Z", "author": null}
                ]}
            }),
        ),
        (
            "pull_requests",
            json!({
                "id": "PR_kwDOA9", "number": 12, "title": "Faster save", "state": "MERGED", "isDraft": false,
                "url": "https://github.com/acme/app/pull/12",
                "createdAt": "2026-03-02T09:00:00Z", "updatedAt": "2026-03-06T12:00:00Z",
                "closedAt": "2026-03-06T12:00:00Z", "mergedAt": "2026-03-06T12:00:00Z",
                "author": {"login": "alice"}, "repository": {"nameWithOwner": "acme/app"},
                "baseRefName": "main", "headRefName": "fast-save", "additions": 120, "deletions": 30,
                "assignees": {"nodes": []}, "labels": {"nodes": []},
                "timelineItems": {"nodes": [
                    {"__typename": "ConvertToDraftEvent", "createdAt": "2026-03-02T10:00:00Z", "actor": {"login": "alice"}},
                    {"__typename": "ReadyForReviewEvent", "createdAt": "2026-03-03T09:00:00Z", "actor": {"login": "alice"}},
                    {"__typename": "ReviewRequestedEvent", "createdAt": "2026-03-03T09:00:00Z", "actor": {"login": "alice"}, "requestedReviewer": {"login": "bob"}},
                    {"__typename": "ReviewRequestedEvent", "createdAt": "2026-03-03T09:00:00Z", "actor": {"login": "alice"}, "requestedReviewer": {"name": "core-team"}},
                    {"__typename": "MergedEvent", "createdAt": "2026-03-06T12:00:00Z", "actor": {"login": "alice"}},
                    {"__typename": "ClosedEvent", "createdAt": "2026-03-06T12:00:00Z", "actor": {"login": "alice"}}
                ]},
                "reviews": {"nodes": [
                    {"id": "R1", "state": "COMMENTED", "submittedAt": "2026-03-03T10:00:00Z", "author": {"login": "alice"}},
                    {"id": "R2", "state": "CHANGES_REQUESTED", "submittedAt": "2026-03-04T09:00:00Z", "author": {"login": "bob"}},
                    {"id": "R3", "state": "APPROVED", "submittedAt": "2026-03-05T09:00:00Z", "author": {"login": "bob"}},
                    {"id": "R4", "state": "PENDING", "submittedAt": null, "author": {"login": "carol"}}
                ]}
            }),
        ),
        (
            "deployments",
            json!({
                "databaseId": 901, "environment": "production", "commitOid": "abc123", "state": "ACTIVE",
                "createdAt": "2026-03-02T09:00:00Z", "repository": {"nameWithOwner": "acme/app"},
                "statuses": {"nodes": [
                    {"state": "INACTIVE", "createdAt": "2026-03-05T09:00:00Z"},
                    {"state": "SUCCESS", "createdAt": "2026-03-02T09:07:00Z"},
                    {"state": "IN_PROGRESS", "createdAt": "2026-03-02T09:01:00Z"}
                ]}
            }),
        ),
        (
            "releases",
            json!({
                "databaseId": 77, "tagName": "v1.2.0", "name": "1.2", "author": {"login": "alice"},
                "createdAt": "2026-03-02T09:00:00Z", "publishedAt": "2026-03-02T10:00:00Z",
                "isDraft": false, "isPrerelease": true,
                "url": "https://github.com/acme/app/releases/tag/v1.2.0",
                "repository": {"nameWithOwner": "acme/app"}
            }),
        ),
        ("members", json!({"login": "bob", "id": 2, "type": "User"})),
    ]
}

fn jira_seeds() -> Vec<(&'static str, Value)> {
    // The search answer of src/jira/normalize.rs's tests and flowlake-testkit/src/jira/ (held to Atlassian's OpenAPI
    // document): a Cloud issue with its changelog, sprints as Cloud objects and Server text, worklogs.
    vec![
        (
            "issues",
            json!({
                "id": "10042", "key": "CORE-7", "self": "https://acme.atlassian.net/rest/api/3/issue/10042",
                "fields": {
                    "summary": "Падает экспорт", "customfield_10016": 5.0,
                    "customfield_10020": [
                        {"id": 10, "name": "Спринт 10", "state": "closed", "boardId": 7, "goal": "",
                         "startDate": "2024-03-01T09:00:00.000Z", "endDate": "2024-03-15T09:00:00.000Z",
                         "completeDate": "2024-03-15T09:00:00.000Z"},
                        "com.atlassian.greenhopper.service.sprint.Sprint@3f11[id=11,rapidViewId=7,state=ACTIVE,name=Спринт 11, B,startDate=2024-03-15T09:00:00.000+0000,endDate=2024-03-29T09:00:00.000+0000,completeDate=<null>,sequence=11,goal=]"
                    ],
                    "status": {"name": "Готово", "statusCategory": {"key": "done", "name": "Done"}},
                    "issuetype": {"name": "Bug", "subtask": false, "hierarchyLevel": 0}, "priority": {"name": "High"},
                    "reporter": {"accountId": "5b10a", "displayName": "Alice"},
                    "creator": {"name": "alice", "displayName": "Alice"},
                    "assignee": {"accountId": "5b10b", "displayName": "Bob", "emailAddress": "bob@acme.test"},
                    "labels": ["export"], "components": [{"name": "api"}], "parent": {"id": "10001", "key": "CORE-1"},
                    "project": {"id": "1", "key": "CORE", "name": "Core"},
                    "created": "2024-03-04T10:00:00.000+0300", "updated": "2024-03-06T18:00:00.000+0800",
                    "resolutiondate": "2024-03-06T18:00:00.000+0800",
                    "worklog": {"startAt": 0, "maxResults": 20, "total": 2, "worklogs": [
                        {"id": "1000000", "issueId": "10042", "author": {"accountId": "5b10a"},
                         "started": "2024-03-04T11:00:00.000+0300", "timeSpent": "60m", "timeSpentSeconds": 3600,
                         "created": "2024-03-04T11:05:00.000+0300", "updated": "2024-03-04T11:05:00.000+0300"},
                        {"id": "1000001", "author": null, "started": "2024-03-04T12:00:00.000+0300",
                         "timeSpentSeconds": 9000, "created": null, "updated": null}
                    ]}
                },
                "changelog": {"startAt": 0, "maxResults": 100, "total": 2, "histories": [
                    {"id": "201", "author": {"accountId": "5b10a", "displayName": "Alice"}, "created": "2024-03-06T18:00:00.000+0800",
                     "items": [{"field": "status", "fieldtype": "jira", "from": "3", "fromString": "В работе", "to": "10001", "toString": "Готово"},
                               {"field": "resolution", "fieldtype": "jira", "from": null, "fromString": null, "to": "1", "toString": "Done"}]},
                    {"id": "200", "author": {"accountId": "5b10b", "displayName": "Bob"}, "created": "2024-03-04T12:30:00.000+0300",
                     "items": [{"field": "status", "fieldtype": "jira", "from": "1", "fromString": "Open", "to": "3", "toString": "В работе"}]}
                ]}
            }),
        ),
        (
            "_statuses",
            json!({
                "self": "https://acme.atlassian.net/rest/api/3/status/10001", "description": "",
                "name": "Готово", "untranslatedName": "Done", "id": "10001",
                "statusCategory": {"self": "https://acme.atlassian.net/rest/api/3/statuscategory/3", "id": 3,
                                   "key": "done", "colorName": "green", "name": "Done"},
                "scope": {"type": "PROJECT", "project": {"id": "10000"}}
            }),
        ),
        (
            "_fields",
            json!({"id": "customfield_10020", "name": "Sprint", "custom": true, "navigable": true,
                   "schema": {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint", "customId": 10020}}),
        ),
        (
            "_fields",
            json!({"id": "customfield_10016", "name": "Story Points", "custom": true,
                   "schema": {"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float", "customId": 10016}}),
        ),
    ]
}

fn yandex_seeds() -> Vec<(&'static str, Value)> {
    // src/yandex_tracker/normalize.rs's tests (shapes from yandex-cloud/docs get-changelog.md) and flowlake-testkit/src/yandex_tracker/
    // (issues, comments, worklogs, statuses and users as the v2 API writes them).
    vec![
        (
            "issues",
            json!({
                "issue": {
                    "self": "https://api.tracker.yandex.net/v2/issues/DEV-3",
                    "id": "5f1a", "key": "DEV-3", "summary": "Отчёт", "createdAt": "2023-10-16T06:00:00.000+0000",
                    "updatedAt": "2023-10-19T09:00:00.000+0000", "resolvedAt": null,
                    "status": {"id": "3", "key": "inProgress", "display": "In Progress"},
                    "type": {"key": "bug", "display": "Ошибка"}, "priority": {"id": "3", "key": "normal", "display": "Средний"},
                    "queue": {"key": "DEV", "display": "Dev"}, "parent": {"id": "5f00", "key": "DEV-1"},
                    "createdBy": {"id": "11", "display": "Alice"}, "assignee": {"id": "12", "display": "Bob"},
                    "tags": ["backend"], "components": [{"id": "1", "display": "api"}], "storyPoints": 3
                },
                "changelog": [
                    {"id": "c1", "updatedAt": "2023-10-16T08:30:01.000+0000", "updatedBy": {"id": "12", "display": "Bob"},
                     "type": "IssueWorkflow", "fields": [
                        {"field": {"id": "status", "display": "Статус"}, "from": {"key": "open", "display": "Open"}, "to": {"key": "inProgress", "display": "In Progress"}},
                        {"field": {"id": "statusStartTime"}, "from": "2023-10-16T06:00:00.000+0000", "to": "2023-10-16T08:30:00.000+0000"},
                        {"field": {"id": "resolution"}, "from": null, "to": null}]},
                    {"id": "c2", "updatedAt": "2023-10-16T09:00:00.000+0000", "updatedBy": {"id": "12", "display": "Bob"},
                     "type": "IssueUpdated", "fields": [
                        {"field": {"id": "assignee", "display": "Исполнитель"}, "from": null, "to": {"id": "12", "display": "Bob"}},
                        {"field": {"id": "tags"}, "from": [], "to": ["backend", "urgent"]},
                        {"field": {"id": "storyPoints"}, "from": 1, "to": 3.5}]},
                    {"id": "m3", "updatedAt": "2023-10-17T08:00:00.000+0000", "type": "IssueMoved", "transport": "front",
                     "fields": [
                        {"field": {"id": "queue", "display": "Queue"}, "from": {"id": "1", "key": "DEV", "display": "DEV"}, "to": {"id": "2", "key": "SRE", "display": "SRE"}},
                        {"field": {"id": "key", "display": "Key"}, "from": "DEV-7", "to": "SRE-3"}]}
                ],
                "comments": [
                    {"id": 31, "longId": "650000000000000000000003", "text": "Посмотрю сегодня",
                     "createdBy": {"id": "12", "display": "Bob"}, "createdAt": "2023-10-16T07:00:00.000+0000"}
                ],
                "worklogs": [
                    {"id": 30, "createdBy": {"id": "11", "display": "Alice"}, "start": "2023-10-16T09:00:00.000+0000",
                     "duration": "PT1H30M", "createdAt": "2023-10-16T09:00:00.000+0000", "updatedAt": null},
                    {"id": "31", "createdBy": null, "start": "2023-10-16T10:00:00.000+0000", "duration": "P1DT2H"}
                ]
            }),
        ),
        (
            "_statuses",
            json!({"id": 3, "key": "inProgress", "name": "В работе", "display": "В работе", "type": "inProgress"}),
        ),
        (
            "_users",
            json!({"self": "https://api.tracker.yandex.net/v2/users/11", "uid": 11, "login": "user11",
                   "trackerUid": 11, "passportUid": 11, "firstName": "Вера", "lastName": "",
                   "display": "Вера", "email": "user11@Example.ru", "external": false, "dismissed": false}),
        ),
    ]
}

fn gitlab_seeds() -> Vec<(&'static str, Value)> {
    // src/gitlab/normalize.rs's tests (airbytehq/airbyte's recorded merge request) and flowlake-testkit/src/gitlab/
    // (deployments and pipelines as gitlabhq's API entities write them).
    vec![
        (
            "issues",
            json!({
                "kind": "issue", "project": "acme/api",
                "item": {"id": 900, "iid": 6, "title": "Timeout", "state": "closed",
                         "created_at": "2026-03-02T09:00:00.000Z", "updated_at": "2026-03-06T12:00:00.000Z",
                         "closed_at": "2026-03-06T12:00:00.000Z", "labels": ["bug"], "weight": 3,
                         "author": {"username": "alice", "name": "Alice"}, "assignees": [{"username": "bob", "name": "Bob"}],
                         "issue_type": "issue", "web_url": "https://gitlab.com/acme/api/-/issues/6"},
                "state_events": [
                    {"id": 2, "user": {"username": "bob"}, "created_at": "2026-03-04T09:00:00.000Z", "state": "closed"},
                    {"id": 3, "user": {"username": "bob"}, "created_at": "2026-03-05T09:00:00.000Z", "state": "reopened"},
                    {"id": 4, "user": null, "created_at": "2026-03-06T12:00:00.000Z", "state": "closed"}
                ],
                "label_events": [
                    {"id": 1, "user": {"username": "bob"}, "created_at": "2026-03-03T09:00:00.000Z", "label": {"name": "workflow::in progress"}, "action": "add"},
                    {"id": 5, "user": {"username": "bob"}, "created_at": "2026-03-05T10:00:00.000Z", "label": null, "action": "remove"}
                ],
                "notes": [
                    {"id": 10, "author": {"username": "alice"}, "created_at": "2026-03-02T09:01:00Z", "system": true},
                    {"id": 11, "author": {"username": "dmitry", "name": "Дмитрий"}, "created_at": "2026-03-02T10:30:00Z", "system": false}
                ]
            }),
        ),
        (
            "merge_requests",
            json!({
                "kind": "merge_request", "project": "airbyte.io/ci-test-project",
                "item": {"id": 92098762, "iid": 30, "project_id": 25156633, "title": "Id blanditiis consequatur ut.",
                         "description": null, "state": "merged", "created_at": "2021-02-15T15:55:38.117Z",
                         "updated_at": "2021-02-15T15:55:38.117Z", "merged_by": null, "merge_user": null,
                         "merged_at": "2021-02-16T15:55:38.117Z", "closed_by": null, "closed_at": null, "target_branch": "master",
                         "source_branch": "laudantium-unde-et-iste-et",
                         "author": {"id": 8375961, "username": "airbyte", "name": "Airbyte Team", "state": "active"},
                         "assignees": [], "assignee": null, "reviewers": [],
                         "labels": ["asperiores-ex", "quidem-labore"], "draft": true,
                         "web_url": "https://gitlab.com/airbyte.io/ci-test-project/-/merge_requests/30"},
                "state_events": [
                    {"id": 7, "user": {"username": "airbyte"}, "created_at": "2021-02-16T15:55:38.117Z", "state": "merged"}
                ],
                "label_events": []
            }),
        ),
        (
            "deployments",
            json!({
                "project": "acme/api",
                "item": {"id": 700, "iid": 1, "ref": "main", "sha": "00000000000000000000000000000000000003e8",
                         "created_at": "2026-03-02T09:00:00.000Z", "updated_at": "2026-03-02T09:06:00.000Z", "status": "success",
                         "user": {"id": 1, "username": "alice", "name": "ALICE", "state": "active"},
                         "environment": {"id": 1, "name": "production", "external_url": "https://acme-api.example.com"},
                         "deployable": {"id": 9000, "status": "success", "stage": "deploy", "name": "deploy", "ref": "main",
                                        "created_at": "2026-03-02T08:59:00.000Z", "started_at": "2026-03-02T09:00:00.000Z",
                                        "finished_at": "2026-03-02T09:06:00.000Z", "duration": 360.0}}
            }),
        ),
        (
            "pipelines",
            json!({
                "project": "acme/api",
                "item": {"id": 3007, "iid": 8, "project_id": 1, "sha": "00000000000000000000000000000000000003ef",
                         "ref": "change-7", "status": "running", "source": "external",
                         "created_at": "2026-03-07T13:00:00.000Z", "updated_at": null,
                         "web_url": "https://gitlab.example.com/acme/api/-/pipelines/3007"}
            }),
        ),
    ]
}

fn generator_seeds() -> Vec<(&'static str, Value)> {
    let cfg = GeneratorConfig::default();
    (0..4)
        .map(|n| {
            let issue = simulate_issue(&cfg, n);
            (
                "issues",
                serde_json::to_value(issue).expect("a generated issue serializes"),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Sources, built as `sync` builds them but never asked for a page.

fn github() -> GithubSource {
    let config = GithubConfig {
        repositories: vec!["acme/app".into()],
        token_env: NO_TOKEN.into(),
        status_labels: BTreeMap::from([
            ("status: in progress".into(), "In Progress".into()),
            ("status: review".into(), "Review".into()),
        ]),
        ..GithubConfig::default()
    };
    GithubSource::new(config, Tape::Off, Arc::new(LogObserver)).expect("a valid github source")
}

fn jira() -> JiraSource {
    let config = JiraConfig {
        base_url: "https://acme.atlassian.net".into(),
        projects: vec!["CORE".into()],
        token_env: NO_TOKEN.into(),
        custom_fields: BTreeMap::from([
            ("story_points".into(), "Story Points".into()),
            ("points".into(), "/fields/customfield_10016".into()),
            ("sprint".into(), "customfield_10020".into()),
        ]),
        ..JiraConfig::default()
    };
    JiraSource::new(config, Tape::Off, Arc::new(LogObserver)).expect("a valid jira source")
}

fn yandex() -> YandexTrackerSource {
    let config = YandexTrackerConfig {
        org_id: Some("123".into()),
        token_env: NO_TOKEN.into(),
        custom_fields: BTreeMap::from([("story_points".into(), "/issue/storyPoints".into())]),
        ..YandexTrackerConfig::default()
    };
    YandexTrackerSource::new(config, Tape::Off, Arc::new(LogObserver))
        .expect("a valid tracker source")
}

fn gitlab() -> GitlabSource {
    let config = GitlabConfig {
        projects: vec!["acme/api".into()],
        token_env: NO_TOKEN.into(),
        status_labels: BTreeMap::from([("workflow::in progress".into(), "In Progress".into())]),
        custom_fields: BTreeMap::from([("weight".into(), "/item/weight".into())]),
        ..GitlabConfig::default()
    };
    GitlabSource::new(config, Tape::Off, Arc::new(LogObserver)).expect("a valid gitlab source")
}

fn generator() -> GeneratorSource {
    GeneratorSource::new("demo", GeneratorConfig::default())
}

/// Runs `cases` through a fresh `make()` source: lookups absorbed first (as a rebuild meets them), then
/// every record normalized.
fn run<S: Source>(
    make: impl Fn() -> S,
    cases: impl Strategy<Value = Vec<(String, Value)>>,
) -> Result<(), proptest::test_runner::TestError<Vec<(String, Value)>>> {
    runner().run(&cases, |records| {
        let mut source = make();
        let records: Vec<RawRecord> = records.into_iter().map(|(s, p)| record(&s, p)).collect();
        for r in records.iter().filter(|r| r.stream.starts_with('_')) {
            check(source.absorb(r))?;
        }
        for r in &records {
            check(source.normalize(r))?;
        }
        Ok(())
    })
}

/// Lookups and items together: a few mutated records per case.
fn batch(
    one: impl Strategy<Value = (String, Value)>,
) -> impl Strategy<Value = Vec<(String, Value)>> {
    prop::collection::vec(one, 1..4)
}

#[test]
fn github_normalizer_never_panics_on_mutated_payloads() {
    run(github, batch(mutated(github_seeds()))).unwrap();
}

#[test]
fn github_normalizer_never_panics_on_arbitrary_json() {
    let streams = &[
        "issues",
        "pull_requests",
        "deployments",
        "releases",
        "members",
    ];
    run(github, batch(arbitrary(streams))).unwrap();
}

#[test]
fn jira_normalizer_and_lookups_never_panic_on_mutated_payloads() {
    run(jira, batch(mutated(jira_seeds()))).unwrap();
}

#[test]
fn jira_normalizer_and_lookups_never_panic_on_arbitrary_json() {
    run(jira, batch(arbitrary(&["issues", "_statuses", "_fields"]))).unwrap();
}

#[test]
fn yandex_normalizer_and_lookups_never_panic_on_mutated_payloads() {
    run(yandex, batch(mutated(yandex_seeds()))).unwrap();
}

#[test]
fn yandex_normalizer_and_lookups_never_panic_on_arbitrary_json() {
    run(yandex, batch(arbitrary(&["issues", "_statuses", "_users"]))).unwrap();
}

#[test]
fn gitlab_normalizer_never_panics_on_mutated_payloads() {
    run(gitlab, batch(mutated(gitlab_seeds()))).unwrap();
}

#[test]
fn gitlab_normalizer_never_panics_on_arbitrary_json() {
    let streams = &["issues", "merge_requests", "deployments", "pipelines"];
    run(gitlab, batch(arbitrary(streams))).unwrap();
}

#[test]
fn generator_normalizer_never_panics_on_mutated_payloads() {
    run(generator, batch(mutated(generator_seeds()))).unwrap();
}

#[test]
fn generator_normalizer_never_panics_on_arbitrary_json() {
    run(generator, batch(arbitrary(&["issues"]))).unwrap();
}

/// The seeds are what the normalizers accept: mutations start from payloads that normalize.
#[test]
fn every_seed_payload_normalizes() {
    fn all<S: Source>(mut source: S, seeds: Vec<(&'static str, Value)>) {
        let records: Vec<RawRecord> = seeds.into_iter().map(|(s, p)| record(s, p)).collect();
        for r in records.iter().filter(|r| r.stream.starts_with('_')) {
            source.absorb(r).unwrap();
        }
        for r in &records {
            if let Err(e) = source.normalize(r) {
                panic!("{}: {e}", r.stream);
            }
        }
    }
    all(github(), github_seeds());
    all(jira(), jira_seeds());
    all(yandex(), yandex_seeds());
    all(gitlab(), gitlab_seeds());
    all(generator(), generator_seeds());
}

// ---------------------------------------------------------------------------------------------------------
// Regressions: inputs that panicked, kept by name.

/// Found by `yandex_normalizer_and_lookups_never_panic_on_mutated_payloads`: a worklog duration whose seconds
/// overflow an i64 ("attempt to add with overflow" in `parse_duration`). The worklog is left out.
#[test]
fn a_tracker_worklog_duration_that_overflows_is_skipped_not_a_panic() {
    let (_, mut payload) = yandex_seeds().remove(0);
    for duration in [
        "P99999999999999999999DT99999999999999999999H",
        "P9223372036854775807W",
        "PT9223372036854775807S",
    ] {
        payload["worklogs"][1]["duration"] = json!(duration);
        let n = yandex()
            .normalize(&record("issues", payload.clone()))
            .unwrap();
        let worklogs: Vec<&str> = n.histories[0]
            .worklogs
            .iter()
            .map(|w| w.id.as_str())
            .collect();
        assert_eq!(worklogs, ["30"], "{duration}");
    }
}
