//! The fake's request handler: routes a search (pages or scroll), changelog or status request to its answer,
//! holds every exchange to Tracker's recorded contract, serves the injected faults (a stuck pager among
//! them) and adds the latency of every response.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDateTime;
use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

use super::payloads::{comments, issue_json, worklog};
use super::spec::{PEOPLE, STATUSES};
use super::{lock, Issue, State};

pub(super) struct Handler {
    pub(super) state: Arc<Mutex<State>>,
    pub(super) latency: Duration,
    /// `http://127.0.0.1:PORT`, for Link headers.
    pub(super) base: String,
}

impl Handler {
    /// Issues updated at or after the query's bound, oldest update first.
    fn matching<'a>(s: &'a State, body: &Value) -> Vec<&'a Issue> {
        let query = body["query"].as_str().unwrap_or_default();
        let bound = query
            .split("Updated: >= \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok())
            .map(|n| n.and_utc());
        let mut found: Vec<&Issue> = s
            .issues
            .iter()
            .filter(|i| bound.is_none_or(|b| i.updated >= b))
            .collect();
        found.sort_by_key(|i| (i.updated, i.id.clone()));
        found
    }

    fn answer(&self, s: &State, req: &Request) -> crate::shared::Answer {
        let q: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        let num = |k: &str, d: usize| q.get(k).and_then(|x| x.parse().ok()).unwrap_or(d);
        let path = req.url.path().to_string();
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let org = req
            .headers
            .get("x-org-id")
            .or(req.headers.get("x-cloud-org-id"));
        if org.is_none() {
            return (
                "unknown".into(),
                401,
                vec![],
                json!({"errors": {}, "errorMessages": ["Organization is not specified"], "statusCode": 401}),
            );
        }
        match parts.as_slice() {
            ["v2", "statuses"] => (
                "statuses".into(),
                200,
                vec![],
                Value::from(
                    STATUSES
                        .iter()
                        .enumerate()
                        .map(|(n, (k, d, t))| json!({"id": n + 1, "key": k, "name": d, "display": d, "type": t}))
                        .collect::<Vec<_>>(),
                ),
            ),
            ["v2", "issues", "_search"] => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                let found = Self::matching(s, &body);
                if q.contains_key("scrollType") || q.contains_key("scrollId") {
                    // The scroll id carries where the next page starts and the page size of the first request
                    // (`perScroll` is read from the first request only: search-issues.md).
                    let (per, from) = q
                        .get("scrollId")
                        .and_then(|id| id.strip_prefix("scroll-"))
                        .and_then(|rest| rest.split_once('-'))
                        .and_then(|(per, from)| Some((per.parse().ok()?, from.parse().ok()?)))
                        .unwrap_or((num("perScroll", 100), 0usize));
                    let end = (from + per).min(found.len());
                    let issues: Vec<Value> =
                        found[from.min(end)..end].iter().map(|i| issue_json(i)).collect();
                    let ttl = num("scrollTTLMillis", 60_000);
                    let mut headers = vec![
                        ("x-total-count".to_string(), found.len().to_string()),
                        (
                            "link".to_string(),
                            format!("<{}/v2/issues/_search?scrollType=sorted&scrollTTLMillis={ttl}&perScroll={per}>; rel=\"first\"", self.base),
                        ),
                    ];
                    // X-Scroll-Id and X-Scroll-Token only while the page is not the last (search-issues.md:
                    // "Если запрошенная страница не является последней, также возвращаются заголовки").
                    if end < found.len() {
                        let id = format!("scroll-{per}-{end}");
                        headers.push((
                            "link".to_string(),
                            format!("<{}/v2/issues/_search?scrollTTLMillis={ttl}&scrollId={id}&scrollToken=c44356850f446b88e5b5cd65a34a1409>; rel=\"next\"", self.base),
                        ));
                        headers.push(("x-scroll-id".to_string(), id));
                        headers.push(("x-scroll-token".to_string(), "c44356850f446b88e5b5cd65a34a1409".to_string()));
                    }
                    return ("search".into(), 200, headers, Value::from(issues));
                }
                let per = num("perPage", 50);
                let page = num("page", 1).max(1);
                let from = (page - 1) * per;
                let end = (from + per).min(found.len()).min(10_000);
                let issues: Vec<Value> =
                    found[from.min(end)..end].iter().map(|i| issue_json(i)).collect();
                let pages = found.len().min(10_000).div_ceil(per.max(1));
                (
                    "search".into(),
                    200,
                    vec![
                        ("x-total-count".into(), found.len().to_string()),
                        ("x-total-pages".into(), pages.to_string()),
                    ],
                    Value::from(issues),
                )
            }
            ["v2", "users"] => {
                let users: Vec<Value> = PEOPLE
                    .iter()
                    .map(|(id, name)| {
                        let login = format!("user{id}");
                        json!({"self": format!("https://api.tracker.yandex.net/v2/users/{id}"), "uid": id.parse::<u64>().unwrap_or(0),
                               "login": login, "trackerUid": id.parse::<u64>().unwrap_or(0), "passportUid": id.parse::<u64>().unwrap_or(0),
                               "firstName": name, "lastName": "", "display": name, "email": format!("{login}@Example.ru"),
                               "external": false, "hasLicense": true, "dismissed": false, "useNewFilters": true,
                               "disableNotifications": false, "firstLoginDate": "2025-01-10T09:00:00.000+0000",
                               "lastLoginDate": "2026-03-01T09:00:00.000+0000", "welcomeMailSent": true,
                               "sources": ["directory"]})
                    })
                    .collect();
                let per = num("perPage", 50).max(1);
                let page = num("page", 1).max(1);
                let from = ((page - 1) * per).min(users.len());
                let end = (from + per).min(users.len());
                (
                    "users".into(),
                    200,
                    vec![
                        ("x-total-count".into(), users.len().to_string()),
                        ("x-total-pages".into(), users.len().div_ceil(per).to_string()),
                    ],
                    Value::from(users[from..end].to_vec()),
                )
            }
            ["v2", "issues", key, what @ ("comments" | "worklog")] => {
                match s.issues.iter().find(|i| i.key == *key) {
                    None => (
                        (*what).into(),
                        404,
                        vec![],
                        json!({"errors": {}, "errorMessages": ["Задача не существует."], "statusCode": 404}),
                    ),
                    Some(i) => {
                        let list = if *what == "comments" { comments(i) } else { worklog(i) };
                        ((*what).into(), 200, vec![], Value::from(list))
                    }
                }
            }
            ["v2", "issues", key, "changelog"] => match s.issues.iter().find(|i| i.key == *key) {
                None => (
                    "changelog".into(),
                    404,
                    vec![],
                    json!({"errors": {}, "errorMessages": ["Задача не существует."], "statusCode": 404}),
                ),
                Some(i) => {
                    let per = num("perPage", 50);
                    let after = q.get("id").cloned();
                    let start = after
                        .and_then(|a| i.changelog.iter().position(|e| e["id"] == a.as_str()).map(|p| p + 1))
                        .unwrap_or(0);
                    let end = (start + per).min(i.changelog.len());
                    let page = i.changelog[start.min(end)..end].to_vec();
                    // Two Link headers, the first page's and the next page's, as get-changelog.md shows them.
                    let mut headers = vec![(
                        "link".to_string(),
                        format!("<{}/v2/issues/{key}/changelog?perPage={per}>; rel=\"first\"", self.base),
                    )];
                    if end < i.changelog.len() {
                        let last = page.last().and_then(|e| e["id"].as_str()).unwrap_or_default();
                        headers.push((
                            "link".to_string(),
                            format!(
                                "<{}/v2/issues/{key}/changelog?id={last}&perPage={per}>; rel=\"next\"",
                                self.base
                            ),
                        ));
                    }
                    ("changelog".into(), 200, headers, Value::from(page))
                }
            },
            _ => (
                "unknown".into(),
                404,
                vec![],
                json!({"errors": {}, "errorMessages": ["Not found"], "statusCode": 404}),
            ),
        }
    }
}

/// Tracker's recorded contract, checked on every exchange: the request must be one of the endpoints flowlake
/// calls, with documented parameters and one organization header, and a 2xx answer must have the recorded
/// answers' shape.
fn tracker_contract(
    req: &Request,
    answer: impl FnOnce() -> crate::shared::Answer,
) -> Result<crate::shared::Answer, Vec<String>> {
    use crate::contracts::recorded::{check_request, check_response, yandex_tracker};
    use crate::shared::{header, hold_to_contract};
    hold_to_contract(
        req,
        "Tracker's recorded contract",
        |target| {
            check_request(yandex_tracker(), req.method.as_str(), target, &|h| {
                header(req, h)
            })
        },
        answer,
        |endpoint, (_, _, _, body)| check_response(yandex_tracker(), endpoint, body),
    )
}

impl Handler {
    /// Turns an answer into a stuck pager's: a scroll hands back the scroll id it was given (the first one
    /// leading to the first page again), page numbers are ignored (always the first page), and a list paged
    /// by `Link` links back to the same request.
    fn stick(
        &self,
        s: &State,
        req: &Request,
        text: &mut String,
        headers: &mut Vec<(String, String)>,
    ) {
        let q: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        if req.url.path().ends_with("/_search") {
            if q.contains_key("scrollType") || q.contains_key("scrollId") {
                // The first page's scroll id again: `scroll-{page size}-{start}`, as the answer writes it.
                let id = q.get("scrollId").cloned().unwrap_or_else(|| {
                    let per = q.get("perScroll").map_or("100", String::as_str);
                    format!("scroll-{per}-0")
                });
                headers.retain(|(k, _)| k != "x-scroll-id");
                headers.push(("x-scroll-id".into(), id));
            } else {
                let mut first = req.clone();
                let pairs: Vec<(String, String)> =
                    q.into_iter().filter(|(k, _)| k != "page").collect();
                first.url.query_pairs_mut().clear().extend_pairs(pairs);
                let (_, _, h, body) = self.answer(s, &first);
                *text = body.to_string();
                *headers = h;
            }
            return;
        }
        headers.retain(|(k, _)| k != "link");
        headers.push((
            "link".into(),
            format!(
                "<{}>; rel=\"next\"",
                crate::shared::self_url(&self.base, req)
            ),
        ));
    }
}

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = lock(&self.state);
        let (op, mut status, headers, body) = match tracker_contract(req, || self.answer(&s, req)) {
            Ok(answer) => answer,
            Err(errors) => {
                let body = json!({"errors": {}, "errorMessages": errors, "statusCode": 400});
                s.violations.extend(errors);
                ("contract".into(), 400, Vec::new(), body)
            }
        };
        let fault = s.ledger.take(&op);
        let mut text = body.to_string();
        let mut extra = headers;
        match fault.map(|f| f.status) {
            Some(crate::shared::STUCK_PAGES) if status == 200 => {
                self.stick(&s, req, &mut text, &mut extra);
            }
            Some(crate::shared::STUCK_PAGES) => {}
            Some(0) => text.truncate(text.len() / 2),
            Some(code) => {
                status = code;
                extra.clear();
                if code == 429 {
                    extra.push(("retry-after".into(), "1".into()));
                }
                // Tracker's error body; 401 is "the user is not authorized" (yandex.ru/support/tracker/en/
                // api-ref/error-codes.md).
                let message = match code {
                    401 => "The user is not authorized",
                    _ => "Too many requests or server error",
                };
                text = json!({"errors": {}, "errorMessages": [message], "statusCode": code})
                    .to_string();
            }
            None => {}
        }
        s.ledger.count(op, status);
        let mut t = ResponseTemplate::new(status)
            .set_body_raw(text.into_bytes(), "application/json; charset=utf-8")
            .set_delay(self.latency);
        // Appended, not inserted: Tracker sends `Link` twice (first and next).
        for (k, v) in &extra {
            t = t.append_header(k.as_str(), v.as_str());
        }
        t
    }
}
