//! What the fake servers share: a loopback server on a runtime of its own, faults keyed by operation and
//! request number — one-off (a 502, a cut body) or sticky (a pager stuck from then on) — the book of requests,
//! and the check that holds each exchange to the vendor's contract.

use std::collections::BTreeMap;

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond};

/// A fake's answer before faults are applied: the operation it counts as, the status, headers and JSON body.
pub type Answer = (String, u16, Vec<(String, String)>, serde_json::Value);

/// A fake's answer as the contract check sees it: the status says whether the body is held to the contract.
pub trait Answered {
    /// The HTTP status answered.
    fn status(&self) -> u16;
}

/// [`Answer`], and GitHub REST's answer with its body as text.
impl<H, B> Answered for (String, u16, H, B) {
    fn status(&self) -> u16 {
        self.1
    }
}

/// An answer without headers (operation, status, body), as the fake Jira makes one.
impl<B> Answered for (String, u16, B) {
    fn status(&self) -> u16 {
        self.1
    }
}

/// What `req` asked for, path and query (`/api/v4/groups/acme/projects?per_page=100`), as the contracts match
/// it.
pub fn target(req: &Request) -> String {
    match req.url.query() {
        Some(q) => format!("{}?{q}", req.url.path()),
        None => req.url.path().to_string(),
    }
}

/// The URL `req` asked for, on the fake's own address `base` (wiremock's `req.url` names `localhost`): what
/// a stuck pager's `Link: rel="next"` points back to.
pub fn self_url(base: &str, req: &Request) -> String {
    format!("{base}{}", target(req))
}

/// A header of `req` as text; `None` when it is missing or not text.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// One exchange held to a vendor's contract, the check every fake runs on every request: `check_request`
/// matches the request's [`target`] (and whatever else of `req` the contract reads) to one of the contract's
/// operations, the fake makes its `answer`, and a 2xx answer is held to that operation's answers by
/// `check_response`. A breach comes back as its reasons, each naming the side that broke `contract` (GitLab's
/// is `"GitLab's recorded contract"`) and the target; the fakes answer them with a `400` and keep them.
pub fn hold_to_contract<E, A: Answered>(
    req: &Request,
    contract: &str,
    check_request: impl FnOnce(&str) -> Result<E, Vec<String>>,
    answer: impl FnOnce() -> A,
    check_response: impl FnOnce(&E, &A) -> Result<(), Vec<String>>,
) -> Result<A, Vec<String>> {
    let target = target(req);
    let said = |what: &str, errors: Vec<String>| {
        errors
            .into_iter()
            .map(|e| format!("{what} {contract} ({target}): {e}"))
            .collect::<Vec<_>>()
    };
    let operation = check_request(&target).map_err(|e| said("flowlake's request breaks", e))?;
    let answer = answer();
    if (200..300).contains(&answer.status()) {
        check_response(&operation, &answer).map_err(|e| said("the fake's answer breaks", e))?;
    }
    Ok(answer)
}

/// A request a fake received, as the tests read it: what was asked (`METHOD path?query`) and the body (a
/// GraphQL document with its variables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// `GET`, `POST`.
    pub method: String,
    /// Path and query ([`target`]).
    pub target: String,
    /// The body as text (empty for a `GET`).
    pub body: String,
}

impl Received {
    /// `METHOD path?query`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.target)
    }

    /// The decoded value of query parameter `name`, if sent.
    pub fn query(&self, name: &str) -> Option<String> {
        let (_, query) = self.target.split_once('?')?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Every request `server` received so far, in order (wiremock records them all).
pub fn received(runtime: &tokio::runtime::Runtime, server: &MockServer) -> Vec<Received> {
    runtime
        .block_on(server.received_requests())
        .unwrap_or_default()
        .iter()
        .map(|r| Received {
            method: r.method.to_string(),
            target: target(r),
            body: String::from_utf8_lossy(&r.body).into_owned(),
        })
        .collect()
}

/// Starts a loopback server answering every request with `handler`, on a runtime of its own so blocking
/// callers (the CLI, the engine) can use it from any thread. `handler` gets the server's base URL.
pub fn serve<H: Respond + 'static>(
    handler: impl FnOnce(String) -> H,
) -> (tokio::runtime::Runtime, MockServer) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for a fake server");
    let server = runtime.block_on(MockServer::start());
    let handler = handler(server.uri());
    runtime.block_on(Mock::given(any()).respond_with(handler).mount(&server));
    (runtime, server)
}

/// A fault served instead of the normal answer to the `nth` (0-based) request of operation `op`: a status
/// (429 carries `Retry-After: 1`), 0 for the normal body cut in half, or [`STUCK_PAGES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusFault {
    /// Operation, as the fake names it.
    pub op: String,
    /// Which of its requests.
    pub nth: usize,
    /// Status, 0, or [`STUCK_PAGES`].
    pub status: u16,
}

/// [`StatusFault::status`] of a pager that stops advancing: from the `nth` request of the operation on, every
/// answer says another page follows but points back to a page already served (each fake says how: the same
/// `Link: rel="next"`, the same token or scroll id, an offset or page number ignored). Sticky: it stays for
/// every later request of the operation, as a broken server would, so a client that does not notice loops.
pub const STUCK_PAGES: u16 = 1;

impl StatusFault {
    /// A pager of `op` stuck from its `nth` request on (see [`STUCK_PAGES`]).
    pub fn stuck(op: &str, nth: usize) -> Self {
        Self {
            op: op.into(),
            nth,
            status: STUCK_PAGES,
        }
    }
}

/// A fault that names the operation and the request number it replaces.
pub trait KeyedFault: Clone {
    /// Operation, as the fake names it.
    fn op(&self) -> &str;
    /// Which of its requests (0-based).
    fn nth(&self) -> usize;
    /// Whether it replaces every request of the operation from the `nth` on, not only the `nth`.
    fn sticky(&self) -> bool {
        false
    }
}

impl KeyedFault for StatusFault {
    fn op(&self) -> &str {
        &self.op
    }
    fn nth(&self) -> usize {
        self.nth
    }
    fn sticky(&self) -> bool {
        self.status == STUCK_PAGES
    }
}

/// A fake's book of requests: the faults waiting for their request, how many requests each operation has
/// had, and what was answered (by operation and status), which the tests read.
#[derive(Debug)]
pub struct Ledger<F> {
    faults: Vec<F>,
    served: BTreeMap<String, usize>,
    answered: BTreeMap<(String, u16), u64>,
}

impl<F> Default for Ledger<F> {
    fn default() -> Self {
        Self {
            faults: Vec::new(),
            served: BTreeMap::new(),
            answered: BTreeMap::new(),
        }
    }
}

impl<F: KeyedFault> Ledger<F> {
    /// Queues a fault.
    pub fn inject(&mut self, fault: F) {
        self.faults.push(fault);
    }

    /// Counts a request of `op` and takes the fault waiting for it, if any (a sticky fault stays for the
    /// requests after it).
    pub fn take(&mut self, op: &str) -> Option<F> {
        let n = self.served.entry(op.to_string()).or_insert(0);
        let nth = *n;
        *n += 1;
        let i = self
            .faults
            .iter()
            .position(|f| f.op() == op && (f.nth() == nth || (f.sticky() && f.nth() <= nth)))?;
        if self.faults[i].sticky() {
            return Some(self.faults[i].clone());
        }
        Some(self.faults.remove(i))
    }

    /// Records the status an `op` request was answered with.
    pub fn count(&mut self, op: String, status: u16) {
        *self.answered.entry((op, status)).or_insert(0) += 1;
    }

    /// Requests answered so far, by operation and status.
    pub fn answered(&self) -> BTreeMap<(String, u16), u64> {
        self.answered.clone()
    }

    /// Requests answered so far, all together.
    pub fn total(&self) -> u64 {
        self.answered.values().sum()
    }

    /// Forgets the answers (faults and request numbers stay).
    pub fn reset(&mut self) {
        self.answered.clear();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::Value;

    /// GETs `url` from a fake: the status and the body as JSON (`null` when it is not JSON).
    pub(crate) fn get(url: &str) -> (u16, Value) {
        let (status, _, body) = get_with_link(url);
        (status, body)
    }

    /// GETs `url` from a fake: the status, the `Link` header and the body as JSON (`null` when it is not
    /// JSON).
    pub(crate) fn get_with_link(url: &str) -> (u16, Option<String>, Value) {
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
}
