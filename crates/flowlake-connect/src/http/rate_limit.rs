//! What a response means for the request loop: done, wait for a rate limit, retry, or fail. Pure, so every
//! rule is tested with tables of headers.
//!
//! The rules follow GitHub's documented behaviour, which most APIs share in part: a primary limit answers 403
//! or 429 with `x-ratelimit-remaining: 0` and resets at the epoch second in `x-ratelimit-reset`; a secondary
//! limit answers 403 or 429 with `retry-after` (seconds or an HTTP date) or, without headers, a message saying
//! so — then wait at least a minute.

use std::collections::BTreeMap;
use std::time::Duration;

/// The request loop's next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A success (2xx) or `304 Not Modified`.
    Done,
    /// Rate limited: wait this long, then send again.
    Wait(Duration, &'static str),
    /// A transient failure: back off and retry.
    Retry(String),
    /// A failure retrying cannot fix.
    Fail,
}

/// The wait a secondary limit without headers asks for.
const SECONDARY_DEFAULT: Duration = Duration::from_secs(60);

/// Classifies a response. `now` is the current Unix time in seconds.
pub fn classify(status: u16, headers: &BTreeMap<String, String>, body: &str, now: i64) -> Verdict {
    match status {
        // GraphQL answers a spent point budget with 200 and an error of type RATE_LIMITED.
        200 if body.len() < 4096 && body.contains("\"RATE_LIMITED\"") => Verdict::Wait(
            until_reset(headers, now).unwrap_or(SECONDARY_DEFAULT),
            "GraphQL rate limit (RATE_LIMITED)",
        ),
        200..=299 | 304 => Verdict::Done,
        403 | 429 => {
            if let Some(wait) = headers.get("retry-after").and_then(|v| retry_after(v, now)) {
                return Verdict::Wait(wait, "secondary rate limit (Retry-After)");
            }
            if spent(headers) {
                let wait = until_reset(headers, now).unwrap_or(SECONDARY_DEFAULT);
                return Verdict::Wait(wait, "rate limit exhausted (X-RateLimit-Reset)");
            }
            if status == 429 || body.to_ascii_lowercase().contains("rate limit") {
                return Verdict::Wait(SECONDARY_DEFAULT, "secondary rate limit");
            }
            Verdict::Fail
        }
        408 | 500..=599 => Verdict::Retry(format!("HTTP {status}")),
        _ => Verdict::Fail,
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(value: &str, now: i64) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?.timestamp();
    Some(Duration::from_secs(u64::try_from(at - now).unwrap_or(0)))
}

/// Whether the response says the request budget is spent.
/// A rate-limit header under GitHub's name (`x-ratelimit-…`) or the IETF draft's that GitLab sends
/// (`ratelimit-…`).
fn limit_header<'a>(headers: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    headers
        .get(&format!("x-ratelimit-{name}"))
        .or_else(|| headers.get(&format!("ratelimit-{name}")))
        .map(|v| v.trim())
}

fn spent(headers: &BTreeMap<String, String>) -> bool {
    limit_header(headers, "remaining") == Some("0")
}

/// Time until `x-ratelimit-reset` (epoch seconds), plus a second for clock skew.
fn until_reset(headers: &BTreeMap<String, String>, now: i64) -> Option<Duration> {
    let reset = limit_header(headers, "reset")?.parse::<i64>().ok()?;
    Some(Duration::from_secs(
        u64::try_from(reset - now).unwrap_or(0) + 1,
    ))
}

/// The wait a successful response asks for before the next request: none unless the budget is spent.
pub(crate) fn wait_before_next(headers: &BTreeMap<String, String>, now: i64) -> Option<Duration> {
    if spent(headers) {
        until_reset(headers, now)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Status, headers, body, expected verdict.
    type Case<'a> = (u16, &'a [(&'a str, &'a str)], &'a str, Verdict);

    #[test]
    fn verdicts() {
        let now = 1_700_000_000;
        let cases: &[Case] = &[
            (200, &[], "", Verdict::Done),
            (304, &[], "", Verdict::Done),
            (
                429,
                &[
                    ("ratelimit-remaining", "0"),
                    ("ratelimit-reset", "1700000009"),
                ],
                "Retry later",
                Verdict::Wait(
                    Duration::from_secs(10),
                    "rate limit exhausted (X-RateLimit-Reset)",
                ),
            ),
            (
                200,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1700000030"),
                ],
                r#"{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for user ID 1."}]}"#,
                Verdict::Wait(Duration::from_secs(31), "GraphQL rate limit (RATE_LIMITED)"),
            ),
            (
                403,
                &[("retry-after", "30")],
                "You have exceeded a secondary rate limit",
                Verdict::Wait(
                    Duration::from_secs(30),
                    "secondary rate limit (Retry-After)",
                ),
            ),
            (
                429,
                &[("retry-after", "Tue, 14 Nov 2023 22:14:20 GMT")],
                "",
                Verdict::Wait(
                    Duration::from_secs(1_700_000_060 - now as u64),
                    "secondary rate limit (Retry-After)",
                ),
            ),
            (
                403,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1700000100"),
                ],
                "API rate limit exceeded for user ID 1.",
                Verdict::Wait(
                    Duration::from_secs(101),
                    "rate limit exhausted (X-RateLimit-Reset)",
                ),
            ),
            (
                403,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1600000000"),
                ],
                "",
                Verdict::Wait(
                    Duration::from_secs(1),
                    "rate limit exhausted (X-RateLimit-Reset)",
                ),
            ),
            (
                403,
                &[("x-ratelimit-remaining", "4999")],
                "You have exceeded a secondary rate limit. Please wait a few minutes.",
                Verdict::Wait(SECONDARY_DEFAULT, "secondary rate limit"),
            ),
            (
                429,
                &[],
                "",
                Verdict::Wait(SECONDARY_DEFAULT, "secondary rate limit"),
            ),
            (
                403,
                &[("x-ratelimit-remaining", "4999")],
                "Resource not accessible by integration",
                Verdict::Fail,
            ),
            (502, &[], "", Verdict::Retry("HTTP 502".into())),
            (503, &[], "", Verdict::Retry("HTTP 503".into())),
            (408, &[], "", Verdict::Retry("HTTP 408".into())),
            (404, &[], "", Verdict::Fail),
            (401, &[], "Bad credentials", Verdict::Fail),
            (422, &[], "Validation Failed", Verdict::Fail),
        ];
        for (status, headers, body, want) in cases {
            assert_eq!(
                &classify(*status, &h(headers), body, now),
                want,
                "{status} {headers:?}"
            );
        }
    }

    #[test]
    fn a_spent_budget_pauses_until_the_reset() {
        let now = 1_700_000_000;
        assert_eq!(
            wait_before_next(&h(&[("x-ratelimit-remaining", "12")]), now),
            None
        );
        assert_eq!(
            wait_before_next(
                &h(&[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1700000009")
                ]),
                now
            ),
            Some(Duration::from_secs(10))
        );
    }
}
