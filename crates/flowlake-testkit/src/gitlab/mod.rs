//! A fake GitLab for tests and benchmarks: a group of generated projects served on
//! loopback under `/api/v4` — group projects (those of subgroups only with `include_subgroups=true`, those
//! other groups share with it unless `with_shared=false`: the defaults gitlabhq/gitlabhq `doc/api/groups.md`
//! gives), issues and merge requests filtered by `updated_after` and paged with `Link`/`X-Next-Page` (issues
//! by keyset `cursor` when asked `pagination=keyset`), resource state and label events, notes, deployments
//! and pipelines (ordered by `order_by`/`sort`), `RateLimit-*` headers — with faults on demand. Issue
//! `acme/api#1` has a fixed history for hand-computed time in status.
//!
//! Payloads follow GitLab's real shapes, `null`s included: deployments as `API::Entities::Deployment`
//! exposes them (no top-level `finished_at`; `deployable: null` for one created through the API; a job that
//! never ran has `finished_at: null`), a pipeline with `updated_at: null` as recorded by
//! apache/incubator-devlake (`backend/plugins/gitlab/e2e/raw_tables/_raw_gitlab_api_pipeline.csv`), issues
//! and merge requests with the `null` fields airbytehq/airbyte records
//! (`airbyte-integrations/connectors/source-gitlab/integration_tests/expected_records.jsonl`).
//!
//! Every request is held to the parameters GitLab documents for its endpoint and every 2xx answer to the answers
//! recorded from gitlab.com and GitLab's own JSON schemas ([`crate::contracts::recorded::gitlab`]): a breach
//! is answered `400` with the reasons in `message`, which ends the sync with them, and kept, and the fake panics
//! when dropped with breaches not taken ([`FakeGitlab::take_contract_violations`]).

mod handler;
mod payloads;
mod spec;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration as Span, Utc};
use serde_json::{json, Value};
use wiremock::MockServer;

use handler::Handler;
use spec::{base, generate};

pub use spec::FakeGitlabSpec;

/// A fault for the `nth` request of an operation: see [`StatusFault`].
pub type GitlabFault = crate::shared::StatusFault;

#[derive(Debug, Clone)]
struct Item {
    id: i64,
    iid: i64,
    mr: bool,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    state: &'static str,
    labels: Vec<String>,
    states: Vec<Value>,
    label_events: Vec<Value>,
}

#[derive(Debug, Default)]
struct State {
    group: String,
    projects: BTreeMap<String, Vec<Item>>,
    /// Projects of other namespaces shared with the group.
    shared: Vec<String>,
    /// Deployments and pipelines per project, oldest first.
    deployments: BTreeMap<String, Vec<Value>>,
    pipelines: BTreeMap<String, Vec<Value>>,
    ledger: crate::shared::Ledger<GitlabFault>,
    next_event: i64,
    /// Breaches of GitLab's recorded contract seen so far.
    violations: Vec<String>,
    /// A pipeline was broken on purpose ([`FakeGitlab::break_pipeline`]): pipeline answers are not held to
    /// the recordings, which no broken pipeline fits.
    broken: bool,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// The running fake. Dropping it stops the server.
pub struct FakeGitlab {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
    state: Arc<Mutex<State>>,
    keyset_pages: Arc<AtomicU64>,
}

impl FakeGitlab {
    /// Generates the group and serves it on loopback.
    pub fn start(spec: &FakeGitlabSpec) -> Self {
        let state = Arc::new(Mutex::new(generate(spec)));
        let keyset_pages = Arc::new(AtomicU64::new(0));
        let (runtime, server) = crate::shared::serve(|base| Handler {
            state: state.clone(),
            latency: spec.latency,
            base,
            keyset_pages: keyset_pages.clone(),
        });
        Self {
            runtime,
            server,
            state,
            keyset_pages,
        }
    }

    /// The instance URL (the API is under `/api/v4`).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Every request received so far, in order, with its body: what the tests assert a source asked for
    /// (a cursor in a query or in a GraphQL document's variables).
    pub fn received(&self) -> Vec<crate::shared::Received> {
        crate::shared::received(&self.runtime, &self.server)
    }

    /// Adds a fault.
    pub fn inject(&self, fault: GitlabFault) {
        lock(&self.state).ledger.inject(fault);
    }

    /// Closes item `iid` of `project` now.
    pub fn close(&self, project: &str, iid: i64) {
        let mut s = lock(&self.state);
        let at = base() + Span::days(400) + Span::minutes(s.next_event);
        if let Some(n) = s
            .projects
            .get(project)
            .and_then(|l| l.iter().position(|i| i.iid == iid))
        {
            let mut item = s.projects[project][n].clone();
            s.state(&mut item, at, "closed");
            if let Some(list) = s.projects.get_mut(project) {
                list[n] = item;
            }
        }
    }

    /// Adds a pipeline to `project` created now, as an `external` one still running with `updated_at: null`
    /// (which `updated_after` never matches), and returns its id: the highest yet, as GitLab's ids grow.
    pub fn add_pipeline_without_updated_at(&self, project: &str) -> i64 {
        let mut s = lock(&self.state);
        let id = s
            .pipelines
            .values()
            .flatten()
            .filter_map(|p| p["id"].as_i64())
            .max()
            .unwrap_or(3000)
            + 1;
        let at = base() + Span::days(400) + Span::minutes(s.next_event);
        s.next_event += 1;
        if let Some(list) = s.pipelines.get_mut(project) {
            list.push(json!({
                "id": id, "iid": list.len() + 1, "project_id": 1, "sha": format!("{id:040x}"), "ref": "main",
                "status": "running", "source": "external", "created_at": at, "updated_at": null,
                "web_url": format!("https://gitlab.example.com/{project}/-/pipelines/{id}")
            }));
        }
        id
    }

    /// A fault: pipeline `id` of `project` loses both its times (`created_at` and `updated_at` `null`, which no
    /// GitLab sends), so flowlake cannot read it; for tests of what happens to such a record.
    pub fn break_pipeline(&self, project: &str, id: i64) {
        let mut s = lock(&self.state);
        if let Some(p) = s
            .pipelines
            .get_mut(project)
            .and_then(|l| l.iter_mut().find(|p| p["id"] == id))
        {
            p["created_at"] = Value::Null;
            p["updated_at"] = Value::Null;
            s.broken = true;
        }
    }

    /// Requests answered so far, by operation and status.
    pub fn answered(&self) -> BTreeMap<(String, u16), u64> {
        lock(&self.state).ledger.answered()
    }

    /// The breaches of GitLab's recorded contract seen so far, taken: a request flowlake sent with a parameter
    /// GitLab does not document for its endpoint, or an answer of the fake's that differs from the recorded ones.
    pub fn take_contract_violations(&self) -> Vec<String> {
        std::mem::take(&mut lock(&self.state).violations)
    }

    /// Forgets the counts.
    pub fn reset_counts(&self) {
        lock(&self.state).ledger.reset();
        self.keyset_pages.store(0, Ordering::Relaxed);
    }

    /// Pages served by keyset `cursor` (the second and later pages of a keyset listing).
    pub fn keyset_pages(&self) -> u64 {
        self.keyset_pages.load(Ordering::Relaxed)
    }
}

/// A breach of the contract fails the test that caused it even where the source tolerated the `400`.
impl Drop for FakeGitlab {
    fn drop(&mut self) {
        let violations = self.take_contract_violations();
        if !violations.is_empty() && !std::thread::panicking() {
            panic!(
                "the fake GitLab saw breaches of GitLab's recorded contract:\n{}",
                violations.join("\n")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::tests::get;

    #[test]
    fn every_answer_of_the_fake_gitlab_fits_the_recorded_contract_and_gitlabs_schemas() {
        let fake = FakeGitlab::start(&FakeGitlabSpec::default());
        let p = "/api/v4/projects/acme%2Fapi";
        for path in [
            "/api/v4/groups/acme/projects?include_subgroups=true&with_shared=false&archived=false&order_by=path&sort=asc&per_page=100".to_string(),
            format!("{p}/issues?order_by=updated_at&sort=asc&per_page=100&pagination=keyset"),
            format!("{p}/merge_requests?order_by=updated_at&sort=asc&per_page=100"),
            format!("{p}/deployments?order_by=updated_at&sort=asc&per_page=100"),
            format!("{p}/pipelines?order_by=updated_at&sort=asc&per_page=100&updated_after=2026-03-01T00%3A00%3A00.000Z"),
            format!("{p}/issues/1/notes?per_page=100&sort=asc&order_by=created_at"),
            format!("{p}/issues/1/resource_state_events?per_page=100"),
            format!("{p}/issues/1/resource_label_events?per_page=100"),
        ] {
            let (status, body) = get(&format!("{}{path}", fake.uri()));
            assert_eq!(status, 200, "{path}: {body}");
        }
        assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
    }

    #[test]
    fn a_gitlab_request_with_an_undocumented_parameter_is_refused_with_the_reason() {
        let fake = FakeGitlab::start(&FakeGitlabSpec::default());
        let (status, body) = get(&format!(
            "{}/api/v4/projects/acme%2Fapi/issues?per_page=500&state=all",
            fake.uri()
        ));
        assert_eq!(status, 400);
        let said = body["message"].to_string();
        assert!(said.contains("500 is outside 1 to 100"), "{said}");
        assert!(said.contains("`state` is not a parameter"), "{said}");
        assert_eq!(fake.take_contract_violations().len(), 2);
    }
}
