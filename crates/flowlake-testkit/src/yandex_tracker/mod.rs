//! A fake Yandex Tracker for tests and benchmarks: generated queues served on loopback
//! with the search (pages and scroll), Link-paged changelogs and status metadata, the organization header
//! required, faults injected on demand, and an added latency per request. Issue `DEV-1` replays the worked
//! example of tracker-exporter's per-status rows.
//!
//! Answers have the shape of the recorded ones (`fixtures/yandex_tracker/`: an anonymised real issue and
//! user, and the answers yandex-cloud/docs documents), and paging works as the API reference says: a changelog
//! page carries two `Link` headers, `rel="first"` and `rel="next"` (`get-changelog.md`); a scroll page carries
//! `X-Scroll-Id` and `X-Scroll-Token` only while it is not the last, and `perScroll` is read from the first
//! request alone (`search-issues.md`). Every request is held to the parameters and headers Tracker documents and
//! every 2xx answer to the recordings ([`crate::contracts::recorded::yandex_tracker`]): a breach is answered
//! `400` with the reasons in `errorMessages` and kept, and the fake panics when dropped with breaches not taken
//! ([`FakeTracker::take_contract_violations`]).

mod handler;
mod payloads;
mod spec;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration as Span, Utc};
use serde_json::{json, Value};
use wiremock::MockServer;

use handler::Handler;
use payloads::API;
use spec::{at, generate};

pub use spec::FakeTrackerSpec;

/// A fault for the `nth` request of an operation: see [`StatusFault`].
pub type TrackerFault = crate::shared::StatusFault;

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
    ledger: crate::shared::Ledger<TrackerFault>,
    next_entry: u64,
    clock: i64,
    /// Breaches of Tracker's recorded contract seen so far.
    violations: Vec<String>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
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
        self.received()
            .iter()
            .map(crate::shared::Received::line)
            .collect()
    }

    /// Every request received so far, in order, with its body.
    pub fn received(&self) -> Vec<crate::shared::Received> {
        crate::shared::received(&self.runtime, &self.server)
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
