//! A fake Yandex Tracker for tests and benchmarks (feature `fakes`): generated queues served on loopback
//! with the search (pages and scroll), Link-paged changelogs and status metadata, the organization header
//! required, faults injected on demand, and an added latency per request. Issue `DEV-1` replays the worked
//! example of tracker-exporter's per-status rows.
//!
//! Answers have the shape of the recorded ones (`tests/fixtures/yandex_tracker/`: an anonymised real issue and
//! user, and the answers yandex-cloud/docs documents), and paging works as the API reference says: a changelog
//! page carries two `Link` headers, `rel="first"` and `rel="next"` (`get-changelog.md`); a scroll page carries
//! `X-Scroll-Id` and `X-Scroll-Token` only while it is not the last, and `perScroll` is read from the first
//! request alone (`search-issues.md`). Every request is held to the parameters and headers Tracker documents and
//! every 2xx answer to the recordings ([`crate::contracts::recorded::yandex_tracker`]): a breach is answered
//! `400` with the reasons in `errorMessages` and kept, and the fake panics when dropped with breaches not taken
//! ([`FakeTracker::take_contract_violations`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Duration as Span, NaiveDateTime, TimeZone, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

/// What to generate.
#[derive(Debug, Clone)]
pub struct FakeTrackerSpec {
    /// Queue keys.
    pub queues: Vec<String>,
    /// Issues over all queues (the first is the worked example).
    pub issues: usize,
    /// Changelog entries per issue, about.
    pub entries_per_issue: usize,
    /// Seed.
    pub seed: u64,
    /// Latency added to every response.
    pub latency: Duration,
}

impl Default for FakeTrackerSpec {
    fn default() -> Self {
        Self {
            queues: vec!["DEV".into(), "SRE".into()],
            issues: 120,
            entries_per_issue: 8,
            seed: 5,
            latency: Duration::ZERO,
        }
    }
}

/// A fault for the `nth` request of an operation: see [`StatusFault`].
pub type TrackerFault = crate::fakes::StatusFault;

/// (key, display, type).
const STATUSES: [(&str, &str, &str); 4] = [
    ("open", "Open", "new"),
    ("inProgress", "In Progress", "inProgress"),
    ("review", "Review", "paused"),
    ("closed", "Closed", "done"),
];

#[derive(Debug, Clone)]
struct Issue {
    id: String,
    key: String,
    queue: String,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    status: usize,
    status_start: DateTime<Utc>,
    /// Whether the issue ever left its initial status.
    transitioned: bool,
    /// The status before the current one.
    previous: Option<usize>,
    changelog: Vec<Value>,
}

#[derive(Debug, Default)]
struct State {
    issues: Vec<Issue>,
    ledger: crate::fakes::Ledger<TrackerFault>,
    next_entry: u64,
    clock: i64,
    /// Breaches of Tracker's recorded contract seen so far.
    violations: Vec<String>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

fn at(s: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
        .map(|n| n.and_utc())
        .unwrap_or_default()
}

const PEOPLE: [(&str, &str); 3] = [("11", "Алиса"), ("12", "Борис"), ("13", "Вера")];

/// The API base the fake's `self` links name, as Tracker's do.
const API: &str = "https://api.tracker.yandex.net/v2";

/// A user reference as v2 writes it: `self`, `id`, `display`.
fn person((id, display): (&str, &str)) -> Value {
    json!({"self": format!("{API}/users/{id}"), "id": id, "display": display})
}

/// A changed field's reference: `self`, `id`, `display`.
fn field_ref(id: &str, display: &str) -> Value {
    json!({"self": format!("{API}/fields/{id}"), "id": id, "display": display})
}

/// An issue reference, as changelog entries and worklog records carry one.
fn issue_ref(i: &Issue) -> Value {
    json!({"self": format!("{API}/issues/{}", i.key), "id": i.id, "key": i.key, "display": format!("Задача {}", i.key)})
}

/// A status reference.
fn status_ref(n: usize) -> Value {
    let (key, display, _) = STATUSES[n];
    json!({"self": format!("{API}/statuses/{}", n + 1), "id": (n + 1).to_string(), "key": key, "display": display})
}

impl State {
    fn workflow(&mut self, issue: &mut Issue, when: DateTime<Utc>, to: usize) {
        self.next_entry += 1;
        let who = PEOPLE[self.next_entry as usize % PEOPLE.len()];
        // The first move out of the initial status has no `statusStartTime.from` in real data (tracker-exporter
        // 2.0.0, models/issue.py: "transition from the initial status", falling back to `createdAt`).
        let started = if issue.transitioned {
            json!(time(issue.status_start))
        } else {
            Value::Null
        };
        let id = format!("e{:06}", self.next_entry);
        let about = issue_ref(issue);
        issue.changelog.push(json!({
            "id": id, "self": format!("{API}/issues/{}/changelog/{id}", issue.key), "issue": about,
            "updatedAt": time(when), "updatedBy": person(who), "type": "IssueWorkflow", "transport": "front",
            "fields": [
                {"field": field_ref("status", "Статус"), "from": status_ref(issue.status), "to": status_ref(to)},
                {"field": field_ref("statusStartTime", "Статус изменен"), "from": started, "to": time(when)}
            ]
        }));
        issue.previous = Some(issue.status);
        issue.status = to;
        issue.status_start = when;
        issue.transitioned = true;
        issue.updated = when;
    }

    fn update(
        &mut self,
        issue: &mut Issue,
        when: DateTime<Utc>,
        field: &str,
        from: Value,
        to: Value,
    ) {
        self.entry(issue, when, "IssueUpdated", vec![(field, from, to)]);
    }

    /// Appends a changelog entry of `kind` changing `fields` (id, from, to).
    fn entry(
        &mut self,
        issue: &mut Issue,
        when: DateTime<Utc>,
        kind: &str,
        fields: Vec<(&str, Value, Value)>,
    ) {
        self.next_entry += 1;
        let who = PEOPLE[self.next_entry as usize % PEOPLE.len()];
        let fields: Vec<Value> = fields
            .into_iter()
            .map(|(id, from, to)| {
                let display = match id {
                    "assignee" => "Исполнитель",
                    "queue" => "Очередь",
                    "key" => "Ключ",
                    other => other,
                };
                json!({"field": field_ref(id, display), "from": from, "to": to})
            })
            .collect();
        let id = format!("e{:06}", self.next_entry);
        let about = issue_ref(issue);
        issue.changelog.push(json!({
            "id": id, "self": format!("{API}/issues/{}/changelog/{id}", issue.key), "issue": about,
            "updatedAt": time(when), "updatedBy": person(who), "type": kind, "transport": "front",
            "fields": fields
        }));
        issue.updated = when;
    }
}

fn generate(spec: &FakeTrackerSpec) -> State {
    let mut rng = SmallRng::seed_from_u64(spec.seed);
    let mut s = State::default();
    let mut numbers: BTreeMap<String, usize> = BTreeMap::new();
    for n in 0..spec.issues {
        let queue = spec.queues[n % spec.queues.len().max(1)].clone();
        let number = numbers.entry(queue.clone()).or_insert(0);
        *number += 1;
        let created = if n == 0 {
            at("2023-10-16 06:00")
        } else {
            Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0)
                .single()
                .unwrap_or_default()
                + Span::minutes(n as i64 * 83)
        };
        let mut issue = Issue {
            id: format!("6{n:07x}a1b2c3d4e5f6"),
            key: format!("{queue}-{number}"),
            queue,
            created,
            updated: created,
            status: 0,
            status_start: created,
            transitioned: false,
            previous: None,
            changelog: Vec::new(),
        };
        if n == 0 {
            // tracker-exporter's worked example.
            for (when, to) in [
                ("2023-10-16 08:30", 1),
                ("2023-10-17 12:00", 2),
                ("2023-10-18 10:00", 1),
                ("2023-10-19 09:00", 3),
            ] {
                s.workflow(&mut issue, at(when), to);
            }
            s.issues.push(issue);
            continue;
        }
        let mut when = created;
        let long = n % 15 == 0;
        let noise = if long {
            130
        } else {
            spec.entries_per_issue.saturating_sub(3)
        };
        for k in 0..noise {
            when += Span::minutes(rng.random_range(10..600));
            let (a, b) = (PEOPLE[k % 3], PEOPLE[(k + 1) % 3]);
            s.update(&mut issue, when, "assignee", person(a), person(b));
        }
        let mut path = vec![1, 2];
        if rng.random_bool(0.25) {
            path.extend([1, 2]);
        }
        if rng.random_bool(0.75) {
            path.push(3);
        }
        for to in path {
            when += Span::minutes(rng.random_range(60..3000));
            s.workflow(&mut issue, when, to);
        }
        s.issues.push(issue);
    }
    s
}

/// The running fake. Dropping it stops the server.
pub struct FakeTracker {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
    state: Arc<Mutex<State>>,
}

impl FakeTracker {
    /// Generates the organization and serves it on loopback.
    pub fn start(spec: &FakeTrackerSpec) -> Self {
        let state = Arc::new(Mutex::new(generate(spec)));
        let (runtime, server) = crate::fakes::serve(|base| Handler {
            state: state.clone(),
            latency: spec.latency,
            base,
        });
        Self {
            runtime,
            server,
            state,
        }
    }

    /// The API base URL.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Adds a fault.
    pub fn inject(&self, fault: TrackerFault) {
        lock(&self.state).ledger.inject(fault);
    }

    /// Moves issue `key` to `queue` (a new key, the same id, an `IssueMoved` changelog entry changing the queue
    /// and the key — the change type of yandex-cloud/docs en/tracker/concepts/issues/get-changelog.md); the
    /// status is kept, as `POST /v2/issues/{key}/_move` does without `InitialStatus`. Returns the new key.
    pub fn move_issue(&self, key: &str, queue: &str) -> Option<String> {
        let mut s = lock(&self.state);
        s.clock += 60;
        let when = at("2027-01-04 10:00") + Span::seconds(s.clock);
        let count = s.issues.iter().filter(|i| i.queue == queue).count();
        let n = s.issues.iter().position(|i| i.key == key)?;
        let mut issue = s.issues[n].clone();
        let new_key = format!("{queue}-{}", count + 1);
        let fields = vec![
            (
                "queue",
                json!({"self": format!("{API}/queues/{}", issue.queue), "id": "1", "key": issue.queue, "display": issue.queue}),
                json!({"self": format!("{API}/queues/{queue}"), "id": "2", "key": queue, "display": queue}),
            ),
            ("key", json!(issue.key), json!(new_key)),
        ];
        s.entry(&mut issue, when, "IssueMoved", fields);
        issue.key.clone_from(&new_key);
        issue.queue = queue.into();
        s.issues[n] = issue;
        Some(new_key)
    }

    /// Moves issue `key` to Review, now.
    pub fn review(&self, key: &str) {
        let mut s = lock(&self.state);
        s.clock += 60;
        let when = at("2027-01-04 10:00") + Span::seconds(s.clock);
        if let Some(n) = s.issues.iter().position(|i| i.key == key) {
            let mut issue = s.issues[n].clone();
            s.workflow(&mut issue, when, 2);
            s.issues[n] = issue;
        }
    }

    /// Requests answered so far, by operation and status.
    pub fn answered(&self) -> BTreeMap<(String, u16), u64> {
        lock(&self.state).ledger.answered()
    }

    /// The breaches of Tracker's recorded contract seen so far, taken: a request flowlake sent that the API
    /// reference does not allow, or an answer of the fake's that differs from the recorded ones.
    pub fn take_contract_violations(&self) -> Vec<String> {
        std::mem::take(&mut lock(&self.state).violations)
    }

    /// Every request received so far, in order, as `METHOD path?query`: for tests of what flowlake asks, beyond
    /// what the contract refuses.
    pub fn requests(&self) -> Vec<String> {
        let received = self
            .runtime
            .block_on(self.server.received_requests())
            .unwrap_or_default();
        received
            .iter()
            .map(|r| match r.url.query() {
                Some(q) => format!("{} {}?{q}", r.method, r.url.path()),
                None => format!("{} {}", r.method, r.url.path()),
            })
            .collect()
    }

    /// Forgets the counts.
    pub fn reset_counts(&self) {
        lock(&self.state).ledger.reset();
    }
}

/// A breach of the contract fails the test that caused it even where the source tolerated the `400`.
impl Drop for FakeTracker {
    fn drop(&mut self) {
        let violations = self.take_contract_violations();
        if !violations.is_empty() && !std::thread::panicking() {
            panic!(
                "the fake Tracker saw breaches of Tracker's recorded contract:\n{}",
                violations.join("\n")
            );
        }
    }
}

struct Handler {
    state: Arc<Mutex<State>>,
    latency: Duration,
    /// `http://127.0.0.1:PORT`, for Link headers.
    base: String,
}

/// An issue as the search returns it: the keys of the recorded issue
/// (`tests/fixtures/yandex_tracker/recorded/issues.json`) in v2's shape, the fields without a value left out as
/// Tracker leaves them out (no `resolvedAt` before resolution, no `previousStatus` before a transition), plus
/// `tags`.
fn issue_json(i: &Issue) -> Value {
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
fn comments(i: &Issue) -> Vec<Value> {
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
fn worklog(i: &Issue) -> Vec<Value> {
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

impl Handler {
    /// Issues updated at or after the query's bound, oldest update first.
    fn matching<'a>(s: &'a State, body: &Value) -> Vec<&'a Issue> {
        let query = body["query"].as_str().unwrap_or_default();
        let bound = query
            .split("Updated: >= \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok())
            .map(|n| n.and_utc());
        let mut found: Vec<&Issue> = s
            .issues
            .iter()
            .filter(|i| bound.is_none_or(|b| i.updated >= b))
            .collect();
        found.sort_by_key(|i| (i.updated, i.id.clone()));
        found
    }

    fn answer(&self, s: &State, req: &Request) -> crate::fakes::Answer {
        let q: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        let num = |k: &str, d: usize| q.get(k).and_then(|x| x.parse().ok()).unwrap_or(d);
        let path = req.url.path().to_string();
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let org = req
            .headers
            .get("x-org-id")
            .or(req.headers.get("x-cloud-org-id"));
        if org.is_none() {
            return (
                "unknown".into(),
                401,
                vec![],
                json!({"errors": {}, "errorMessages": ["Organization is not specified"], "statusCode": 401}),
            );
        }
        match parts.as_slice() {
            ["v2", "statuses"] => (
                "statuses".into(),
                200,
                vec![],
                Value::from(
                    STATUSES
                        .iter()
                        .enumerate()
                        .map(|(n, (k, d, t))| json!({"id": n + 1, "key": k, "name": d, "display": d, "type": t}))
                        .collect::<Vec<_>>(),
                ),
            ),
            ["v2", "issues", "_search"] => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                let found = Self::matching(s, &body);
                if q.contains_key("scrollType") || q.contains_key("scrollId") {
                    // The scroll id carries where the next page starts and the page size of the first request
                    // (`perScroll` is read from the first request only: search-issues.md).
                    let (per, from) = q
                        .get("scrollId")
                        .and_then(|id| id.strip_prefix("scroll-"))
                        .and_then(|rest| rest.split_once('-'))
                        .and_then(|(per, from)| Some((per.parse().ok()?, from.parse().ok()?)))
                        .unwrap_or((num("perScroll", 100), 0usize));
                    let end = (from + per).min(found.len());
                    let issues: Vec<Value> =
                        found[from.min(end)..end].iter().map(|i| issue_json(i)).collect();
                    let ttl = num("scrollTTLMillis", 60_000);
                    let mut headers = vec![
                        ("x-total-count".to_string(), found.len().to_string()),
                        (
                            "link".to_string(),
                            format!("<{}/v2/issues/_search?scrollType=sorted&scrollTTLMillis={ttl}&perScroll={per}>; rel=\"first\"", self.base),
                        ),
                    ];
                    // X-Scroll-Id and X-Scroll-Token only while the page is not the last (search-issues.md:
                    // "Если запрошенная страница не является последней, также возвращаются заголовки").
                    if end < found.len() {
                        let id = format!("scroll-{per}-{end}");
                        headers.push((
                            "link".to_string(),
                            format!("<{}/v2/issues/_search?scrollTTLMillis={ttl}&scrollId={id}&scrollToken=c44356850f446b88e5b5cd65a34a1409>; rel=\"next\"", self.base),
                        ));
                        headers.push(("x-scroll-id".to_string(), id));
                        headers.push(("x-scroll-token".to_string(), "c44356850f446b88e5b5cd65a34a1409".to_string()));
                    }
                    return ("search".into(), 200, headers, Value::from(issues));
                }
                let per = num("perPage", 50);
                let page = num("page", 1).max(1);
                let from = (page - 1) * per;
                let end = (from + per).min(found.len()).min(10_000);
                let issues: Vec<Value> =
                    found[from.min(end)..end].iter().map(|i| issue_json(i)).collect();
                let pages = found.len().min(10_000).div_ceil(per.max(1));
                (
                    "search".into(),
                    200,
                    vec![
                        ("x-total-count".into(), found.len().to_string()),
                        ("x-total-pages".into(), pages.to_string()),
                    ],
                    Value::from(issues),
                )
            }
            ["v2", "users"] => {
                let users: Vec<Value> = PEOPLE
                    .iter()
                    .map(|(id, name)| {
                        let login = format!("user{id}");
                        json!({"self": format!("https://api.tracker.yandex.net/v2/users/{id}"), "uid": id.parse::<u64>().unwrap_or(0),
                               "login": login, "trackerUid": id.parse::<u64>().unwrap_or(0), "passportUid": id.parse::<u64>().unwrap_or(0),
                               "firstName": name, "lastName": "", "display": name, "email": format!("{login}@Example.ru"),
                               "external": false, "hasLicense": true, "dismissed": false, "useNewFilters": true,
                               "disableNotifications": false, "firstLoginDate": "2025-01-10T09:00:00.000+0000",
                               "lastLoginDate": "2026-03-01T09:00:00.000+0000", "welcomeMailSent": true,
                               "sources": ["directory"]})
                    })
                    .collect();
                let per = num("perPage", 50).max(1);
                let page = num("page", 1).max(1);
                let from = ((page - 1) * per).min(users.len());
                let end = (from + per).min(users.len());
                (
                    "users".into(),
                    200,
                    vec![
                        ("x-total-count".into(), users.len().to_string()),
                        ("x-total-pages".into(), users.len().div_ceil(per).to_string()),
                    ],
                    Value::from(users[from..end].to_vec()),
                )
            }
            ["v2", "issues", key, what @ ("comments" | "worklog")] => {
                match s.issues.iter().find(|i| i.key == *key) {
                    None => (
                        (*what).into(),
                        404,
                        vec![],
                        json!({"errors": {}, "errorMessages": ["Задача не существует."], "statusCode": 404}),
                    ),
                    Some(i) => {
                        let list = if *what == "comments" { comments(i) } else { worklog(i) };
                        ((*what).into(), 200, vec![], Value::from(list))
                    }
                }
            }
            ["v2", "issues", key, "changelog"] => match s.issues.iter().find(|i| i.key == *key) {
                None => (
                    "changelog".into(),
                    404,
                    vec![],
                    json!({"errors": {}, "errorMessages": ["Задача не существует."], "statusCode": 404}),
                ),
                Some(i) => {
                    let per = num("perPage", 50);
                    let after = q.get("id").cloned();
                    let start = after
                        .and_then(|a| i.changelog.iter().position(|e| e["id"] == a.as_str()).map(|p| p + 1))
                        .unwrap_or(0);
                    let end = (start + per).min(i.changelog.len());
                    let page = i.changelog[start.min(end)..end].to_vec();
                    // Two Link headers, the first page's and the next page's, as get-changelog.md shows them.
                    let mut headers = vec![(
                        "link".to_string(),
                        format!("<{}/v2/issues/{key}/changelog?perPage={per}>; rel=\"first\"", self.base),
                    )];
                    if end < i.changelog.len() {
                        let last = page.last().and_then(|e| e["id"].as_str()).unwrap_or_default();
                        headers.push((
                            "link".to_string(),
                            format!(
                                "<{}/v2/issues/{key}/changelog?id={last}&perPage={per}>; rel=\"next\"",
                                self.base
                            ),
                        ));
                    }
                    ("changelog".into(), 200, headers, Value::from(page))
                }
            },
            _ => (
                "unknown".into(),
                404,
                vec![],
                json!({"errors": {}, "errorMessages": ["Not found"], "statusCode": 404}),
            ),
        }
    }
}

/// Tracker's recorded contract, checked on every exchange: the request must be one of the endpoints flowlake
/// calls, with documented parameters and one organization header, and a 2xx answer must have the recorded
/// answers' shape.
fn tracker_contract(
    req: &Request,
    answer: impl FnOnce() -> crate::fakes::Answer,
) -> Result<crate::fakes::Answer, Vec<String>> {
    use crate::contracts::recorded::{check_request, check_response, yandex_tracker};
    let target = match req.url.query() {
        Some(q) => format!("{}?{q}", req.url.path()),
        None => req.url.path().to_string(),
    };
    let said = |what: &str, errors: Vec<String>| {
        errors
            .into_iter()
            .map(|e| format!("{what} Tracker's recorded contract ({target}): {e}"))
            .collect::<Vec<_>>()
    };
    let header = |name: &str| {
        req.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let endpoint = check_request(yandex_tracker(), req.method.as_str(), &target, &header)
        .map_err(|e| said("flowlake's request breaks", e))?;
    let (name, status, headers, body) = answer();
    if (200..300).contains(&status) {
        check_response(yandex_tracker(), endpoint, &body)
            .map_err(|e| said("the fake's answer breaks", e))?;
    }
    Ok((name, status, headers, body))
}

impl Handler {
    /// Turns an answer into a stuck pager's: a scroll hands back the scroll id it was given (the first one
    /// leading to the first page again), page numbers are ignored (always the first page), and a list paged
    /// by `Link` links back to the same request.
    fn stick(
        &self,
        s: &State,
        req: &Request,
        text: &mut String,
        headers: &mut Vec<(String, String)>,
    ) {
        let q: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        if req.url.path().ends_with("/_search") {
            if q.contains_key("scrollType") || q.contains_key("scrollId") {
                // The first page's scroll id again: `scroll-{page size}-{start}`, as the answer writes it.
                let id = q.get("scrollId").cloned().unwrap_or_else(|| {
                    let per = q.get("perScroll").map_or("100", String::as_str);
                    format!("scroll-{per}-0")
                });
                headers.retain(|(k, _)| k != "x-scroll-id");
                headers.push(("x-scroll-id".into(), id));
            } else {
                let mut first = req.clone();
                let pairs: Vec<(String, String)> =
                    q.into_iter().filter(|(k, _)| k != "page").collect();
                first.url.query_pairs_mut().clear().extend_pairs(pairs);
                let (_, _, h, body) = self.answer(s, &first);
                *text = body.to_string();
                *headers = h;
            }
            return;
        }
        headers.retain(|(k, _)| k != "link");
        headers.push((
            "link".into(),
            format!("<{}>; rel=\"next\"", self_url(&self.base, req)),
        ));
    }
}

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = lock(&self.state);
        let (op, mut status, headers, body) = match tracker_contract(req, || self.answer(&s, req)) {
            Ok(answer) => answer,
            Err(errors) => {
                let body = json!({"errors": {}, "errorMessages": errors, "statusCode": 400});
                s.violations.extend(errors);
                ("contract".into(), 400, Vec::new(), body)
            }
        };
        let fault = s.ledger.take(&op);
        let mut text = body.to_string();
        let mut extra = headers;
        match fault.map(|f| f.status) {
            Some(crate::fakes::STUCK_PAGES) if status == 200 => {
                self.stick(&s, req, &mut text, &mut extra);
            }
            Some(crate::fakes::STUCK_PAGES) => {}
            Some(0) => text.truncate(text.len() / 2),
            Some(code) => {
                status = code;
                extra.clear();
                if code == 429 {
                    extra.push(("retry-after".into(), "1".into()));
                }
                text = json!({"errors": {}, "errorMessages": ["Too many requests or server error"], "statusCode": code}).to_string();
            }
            None => {}
        }
        s.ledger.count(op, status);
        let mut t = ResponseTemplate::new(status)
            .set_body_raw(text.into_bytes(), "application/json; charset=utf-8")
            .set_delay(self.latency);
        // Appended, not inserted: Tracker sends `Link` twice (first and next).
        for (k, v) in &extra {
            t = t.append_header(k.as_str(), v.as_str());
        }
        t
    }
}

/// The URL `req` asked for, on the fake's own address (wiremock's `req.url` names `localhost`).
fn self_url(base: &str, req: &Request) -> String {
    match req.url.query() {
        Some(q) => format!("{base}{}?{q}", req.url.path()),
        None => format!("{base}{}", req.url.path()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(status, headers by lower-case name with every value, body)` of one request to the fake.
    fn send(method: &str, url: &str, org: bool) -> (u16, BTreeMap<String, Vec<String>>, Value) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let client = reqwest::Client::new();
            let mut r = if method == "POST" {
                client
                    .post(url)
                    .body(r#"{"query": "\"Sort By\": Updated ASC"}"#)
            } else {
                client.get(url)
            };
            if org {
                r = r
                    .header("X-Org-ID", "123")
                    .header("Authorization", "OAuth t");
            }
            let r = r.send().await.expect("the fake answers");
            let status = r.status().as_u16();
            let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (k, v) in r.headers() {
                headers
                    .entry(k.as_str().to_string())
                    .or_default()
                    .push(v.to_str().unwrap_or_default().to_string());
            }
            let body = r.text().await.expect("a body");
            (
                status,
                headers,
                serde_json::from_str(&body).unwrap_or(Value::Null),
            )
        })
    }

    #[test]
    fn every_answer_of_the_fake_tracker_fits_the_recorded_contract() {
        let fake = FakeTracker::start(&FakeTrackerSpec::default());
        for (method, path) in [
            ("GET", "/v2/statuses"),
            ("GET", "/v2/users?perPage=100&page=1"),
            ("POST", "/v2/issues/_search?perPage=50&page=1"),
            (
                "POST",
                "/v2/issues/_search?scrollType=sorted&perScroll=50&scrollTTLMillis=60000",
            ),
            ("GET", "/v2/issues/DEV-1/changelog?perPage=100"),
            ("GET", "/v2/issues/DEV-1/comments?perPage=100"),
            ("GET", "/v2/issues/DEV-1/worklog"),
            ("GET", "/v2/issues/SRE-8/changelog?perPage=100"),
        ] {
            let (status, _, body) = send(method, &format!("{}{path}", fake.uri()), true);
            assert_eq!(status, 200, "{path}: {body}");
        }
        assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
    }

    #[test]
    fn a_changelog_page_carries_two_link_headers_first_and_next() {
        let fake = FakeTracker::start(&FakeTrackerSpec::default());
        // SRE-8 is issue 15, whose changelog is long.
        let (_, headers, body) = send(
            "GET",
            &format!("{}/v2/issues/SRE-8/changelog?perPage=20", fake.uri()),
            true,
        );
        let links = &headers["link"];
        assert_eq!(links.len(), 2, "{links:?}");
        assert!(links[0].ends_with("rel=\"first\""), "{links:?}");
        assert!(links[1].ends_with("rel=\"next\""), "{links:?}");
        let last = body.as_array().and_then(|a| a.last()).expect("entries");
        assert!(links[1].contains(&format!("id={}", last["id"].as_str().unwrap_or_default())));
        assert!(fake.take_contract_violations().is_empty());
    }

    #[test]
    fn the_last_scroll_page_carries_no_scroll_id_and_later_pages_keep_the_first_page_size() {
        let fake = FakeTracker::start(&FakeTrackerSpec::default());
        let (_, headers, body) = send(
            "POST",
            &format!(
                "{}/v2/issues/_search?scrollType=sorted&perScroll=100&scrollTTLMillis=60000",
                fake.uri()
            ),
            true,
        );
        assert_eq!(body.as_array().map(Vec::len), Some(100));
        let id = headers["x-scroll-id"][0].clone();
        assert_eq!(headers["link"].len(), 2);
        let (status, headers, body) = send(
            "POST",
            &format!(
                "{}/v2/issues/_search?scrollId={id}&scrollTTLMillis=60000",
                fake.uri()
            ),
            true,
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(body.as_array().map(Vec::len), Some(20));
        assert!(!headers.contains_key("x-scroll-id"), "{headers:?}");
        assert!(!headers.contains_key("x-scroll-token"), "{headers:?}");
        assert!(fake.take_contract_violations().is_empty());
    }

    #[test]
    fn a_tracker_request_the_reference_does_not_allow_is_refused_with_the_reason() {
        let fake = FakeTracker::start(&FakeTrackerSpec::default());
        let (status, _, body) = send(
            "POST",
            &format!(
                "{}/v2/issues/_search?scrollId=scroll-100-100&perScroll=100",
                fake.uri()
            ),
            true,
        );
        assert_eq!(status, 400);
        assert!(
            body["errorMessages"][0]
                .as_str()
                .is_some_and(|m| m.contains("`perScroll` is not a parameter")),
            "{body}"
        );
        let (status, _, _) = send("GET", &format!("{}/v2/statuses", fake.uri()), false);
        assert_eq!(status, 400, "no organization header");
        assert_eq!(fake.take_contract_violations().len(), 2);
    }
}
