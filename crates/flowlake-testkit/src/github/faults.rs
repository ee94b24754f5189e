//! The faults a test can inject into the fake GitHub ([`Fault`], [`FaultKind`]), and the rewrite that makes a
//! GraphQL answer a stuck pager.

use serde_json::{json, Value};

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
pub(super) fn stick(answer: &mut Value, after: &Value) -> bool {
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
