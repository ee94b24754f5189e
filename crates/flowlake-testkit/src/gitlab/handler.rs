//! The fake's request handler: routes a request under `/api/v4` to its answer (pages by `Link`/`X-Next-Page`
//! or by keyset cursor), holds every exchange to GitLab's recorded contract, serves the injected faults and
//! adds the `RateLimit-*` headers and latency of every response.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

use super::payloads::{item_json, notes};
use super::{lock, Item, State};

pub(super) struct Handler {
    pub(super) state: Arc<Mutex<State>>,
    pub(super) latency: Duration,
    pub(super) base: String,
    pub(super) keyset_pages: Arc<AtomicU64>,
}

/// GitLab's recorded contract, checked on every exchange: the request must be one of the endpoints flowlake
/// calls with documented, well-formed parameters, and a 2xx answer must have the recorded answers' shape and fit
/// GitLab's schema (`check_answer` false skips the answer, for a fault made on purpose).
fn gitlab_contract(
    req: &Request,
    check_answer: bool,
    answer: impl FnOnce() -> crate::shared::Answer,
) -> Result<crate::shared::Answer, Vec<String>> {
    use crate::contracts::recorded::{check_request, check_response, gitlab};
    use crate::shared::{header, hold_to_contract};
    hold_to_contract(
        req,
        "GitLab's recorded contract",
        |target| check_request(gitlab(), req.method.as_str(), target, &|h| header(req, h)),
        answer,
        |endpoint, (_, _, _, body)| match check_answer {
            true => check_response(gitlab(), endpoint, body),
            false => Ok(()),
        },
    )
}

impl Handler {
    /// A page of `all` per `page`/`per_page`, with GitLab's paging headers.
    fn paged(
        &self,
        path: &str,
        q: &BTreeMap<String, String>,
        all: Vec<Value>,
    ) -> (Vec<(String, String)>, Value) {
        let per: usize = q.get("per_page").and_then(|x| x.parse().ok()).unwrap_or(20);
        if q.get("pagination").map(String::as_str) == Some("keyset") {
            return self.keyset(path, q, all, per);
        }
        let page: usize = q
            .get("page")
            .and_then(|x| x.parse().ok())
            .unwrap_or(1)
            .max(1);
        let from = (page - 1) * per;
        let end = (from + per).min(all.len());
        let mut headers = vec![
            ("x-page".to_string(), page.to_string()),
            ("x-per-page".to_string(), per.to_string()),
            ("x-total".to_string(), all.len().to_string()),
        ];
        if end < all.len() {
            let mut next: Vec<String> = q
                .iter()
                .filter(|(k, _)| *k != "page")
                .map(|(k, v)| format!("{k}={}", flowlake_connect::http::encode_component(v)))
                .collect();
            next.push(format!("page={}", page + 1));
            headers.push(("x-next-page".into(), (page + 1).to_string()));
            headers.push((
                "link".into(),
                format!("<{}{path}?{}>; rel=\"next\"", self.base, next.join("&")),
            ));
        }
        (headers, Value::from(all[from.min(end)..end].to_vec()))
    }

    /// A keyset page: the `cursor` names where the page starts (GitLab's is opaque base64; so is this
    /// one), the next page comes only as `Link: rel="next"`, and there is no total.
    fn keyset(
        &self,
        path: &str,
        q: &BTreeMap<String, String>,
        all: Vec<Value>,
        per: usize,
    ) -> (Vec<(String, String)>, Value) {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        if q.contains_key("cursor") {
            self.keyset_pages.fetch_add(1, Ordering::Relaxed);
        }
        let from: usize = q
            .get("cursor")
            .and_then(|c| b64.decode(c).ok())
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v["offset"].as_u64())
            .unwrap_or(0) as usize;
        let end = (from + per).min(all.len());
        let mut headers = vec![];
        if end < all.len() {
            let cursor = b64.encode(json!({"offset": end, "_kd": "n"}).to_string());
            let mut next: Vec<String> = q
                .iter()
                .filter(|(k, _)| *k != "cursor")
                .map(|(k, v)| format!("{k}={}", flowlake_connect::http::encode_component(v)))
                .collect();
            next.push(format!("cursor={cursor}"));
            headers.push((
                "link".into(),
                format!("<{}{path}?{}>; rel=\"next\"", self.base, next.join("&")),
            ));
        }
        (headers, Value::from(all[from.min(end)..end].to_vec()))
    }

    fn answer(&self, s: &State, req: &Request) -> crate::shared::Answer {
        let q: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        let raw_path = req.url.path().to_string();
        let parts: Vec<String> = raw_path
            .trim_matches('/')
            .split('/')
            .map(|p| p.replace("%2F", "/").replace("%2f", "/"))
            .collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let not_found = || json!({"message": "404 Project Not Found"});
        match parts.as_slice() {
            ["api", "v4", "groups", g, "projects"] if *g == s.group => {
                // GitLab's defaults: `include_subgroups` false, `with_shared` true.
                let subgroups = q.get("include_subgroups").map(String::as_str) == Some("true");
                let shared = q.get("with_shared").map(String::as_str) != Some("false");
                let own = format!("{}/", s.group);
                let all: Vec<Value> = s
                    .projects
                    .keys()
                    .enumerate()
                    .filter(|(_, p)| match p.strip_prefix(&own) {
                        Some(name) => subgroups || !name.contains('/'),
                        None => shared && s.shared.contains(p),
                    })
                    .map(|(n, p)| json!({"id": n + 1, "path_with_namespace": p, "archived": false}))
                    .collect();
                let (h, b) = self.paged(&raw_path, &q, all);
                ("projects".into(), 200, h, b)
            }
            ["api", "v4", "projects", p, kind] if matches!(*kind, "issues" | "merge_requests") => {
                let Some(items) = s.projects.get(*p) else {
                    return ((*kind).into(), 404, vec![], not_found());
                };
                let after: Option<DateTime<Utc>> =
                    q.get("updated_after").and_then(|t| t.parse().ok());
                let mut chosen: Vec<&Item> = items
                    .iter()
                    .filter(|i| i.mr == (*kind == "merge_requests"))
                    .filter(|i| after.is_none_or(|a| i.updated >= a))
                    .collect();
                chosen.sort_by_key(|i| (i.updated, i.id));
                let all = chosen.iter().map(|i| item_json(p, i)).collect();
                let (h, b) = self.paged(&raw_path, &q, all);
                ((*kind).into(), 200, h, b)
            }
            ["api", "v4", "projects", p, kind] if matches!(*kind, "deployments" | "pipelines") => {
                let lists = if *kind == "deployments" {
                    &s.deployments
                } else {
                    &s.pipelines
                };
                let Some(list) = lists.get(*p) else {
                    return ((*kind).into(), 404, vec![], not_found());
                };
                let after: Option<DateTime<Utc>> =
                    q.get("updated_after").and_then(|t| t.parse().ok());
                let mut chosen: Vec<Value> = list
                    .iter()
                    .filter(|d| {
                        let updated: Option<DateTime<Utc>> =
                            d["updated_at"].as_str().and_then(|t| t.parse().ok());
                        after.is_none_or(|a| updated.is_some_and(|u| u > a))
                    })
                    .cloned()
                    .collect();
                // `order_by` `updated_at` (as flowlake asks; PostgreSQL puts `null`s last) or `id`, the default
                // of pipelines; `sort` `desc` reverses.
                chosen.sort_by_key(|d| {
                    let id = d["id"].as_i64();
                    match q.get("order_by").map(String::as_str) {
                        Some("updated_at") => {
                            let t = d["updated_at"].as_str().map(str::to_string);
                            (t.is_none(), t, id)
                        }
                        _ => (false, None, id),
                    }
                });
                if q.get("sort").map(String::as_str) == Some("desc") {
                    chosen.reverse();
                }
                let (h, b) = self.paged(&raw_path, &q, chosen);
                ((*kind).into(), 200, h, b)
            }
            ["api", "v4", "projects", p, kind, iid, events] => {
                let item = s.projects.get(*p).and_then(|l| {
                    l.iter()
                        .find(|i| i.iid.to_string() == *iid && i.mr == (*kind == "merge_requests"))
                });
                match (item, *events) {
                    (Some(i), "notes") => {
                        let (h, b) = self.paged(&raw_path, &q, notes(i));
                        ("notes".into(), 200, h, b)
                    }
                    (Some(i), "resource_state_events") => {
                        let (h, b) = self.paged(&raw_path, &q, i.states.clone());
                        ("events".into(), 200, h, b)
                    }
                    (Some(i), "resource_label_events") => {
                        let (h, b) = self.paged(&raw_path, &q, i.label_events.clone());
                        ("events".into(), 200, h, b)
                    }
                    _ => (
                        "events".into(),
                        404,
                        vec![],
                        json!({"message": "404 Not found"}),
                    ),
                }
            }
            _ => (
                "unknown".into(),
                404,
                vec![],
                json!({"error": "404 Not Found"}),
            ),
        }
    }
}

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = lock(&self.state);
        let pipelines = req.url.path().ends_with("/pipelines");
        let check_answer = !(s.broken && pipelines);
        let (op, mut status, mut headers, body) =
            match gitlab_contract(req, check_answer, || self.answer(&s, req)) {
                Ok(answer) => answer,
                Err(errors) => {
                    let body = json!({"message": errors});
                    s.violations.extend(errors);
                    ("contract".into(), 400, Vec::new(), body)
                }
            };
        let fault = s.ledger.take(&op);
        let mut text = body.to_string();
        match fault.map(|f| f.status) {
            // A pager stuck: the page, and a `Link: rel="next"` back to it.
            Some(crate::shared::STUCK_PAGES) if status == 200 => {
                headers.retain(|(k, _)| k != "link");
                headers.push((
                    "link".into(),
                    format!(
                        "<{}>; rel=\"next\"",
                        crate::shared::self_url(&self.base, req)
                    ),
                ));
            }
            Some(crate::shared::STUCK_PAGES) => {}
            Some(0) => text.truncate(text.len() / 2),
            Some(code) => {
                status = code;
                headers.clear();
                if code == 429 {
                    headers.push(("retry-after".into(), "1".into()));
                    headers.push(("ratelimit-remaining".into(), "0".into()));
                }
                // Rack::Attack's throttle answers `Retry later` in plain text; the API's own errors are
                // `{"message": "<status> <reason>"}` (gitlabhq `lib/api/helpers.rb`: `unauthorized!` renders
                // `401 Unauthorized`; `render_api_error!`).
                text = match code {
                    429 => "Retry later".into(),
                    401 => json!({"message": "401 Unauthorized"}).to_string(),
                    _ => json!({"message": "500 Internal Server Error"}).to_string(),
                };
            }
            None => {}
        }
        s.ledger.count(op, status);
        let mut t = ResponseTemplate::new(status)
            .set_body_raw(text.into_bytes(), "application/json")
            .insert_header("ratelimit-limit", "2000")
            .set_delay(self.latency);
        if !headers.iter().any(|(k, _)| k == "ratelimit-remaining") {
            t = t.insert_header("ratelimit-remaining", "1999");
        }
        for (k, v) in &headers {
            t = t.insert_header(k.as_str(), v.as_str());
        }
        t
    }
}
