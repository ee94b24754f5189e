//! A fake Jira for tests and benchmarks: generated projects served on loopback with
//! Cloud's or Server's search and changelog endpoints and shapes — times with the user's offset, Cyrillic
//! status names, embedded changelogs cut past a limit — plus injected faults (429 with Retry-After, 5xx,
//! bodies cut mid-JSON), issues moved between projects, and an added latency per request.
//!
//! Every request is matched to an operation of Atlassian's OpenAPI document for Jira Cloud and every 2xx
//! body validated against its response schema ([`crate::contracts::openapi::jira`]; Server's v2 paths
//! against v3's): a breach is answered `400` with the reasons in `errorMessages`, which ends the sync with
//! them, and kept, and the fake panics when dropped with breaches not taken
//! ([`FakeJira::take_contract_violations`]).

mod handler;
mod payloads;
mod spec;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration as Span, Utc};
use wiremock::MockServer;

use handler::Handler;
use spec::{base, generate, STATUSES};

pub use spec::FakeJiraSpec;

/// A fault for the `nth` request of an operation: see [`StatusFault`].
pub type JiraFault = crate::shared::StatusFault;

/// A changelog entry: (history id, author, at, field, from, to).
type Entry = (u64, &'static str, DateTime<Utc>, String, String, String);

#[derive(Debug, Clone)]
struct Issue {
    id: u64,
    key: String,
    project: String,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    status: usize,
    histories: Vec<Entry>,
}

#[derive(Debug, Default)]
struct State {
    issues: Vec<Issue>,
    ledger: crate::shared::Ledger<JiraFault>,
    next_history: u64,
    clock: i64,
    /// Breaches of Jira's REST contract seen so far.
    violations: Vec<String>,
}

/// The running fake. Dropping it stops the server.
pub struct FakeJira {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}
impl FakeJira {
    /// Generates the instance and serves it on loopback.
    pub fn start(spec: &FakeJiraSpec) -> Self {
        let state = Arc::new(Mutex::new(generate(spec)));
        let (runtime, server) = crate::shared::serve(|base| Handler {
            state: state.clone(),
            spec: spec.clone(),
            base,
        });
        Self {
            runtime,
            server,
            state,
        }
    }

    /// The base URL.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Every request received so far, in order, with its body: what the tests assert a source asked for
    /// (a cursor in a query or in a GraphQL document's variables).
    pub fn received(&self) -> Vec<crate::shared::Received> {
        crate::shared::received(&self.runtime, &self.server)
    }

    /// Adds a fault.
    pub fn inject(&self, fault: JiraFault) {
        lock(&self.state).ledger.inject(fault);
    }

    /// Sends issue `key` back from Review to В работе, now.
    pub fn reopen(&self, key: &str) {
        self.transition(key, STATUSES[1].1);
    }

    /// Moves issue `key` to the status named `to` (the first of that name), now.
    pub fn transition(&self, key: &str, to: &str) {
        let Some(target) = STATUSES.iter().position(|s| s.1 == to) else {
            return;
        };
        let mut s = lock(&self.state);
        s.clock += 60;
        s.next_history += 1;
        let at = base() + Span::days(400) + Span::seconds(s.clock);
        let h = s.next_history;
        if let Some(i) = s.issues.iter_mut().find(|i| i.key == key) {
            let from = STATUSES[i.status].1.to_string();
            i.histories
                .push((h, "5b10d", at, "status".into(), from, to.into()));
            i.status = target;
            i.updated = at;
        }
    }

    /// The breaches of Jira's REST contract seen so far, taken: a request flowlake sent that Atlassian's
    /// document does not allow, or an answer of the fake's that it does not.
    pub fn take_contract_violations(&self) -> Vec<String> {
        std::mem::take(&mut lock(&self.state).violations)
    }

    /// Moves issue `key` to `project`: a new key, the same id, a changelog entry, as Jira does.
    pub fn move_issue(&self, key: &str, project: &str) -> Option<String> {
        let mut s = lock(&self.state);
        s.clock += 60;
        s.next_history += 1;
        let at = base() + Span::days(400) + Span::seconds(s.clock);
        let h = s.next_history;
        let count = s.issues.iter().filter(|i| i.project == project).count();
        let i = s.issues.iter_mut().find(|i| i.key == key)?;
        let new_key = format!("{project}-{}", count + 1);
        i.histories
            .push((h, "5b10a", at, "Key".into(), i.key.clone(), new_key.clone()));
        i.key.clone_from(&new_key);
        i.project = project.into();
        i.updated = at;
        Some(new_key)
    }

    /// Requests answered so far, by operation and status.
    pub fn answered(&self) -> BTreeMap<(String, u16), u64> {
        lock(&self.state).ledger.answered()
    }

    /// Forgets the counts.
    pub fn reset_counts(&self) {
        lock(&self.state).ledger.reset();
    }
}

/// A breach of the REST contract fails the test that caused it even where the source tolerated the `400`.
impl Drop for FakeJira {
    fn drop(&mut self) {
        let violations = self.take_contract_violations();
        if !violations.is_empty() && !std::thread::panicking() {
            panic!(
                "the fake Jira saw breaches of Jira's REST contract:\n{}",
                violations.join("\n")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use flowlake_connect::jira::Flavor;
    use serde_json::Value;

    use super::*;
    use crate::shared::tests::get;

    const JQL: &str =
        "project%20in%20(%22CORE%22%2C%20%22WEB%22)%20ORDER%20BY%20updated%20ASC%2C%20key%20ASC";

    #[test]
    fn every_answer_of_cloud_and_server_fits_atlassians_document() {
        for (flavor, paths) in [
            (
                Flavor::Cloud,
                vec![
                    "/rest/api/3/status".to_string(),
                    "/rest/api/3/field".into(),
                    "/rest/api/3/myself".into(),
                    format!("/rest/api/3/search/jql?jql={JQL}&maxResults=50&fields=*navigable,worklog&expand=changelog"),
                    format!("/rest/api/3/search/jql?jql={JQL}&maxResults=50&fields=*navigable&expand=changelog&nextPageToken=tok-50"),
                    "/rest/api/3/issue/CORE-6/changelog?startAt=0&maxResults=100".into(),
                    "/rest/api/3/issue/WEB-3/worklog?startAt=0&maxResults=5000".into(),
                ],
            ),
            (
                Flavor::Server,
                vec![
                    "/rest/api/2/status".to_string(),
                    "/rest/api/2/field".into(),
                    "/rest/api/2/myself".into(),
                    format!("/rest/api/2/search?jql={JQL}&startAt=0&maxResults=40&fields=*navigable&expand=changelog"),
                    "/rest/api/2/issue/CORE-6?fields=none&expand=changelog".into(),
                ],
            ),
        ] {
            let fake = FakeJira::start(&FakeJiraSpec {
                flavor,
                ..FakeJiraSpec::default()
            });
            for path in paths {
                let (status, body) = get(&format!("{}{path}", fake.uri()));
                assert_eq!(status, 200, "{flavor:?} {path}: {body}");
            }
            assert_eq!(fake.take_contract_violations(), Vec::<String>::new());
        }
    }

    #[test]
    fn cloud_embeds_the_most_recent_changelog_entries_newest_first_with_field_ids() {
        let fake = FakeJira::start(&FakeJiraSpec::default());
        // CORE-6 is issue 10, whose changelog is longer than the 20 a search embeds.
        let mut token = String::new();
        let issue = loop {
            let (_, page) = get(&format!(
                "{}/rest/api/3/search/jql?jql={JQL}&maxResults=100&fields=*navigable&expand=changelog{token}",
                fake.uri()
            ));
            let found = page["issues"]
                .as_array()
                .and_then(|a| a.iter().find(|i| i["key"] == "CORE-6"))
                .cloned();
            match (found, page["nextPageToken"].as_str()) {
                (Some(issue), _) => break issue,
                (None, Some(t)) => token = format!("&nextPageToken={t}"),
                (None, None) => panic!("CORE-6 is not found"),
            }
        };
        let embedded = issue["changelog"]["histories"]
            .as_array()
            .expect("histories");
        let total = issue["changelog"]["total"].as_u64().unwrap_or_default();
        assert!(total as usize > embedded.len());
        let times: Vec<DateTime<Utc>> = embedded
            .iter()
            .filter_map(|h| flowlake_connect::jira::parse_time(h["created"].as_str()?))
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] >= w[1]),
            "newest first: {times:?}"
        );
        let (_, all) = get(&format!(
            "{}/rest/api/3/issue/CORE-6/changelog?startAt=0&maxResults=100",
            fake.uri()
        ));
        let newest = all["values"]
            .as_array()
            .and_then(|v| v.last())
            .expect("entries");
        assert_eq!(
            embedded[0]["id"], newest["id"],
            "the changelog endpoint is oldest first"
        );
        let item = &embedded[0]["items"][0];
        assert_eq!(item["fieldId"], item["field"], "{item}");
        assert!(fake.take_contract_violations().is_empty());
    }

    #[test]
    fn status_lists_to_do_twice_under_two_project_scopes() {
        let fake = FakeJira::start(&FakeJiraSpec::default());
        let (_, all) = get(&format!("{}/rest/api/3/status", fake.uri()));
        let to_do: Vec<&Value> = all
            .as_array()
            .map(|a| a.iter().filter(|s| s["name"] == "To Do").collect())
            .unwrap_or_default();
        assert_eq!(to_do.len(), 2);
        assert_ne!(to_do[0]["id"], to_do[1]["id"]);
        assert!(to_do.iter().all(|s| s["scope"]["type"] == "PROJECT"));
        assert!(fake.take_contract_violations().is_empty());
    }

    #[test]
    fn a_jira_request_the_document_does_not_allow_is_refused_with_the_reason() {
        let fake = FakeJira::start(&FakeJiraSpec::default());
        let (status, body) = get(&format!(
            "{}/rest/api/3/issue/CORE-6/changelog?startAt=zero",
            fake.uri()
        ));
        assert_eq!(status, 400);
        assert!(
            body["errorMessages"][0]
                .as_str()
                .is_some_and(|m| m.contains("`startAt=zero`")),
            "{body}"
        );
        assert_eq!(fake.take_contract_violations().len(), 1);
    }
}
