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

mod faults;
mod graphql;
mod handler;
mod rest;
mod spec;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration as Span, Utc};
use serde_json::{json, Value};
use wiremock::MockServer;

pub use faults::{Fault, FaultKind};
pub use spec::FakeOrgSpec;

use graphql::node_id;
use handler::Handler;
use spec::{base, generate, user};

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
    /// Breaches of GitHub's REST contract seen so far (see [`rest_contract`](rest::rest_contract)).
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

    /// The variables of the GraphQL queries named `operation` (`IssuesPage`, `SearchPage`, …) the fake
    /// received, in order.
    pub fn graphql_variables(&self, operation: &str) -> Vec<serde_json::Value> {
        self.received()
            .iter()
            .filter(|r| r.target == "/graphql")
            .map(crate::shared::Received::json)
            .filter(|q| {
                q["query"]
                    .as_str()
                    .is_some_and(|d| d.contains(&format!("query {operation}")))
            })
            .map(|q| q["variables"].clone())
            .collect()
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

#[cfg(test)]
mod tests {
    use super::graphql::key;
    use super::*;

    use crate::shared::tests::get_with_link as get;

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
