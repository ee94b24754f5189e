//! The fake's request handler: routes a search, changelog, status or worklog request to its answer,
//! holds every exchange to Atlassian's OpenAPI document, serves the injected faults (a stuck pager among
//! them) and adds the latency of every response.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{NaiveDateTime, TimeZone, Utc};
use flowlake_connect::jira::Flavor;
use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

use super::spec::{FakeJiraSpec, STATUSES};
use super::{lock, Issue, State};

pub(super) struct Handler {
    pub(super) state: Arc<Mutex<State>>,
    pub(super) spec: FakeJiraSpec,
    /// `http://127.0.0.1:PORT`, for `self` links.
    pub(super) base: String,
}

impl Handler {
    /// Issues matching the JQL's `updated >=` bound, oldest update first.
    fn matching<'a>(&self, s: &'a State, jql: &str) -> Vec<&'a Issue> {
        let bound = jql.split("updated >= \"").nth(1).and_then(|rest| {
            let text = rest.split('"').next()?;
            let local = NaiveDateTime::parse_from_str(text, "%Y/%m/%d %H:%M").ok()?;
            self.spec
                .time_zone
                .from_local_datetime(&local)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        });
        let mut found: Vec<&Issue> = s
            .issues
            .iter()
            .filter(|i| bound.is_none_or(|b| i.updated >= b))
            .collect();
        found.sort_by_key(|i| (i.updated, i.id));
        found
    }

    fn answer(&self, s: &State, req: &Request) -> (String, u16, Value) {
        let path = req.url.path().to_string();
        let q: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        let cloud = self.spec.flavor != Flavor::Server;
        let v = if cloud { "3" } else { "2" };
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let num = |k: &str, d: usize| q.get(k).and_then(|x| x.parse().ok()).unwrap_or(d);
        let with_worklogs = q
            .get("fields")
            .is_some_and(|f| f.split(',').any(|f| f == "worklog" || f == "*all"));
        match parts.as_slice() {
            ["rest", "api", ver, "status"] if *ver == v => (
                "status".into(),
                200,
                Value::from(
                    (0..STATUSES.len())
                        .map(|k| self.status(k))
                        .collect::<Vec<_>>(),
                ),
            ),
            ["rest", "api", ver, "field"] if *ver == v => (
                "field".into(),
                200,
                json!([
                    {"id": "summary", "key": "summary", "name": "Summary", "custom": false, "navigable": true,
                     "schema": {"type": "string", "system": "summary"}},
                    {"id": "status", "key": "status", "name": "Status", "custom": false, "navigable": true,
                     "schema": {"type": "status", "system": "status"}},
                    {"id": "customfield_10016", "key": "customfield_10016", "name": "Story Points", "custom": true,
                     "navigable": true, "schema": {"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float", "customId": 10016}},
                    {"id": "customfield_10020", "key": "customfield_10020", "name": "Спринт", "custom": true,
                     "navigable": true, "schema": {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint", "customId": 10020}},
                ]),
            ),
            ["rest", "api", ver, "issue", key, "worklog"] if *ver == v => {
                match s.issues.iter().find(|i| i.key == *key) {
                    None => (
                        "worklog".into(),
                        404,
                        json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}),
                    ),
                    Some(i) => {
                        let all = self.worklogs(i);
                        let from = num("startAt", 0);
                        let n = num("maxResults", 5000).min(5000);
                        let values: Vec<Value> = all.iter().skip(from).take(n).cloned().collect();
                        (
                            "worklog".into(),
                            200,
                            json!({"startAt": from, "maxResults": n, "total": all.len(), "worklogs": values}),
                        )
                    }
                }
            }
            ["rest", "api", ver, "myself"] if *ver == v => {
                let mut me = self.user("5b10a");
                me["locale"] = json!("ru_RU");
                me["emailAddress"] = json!("bot@acme.test");
                ("myself".into(), 200, me)
            }
            ["rest", "api", "3", "search", "jql"] if cloud => {
                let found = self.matching(s, q.get("jql").map_or("", String::as_str));
                let from = q
                    .get("nextPageToken")
                    .and_then(|t| t.strip_prefix("tok-"))
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0usize);
                let n = num("maxResults", 50).min(100);
                let end = (from + n).min(found.len());
                let issues: Vec<Value> = found[from.min(end)..end]
                    .iter()
                    .map(|i| self.issue(i, self.spec.embed_limit, with_worklogs))
                    .collect();
                let mut page = json!({"issues": issues, "isLast": end >= found.len()});
                if end < found.len() {
                    page["nextPageToken"] = json!(format!("tok-{end}"));
                }
                ("search".into(), 200, page)
            }
            ["rest", "api", "2", "search"] if !cloud => {
                let found = self.matching(s, q.get("jql").map_or("", String::as_str));
                let from = num("startAt", 0);
                let n = num("maxResults", 50).min(100);
                let end = (from + n).min(found.len());
                let issues: Vec<Value> = found[from.min(end)..end]
                    .iter()
                    .map(|i| self.issue(i, self.spec.embed_limit, with_worklogs))
                    .collect();
                (
                    "search".into(),
                    200,
                    json!({"startAt": from, "maxResults": n, "total": found.len(), "issues": issues}),
                )
            }
            ["rest", "api", "3", "issue", key, "changelog"] if cloud => {
                match s.issues.iter().find(|i| i.key == *key) {
                    None => (
                        "changelog".into(),
                        404,
                        json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}),
                    ),
                    Some(i) => {
                        let from = num("startAt", 0);
                        let n = num("maxResults", 100).min(100);
                        let values: Vec<Value> = i
                            .histories
                            .iter()
                            .skip(from)
                            .take(n)
                            .map(|h| self.history(h))
                            .collect();
                        let end = from + values.len();
                        let at = format!("{}/rest/api/3/issue/{key}/changelog", self.base);
                        let mut page = json!({"self": format!("{at}?startAt={from}&maxResults={n}"), "startAt": from,
                            "maxResults": n, "total": i.histories.len(), "isLast": end >= i.histories.len(), "values": values});
                        if end < i.histories.len() {
                            page["nextPage"] = json!(format!("{at}?startAt={end}&maxResults={n}"));
                        }
                        ("changelog".into(), 200, page)
                    }
                }
            }
            ["rest", "api", "2", "issue", key] if !cloud => {
                match s.issues.iter().find(|i| i.key == *key) {
                    None => (
                        "changelog".into(),
                        404,
                        json!({"errorMessages": ["Issue Does Not Exist"], "errors": {}}),
                    ),
                    Some(i) => ("changelog".into(), 200, self.issue(i, usize::MAX, false)),
                }
            }
            _ => (
                "unknown".into(),
                404,
                json!({"errorMessages": ["null for uri: no such endpoint"], "errors": {}}),
            ),
        }
    }
}

impl Handler {
    /// The answer of a pager that stopped advancing: the first page whatever `startAt` or `nextPageToken`
    /// asks for, still saying more follow (`isLast: false`, and Cloud's search a `nextPageToken` that leads
    /// to that first page again).
    fn stuck(&self, s: &State, req: &Request) -> Value {
        let mut first = req.clone();
        let pairs: Vec<(String, String)> = req
            .url
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| k != "nextPageToken")
            .map(|(k, v)| {
                if k == "startAt" {
                    (k, "0".into())
                } else {
                    (k, v)
                }
            })
            .collect();
        first.url.query_pairs_mut().clear().extend_pairs(pairs);
        let (op, _, mut body) = self.answer(s, &first);
        if body.get("isLast").is_some() {
            body["isLast"] = json!(false);
        }
        if op == "search" && body.get("total").is_none() {
            body["nextPageToken"] = json!("tok-0");
        }
        body
    }
}

/// Jira's REST contract, checked on every exchange: the request must be an operation of Atlassian's document
/// with declared, well-typed parameters, and a 2xx body must fit the operation's response schema.
fn jira_contract(
    req: &Request,
    answer: impl FnOnce() -> (String, u16, Value),
) -> Result<(String, u16, Value), Vec<String>> {
    use crate::contracts::openapi::{check_request, check_response, jira};
    crate::shared::hold_to_contract(
        req,
        "Jira's REST contract",
        |target| check_request(jira(), req.method.as_str(), target),
        answer,
        |op, (_, status, body)| check_response(jira(), op, *status, body),
    )
}

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = lock(&self.state);
        let (op, mut status, body) = match jira_contract(req, || self.answer(&s, req)) {
            Ok(answer) => answer,
            Err(errors) => {
                let body = json!({"errorMessages": errors, "errors": {}});
                s.violations.extend(errors);
                ("contract".into(), 400, body)
            }
        };
        let fault = s.ledger.take(&op);
        let mut text = body.to_string();
        let mut retry_after = false;
        match fault.map(|f| f.status) {
            Some(crate::shared::STUCK_PAGES) if status == 200 => {
                text = self.stuck(&s, req).to_string();
            }
            Some(0) => text.truncate(text.len() / 2),
            Some(429) => {
                status = 429;
                retry_after = true;
                text = json!({"errorMessages": ["Rate limit exceeded."]}).to_string();
            }
            // Credentials Jira does not accept: Atlassian's document declares the 401 of every operation
            // with a description only ("Returned if the authentication credentials are incorrect or
            // missing"), no body.
            Some(401) => {
                status = 401;
                text = String::new();
            }
            Some(code) => {
                status = code;
                text = "<html><body>Service Unavailable</body></html>".into();
            }
            None => {}
        }
        s.ledger.count(op, status);
        let kind = if text.starts_with('<') {
            "text/html"
        } else {
            "application/json;charset=UTF-8"
        };
        let mut t = ResponseTemplate::new(status)
            .set_body_raw(text.into_bytes(), kind)
            .set_delay(self.spec.latency);
        if retry_after {
            t = t.insert_header("retry-after", "1");
        }
        t
    }
}
