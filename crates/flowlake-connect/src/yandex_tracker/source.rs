//! The Yandex Tracker source: statuses once per run, then issues updated since the cursor, each with its
//! whole changelog.
//!
//! The search is `<queues or query> AND Updated: >= "<cursor − look-back>" "Sort By": Updated ASC`, paged
//! (`perPage`/`page`, `X-Total-Pages`) or, above `scroll_above` matches, scrolled (`scrollType=sorted`,
//! then `scrollId` from `X-Scroll-Id`) since pages stop at 10,000 issues. Each issue's changelog follows
//! `Link: rel="next"` (an entry-id cursor); the changelogs of a page are read concurrently. The landed record
//! is the issue and its changelog together (with its comments and worklog when enabled, read the same way).
//! Statuses and users are read once per run and kept as `_statuses` and `_users` lookup records: status types
//! give each status its category, users give people their logins and e-mails; queues, types and priorities
//! come embedded in the issues with their names, so they cost no request.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use flowlake_core::RawRecord;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::activity::user_person;
use super::config::{parse_range, YandexTrackerConfig};
use super::normalizer::YandexTrackerNormalizer;
use crate::http::{
    item_key, BlockingClient, HttpObserver, PageGuard, Pager, Pagination, Request, RequestStats,
    Tape,
};
use crate::jira::parse_time;
use crate::{Normalizer, Page, Source, SourceError, StreamCursors};

/// The state key's stream.
pub const STREAM: &str = "issues";
pub(super) const STATUSES: &str = "_statuses";
pub(super) const USERS: &str = "_users";
/// The lookup streams, absorbed before the issues.
pub(super) const LOOKUPS: &[&str] = &[STATUSES, USERS];
/// How long Tracker keeps a scroll open between requests.
const SCROLL_TTL_MS: u64 = 60_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Paging {
    Statuses,
    /// The next page number (from 1).
    Pages(u64),
    /// Scrolling; `None` before the first scroll request.
    Scroll(Option<String>),
    Done,
}

/// Issues of a Yandex Tracker organization.
pub struct YandexTrackerSource {
    config: YandexTrackerConfig,
    client: BlockingClient,
    token_error: crate::TokenCheck,
    paging: Paging,
    cursor: Cursor,
    body: String,
    /// Normalizes what was read; knows the statuses and users the lookups gave.
    normalizer: YandexTrackerNormalizer,
    /// Watches the search's pages (or scroll), which come one per call.
    pager: PageGuard,
}

crate::api::api_source_debug!(YandexTrackerSource);

impl YandexTrackerSource {
    /// A source for `config`; no request is made until the first page.
    pub fn new(
        config: YandexTrackerConfig,
        tape: Tape,
        observer: Arc<dyn HttpObserver>,
    ) -> Result<Self, SourceError> {
        let (client, token_error) = crate::api_client(&config, tape, observer)?;
        Ok(Self {
            normalizer: YandexTrackerNormalizer::new(&config),
            pager: PageGuard::new(&config.name, STREAM),
            config,
            client,
            token_error,
            paging: Paging::Statuses,
            cursor: Cursor::default(),
            body: String::new(),
        })
    }

    /// The search body of this run.
    fn search_body(&self) -> String {
        let since = match self.cursor.updated {
            Some(u) => Some(crate::minutes_before(u, self.config.lookback_minutes)),
            None => self
                .config
                .initial_range
                .as_deref()
                .and_then(parse_range)
                .map(|s| crate::seconds_before(Utc::now(), s.unsigned_abs())),
        };
        let mut parts: Vec<String> = self.config.filter().into_iter().collect();
        if let Some(t) = since {
            parts.push(format!("Updated: >= \"{}\"", t.format("%Y-%m-%d %H:%M:%S")));
        }
        let query = format!("{} \"Sort By\": Updated ASC", parts.join(" AND "));
        json!({ "query": query.trim() }).to_string()
    }

    /// Every user of the organization, page by page (`perPage`/`page`, `X-Total-Pages`).
    fn all_users(&self) -> Result<Vec<Value>, SourceError> {
        let style = Pagination::TotalPages {
            page_param: "page".into(),
            header: "x-total-pages".into(),
        };
        let first = Request::get("users", "v2/users?perPage=100&page=1");
        let mut pager = Pager::new(style, first, PageGuard::new(&self.config.name, "users"));
        let mut out = Vec::new();
        while let Some(request) = pager.next_request() {
            let r = self.client.send(request.clone())?;
            let users: Vec<Value> = r.json()?;
            pager.read(
                &request,
                &r,
                users.iter().map(|u| u["uid"].to_string()).collect(),
            )?;
            out.extend(users);
        }
        Ok(out)
    }

    /// The run's lookups: statuses, and users when enabled.
    fn lookups_page(&mut self) -> Result<Page, SourceError> {
        let fetched_at = Utc::now();
        let lookup = |stream: &str, key: String, payload: Value| RawRecord {
            source: self.config.name.clone(),
            stream: stream.into(),
            key,
            updated_at: None,
            fetched_at,
            payload,
        };
        let statuses: Vec<Value> = self
            .client
            .send(Request::get("statuses", "v2/statuses"))?
            .json()?;
        let mut records: Vec<RawRecord> = statuses
            .into_iter()
            .filter_map(|s| {
                let key = s.get("key")?.as_str()?.to_string();
                Some(lookup(STATUSES, key, s))
            })
            .collect();
        if self.config.users {
            records.extend(self.all_users()?.into_iter().filter_map(|u| {
                let key = user_person(&self.config.name, &u)?.id;
                Some(lookup(USERS, key, u))
            }));
        }
        for r in &records {
            self.normalizer.absorb(r)?;
        }
        self.body = self.search_body();
        self.paging = Paging::Pages(1);
        Ok(Page {
            records,
            cursors: StreamCursors::one(
                STREAM,
                serde_json::to_string(&self.cursor).map_err(SourceError::api)?,
            ),
            remaining_hint: None,
        })
    }

    /// One search request; the issues and the paging after them.
    fn search(&mut self, paging: &Paging) -> Result<(Vec<Value>, Paging), SourceError> {
        let n = self.config.per_page;
        let url = match paging {
            Paging::Pages(p) => format!("v2/issues/_search?perPage={n}&page={p}"),
            Paging::Scroll(None) => format!(
                "v2/issues/_search?scrollType=sorted&perScroll={n}&scrollTTLMillis={SCROLL_TTL_MS}"
            ),
            // `perScroll` belongs to the first request of a scroll only; the next ones name the scroll
            // (yandex-cloud/docs ru/tracker/concepts/issues/search-issues.md, "Параметры запроса с прокруткой").
            Paging::Scroll(Some(id)) => format!(
                "v2/issues/_search?scrollId={}&scrollTTLMillis={SCROLL_TTL_MS}",
                crate::http::encode_component(id)
            ),
            _ => return Ok((Vec::new(), Paging::Done)),
        };
        let response = self
            .client
            .send(Request::post_json("search", url, self.body.clone()))?;
        let issues: Vec<Value> = response.json()?;
        let header = |h: &str| {
            response
                .header(h)
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let next = match paging {
            Paging::Pages(p) => {
                if *p == 1 && header("x-total-count").unwrap_or(0) > self.config.scroll_above {
                    // Too many for pages: start over with a scroll (this page is dropped).
                    return Ok((Vec::new(), Paging::Scroll(None)));
                }
                if *p < header("x-total-pages").unwrap_or(1) && !issues.is_empty() {
                    Paging::Pages(p + 1)
                } else {
                    Paging::Done
                }
            }
            _ => match response.header("x-scroll-id") {
                Some(id) if !issues.is_empty() => Paging::Scroll(Some(id.to_string())),
                _ => Paging::Done,
            },
        };
        let keys = issues.iter().map(item_key);
        match (paging, &next) {
            (Paging::Pages(p), Paging::Pages(n)) => {
                self.pager
                    .advance(Some(&p.to_string()), Some(&n.to_string()), keys)?;
            }
            (Paging::Scroll(at), Paging::Scroll(Some(id))) => {
                if at.is_none() {
                    // Pages and scroll are two lists.
                    self.pager = PageGuard::scroll(&self.config.name, "issues (scroll)");
                }
                self.pager.advance(at.as_deref(), Some(id), keys)?;
            }
            _ => {}
        }
        Ok((issues, next))
    }

    /// One list per issue (`v2/issues/{key}/{what}`), whole: the lists of all issues are fetched
    /// concurrently, each following `Link: rel="next"` (Tracker's entry-id cursor). Changelogs and comments are
    /// asked `perPage` entries a page (get-changelog.md, get-comments.md); the worklog takes no parameter
    /// (issue-worklog.md), so it is asked for whole.
    fn per_issue(
        &self,
        label: &str,
        what: &str,
        issues: &[Value],
    ) -> Result<Vec<Vec<Value>>, SourceError> {
        let mut all: Vec<Vec<Value>> = vec![Vec::new(); issues.len()];
        let mut open: Vec<(usize, Pager)> = issues
            .iter()
            .enumerate()
            .filter_map(|(i, issue)| {
                let key = issue.get("key")?.as_str()?;
                let mut url = format!("v2/issues/{}/{what}", crate::http::encode_component(key));
                if what != "worklog" {
                    url.push_str(&format!("?perPage={}", self.config.changelog_per_page));
                }
                let first = Request::get(label, self.client.client().absolute(&url));
                let guard = PageGuard::new(&self.config.name, format!("{what} of {key}"));
                Some((
                    i,
                    Pager::new(Pagination::LinkHeader, first, guard).stop_at_empty(),
                ))
            })
            .collect();
        while !open.is_empty() {
            let requests: Vec<Request> = open
                .iter_mut()
                .filter_map(|(_, pager)| pager.next_request())
                .collect();
            let answers = self.client.send_all(requests.clone());
            for (((i, pager), request), r) in open.iter_mut().zip(&requests).zip(answers) {
                let response = r?;
                let entries: Vec<Value> = response.json()?;
                pager.read(request, &response, entries.iter().map(item_key).collect())?;
                all[*i].extend(entries);
            }
            open.retain(|(_, pager)| pager.has_next());
        }
        Ok(all)
    }

    /// The landed records of a search page: each issue with its changelog, and its comments and worklog when
    /// enabled.
    fn records(&self, issues: Vec<Value>) -> Result<Vec<RawRecord>, SourceError> {
        let changelogs = self.per_issue("changelog", "changelog", &issues)?;
        let mut comments = if self.config.comments {
            Some(self.per_issue("comments", "comments", &issues)?.into_iter())
        } else {
            None
        };
        let mut worklogs = if self.config.worklogs {
            Some(self.per_issue("worklog", "worklog", &issues)?.into_iter())
        } else {
            None
        };
        let fetched_at = Utc::now();
        Ok(issues
            .into_iter()
            .zip(changelogs)
            .filter_map(|(issue, changelog)| {
                let id = issue.get("id")?.as_str()?.to_string();
                let updated_at = issue
                    .get("updatedAt")
                    .and_then(Value::as_str)
                    .and_then(parse_time);
                let mut payload = json!({"issue": issue, "changelog": changelog});
                if let Some(c) = comments.as_mut().and_then(Iterator::next) {
                    payload["comments"] = Value::from(c);
                }
                if let Some(w) = worklogs.as_mut().and_then(Iterator::next) {
                    payload["worklogs"] = Value::from(w);
                }
                Some(RawRecord {
                    source: self.config.name.clone(),
                    stream: STREAM.into(),
                    key: id,
                    updated_at,
                    fetched_at,
                    payload,
                })
            })
            .collect())
    }
}

impl Source for YandexTrackerSource {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn streams(&self) -> Vec<String> {
        vec![STREAM.into()]
    }

    fn size_hint(&self, _cursors: &StreamCursors) -> Option<u64> {
        None
    }

    fn next_page(&mut self, cursors: &StreamCursors) -> Result<Option<Page>, SourceError> {
        let cursor = cursors.get(STREAM);
        crate::token_ready(&self.token_error)?;
        loop {
            match self.paging.clone() {
                Paging::Statuses => {
                    self.cursor = match cursor {
                        None => Cursor::default(),
                        Some(c) => serde_json::from_str(c)
                            .map_err(|e| SourceError::BadCursor(format!("{c}: {e}")))?,
                    };
                    return self.lookups_page().map(Some);
                }
                Paging::Done => return Ok(None),
                paging => {
                    let (issues, next) = self.search(&paging)?;
                    self.paging = next;
                    if issues.is_empty() {
                        continue;
                    }
                    let records = self.records(issues)?;
                    if let Some(high) = records.iter().filter_map(|r| r.updated_at).max() {
                        self.cursor.updated = self.cursor.updated.max(Some(high));
                    }
                    return Ok(Some(Page {
                        records,
                        cursors: StreamCursors::one(
                            STREAM,
                            serde_json::to_string(&self.cursor).map_err(SourceError::api)?,
                        ),
                        remaining_hint: None,
                    }));
                }
            }
        }
    }

    fn request_stats(&self) -> BTreeMap<String, RequestStats> {
        self.client.client().stats()
    }
}

crate::normalizer::normalizes_with!(YandexTrackerSource);
