//! A fake GitHub for tests and benchmarks (feature `fake-github`): a generated organization served on
//! loopback through the same endpoints and shapes as the real API — the GraphQL queries the connector
//! sends, the REST change probe with ETags and 304s, the organization's repository list with Link pages,
//! rate-limit headers — plus faults injected on demand (502s, secondary rate limits, bodies cut mid-JSON,
//! items deleted between pages) and an added latency per request.

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
    /// The normal body, cut in the middle.
    Truncated,
    /// The normal answer, after which this item (`repo`, `number`) is deleted.
    DeleteAfter(String, i64),
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

impl crate::fakes::KeyedFault for Fault {
    fn op(&self) -> &str {
        &self.op
    }
    fn nth(&self) -> usize {
        self.nth
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
    ledger: crate::fakes::Ledger<Fault>,
    remaining: i64,
    clock: i64,
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

    /// `http://127.0.0.1:PORT`: the REST base URL; GraphQL is at `/graphql`.
    pub fn uri(&self) -> String {
        self.server.uri()
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

    /// `(op, status, headers, body)` of a REST request.
    fn rest(&self, s: &State, req: &Request) -> (String, u16, Vec<(String, String)>, String) {
        let path = req.url.path().to_string();
        let query: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        let if_none_match = req
            .headers
            .get("if-none-match")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        match parts.as_slice() {
            ["repos", owner, name, "issues"] => {
                let repo = format!("{owner}/{name}");
                let Some(items) = s.repos.get(&repo) else {
                    return ("probe".into(), 404, vec![], json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/issues/issues#list-repository-issues", "status": "404"}).to_string());
                };
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
                    .map(|i| json!({"number": i.number, "updated_at": i.updated, "state": i.state.to_lowercase()}))
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
                    .map(|d| json!({"id": d.id, "environment": "production", "created_at": d.created}))
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
                let newest = s.releases.get(&repo).and_then(|l| l.iter().max());
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
                    .map(|r| json!({"id": r.0, "created_at": r.1}))
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
                    .enumerate()
                    .map(|(i, p)| json!({"login": p, "id": i + 1, "type": "User", "site_admin": false}))
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
                let names: Vec<&String> = s.repos.keys().collect();
                let etag = format!("W/\"repos-{}-{page}\"", names.len());
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    return (
                        "repos".into(),
                        304,
                        vec![("etag".into(), etag)],
                        String::new(),
                    );
                }
                let chunk: Vec<Value> = names
                    .iter()
                    .skip((page - 1) * per_page)
                    .take(per_page)
                    .map(|n| json!({"full_name": n, "archived": false, "private": true}))
                    .collect();
                let mut headers = vec![("etag".into(), etag)];
                if page * per_page < names.len() {
                    headers.push((
                        "link".into(),
                        format!(
                            "<{}/orgs/{org}/repos?per_page={per_page}&page={}>; rel=\"next\"",
                            self.base,
                            page + 1
                        ),
                    ));
                }
                ("repos".into(), 200, headers, Value::from(chunk).to_string())
            }
            _ => (
                "unknown".into(),
                404,
                vec![],
                json!({"message": "Not Found"}).to_string(),
            ),
        }
    }
}

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = lock(&self.state);
        let (op, status, mut headers, mut body) = if req.url.path() == "/graphql" {
            let parsed: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let (op, answer) = self.graphql(&mut s, &parsed);
            (
                op,
                200,
                Vec::new(),
                as_github_answers(&parsed, answer).to_string(),
            )
        } else {
            self.rest(&s, req)
        };
        let fault = s.ledger.take(&op);
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
            Some(FaultKind::Truncated) => body.truncate(body.len() / 2),
            Some(FaultKind::DeleteAfter(repo, number)) => {
                if let Some(items) = s.repos.get_mut(&repo) {
                    items.retain(|i| i.number != number);
                }
            }
            None => {}
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
