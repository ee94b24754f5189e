//! Which source errors a later attempt of the same run can fix: what a scheduler (the daemon's retry with
//! backoff) asks before it tries a failed sync again, rather than reporting it and waiting for a fix.

use crate::http::HttpError;
use crate::{ApiError, SourceError};

impl HttpError {
    /// Whether the same request may succeed later: the retries ran out on transient failures (5xx,
    /// timeouts, cut bodies), the rate limit resets later than the run may wait, or a status that says
    /// "later" (408, 429, 5xx). A refusal (401, 403, 404, 422), an unreadable body or a tape problem is
    /// answered the same way every time.
    pub fn is_retriable(&self) -> bool {
        match self {
            Self::Exhausted { .. } | Self::RateLimited { .. } => true,
            Self::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
            Self::Body { .. } | Self::Request { .. } | Self::Tape { .. } => false,
        }
    }
}

impl SourceError {
    /// Whether trying the sync again later may succeed (see [`HttpError::is_retriable`]); GraphQL errors
    /// that GitHub documents as transient (`RATE_LIMITED`, a timeout, "Something went wrong") and a
    /// concurrent answer that went missing are too. A bad record, cursor or config, a stuck pager and an
    /// answer of the wrong shape are not: they need a fix first.
    pub fn is_retriable(&self) -> bool {
        match self {
            Self::Http(e) => e.is_retriable(),
            Self::Api(ApiError::GraphQl { errors, .. }) => {
                let e = errors.to_lowercase();
                [
                    "rate_limited",
                    "rate limit",
                    "timeout",
                    "timedout",
                    "something went wrong",
                ]
                .iter()
                .any(|t| e.contains(t))
            }
            Self::Api(ApiError::Missing { .. }) => true,
            Self::Api(_)
            | Self::BadRecord { .. }
            | Self::BadCursor(_)
            | Self::Paging(_)
            | Self::Config(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16) -> SourceError {
        SourceError::Http(HttpError::Status {
            method: "GET".into(),
            url: "https://api.example.com/x".into(),
            status,
            message: "m".into(),
        })
    }

    fn graphql(errors: &str) -> SourceError {
        SourceError::Api(ApiError::GraphQl {
            query: "issues".into(),
            errors: errors.into(),
        })
    }

    #[test]
    fn only_errors_a_later_attempt_can_fix_are_retriable() {
        let url = || "https://api.example.com/x".to_string();
        let cases: Vec<(SourceError, bool)> = vec![
            (status(401), false),
            (status(403), false),
            (status(404), false),
            (status(422), false),
            (status(408), true),
            (status(429), true),
            (status(502), true),
            (
                SourceError::Http(HttpError::Exhausted {
                    url: url(),
                    attempts: 5,
                    last: "HTTP 503".into(),
                }),
                true,
            ),
            (
                SourceError::Http(HttpError::RateLimited {
                    url: url(),
                    wait_seconds: 120,
                    max_seconds: 5,
                }),
                true,
            ),
            (
                SourceError::Http(HttpError::Body {
                    url: url(),
                    message: "expected value".into(),
                }),
                false,
            ),
            (
                SourceError::Http(HttpError::Request {
                    url: url(),
                    message: "relative URL without a base".into(),
                }),
                false,
            ),
            (
                SourceError::Http(HttpError::Tape {
                    path: "t".into(),
                    message: "no recording".into(),
                }),
                false,
            ),
            (graphql("RATE_LIMITED: API rate limit exceeded"), true),
            (
                graphql("Something went wrong while executing your query"),
                true,
            ),
            (graphql("Field 'x' doesn't exist on type 'Issue'"), false),
            (SourceError::Api(ApiError::Missing { what: "events" }), true),
            (
                SourceError::Api(ApiError::RepositoryNotFound { repo: "a/b".into() }),
                false,
            ),
            (SourceError::BadCursor("{".into()), false),
            (SourceError::Config("no token".into()), false),
            (
                SourceError::BadRecord {
                    source_name: "s".into(),
                    stream: "issues".into(),
                    key: "1".into(),
                    message: "missing field".into(),
                },
                false,
            ),
        ];
        for (e, retriable) in cases {
            assert_eq!(e.is_retriable(), retriable, "{e}");
        }
    }
}
