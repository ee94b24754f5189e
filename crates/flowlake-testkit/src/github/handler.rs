//! The fake's request handler: routes a request to the GraphQL or REST answers, holds REST to GitHub's
//! contract, serves the injected faults, and adds the rate-limit headers and latency of every response.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

use super::faults::{stick, FaultKind};
use super::graphql::as_github_answers;
use super::rest::rest_contract;
use super::{lock, State};

pub(super) struct Handler {
    pub(super) state: Arc<Mutex<State>>,
    pub(super) latency: Duration,
    /// `http://127.0.0.1:PORT`, for Link headers.
    pub(super) base: String,
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
