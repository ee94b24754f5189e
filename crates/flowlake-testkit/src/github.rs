//! A fake GitHub for tests and benchmarks: a generated organization served on
//! loopback through the same endpoints and shapes as the real API — the GraphQL queries the connector
//! sends, the REST change probe with ETags and 304s, the organization's repository list with Link pages,
//! rate-limit headers — plus faults injected on demand (502s, secondary rate limits, bodies cut mid-JSON,
//! items deleted between pages) and an added latency per request.
//!
//! Both APIs are held to GitHub's published contracts: a GraphQL document is checked against GitHub's schema
//! and the fake's data executed against it ([`crate::contracts::graphql`]); every REST request is matched to
//! an operation of GitHub's OpenAPI document, and every 2xx REST body validated against its response schema
//! ([`crate::contracts::openapi`]), so the REST bodies are whole GitHub objects, not the fields flowlake reads.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

/// What to generate.
#[derive(Debug, Clone)]
pub struct FakeOrgSpec {
    /// Organization login.
    pub org: String,
    /// Repositories, named `repo-00`, `repo-01`, …
    pub repos: usize,
    /// Issues over all repositories.
    pub issues: usize,
    /// Pull requests over all repositories.
    pub pull_requests: usize,
    /// Timeline events per item, about.
    pub events_per_item: usize,
    /// Deployments per repository.
    pub deployments_per_repo: usize,
    /// Releases per repository.
    pub releases_per_repo: usize,
    /// Seed; the same seed gives the same organization.
    pub seed: u64,
    /// Latency added to every response.
    pub latency: Duration,
}

impl Default for FakeOrgSpec {
    fn default() -> Self {
        Self {
            org: "acme".into(),
            repos: 2,
            issues: 250,
            pull_requests: 120,
            events_per_item: 8,
            deployments_per_repo: 12,
            releases_per_repo: 6,
            seed: 7,
            latency: Duration::ZERO,
        }
    }
}

/// A fault served instead of the normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// `502 Bad Gateway`.
    BadGateway,
    /// `403` with GitHub's secondary-limit message and `Retry-After: seconds`.
    SecondaryRateLimit(u64),
    /// `429` of a spent primary limit: `x-ratelimit-remaining: 0` and `x-ratelimit-reset` this many seconds
    /// ahead, the headers and message GitHub documents ("Rate limits for the REST API": "If you exceed your
    /// primary rate limit, you will receive a 403 or 429 response, and the x-ratelimit-remaining header will
    /// be 0"; GraphQL's limit answers the same way).
    PrimaryRateLimit(u64),
    /// `401` with GitHub's `Bad credentials` body: the `requires_authentication` response of GitHub's
    /// OpenAPI document (`basic-error`: `message`, `documentation_url`), as GitHub answers a token it does
    /// not accept on REST and on `/graphql` alike.
    BadCredentials,
    /// The normal body, cut in the middle.
    Truncated,
    /// The normal answer, after which this item (`repo`, `number`) is deleted.
    DeleteAfter(String, i64),
    /// A pager that stops advancing, from this request of the operation on (sticky): a GraphQL connection
    /// answers `hasNextPage: true` with the `endCursor` it was asked with (`null` on a first page) and no
    /// nodes, as in issue 16's report; a REST list keeps its body and adds `Link: <the same URL>; rel="next"`.
    StuckCursor,
}

/// A fault for the `nth` (0-based) request of an operation (`IssuesPage`, `PullRequestsPage`,
/// `RestOfItem`, `probe`, `repos`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Operation.
    pub op: String,
    /// Which of its requests, counted from 0 over the server's life.
    pub nth: usize,
    /// What happens.
    pub kind: FaultKind,
}

impl crate::shared::KeyedFault for Fault {
    fn op(&self) -> &str {
        &self.op
    }
    fn nth(&self) -> usize {
        self.nth
    }
    fn sticky(&self) -> bool {
        self.kind == FaultKind::StuckCursor
    }
}

/// Makes the first connection of a GraphQL answer (the one the query pages: `data.repository.issues`,
/// `data.node.timelineItems`, `data.search`) claim another page at `after`, the cursor it was asked with,
/// holding nothing.
fn stick(answer: &mut Value, after: &Value) -> bool {
    match answer {
        Value::Object(o) if o.contains_key("pageInfo") => {
            o.insert(
                "pageInfo".into(),
                json!({"hasNextPage": true, "endCursor": after}),
            );
            o.insert("nodes".into(), json!([]));
            true
        }
        Value::Object(o) => o.values_mut().any(|v| stick(v, after)),
        _ => false,
    }
}

#[derive(Debug, Clone)]
struct Item {
    number: i64,
    pull_request: bool,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    state: &'static str,
    draft: bool,
    events: Vec<Value>,
    reviews: Vec<Value>,
    comments: Vec<Value>,
    /// The node id it had before a transfer (GitHub keeps an issue's node id when it moves).
    node: Option<String>,
}

/// A deployment: id, creation time, statuses `(state, at)` oldest first.
#[derive(Debug, Clone)]
struct FakeDeployment {
    id: i64,
    created: DateTime<Utc>,
    statuses: Vec<(&'static str, DateTime<Utc>)>,
}

#[derive(Debug, Default)]
struct State {
    org: String,
    repos: BTreeMap<String, Vec<Item>>,
    deployments: BTreeMap<String, Vec<FakeDeployment>>,
    /// Per repository: (id, created) of each release.
    releases: BTreeMap<String, Vec<(i64, DateTime<Utc>)>>,
    ledger: crate::shared::Ledger<Fault>,
    remaining: i64,
    clock: i64,
    /// Breaches of GitHub's REST contract seen so far (see [`rest_contract`]).
    violations: Vec<String>,
}

/// The running fake. Dropping it stops the server.
pub struct FakeGithub {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl FakeGithub {
    /// Generates the organization and starts serving it on loopback, on a runtime of its own so blocking
    /// callers (the CLI, the engine) can use it from any thread.
    pub fn start(spec: &FakeOrgSpec) -> Self {
        let state = Arc::new(Mutex::new(generate(spec)));
        let (runtime, server) = crate::shared::serve(|base| Handler {
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

    /// `http://127.0.0.1:PORT`: the REST base URL; GraphQL is at `/graphql`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Every request received so far, in order, with its body: what the tests assert a source asked for
    /// (a cursor in a query or in a GraphQL document's variables).
    pub fn received(&self) -> Vec<crate::shared::Received> {
        crate::shared::received(&self.runtime, &self.server)
    }

    /// `owner/name` of every repository.
    pub fn repos(&self) -> Vec<String> {
        lock(&self.state).repos.keys().cloned().collect()
    }

    /// Issues and pull requests stored now.
    pub fn item_count(&self) -> usize {
        lock(&self.state).repos.values().map(Vec::len).sum()
    }

    /// Adds a fault.
    pub fn inject(&self, fault: Fault) {
        lock(&self.state).ledger.inject(fault);
    }

    /// Labels item `number` of `repo` (a new timeline event, a new `updatedAt`), as a user would.
    pub fn touch(&self, repo: &str, number: i64, label: &str) {
        let mut s = lock(&self.state);
        s.clock += 60;
        // After every generated time, which ends within 2026.
        let at = base() + Span::days(540) + Span::seconds(s.clock);
        if let Some(item) = s
            .repos
            .get_mut(repo)
            .and_then(|items| items.iter_mut().find(|i| i.number == number))
        {
            item.updated = at;
            item.events.push(json!({"__typename": "LabeledEvent", "createdAt": at, "actor": user("dora"), "label": {"name": label}}));
        }
    }

    /// Transfers issue `number` of `from` to repository `to`, as GitHub does: a new number there, the same
    /// node id, a `TransferredEvent`; `from` no longer lists it. Returns the new number.
    pub fn transfer(&self, from: &str, number: i64, to: &str) -> Option<i64> {
        let mut s = lock(&self.state);
        s.clock += 60;
        let at = base() + Span::days(540) + Span::seconds(s.clock);
        let list = s.repos.get_mut(from)?;
        let pos = list
            .iter()
            .position(|i| i.number == number && !i.pull_request)?;
        let mut item = list.remove(pos);
        item.node = Some(node_id(from, &item));
        let target = s.repos.get_mut(to)?;
        item.number = target.iter().map(|i| i.number).max().unwrap_or(0) + 1;
        item.updated = at;
        item.events.push(json!({"__typename": "TransferredEvent", "createdAt": at, "actor": user("dora"), "fromRepository": {"nameWithOwner": from}}));
        let n = item.number;
        target.push(item);
        Some(n)
    }

    /// Records a new successful deployment of `repo`.
    pub fn deploy(&self, repo: &str) {
        let mut s = lock(&self.state);
        s.clock += 60;
        let at = base() + Span::days(540) + Span::seconds(s.clock);
        if let Some(list) = s.deployments.get_mut(repo) {
            let id = list.iter().map(|d| d.id).max().unwrap_or(0) + 1;
            list.push(FakeDeployment {
                id,
                created: at,
                statuses: vec![("SUCCESS", at + Span::minutes(5))],
            });
        }
    }

    /// Requests answered so far, by operation and status.
    pub fn answered(&self) -> BTreeMap<(String, u16), u64> {
        lock(&self.state).ledger.answered()
    }

    /// Requests answered so far with any status.
    pub fn total_requests(&self) -> u64 {
        lock(&self.state).ledger.total()
    }

    /// Forgets the counts.
    pub fn reset_counts(&self) {
        lock(&self.state).ledger.reset();
    }

    /// The runtime the server runs on.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// The breaches of GitHub's REST contract seen so far, taken: a request flowlake sent that GitHub's
    /// OpenAPI document does not allow, or an answer of the fake's that it does not.
    pub fn take_contract_violations(&self) -> Vec<String> {
        std::mem::take(&mut lock(&self.state).violations)
    }
}

/// A breach of the REST contract fails the test that caused it even where the source tolerated the `400`:
/// the fake panics when dropped with breaches not taken (see [`FakeGithub::take_contract_violations`]).
impl Drop for FakeGithub {
    fn drop(&mut self) {
        let violations = self.take_contract_violations();
        if !violations.is_empty() && !std::thread::panicking() {
            panic!(
                "the fake GitHub saw breaches of GitHub's REST contract:\n{}",
                violations.join("\n")
            );
        }
    }
}

/// The generated history starts here and ends within 2026.
fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
        .single()
        .expect("a valid time")
}

const PEOPLE: [&str; 6] = ["alice", "bob", "carol", "dmitri", "erin", "farid"];

fn generate(spec: &FakeOrgSpec) -> State {
    let mut rng = SmallRng::seed_from_u64(spec.seed);
    let mut repos: BTreeMap<String, Vec<Item>> = (0..spec.repos.max(1))
        .map(|i| (format!("{}/repo-{i:02}", spec.org), Vec::new()))
        .collect();
    let names: Vec<String> = repos.keys().cloned().collect();
    let total = spec.issues + spec.pull_requests;
    let span = 290 * 86_400i64;
    for n in 0..total {
        let repo = &names[n % names.len()];
        let items = repos.get_mut(repo).expect("a generated repository");
        let number = items.len() as i64 + 1;
        let created = base() + Span::seconds(span * n as i64 / total.max(1) as i64);
        let pull_request = n % total.max(1) >= spec.issues;
        let mut item = if pull_request {
            pull_request_item(&mut rng, number, created, spec.events_per_item)
        } else {
            issue_item(&mut rng, number, created, spec.events_per_item)
        };
        item.comments = (1..=2)
            .map(|k| {
                json!({"id": format!("IC_{repo}_{number}_{k}"), "createdAt": created + Span::hours(k * 3), "author": who(&mut rng)})
            })
            .collect();
        items.push(item);
    }
    let deployments = names
        .iter()
        .enumerate()
        .map(|(r, repo)| {
            let list = (0..spec.deployments_per_repo)
                .map(|k| {
                    let created = base()
                        + Span::seconds(span * k as i64 / spec.deployments_per_repo.max(1) as i64)
                        + Span::minutes(r as i64 * 7);
                    let ok = rng.random_bool(0.85);
                    let end = created + Span::minutes(rng.random_range(3..40));
                    FakeDeployment {
                        id: (r * 100_000 + k) as i64 + 1,
                        created,
                        statuses: vec![
                            ("IN_PROGRESS", created + Span::minutes(1)),
                            (if ok { "SUCCESS" } else { "FAILURE" }, end),
                        ],
                    }
                })
                .collect();
            (repo.clone(), list)
        })
        .collect();
    let releases = names
        .iter()
        .enumerate()
        .map(|(r, repo)| {
            let list = (0..spec.releases_per_repo)
                .map(|k| {
                    let created = base()
                        + Span::seconds(span * k as i64 / spec.releases_per_repo.max(1) as i64)
                        + Span::hours(r as i64 * 5 + 30);
                    ((r * 1000 + k) as i64 + 1, created)
                })
                .collect();
            (repo.clone(), list)
        })
        .collect();
    State {
        org: spec.org.clone(),
        repos,
        deployments,
        releases,
        remaining: 5000,
        ..State::default()
    }
}

/// A user as an `Actor`, `Assignee` or `RequestedReviewer`: those are interfaces and unions, so GitHub's
/// answer (and the fake's data, see [`as_github_answers`]) names the concrete type.
fn user(login: &str) -> Value {
    json!({"__typename": "User", "login": login})
}

fn who(rng: &mut SmallRng) -> Value {
    user(PEOPLE[rng.random_range(0..PEOPLE.len())])
}

fn step(rng: &mut SmallRng, at: &mut DateTime<Utc>) -> DateTime<Utc> {
    *at += Span::minutes(rng.random_range(20..3000));
    *at
}

fn noise(rng: &mut SmallRng, at: &mut DateTime<Utc>, events: &mut Vec<Value>, n: usize) {
    for k in 0..n {
        let t = step(rng, at);
        let kind = if k % 2 == 0 {
            "LabeledEvent"
        } else {
            "UnlabeledEvent"
        };
        events.push(json!({"__typename": kind, "createdAt": t, "actor": who(rng), "label": {"name": format!("area: {}", k / 2 % 3)}}));
    }
}

fn issue_item(rng: &mut SmallRng, number: i64, created: DateTime<Utc>, per_item: usize) -> Item {
    let mut at = created;
    let mut events = Vec::new();
    let t = step(rng, &mut at);
    events.push(json!({"__typename": "AssignedEvent", "createdAt": t, "actor": who(rng), "assignee": who(rng)}));
    let t = step(rng, &mut at);
    events.push(json!({"__typename": "LabeledEvent", "createdAt": t, "actor": who(rng), "label": {"name": "status: in progress"}}));
    noise(rng, &mut at, &mut events, per_item.saturating_sub(5));
    let t = step(rng, &mut at);
    events.push(json!({"__typename": "LabeledEvent", "createdAt": t, "actor": who(rng), "label": {"name": "status: review"}}));
    let closed = rng.random_bool(0.75);
    if closed {
        let t = step(rng, &mut at);
        events.push(json!({"__typename": "UnlabeledEvent", "createdAt": t, "actor": who(rng), "label": {"name": "status: review"}}));
        let t = step(rng, &mut at);
        let reason = if rng.random_bool(0.1) {
            "NOT_PLANNED"
        } else {
            "COMPLETED"
        };
        events.push(json!({"__typename": "ClosedEvent", "createdAt": t, "actor": who(rng), "stateReason": reason}));
    }
    Item {
        number,
        pull_request: false,
        created,
        updated: at,
        state: if closed { "CLOSED" } else { "OPEN" },
        draft: false,
        events,
        reviews: Vec::new(),
        comments: Vec::new(),
        node: None,
    }
}

fn pull_request_item(
    rng: &mut SmallRng,
    number: i64,
    created: DateTime<Utc>,
    per_item: usize,
) -> Item {
    let mut at = created;
    let mut events = Vec::new();
    let mut reviews = Vec::new();
    let started_draft = rng.random_bool(0.3);
    if started_draft {
        let t = step(rng, &mut at);
        events
            .push(json!({"__typename": "ReadyForReviewEvent", "createdAt": t, "actor": who(rng)}));
    }
    let t = step(rng, &mut at);
    events.push(json!({"__typename": "ReviewRequestedEvent", "createdAt": t, "actor": who(rng), "requestedReviewer": who(rng)}));
    noise(rng, &mut at, &mut events, per_item.saturating_sub(4));
    let t = step(rng, &mut at);
    reviews.push(json!({"id": format!("PRR_{number}_1"), "state": "CHANGES_REQUESTED", "submittedAt": t, "author": who(rng)}));
    let t = step(rng, &mut at);
    reviews.push(json!({"id": format!("PRR_{number}_2"), "state": "APPROVED", "submittedAt": t, "author": who(rng)}));
    let outcome = rng.random_range(0..10);
    let state = match outcome {
        0..=6 => {
            let t = step(rng, &mut at);
            events.push(json!({"__typename": "MergedEvent", "createdAt": t, "actor": who(rng)}));
            events.push(json!({"__typename": "ClosedEvent", "createdAt": t, "actor": who(rng)}));
            "MERGED"
        }
        7 => {
            let t = step(rng, &mut at);
            events.push(json!({"__typename": "ClosedEvent", "createdAt": t, "actor": who(rng)}));
            "CLOSED"
        }
        _ => "OPEN",
    };
    Item {
        number,
        pull_request: true,
        created,
        updated: at,
        state,
        draft: false,
        events,
        reviews,
        comments: Vec::new(),
        node: None,
    }
}

fn node_id(repo: &str, item: &Item) -> String {
    if let Some(n) = &item.node {
        return n.clone();
    }
    let kind = if item.pull_request { "PR" } else { "I" };
    format!("{kind}_{repo}_{}", item.number)
}

/// A connection page of `all`, from offset `from`, `first` long; the cursor is the offset, opaque to
/// clients.
fn page_of(all: &[Value], from: usize, first: usize) -> Value {
    let end = (from + first).min(all.len());
    let nodes = all.get(from..end).unwrap_or_default();
    json!({
        "pageInfo": {"hasNextPage": end < all.len(), "endCursor": if end > from { json!(format!("o{end}")) } else { Value::Null }},
        "nodes": nodes
    })
}

fn offset(after: &Value) -> usize {
    after
        .as_str()
        .and_then(|a| a.strip_prefix('o'))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The GraphQL type of an item.
fn typename(item: &Item) -> &'static str {
    if item.pull_request {
        "PullRequest"
    } else {
        "Issue"
    }
}

fn node_json(repo: &str, item: &Item) -> Value {
    let mut v = json!({
        "id": node_id(repo, item),
        "number": item.number,
        "title": format!("{} {}", if item.pull_request { "Change" } else { "Problem" }, item.number),
        "state": item.state,
        "url": format!("https://github.com/{repo}/{}/{}", if item.pull_request { "pull" } else { "issues" }, item.number),
        "createdAt": item.created,
        "updatedAt": item.updated,
        "closedAt": if item.state == "OPEN" { Value::Null } else { json!(item.updated) },
        "__typename": typename(item),
        "author": user(PEOPLE[item.number as usize % PEOPLE.len()]),
        "repository": {"nameWithOwner": repo},
        "assignees": {"nodes": [{"login": PEOPLE[(item.number as usize + 1) % PEOPLE.len()]}]},
        "labels": {"nodes": [{"name": if item.number % 3 == 0 { "bug" } else { "enhancement" }}]},
        "milestone": null,
        "timelineItems": page_of(&item.events, 0, 100),
        "comments": page_of(&item.comments, 0, 100),
    });
    if item.pull_request {
        v["isDraft"] = json!(item.draft);
        v["mergedAt"] = if item.state == "MERGED" {
            json!(item.updated)
        } else {
            Value::Null
        };
        v["baseRefName"] = json!("main");
        v["headRefName"] = json!(format!("change-{}", item.number));
        v["additions"] = json!(item.number * 7 % 400);
        v["deletions"] = json!(item.number * 3 % 100);
        v["reviews"] = page_of(&item.reviews, 0, 50);
    }
    v
}

/// Sort key of the GraphQL cursor: `(updatedAt, number)`, so deletions never shift a page.
fn key(item: &Item) -> String {
    format!("{}|{:010}", item.updated.to_rfc3339(), item.number)
}

/// The fake's answer to a GraphQL request, held to GitHub's schema: a document GitHub refuses is refused,
/// and the fake's data is executed against the document (see [`crate::contracts::graphql`]), so the answer
/// carries exactly the selected fields under their aliases. Errors the fake answers on purpose (a missing
/// repository) pass through once the document is valid.
fn as_github_answers(request: &Value, answer: Value) -> Value {
    use crate::contracts::graphql::{answer_github, check_github, refusal};
    let query = request["query"].as_str().unwrap_or_default();
    let vars = &request["variables"];
    if answer.get("errors").is_some() {
        return match check_github(query, vars) {
            Ok(_) => answer,
            Err(errors) => refusal(errors),
        };
    }
    answer_github(query, vars, &answer["data"])
}

struct Handler {
    state: Arc<Mutex<State>>,
    latency: Duration,
    /// `http://127.0.0.1:PORT`, for Link headers.
    base: String,
}

impl Handler {
    fn graphql(&self, s: &mut State, body: &Value) -> (String, Value) {
        let query = body["query"].as_str().unwrap_or_default();
        let vars = &body["variables"];
        let op = query
            .split_whitespace()
            .nth(1)
            .and_then(|w| w.split('(').next())
            .unwrap_or("unknown")
            .to_string();
        let answer = match op.as_str() {
            "IssuesPage" | "PullRequestsPage" => {
                let repo = format!(
                    "{}/{}",
                    vars["owner"].as_str().unwrap_or_default(),
                    vars["name"].as_str().unwrap_or_default()
                );
                let Some(items) = s.repos.get(&repo) else {
                    return (
                        op,
                        json!({"data": {"repository": null}, "errors": [{"type": "NOT_FOUND", "path": ["repository"], "message": format!("Could not resolve to a Repository with the name '{repo}'.")}]}),
                    );
                };
                let first = vars["first"].as_u64().unwrap_or(100) as usize;
                let issues = op == "IssuesPage";
                let since: Option<DateTime<Utc>> =
                    vars["since"].as_str().and_then(|t| t.parse().ok());
                let mut chosen: Vec<&Item> = items
                    .iter()
                    .filter(|i| i.pull_request != issues)
                    .filter(|i| since.is_none_or(|t| i.updated >= t))
                    .collect();
                chosen.sort_by_key(|i| key(i));
                if !issues {
                    chosen.reverse();
                }
                let after = vars["after"].as_str().map(str::to_string);
                let start = match &after {
                    None => 0,
                    Some(a) => chosen
                        .iter()
                        .position(|i| {
                            let k = key(i);
                            if issues {
                                k.as_str() > a.as_str()
                            } else {
                                k.as_str() < a.as_str()
                            }
                        })
                        .unwrap_or(chosen.len()),
                };
                let end = (start + first).min(chosen.len());
                let nodes: Vec<Value> = chosen[start..end]
                    .iter()
                    .map(|i| node_json(&repo, i))
                    .collect();
                let end_cursor = chosen[..end].last().map(|i| key(i));
                let conn = json!({
                    "totalCount": chosen.len(),
                    "pageInfo": {"hasNextPage": end < chosen.len(), "endCursor": end_cursor},
                    "nodes": nodes
                });
                let field = if issues { "issues" } else { "pullRequests" };
                json!({"data": {"repository": {field: conn}}})
            }
            "DeploymentsPage" => {
                let repo = format!(
                    "{}/{}",
                    vars["owner"].as_str().unwrap_or_default(),
                    vars["name"].as_str().unwrap_or_default()
                );
                let mut list: Vec<&FakeDeployment> = s
                    .deployments
                    .get(&repo)
                    .map(|l| l.iter().collect())
                    .unwrap_or_default();
                list.sort_by_key(|d| std::cmp::Reverse((d.created, d.id)));
                let nodes: Vec<Value> = list
                    .iter()
                    .map(|d| {
                        let updated = d.statuses.last().map_or(d.created, |s| s.1);
                        json!({
                            "id": format!("DE_{}", d.id), "databaseId": d.id, "environment": "production",
                            "commitOid": format!("{:040x}", d.id), "state": "ACTIVE", "task": "deploy",
                            "createdAt": d.created, "updatedAt": updated, "creator": {"__typename": "Bot", "login": "deploy-bot"},
                            "repository": {"nameWithOwner": repo},
                            "statuses": {"nodes": d.statuses.iter().rev().map(|(st, at)| json!({"state": st, "createdAt": at})).collect::<Vec<_>>()}
                        })
                    })
                    .collect();
                let first = vars["first"].as_u64().unwrap_or(100) as usize;
                let mut conn = page_of(&nodes, offset(&vars["after"]), first);
                conn["totalCount"] = json!(nodes.len());
                json!({"data": {"repository": {"deployments": conn}}})
            }
            "ReleasesPage" => {
                let repo = format!(
                    "{}/{}",
                    vars["owner"].as_str().unwrap_or_default(),
                    vars["name"].as_str().unwrap_or_default()
                );
                let mut list = s.releases.get(&repo).cloned().unwrap_or_default();
                list.sort_by_key(|r| std::cmp::Reverse((r.1, r.0)));
                let nodes: Vec<Value> = list
                    .iter()
                    .enumerate()
                    .map(|(k, (id, created))| {
                        let tag = format!("v1.{}.0", list.len() - k);
                        json!({
                            "id": format!("RE_{id}"), "databaseId": id, "tagName": tag, "name": tag,
                            "createdAt": created, "publishedAt": *created + Span::minutes(30), "updatedAt": *created + Span::minutes(30),
                            "isDraft": false, "isPrerelease": false,
                            "url": format!("https://github.com/{repo}/releases/tag/{tag}"),
                            "author": {"login": "alice"}, "repository": {"nameWithOwner": repo}
                        })
                    })
                    .collect();
                let first = vars["first"].as_u64().unwrap_or(100) as usize;
                let mut conn = page_of(&nodes, offset(&vars["after"]), first);
                conn["totalCount"] = json!(nodes.len());
                json!({"data": {"repository": {"releases": conn}}})
            }
            "SearchPage" => {
                let q = vars["q"].as_str().unwrap_or_default();
                let term = |name: &str| {
                    q.split_whitespace()
                        .find_map(|t| t.strip_prefix(name))
                        .unwrap_or_default()
                        .to_string()
                };
                let repo = term("repo:");
                let issues = term("is:") == "issue";
                let (from, to) = term("created:")
                    .split_once("..")
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .unwrap_or_default();
                let day = |t: &DateTime<Utc>| t.format("%Y-%m-%d").to_string();
                let mut found: Vec<&Item> = s
                    .repos
                    .get(&repo)
                    .map(|items| {
                        items
                            .iter()
                            .filter(|i| i.pull_request != issues)
                            .filter(|i| day(&i.created) >= from && day(&i.created) <= to)
                            .collect()
                    })
                    .unwrap_or_default();
                found.sort_by_key(|i| (i.created, i.number));
                let count = found.len();
                // Search serves the first 1,000 results only.
                let reachable: Vec<Value> = found
                    .iter()
                    .take(1000)
                    .map(|i| node_json(&repo, i))
                    .collect();
                let first = vars["first"].as_u64().unwrap_or(100) as usize;
                let mut conn = page_of(&reachable, offset(&vars["after"]), first);
                conn["issueCount"] = json!(count);
                json!({"data": {"search": conn}})
            }
            "RestOfItem" => {
                let id = vars["id"].as_str().unwrap_or_default();
                let from = offset(&vars["after"]);
                let item = s
                    .repos
                    .iter()
                    .flat_map(|(repo, items)| items.iter().map(move |i| (repo, i)))
                    .find(|(repo, i)| node_id(repo, i) == id)
                    .map(|(_, i)| i);
                match item {
                    None => {
                        json!({"data": {"node": null}, "errors": [{"type": "NOT_FOUND", "message": format!("Could not resolve to a node with the global id of '{id}'")}]})
                    }
                    Some(item) if query.contains("reviews(") => {
                        json!({"data": {"node": {"__typename": typename(item), "reviews": page_of(&item.reviews, from, 100)}}})
                    }
                    Some(item) if query.contains("comments(") => {
                        json!({"data": {"node": {"__typename": typename(item), "comments": page_of(&item.comments, from, 100)}}})
                    }
                    Some(item) => {
                        json!({"data": {"node": {"__typename": typename(item), "timelineItems": page_of(&item.events, from, 100)}}})
                    }
                }
            }
            _ => json!({"errors": [{"message": format!("unknown operation {op}")}]}),
        };
        (op, answer)
    }

    /// `(op, status, headers, body)` of a REST request. Bodies are whole REST objects as GitHub writes them
    /// (`issue`, `deployment`, `release`, `simple-user`, `minimal-repository`: see [`rest_issue`] and the
    /// functions after it), which the contract check in [`Handler::respond`] holds to GitHub's OpenAPI
    /// document.
    fn rest(&self, s: &State, req: &Request) -> RestAnswer {
        let api = self.base.as_str();
        let path = req.url.path().to_string();
        let query: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        let if_none_match = req
            .headers
            .get("if-none-match")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let repo_id = |repo: &str| {
            s.repos
                .keys()
                .position(|k| k == repo)
                .map_or(0, |i| REPO_IDS + i as i64)
        };
        match parts.as_slice() {
            ["repos", owner, name, "issues"] => {
                let repo = format!("{owner}/{name}");
                let Some(items) = s.repos.get(&repo) else {
                    return ("probe".into(), 404, vec![], json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/issues/issues#list-repository-issues", "status": "404"}).to_string());
                };
                // `sort=updated&direction=desc`: the most recently updated issue or pull request (GitHub's
                // issue list holds both; a pull request carries `pull_request`).
                let top = items.iter().max_by_key(|i| key(i));
                let etag = format!(
                    "W/\"{}\"",
                    top.map(key).unwrap_or_default().replace(['|', ':'], "")
                );
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    return (
                        "probe".into(),
                        304,
                        vec![("etag".into(), etag)],
                        String::new(),
                    );
                }
                let body: Vec<Value> = top
                    .map(|i| rest_issue(api, &repo, repo_id(&repo), i))
                    .into_iter()
                    .collect();
                (
                    "probe".into(),
                    200,
                    vec![("etag".into(), etag)],
                    Value::from(body).to_string(),
                )
            }
            ["repos", owner, name, "deployments"] => {
                let repo = format!("{owner}/{name}");
                let newest = s
                    .deployments
                    .get(&repo)
                    .and_then(|l| l.iter().max_by_key(|d| (d.created, d.id)));
                let etag = format!(
                    "W/\"d{}-{}\"",
                    newest.map_or(0, |d| d.id),
                    newest.map_or(0, |d| d.statuses.len())
                );
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    return (
                        "probe".into(),
                        304,
                        vec![("etag".into(), etag)],
                        String::new(),
                    );
                }
                let body: Vec<Value> = newest
                    .map(|d| rest_deployment(api, &repo, d))
                    .into_iter()
                    .collect();
                (
                    "probe".into(),
                    200,
                    vec![("etag".into(), etag)],
                    Value::from(body).to_string(),
                )
            }
            ["repos", owner, name, "releases"] => {
                let repo = format!("{owner}/{name}");
                let list = s.releases.get(&repo).map(Vec::as_slice).unwrap_or_default();
                let newest = list.iter().max_by_key(|r| (r.1, r.0));
                let etag = format!("W/\"r{}\"", newest.map_or(0, |r| r.0));
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    return (
                        "probe".into(),
                        304,
                        vec![("etag".into(), etag)],
                        String::new(),
                    );
                }
                let body: Vec<Value> = newest
                    .map(|r| rest_release(api, &repo, r, &release_tag(list, r.0)))
                    .into_iter()
                    .collect();
                (
                    "probe".into(),
                    200,
                    vec![("etag".into(), etag)],
                    Value::from(body).to_string(),
                )
            }
            ["orgs", org, "members"] if *org == s.org => {
                let etag = format!("W/\"members-{}\"", PEOPLE.len());
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    return (
                        "members".into(),
                        304,
                        vec![("etag".into(), etag)],
                        String::new(),
                    );
                }
                let body: Vec<Value> = PEOPLE
                    .iter()
                    .map(|p| rest_user(api, p, person_id(p), "User"))
                    .collect();
                (
                    "members".into(),
                    200,
                    vec![("etag".into(), etag)],
                    Value::from(body).to_string(),
                )
            }
            ["orgs", org, "repos"] if *org == s.org => {
                let per_page: usize = query
                    .get("per_page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(30);
                let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                // `sort` defaults to `created`; `direction` to `asc` for `full_name`, else `desc`.
                let mut names: Vec<(usize, &String)> = s.repos.keys().enumerate().collect();
                let sort = query.get("sort").map_or("created", String::as_str);
                let direction = query.get("direction").map_or(
                    if sort == "full_name" { "asc" } else { "desc" },
                    String::as_str,
                );
                if direction == "desc" {
                    names.reverse();
                }
                let etag = format!("W/\"repos-{}-{page}-{direction}\"", names.len());
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    return (
                        "repos".into(),
                        304,
                        vec![("etag".into(), etag)],
                        String::new(),
                    );
                }
                let owner = rest_user(api, &s.org, ORG_ID, "Organization");
                let chunk: Vec<Value> = names
                    .iter()
                    .skip((page - 1) * per_page)
                    .take(per_page)
                    .map(|(i, n)| {
                        let pushed = s.repos[*n].iter().map(|i| i.updated).max();
                        rest_repository(api, n, REPO_IDS + *i as i64, &owner, *i, pushed)
                    })
                    .collect();
                let mut headers = vec![("etag".into(), etag)];
                let last = names.len().div_ceil(per_page.max(1)).max(1);
                if last > 1 {
                    headers.push(("link".into(), link_header(api, req, page, last)));
                }
                ("repos".into(), 200, headers, Value::from(chunk).to_string())
            }
            _ => (
                "unknown".into(),
                404,
                vec![],
                json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}).to_string(),
            ),
        }
    }
}

/// `(op, status, headers, body)` of a REST answer.
type RestAnswer = (String, u16, Vec<(String, String)>, String);

/// Ids of the organization and its repositories in REST answers (GitHub's are large integers; only
/// uniqueness matters here).
const ORG_ID: i64 = 91_000;
const REPO_IDS: i64 = 720_000;

/// A person's REST id: their place in [`PEOPLE`], from 5801.
fn person_id(login: &str) -> i64 {
    PEOPLE
        .iter()
        .position(|p| *p == login)
        .map_or(5800, |i| 5801 + i as i64)
}

/// A legacy global node id as REST writes them, base64 of `0<len>:<Type><id>` (`MDQ6VXNlcjE=` is user 1 in
/// GitHub's own examples).
fn legacy_node_id(kind: &str, id: i64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("0{}:{kind}{id}", kind.len()))
}

/// GitHub's `Link` header for page `page` of `last` of the request's list: the request's URL with every
/// query parameter kept and `page` replaced, as GitHub writes it (`prev`/`next`/`last`/`first`; docs.github.com,
/// "Using pagination in the REST API").
fn link_header(api: &str, req: &Request, page: usize, last: usize) -> String {
    let url = |p: usize| {
        let kept: Vec<(String, String)> = req
            .url
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| k != "page")
            .collect();
        let Ok(mut u) = reqwest::Url::parse(&format!("{api}{}", req.url.path())) else {
            return String::new();
        };
        u.query_pairs_mut()
            .extend_pairs(kept)
            .append_pair("page", &p.to_string());
        format!("<{u}>")
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", url(page - 1)));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
        links.push(format!("{}; rel=\"last\"", url(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", url(1)));
    }
    links.join(", ")
}

/// A `simple-user` (an organization member, an author, an owner), with every field GitHub's OpenAPI document
/// requires, as in its example `components/examples/simple-user-items` and the "List organization members"
/// answer on docs.github.com. `kind` is `User`, `Organization` or `Bot`.
/// A bot's login ends in `[bot]`, which its URLs write `%5Bbot%5D`; its page is the app's.
fn rest_user(api: &str, login: &str, id: i64, kind: &str) -> Value {
    let at = format!(
        "{api}/users/{}",
        login.replace('[', "%5B").replace(']', "%5D")
    );
    let html = match login.strip_suffix("[bot]") {
        Some(app) => format!("https://github.com/apps/{app}"),
        None => format!("https://github.com/{login}"),
    };
    json!({
        "login": login, "id": id, "node_id": legacy_node_id(kind, id),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"), "gravatar_id": "",
        "url": at, "html_url": html,
        "followers_url": format!("{at}/followers"), "following_url": format!("{at}/following{{/other_user}}"),
        "gists_url": format!("{at}/gists{{/gist_id}}"), "starred_url": format!("{at}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{at}/subscriptions"), "organizations_url": format!("{at}/orgs"),
        "repos_url": format!("{at}/repos"), "events_url": format!("{at}/events{{/privacy}}"),
        "received_events_url": format!("{at}/received_events"), "type": kind, "user_view_type": "public",
        "site_admin": false
    })
}

/// A `label`: GitHub's default `bug` and `enhancement` labels, with their default colors and descriptions.
fn rest_label(api: &str, repo: &str, repo_id: i64, name: &str) -> Value {
    let (k, color, description) = match name {
        "bug" => (1, "d73a4a", "Something isn't working"),
        _ => (2, "a2eeef", "New feature or request"),
    };
    let id = repo_id * 10 + k;
    json!({
        "id": id, "node_id": legacy_node_id("Label", id), "url": format!("{api}/repos/{repo}/labels/{name}"),
        "name": name, "description": description, "color": color, "default": true
    })
}

/// An issue or pull request as the issue list (`GET /repos/{owner}/{repo}/issues`) writes it: the `issue`
/// schema with every required field, modeled on the OpenAPI document's `components/examples/issue-items`; a
/// pull request carries `pull_request` and `draft`. It agrees with what the GraphQL side serves for the same
/// item (node id, title, state, author, assignee, label, times).
fn rest_issue(api: &str, repo: &str, repo_id: i64, item: &Item) -> Value {
    let n = item.number;
    let at = format!("{api}/repos/{repo}/issues/{n}");
    let person = |k: usize| {
        let login = PEOPLE[k % PEOPLE.len()];
        rest_user(api, login, person_id(login), "User")
    };
    let assignee = person(n as usize + 1);
    let label = if n % 3 == 0 { "bug" } else { "enhancement" };
    let closed = item.state != "OPEN";
    let state_reason = if item.pull_request || !closed {
        Value::Null
    } else {
        item.events
            .iter()
            .rev()
            .find(|e| e["__typename"] == "ClosedEvent")
            .and_then(|e| e["stateReason"].as_str())
            .map_or(json!("completed"), |r| json!(r.to_lowercase()))
    };
    let mut v = json!({
        "id": repo_id * 100_000 + n, "node_id": node_id(repo, item), "url": at,
        "repository_url": format!("{api}/repos/{repo}"), "labels_url": format!("{at}/labels{{/name}}"),
        "comments_url": format!("{at}/comments"), "events_url": format!("{at}/events"),
        "html_url": format!("https://github.com/{repo}/{}/{n}", if item.pull_request { "pull" } else { "issues" }),
        "number": n, "state": if closed { "closed" } else { "open" }, "state_reason": state_reason,
        "title": format!("{} {n}", if item.pull_request { "Change" } else { "Problem" }),
        "body": null, "user": person(n as usize), "labels": [rest_label(api, repo, repo_id, label)],
        "assignee": assignee.clone(), "assignees": [assignee], "milestone": null, "locked": false,
        "active_lock_reason": null, "comments": item.comments.len(),
        "closed_at": if closed { json!(item.updated) } else { Value::Null },
        "created_at": item.created, "updated_at": item.updated, "closed_by": null,
        "author_association": "MEMBER", "timeline_url": format!("{at}/timeline"),
        "performed_via_github_app": null,
        "reactions": {"url": format!("{at}/reactions"), "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
            "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0}
    });
    if item.pull_request {
        let pr = format!("https://github.com/{repo}/pull/{n}");
        v["draft"] = json!(item.draft);
        v["pull_request"] = json!({
            "url": format!("{api}/repos/{repo}/pulls/{n}"), "html_url": pr,
            "diff_url": format!("{pr}.diff"), "patch_url": format!("{pr}.patch"),
            "merged_at": if item.state == "MERGED" { json!(item.updated) } else { Value::Null }
        });
    }
    v
}

/// A `deployment` as `GET /repos/{owner}/{repo}/deployments` writes it (the OpenAPI document's
/// `components/examples/deployment-items`), made by a GitHub App's bot, whose REST login ends in `[bot]`
/// (GraphQL's `Bot.login` does not); the same id, commit and environment as the GraphQL side.
fn rest_deployment(api: &str, repo: &str, d: &FakeDeployment) -> Value {
    let at = format!("{api}/repos/{repo}/deployments/{}", d.id);
    let updated = d.statuses.last().map_or(d.created, |s| s.1);
    json!({
        "url": at, "id": d.id, "node_id": format!("DE_{}", d.id), "sha": format!("{:040x}", d.id),
        "ref": "main", "task": "deploy", "payload": {}, "original_environment": "production",
        "environment": "production", "description": null,
        "creator": rest_user(api, "deploy-bot[bot]", 49_699_333, "Bot"),
        "created_at": d.created, "updated_at": updated, "statuses_url": format!("{at}/statuses"),
        "repository_url": format!("{api}/repos/{repo}"), "transient_environment": false,
        "production_environment": true, "performed_via_github_app": null
    })
}

/// The tag of release `id` of `list`: `v1.<k>.0`, `k` its place by creation, as the GraphQL side names it.
fn release_tag(list: &[(i64, DateTime<Utc>)], id: i64) -> String {
    let mut order: Vec<&(i64, DateTime<Utc>)> = list.iter().collect();
    order.sort_by_key(|r| (r.1, r.0));
    let k = order.iter().position(|r| r.0 == id).map_or(0, |k| k + 1);
    format!("v1.{k}.0")
}

/// A `release` as `GET /repos/{owner}/{repo}/releases` writes it (the OpenAPI document's
/// `components/examples/release-items`, without assets); the same id, tag and times as the GraphQL side.
fn rest_release(api: &str, repo: &str, r: &(i64, DateTime<Utc>), tag: &str) -> Value {
    let (id, created) = *r;
    let at = format!("{api}/repos/{repo}/releases/{id}");
    let published = created + Span::minutes(30);
    json!({
        "url": at, "html_url": format!("https://github.com/{repo}/releases/tag/{tag}"),
        "assets_url": format!("{at}/assets"),
        "upload_url": format!("https://uploads.github.com/repos/{repo}/releases/{id}/assets{{?name,label}}"),
        "tarball_url": format!("{api}/repos/{repo}/tarball/{tag}"),
        "zipball_url": format!("{api}/repos/{repo}/zipball/{tag}"),
        "id": id, "node_id": format!("RE_{id}"), "tag_name": tag, "target_commitish": "main", "name": tag,
        "body": null, "draft": false, "prerelease": false, "immutable": false, "created_at": created,
        "updated_at": published, "published_at": published,
        "author": rest_user(api, "alice", person_id("alice"), "User"), "assets": []
    })
}

/// A `minimal-repository` as `GET /orgs/{org}/repos` writes it, every URL template included (the OpenAPI
/// document's `components/examples/minimal-repository-items`). Repository `k` was created `k` days after the
/// first, 400 days before the generated history.
fn rest_repository(
    api: &str,
    full_name: &str,
    id: i64,
    owner: &Value,
    k: usize,
    pushed: Option<DateTime<Utc>>,
) -> Value {
    let at = format!("{api}/repos/{full_name}");
    let name = full_name.split('/').nth(1).unwrap_or(full_name);
    let created = base() - Span::days(400) + Span::days(k as i64);
    let mut v = json!({
        "id": id, "node_id": legacy_node_id("Repository", id), "name": name, "full_name": full_name,
        "owner": owner, "private": true, "html_url": format!("https://github.com/{full_name}"),
        "description": null, "fork": false, "url": at,
        "git_url": format!("git://github.com/{full_name}.git"),
        "ssh_url": format!("git@github.com:{full_name}.git"),
        "clone_url": format!("https://github.com/{full_name}.git"), "mirror_url": null,
        "svn_url": format!("https://github.com/{full_name}"), "homepage": null,
    });
    let more = json!({
        "language": "Rust", "forks_count": 0, "stargazers_count": 0, "watchers_count": 0, "size": 1024,
        "default_branch": "main", "open_issues_count": 0, "is_template": false, "topics": [],
        "has_issues": true, "has_projects": true, "has_wiki": false, "has_pages": false,
        "has_downloads": true, "has_discussions": false, "archived": false, "disabled": false,
        "visibility": "private", "pushed_at": pushed.unwrap_or(created), "created_at": created,
        "updated_at": pushed.unwrap_or(created),
        "permissions": {"admin": false, "maintain": false, "push": true, "triage": true, "pull": true},
        "allow_forking": false, "web_commit_signoff_required": false, "forks": 0, "open_issues": 0,
        "watchers": 0
    });
    if let (Value::Object(v), Value::Object(more)) = (&mut v, more) {
        v.extend(more);
    }
    // The API URL templates, RFC 6570 as GitHub writes them.
    for (key, rest) in [
        ("archive_url", "{archive_format}{/ref}"),
        ("assignees_url", "assignees{/user}"),
        ("blobs_url", "git/blobs{/sha}"),
        ("branches_url", "branches{/branch}"),
        ("collaborators_url", "collaborators{/collaborator}"),
        ("comments_url", "comments{/number}"),
        ("commits_url", "commits{/sha}"),
        ("compare_url", "compare/{base}...{head}"),
        ("contents_url", "contents/{+path}"),
        ("contributors_url", "contributors"),
        ("deployments_url", "deployments"),
        ("downloads_url", "downloads"),
        ("events_url", "events"),
        ("forks_url", "forks"),
        ("git_commits_url", "git/commits{/sha}"),
        ("git_refs_url", "git/refs{/sha}"),
        ("git_tags_url", "git/tags{/sha}"),
        ("hooks_url", "hooks"),
        ("issue_comment_url", "issues/comments{/number}"),
        ("issue_events_url", "issues/events{/number}"),
        ("issues_url", "issues{/number}"),
        ("keys_url", "keys{/key_id}"),
        ("labels_url", "labels{/name}"),
        ("languages_url", "languages"),
        ("merges_url", "merges"),
        ("milestones_url", "milestones{/number}"),
        (
            "notifications_url",
            "notifications{?since,all,participating}",
        ),
        ("pulls_url", "pulls{/number}"),
        ("releases_url", "releases{/id}"),
        ("stargazers_url", "stargazers"),
        ("statuses_url", "statuses/{sha}"),
        ("subscribers_url", "subscribers"),
        ("subscription_url", "subscription"),
        ("tags_url", "tags"),
        ("teams_url", "teams"),
        ("trees_url", "git/trees{/sha}"),
    ] {
        v[key] = json!(format!("{at}/{rest}"));
    }
    v
}

/// GitHub REST's contract, checked on every REST exchange: the request must be an operation of GitHub's
/// OpenAPI document with declared, well-typed parameters, and a 2xx body must fit the operation's response
/// schema ([`crate::contracts::openapi`]). A breach is answered `400` with the reasons in `message` (which
/// the client does not retry, and which ends the sync with them) and kept in the fake's list of violations.
fn rest_contract(
    req: &Request,
    answer: impl FnOnce() -> RestAnswer,
) -> Result<RestAnswer, Vec<String>> {
    use crate::contracts::openapi::{check_request, check_response, github};
    crate::shared::hold_to_contract(
        req,
        "GitHub's REST contract",
        |target| check_request(github(), req.method.as_str(), target),
        answer,
        |op, (_, status, _, body)| {
            let parsed: Value = serde_json::from_str(body)
                .map_err(|e| vec![format!("the body is not JSON: {e}")])?;
            check_response(github(), op, *status, &parsed)
        },
    )
}

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = lock(&self.state);
        let (op, status, mut headers, mut body, fault) = if req.url.path() == "/graphql" {
            let parsed: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let (op, mut answer) = self.graphql(&mut s, &parsed);
            let fault = s.ledger.take(&op);
            if fault
                .as_ref()
                .is_some_and(|f| f.kind == FaultKind::StuckCursor)
            {
                stick(&mut answer, &parsed["variables"]["after"]);
            }
            (
                op,
                200,
                Vec::new(),
                as_github_answers(&parsed, answer).to_string(),
                fault,
            )
        } else {
            let (op, status, headers, body) = match rest_contract(req, || self.rest(&s, req)) {
                Ok(answer) => answer,
                Err(errors) => {
                    let body = json!({"message": errors.join("\n"), "documentation_url": "https://github.com/github/rest-api-description", "status": "400"});
                    s.violations.extend(errors);
                    ("contract".into(), 400, Vec::new(), body.to_string())
                }
            };
            let fault = s.ledger.take(&op);
            (op, status, headers, body, fault)
        };
        let mut status = status;
        match fault.map(|f| f.kind) {
            Some(FaultKind::BadGateway) => {
                status = 502;
                body = "<html><body><h1>502 Bad Gateway</h1></body></html>".into();
                headers.clear();
            }
            Some(FaultKind::SecondaryRateLimit(secs)) => {
                status = 403;
                body = json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits", "status": "403"}).to_string();
                headers = vec![("retry-after".into(), secs.to_string())];
            }
            Some(FaultKind::PrimaryRateLimit(secs)) => {
                status = 429;
                body = json!({"message": "API rate limit exceeded for user ID 1.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api", "status": "429"}).to_string();
                let reset = Utc::now().timestamp() + i64::try_from(secs).unwrap_or(i64::MAX);
                headers = vec![
                    ("x-ratelimit-remaining".into(), "0".into()),
                    ("x-ratelimit-used".into(), "5000".into()),
                    ("x-ratelimit-reset".into(), reset.to_string()),
                ];
            }
            Some(FaultKind::BadCredentials) => {
                status = 401;
                body = json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}).to_string();
                headers.clear();
            }
            Some(FaultKind::Truncated) => body.truncate(body.len() / 2),
            Some(FaultKind::DeleteAfter(repo, number)) => {
                if let Some(items) = s.repos.get_mut(&repo) {
                    items.retain(|i| i.number != number);
                }
            }
            // GraphQL answers were stuck above, before they were shaped to the query.
            Some(FaultKind::StuckCursor) if req.url.path() != "/graphql" => {
                headers.retain(|(k, _)| k != "link");
                headers.push((
                    "link".into(),
                    format!(
                        "<{}>; rel=\"next\"",
                        crate::shared::self_url(&self.base, req)
                    ),
                ));
            }
            Some(FaultKind::StuckCursor) | None => {}
        }
        s.ledger.count(op, status);
        if status != 304 {
            s.remaining = (s.remaining - 1).max(1);
        }
        let reset = Utc::now().timestamp() + 3600;
        let mut t = ResponseTemplate::new(status)
            .insert_header("x-ratelimit-limit", "5000")
            .insert_header("x-ratelimit-remaining", s.remaining.to_string().as_str())
            .insert_header(
                "x-ratelimit-used",
                (5000 - s.remaining).to_string().as_str(),
            )
            .insert_header("x-ratelimit-reset", reset.to_string().as_str())
            .insert_header(
                "x-ratelimit-resource",
                if req.url.path() == "/graphql" {
                    "graphql"
                } else {
                    "core"
                },
            )
            .set_delay(self.latency);
        for (k, v) in &headers {
            t = t.insert_header(k.as_str(), v.as_str());
        }
        if status != 304 {
            let kind = if status == 502 {
                "text/html"
            } else {
                "application/json; charset=utf-8"
            };
            t = t.set_body_raw(body.into_bytes(), kind);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(status, Link header, JSON body)` of a GET.
    fn get(url: &str) -> (u16, Option<String>, Value) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let r = reqwest::Client::new()
                .get(url)
                .send()
                .await
                .expect("the fake answers");
            let status = r.status().as_u16();
            let link = r
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = r.text().await.expect("a body");
            (
                status,
                link,
                serde_json::from_str(&body).unwrap_or(Value::Null),
            )
        })
    }

    fn small() -> FakeGithub {
        FakeGithub::start(&FakeOrgSpec {
            repos: 3,
            issues: 12,
            pull_requests: 9,
            deployments_per_repo: 2,
            releases_per_repo: 2,
            ..FakeOrgSpec::default()
        })
    }

    #[test]
    fn rest_probes_answer_whole_github_objects_not_only_the_fields_flowlake_reads() {
        let fake = small();
        let base = fake.uri();
        for path in [
            "/repos/acme/repo-00/issues?state=all&sort=updated&direction=desc&per_page=1",
            "/repos/acme/repo-01/deployments?per_page=1",
            "/repos/acme/repo-02/releases?per_page=1",
            "/orgs/acme/members?per_page=100",
            "/orgs/acme/repos?type=all&sort=created&direction=desc&per_page=100",
        ] {
            let (status, _, body) = get(&format!("{base}{path}"));
            assert_eq!(status, 200, "{path}: {body}");
            assert!(
                body.as_array().is_some_and(|a| !a.is_empty()),
                "{path}: {body}"
            );
        }
        assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
        // The items' REST and GraphQL sides agree: a pull request among the issues carries `pull_request`.
        let (_, _, body) = get(&format!(
            "{base}/repos/acme/repo-02/issues?state=all&sort=updated&direction=desc&per_page=1"
        ));
        let top = &body[0];
        let pr = fake
            .state
            .lock()
            .map(|s| {
                s.repos["acme/repo-02"]
                    .iter()
                    .max_by_key(|i| key(i))
                    .is_some_and(|i| i.pull_request)
            })
            .unwrap_or_default();
        assert_eq!(top.get("pull_request").is_some(), pr, "{top}");
    }

    #[test]
    fn the_org_repos_link_keeps_type_sort_and_direction() {
        let fake = small();
        let (status, link, body) = get(&format!(
            "{}/orgs/acme/repos?type=all&sort=created&direction=desc&per_page=1",
            fake.uri()
        ));
        assert_eq!(status, 200);
        assert_eq!(body[0]["full_name"], "acme/repo-02", "newest created first");
        let link = link.expect("a Link header");
        let next = flowlake_connect::http::next_link(&link).expect("a next page");
        assert!(
            next.ends_with(
                "/orgs/acme/repos?type=all&sort=created&direction=desc&per_page=1&page=2"
            ),
            "{next}"
        );
        assert!(link.contains("page=3>; rel=\"last\""), "{link}");
        let (status, link, body) = get(&next);
        assert_eq!(
            (status, body[0]["full_name"].as_str()),
            (200, Some("acme/repo-01"))
        );
        let link = link.expect("a Link header");
        for rel in ["prev", "next", "last", "first"] {
            assert!(link.contains(&format!("rel=\"{rel}\"")), "{rel} in {link}");
        }
        assert!(fake.take_contract_violations().is_empty());
    }

    #[test]
    fn a_rest_request_github_does_not_document_is_refused_with_the_reason() {
        let fake = small();
        let (status, _, body) = get(&format!(
            "{}/orgs/acme/members?per_page=100&role=owner&since=2026-01-01",
            fake.uri()
        ));
        assert_eq!(status, 400);
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("`role=owner`"), "{message}");
        assert!(message.contains("`since` is not declared"), "{message}");
        assert_eq!(fake.take_contract_violations().len(), 2);
        assert_eq!(
            fake.answered().get(&("contract".to_string(), 400)),
            Some(&1)
        );
    }
}
